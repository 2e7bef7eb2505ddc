/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio decode: a trace with its accesses named by register maps (docs/regmap.md) and, with
 * --symbols, its PCs by function. One line per record; memory stays flat (the maps' lookup
 * caches grow with distinct registers, not with records).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "fastfmt.h"
#include "hvmmio.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "symbols.h"
#include "warn.h"
#include "workbench.h"

static void append_time(GString *out, const struct mmiotrace_record *rec)
{
    if (rec->ext & MMIOTRACE_EXT_NS) {
        ff_dec(out, rec->ts_ns / 1000000000u, 1);
        g_string_append_c(out, '.');
        ff_dec(out, rec->ts_ns % 1000000000u, 9);
    } else {
        uint64_t us = (rec->ts_ns + 500) / 1000;
        ff_dec(out, us / 1000000u, 1);
        g_string_append_c(out, '.');
        ff_dec(out, us % 1000000u, 6);
    }
}

/* One access: "W 4 T DEV BARb+0xOFF NAME = 0xVALUE {FIELDS}  func+0xoff [module]". */
void hvmmio_decode_access(GString *out, struct regmap_set *maps, struct symtab *syms,
                          const struct mmiotrace_record *rec);
void hvmmio_decode_access(GString *out, struct regmap_set *maps, struct symtab *syms,
                          const struct mmiotrace_record *rec)
{
    bool unknown = rec->type == MMIOTRACE_UNKNOWN;
    int bar = -1;
    uint64_t off = 0;
    const struct regmap_hit *hit = regmap_set_resolve(maps, rec, &bar, &off);
    bool named = regmap_set_size(maps) > 0;
    if (unknown) {
        g_string_append(out, "UNKNOWN ");
    } else {
        g_string_append_c(out, rec->type == MMIOTRACE_READ ? 'R' : 'W');
        g_string_append_c(out, ' ');
        ff_dec(out, rec->rw.width, 1);
        g_string_append_c(out, ' ');
    }
    append_time(out, rec);
    g_string_append_c(out, ' ');
    if (rec->ext & MMIOTRACE_EXT_DEV) {
        g_string_append_len(out, rec->dev, (gssize)rec->dev_len);
        g_string_append_c(out, ' ');
    }
    if (bar >= 0) {
        g_string_append(out, "BAR");
        ff_dec(out, (uint64_t)bar, 1);
        g_string_append_c(out, '+');
        ff_0x(out, off, 1);
        g_string_append_c(out, ' ');
    } else {
        g_string_append_printf(out, "0x%" PRIx64 " ", unknown ? rec->unknown.phys : rec->rw.phys);
    }
    if (unknown) {
        if (hit && hit->reg) {
            g_string_append(out, hit->name);
            g_string_append_c(out, ' ');
        }
        g_string_append_printf(out, "opcode %02x,%02x,%02x", rec->unknown.opcode[0],
                               rec->unknown.opcode[1], rec->unknown.opcode[2]);
    } else if (hit && hit->reg) {
        regmap_format(out, hit, rec->rw.value, rec->rw.width);
    } else {
        uint64_t mask = rec->rw.width >= 8 ? UINT64_MAX : (1ull << (8 * rec->rw.width)) - 1;
        g_string_append(out, named ? "? = " : "= ");
        ff_0x(out, rec->rw.value & mask, 2 * rec->rw.width);
    }
    uint64_t pc = unknown ? rec->unknown.pc : rec->rw.pc;
    if (pc) {
        g_string_append(out, "  ");
        if (!syms || !symtab_format(syms, out, pc)) {
            g_string_append(out, "pc=");
            ff_0x(out, pc, 1);
        }
    }
    g_string_append_c(out, '\n');
}

static struct {
    struct wb_opts wb;
    gboolean accesses_only;
} cli;

