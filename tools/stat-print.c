/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat's output: one struct stats as text or as a JSON object (records by type, time
 * span and rate, lost and UNKNOWN, devices, vCPUs, regions, the busiest registers).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "mmiotrace.h"
#include "stat.h"
#include "stat-workbench.h" /* register names (--regs) */

static gint reg_busier(gconstpointer a, gconstpointer b)
{
    const struct reg_stat *x = *(struct reg_stat *const *)a, *y = *(struct reg_stat *const *)b;
    uint64_t nx = x->reads + x->writes, ny = y->reads + y->writes;

    if (nx != ny) {
        return nx > ny ? -1 : 1;
    }
    int c = strcmp(x->key.dev, y->key.dev);
    if (c) {
        return c;
    }
    c = strcmp(x->key.region, y->key.region);
    if (c) {
        return c;
    }
    return x->key.offset < y->key.offset ? -1 : x->key.offset > y->key.offset;
}

static gint count_busier(gconstpointer a, gconstpointer b)
{
    const struct count_stat *x = *(struct count_stat *const *)a;
    const struct count_stat *y = *(struct count_stat *const *)b;
    uint64_t nx = x->reads + x->writes + x->unknown, ny = y->reads + y->writes + y->unknown;

    if (nx != ny) {
        return nx > ny ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static void widths_text(unsigned widths, char *buf, size_t size)
{
    size_t o = 0;
    buf[0] = '\0';
    for (unsigned w = 1; w <= 8; w <<= 1) {
        if (widths & (1u << w)) {
            o += snprintf(buf + o, size - o, "%s%u", o ? "," : "", w);
        }
    }
}

static uint64_t accesses(const struct stats *s)
{
    return s->by_type[MMIOTRACE_READ] + s->by_type[MMIOTRACE_WRITE] + s->by_type[MMIOTRACE_UNKNOWN];
}
static void print_summary(const struct stats *s)
{
    uint64_t total = 0;

    printf("== %s ==\n", s->name);
    for (int t = 1; t < MMIOTRACE_TYPE_COUNT; t++) {
        total += s->by_type[t];
    }
    printf("records: %" PRIu64, total);
    const char *sep = " (";
    for (int t = 1; t < MMIOTRACE_TYPE_COUNT; t++) {
        if (s->by_type[t]) {
            printf("%s%s %" PRIu64, sep, mmiotrace_type_name(t), s->by_type[t]);
            sep = ", ";
        }
    }
    printf("%s\n", total ? ")" : "");
    if (s->have_time) {
        double span = (s->last_ns - s->first_ns) / 1e9;
        printf("time: %.6f .. %.6f s (span %.6f s)", s->first_ns / 1e9, s->last_ns / 1e9, span);
        if (span > 0) {
            printf(", %.1f accesses/s", accesses(s) / span);
        }
        printf("\n");
    }
    if (s->by_type[MMIOTRACE_LOST]) {
        printf("LOST EVENTS: %" PRIu64 " events lost in %" PRIu64
               " reports: the trace is incomplete\n",
               s->lost_events, s->by_type[MMIOTRACE_LOST]);
    } else {
        printf("lost events: none\n");
    }
    if (s->by_type[MMIOTRACE_UNKNOWN]) {
        printf("UNKNOWN: %" PRIu64 " accesses the guest kernel could not decode (no value):",
               s->by_type[MMIOTRACE_UNKNOWN]);
        GHashTableIter it;
        gpointer k, v;
        g_hash_table_iter_init(&it, s->opcodes);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            printf(" opcode %s x%zu", (char *)k, GPOINTER_TO_SIZE(v));
        }
        printf("\n");
    }
    if (s->malformed) {
        printf("malformed lines skipped: %" PRIu64 "\n", s->malformed);
    }
}

static void print_devices(const struct stats *s)
{
    g_autoptr(GPtrArray) devs = hvmmio_sorted_values(s->devs, count_busier);
    if (devs->len) {
        printf("devices:\n");
        for (guint i = 0; i < devs->len; i++) {
            struct count_stat *c = devs->pdata[i];
            printf("  %-28s reads %-10" PRIu64 " writes %" PRIu64, c->name, c->reads, c->writes);
            if (c->unknown) {
                printf(" unknown %" PRIu64, c->unknown);
            }
            printf("\n");
        }
    }
}

static void print_regions(const struct stats *s)
{
    g_autoptr(GPtrArray) regions = hvmmio_sorted_values(s->regions, count_busier);
    if (regions->len) {
        printf("regions:\n");
        for (guint i = 0; i < regions->len; i++) {
            struct count_stat *c = regions->pdata[i];
            const char *region = strchr(c->name, '\n') + 1;
            char range[64] = "";
            if (c->size) {
                snprintf(range, sizeof(range), "0x%" PRIx64 "+0x%" PRIx64, c->base, c->size);
            }
            printf("  %-28s %-12s %-24s reads %-10" PRIu64 " writes %" PRIu64, c->dev, region,
                   range, c->reads, c->writes);
            if (c->unknown) {
                printf(" unknown %" PRIu64, c->unknown);
            }
            printf("\n");
        }
    }
}

static void print_registers(const struct stats *s, unsigned top)
{
    g_autoptr(GPtrArray) regs = hvmmio_sorted_values(s->regs, reg_busier);
    if (regs->len) {
        unsigned n = regs->len < top ? regs->len : top;
        printf("busiest registers (%u of %u):\n", n, regs->len);
        printf("  %-28s %-12s %10s %10s %10s %7s %s\n", "device", "region", "offset", "reads",
               "writes", "values", stat_wb_regs() ? "widths  register" : "widths");
        for (unsigned i = 0; i < n; i++) {
            struct reg_stat *r = regs->pdata[i];
            char w[16], vals[16], off[24];
            widths_text(r->widths, w, sizeof(w));
            snprintf(vals, sizeof(vals), "%u%s", r->ndistinct, r->distinct_capped ? "+" : "");
            snprintf(off, sizeof(off), "0x%" PRIx64, r->key.offset);
            const char *rn = stat_wb_name(r->key.dev, r->key.region, r->key.offset);
            printf("  %-28s %-12s %10s %10" PRIu64 " %10" PRIu64 " %7s %-*s%s\n", r->key.dev,
                   r->key.region, off, r->reads, r->writes, vals, *rn ? 8 : 0, w, rn);
        }
    }
}

void stat_print_text(const struct stats *s, unsigned top)
{
    print_summary(s);
    print_devices(s);
    stat_vcpu_print(s);
    stat_dma_print(s);
    print_regions(s);
    print_registers(s, top);
    printf("\n");
}

static json_object *jhex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    return json_object_new_string(buf);
}

