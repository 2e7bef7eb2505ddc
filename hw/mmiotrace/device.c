/*
 * hvmmio: attach the tracer to a PCI device's BARs.
 *
 * Every I/O MemoryRegion under a traced BAR gets mr->mmiotrace, which diverts its
 * accesses through hook.c. RAM under a BAR (a vfio region's mmap, a RAM BAR) is the
 * fast path with no exit; where it is to be traced, an I/O overlay is added as a
 * subregion of it (rendered in front of its content) and forwards each access to it.
 * Untrapped RAM keeps the fast path. Overlays are rebuilt only on command (realize,
 * mmiotrace-trap), never per access. A BAR that is an alias of another region has that
 * region traced, for the accesses made through the BAR.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "qom/object.h"
#include "system/memory.h"
#include "system/system.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "hw/qdev-properties.h"
#include "mmiotrace-int.h"
#include "trace.h"

union MmioTraceDeviceList mmiotrace_devices =
    QTAILQ_HEAD_INITIALIZER(mmiotrace_devices);

static Notifier exit_notifier;

void mmiotrace_pci_class_init(ObjectClass *klass)
{
    static const struct {
        const char *name, *desc;
    } d[] = {
        { "mmiotrace", "hvmmio: log every access to this device's BARs in "
          "Linux mmiotrace format (default off)" },
        { "mmiotrace-file", "hvmmio: trace file (default mmiotrace-ID.txt; "
          "devices naming the same file share it; empty: QEMU trace events only)" },
        { "mmiotrace-bars", "hvmmio: BARs to trace, e.g. 0:2 (default: every "
          "memory BAR)" },
        { "mmiotrace-ranges", "hvmmio: trap only these BAR-relative ranges, "
          "BAR:OFFSET+LENGTH[;...] e.g. 2:0x0+0x1000; other pages keep the "
          "fast path" },
        { "mmiotrace-pc", "hvmmio: record the guest PC of each access" },
        { "mmiotrace-insn", "hvmmio: record the instruction bytes and their "
          "disassembly (implies mmiotrace-pc)" },
        { "mmiotrace-compat", "hvmmio: write only the kernel's exact lines "
          "(no extension fields or records)" },
        { "mmiotrace-mode", "hvmmio: lossless (default: a full buffer makes "
          "the vCPU wait) or drop (losses are counted and marked); in both, "
          "what a full disk refuses is lost, counted and marked, the guest "
          "does not wait" },
        { "mmiotrace-ring", "hvmmio: records the buffer between vCPUs and the "
          "writer holds (power of two)" },
        { "mmiotrace-direct", "hvmmio: write a regular trace file with O_DIRECT "
          "where its file system allows it (default on): no page cache, a "
          "fraction of the writer's CPU" },
    };

    for (size_t i = 0; i < ARRAY_SIZE(d); i++) {
        object_class_property_set_description(klass, d[i].name, d[i].desc);
    }
}

static void close_all_at_exit(Notifier *n, void *data)
{
    mmiotrace_files_close_all();
}

/*
 * vfio's KVM ioeventfds absorb writes without an exit, and its KVM irqfds deliver
 * interrupts without QEMU seeing them: neither for traced devices.
 */
