/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench: the report. A table of the ns per access of each device and configuration
 * (median [min-max] over the repetitions, ratio to a), the loss counts of h, the tools'
 * throughput, the targets (reported, not enforced: they depend on the machine), and all of
 * it as JSON.
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <json-c/json.h>

#include "bench.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct summary bench_summarise(GArray *v)
{
    struct summary s = {0, NAN, NAN, NAN};
    if (!v || !v->len) {
        return s;
    }
    double *d = g_memdup2(v->data, v->len * sizeof(double));
    qsort(d, v->len, sizeof(double), cmp_double);
    s.count = (int)v->len;
    s.min = d[0];
    s.max = d[v->len - 1];
    s.med = v->len % 2 ? d[v->len / 2] : (d[v->len / 2 - 1] + d[v->len / 2]) / 2;
    g_free(d);
    return s;
}

/* The median of configuration c, device d, reads (rw 0) or writes (1); NAN if not run. */
static double med(const struct bench *B, int c, int d, int rw)
{
    return c < 0 ? NAN : bench_summarise(B->samples[c][d][rw]).med;
}

static uint64_t get_u64(json_object *o, const char *key)
{
    json_object *v;
    return json_object_object_get_ex(o, key, &v) ? json_object_get_uint64(v) : 0;
}

static char *cpu_model(void)
{
    g_autofree char *text = NULL;
    if (g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL)) {
        const char *m = strstr(text, "model name");
        if (m && (m = strchr(m, ':'))) {
            m += 2;
            return g_strndup(m, strcspn(m, "\n"));
        }
    }
    return g_strdup("unknown");
}

/* The heading (accelerator, machine, table header) and the JSON report's "machine". */
static void print_heading(const struct bench *B, json_object *root)
{
    g_autofree char *model = cpu_model();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    const char *accel = B->accel_used ? B->accel_used : B->P.accel;
    printf("\nhvmmio bench: accelerator %s; host %s, %ld cores; %d repetition(s); %.0f s\n", accel,
           model, cores, B->P.reps, bench_now() - B->t_start);
    printf("ns per 4-byte access, guest ktime: median [min-max] over the repetitions (BAR2: "
           "over %d module loads per boot); ratio = median / median of a\n\n",
           BAR2_LOADS);
    printf("%-26s %-2s %-38s %8s %-20s %7s %8s %-20s %7s %7s\n", "device", "", "configuration", "N",
           "read ns [min-max]", "ratio", "", "write ns [min-max]", "ratio", "boot s");
    json_object *jm = json_object_new_object();
    json_object_object_add(jm, "accelerator", json_object_new_string(accel));
    json_object_object_add(jm, "cpu_model", json_object_new_string(model));
    json_object_object_add(jm, "cores", json_object_new_int64(cores));
    json_object_object_add(root, "machine", jm);
    json_object_object_add(root, "repetitions", json_object_new_int(B->P.reps));
}

/* The accesses per direction of device d in configuration cf. */
static uint64_t config_n(const struct params *P, const struct config *cf, int d)
{
    return d == DEV_BAR2 ? P->n[DEV_BAR2]
           : cf->stock   ? P->n_stock[d]
           : cf->gtrace  ? P->n_gtrace[d]
                         : P->n[d];
}

/* One direction of a table row as JSON: its summary, its ratio to a, every sample. */
static json_object *direction_json(struct summary s, double a, GArray *samples)
{
    json_object *x = json_object_new_object();
    json_object_object_add(x, "median_ns", json_object_new_double(s.med));
    json_object_object_add(x, "min_ns", json_object_new_double(s.min));
    json_object_object_add(x, "max_ns", json_object_new_double(s.max));
    json_object_object_add(x, "ratio_to_a", json_object_new_double(s.med / a));
    json_object *all = json_object_new_array();
    for (guint i = 0; i < samples->len; i++) {
        json_object_array_add(all, json_object_new_double(g_array_index(samples, double, i)));
    }
    json_object_object_add(x, "samples_ns", all);
    return x;
}

