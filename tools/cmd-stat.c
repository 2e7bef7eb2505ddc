/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat: summarise mmiotrace files: records by type, devices, BARs/mappings, the busiest
 * registers, time span and rate, lost events and undecoded (UNKNOWN) accesses.
 *
 * Memory is bounded except for the per-register table (one entry per distinct register).
 * Registers are keyed by interned labels (device, region) so several files add up in the total.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "warn.h"
#include "stat-workbench.h" /* --regs, --top-functions, --symbols */

#define DISTINCT_MAX 64 /* distinct values remembered per register; more is reported as "64+" */
#define WARN_MAX 5      /* malformed lines named per file */

struct reg_key {
    const char *dev;    /* interned */
    const char *region; /* interned */
    uint64_t offset;
};

struct reg_stat {
    struct reg_key key;
    uint64_t reads, writes;
    unsigned widths; /* bit w set: width w seen */
    unsigned ndistinct;
    bool distinct_capped;
    uint64_t *distinct; /* up to DISTINCT_MAX values */
};

struct count_stat {
    const char *name; /* interned */
    const char *dev;  /* interned, regions only */
    uint64_t base, size;
    uint64_t reads, writes, unknown;
};

struct stats {
    const char *name;
    uint64_t by_type[MMIOTRACE_TYPE_COUNT];
    uint64_t lost_events, malformed;
    uint64_t first_ns, last_ns;
    bool have_time;
    GHashTable *regs;    /* struct reg_key * -> struct reg_stat * */
    GHashTable *devs;    /* interned name -> struct count_stat * */
    GHashTable *regions; /* interned "dev\nregion" -> struct count_stat * */
    GHashTable *opcodes; /* "0f,b6,42" -> count (UNKNOWN records) */
    GHashTable *vcpus;   /* per-vCPU counts: see "per-vCPU counts" below */
};

/* Per-file decoding state: the header's devices and the MAP table. */
struct pcidev_info {
    struct mmiotrace_pcidev d;
    const char *label; /* interned "0000:00:03.0 8086:10d3" */
};

struct map_info {
    uint64_t phys, len;
    const char *dev, *region; /* interned */
};

static GStringChunk *strings;
static GHashTable *interned;

static const char *intern(const char *s)
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

static void stats_init(struct stats *s, const char *name)
{
    memset(s, 0, sizeof(*s));
    s->name = name;
    s->regs = g_hash_table_new_full(reg_hash, reg_equal, NULL, reg_free);
    s->devs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->regions = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    s->opcodes = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    s->vcpus = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
}

static void stats_clear(struct stats *s)
{
    g_hash_table_destroy(s->regs);
    g_hash_table_destroy(s->devs);
    g_hash_table_destroy(s->regions);
    g_hash_table_destroy(s->opcodes);
    g_hash_table_destroy(s->vcpus);
}

static struct count_stat *count_get(GHashTable *t, const char *key)
{
    struct count_stat *c = g_hash_table_lookup(t, key);

    if (!c) {
        c = g_new0(struct count_stat, 1);
        c->name = key;
        g_hash_table_insert(t, (gpointer)key, c);
    }
    return c;
}

static void distinct_add(struct reg_stat *rs, uint64_t v)
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

static struct reg_stat *reg_get(struct stats *s, const struct reg_key *k)
{
    struct reg_stat *rs = g_hash_table_lookup(s->regs, k);

    if (!rs) {
        rs = g_new0(struct reg_stat, 1);
        rs->key = *k;
        g_hash_table_insert(s->regs, &rs->key, rs);
    }
    return rs;
}

static void time_seen(struct stats *s, uint64_t ns)
{
    if (!s->have_time || ns < s->first_ns) {
        s->first_ns = ns;
    }
    if (!s->have_time || ns > s->last_ns) {
        s->last_ns = ns;
    }
    s->have_time = true;
}

/*
 * ---- per-vCPU counts (the vcpu= fact): R/W records per vCPU, "none" for QEMU's own ----
 * Kept apart from the rest of stat: one table in struct stats and one call at each of its
 * stages (account, merge, text, JSON).
 */
struct vcpu_count {
    int32_t vcpu; /* MMIOTRACE_VCPU_NONE: QEMU itself */
    uint64_t reads, writes;
};