void mmiotrace_pci_pre_realize(PCIDevice *pdev)
{
    /*
     * Paths on which KVM or the kernel would serve a guest access or deliver an
     * interrupt without QEMU seeing it: vfio's KVM and vfio ioeventfds and irqfds
     * (x-no-* = on), and the ioeventfds of virtio-pci, nvme and ivshmem
     * (ioeventfd = off). The memory core also gives traced regions no KVM
     * ioeventfd and no coalesced MMIO (qemu-patches/0005).
     */
    static const char *const bypasses_on[] = {
        "x-no-kvm-ioeventfd", "x-no-vfio-ioeventfd", "x-no-kvm-intx", "x-no-kvm-msi",
        "x-no-kvm-msix",
    };
    static const char *const fast_paths_off[] = { "ioeventfd" };

    if (!pdev->mmiotrace.enabled) {
        return;
    }
    mmiotrace_enabled = true;
    for (size_t i = 0; i < ARRAY_SIZE(bypasses_on); i++) {
        ObjectProperty *p = object_property_find(OBJECT(pdev), bypasses_on[i]);
        if (p && !strcmp(p->type, "bool")) {
            object_property_set_bool(OBJECT(pdev), bypasses_on[i], true, &error_abort);
        }
    }
    for (size_t i = 0; i < ARRAY_SIZE(fast_paths_off); i++) {
        ObjectProperty *p = object_property_find(OBJECT(pdev), fast_paths_off[i]);
        if (p && !strcmp(p->type, "bool")) {
            object_property_set_bool(OBJECT(pdev), fast_paths_off[i], false,
                                     &error_abort);
        }
    }
}

static bool bar_is_memory(PCIDevice *pdev, int bar)
{
    PCIIORegion *r = &pdev->io_regions[bar];
    return r->size && !(r->type & PCI_BASE_ADDRESS_SPACE_IO);
}

static bool parse_bars(PCIDevice *pdev, const char *spec, uint32_t *mask,
                       Error **errp)
{
    *mask = 0;
    if (!spec || !*spec || !strcmp(spec, "all")) {
        for (int i = 0; i < PCI_ROM_SLOT; i++) {
            if (bar_is_memory(pdev, i)) {
                *mask |= 1u << i;
            }
        }
        return true;
    }
    /* ':' for the command line, where a ',' would end the -device option */
    g_auto(GStrv) parts = g_strsplit_set(spec, ",:", -1);
    for (char **p = parts; *p; p++) {
        uint64_t bar;
        if (qemu_strtou64(*p, NULL, 0, &bar) < 0 || bar >= PCI_ROM_SLOT) {
            error_setg(errp, "mmiotrace-bars: '%s' is not a BAR number 0-5", *p);
            return false;
        }
        if (!pdev->io_regions[bar].size) {
            error_setg(errp, "mmiotrace-bars: BAR %" PRIu64 " is not "
                       "implemented by this device", bar);
            return false;
        }
        if (!bar_is_memory(pdev, bar)) {
            error_setg(errp, "mmiotrace-bars: BAR %" PRIu64 " is an I/O port "
                       "BAR; mmiotrace traces memory BARs only", bar);
            return false;
        }
        *mask |= 1u << bar;
    }
    return true;
}

static bool check_range(MmioTraceDevice *d, int bar, uint64_t off, uint64_t len,
                        const char *what, Error **errp)
{
    PCIDevice *pdev = d->pdev;

    if (bar < 0 || bar >= PCI_ROM_SLOT || !pdev->io_regions[bar].size) {
        error_setg(errp, "%s: BAR %d is not implemented by this device", what, bar);
        return false;
    }
    if (!bar_is_memory(pdev, bar)) {
        error_setg(errp, "%s: BAR %d is an I/O port BAR", what, bar);
        return false;
    }
    if (!(d->bar_mask & (1u << bar))) {
        error_setg(errp, "%s: BAR %d is not traced (see mmiotrace-bars)", what, bar);
        return false;
    }
    if (!len || off >= pdev->io_regions[bar].size ||
        len > pdev->io_regions[bar].size - off) {
        error_setg(errp, "%s: range 0x%" PRIx64 "+0x%" PRIx64 " is empty or "
                   "outside BAR %d (size 0x%" PRIx64 ")", what, off, len, bar,
                   (uint64_t)pdev->io_regions[bar].size);
        return false;
    }
    return true;
}

