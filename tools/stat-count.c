/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat: the tables of struct stats (interned labels, registers with their distinct
 * values, devices, regions, UNKNOWN opcodes) and the merging of one file's into the total.
 */
#include <string.h>

#include <glib.h>

#include "stat.h"

static GStringChunk *strings;
static GHashTable *interned;

void stat_intern_init(void)
{
    strings = g_string_chunk_new(4096);
    interned = g_hash_table_new(g_str_hash, g_str_equal);
}

void stat_intern_free(void)
{
    g_hash_table_destroy(interned);
    g_string_chunk_free(strings);
}

const char *stat_intern(const char *s)
{
    const char *v = g_hash_table_lookup(interned, s);

    if (!v) {
        v = g_string_chunk_insert(strings, s);
        g_hash_table_insert(interned, (gpointer)v, (gpointer)v);
    }
    return v;
}

static guint reg_hash(gconstpointer p)
{
    const struct reg_key *k = p;
    return g_direct_hash(k->dev) ^ g_direct_hash(k->region) * 31 ^
           (guint)(k->offset ^ (k->offset >> 32)) * 2654435761u;
}

static gboolean reg_equal(gconstpointer a, gconstpointer b)
{
    const struct reg_key *x = a, *y = b;
    return x->dev == y->dev && x->region == y->region && x->offset == y->offset;
}

static void reg_free(gpointer p)
{
    struct reg_stat *s = p;
    g_free(s->distinct);
    g_free(s);
}

void stats_init(struct stats *s, const char *name)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->regs = g_hash_table_new_full(reg_hash, reg_equal, NULL, reg_free);
    s->devs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->regions = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->opcodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->vcpus = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->dma = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

void stats_clear(struct stats *s)
{
    g_hash_table_destroy(s->regs);
    g_hash_table_destroy(s->devs);
    g_hash_table_destroy(s->regions);
    g_hash_table_destroy(s->opcodes);
    g_hash_table_destroy(s->vcpus);
    g_hash_table_destroy(s->dma);
}

struct count_stat *stat_count_get(GHashTable *t, const char *key)
{
    struct count_stat *c = g_hash_table_lookup(t, key);

    if (!c) {
        c = g_new0(struct count_stat, 1);
        c->name = key;
        g_hash_table_insert(t, (gpointer)key, c);
    }
    return c;
}

void stat_distinct_add(struct reg_stat *rs, uint64_t v)
{
    for (unsigned i = 0; i < rs->ndistinct; i++) {
        if (rs->distinct[i] == v) {
            return;
        }
    }
    if (rs->ndistinct == DISTINCT_MAX) {
        rs->distinct_capped = true;
        return;
    }
    if (!(rs->ndistinct & (rs->ndistinct - 1))) { /* 0, 1, 2, 4, ...: grow */
        rs->distinct = g_renew(uint64_t, rs->distinct, rs->ndistinct ? 2 * rs->ndistinct : 1);
    }
    rs->distinct[rs->ndistinct++] = v;
}

struct reg_stat *stat_reg_get(struct stats *s, const struct reg_key *k)
{
    struct reg_stat *rs = g_hash_table_lookup(s->regs, k);

    if (!rs) {
        rs = g_new0(struct reg_stat, 1);
        rs->key = *k;
        g_hash_table_insert(s->regs, &rs->key, rs);
    }
    return rs;
}

void stat_time_seen(struct stats *s, uint64_t ns)
{
    if (!s->have_time || ns < s->first_ns) {
        s->first_ns = ns;
    }
    if (!s->have_time || ns > s->last_ns) {
        s->last_ns = ns;
    }
    s->have_time = true;
}

void stats_merge(struct stats *to, struct stats *from)
{
    GHashTableIter it;
    gpointer k, v;

    for (int t = 0; t < MMIOTRACE_TYPE_COUNT; t++) {
        to->by_type[t] += from->by_type[t];
    }
    to->lost_events += from->lost_events;
    to->malformed += from->malformed;
    stat_vcpu_merge(to, from);
    stat_dma_merge(to, from);
    if (from->have_time) {
        stat_time_seen(to, from->first_ns);
        stat_time_seen(to, from->last_ns);
    }
    g_hash_table_iter_init(&it, from->regs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct reg_stat *f = v, *t = stat_reg_get(to, &f->key);
        t->reads += f->reads;
        t->writes += f->writes;
        t->widths |= f->widths;
        for (unsigned i = 0; i < f->ndistinct; i++) {
            stat_distinct_add(t, f->distinct[i]);
        }
        t->distinct_capped |= f->distinct_capped;
    }
    GHashTable *tables[2][2] = {{to->devs, from->devs}, {to->regions, from->regions}};
    for (int i = 0; i < 2; i++) {
        g_hash_table_iter_init(&it, tables[i][1]);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            struct count_stat *f = v, *t = stat_count_get(tables[i][0], k);
            t->dev = f->dev;
            t->base = f->base;
            t->size = f->size;
            t->reads += f->reads;
            t->writes += f->writes;
            t->unknown += f->unknown;
        }
    }
    g_hash_table_iter_init(&it, from->opcodes);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        gpointer old = g_hash_table_lookup(to->opcodes, k);
        g_hash_table_replace(to->opcodes, g_strdup(k),
                             GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + GPOINTER_TO_SIZE(v)));
    }
}