static void json_summary(json_object *o, const struct stats *s)
{
    json_object *types = json_object_new_object();
    uint64_t total = 0;

    json_object_object_add(o, "file", json_object_new_string(s->name));
    for (int t = 1; t < MMIOTRACE_TYPE_COUNT; t++) {
        total += s->by_type[t];
        json_object_object_add(types, mmiotrace_type_name(t),
                               json_object_new_uint64(s->by_type[t]));
    }
    json_object_object_add(o, "records", json_object_new_uint64(total));
    json_object_object_add(o, "by_type", types);
    json_object_object_add(o, "accesses", json_object_new_uint64(accesses(s)));
    json_object_object_add(o, "malformed_lines", json_object_new_uint64(s->malformed));
    json_object_object_add(o, "lost_events", json_object_new_uint64(s->lost_events));
    json_object_object_add(o, "lost_reports", json_object_new_uint64(s->by_type[MMIOTRACE_LOST]));
    json_object_object_add(o, "unknown_accesses",
                           json_object_new_uint64(s->by_type[MMIOTRACE_UNKNOWN]));
    json_object *ops = json_object_new_object();
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, s->opcodes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        json_object_object_add(ops, k, json_object_new_uint64(GPOINTER_TO_SIZE(v)));
    }
    json_object_object_add(o, "unknown_opcodes", ops);
    if (s->have_time) {
        double span = (s->last_ns - s->first_ns) / 1e9;
        json_object_object_add(o, "first_ns", json_object_new_uint64(s->first_ns));
        json_object_object_add(o, "last_ns", json_object_new_uint64(s->last_ns));
        json_object_object_add(o, "span_s", json_object_new_double(span));
        json_object_object_add(o, "accesses_per_s",
                               span > 0 ? json_object_new_double(accesses(s) / span) : NULL);
    }
}

