/*
 * hvmmio: a QEMU target built without the tracer (CONFIG_MMIOTRACE=n). QEMU's hooks
 * (qemu-patches/) and the QMP schema stay; asking for tracing is an error.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-mmiotrace.h"
#include "hw/pci/pci_device.h"
#include "hw/mmiotrace/mmiotrace.h"

#define NOT_BUILT "this QEMU was built without hvmmio's tracer (CONFIG_MMIOTRACE)"

__thread MemoryRegion *mmiotrace_dispatching;
bool mmiotrace_enabled;
__thread bool mmiotrace_access_in_progress;

void mmiotrace_pci_class_init(ObjectClass *klass)
{
}

void mmiotrace_pci_pre_realize(PCIDevice *pdev)
{
}

bool mmiotrace_pci_realize(PCIDevice *pdev, Error **errp)
{
    if (pdev->mmiotrace.enabled) {
        error_setg(errp, "mmiotrace=on: " NOT_BUILT);
        return false;
    }
    return true;
}

void mmiotrace_pci_unrealize(PCIDevice *pdev)
{
}

void mmiotrace_pci_bar_update(PCIDevice *pdev, int bar, uint64_t old_addr,
                              uint64_t new_addr)
{
}

void mmiotrace_pci_irq(PCIDevice *pdev, int kind, unsigned vector, uint64_t addr,
                       uint32_t data)
{
}

/* never reached: no region is ever marked traced */
MemTxResult mmiotrace_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                    uint64_t *pval, MemOp op, MemTxAttrs attrs)
{
    g_assert_not_reached();
}

MemTxResult mmiotrace_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                     uint64_t data, MemOp op, MemTxAttrs attrs)
{
    g_assert_not_reached();
}

void mmiotrace_access_begin(bool kvm)
{
}

void mmiotrace_access_end(void)
{
}

void qmp_mmiotrace_start(const char *device, Error **errp)
{
    error_setg(errp, NOT_BUILT);
}

void qmp_mmiotrace_stop(const char *device, Error **errp)
{
    error_setg(errp, NOT_BUILT);
}

void qmp_mmiotrace_mark(const char *text, Error **errp)
{
    error_setg(errp, NOT_BUILT);
}

void qmp_mmiotrace_trap(const char *device, int64_t bar, uint64_t offset,
                        uint64_t length, bool enable, Error **errp)
{
    error_setg(errp, NOT_BUILT);
}

void qmp_mmiotrace_rotate(const char *device, const char *file, Error **errp)
{
    error_setg(errp, NOT_BUILT);
}

MmioTraceInfoList *qmp_query_mmiotrace(Error **errp)
{
    return NULL;
}

MmioTraceReplayInfoList *qmp_query_mmiotrace_replay(Error **errp)
{
    return NULL;
}

/* DMA: never traced (mmiotrace_dma_enabled stays false) */
bool mmiotrace_dma_enabled;

void mmiotrace_dma_rw(AddressSpace *as, hwaddr addr, const void *buf, hwaddr len,
                      bool is_write)
{
}

void mmiotrace_dma_map(AddressSpace *as, hwaddr addr, void *ptr, bool direct)
{
}

void mmiotrace_dma_unmap(AddressSpace *as, void *ptr, bool is_write,
                         hwaddr access_len)
{
}

void mmiotrace_vfio_dma_map(struct VFIOContainer *c, hwaddr iova, uint64_t size,
                            bool readonly, bool map)
{
}
