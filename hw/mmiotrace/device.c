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
#include "qemu/memalign.h"
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
          "where its file system allows it: no page cache; an I/O thread "
          "makes the writes while the writer formats" },
        { "mmiotrace-dma", "hvmmio: record the DMA the device makes through "
          "its bus-master address space (DMA records; emulated devices) and "
          "the IOMMU mappings programmed for it (DMAMAP records; vfio)" },
        { "mmiotrace-dma-bytes", "hvmmio: bytes of each DMA recorded with "
          "it (default 64, at most 4096; every byte counts in its CRC-32)" },
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

bool mmiotrace_bar_is_memory(PCIDevice *pdev, int bar)
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
            if (mmiotrace_bar_is_memory(pdev, i)) {
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
        if (!mmiotrace_bar_is_memory(pdev, bar)) {
            error_setg(errp, "mmiotrace-bars: BAR %" PRIu64 " is an I/O port "
                       "BAR; mmiotrace traces memory BARs only", bar);
            return false;
        }
        *mask |= 1u << bar;
    }
    return true;
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

    mmiotrace_dma_detach(d);
    mmiotrace_device_remove_overlays(d);
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
    qemu_vfree(d);
}

bool mmiotrace_pci_realize(PCIDevice *pdev, Error **errp)
{
    MmioTracePciProps *p = &pdev->mmiotrace;
    MmioTraceDevice *d;
    bool drop = p->mode == MMIO_TRACE_MODE_DROP;

    /* the properties are checked even with mmiotrace=off: a typo is not ignored */
    if (p->ring < 16 || p->ring > (1u << 24) || !is_power_of_2(p->ring)) {
        error_setg(errp, "mmiotrace-ring=%u must be a power of two between 16 "
                   "and 16777216", p->ring);
        return false;
    }
    d = qemu_memalign(64, sizeof(*d));   /* records' line is its own */
    memset(d, 0, sizeof(*d));
    d->pdev = pdev;
    d->name = p->enabled ? device_name(pdev) : g_strdup("");
    d->name_len = strlen(d->name);
    d->ranges = g_array_new(false, false, sizeof(MmioTraceSpan));
    d->want_insn = p->insn;
    d->want_pc = p->pc || p->insn;
    d->want_dma = p->dma;
    d->dma_bytes = p->dma_bytes;
    if (p->dma_bytes > MMIOTRACE_DMA_BYTES_MAX) {
        error_setg(errp, "mmiotrace-dma-bytes=%u: at most %u bytes of a DMA are "
                   "recorded", p->dma_bytes, MMIOTRACE_DMA_BYTES_MAX);
        goto fail;
    }
    for (int i = 0; i < PCI_NUM_REGIONS; i++) {
        d->bar_addr[i] = PCI_BAR_UNMAPPED;
    }
    if (!parse_bars(pdev, p->bars, &d->bar_mask, errp) ||
        !mmiotrace_device_parse_ranges(d, p->ranges, errp)) {
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
    if (p->dma && d->file && !mmiotrace_dma_attach(d, errp)) {
        goto fail;
    }
    mmiotrace_device_rebuild_overlays(d);
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
