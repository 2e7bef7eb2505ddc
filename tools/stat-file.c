/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat: reading one trace file into struct stats. Each access is placed in its register
 * (device, region, offset) by what the record names (dev=, bar=), the file's MAP table or the
 * header's PCI devices, in that order, and counted there.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "warn.h"
#include "stat.h"
#include "stat-workbench.h" /* --regs, --top-functions, --symbols */

#define WARN_MAX 5 /* malformed lines named per file */

/* Per-file decoding state: the header's devices and the MAP table. */
struct pcidev_info {
    struct mmiotrace_pcidev d;
    const char *label; /* interned "0000:00:03.0 8086:10d3" */
};

struct map_info {
    uint64_t phys, len;
    const char *dev, *region; /* interned */
};

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
    return stat_intern(buf);
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
    return stat_intern(k);
}

/* Where an access falls: its register and its region's extent (size 0: unknown). */
struct place {
    struct reg_key k;
    uint64_t base, size;
};

static void place_access(struct file_state *fs, const struct mmiotrace_record *rec, struct place *p)
{
    bool unknown = rec->type == MMIOTRACE_UNKNOWN;
    uint64_t phys = unknown ? rec->unknown.phys : rec->rw.phys;
    int32_t map_id = unknown ? rec->unknown.map_id : rec->rw.map_id;
    const char *dev = NULL, *d;
    char buf[128];
    int bar;
    uint64_t b, sz;

    memset(p, 0, sizeof(*p));
    if (rec->ext & MMIOTRACE_EXT_DEV) {
        snprintf(buf, sizeof(buf), "%.*s", (int)rec->dev_len, rec->dev);
        dev = stat_intern(buf);
    }
    struct map_info *m = g_hash_table_lookup(fs->maps, GINT_TO_POINTER(map_id));
    if (rec->ext & MMIOTRACE_EXT_BAR) {
        snprintf(buf, sizeof(buf), "BAR%u", rec->bar);
        p->k.region = stat_intern(buf);
        p->k.offset = rec->bar_off;
        p->base = phys - rec->bar_off;
        if (find_bar(fs, phys, &d, &bar, &b, &sz)) {
            dev = dev ? dev : d;
            if (b == p->base) {
                p->size = sz;
            }
        }
    } else if (m && phys >= m->phys && phys - m->phys < m->len) {
        p->k.region = m->region;
        p->k.offset = phys - m->phys;
        p->base = m->phys;
        p->size = m->len;
        dev = dev ? dev : m->dev;
    } else if (find_bar(fs, phys, &d, &bar, &p->base, &p->size)) {
        snprintf(buf, sizeof(buf), "BAR%d", bar);
        p->k.region = stat_intern(buf);
        p->k.offset = phys - p->base;
        dev = dev ? dev : d;
    } else {
        /* no MAP and no header: absolute addresses */
        snprintf(buf, sizeof(buf), "map %d", map_id);
        p->k.region = stat_intern(buf);
        p->k.offset = phys;
    }
    p->k.dev = dev ? dev : stat_intern("?");
}

static void account_access(struct file_state *fs, const struct mmiotrace_record *rec)
{
    struct stats *s = fs->s;
    struct place p;
    char buf[16];

    stat_vcpu_account(s, rec);
    place_access(fs, rec, &p);
    stat_wb_note(p.k.dev, p.k.region, p.k.offset, rec); /* its register's name (--regs) */

    struct count_stat *dc = stat_count_get(s->devs, p.k.dev);
    struct count_stat *rc = stat_count_get(s->regions, region_key(p.k.dev, p.k.region));
    rc->dev = p.k.dev;
    if (!rc->size) {
        rc->base = p.base;
        rc->size = p.size;
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
    struct reg_stat *rs = stat_reg_get(s, &p.k);
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
    stat_distinct_add(rs, rec->rw.value & mask);
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
            p.label = stat_intern(name);
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
        m->region = stat_intern(buf);
        g_hash_table_replace(fs->maps, GINT_TO_POINTER(rec->map.map_id), m);
        stat_time_seen(s, rec->ts_ns);
        return;
    }
    case MMIOTRACE_READ:
    case MMIOTRACE_WRITE:
    case MMIOTRACE_UNKNOWN:
        stat_time_seen(s, rec->ts_ns);
        account_access(fs, rec);
        return;
    case MMIOTRACE_LOST:
        s->lost_events += rec->lost.count;
        return;
    case MMIOTRACE_VERSION:
        return;
    default: /* DMA, DMAMAP (stat-dma.c), MARK, IRQ, PCICFG */
        stat_dma_account(s, rec);
        stat_time_seen(s, rec->ts_ns);
        return;
    }
}

int stat_file(const char *prog, const char *path, struct stats *s, bool strict)
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
