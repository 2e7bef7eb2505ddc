/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio report TRACE -o report.html: one self-contained HTML page (Chart.js from Debian's
 * libjs-chart.js inlined at build time) with the accesses per time bin (reads, writes,
 * interrupts, markers; zoomable), a register heatmap, the value history of the busiest
 * registers, the top functions, the device context (PCIDEV, MAP) and losses. Everything is
 * aggregated into --bins time bins, so the page's size does not grow with the trace.
 * The trace is read twice (time span and busiest registers, then the bins): TRACE is a file.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "report-assets.h"
#include "symbols.h"
#include "warn.h"

#define HEAT_ROWS 24
#define HISTORY 6
#define LIST_MAX 64 /* PCIDEV, MAP lines and markers kept for the page */

struct rkey {
    const char *dev;
    int bar;
    uint64_t off;
};

struct rstat {
    struct rkey k;
    char *name;
    uint64_t reads, writes;
    int heat_row, hist; /* -1: none */
};

struct rep {
    struct regmap_set *maps;
    struct symtab *syms;
    GHashTable *names;                     /* interned device names */
    GHashTable *regs;                      /* struct rkey * -> struct rstat * */
    GHashTable *funcs;                     /* "func [module]" or "0xPC" -> count */
    GPtrArray *pcidevs, *maplines, *marks; /* char * (marks: "T_NS\tTEXT") */
    uint64_t t0, t1, reads, writes, unknown, irqs, lost, records;
    bool have_t;
    /* pass 2 */
    unsigned bins;
    uint64_t bin_ns;
    uint64_t *breads, *bwrites, *birqs;
    uint64_t *heat; /* HEAT_ROWS x bins */
    double *hist;   /* HISTORY x bins, NAN: no access */
    struct rstat *heat_regs[HEAT_ROWS], *hist_regs[HISTORY];
    unsigned nheat, nhist;
};

static guint rkey_hash(gconstpointer p)
{
    const struct rkey *k = p;
    return g_direct_hash(k->dev) ^ (guint)k->bar * 16777619u ^
           (guint)(k->off ^ k->off >> 32) * 2654435761u;
}

static gboolean rkey_equal(gconstpointer a, gconstpointer b)
{
    const struct rkey *x = a, *y = b;
    return x->dev == y->dev && x->bar == y->bar && x->off == y->off;
}

static void rstat_free(gpointer p)
{
    struct rstat *r = p;
    g_free(r->name);
    g_free(r);
}

static const char *intern(struct rep *r, const char *s, size_t len)
{
    g_autofree char *k = g_strndup(s, len);
    char *v = g_hash_table_lookup(r->names, k);
    if (!v) {
        v = g_steal_pointer(&k);
        g_hash_table_add(r->names, v);
    }
    return v;
}

static struct rstat *reg_of(struct rep *r, const struct mmiotrace_record *rec)
{
    int bar = -1;
    uint64_t off = rec->rw.phys;
    const struct regmap_hit *h = regmap_set_resolve(r->maps, rec, &bar, &off);
    struct rkey k = {rec->ext & MMIOTRACE_EXT_DEV ? intern(r, rec->dev, rec->dev_len)
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
    }
    return s;
}

static bool timed(const struct mmiotrace_record *rec)
{
    return rec->type != MMIOTRACE_VERSION && rec->type != MMIOTRACE_PCIDEV &&
           !(rec->type == MMIOTRACE_LOST && !rec->ts_ns);
}

