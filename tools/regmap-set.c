/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register maps: the set of maps a command was given (--regs FILE, --regs DEV=FILE) and the
 * trace's devices and mappings, which tell which map and register an access hits
 * (docs/regmap.md).
 */
#include <string.h>

#include <glib.h>

#include "regmap.h"

struct set_entry {
    char *dev; /* bound to this dev= name, or NULL */
    struct regmap *map;
};

struct set_dev {
    char *name; /* dev= of its PCIDEV, or NULL */
    struct mmiotrace_pcidev d;
};

struct regmap_set {
    GArray *entries;  /* struct set_entry */
    GArray *devs;     /* struct set_dev */
    GHashTable *maps; /* map id -> phys base (uint64_t *) */
    /* the last access's device name and the map chosen for it */
    char last_dev[MMIOTRACE_DEV_MAX + 1];
    size_t last_len;
    struct regmap *last_map;
    bool have_last; /* cleared when maps or devices are added */
};

struct regmap_set *regmap_set_new(void)
{
    struct regmap_set *s = g_new0(struct regmap_set, 1);
    s->entries = g_array_new(FALSE, FALSE, sizeof(struct set_entry));
    s->devs = g_array_new(FALSE, FALSE, sizeof(struct set_dev));
    s->maps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    return s;
}

bool regmap_set_add(struct regmap_set *s, const char *arg, GError **error)
{
    const char *eq = strchr(arg, '=');
    struct set_entry e = {NULL, NULL};
    const char *file = arg;
    if (eq && eq > arg && !memchr(arg, '/', eq - arg)) {
        e.dev = g_strndup(arg, eq - arg);
        file = eq + 1;
    }
    e.map = regmap_load(file, error);
    if (!e.map) {
        g_free(e.dev);
        return false;
    }
    g_array_append_val(s->entries, e);
    s->have_last = false;
    return true;
}

unsigned regmap_set_size(const struct regmap_set *s)
{
    return s->entries->len;
}

bool regmap_set_add_all(struct regmap_set *s, char **args, GError **error)
{
    for (char **a = args; a && *a; a++) {
        if (!regmap_set_add(s, *a, error)) {
            return false;
        }
    }
    return true;
}

void regmap_set_reset(struct regmap_set *s)
{
    for (guint i = 0; i < s->devs->len; i++) {
        g_free(g_array_index(s->devs, struct set_dev, i).name);
    }
    g_array_set_size(s->devs, 0);
    g_hash_table_remove_all(s->maps);
    s->have_last = false;
}

void regmap_set_track(struct regmap_set *s, const struct mmiotrace_record *rec)
{
    if (rec->type == MMIOTRACE_PCIDEV) {
        struct set_dev d = {NULL, rec->pcidev};
        d.d.driver = NULL;
        d.d.driver_len = 0;
        if (rec->ext & MMIOTRACE_EXT_DEV) {
            d.name = g_strndup(rec->dev, rec->dev_len);
        }
        for (guint i = 0; i < s->devs->len; i++) {
            struct set_dev *o = &g_array_index(s->devs, struct set_dev, i);
            if (o->d.bus == d.d.bus && o->d.devfn == d.d.devfn && !g_strcmp0(o->name, d.name)) {
                g_free(o->name);
                *o = d; /* a repeated header: the latest BARs */
                return;
            }
        }
        g_array_append_val(s->devs, d);
        s->have_last = false;
    } else if (rec->type == MMIOTRACE_MAP) {
        uint64_t *p = g_new(uint64_t, 1);
        *p = rec->map.phys;
        g_hash_table_replace(s->maps, GINT_TO_POINTER(rec->map.map_id), p);
    }
}

/* The header device and BAR holding phys. */
static struct set_dev *find_bar(struct regmap_set *s, uint64_t phys, int *bar, uint64_t *off)
{
    for (guint i = 0; i < s->devs->len; i++) {
        struct set_dev *d = &g_array_index(s->devs, struct set_dev, i);
        for (int b = 0; b < MMIOTRACE_PCI_RESOURCES; b++) {
            uint64_t start = d->d.resource[b] & ~(uint64_t)0xf;
            if ((d->d.resource[b] & 1) || !d->d.size[b]) {
                continue;
            }
            if (phys >= start && phys - start < d->d.size[b]) {
                *bar = b;
                *off = phys - start;
                return d;
            }
        }
    }
    return NULL;
}