static struct vcpu_count *vcpu_count_get(GHashTable *t, int32_t vcpu)
{
    gpointer key = GINT_TO_POINTER(vcpu + 2); /* MMIOTRACE_VCPU_NONE is -1; 0 is no key */
    struct vcpu_count *c = g_hash_table_lookup(t, key);
    if (!c) {
        c = g_new0(struct vcpu_count, 1);
        c->vcpu = vcpu;
        g_hash_table_insert(t, key, c);
    }
    return c;
}

static void vcpu_account(struct stats *s, const struct mmiotrace_record *rec)
{
    if ((rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE) &&
        (rec->ext & MMIOTRACE_EXT_VCPU)) {
        struct vcpu_count *c = vcpu_count_get(s->vcpus, rec->vcpu);
        *(rec->type == MMIOTRACE_READ ? &c->reads : &c->writes) += 1;
    }
}

static void vcpu_merge(struct stats *to, struct stats *from)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, from->vcpus);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct vcpu_count *f = v, *t = vcpu_count_get(to->vcpus, f->vcpu);
        t->reads += f->reads;
        t->writes += f->writes;
    }
}

static gint vcpu_order(gconstpointer a, gconstpointer b)
{
    const struct vcpu_count *x = *(struct vcpu_count *const *)a;
    const struct vcpu_count *y = *(struct vcpu_count *const *)b;
    /* vCPUs by index, QEMU's own ("none") last */
    uint32_t xi = (uint32_t)x->vcpu, yi = (uint32_t)y->vcpu;
    return xi < yi ? -1 : xi > yi;
}

static GPtrArray *vcpus_sorted(GHashTable *t)
{
    GPtrArray *a = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(a, v);
    }
    g_ptr_array_sort(a, vcpu_order);
    return a;
}

static void vcpu_print(const struct stats *s)
{
    g_autoptr(GPtrArray) a = vcpus_sorted(s->vcpus);
    if (!a->len) {
        return;
    }
    printf("vcpus (R/W records by the vcpu= fact):\n");
    for (guint i = 0; i < a->len; i++) {
        struct vcpu_count *c = a->pdata[i];
        char name[32];
        if (c->vcpu == MMIOTRACE_VCPU_NONE) {
            snprintf(name, sizeof(name), "none (QEMU itself)");
        } else {
            snprintf(name, sizeof(name), "vcpu %" PRId32, c->vcpu);
        }
        printf("  %-28s reads %-10" PRIu64 " writes %" PRIu64 "\n", name, c->reads, c->writes);
    }
}

static void vcpu_json(json_object *o, const struct stats *s)
{
    g_autoptr(GPtrArray) a = vcpus_sorted(s->vcpus);
    json_object *arr = json_object_new_array();
    for (guint i = 0; i < a->len; i++) {
        struct vcpu_count *c = a->pdata[i];
        json_object *d = json_object_new_object();
        json_object_object_add(
            d, "vcpu", c->vcpu == MMIOTRACE_VCPU_NONE ? NULL : json_object_new_int(c->vcpu));
        json_object_object_add(d, "reads", json_object_new_uint64(c->reads));
        json_object_object_add(d, "writes", json_object_new_uint64(c->writes));
        json_object_array_add(arr, d);
    }
    json_object_object_add(o, "vcpus", arr);
}
/* ---- end of per-vCPU counts ---- */