static void pass1(struct rep *r, const struct mmiotrace_record *rec, char *buf)
{
    r->records++;
    if (timed(rec)) {
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
        break;
    case MMIOTRACE_READ:
    case MMIOTRACE_WRITE: {
        struct rstat *s = reg_of(r, rec);
        *(rec->type == MMIOTRACE_READ ? &s->reads : &s->writes) += 1;
        *(rec->type == MMIOTRACE_READ ? &r->reads : &r->writes) += 1;
        break;
    }
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
        GString *f = g_string_new(NULL);
        const char *name, *module;
        uint64_t off;
        if (r->syms && symtab_lookup(r->syms, pc, &name, &off, &module)) {
            g_string_append(f, name);
            if (module) {
                g_string_append_printf(f, " [%s]", module);
            }
        } else {
            g_string_append_printf(f, "0x%" PRIx64, pc);
        }
        gpointer old = g_hash_table_lookup(r->funcs, f->str);
        g_hash_table_replace(r->funcs, g_string_free(f, FALSE),
                             GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + 1));
    }
}

static unsigned bin_of(struct rep *r, uint64_t ns)
{
    uint64_t b = ns > r->t0 ? (ns - r->t0) / r->bin_ns : 0;
    return b >= r->bins ? r->bins - 1 : (unsigned)b;
}

static void pass2(struct rep *r, const struct mmiotrace_record *rec)
{
    if (rec->type == MMIOTRACE_IRQ) {
        r->birqs[bin_of(r, rec->ts_ns)]++;
        return;
    }
    if (rec->type != MMIOTRACE_READ && rec->type != MMIOTRACE_WRITE) {
        return;
    }
    unsigned b = bin_of(r, rec->ts_ns);
    *(rec->type == MMIOTRACE_READ ? &r->breads[b] : &r->bwrites[b]) += 1;
    struct rstat *s = reg_of(r, rec);
    if (s->heat_row >= 0) {
        r->heat[(size_t)s->heat_row * r->bins + b]++;
    }
    if (s->hist >= 0) {
        uint64_t mask = rec->rw.width >= 8 ? UINT64_MAX : (1ull << (8 * rec->rw.width)) - 1;
        r->hist[(size_t)s->hist * r->bins + b] = (double)(rec->rw.value & mask);
    }
}

static int read_trace(struct rep *r, const char *prog, const char *path, bool skip_bad, int which)
{
    struct hvmmio_warn warned = {"hvmmio report", 5, 0};
    struct mmiotrace_reader *rd = mmiotrace_reader_open(path);
    if (!rd) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    mmiotrace_reader_set_policy(rd, skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                which == 1 ? hvmmio_warn_line : NULL, &warned);
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

/* ---- output ---- */

static void jstr(GString *o, const char *s, size_t len)
{
    g_string_append_c(o, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            g_string_append_c(o, '\\');
            g_string_append_c(o, (char)c);
        } else if (c < 0x20 || c >= 0x7f || c == '<' || c == '>' || c == '&') {
            g_string_append_printf(o, "\\u%04x", c); /* also keeps </script> out */
        } else {
            g_string_append_c(o, (char)c);
        }
    }
    g_string_append_c(o, '"');
}

static void html(GString *o, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<':
            g_string_append(o, "&lt;");
            break;
        case '>':
            g_string_append(o, "&gt;");
            break;
        case '&':
            g_string_append(o, "&amp;");
            break;
        case '"':
            g_string_append(o, "&quot;");
            break;
        default:
            g_string_append_c(o, *s);
        }
    }
}

static void u64_array(GString *o, const uint64_t *v, unsigned n)
{
    g_string_append_c(o, '[');
    for (unsigned i = 0; i < n; i++) {
        g_string_append_printf(o, "%s%" PRIu64, i ? "," : "", v[i]);
    }
    g_string_append_c(o, ']');
}

static gint busier(gconstpointer a, gconstpointer b)
{
    const struct rstat *x = *(struct rstat *const *)a, *y = *(struct rstat *const *)b;
    uint64_t nx = x->reads + x->writes, ny = y->reads + y->writes;
    return nx > ny ? -1 : nx < ny;
}

struct fc {
    const char *name;
    uint64_t n;
};

static gint fbusier(gconstpointer a, gconstpointer b)
{
    const struct fc *x = a, *y = b;
    return x->n > y->n ? -1 : x->n < y->n ? 1 : strcmp(x->name, y->name);
}

