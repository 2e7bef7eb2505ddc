/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio symbolize: the same trace, in extended format, with a sym="func+0xoff [module]" fact
 * on every access whose PC a symbol covers (--symbols: kallsyms, System.map, ELF).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "symbols.h"
#include "warn.h"
#include "workbench.h"

static struct wb_opts cli; /* no --regs */

static const GOptionEntry entries[] = {
    {"symbols", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.symbols,
     "kallsyms, System.map, or an ELF (a module as FILE.ko@TEXTADDR); repeat for several", "FILE"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &cli.output, "Write to FILE (default: stdout)",
     "FILE"},
    {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &cli.skip_bad,
     "Skip malformed lines with a warning instead of stopping", NULL},
    {NULL}};

/* The command line into cli: 0, or 2 after printing why. */
static int parse_args(int *argc, char ***argv)
{
    wb_opts_free(&cli);
    if (!wb_parse(argc, argv, "TRACE",
                  "Write TRACE in extended format with a sym=\"func+0xoff [module]\" fact on "
                  "every access whose PC a symbol covers (docs/trace-format.md). An older sym= "
                  "is replaced.",
                  entries)) {
        return 2;
    }
    if (*argc != 2 || !cli.symbols) {
        fprintf(stderr, "%s: give one TRACE and --symbols FILE (see --help)\n", (*argv)[0]);
        return 2;
    }
    return 0;
}

/* Every record of r to out, with its sym= fact: 0, or 1 after printing why. */
static int symbolize(const char *prog, struct mmiotrace_reader *r, struct symtab *syms, FILE *out)
{
    struct mmiotrace_record rec;
    char *buf = g_malloc(MMIOTRACE_FORMAT_MAX);
    GString *sym = g_string_sized_new(256), *fact = g_string_sized_new(256);
    uint64_t fact_pc = 0; /* the PC fact was made for */
    uint64_t named = 0, unnamed = 0;
    int got, ret = 0;
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        int n = mmiotrace_format(buf, MMIOTRACE_FORMAT_MAX, &rec, MMIOTRACE_FMT_EXTENDED);
        if (n <= 0) {
            continue;
        }
        uint64_t pc = rec.type == MMIOTRACE_UNKNOWN                               ? rec.unknown.pc
                      : rec.type == MMIOTRACE_READ || rec.type == MMIOTRACE_WRITE ? rec.rw.pc
                                                                                  : 0;
        if (pc && pc != fact_pc) {
            g_string_truncate(sym, 0);
            g_string_truncate(fact, 0);
            if (symtab_format(syms, sym, pc)) {
                g_string_assign(fact, " sym=");
                fact_quote(fact, sym->str, sym->len);
            }
            fact_pc = pc;
        }
        if (pc && fact->len) {
            fwrite(buf, 1, (size_t)n - 1, out);
            fwrite(fact->str, 1, fact->len, out);
            fputc('\n', out);
            named++;
            continue;
        }
        unnamed += pc != 0;
        fwrite(buf, 1, (size_t)n, out);
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", prog, mmiotrace_reader_error(r));
        ret = 1;
    }
    fprintf(stderr, "%s: %" PRIu64 " accesses named, %" PRIu64 " with a PC no symbol covers\n",
            prog, named, unnamed);
    g_free(buf);
    g_string_free(sym, TRUE);
    g_string_free(fact, TRUE);
    return ret;
}

int hvmmio_cmd_symbolize(int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    if (parse_args(&argc, &argv)) {
        wb_opts_free(&cli);
        return 2;
    }
    struct symtab *syms = symtab_load(cli.symbols, &error);
    struct hvmmio_warn warned = {"hvmmio decode", 5, 0};
    struct mmiotrace_reader *r;
    FILE *out;
    int ret = 1;
    if (!syms) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        ret = 2;
    } else if ((out = wb_output_open(argv[0], cli.output))) {
        if (!(r = wb_reader_open(argv[0], argv[1], cli.skip_bad, &warned))) {
            if (out != stdout) {
                fclose(out);
            }
        } else {
            ret = symbolize(argv[0], r, syms, out);
            mmiotrace_reader_free(r);
            if (wb_output_close(argv[0], cli.output ? cli.output : "stdout", out) < 0) {
                ret = 1;
            }
        }
    }
    symtab_free(syms);
    wb_opts_free(&cli);
    return ret;
}
