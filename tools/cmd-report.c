/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio report TRACE -o report.html: one self-contained HTML page (Chart.js from Debian's
 * libjs-chart.js inlined at build time) with the accesses per time bin (reads, writes,
 * interrupts, markers; zoomable), a register heatmap, the value history of the busiest
 * registers, the top functions, the device context (PCIDEV, MAP) and losses. Everything is
 * aggregated into --bins time bins, so the page's size does not grow with the trace.
 * The trace is read twice (time span and busiest registers, then the bins): TRACE is a file.
 * This file: the command line and the two passes; report-page.c writes the page.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "report.h"
#include "symbols.h"
#include "warn.h"
#include "workbench.h"

static void rstat_free(gpointer p)
{
    struct rstat *r = p;
    g_free(r->name);
    g_free(r->heat);
    g_free(r->values);
    g_free(r);
}

static const char *intern(struct rep *r, const char *s, size_t len)
{
    if (r->last_name && len == r->last_len && !memcmp(s, r->last_name, len)) {
        return r->last_name; /* the usual case: the same device as the record before */
    }
    g_autofree char *k = g_strndup(s, len);
    char *v = g_hash_table_lookup(r->names, k);
    if (!v) {
        v = g_steal_pointer(&k);
        g_hash_table_add(r->names, v);
    }
    r->last_name = v;
    r->last_len = len;
    return v;
}

static struct rstat *reg_of(struct rep *r, const struct mmiotrace_record *rec)
{
    int bar = -1;
    uint64_t off = rec->rw.phys;
    const struct regmap_hit *h = regmap_set_resolve(r->maps, rec, &bar, &off);
    struct wb_reg_key k = {rec->ext & MMIOTRACE_EXT_DEV ? intern(r, rec->dev, rec->dev_len)
                                                        : intern(r, "device", 6),
                           bar, off};
    struct rstat *s = g_hash_table_lookup(r->regs, &k);
    if (!s) {
        s = g_new0(struct rstat, 1);
        s->k = k;
        s->heat_row = s->hist = -1;
        if (h && h->reg) {
            s->name =
                h->delta ? g_strdup_printf("%s+0x%" PRIx64, h->name, h->delta) : g_strdup(h->name);
        } else if (bar >= 0) {
            s->name = g_strdup_printf("BAR%d+0x%" PRIx64, bar, off);
        } else {
            s->name = g_strdup_printf("0x%" PRIx64, off);
        }
        g_hash_table_insert(r->regs, &s->k, s);
        rbins_reg_new(r, s);
    }
    return s;
}

static bool timed(const struct mmiotrace_record *rec)
{
    return rec->type != MMIOTRACE_VERSION && rec->type != MMIOTRACE_PCIDEV &&
           !(rec->type == MMIOTRACE_LOST && !rec->ts_ns);
}

static guint rfunc_hash(gconstpointer p)
{
    const struct rfunc *k = p;
    return g_direct_hash(k->name) ^ g_direct_hash(k->module) ^
           (guint)(k->pc ^ k->pc >> 32) * 2654435761u;
}

static gboolean rfunc_equal(gconstpointer a, gconstpointer b)
{
    const struct rfunc *x = a, *y = b;
    return x->pc == y->pc && x->name == y->name && x->module == y->module;
}

/* An access made at pc: counted by its function, named as the trace goes (module symbols
 * that held the same addresses in turn follow the trace's order), or by PC without one. */
static void count_pc(struct rep *r, uint64_t pc)
{
    struct rfunc k = {pc, NULL, NULL, 0};
    uint64_t off;
    if (r->syms && symtab_lookup(r->syms, pc, &k.name, &off, &k.module)) {
        k.pc = 0; /* one pointer per distinct name: the table interns them */
    }
    struct rfunc *f = g_hash_table_lookup(r->pcs, &k);
    if (!f) {
        f = g_memdup2(&k, sizeof(k));
        g_hash_table_add(r->pcs, f);
    }
    f->count++;
}