/* Merge one file's statistics into the total. */
static void stats_merge(struct stats *to, struct stats *from)
{
    GHashTableIter it;
    gpointer k, v;

    for (int t = 0; t < MMIOTRACE_TYPE_COUNT; t++) {
        to->by_type[t] += from->by_type[t];
    }
    to->lost_events += from->lost_events;
    to->malformed += from->malformed;
    vcpu_merge(to, from);
    if (from->have_time) {
        time_seen(to, from->first_ns);
        time_seen(to, from->last_ns);
    }
    g_hash_table_iter_init(&it, from->regs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct reg_stat *f = v, *t = reg_get(to, &f->key);
        t->reads += f->reads;
        t->writes += f->writes;
        t->widths |= f->widths;
        for (unsigned i = 0; i < f->ndistinct; i++) {
            distinct_add(t, f->distinct[i]);
        }
        t->distinct_capped |= f->distinct_capped;
    }
    GHashTable *tables[2][2] = {{to->devs, from->devs}, {to->regions, from->regions}};
    for (int i = 0; i < 2; i++) {
        g_hash_table_iter_init(&it, tables[i][1]);
        while (g_hash_table_iter_next(&it, &k, &v)) {
            struct count_stat *f = v, *t = count_get(tables[i][0], k);
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

struct file_state {
    struct stats *s;
    GArray *pcidevs;  /* struct pcidev_info */
    GHashTable *maps; /* map id -> struct map_info * */
    struct hvmmio_warn warn;
    const char *prog;
};

static const char *pcidev_label(const struct mmiotrace_pcidev *d)
{
    char buf[64];
    snprintf(buf, sizeof(buf), "0000:%02x:%02x.%u %04x:%04x", d->bus, d->devfn >> 3, d->devfn & 7,
             d->vendor, d->device);
    return intern(buf);
}

/* The header device and BAR holding phys, if any. */
static bool find_bar(struct file_state *fs, uint64_t phys, const char **dev, int *bar,
                     uint64_t *base, uint64_t *size)
{
    for (guint i = 0; i < fs->pcidevs->len; i++) {
        struct pcidev_info *p = &g_array_index(fs->pcidevs, struct pcidev_info, i);
        for (int b = 0; b < MMIOTRACE_PCI_RESOURCES; b++) {
            uint64_t flags = p->d.resource[b] & 0xf;
            uint64_t start = p->d.resource[b] & ~(uint64_t)0xf;
            if ((flags & 1) || !p->d.size[b]) {
                continue; /* I/O port BARs are not MMIO */
            }
            if (phys >= start && phys - start < p->d.size[b]) {
                *dev = p->label;
                *bar = b;
                *base = start;
                *size = p->d.size[b];
                return true;
            }
        }
    }
    return false;
}

static const char *region_key(const char *dev, const char *region)
{
    g_autofree char *k = g_strdup_printf("%s\n%s", dev, region);
    return intern(k);
}

static void account_access(struct file_state *fs, const struct mmiotrace_record *rec)
{
    struct stats *s = fs->s;
    struct reg_key k = {NULL, NULL, 0};
    uint64_t phys, base = 0, size = 0;
    int32_t map_id;
    const char *dev = NULL;
    char buf[128];

    vcpu_account(s, rec);
    if (rec->type == MMIOTRACE_UNKNOWN) {
        phys = rec->unknown.phys;
        map_id = rec->unknown.map_id;
    } else {
        phys = rec->rw.phys;
        map_id = rec->rw.map_id;
    }
    if (rec->ext & MMIOTRACE_EXT_DEV) {
        snprintf(buf, sizeof(buf), "%.*s", (int)rec->dev_len, rec->dev);
        dev = intern(buf);
    }
    struct map_info *m = g_hash_table_lookup(fs->maps, GINT_TO_POINTER(map_id));
    if (rec->ext & MMIOTRACE_EXT_BAR) {
        snprintf(buf, sizeof(buf), "BAR%u", rec->bar);
        k.region = intern(buf);
        k.offset = rec->bar_off;
        base = phys - rec->bar_off;
        const char *d;
        int bar;
        uint64_t b, sz;
        if (find_bar(fs, phys, &d, &bar, &b, &sz)) {
            dev = dev ? dev : d;
            if (b == base) {
                size = sz;
            }
        }
    } else if (m && phys >= m->phys && phys - m->phys < m->len) {
        k.region = m->region;
        k.offset = phys - m->phys;
        base = m->phys;
        size = m->len;
        if (!dev) {
            dev = m->dev;
        }
    } else {
        int bar;
        const char *d;
        if (find_bar(fs, phys, &d, &bar, &base, &size)) {
            snprintf(buf, sizeof(buf), "BAR%d", bar);
            k.region = intern(buf);
            k.offset = phys - base;
            if (!dev) {
                dev = d;
            }
        } else {
            /* no MAP and no header: absolute addresses */
            snprintf(buf, sizeof(buf), "map %d", map_id);
            k.region = intern(buf);
            k.offset = phys;
        }
    }
    k.dev = dev ? dev : intern("?");
    stat_wb_note(k.dev, k.region, k.offset, rec); /* its register's name (--regs) */

    struct count_stat *dc = count_get(s->devs, k.dev);
    struct count_stat *rc = count_get(s->regions, region_key(k.dev, k.region));
    rc->dev = k.dev;
    if (!rc->size) {
        rc->base = base;
        rc->size = size;
    }
    if (rec->type == MMIOTRACE_UNKNOWN) {
        dc->unknown++;
        rc->unknown++;
        snprintf(buf, sizeof(buf), "%02x,%02x,%02x", rec->unknown.opcode[0], rec->unknown.opcode[1],
                 rec->unknown.opcode[2]);
        gpointer old = g_hash_table_lookup(s->opcodes, buf);
        g_hash_table_replace(s->opcodes, g_strdup(buf),
                             GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + 1));
        return;
    }
    struct reg_stat *rs = reg_get(s, &k);
    uint64_t mask = rec->rw.width >= 8 ? UINT64_MAX : (1ull << (8 * rec->rw.width)) - 1;
    if (rec->type == MMIOTRACE_READ) {
        rs->reads++;
        dc->reads++;
        rc->reads++;
    } else {
        rs->writes++;
        dc->writes++;
        rc->writes++;
    }
    rs->widths |= 1u << rec->rw.width;
    distinct_add(rs, rec->rw.value & mask);
}

static void account(struct file_state *fs, const struct mmiotrace_record *rec)
{
    struct stats *s = fs->s;

    stat_wb_record(rec); /* stat-workbench.c */
    s->by_type[rec->type]++;
    switch (rec->type) {
    case MMIOTRACE_PCIDEV: {
        struct pcidev_info p = {rec->pcidev, pcidev_label(&rec->pcidev)};
        if (rec->ext & MMIOTRACE_EXT_DEV) {
            /* hvmmio names the device: accesses carrying dev= then match the header's */
            char name[MMIOTRACE_DEV_MAX + 1];
            snprintf(name, sizeof(name), "%.*s", (int)rec->dev_len, rec->dev);
            p.label = intern(name);
        }
        p.d.driver = NULL;
        /* repeated headers repeat the same devices: keep one of each */
        for (guint i = 0; i < fs->pcidevs->len; i++) {
            if (g_array_index(fs->pcidevs, struct pcidev_info, i).label == p.label) {
                return;
            }
        }
        g_array_append_val(fs->pcidevs, p);
        return;
    }
    case MMIOTRACE_MAP: {
        struct map_info *m = g_new0(struct map_info, 1);
        int bar;
        uint64_t base, size;
        char buf[64];
        m->phys = rec->map.phys;
        m->len = rec->map.len;
        if (find_bar(fs, rec->map.phys, &m->dev, &bar, &base, &size)) {
            snprintf(buf, sizeof(buf), "BAR%d", bar);
            if (base != rec->map.phys) {
                snprintf(buf, sizeof(buf), "BAR%d+0x%" PRIx64, bar, rec->map.phys - base);
            }
        } else {
            snprintf(buf, sizeof(buf), "map %d", rec->map.map_id);
        }
        m->region = intern(buf);
        g_hash_table_replace(fs->maps, GINT_TO_POINTER(rec->map.map_id), m);
        time_seen(s, rec->ts_ns);
        return;
    }
    case MMIOTRACE_READ:
    case MMIOTRACE_WRITE:
    case MMIOTRACE_UNKNOWN:
        time_seen(s, rec->ts_ns);
        account_access(fs, rec);
        return;
    case MMIOTRACE_LOST:
        s->lost_events += rec->lost.count;
        return;
    case MMIOTRACE_VERSION:
        return;
    default:
        time_seen(s, rec->ts_ns);
        return;
    }
}

/* Read one file into s. Returns 0, or -1 after printing why. */
static int stat_file(const char *prog, const char *path, struct stats *s, bool strict)
{
    struct file_state fs = {s,
                            g_array_new(FALSE, FALSE, sizeof(struct pcidev_info)),
                            g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free),
                            {prog, WARN_MAX, 0},
                            prog};
    struct mmiotrace_record rec;
    uint64_t records = 0;
    int ret = 0, got;

    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        ret = -1;
        goto out;
    }
    mmiotrace_reader_set_policy(r, strict ? MMIOTRACE_ON_ERROR_STOP : MMIOTRACE_ON_ERROR_SKIP,
                                hvmmio_warn_line, &fs.warn);
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        account(&fs, &rec);
        records++;
    }
    s->malformed = mmiotrace_reader_skipped(r);
    if (got == 0 && !records && s->malformed) {
        /* nothing but malformed lines: not a trace at all (random bytes, another format) */
        fprintf(stderr, "%s: %s: not an mmiotrace: no valid record, %" PRIu64 " malformed lines\n",
                prog, path, s->malformed);
        ret = -1;
    }
    if (fs.warn.count > WARN_MAX) {
        fprintf(stderr, "%s: warning: %s: %u more malformed lines skipped\n", prog, path,
                fs.warn.count - WARN_MAX);
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", prog, mmiotrace_reader_error(r));
        ret = -1;
    }
    mmiotrace_reader_free(r);