/* BAR:OFFSET+LENGTH[;BAR:OFFSET+LENGTH...] (or ',' between them, as QMP allows) */
static bool parse_ranges(MmioTraceDevice *d, const char *spec, Error **errp)
{
    if (!spec || !*spec) {
        return true;
    }
    g_auto(GStrv) parts = g_strsplit_set(spec, ",;", -1);
    for (char **p = parts; *p; p++) {
        const char *s = *p, *end;
        uint64_t bar, off, len;
        if (qemu_strtou64(s, &end, 0, &bar) < 0 || *end != ':' ||
            qemu_strtou64(end + 1, &end, 0, &off) < 0 || *end != '+' ||
            qemu_strtou64(end + 1, &end, 0, &len) < 0 || *end) {
            error_setg(errp, "mmiotrace-ranges: '%s' is not BAR:OFFSET+LENGTH "
                       "(e.g. 2:0x1000+0x100)", s);
            return false;
        }
        if (bar >= PCI_ROM_SLOT) {
            error_setg(errp, "mmiotrace-ranges: '%s': BAR %" PRIu64 " is not 0-5", s,
                       bar);
            return false;
        }
        if (!check_range(d, bar, off, len, "mmiotrace-ranges", errp)) {
            return false;
        }
        MmioTraceSpan r = { .bar = bar, .off = off, .len = len };
        g_array_append_val(d->ranges, r);
    }
    return true;
}

bool mmiotrace_device_in_ranges(MmioTraceDevice *d, int bar, uint64_t off,
                                unsigned size)
{
    for (guint i = 0; i < d->ranges->len; i++) {
        MmioTraceSpan *r = &g_array_index(d->ranges, MmioTraceSpan, i);
        if (r->bar == bar && off + size > r->off && off < r->off + r->len) {
            return true;
        }
    }
    return false;
}

/* ---- overlays in front of RAM ---- */

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

static void remove_overlays(MmioTraceDevice *d)
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

static void rebuild_overlays(MmioTraceDevice *d)
{
    g_autoptr(GArray) ram = g_array_new(false, false, sizeof(RamLeaf));

    memory_region_transaction_begin();
    remove_overlays(d);
    for (int bar = 0; bar < PCI_ROM_SLOT; bar++) {
        if (d->bar_mask & (1u << bar)) {
            /* I/O leaves already carry their pointer; collect RAM leaves */
            walk_bar(d, bar, d->pdev->io_regions[bar].memory, 0, ram);
        }
    }
    build_overlays(d, ram);
    memory_region_transaction_commit();
}

/* ---- records about the device ---- */

void mmiotrace_device_push_pcidev(MmioTraceDevice *d)
{
    d->pcidev_stale = false;
    PCIDevice *pdev = d->pdev;
    struct mmiotrace_pcidev *p = g_new0(struct mmiotrace_pcidev, 1);
    MmioTraceEvent ev = { .type = MMIOTRACE_PCIDEV, .dev = d, .bar = -1 };

    p->bus = pci_dev_bus_num(pdev);
    p->devfn = pdev->devfn;
    p->vendor = pci_get_word(pdev->config + PCI_VENDOR_ID);
    p->device = pci_get_word(pdev->config + PCI_DEVICE_ID);
    p->irq = pdev->config[PCI_INTERRUPT_LINE];
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        PCIIORegion *r = &pdev->io_regions[i];
        if (!r->size) {
            continue;
        }
        uint64_t addr = r->addr == PCI_BAR_UNMAPPED ? 0 : r->addr;
        p->resource[i] = addr | (i == PCI_ROM_SLOT ? (addr ? 1 : 0) : (r->type & 0xf));
        p->size[i] = r->size;
    }
    ev.payload = p;
    ev.ts = mmiotrace_file_now(d->file);
    mmiotrace_file_push(d->file, &ev);
}

/* The header of a device: PCIDEV as the guest sees it, and its whole config space. */
void mmiotrace_device_header(MmioTraceDevice *d)
{
    if (!d->file) {
        return;
    }
    mmiotrace_device_push_pcidev(d);
    if (mmiotrace_file_compat(d->file)) {
        return;
    }
    uint32_t len = pci_config_size(d->pdev);
    MmioTraceEvent ev = {
        .type = MMIOTRACE_CONFIG, .dev = d, .bar = -1,
        .phys = (uint64_t)pci_dev_bus_num(d->pdev) << 8 | d->pdev->devfn,
        .off = len, .payload = g_memdup2(d->pdev->config, len),
        .ts = mmiotrace_file_now(d->file),
    };
    mmiotrace_file_push(d->file, &ev);
}