/* The row of device d, configuration c (NULL if it was not measured). */
static json_object *config_row(const struct bench *B, int d, unsigned c)
{
    struct summary r = bench_summarise(B->samples[c][d][0]);
    struct summary w = bench_summarise(B->samples[c][d][1]);
    if (!r.count) {
        return NULL;
    }
    const struct config *cf = &bench_configs[c];
    uint64_t n = config_n(&B->P, cf, d);
    int ia = bench_cfg_index('a');
    double ra = med(B, ia, d, 0), wa = med(B, ia, d, 1);
    struct summary bw = bench_summarise(B->walls[c]);
    char rs[64], ws[64];
    snprintf(rs, sizeof(rs), "%.0f [%.0f-%.0f]", r.med, r.min, r.max);
    snprintf(ws, sizeof(ws), "%.0f [%.0f-%.0f]", w.med, w.min, w.max);
    if (d == DEV_BAR2) {
        snprintf(rs, sizeof(rs), "%.2f [%.2f-%.2f]", r.med, r.min, r.max);
        snprintf(ws, sizeof(ws), "%.2f [%.2f-%.2f]", w.med, w.min, w.max);
    }
    printf("%-26s %c  %-38s %8" PRIu64 " %-20s %7.3f %8s %-20s %7.3f %7.1f\n", bench_dev_label[d],
           cf->id, cf->name, n, rs, r.med / ra, "", ws, w.med / wa, bw.med);
    json_object *o = json_object_new_object();
    json_object_object_add(o, "device", json_object_new_string(bench_dev_key[d]));
    json_object_object_add(o, "config", json_object_new_string_len(&cf->id, 1));
    json_object_object_add(o, "name", json_object_new_string(cf->name));
    json_object_object_add(o, "n", json_object_new_uint64(n));
    json_object_object_add(o, "read", direction_json(r, ra, B->samples[c][d][0]));
    json_object_object_add(o, "write", direction_json(w, wa, B->samples[c][d][1]));
    json_object_object_add(o, "boot_wall_s_median", json_object_new_double(bw.med));
    return o;
}

static void print_configs(const struct bench *B, json_object *root)
{
    json_object *jc = json_object_new_array();
    for (int d = 0; d < DEV_COUNT; d++) {
        for (unsigned c = 0; c < NCONFIGS; c++) {
            json_object *o = config_row(B, d, c);
            if (o) {
                json_object_array_add(jc, o);
            }
        }
    }
    json_object_object_add(root, "configurations", jc);
}

static void print_losses(const struct bench *B)
{
    if (!json_object_object_length(B->loss)) {
        return;
    }
    printf("\nlosses (e1000e, %" PRIu64 " reads + %" PRIu64 " writes + 1 read):\n", B->P.burst,
           B->P.burst);
    json_object_object_foreach(B->loss, mode, o)
    {
        json_object *v;
        printf(
            "  %-8s ring %4" PRIu64 ": accesses %" PRIu64 ", records in file %" PRIu64
            ", Lost markers %" PRIu64 " totalling %" PRIu64 ", query-mmiotrace dropped %" PRIu64
            ", %.0f/%.0f ns: %s\n",
            mode, get_u64(o, "ring"), get_u64(o, "accesses"), get_u64(o, "records_in_file"),
            get_u64(o, "lost_markers"), get_u64(o, "lost_in_markers"), get_u64(o, "query_dropped"),
            json_object_object_get_ex(o, "read_ns", &v) ? json_object_get_double(v) : 0,
            json_object_object_get_ex(o, "write_ns", &v) ? json_object_get_double(v) : 0,
            json_object_object_get_ex(o, "exact", &v) && json_object_get_boolean(v) ? "exact"
                                                                                    : "MISMATCH");
    }
}