out:
    g_array_free(fs.pcidevs, TRUE);
    g_hash_table_destroy(fs.maps);
    return ret;
}

/* ---- Output ---- */

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

static GPtrArray *sorted_values(GHashTable *t, GCompareFunc cmp)
{
    GPtrArray *a = g_ptr_array_new();
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(a, v);
    }
    g_ptr_array_sort(a, cmp);
    return a;
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

static void print_text(const struct stats *s, unsigned top)
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

    g_autoptr(GPtrArray) devs = sorted_values(s->devs, count_busier);
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
    vcpu_print(s);
    g_autoptr(GPtrArray) regions = sorted_values(s->regions, count_busier);
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
    g_autoptr(GPtrArray) regs = sorted_values(s->regs, reg_busier);
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
    printf("\n");
}

static json_object *jhex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    return json_object_new_string(buf);
}

static json_object *stats_json(const struct stats *s, unsigned top)
{
    json_object *o = json_object_new_object();
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
    json_object *devs = json_object_new_array();
    g_autoptr(GPtrArray) da = sorted_values(s->devs, count_busier);
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
    json_object *regions = json_object_new_array();
    g_autoptr(GPtrArray) ra = sorted_values(s->regions, count_busier);
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
    vcpu_json(o, s);
    json_object *regs = json_object_new_array();
    g_autoptr(GPtrArray) ga = sorted_values(s->regs, reg_busier);
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
    return o;
}