/* The header again at the start of a new file (mmiotrace-rotate): with the BARs' MAPs. */
void mmiotrace_device_header_rotated(MmioTraceDevice *d)
{
    mmiotrace_device_header(d);
    for (int bar = 0; bar < PCI_ROM_SLOT; bar++) {
        if (!(d->bar_mask & (1u << bar)) || d->bar_addr[bar] == PCI_BAR_UNMAPPED) {
            continue;
        }
        MmioTraceEvent ev = {
            .type = MMIOTRACE_MAP, .dev = d, .bar = bar,
            .map_id = d->map_id[bar], .phys = d->bar_addr[bar],
            .off = d->pdev->io_regions[bar].size,
            .ts = mmiotrace_file_now(d->file),
        };
        mmiotrace_file_push(d->file, &ev);
    }
}

void mmiotrace_pci_bar_update(PCIDevice *pdev, int bar, uint64_t old_addr,
                              uint64_t new_addr)
{
    MmioTraceDevice *d = pdev->mmiotrace_dev;

    if (!d || bar >= PCI_ROM_SLOT || !(d->bar_mask & (1u << bar))) {
        return;
    }
    d->bar_addr[bar] = new_addr;
    if (old_addr != PCI_BAR_UNMAPPED) {
        trace_mmiotrace_unmap(d->name, bar, old_addr);
        if (d->file) {
            MmioTraceEvent ev = {
                .type = MMIOTRACE_UNMAP, .dev = d, .bar = bar,
                .map_id = d->map_id[bar], .ts = mmiotrace_file_now(d->file),
            };
            mmiotrace_file_push(d->file, &ev);
        }
        d->map_id[bar] = 0;
    }
    if (new_addr != PCI_BAR_UNMAPPED) {
        uint64_t size = pdev->io_regions[bar].size;
        trace_mmiotrace_map(d->name, bar, new_addr, size);
        if (d->file) {
            d->map_id[bar] = mmiotrace_file_next_map_id(d->file);
            /* PCIDEV again, with the guest's addresses, before the next access */
            d->pcidev_stale = true;
            MmioTraceEvent ev = {
                .type = MMIOTRACE_MAP, .dev = d, .bar = bar,
                .map_id = d->map_id[bar], .phys = new_addr, .off = size,
                .ts = mmiotrace_file_now(d->file),
            };
            mmiotrace_file_push(d->file, &ev);
        }
    }
}

/* ---- attach / detach ---- */

/*
 * The dev= identity: the qdev id, or TYPE@BB:DD.F. Trace lines allow
 * MMIOTRACE_DEV_MAX bytes: a longer id keeps its start and ends in a hash of
 * the whole, so that two long ids stay apart (QMP commands accept the id
 * itself as well).
 */
static char *device_name(PCIDevice *pdev)
{
    DeviceState *dev = DEVICE(pdev);
    g_autofree char *name = NULL;

    if (dev->id && *dev->id) {
        name = g_strdup(dev->id);
    } else {
        name = g_strdup_printf("%s@%02x:%02x.%x", object_get_typename(OBJECT(pdev)),
                               pci_dev_bus_num(pdev), PCI_SLOT(pdev->devfn),
                               PCI_FUNC(pdev->devfn));
    }
    if (strlen(name) > MMIOTRACE_DEV_MAX) {
        uint64_t h = 0xcbf29ce484222325ull;     /* FNV-1a */
        for (const char *p = name; *p; p++) {
            h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
        }
        char *short_name = g_strdup_printf("%.*s-%016" PRIx64,
                                           MMIOTRACE_DEV_MAX - 17, name, h);
        warn_report("mmiotrace: device id '%s' is longer than %d characters; its "
                    "traces name it '%s'", name, MMIOTRACE_DEV_MAX, short_name);
        return short_name;
    }
    return g_steal_pointer(&name);
}

