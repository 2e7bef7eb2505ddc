/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio report: the HTML page. One self-contained file: the totals and tables as HTML, the
 * aggregates as a JSON object (DATA) for report/page.js, which draws them with Chart.js; both
 * scripts are inlined (report-assets.h, made at build time).
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "report-assets.h"
#include "report.h"
#include "workbench.h"

bool report_have_chartjs(void)
{
    return report_chartjs[0] != 0;
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

struct fc {
    const char *name;
    uint64_t n;
};

static gint fbusier(gconstpointer a, gconstpointer b)
{
    const struct fc *x = a, *y = b;
    return x->n > y->n ? -1 : x->n < y->n ? 1 : strcmp(x->name, y->name);
}

/* The head, the totals, the sections and the registers table's header. */
static void page_head(GString *o, const struct rep *r, const char *trace)
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
}

static void page_registers(GString *o, const GPtrArray *regs)
{
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
}

static void page_context(GString *o, const struct rep *r)
{
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
}

/* DATA: the time bins and the heatmap. */
static void data_bins(GString *o, const struct rep *r)
{
    g_string_append(o, "</pre>\n<script>\nconst DATA = {");
    g_string_append_printf(o, "\"t0_ns\":%" PRIu64 ",\"bin_ns\":%" PRIu64 ",\"reads\":", r->bin_t0,
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
        wb_json_string(o, n, strlen(n), true);
    }
    g_string_append(o, "],\"heat\":[");
    for (unsigned i = 0; i < r->nheat; i++) {
        g_string_append(o, i ? "," : "");
        u64_array(o, r->heat + (size_t)i * r->bins, r->bins);
    }
}

static void data_history(GString *o, const struct rep *r)
{
    g_string_append(o, "],\"history\":[");
    for (unsigned i = 0; i < r->nhist; i++) {
        g_string_append(o, i ? ",{\"name\":" : "{\"name\":");
        wb_json_string(o, r->hist_regs[i]->name, strlen(r->hist_regs[i]->name), true);
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
}

static void data_functions(GString *o, const struct rep *r)
{
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
        wb_json_string(o, f->name, strlen(f->name), true);
        g_string_append_printf(o, ",\"count\":%" PRIu64 "}", f->n);
    }
    g_array_free(fa, TRUE);
}

static void data_marks(GString *o, const struct rep *r)
{
    g_string_append(o, "],\"marks\":[");
    for (guint i = 0; i < r->marks->len; i++) {
        const char *m = r->marks->pdata[i];
        const char *tab = strchr(m, '\t');
        g_string_append_printf(o, "%s{\"t_ns\":%.*s,\"text\":", i ? "," : "", (int)(tab - m), m);
        wb_json_string(o, tab + 1, strlen(tab + 1), true);
        g_string_append_c(o, '}');
    }
}

void report_write_page(const struct rep *r, GString *o, const char *trace, const GPtrArray *regs)
{
    page_head(o, r, trace);
    page_registers(o, regs);
    page_context(o, r);
    data_bins(o, r);
    data_history(o, r);
    data_functions(o, r);
    data_marks(o, r);
    g_string_append(o, "]};\n");
    g_string_append(o, report_page_js);
    g_string_append(o, "\n</script>\n</body></html>\n");
}