int hvmmio_cmd_stat(int argc, char **argv)
{
    gboolean json = FALSE, strict = FALSE;
    gint top = 10;
    GOptionEntry entries[] = {
        {"top", 'n', 0, G_OPTION_ARG_INT, &top, "Show the N busiest registers (default 10)", "N"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of text", NULL},
        {"strict", 's', 0, G_OPTION_ARG_NONE, &strict,
         "Stop at the first malformed line (default: skip it with a warning)", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE...");
    g_autoptr(GError) error = NULL;
    int ret = 0;

    g_option_context_set_summary(
        ctx, "Summarise mmiotrace files (text or JSON Lines, plain, .gz, .xz or .zst; '-' is\n"
             "stdin): records by type, devices, BARs and mappings, the busiest registers,\n"
             "time span and rate, lost events and UNKNOWN (undecoded) accesses.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, stat_wb_entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (stat_wb_init(argv[0])) {
        stat_wb_free();
        return 2;
    }
    if (argc < 2) {
        fprintf(stderr, "%s: no FILE given (see --help)\n", argv[0]);
        return 2;
    }
    if (top < 0) {
        fprintf(stderr, "%s: --top must not be negative\n", argv[0]);
        return 2;
    }
    strings = g_string_chunk_new(4096);
    interned = g_hash_table_new(g_str_hash, g_str_equal);

    struct stats total;
    stats_init(&total, "total");
    json_object *jfiles = json ? json_object_new_array() : NULL;
    for (int i = 1; i < argc; i++) {
        struct stats s;
        stats_init(&s, argv[i]);
        if (stat_file(argv[0], argv[i], &s, strict) < 0) {
            ret = 1;
        }
        if (json) {
            json_object_array_add(jfiles, stats_json(&s, top));
        } else {
            print_text(&s, top);
        }
        stats_merge(&total, &s);
        stats_clear(&s);
    }
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "files", jfiles);
        json_object_object_add(o, "total", stats_json(&total, top));
        stat_wb_json(o, top);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else if (argc > 2) {
        print_text(&total, top);
    }
    if (!json) {
        stat_wb_print(top);
    }
    stat_wb_free();
    stats_clear(&total);
    g_hash_table_destroy(interned);
    g_string_chunk_free(strings);
    return ret;
}