static uint64_t value_of(const struct mmiotrace_record *rec)
{
    uint64_t mask = rec->rw.width >= 8 ? UINT64_MAX : (1ull << (8 * rec->rw.width)) - 1;
    return rec->rw.value & mask;
}

static void pass1_access(struct rep *r, const struct mmiotrace_record *rec)
{
    struct rstat *s = reg_of(r, rec);
    bool read = rec->type == MMIOTRACE_READ;
    unsigned slot = rbins_slot(r, rec->ts_ns);
    *(read ? &s->reads : &s->writes) += 1;
    *(read ? &r->reads : &r->writes) += 1;
    *(read ? &r->breads[slot] : &r->bwrites[slot]) += 1;
    rbins_access(r, s, rec->ts_ns, value_of(rec), r->records);
}

static void pass1(struct rep *r, const struct mmiotrace_record *rec, char *buf)
{
    r->records++;
    if (timed(rec)) {
        rbins_cover(r, rec->ts_ns);
        if (!r->have_t || rec->ts_ns < r->t0) {
            r->t0 = rec->ts_ns;
        }
        if (!r->have_t || rec->ts_ns > r->t1) {
            r->t1 = rec->ts_ns;
        }
        r->have_t = true;
    }
    int n;
    switch (rec->type) {
    case MMIOTRACE_PCIDEV:
    case MMIOTRACE_MAP:
    case MMIOTRACE_UNMAP: {
        GPtrArray *a = rec->type == MMIOTRACE_PCIDEV ? r->pcidevs : r->maplines;
        n = mmiotrace_format(buf, MMIOTRACE_FORMAT_MAX, rec, MMIOTRACE_FMT_EXTENDED);
        if (n > 0 && a->len < LIST_MAX) {
            g_ptr_array_add(a, g_strndup(buf, (gsize)n - 1));
        }
        break;
    }
    case MMIOTRACE_MARK:
        if (r->marks->len < LIST_MAX) {
            g_ptr_array_add(r->marks,
                            g_strdup_printf("%" PRIu64 "\t%.*s", rec->ts_ns,
                                            (int)MIN(rec->mark.len, 200), rec->mark.text));
        }
        break;
    case MMIOTRACE_LOST:
        r->lost += rec->lost.count;
        break;
    case MMIOTRACE_IRQ:
        r->irqs++;
        r->birqs[rbins_slot(r, rec->ts_ns)]++;
        break;
    case MMIOTRACE_READ:
    case MMIOTRACE_WRITE:
        pass1_access(r, rec);
        break;
    case MMIOTRACE_UNKNOWN:
        r->unknown++;
        break;
    default:
        break;
    }
    uint64_t pc = rec->type == MMIOTRACE_UNKNOWN                                ? rec->unknown.pc
                  : rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE ? rec->rw.pc
                                                                                : 0;
    if (pc) {
        count_pc(r, pc);
    }
}

/* The counts by function as counts by "func [module]" (or "0xPC" where no symbol names it). */
static void fold_pcs(struct rep *r)
{
    GHashTableIter it;
    gpointer k, v;

    g_hash_table_iter_init(&it, r->pcs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        const struct rfunc *f = v;
        GString *t = g_string_new(NULL);
        if (f->name) {
            g_string_append(t, f->name);
            if (f->module) {
                g_string_append_printf(t, " [%s]", f->module);
            }
        } else {
            g_string_append_printf(t, "0x%" PRIx64, f->pc);
        }
        gpointer old = g_hash_table_lookup(r->funcs, t->str);
        g_hash_table_replace(r->funcs, g_string_free(t, FALSE),
                             GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + f->count));
    }
}