static char *default_file(const char *name)
{
    g_autofree char *safe = g_strdup(name);

    g_strcanon(safe, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
               "0123456789-_.", '-');
    return g_strdup_printf("mmiotrace-%s.txt", safe);
}

static void device_free(MmioTraceDevice *d)
{
    MmioTraceRegion *r, *n;

    remove_overlays(d);
    QLIST_FOREACH_SAFE(r, &d->regions, next, n) {
        r->mr->mmiotrace = NULL;
        QLIST_REMOVE(r, next);
        g_free(r);
    }
    if (d->file) {
        mmiotrace_file_unref(d->file);
    }
    g_array_free(d->ranges, true);
    g_free(d->name);
    g_free(d);
}

bool mmiotrace_pci_realize(PCIDevice *pdev, Error **errp)
{
    MmioTracePciProps *p = &pdev->mmiotrace;
    MmioTraceDevice *d;
    bool drop = false;

    /* the properties are checked even with mmiotrace=off: a typo is not ignored */
    if (p->mode && strcmp(p->mode, "lossless")) {
        if (strcmp(p->mode, "drop")) {
            error_setg(errp, "mmiotrace-mode: '%s' is not lossless or drop",
                       p->mode);
            return false;
        }
        drop = true;
    }
    if (p->ring < 16 || p->ring > (1u << 24) || !is_power_of_2(p->ring)) {
        error_setg(errp, "mmiotrace-ring=%u must be a power of two between 16 "
                   "and 16777216", p->ring);
        return false;
    }
    d = g_new0(MmioTraceDevice, 1);
    d->pdev = pdev;
    d->name = p->enabled ? device_name(pdev) : g_strdup("");
    d->name_len = strlen(d->name);
    d->ranges = g_array_new(false, false, sizeof(MmioTraceSpan));
    d->want_insn = p->insn;
    d->want_pc = p->pc || p->insn;
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        d->bar_addr[i] = PCI_BAR_UNMAPPED;
    }
    if (!parse_bars(pdev, p->bars, &d->bar_mask, errp) ||
        !parse_ranges(d, p->ranges, errp)) {
        goto fail;
    }
    if (!p->enabled) {
        device_free(d);
        return true;
    }
    if (!d->bar_mask) {
        warn_report("mmiotrace: %s has no memory BAR; nothing will be traced",
                    d->name);
    }
    if (!p->file || *p->file) {
        g_autofree char *path = p->file ? g_strdup(p->file) : default_file(d->name);
        d->file = mmiotrace_file_open(path, p->compat, drop, p->ring, p->direct,
                                      errp);
        if (!d->file) {
            goto fail;
        }
    }
    rebuild_overlays(d);
    for (int bar = 0; bar < PCI_ROM_SLOT; bar++) {
        if ((d->bar_mask & (1u << bar)) &&
            pdev->io_regions[bar].addr != PCI_BAR_UNMAPPED) {
            mmiotrace_pci_bar_update(pdev, bar, PCI_BAR_UNMAPPED,
                                     pdev->io_regions[bar].addr);
        }
    }
    mmiotrace_device_header(d);
    d->active = true;
    pdev->mmiotrace_dev = d;
    QTAILQ_INSERT_TAIL(&mmiotrace_devices, d, next);
    if (!exit_notifier.notify) {
        exit_notifier.notify = close_all_at_exit;
        qemu_add_exit_notifier(&exit_notifier);
    }
    return true;

fail:
    device_free(d);
    return false;
}

void mmiotrace_pci_unrealize(PCIDevice *pdev)
{
    MmioTraceDevice *d = pdev->mmiotrace_dev;

    if (!d) {
        return;
    }
    d->active = false;
    if (d->file) {
        mmiotrace_file_sync(d->file);
    }
    QTAILQ_REMOVE(&mmiotrace_devices, d, next);
    pdev->mmiotrace_dev = NULL;
    memory_region_transaction_begin();
    device_free(d);
    memory_region_transaction_commit();
}