static void json_devices(json_object *o, const struct stats *s)
{
    json_object *devs = json_object_new_array();
    g_autoptr(GPtrArray) da = hvmmio_sorted_values(s->devs, count_busier);
    for (guint i = 0; i < da->len; i++) {
        struct count_stat *c = da->pdata[i];
        json_object *d = json_object_new_object();
        json_object_object_add(d, "device", json_object_new_string(c->name));
        json_object_object_add(d, "reads", json_object_new_uint64(c->reads));
        json_object_object_add(d, "writes", json_object_new_uint64(c->writes));
        json_object_object_add(d, "unknown", json_object_new_uint64(c->unknown));
        json_object_array_add(devs, d);
    }
    json_object_object_add(o, "devices", devs);
}

static void json_regions(json_object *o, const struct stats *s)
{
    json_object *regions = json_object_new_array();
    g_autoptr(GPtrArray) ra = hvmmio_sorted_values(s->regions, count_busier);
    for (guint i = 0; i < ra->len; i++) {
        struct count_stat *c = ra->pdata[i];
        json_object *d = json_object_new_object();
        json_object_object_add(d, "device", json_object_new_string(c->dev));
        json_object_object_add(d, "region", json_object_new_string(strchr(c->name, '\n') + 1));
        if (c->size) {
            json_object_object_add(d, "base", jhex(c->base));
            json_object_object_add(d, "size", jhex(c->size));
        }
        json_object_object_add(d, "reads", json_object_new_uint64(c->reads));
        json_object_object_add(d, "writes", json_object_new_uint64(c->writes));
        json_object_object_add(d, "unknown", json_object_new_uint64(c->unknown));
        json_object_array_add(regions, d);
    }
    json_object_object_add(o, "regions", regions);
}

static void json_registers(json_object *o, const struct stats *s, unsigned top)
{
    json_object *regs = json_object_new_array();
    g_autoptr(GPtrArray) ga = hvmmio_sorted_values(s->regs, reg_busier);
    for (guint i = 0; i < ga->len && i < top; i++) {
        struct reg_stat *r = ga->pdata[i];
        json_object *d = json_object_new_object();
        json_object *w = json_object_new_array();
        json_object_object_add(d, "device", json_object_new_string(r->key.dev));
        json_object_object_add(d, "region", json_object_new_string(r->key.region));
        json_object_object_add(d, "offset", jhex(r->key.offset));
        if (*stat_wb_name(r->key.dev, r->key.region, r->key.offset)) { /* --regs */
            json_object_object_add(
                d, "name",
                json_object_new_string(stat_wb_name(r->key.dev, r->key.region, r->key.offset)));
        }
        json_object_object_add(d, "reads", json_object_new_uint64(r->reads));
        json_object_object_add(d, "writes", json_object_new_uint64(r->writes));
        json_object_object_add(d, "distinct_values", json_object_new_uint64(r->ndistinct));
        json_object_object_add(d, "distinct_values_capped",
                               json_object_new_boolean(r->distinct_capped));
        for (unsigned x = 1; x <= 8; x <<= 1) {
            if (r->widths & (1u << x)) {
                json_object_array_add(w, json_object_new_int(x));
            }
        }
        json_object_object_add(d, "widths", w);
        json_object_array_add(regs, d);
    }
    json_object_object_add(o, "registers_total", json_object_new_uint64(ga->len));
    json_object_object_add(o, "registers", regs);
}

json_object *stat_json(const struct stats *s, unsigned top)
{
    json_object *o = json_object_new_object();

    json_summary(o, s);
    json_devices(o, s);
    json_regions(o, s);
    stat_vcpu_json(o, s);
    stat_dma_json(o, s);
    json_registers(o, s, top);
    return o;
}