static const GOptionEntry entries[] = {
    {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.wb.regs,
     "A register map (docs/regmap.md: YAML, or rules-ng-ng XML as "
     "FILE.xml[#DOMAIN][@VARIANT]); "
     "DEV=MAP binds it to the device named DEV; repeat for several",
     "[DEV=]MAP"},
    {"symbols", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.wb.symbols,
     "Name PCs by function: kallsyms, System.map, or an ELF (a module as FILE.ko@TEXTADDR); "
     "repeat for several",
     "FILE"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &cli.wb.output, "Write to FILE (default: stdout)",
     "FILE"},
    {"accesses", 'a', 0, G_OPTION_ARG_NONE, &cli.accesses_only,
     "Only the accesses (R, W, UNKNOWN), not MAP, IRQ, MARK, ... lines", NULL},
    {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &cli.wb.skip_bad,
     "Skip malformed lines with a warning instead of stopping", NULL},
    {NULL}};

/* The command line into cli: 0, or 2 after printing why. */
static int parse_args(int *argc, char ***argv)
{
    wb_opts_free(&cli.wb);
    cli.accesses_only = FALSE;
    if (!wb_parse(argc, argv, "TRACE",
                  "Print a trace with register names, bitfields and enum values (--regs) and the "
                  "functions that made the accesses (--symbols):\n"
                  "  W 4 6.199318 nic0 BAR0+0x0 CTRL = 0x0c000040 {RST, RFCE, SLU}  "
                  "e1000_probe+0x9a [e1000e]",
                  entries)) {
        return 2;
    }
    if (*argc != 2) {
        fprintf(stderr, "%s: give one TRACE (see --help)\n", (*argv)[0]);
        return 2;
    }
    return 0;
}

/* Every record of r to out: 0, or 1 after printing why. */
static int decode(const char *prog, struct mmiotrace_reader *r, struct regmap_set *maps,
                  struct symtab *syms, FILE *out)
{
    struct mmiotrace_record rec;
    GString *line = g_string_sized_new(512);
    char *buf = g_malloc(MMIOTRACE_FORMAT_MAX);
    int got, ret = 0;
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        regmap_set_track(maps, &rec);
        g_string_truncate(line, 0);
        switch (rec.type) {
        case MMIOTRACE_READ:
        case MMIOTRACE_WRITE:
        case MMIOTRACE_UNKNOWN:
            hvmmio_decode_access(line, maps, syms, &rec);
            fwrite(line->str, 1, line->len, out);
            break;
        case MMIOTRACE_VERSION:
        case MMIOTRACE_CONFIG:
            break;
        default:
            if (!cli.accesses_only) {
                int n = mmiotrace_format(buf, MMIOTRACE_FORMAT_MAX, &rec, MMIOTRACE_FMT_EXTENDED);
                if (n > 0) {
                    fwrite(buf, 1, (size_t)n, out);
                }
            }
        }
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", prog, mmiotrace_reader_error(r));
        ret = 1;
    }
    g_free(buf);
    g_string_free(line, TRUE);
    return ret;
}

int hvmmio_cmd_decode(int argc, char **argv)
{
    if (parse_args(&argc, &argv)) {
        wb_opts_free(&cli.wb);
        return 2;
    }
    struct regmap_set *maps = regmap_set_new(); /* empty: BARs and offsets only */
    struct symtab *syms = NULL;
    struct hvmmio_warn warned = {"hvmmio decode", 5, 0};
    struct mmiotrace_reader *r;
    FILE *out;
    int ret = 1;
    if (!wb_load(argv[0], &cli.wb, maps, &syms)) {
        ret = 2;
    } else if ((out = wb_output_open(argv[0], cli.wb.output))) {
        if ((r = wb_reader_open(argv[0], argv[1], cli.wb.skip_bad, &warned))) {
            ret = decode(argv[0], r, maps, syms, out);
            mmiotrace_reader_free(r);
        }
        if (wb_output_close(argv[0], cli.wb.output ? cli.wb.output : "stdout", out) < 0) {
            ret = 1;
        }
    }
    regmap_set_free(maps);
    symtab_free(syms);
    wb_opts_free(&cli.wb);
    return ret;
}
