/*
 * hvmmio: DMA context (mmiotrace-dma=on). An emulated device moves data through its
 * bus-master address space: every read and write of it (address_space_read_full /
 * address_space_write, what pci_dma_rw and dma_memory_rw come to) and every mapping a
 * device takes of it (address_space_map ... unmap: block devices' scatter-gather) is
 * recorded as a DMA record in order with the device's MMIO: direction, bus address,
 * length, the CRC-32 of the bytes and the first mmiotrace-dma-bytes of them. A mapping
 * is recorded when it is unmapped, with the bytes the device actually moved.
 * Accesses through address_space_ld*_/st*_ (MSI messages: recorded as IRQ already) and
 * through MemoryRegionCache (virtio's rings) are not recorded.
 *
 * A vfio device's DMA is done by the hardware (or the vfio-user server) without
 * QEMU: what QEMU knows is the IOMMU mappings it programs for the device's
 * container, recorded as DMAMAP records for every traced device of the container.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <zlib.h>
#include "hw/core/cpu.h"
#include "hw/pci/pci_device.h"
#include "hw/vfio/vfio-container.h"
#include "hw/vfio/vfio-device.h"
#include "mmiotrace-int.h"

#define DMA_DEVICES_MAX 32

bool mmiotrace_dma_enabled;

/* The bus-master spaces of devices traced with mmiotrace-dma=on (BQL to change). */
static struct {
    AddressSpace *as;
    MmioTraceDevice *dev;
} dma_devices[DMA_DEVICES_MAX];

/* Mappings in progress of those spaces: host pointer -> DmaMapping (map_lock) */
typedef struct DmaMapping {
    MmioTraceDevice *dev;
    hwaddr addr;
    bool direct;            /* guest RAM itself, not a bounce buffer */
} DmaMapping;

static QemuMutex map_lock;
static GHashTable *mappings;

bool mmiotrace_dma_attach(MmioTraceDevice *d, Error **errp)
{
    AddressSpace *as = pci_get_address_space(d->pdev);

    for (int i = 0; i < DMA_DEVICES_MAX; i++) {
        if (!qatomic_read(&dma_devices[i].dev)) {
            if (!mappings) {
                qemu_mutex_init(&map_lock);
                mappings = g_hash_table_new_full(NULL, NULL, NULL, g_free);
            }
            dma_devices[i].as = as;
            qatomic_store_release(&dma_devices[i].dev, d);
            qatomic_set(&mmiotrace_dma_enabled, true);
            return true;
        }
    }
    error_setg(errp, "mmiotrace-dma: at most %d devices can have their DMA traced",
               DMA_DEVICES_MAX);
    return false;
}

void mmiotrace_dma_detach(MmioTraceDevice *d)
{
    bool any = false;

    for (int i = 0; i < DMA_DEVICES_MAX; i++) {
        if (dma_devices[i].dev == d) {
            qatomic_set(&dma_devices[i].dev, NULL);
        }
        any |= dma_devices[i].dev != NULL;
    }
    qatomic_set(&mmiotrace_dma_enabled, any);
}

static MmioTraceDevice *dma_device(AddressSpace *as)
{
    for (int i = 0; i < DMA_DEVICES_MAX; i++) {
        MmioTraceDevice *d = qatomic_load_acquire(&dma_devices[i].dev);

        if (d && dma_devices[i].as == as) {
            return d->active && d->file && !mmiotrace_file_compat(d->file) ? d : NULL;
        }
    }
    return NULL;
}

static void dma_record(MmioTraceDevice *d, bool from_device, hwaddr addr,
                       const void *buf, hwaddr len)
{
    uint32_t n = MIN(len, d->dma_bytes);
    MmioTraceEvent ev = {
        .type = MMIOTRACE_DMA, .bar = -1, .dev = d,
        .vcpu = current_cpu ? current_cpu->cpu_index : MMIOTRACE_VCPU_NONE,
        .dma.dir = from_device ? MMIOTRACE_DMA_FROM_DEVICE : MMIOTRACE_DMA_TO_DEVICE,
        .dma.addr = addr, .dma.len = len,
        .dma.crc = 0, .dma.nbytes = n,
        .dma.data = n ? g_memdup2(buf, n) : NULL,
    };
    uLong crc = crc32(0, Z_NULL, 0);

    for (hwaddr done = 0; done < len;) {
        uInt piece = MIN(len - done, (hwaddr)UINT32_MAX);

        crc = crc32(crc, (const Bytef *)buf + done, piece);
        done += piece;
    }
    ev.dma.crc = crc;
    mmiotrace_push_after_access(d, &ev);
}

void mmiotrace_dma_rw(AddressSpace *as, hwaddr addr, const void *buf, hwaddr len,
                      bool is_write)
{
    MmioTraceDevice *d = dma_device(as);

    if (d && len) {
        dma_record(d, is_write, addr, buf, len);
    }
}

void mmiotrace_dma_map(AddressSpace *as, hwaddr addr, void *ptr, bool direct)
{
    MmioTraceDevice *d = dma_device(as);
    DmaMapping *m;

    if (!d || !ptr) {
        return;
    }
    m = g_new(DmaMapping, 1);
    m->dev = d;
    m->addr = addr;
    m->direct = direct;
    qemu_mutex_lock(&map_lock);
    g_hash_table_replace(mappings, ptr, m);
    qemu_mutex_unlock(&map_lock);
}

void mmiotrace_dma_unmap(AddressSpace *as, void *ptr, bool is_write, hwaddr access_len)
{
    DmaMapping *m;

    if (!mappings) {
        return;
    }
    qemu_mutex_lock(&map_lock);
    m = g_hash_table_lookup(mappings, ptr);
    if (m) {
        g_hash_table_steal(mappings, ptr);
    }
    qemu_mutex_unlock(&map_lock);
    if (!m) {
        return;
    }
    /* what a device wrote into a bounce buffer reaches memory by address_space_write */
    if (access_len && (m->direct || !is_write) && dma_device(as) == m->dev) {
        dma_record(m->dev, is_write, m->addr, ptr, access_len);
    }
    g_free(m);
}

void mmiotrace_vfio_dma_map(VFIOContainer *c, hwaddr iova, uint64_t size,
                            bool readonly, bool map)
{
    VFIODevice *vdev;

    QLIST_FOREACH(vdev, &c->device_list, container_next) {
        PCIDevice *pdev = (PCIDevice *)object_dynamic_cast(OBJECT(vdev->dev),
                                                           TYPE_PCI_DEVICE);
        MmioTraceDevice *d = pdev ? pdev->mmiotrace_dev : NULL;

        if (!d || !d->want_dma || !d->active || !d->file ||
            mmiotrace_file_compat(d->file)) {
            continue;
        }
        MmioTraceEvent ev = {
            .type = MMIOTRACE_DMAMAP, .bar = -1, .dev = d,
            .vcpu = current_cpu ? current_cpu->cpu_index : MMIOTRACE_VCPU_NONE,
            .dmamap.map = map, .dmamap.readonly = readonly,
            .dmamap.iova = iova, .dmamap.len = size,
        };
        mmiotrace_push_after_access(d, &ev);
    }
}
