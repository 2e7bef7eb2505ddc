/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare --regs: the accesses it prints (discrepancies, their context) named by the
 * register maps as hvmmio decode names them. Each log has its own set of maps and devices:
 * the host's from its header, MAP records and bar=/off=/dev= facts; the guest's (a kernel log
 * has none of those facts) from the host's PCIDEV header, which places the guest's physical
 * addresses in the same BARs, else from the guest's own MAP records.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "compare.h"
#include "regmap.h"
#include "regs-annotate.h"

bool cmp_regs_open(struct cmp *c, char **regs)
{
    g_autoptr(GError) error = NULL;
    if (!regs || !*regs) {
        return true;
    }
    c->g.regs = regmap_set_new();
    c->h.regs = regmap_set_new();
    if (!regmap_set_add_all(c->g.regs, regs, &error) ||
        !regmap_set_add_all(c->h.regs, regs, &error)) {
        fprintf(stderr, "hvmmio compare: %s\n", error->message);
        return false;
    }
    return true;
}

void cmp_regs_close(struct cmp *c)
{
    regmap_set_free(c->g.regs);
    regmap_set_free(c->h.regs);
    c->g.regs = c->h.regs = NULL;
    if (c->disc_regs) {
        g_hash_table_destroy(c->disc_regs);
        c->disc_regs = NULL;
    }
}

void cmp_regs_header(struct cmp *c, const struct mmiotrace_record *rec)
{
    if (c->g.regs && rec->type == MMIOTRACE_PCIDEV) {
        regmap_set_track(c->g.regs, rec);
    }
}

void cmp_regs_take(struct cmp *c, struct side *s, struct item *it)
{
    it->dev = NULL;
    it->rbar = -1;
    it->roff = 0;
    if (!s->regs) {
        return;
    }
    regmap_set_track(s->regs, &it->rec);
    if (s == &c->h && !c->scope_prepass) {
        cmp_regs_header(c, &it->rec); /* a pipe: the header is read before the guest log */
    }
    if (!is_access(&it->rec)) {
        return;
    }
    if (it->rec.ext & MMIOTRACE_EXT_DEV) {
        char dev[MMIOTRACE_DEV_MAX + 1];
        g_strlcpy(dev, it->rec.dev, MIN(sizeof(dev), it->rec.dev_len + 1));
        it->dev = g_intern_string(dev);
    }
    regmap_set_resolve(s->regs, &it->rec, &it->rbar, &it->roff);
}

/* An access as it was read (its BAR and offset then, its device) and its register. */
struct named {
    struct mmiotrace_record rec;
    int bar;
    uint64_t off;
    const struct regmap_hit *hit;
};

/* false: no map covers the device of it (or no --regs, or not an access). */
static bool item_reg(struct side *s, const struct item *it, struct named *n)
{
    if (!s->regs || it->rbar < 0 || !is_access(&it->rec)) {
        return false;
    }
    n->rec = it->rec;
    n->rec.ext |= MMIOTRACE_EXT_BAR;
    n->rec.bar = (uint8_t)it->rbar;
    n->rec.bar_off = it->roff;
    if (it->dev) {
        n->rec.ext |= MMIOTRACE_EXT_DEV;
        n->rec.dev = it->dev;
        n->rec.dev_len = strlen(it->dev);
    }
    n->bar = -1;
    n->off = 0;
    n->hit = regmap_set_resolve(s->regs, &n->rec, &n->bar, &n->off);
    return n->hit != NULL;
}

void cmp_regs_append(struct side *s, const struct item *it, char *buf, size_t size)
{
    struct named n;
    if (!item_reg(s, it, &n)) {
        return;
    }
    GString *a = g_string_new("  ");
    regs_annotate_access(a, n.hit, n.bar, n.off, &n.rec, true);
    size_t len = strlen(buf);
    if (len + 1 < size) {
        g_strlcpy(buf + len, a->str, size - len);
    }
    g_string_free(a, TRUE);
}

void cmp_regs_count(struct cmp *c, struct side *s, const struct item *it)
{
    struct named n;
    if (!item_reg(s, it, &n)) {
        return;
    }
    char *name =
        n.hit->reg ? g_strdup(n.hit->name) : g_strdup_printf("BAR%d+0x%" PRIx64, n.bar, n.off);
    if (!c->disc_regs) {
        c->disc_regs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    }
    guint count = GPOINTER_TO_UINT(g_hash_table_lookup(c->disc_regs, name));
    g_hash_table_replace(c->disc_regs, name, GUINT_TO_POINTER(count + 1));
}

/* The most discrepancies first, then by name. */
static gint by_count(gconstpointer a, gconstpointer b, gpointer user)
{
    guint na = GPOINTER_TO_UINT(g_hash_table_lookup(user, *(char *const *)a));
    guint nb = GPOINTER_TO_UINT(g_hash_table_lookup(user, *(char *const *)b));
    return na != nb ? (na < nb ? 1 : -1) : strcmp(*(char *const *)a, *(char *const *)b);
}

GPtrArray *cmp_regs_ranked(const struct cmp *c)
{
    GPtrArray *names = g_ptr_array_new();
    GHashTableIter i;
    gpointer k;
    if (!c->disc_regs) {
        return names;
    }
    g_hash_table_iter_init(&i, c->disc_regs);
    while (g_hash_table_iter_next(&i, &k, NULL)) {
        g_ptr_array_add(names, k);
    }
    g_ptr_array_sort_with_data(names, by_count, c->disc_regs);
    return names;
}