static void write_page(struct rep *r, GString *o, const char *trace, GPtrArray *regs)
{
    g_string_append(o,
                    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>hvmmio report: ");
    html(o, trace);
    g_string_append(
        o, "</title>\n<style>body{font:14px sans-serif;margin:1em 2em}h2{margin-top:1.5em}"
           ".chart{position:relative;height:320px}.small{height:160px}"
           "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;"
           "text-align:right}td.l,th.l{text-align:left}pre{white-space:pre-wrap;font-size:12px}"
           "#errors{color:#c00}</style>\n<script>\n");
    g_string_append(o, report_chartjs);
    g_string_append(o, "\n</script>\n</head><body>\n<h1>hvmmio report</h1>\n<p>");
    html(o, trace);
    g_string_append_printf(o,
                           ": <span id=\"total-records\">%" PRIu64 "</span> records, "
                           "<span id=\"total-accesses\">%" PRIu64 "</span> accesses "
                           "(<span id=\"total-reads\">%" PRIu64 "</span> reads, "
                           "<span id=\"total-writes\">%" PRIu64 "</span> writes, "
                           "<span id=\"total-unknown\">%" PRIu64 "</span> UNKNOWN), "
                           "<span id=\"total-irqs\">%" PRIu64 "</span> interrupts, "
                           "<span id=\"total-lost\">%" PRIu64 "</span> lost events; "
                           "%.6f s in %u bins of %.3f ms.</p>\n",
                           r->records, r->reads + r->writes + r->unknown, r->reads, r->writes,
                           r->unknown, r->irqs, r->lost, (double)(r->t1 - r->t0) / 1e9, r->bins,
                           (double)r->bin_ns / 1e6);
    g_string_append(
        o, "<pre id=\"errors\"></pre><span id=\"ready\"></span>\n"
           "<h2>Accesses over time</h2>\n<p>zoom: <input type=\"range\" id=\"zoom-from\" min=\"0\" "
           "value=\"0\"> <input type=\"range\" id=\"zoom-to\" min=\"0\"> <span "
           "id=\"zoom-range\"></span></p>\n<div class=\"chart\"><canvas "
           "id=\"timeline\"></canvas></div>\n<h2>Register heatmap</h2>\n<div class=\"chart\" "
           "style=\"height:480px\"><canvas id=\"heatmap\"></canvas></div>\n"
           "<h2>Values of the busiest registers</h2>\n<div id=\"history\"></div>\n"
           "<h2>Top functions</h2>\n<div class=\"chart\"><canvas "
           "id=\"functions\"></canvas></div>\n<h2>Busiest registers</h2>\n<table "
           "id=\"registers\"><tr><th class=\"l\">device</th><th>BAR</th><th>offset</th>"
           "<th class=\"l\">register</th><th>reads</th><th>writes</th></tr>\n");
    for (guint i = 0; i < regs->len && i < 50; i++) {
        struct rstat *s = regs->pdata[i];
        g_string_append(o, "<tr><td class=\"l\">");
        html(o, s->k.dev);
        g_string_append_printf(o, "</td><td>%d</td><td>0x%" PRIx64 "</td><td class=\"l reg\">",
                               s->k.bar, s->k.off);
        html(o, s->name);
        g_string_append_printf(o, "</td><td>%" PRIu64 "</td><td>%" PRIu64 "</td></tr>\n", s->reads,
                               s->writes);
    }
    g_string_append(o, "</table>\n<h2>Device context</h2>\n<pre id=\"pcidev\">");
    for (guint i = 0; i < r->pcidevs->len; i++) {
        html(o, r->pcidevs->pdata[i]);
        g_string_append_c(o, '\n');
    }
    g_string_append(o, "</pre>\n<pre id=\"maps\">");
    for (guint i = 0; i < r->maplines->len; i++) {
        html(o, r->maplines->pdata[i]);
        g_string_append_c(o, '\n');
    }
    g_string_append(o, "</pre>\n<script>\nconst DATA = {");
    g_string_append_printf(o, "\"t0_ns\":%" PRIu64 ",\"bin_ns\":%" PRIu64 ",\"reads\":", r->t0,
                           r->bin_ns);
    u64_array(o, r->breads, r->bins);
    g_string_append(o, ",\"writes\":");
    u64_array(o, r->bwrites, r->bins);
    g_string_append(o, ",\"irqs\":");
    u64_array(o, r->birqs, r->bins);
    g_string_append(o, ",\"heat_names\":[");
    for (unsigned i = 0; i < r->nheat; i++) {
        g_string_append(o, i ? "," : "");
        g_autofree char *n =
            g_strdup_printf("%s %s", r->heat_regs[i]->k.dev, r->heat_regs[i]->name);
        jstr(o, n, strlen(n));
    }
    g_string_append(o, "],\"heat\":[");
    for (unsigned i = 0; i < r->nheat; i++) {
        g_string_append(o, i ? "," : "");
        u64_array(o, r->heat + (size_t)i * r->bins, r->bins);
    }
    g_string_append(o, "],\"history\":[");
    for (unsigned i = 0; i < r->nhist; i++) {
        g_string_append(o, i ? ",{\"name\":" : "{\"name\":");
        jstr(o, r->hist_regs[i]->name, strlen(r->hist_regs[i]->name));
        g_string_append(o, ",\"values\":[");
        for (unsigned b = 0; b < r->bins; b++) {
            double v = r->hist[(size_t)i * r->bins + b];
            if (isnan(v)) {
                g_string_append(o, b ? ",null" : "null");
            } else {
                g_string_append_printf(o, "%s%.0f", b ? "," : "", v);
            }
        }
        g_string_append(o, "]}");
    }
    g_string_append(o, "],\"functions\":[");
    GArray *fa = g_array_new(FALSE, FALSE, sizeof(struct fc));
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, r->funcs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct fc f = {k, GPOINTER_TO_SIZE(v)};
        g_array_append_val(fa, f);
    }
    g_array_sort(fa, fbusier);
    for (guint i = 0; i < fa->len && i < 20; i++) {
        struct fc *f = &g_array_index(fa, struct fc, i);
        g_string_append(o, i ? ",{\"name\":" : "{\"name\":");
        jstr(o, f->name, strlen(f->name));
        g_string_append_printf(o, ",\"count\":%" PRIu64 "}", f->n);
    }
    g_array_free(fa, TRUE);
    g_string_append(o, "],\"marks\":[");
    for (guint i = 0; i < r->marks->len; i++) {
        const char *m = r->marks->pdata[i];
        const char *tab = strchr(m, '\t');
        g_string_append_printf(o, "%s{\"t_ns\":%.*s,\"text\":", i ? "," : "", (int)(tab - m), m);
        jstr(o, tab + 1, strlen(tab + 1));
        g_string_append_c(o, '}');
    }
    g_string_append(o, "]};\n");
    g_string_append(o, report_page_js);
    g_string_append(o, "\n</script>\n</body></html>\n");
}

