/*
 * hvmmio: the regions that divert a traced BAR's accesses through hook.c. Every I/O
 * MemoryRegion under the BAR gets mr->mmiotrace; RAM under it that is to be traced
 * gets an I/O overlay in front of it that forwards each access. Overlays are rebuilt
 * only on command (realize, mmiotrace-trap), never per access.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "system/memory.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "mmiotrace-int.h"
#include "trace.h"

static MemTxResult overlay_read(void *opaque, hwaddr addr, uint64_t *data,
                                unsigned size, MemTxAttrs attrs)
{
    MmioTraceRegion *r = opaque;
    hwaddr off = r->target_off + addr;

    if (memory_region_is_ram_device(r->target)) {
        /* the device's own accessors keep the access width (vfio mmaps) */
        return memory_region_dispatch_read(r->target, off, data,
                                           size_memop(size) | MO_LE, attrs);
    }
    *data = ldn_le_p((uint8_t *)memory_region_get_ram_ptr(r->target) + off, size);
    return MEMTX_OK;
}

static MemTxResult overlay_write(void *opaque, hwaddr addr, uint64_t data,
                                 unsigned size, MemTxAttrs attrs)
{
    MmioTraceRegion *r = opaque;
    hwaddr off = r->target_off + addr;

    if (memory_region_is_ram_device(r->target)) {
        return memory_region_dispatch_write(r->target, off, data,
                                            size_memop(size) | MO_LE, attrs);
    }
    if (r->target->readonly) {
        return MEMTX_OK;
    }
    stn_le_p((uint8_t *)memory_region_get_ram_ptr(r->target) + off, size, data);
    memory_region_set_dirty(r->target, off, size);
    return MEMTX_OK;
}

static const MemoryRegionOps overlay_ops = {
    .read_with_attrs = overlay_read,
    .write_with_attrs = overlay_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};

typedef struct RamLeaf {
    int bar;
    MemoryRegion *mr;
    hwaddr base;
} RamLeaf;

static MmioTraceRegion *region_new(MmioTraceDevice *d, int bar,
                                   MemoryRegion *mr, hwaddr base)
{
    MmioTraceRegion *r = g_new0(MmioTraceRegion, 1);
    r->dev = d;
    r->mr = mr;
    r->bar = bar;
    r->base = base;
    QLIST_INSERT_HEAD(&d->regions, r, next);
    return r;
}

static void walk_bar(MmioTraceDevice *d, int bar, MemoryRegion *mr, hwaddr base,
                     GArray *ram)
{
    MemoryRegion *sub;

    if (mr->alias) {
        MemoryRegion *target = mr->alias;

        if (target->mmiotrace && target->mmiotrace->dev == d &&
            target->mmiotrace->via_alias) {
            return;     /* attached already (overlays are being rebuilt) */
        }
        if (target->alias || !target->terminates || memory_region_is_ram(target) ||
            target->mmiotrace) {
            warn_report("mmiotrace: %s: BAR %d region '%s' is an alias of '%s', "
                        "which cannot be traced; its accesses are not traced",
                        d->name, bar, memory_region_name(mr),
                        memory_region_name(target));
            return;
        }
        /* the target's accesses through this BAR: base maps target to BAR offsets */
        MmioTraceRegion *r = region_new(d, bar, target, base - mr->alias_offset);
        r->via_alias = true;
        r->alias_start = mr->alias_offset;
        r->alias_end = mr->alias_offset + memory_region_size(mr);
        target->mmiotrace = r;
        return;
    }
    if (memory_region_is_ram(mr)) {
        RamLeaf leaf = { .bar = bar, .mr = mr, .base = base };
        g_array_append_val(ram, leaf);
        return;
    }
    if (mr->terminates && !mr->mmiotrace) {
        mr->mmiotrace = region_new(d, bar, mr, base);
    }
    QTAILQ_FOREACH(sub, &mr->subregions, subregions_link) {
        walk_bar(d, bar, sub, base + sub->addr, ram);
    }
}

static void add_overlay(MmioTraceDevice *d, RamLeaf *leaf, hwaddr start,
                        hwaddr end)
{
    MemoryRegion *ov = g_new0(MemoryRegion, 1);
    MmioTraceRegion *r = region_new(d, leaf->bar, ov, leaf->base + start);
    g_autofree char *name = g_strdup_printf("mmiotrace-trap-bar%d@0x%" HWADDR_PRIx,
                                            leaf->bar, leaf->base + start);

    r->target = leaf->mr;
    r->target_off = start;
    memory_region_init_io(ov, OBJECT(d->pdev), &overlay_ops, r, name, end - start);
    ov->mmiotrace = r;
    /* a region's subregions are rendered in front of its own content */
    memory_region_add_subregion(leaf->mr, start, ov);
}

void mmiotrace_device_remove_overlays(MmioTraceDevice *d)
{
    MmioTraceRegion *r, *n;

    QLIST_FOREACH_SAFE(r, &d->regions, next, n) {
        if (!r->target) {
            continue;
        }
        r->mr->mmiotrace = NULL;
        memory_region_del_subregion(r->mr->container, r->mr);
        object_unparent(OBJECT(r->mr));
        QLIST_REMOVE(r, next);
        g_free(r);
    }
}

/* Page-aligned pieces of each RAM leaf that intersect the trapped ranges. */
static void build_overlays(MmioTraceDevice *d, GArray *ram)
{
    uint64_t page = qemu_real_host_page_size();

    for (guint i = 0; i < ram->len; i++) {
        RamLeaf *leaf = &g_array_index(ram, RamLeaf, i);
        uint64_t size = memory_region_size(leaf->mr);

        if (!d->ranges->len) {
            add_overlay(d, leaf, 0, size);
            continue;
        }
        /* mark the leaf's pages that any range touches, then merge runs */
        uint64_t npages = DIV_ROUND_UP(size, page);
        g_autofree bool *hit = g_new0(bool, npages);
        for (guint j = 0; j < d->ranges->len; j++) {
            MmioTraceSpan *rg = &g_array_index(d->ranges, MmioTraceSpan, j);
            if (rg->bar != leaf->bar || rg->off + rg->len <= leaf->base ||
                rg->off >= leaf->base + size) {
                continue;
            }
            uint64_t s = MAX(rg->off, leaf->base) - leaf->base;
            uint64_t e = MIN(rg->off + rg->len, leaf->base + size) - leaf->base;
            for (uint64_t p = s / page; p < DIV_ROUND_UP(e, page); p++) {
                hit[p] = true;
            }
        }
        for (uint64_t p = 0; p < npages;) {
            if (!hit[p]) {
                p++;
                continue;
            }
            uint64_t q = p;
            while (q < npages && hit[q]) {
                q++;
            }
            add_overlay(d, leaf, p * page, MIN(q * page, size));
            p = q;
        }
    }
}

void mmiotrace_device_rebuild_overlays(MmioTraceDevice *d)
{
    g_autoptr(GArray) ram = g_array_new(false, false, sizeof(RamLeaf));

    memory_region_transaction_begin();
    mmiotrace_device_remove_overlays(d);
    for (int bar = 0; bar < PCI_ROM_SLOT; bar++) {
        if (d->bar_mask & (1u << bar)) {
            /* I/O leaves already carry their pointer; collect RAM leaves */
            walk_bar(d, bar, d->pdev->io_regions[bar].memory, 0, ram);
        }
    }
    build_overlays(d, ram);
    memory_region_transaction_commit();
}