static struct regmap *choose(struct regmap_set *s, const char *dev, const struct set_dev *d)
{
    struct regmap *generic = NULL;
    for (guint i = 0; i < s->entries->len; i++) {
        struct set_entry *e = &g_array_index(s->entries, struct set_entry, i);
        if (e->dev) {
            if (dev && !strcmp(e->dev, dev)) {
                return e->map;
            }
            continue;
        }
        if (!e->map->pci_ids->len) {
            generic = generic ? generic : e->map;
            continue;
        }
        for (guint j = 0; d && j < e->map->pci_ids->len; j++) {
            if (g_array_index(e->map->pci_ids, uint32_t, j) ==
                ((uint32_t)d->d.vendor << 16 | d->d.device)) {
                return e->map;
            }
        }
    }
    if (!generic && !d && s->entries->len == 1 &&
        !g_array_index(s->entries, struct set_entry, 0).dev) {
        /* no header to match ids against: the one map given */
        generic = g_array_index(s->entries, struct set_entry, 0).map;
    }
    return generic;
}

const struct regmap_hit *regmap_set_resolve(struct regmap_set *s,
                                            const struct mmiotrace_record *rec, int *bar,
                                            uint64_t *offset)
{
    uint64_t phys;
    int32_t map_id;
    if (rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE) {
        phys = rec->rw.phys;
        map_id = rec->rw.map_id;
    } else if (rec->type == MMIOTRACE_UNKNOWN) {
        phys = rec->unknown.phys;
        map_id = rec->unknown.map_id;
    } else {
        return NULL;
    }
    struct set_dev *d = NULL;
    int b = -1;
    uint64_t off = 0;
    bool have_d = false;
    if (rec->ext & MMIOTRACE_EXT_BAR) {
        b = rec->bar;
        off = rec->bar_off;
    } else if ((d = find_bar(s, phys, &b, &off))) {
        have_d = true; /* from the header's BARs */
    } else {
        uint64_t *base = g_hash_table_lookup(s->maps, GINT_TO_POINTER(map_id));
        if (!base || phys < *base) {
            return NULL;
        }
        b = 0; /* a kernel trace without a header: the mapping's start is BAR0's */
        off = phys - *base;
        have_d = true; /* no header device */
    }
    *bar = b;
    *offset = off;
    struct regmap *m;
    size_t dlen = rec->ext & MMIOTRACE_EXT_DEV ? MIN(rec->dev_len, (size_t)MMIOTRACE_DEV_MAX) : 0;
    /* the map chosen for the last device name (an access with a name never needs the header
     * lookup again until the devices change) */
    if (dlen && s->have_last && s->last_len == dlen && !memcmp(s->last_dev, rec->dev, dlen)) {
        m = s->last_map;
    } else {
        char dev[MMIOTRACE_DEV_MAX + 1] = "";
        if (!have_d) {
            int b2;
            uint64_t o2;
            d = find_bar(s, phys, &b2, &o2);
        }
        if (dlen) {
            memcpy(dev, rec->dev, dlen);
            dev[dlen] = 0;
        } else if (d && d->name) {
            g_strlcpy(dev, d->name, sizeof(dev));
        }
        if (*dev && !d) {
            for (guint i = 0; i < s->devs->len && !d; i++) {
                struct set_dev *x = &g_array_index(s->devs, struct set_dev, i);
                d = x->name && !strcmp(x->name, dev) ? x : NULL;
            }
        }
        m = choose(s, *dev ? dev : NULL, d);
        if (dlen) {
            memcpy(s->last_dev, dev, dlen + 1);
            s->last_len = dlen;
            s->last_map = m;
            s->have_last = true;
        }
    }
    if (!m) {
        return NULL;
    }
    return regmap_lookup(m, (unsigned)b, off);
}

void regmap_set_free(struct regmap_set *s)
{
    if (!s) {
        return;
    }
    for (guint i = 0; i < s->entries->len; i++) {
        struct set_entry *e = &g_array_index(s->entries, struct set_entry, i);
        g_free(e->dev);
        regmap_free(e->map);
    }
    for (guint i = 0; i < s->devs->len; i++) {
        g_free(g_array_index(s->devs, struct set_dev, i).name);
    }
    g_array_free(s->entries, TRUE);
    g_array_free(s->devs, TRUE);
    g_hash_table_destroy(s->maps);
    g_free(s);
}