/* The second pass (more registers than one pass keeps bins for): the busiest registers'. */
static void pass2(struct rep *r, const struct mmiotrace_record *rec)
{
    if (rec->type != MMIOTRACE_READ && rec->type != MMIOTRACE_WRITE) {
        return;
    }
    unsigned b = rbins_index(r, rec->ts_ns);
    struct rstat *s = reg_of(r, rec);
    if (s->heat_row >= 0) {
        r->heat[(size_t)s->heat_row * r->bins + b]++;
    }
    if (s->hist >= 0) {
        r->hist[(size_t)s->hist * r->bins + b] = (double)value_of(rec);
    }
}

static int read_trace(struct rep *r, const char *prog, const char *path, bool skip_bad, int which)
{
    struct hvmmio_warn warned = {"hvmmio report", 5, 0};
    struct mmiotrace_reader *rd = wb_reader_open(prog, path, skip_bad, which == 1 ? &warned : NULL);
    if (!rd) {
        return -1;
    }
    struct mmiotrace_record rec;
    char *buf = g_malloc(MMIOTRACE_FORMAT_MAX);
    int got;
    while ((got = mmiotrace_reader_next(rd, &rec)) > 0) {
        regmap_set_track(r->maps, &rec);
        if (which == 1) {
            pass1(r, &rec, buf);
        } else {
            pass2(r, &rec);
        }
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", prog, mmiotrace_reader_error(rd));
    }
    g_free(buf);
    mmiotrace_reader_free(rd);
    return got < 0 ? -1 : 0;
}

static gint busier(gconstpointer a, gconstpointer b)
{
    const struct rstat *x = *(struct rstat *const *)a, *y = *(struct rstat *const *)b;
    uint64_t nx = x->reads + x->writes, ny = y->reads + y->writes;

    /* ties in a fixed order, so that the page does not change from run to run */
    return nx != ny ? (nx > ny ? -1 : 1) : wb_reg_key_cmp(&x->k, &y->k);
}

static struct {
    struct wb_opts wb; /* -o is required */
    gint bins;
} cli;

static const GOptionEntry entries[] = {
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &cli.wb.output, "The HTML file to write (required)",
     "FILE"},
    {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.wb.regs,
     "Name registers with a register map (docs/regmap.md; repeatable)", "[DEV=]MAP"},
    {"symbols", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &cli.wb.symbols,
     "Name PCs: kallsyms, System.map or ELF (repeatable)", "FILE"},
    {"bins", 'b', 0, G_OPTION_ARG_INT, &cli.bins,
     "At most N time bins, a power of two ns wide (default 400)", "N"},
    {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &cli.wb.skip_bad,
     "Skip malformed lines with a warning instead of stopping", NULL},
    {NULL}};

/* The command line into cli: 0, or 2 after printing why. */
static int parse_args(int *argc, char ***argv)
{
    wb_opts_free(&cli.wb);
    cli.bins = 400;
    if (!wb_parse(argc, argv, "TRACE",
                  "Write one self-contained HTML page (works offline) showing TRACE: accesses "
                  "over time, a register heatmap, register values, top functions, device "
                  "context, losses.",
                  entries)) {
        return 2;
    }
    const char *prog = (*argv)[0];
    if (*argc != 2 || !cli.wb.output) {
        fprintf(stderr, "%s: give one TRACE and -o FILE (see --help)\n", prog);
        return 2;
    }
    if (cli.bins < 1 || cli.bins > 100000) {
        fprintf(stderr, "%s: --bins must be 1 to 100000\n", prog);
        return 2;
    }
    if (!report_have_chartjs()) {
        fprintf(stderr,
                "%s: this hvmmio was built without Chart.js (install libjs-chart.js and "
                "rebuild)\n",
                prog);
        return 2;
    }
    return 0;
}

static void rep_init(struct rep *r)
{
    *r = (struct rep){
        .maps = regmap_set_new(),
        .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .regs = g_hash_table_new_full(wb_reg_key_hash, wb_reg_key_equal, NULL, rstat_free),
        .funcs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .pcs = g_hash_table_new_full(rfunc_hash, rfunc_equal, g_free, NULL),
        .pcidevs = g_ptr_array_new_with_free_func(g_free),
        .maplines = g_ptr_array_new_with_free_func(g_free),
        .marks = g_ptr_array_new_with_free_func(g_free),
    };
    rbins_init(r, (unsigned)cli.bins);
}

