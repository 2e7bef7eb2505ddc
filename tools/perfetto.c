/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert TRACE OUT.json --to perfetto: the Chrome/Perfetto trace event format (JSON),
 * which ui.perfetto.dev and chrome://tracing open. One process per device, one thread per BAR;
 * an instant event per access with its fields as args (register name, value, bitfields, PC,
 * function, vCPU); a counter track with the value history of each of the N busiest registers;
 * interrupts, MAP/UNMAP, markers and losses as instant events.
 *
 * The trace is read once (stdin works) and the events are written as they are read; the
 * counter samples wait in a temporary file until the busiest registers are known
 * (perfetto-counters.c). Memory grows with distinct registers only.
 * This file: the command line and the pass (perfetto.h names the other parts).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "symbols.h"
#include "perfetto.h"
#include "warn.h"
#include "workbench.h"

int hvmmio_perfetto_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--to=perfetto") ||
            (!strcmp(argv[i], "--to") && i + 1 < argc && !strcmp(argv[i + 1], "perfetto"))) {
            return 1;
        }
    }
    return 0;
}

static gint busier(gconstpointer a, gconstpointer b)
{
    const struct reg_count *x = *(struct reg_count *const *)a, *y = *(struct reg_count *const *)b;
    /* ties in a fixed order, so that the output does not change from run to run */
    return x->count != y->count ? (x->count > y->count ? -1 : 1) : wb_reg_key_cmp(&x->k, &y->k);
}

/* The pass over path, writing events: 0, or -1 after printing why. */
static int pass(struct pf *p, const char *prog, const char *path, bool skip_bad)
{
    struct hvmmio_warn warned = {"hvmmio convert", 5, 0};
    struct mmiotrace_reader *r = wb_reader_open(prog, path, skip_bad, &warned);
    if (!r) {
        return -1;
    }
    struct mmiotrace_record rec;
    int got;
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        regmap_set_track(p->maps, &rec);
        if (rec.type == MMIOTRACE_READ || rec.type == MMIOTRACE_WRITE ||
            rec.type == MMIOTRACE_UNKNOWN) {
            pf_access_event(p, &rec);
        } else {
            pf_other_event(p, &rec);
        }
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", prog, mmiotrace_reader_error(r));
    }
    mmiotrace_reader_free(r);
    return got < 0 ? -1 : 0;
}

static struct {
    struct wb_opts wb; /* no -o: OUT.json is an argument */
    char *to;
    gboolean quiet;
    gint ncounters;
} cli;

static const GOptionEntry entries[] = {
    {"to", 0, 0, G_OPTION_ARG_STRING, &cli.to, "perfetto: the Chrome/Perfetto trace event JSON",
     "FORMAT"},
    {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.wb.regs,
     "Name registers and fields with a register map (see hvmmio decode --help)", "[DEV=]MAP"},
    {"symbols", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.wb.symbols,
     "Name PCs by function (see hvmmio decode --help)", "FILE"},
    {"counters", 'n', 0, G_OPTION_ARG_INT, &cli.ncounters,
     "Counter tracks (value history) for the N busiest registers (default 16)", "N"},
    {"skip-bad", 's', 0, G_OPTION_ARG_NONE, &cli.wb.skip_bad,
     "Skip malformed input lines (with a warning) instead of stopping", NULL},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &cli.quiet, "No summary line", NULL},
    {NULL}};

static void cli_free(void)
{
    wb_opts_free(&cli.wb);
    g_free(cli.to);
    memset(&cli, 0, sizeof(cli));
}

/* The command line into cli: 0, or 2 after printing why. */
static int parse_args(int *argc, char ***argv)
{
    cli_free();
    cli.ncounters = 16;
    if (!wb_parse(argc, argv, "TRACE OUT.json --to perfetto", NULL, entries)) {
        return 2;
    }
    const char *prog = (*argv)[0];
    if (*argc != 3 || g_strcmp0(cli.to, "perfetto")) {
        fprintf(stderr, "%s: --to perfetto takes TRACE and OUT.json (see --to perfetto --help)\n",
                prog);
        return 2;
    }
    if (cli.ncounters < 0) {
        fprintf(stderr, "%s: --counters must not be negative\n", prog);
        return 2;
    }
    return 0;
}

/* The busiest registers get counter tracks; all: every register, busiest first. */
static void choose_counters(struct pf *p, GPtrArray *all)
{
    GHashTableIter it;
    gpointer v;
    g_ptr_array_set_size(all, 0);
    g_hash_table_iter_init(&it, p->regs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(all, v);
    }
    g_ptr_array_sort(all, busier);
    for (guint i = 0; i < all->len && i < (guint)cli.ncounters; i++) {
        ((struct reg_count *)all->pdata[i])->counter = true;
    }
}

/* The events into out ("-": stdout), the counter tracks last: 0, or -1 after printing why. */
static int write_events(struct pf *p, GPtrArray *all, const char *prog, const char *in,
                        const char *out)
{
    if (cli.ncounters && !pf_spool_open(p, prog)) {
        return -1;
    }
    p->out = wb_output_open(prog, strcmp(out, "-") ? out : NULL);
    if (!p->out) {
        return -1;
    }
    fputs(
        "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"hvmmio\"},\"traceEvents\":[\n",
        p->out);
    int r = pass(p, prog, in, cli.wb.skip_bad);
    choose_counters(p, all);
    if (!r) {
        r = pf_spool_write(p, prog, (unsigned)cli.ncounters);
    }
    pf_flush(p);
    fputs("\n]}\n", p->out);
    return wb_output_close(prog, out, p->out) < 0 ? -1 : r;
}

int hvmmio_perfetto_convert(int argc, char **argv)
{
    if (parse_args(&argc, &argv)) {
        cli_free();
        return 2;
    }
    struct pf p;
    pf_init(&p);
    int ret = 2;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    if (!wb_load(argv[0], &cli.wb, p.maps, &p.syms)) {
        goto out;
    }
    ret = 1;
    if (write_events(&p, all, argv[0], argv[1], argv[2]) < 0) {
        goto out;
    }
    if (!cli.quiet) {
        fprintf(stderr,
                "%s: %" PRIu64 " events (%" PRIu64 " instant, %" PRIu64
                " counter samples on %u registers)\n",
                argv[0], p.events, p.instants, p.counters, MIN(all->len, (guint)cli.ncounters));
    }
    ret = 0;
out:
    pf_free(&p);
    cli_free();
    return ret;
}