MmioTraceDevice *mmiotrace_device_find(const char *name, Error **errp)
{
    MmioTraceDevice *d;

    QTAILQ_FOREACH(d, &mmiotrace_devices, next) {
        DeviceState *dev = DEVICE(d->pdev);
        if (!strcmp(d->name, name) || (dev->id && !strcmp(dev->id, name))) {
            return d;
        }
    }
    error_setg(errp, "no traced device '%s' (see query-mmiotrace)", name);
    return NULL;
}

static gint span_cmp(gconstpointer a, gconstpointer b)
{
    const MmioTraceSpan *x = a, *y = b;

    if (x->bar != y->bar) {
        return x->bar < y->bar ? -1 : 1;
    }
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Sort the spans and merge those that overlap or touch: repeated traps cost nothing. */
static void merge_spans(GArray *ranges)
{
    guint n = 0;

    g_array_sort(ranges, span_cmp);
    for (guint i = 0; i < ranges->len; i++) {
        MmioTraceSpan *r = &g_array_index(ranges, MmioTraceSpan, i);
        MmioTraceSpan *last = n ? &g_array_index(ranges, MmioTraceSpan, n - 1) : NULL;

        if (last && last->bar == r->bar && r->off <= last->off + last->len) {
            last->len = MAX(last->off + last->len, r->off + r->len) - last->off;
            continue;
        }
        g_array_index(ranges, MmioTraceSpan, n++) = *r;
    }
    g_array_set_size(ranges, n);
}

static bool spans_equal(GArray *a, GArray *b)
{
    return a->len == b->len &&
           !memcmp(a->data, b->data, (size_t)a->len * sizeof(MmioTraceSpan));
}

/* Add or remove [off, off+len) of a BAR from the trapped ranges, at run time. */
bool mmiotrace_device_trap(MmioTraceDevice *d, int bar, uint64_t off,
                           uint64_t len, bool enable, Error **errp)
{
    g_autoptr(GArray) before = NULL;

    if (!check_range(d, bar, off, len, "mmiotrace-trap", errp)) {
        return false;
    }
    before = g_array_copy(d->ranges);
    if (!d->ranges->len) {
        if (enable) {
            return true; /* everything is trapped already */
        }
        for (int i = 0; i < PCI_ROM_SLOT; i++) {
            if (d->bar_mask & (1u << i)) {
                MmioTraceSpan all = { .bar = i, .off = 0,
                                       .len = d->pdev->io_regions[i].size };
                g_array_append_val(d->ranges, all);
            }
        }
    }
    if (enable) {
        MmioTraceSpan r = { .bar = bar, .off = off, .len = len };
        g_array_append_val(d->ranges, r);
    } else {
        g_autoptr(GArray) out = g_array_new(false, false, sizeof(MmioTraceSpan));
        for (guint i = 0; i < d->ranges->len; i++) {
            MmioTraceSpan r = g_array_index(d->ranges, MmioTraceSpan, i);
            if (r.bar != bar || r.off + r.len <= off || r.off >= off + len) {
                g_array_append_val(out, r);
                continue;
            }
            if (r.off < off) {
                MmioTraceSpan lo = { .bar = bar, .off = r.off, .len = off - r.off };
                g_array_append_val(out, lo);
            }
            if (r.off + r.len > off + len) {
                MmioTraceSpan hi = { .bar = bar, .off = off + len,
                                      .len = r.off + r.len - (off + len) };
                g_array_append_val(out, hi);
            }
        }
        g_array_set_size(d->ranges, 0);
        g_array_append_vals(d->ranges, out->data, out->len);
        if (!d->ranges->len) {
            /* nothing trapped: an impossible range keeps "ranges set" meaning */
            MmioTraceSpan none = { .bar = -1, .off = 0, .len = 0 };
            g_array_append_val(d->ranges, none);
        }
    }
    merge_spans(d->ranges);
    if (!spans_equal(before, d->ranges)) {
        rebuild_overlays(d);
    }
    return true;
}