static void print_tools(const struct bench *B)
{
    if (!json_object_array_length(B->tools)) {
        return;
    }
    printf("\ntools (generated traces streamed through FIFOs; records/s per CPU second):\n");
    for (size_t i = 0; i < json_object_array_length(B->tools); i++) {
        json_object *o = json_object_array_get_idx(B->tools, i);
        printf("  hvmmio %-7s %9" PRIu64 " accesses (%9" PRIu64 " records): %6.2f M records/s, "
               "%6.2f s CPU, peak RSS %ld MB\n",
               json_object_get_string(json_object_object_get(o, "tool")), get_u64(o, "accesses"),
               get_u64(o, "records_read"),
               json_object_get_double(json_object_object_get(o, "records_per_cpu_s")) / 1e6,
               json_object_get_double(json_object_object_get(o, "cpu_s")),
               (long)json_object_get_int64(json_object_object_get(o, "peak_rss_mb")));
    }
}

/* ---- targets (reported, not enforced: they depend on the machine) ---- */

struct target {
    char *what;
    double value;
    const char *unit;
    const char *cond;
    gboolean pass;
    gboolean known;
};

/* what: taken */
static void add_target(GArray *targets, char *what, double value, const char *unit,
                       const char *cond, gboolean pass)
{
    struct target t = {what, value, unit, cond, pass, !isnan(value)};
    g_array_append_val(targets, t);
}

/* The cost of tracing: e1000e and vfio-user a-f, the BAR2 page g against G. */
static void latency_targets(const struct bench *B, GArray *t)
{
    int ia = bench_cfg_index('a'), ib = bench_cfg_index('b'), ic = bench_cfg_index('c'),
        idd = bench_cfg_index('d'), ie = bench_cfg_index('e'), iff = bench_cfg_index('f'),
        ig = bench_cfg_index('g');
    for (int rw = 0; rw < 2; rw++) {
        const char *dir = rw ? "write" : "read";
        double a_ = med(B, ia, DEV_EMU, rw), b_ = med(B, ib, DEV_EMU, rw);
        add_target(t, g_strdup_printf("e1000e %s: b - a (ns added by tracing)", dir), b_ - a_, "ns",
                   "<= 50", b_ - a_ <= 50);
        double va = med(B, ia, DEV_VFIO, rw), vb = med(B, ib, DEV_VFIO, rw);
        add_target(t, g_strdup_printf("vfio-user %s: b / a", dir), vb / va, "", "<= 1.02",
                   vb / va <= 1.02);
        double e_ = med(B, ie, DEV_EMU, rw);
        add_target(t, g_strdup_printf("e1000e %s: e / b (stock trace vs hvmmio)", dir), e_ / b_, "",
                   ">= 5", e_ / b_ >= 5);
        double f_ = med(B, iff, DEV_EMU, rw);
        add_target(t, g_strdup_printf("e1000e %s: f / b (guest mmiotrace vs hvmmio)", dir), f_ / b_,
                   "", ">= 50", f_ / b_ >= 50);
        double c_ = med(B, ic, DEV_EMU, rw);
        add_target(t, g_strdup_printf("e1000e %s: c - a (PC)", dir), c_ - a_, "ns", "<= 300",
                   c_ - a_ <= 300);
        double d_ = med(B, idd, DEV_EMU, rw);
        add_target(t, g_strdup_printf("e1000e %s: d - a (PC + instruction; stated)", dir), d_ - a_,
                   "ns", "(stated)", TRUE);
        double g1 = med(B, ig, DEV_BAR2, rw), g0 = med(B, bench_cfg_index('G'), DEV_BAR2, rw);
        add_target(t, g_strdup_printf("BAR2 mmap page %s: g / (tracing off)", dir), g1 / g0, "",
                   "0.98-1.02", fabs(g1 / g0 - 1) <= 0.02);
    }
}

