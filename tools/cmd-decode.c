/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio decode: a trace with its accesses named by register maps (docs/regmap.md) and, with
 * --symbols, its PCs by function. One line per record; memory stays flat (the maps' lookup
 * caches grow with distinct registers, not with records).
 */
#include <errno.h>
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

int hvmmio_cmd_decode(int argc, char **argv)
{
    g_auto(GStrv) regs = NULL, symbols = NULL;
    g_autofree char *output = NULL;
    gboolean skip_bad = FALSE, accesses_only = FALSE;
    GOptionEntry entries[] = {
        {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &regs,
         "A register map (docs/regmap.md: YAML, or rules-ng-ng XML as "
         "FILE.xml[#DOMAIN][@VARIANT]); "
         "DEV=MAP binds it to the device named DEV; repeat for several",
         "[DEV=]MAP"},
        {"symbols", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &symbols,
         "Name PCs by function: kallsyms, System.map, or an ELF (a module as FILE.ko@TEXTADDR); "
         "repeat for several",
         "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE (default: stdout)",
         "FILE"},
        {"accesses", 'a', 0, G_OPTION_ARG_NONE, &accesses_only,
         "Only the accesses (R, W, UNKNOWN), not MAP, IRQ, MARK, ... lines", NULL},
        {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &skip_bad,
         "Skip malformed lines with a warning instead of stopping", NULL},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE");
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(
        ctx, "Print a trace with register names, bitfields and enum values (--regs) and the "
             "functions that made the accesses (--symbols):\n"
             "  W 4 6.199318 nic0 BAR0+0x0 CTRL = 0x0c000040 {RST, RFCE, SLU}  e1000_probe+0x9a "
             "[e1000e]");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (argc != 2) {
        fprintf(stderr, "%s: give one TRACE (see --help)\n", argv[0]);
        return 2;
    }
    struct regmap_set *maps = regmap_set_new(); /* empty: BARs and offsets only */
    struct symtab *syms = NULL;
    int ret = 0;
    if (!regmap_set_add_all(maps, regs, &error) ||
        (symbols && !(syms = symtab_load(symbols, &error)))) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        regmap_set_free(maps);
        return 2;
    }
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], output, strerror(errno));
        regmap_set_free(maps);
        symtab_free(syms);
        return 1;
    }
    static char obuf[1 << 16];
    setvbuf(out, obuf, _IOFBF, sizeof(obuf));
    struct hvmmio_warn warned = {"hvmmio decode", 5, 0};
    struct mmiotrace_reader *r = mmiotrace_reader_open(argv[1]);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
        ret = 1;
        goto out;
    }
    mmiotrace_reader_set_policy(r, skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                hvmmio_warn_line, &warned);
    struct mmiotrace_record rec;
    GString *line = g_string_sized_new(512);
    char *buf = g_malloc(MMIOTRACE_FORMAT_MAX);
    int got;
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
            if (!accesses_only) {
                int n = mmiotrace_format(buf, MMIOTRACE_FORMAT_MAX, &rec, MMIOTRACE_FMT_EXTENDED);
                if (n > 0) {
                    fwrite(buf, 1, (size_t)n, out);
                }
            }
        }
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", argv[0], mmiotrace_reader_error(r));
        ret = 1;
    }
    g_free(buf);
    g_string_free(line, TRUE);
    mmiotrace_reader_free(r);
out:
    if (fflush(out) || (out != stdout && fclose(out))) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], output ? output : "stdout", strerror(errno));
        ret = 1;
    }
    regmap_set_free(maps);
    symtab_free(syms);
    return ret;
}

/* ---- hvmmio symbolize: the same trace with sym= facts ---- */

int hvmmio_cmd_symbolize(int argc, char **argv)
{
    g_auto(GStrv) symbols = NULL;
    g_autofree char *output = NULL;
    gboolean skip_bad = FALSE;
    GOptionEntry entries[] = {
        {"symbols", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &symbols,
         "kallsyms, System.map, or an ELF (a module as FILE.ko@TEXTADDR); repeat for several",
         "FILE"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "Write to FILE (default: stdout)",
         "FILE"},
        {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &skip_bad,
         "Skip malformed lines with a warning instead of stopping", NULL},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE");
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(
        ctx, "Write TRACE in extended format with a sym=\"func+0xoff [module]\" fact on every "
             "access whose PC a symbol covers (docs/trace-format.md). An older sym= is "
             "replaced.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (argc != 2 || !symbols) {
        fprintf(stderr, "%s: give one TRACE and --symbols FILE (see --help)\n", argv[0]);
        return 2;
    }
    struct symtab *syms = symtab_load(symbols, &error);
    if (!syms) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    int ret = 0;
    FILE *out = stdout;
    if (output && !(out = fopen(output, "w"))) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], output, strerror(errno));
        symtab_free(syms);
        return 1;
    }
    static char obuf[1 << 16];
    setvbuf(out, obuf, _IOFBF, sizeof(obuf));
    struct hvmmio_warn warned = {"hvmmio decode", 5, 0};
    uint64_t named = 0, unnamed = 0;
    struct mmiotrace_reader *r = mmiotrace_reader_open(argv[1]);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[1], strerror(errno));
        symtab_free(syms);
        if (out != stdout) {
            fclose(out);
        }
        return 1;
    }
    mmiotrace_reader_set_policy(r, skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                hvmmio_warn_line, &warned);
    struct mmiotrace_record rec;
    char *buf = g_malloc(MMIOTRACE_FORMAT_MAX);
    GString *sym = g_string_sized_new(256), *fact = g_string_sized_new(256);
    uint64_t fact_pc = 0; /* the PC fact was made for */
    int got;
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
        fprintf(stderr, "%s: %s\n", argv[0], mmiotrace_reader_error(r));
        ret = 1;
    }
    fprintf(stderr, "%s: %" PRIu64 " accesses named, %" PRIu64 " with a PC no symbol covers\n",
            argv[0], named, unnamed);
    g_free(buf);
    g_string_free(sym, TRUE);
    g_string_free(fact, TRUE);
    mmiotrace_reader_free(r);
    if (fflush(out) || (out != stdout && fclose(out))) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], output ? output : "stdout", strerror(errno));
        ret = 1;
    }
    symtab_free(syms);
    return ret;
}