int hvmmio_cmd_report(int argc, char **argv)
{
    g_auto(GStrv) regs = NULL, symbols = NULL;
    g_autofree char *output = NULL;
    gboolean skip_bad = FALSE;
    gint bins = 400;
    GOptionEntry entries[] = {
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &output, "The HTML file to write (required)",
         "FILE"},
        {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &regs,
         "Name registers with a register map (docs/regmap.md; repeatable)", "[DEV=]MAP"},
        {"symbols", 's', 0, G_OPTION_ARG_FILENAME_ARRAY, &symbols,
         "Name PCs: kallsyms, System.map or ELF (repeatable)", "FILE"},
        {"bins", 'b', 0, G_OPTION_ARG_INT, &bins, "Time bins (default 400)", "N"},
        {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &skip_bad,
         "Skip malformed lines with a warning instead of stopping", NULL},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE");
    g_autoptr(GError) error = NULL;
    g_option_context_set_summary(ctx, "Write one self-contained HTML page (works offline) "
                                      "showing TRACE: accesses over time, a register heatmap, "
                                      "register values, top functions, device context, losses.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (argc != 2 || !output) {
        fprintf(stderr, "%s: give one TRACE and -o FILE (see --help)\n", argv[0]);
        return 2;
    }
    if (bins < 1 || bins > 100000) {
        fprintf(stderr, "%s: --bins must be 1 to 100000\n", argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "-")) {
        fprintf(stderr, "%s: the trace is read twice: give a file, not stdin\n", argv[0]);
        return 2;
    }
    if (!report_chartjs[0]) {
        fprintf(stderr,
                "%s: this hvmmio was built without Chart.js (install libjs-chart.js and "
                "rebuild)\n",
                argv[0]);
        return 2;
    }
    struct rep r = {
        .maps = regmap_set_new(),
        .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .regs = g_hash_table_new_full(rkey_hash, rkey_equal, NULL, rstat_free),
        .funcs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .pcidevs = g_ptr_array_new_with_free_func(g_free),
        .maplines = g_ptr_array_new_with_free_func(g_free),
        .marks = g_ptr_array_new_with_free_func(g_free),
        .bins = (unsigned)bins,
    };
    int ret = 2;
    GPtrArray *sorted = NULL;
    if (!regmap_set_add_all(r.maps, regs, &error) ||
        (symbols && !(r.syms = symtab_load(symbols, &error)))) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        goto out;
    }
    ret = 1;
    if (read_trace(&r, argv[0], argv[1], skip_bad, 1) < 0) {
        goto out;
    }
    r.bin_ns = (r.t1 - r.t0) / r.bins + 1;
    sorted = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, r.regs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(sorted, v);
    }
    g_ptr_array_sort(sorted, busier);
    for (guint i = 0; i < sorted->len; i++) {
        struct rstat *s = sorted->pdata[i];
        if (r.nheat < HEAT_ROWS) {
            s->heat_row = (int)r.nheat;
            r.heat_regs[r.nheat++] = s;
        }
        if (r.nhist < HISTORY) {
            s->hist = (int)r.nhist;
            r.hist_regs[r.nhist++] = s;
        }
    }
    r.breads = g_new0(uint64_t, r.bins);
    r.bwrites = g_new0(uint64_t, r.bins);
    r.birqs = g_new0(uint64_t, r.bins);
    r.heat = g_new0(uint64_t, (size_t)HEAT_ROWS * r.bins);
    r.hist = g_new(double, (size_t)HISTORY *r.bins);
    for (size_t i = 0; i < (size_t)HISTORY * r.bins; i++) {
        r.hist[i] = NAN;
    }
    /* the second pass starts afresh: the same devices and mappings again */
    regmap_set_reset(r.maps);
    if (read_trace(&r, argv[0], argv[1], skip_bad, 2) < 0) {
        goto out;
    }
    GString *page = g_string_sized_new(1 << 20);
    write_page(&r, page, argv[1], sorted);
    if (!g_file_set_contents(output, page->str, (gssize)page->len, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        g_string_free(page, TRUE);
        goto out;
    }
    fprintf(stderr, "%s: %s: %zu bytes (%u bins, %u registers in the heatmap)\n", argv[0], output,
            page->len, r.bins, r.nheat);
    g_string_free(page, TRUE);
    ret = 0;
out:
    if (sorted) {
        g_ptr_array_free(sorted, TRUE);
    }
    regmap_set_free(r.maps);
    symtab_free(r.syms);
    g_hash_table_destroy(r.regs);
    g_hash_table_destroy(r.names);
    g_hash_table_destroy(r.funcs);
    g_ptr_array_free(r.pcidevs, TRUE);
    g_ptr_array_free(r.maplines, TRUE);
    g_ptr_array_free(r.marks, TRUE);
    g_free(r.breads);
    g_free(r.bwrites);
    g_free(r.birqs);
    g_free(r.heat);
    g_free(r.hist);
    return ret;
}