/* Exact loss counts (h) and hvmmio compare's rate and memory. */
static void loss_tool_targets(const struct bench *B, GArray *t)
{
    json_object *o, *v;
    if (json_object_object_get_ex(B->loss, "drop", &o)) {
        add_target(t, g_strdup("drop mode: Lost total = dropped, records + lost = accesses"),
                   json_object_object_get_ex(o, "query_dropped", &v) ? json_object_get_uint64(v)
                                                                     : NAN,
                   "lost", "exact",
                   json_object_object_get_ex(o, "exact", &v) && json_object_get_boolean(v));
    }
    if (json_object_object_get_ex(B->loss, "lossless", &o)) {
        add_target(t, g_strdup("lossless mode: records = accesses"),
                   json_object_object_get_ex(o, "records_in_file", &v) ? json_object_get_uint64(v)
                                                                       : NAN,
                   "records", "none lost",
                   json_object_object_get_ex(o, "exact", &v) && json_object_get_boolean(v));
    }
    for (size_t i = 0; i < json_object_array_length(B->tools); i++) {
        json_object *tool = json_object_array_get_idx(B->tools, i);
        if (strcmp(json_object_get_string(json_object_object_get(tool, "tool")), "compare")) {
            continue;
        }
        uint64_t n = json_object_get_uint64(json_object_object_get(tool, "accesses"));
        double rate = json_object_get_double(json_object_object_get(tool, "records_per_cpu_s"));
        long rss = (long)json_object_get_int64(json_object_object_get(tool, "peak_rss_mb"));
        add_target(t, g_strdup_printf("compare %" PRIu64 ": records/s", n), rate / 1e6, "M/s",
                   ">= 1", rate >= 1e6);
        add_target(t, g_strdup_printf("compare %" PRIu64 ": peak RSS", n), (double)rss, "MB",
                   "< 256", rss < 256);
    }
}

/* The targets whose value is known, printed and as JSON. */
static json_object *print_targets(GArray *targets)
{
    printf("\ntargets:\n");
    json_object *jtg = json_object_new_array();
    for (guint i = 0; i < targets->len; i++) {
        struct target *t = &g_array_index(targets, struct target, i);
        if (!t->known) {
            continue;
        }
        printf("  %-58s %10.3f %-7s %-10s %s\n", t->what, t->value, t->unit, t->cond,
               t->pass ? "holds" : "MISSED");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "what", json_object_new_string(t->what));
        json_object_object_add(o, "value", json_object_new_double(t->value));
        json_object_object_add(o, "unit", json_object_new_string(t->unit));
        json_object_object_add(o, "target", json_object_new_string(t->cond));
        json_object_object_add(o, "holds", json_object_new_boolean(t->pass));
        json_object_array_add(jtg, o);
    }
    return jtg;
}

static void target_clear(gpointer p)
{
    g_free(((struct target *)p)->what);
}

int bench_report(struct bench *B, const char *json_path)
{
    int failures = B->failures;
    json_object *root = json_object_new_object();
    print_heading(B, root);
    print_configs(B, root);
    json_object_object_add(root, "loss", json_object_get(B->loss));
    json_object_object_add(root, "tools", json_object_get(B->tools));
    print_losses(B);
    print_tools(B);

    g_autoptr(GArray) targets = g_array_new(FALSE, FALSE, sizeof(struct target));
    g_array_set_clear_func(targets, target_clear);
    latency_targets(B, targets);
    loss_tool_targets(B, targets);
    json_object_object_add(root, "targets", print_targets(targets));
    json_object_object_add(root, "failures", json_object_new_int(failures));
    if (json_object_to_file_ext(json_path, root, JSON_C_TO_STRING_PRETTY) < 0) {
        fprintf(stderr, "hvmmio bench: cannot write %s\n", json_path);
        failures++;
    } else {
        printf("\nJSON report: %s\n", json_path);
    }
    json_object_put(root);
    return failures;
}