static void rep_free(struct rep *r)
{
    regmap_set_free(r->maps);
    symtab_free(r->syms);
    g_hash_table_destroy(r->regs);
    g_hash_table_destroy(r->names);
    g_hash_table_destroy(r->funcs);
    g_hash_table_destroy(r->pcs);
    g_ptr_array_free(r->pcidevs, TRUE);
    g_ptr_array_free(r->maplines, TRUE);
    g_ptr_array_free(r->marks, TRUE);
    rbins_free(r);
}

/* After the pass: every register, busiest first; the busiest get the heatmap's rows and the
 * value histories; the bins in time order. */
static GPtrArray *prepare_bins(struct rep *r)
{
    GPtrArray *sorted = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, r->regs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(sorted, v);
    }
    g_ptr_array_sort(sorted, busier);
    for (guint i = 0; i < sorted->len; i++) {
        struct rstat *s = sorted->pdata[i];
        if (r->nheat < HEAT_ROWS) {
            s->heat_row = (int)r->nheat;
            r->heat_regs[r->nheat++] = s;
        }
        if (r->nhist < HISTORY) {
            s->hist = (int)r->nhist;
            r->hist_regs[r->nhist++] = s;
        }
    }
    rbins_finish(r);
    return sorted;
}

/* The page into cli.wb.output: 0, or -1 after printing why. */
static int write_report(const struct rep *r, const char *prog, const char *trace,
                        const GPtrArray *sorted)
{
    g_autoptr(GError) error = NULL;
    GString *page = g_string_sized_new(1 << 20);
    report_write_page(r, page, trace, sorted);
    if (!g_file_set_contents(cli.wb.output, page->str, (gssize)page->len, &error)) {
        fprintf(stderr, "%s: %s\n", prog, error->message);
        g_string_free(page, TRUE);
        return -1;
    }
    fprintf(stderr, "%s: %s: %zu bytes (%u bins, %u registers in the heatmap)\n", prog,
            cli.wb.output, page->len, r->bins, r->nheat);
    g_string_free(page, TRUE);
    return 0;
}

/* The busiest registers' bins when the pass could not keep every register's: 0, or -1 after
 * printing why. */
static int second_pass(struct rep *r, const char *prog, const char *trace)
{
    if (!strcmp(trace, "-")) {
        fprintf(stderr,
                "%s: the trace has too many registers (%u) for their bins in one pass: give "
                "a file, not stdin, to read it twice\n",
                prog, g_hash_table_size(r->regs));
        return -1;
    }
    /* it starts afresh: the same devices and mappings again */
    regmap_set_reset(r->maps);
    return read_trace(r, prog, trace, cli.wb.skip_bad, 2);
}

int hvmmio_cmd_report(int argc, char **argv)
{
    if (parse_args(&argc, &argv)) {
        wb_opts_free(&cli.wb);
        return 2;
    }
    struct rep r;
    rep_init(&r);
    int ret = 2;
    GPtrArray *sorted = NULL;
    if (!wb_load(argv[0], &cli.wb, r.maps, &r.syms)) {
        goto out;
    }
    ret = 1;
    if (read_trace(&r, argv[0], argv[1], cli.wb.skip_bad, 1) < 0) {
        goto out;
    }
    fold_pcs(&r);
    sorted = prepare_bins(&r);
    if (r.overflow && second_pass(&r, argv[0], argv[1]) < 0) {
        goto out;
    }
    if (write_report(&r, argv[0], argv[1], sorted) < 0) {
        goto out;
    }
    ret = 0;
out:
    if (sorted) {
        g_ptr_array_free(sorted, TRUE);
    }
    rep_free(&r);
    wb_opts_free(&cli.wb);
    return ret;
}
