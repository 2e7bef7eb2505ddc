/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat's DMA volume per device (issue 18): DMA records and bytes each way (to the
 * device: it read guest memory; from it: it wrote guest memory), and DMAMAP maps and unmaps,
 * by the dev= fact. Kept apart like the per-vCPU counts: one table in struct stats and one
 * call at each stage (account, merge, text, JSON).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "stat.h"

struct dma_count {
    const char *dev;               /* interned */
    uint64_t records[2], bytes[2]; /* by enum mmiotrace_dma_dir */
    uint64_t maps, unmaps;
};

static struct dma_count *dma_count_get(GHashTable *t, const char *dev)
{
    struct dma_count *c = g_hash_table_lookup(t, dev);
    if (!c) {
        c = g_new0(struct dma_count, 1);
        c->dev = dev;
        g_hash_table_insert(t, (gpointer)dev, c);
    }
    return c;
}

void stat_dma_account(struct stats *s, const struct mmiotrace_record *rec)
{
    char name[MMIOTRACE_DEV_MAX + 1] = "?";

    if (rec->type != MMIOTRACE_DMA && rec->type != MMIOTRACE_DMAMAP) {
        return;
    }
    if (rec->ext & MMIOTRACE_EXT_DEV) {
        snprintf(name, sizeof(name), "%.*s", (int)rec->dev_len, rec->dev);
    }
    struct dma_count *c = dma_count_get(s->dma, stat_intern(name));
    if (rec->type == MMIOTRACE_DMAMAP) {
        *(rec->dmamap.map ? &c->maps : &c->unmaps) += 1;
        return;
    }
    unsigned dir = rec->dma.dir == MMIOTRACE_DMA_FROM_DEVICE;
    c->records[dir]++;
    c->bytes[dir] += rec->dma.len;
}

void stat_dma_merge(struct stats *to, struct stats *from)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, from->dma);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct dma_count *f = v, *t = dma_count_get(to->dma, f->dev);
        for (int d = 0; d < 2; d++) {
            t->records[d] += f->records[d];
            t->bytes[d] += f->bytes[d];
        }
        t->maps += f->maps;
        t->unmaps += f->unmaps;
    }
}

static gint dma_order(gconstpointer a, gconstpointer b)
{
    const struct dma_count *x = *(struct dma_count *const *)a;
    const struct dma_count *y = *(struct dma_count *const *)b;
    return strcmp(x->dev, y->dev);
}

void stat_dma_print(const struct stats *s)
{
    g_autoptr(GPtrArray) a = hvmmio_sorted_values(s->dma, dma_order);
    if (!a->len) {
        return;
    }
    printf("dma (DMA records and bytes by device; to = the device read memory):\n");
    for (guint i = 0; i < a->len; i++) {
        struct dma_count *c = a->pdata[i];
        printf("  %-28s to %" PRIu64 " (%" PRIu64 " bytes)  from %" PRIu64 " (%" PRIu64 " bytes)",
               c->dev, c->records[MMIOTRACE_DMA_TO_DEVICE], c->bytes[MMIOTRACE_DMA_TO_DEVICE],
               c->records[MMIOTRACE_DMA_FROM_DEVICE], c->bytes[MMIOTRACE_DMA_FROM_DEVICE]);
        if (c->maps || c->unmaps) {
            printf("  iommu maps %" PRIu64 " unmaps %" PRIu64, c->maps, c->unmaps);
        }
        printf("\n");
    }
}

static json_object *dir_json(const struct dma_count *c, unsigned dir)
{
    json_object *d = json_object_new_object();
    json_object_object_add(d, "records", json_object_new_uint64(c->records[dir]));
    json_object_object_add(d, "bytes", json_object_new_uint64(c->bytes[dir]));
    return d;
}

void stat_dma_json(json_object *o, const struct stats *s)
{
    g_autoptr(GPtrArray) a = hvmmio_sorted_values(s->dma, dma_order);
    json_object *arr = json_object_new_array();
    for (guint i = 0; i < a->len; i++) {
        struct dma_count *c = a->pdata[i];
        json_object *d = json_object_new_object();
        json_object_object_add(d, "dev", json_object_new_string(c->dev));
        json_object_object_add(d, "to_device", dir_json(c, MMIOTRACE_DMA_TO_DEVICE));
        json_object_object_add(d, "from_device", dir_json(c, MMIOTRACE_DMA_FROM_DEVICE));
        json_object_object_add(d, "iommu_maps", json_object_new_uint64(c->maps));
        json_object_object_add(d, "iommu_unmaps", json_object_new_uint64(c->unmaps));
        json_object_array_add(arr, d);
    }
    json_object_object_add(o, "dma", arr);
}
