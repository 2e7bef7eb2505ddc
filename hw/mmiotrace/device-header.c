/*
 * hvmmio: the records about a traced device: its PCIDEV line and PCI config space
 * (PCICFG), and the MAP and UNMAP records of its BARs as the guest moves them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "system/memory.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "mmiotrace-int.h"
#include "trace.h"

void mmiotrace_device_push_pcidev(MmioTraceDevice *d)
{
    d->pcidev_stale = false;
    PCIDevice *pdev = d->pdev;
    struct mmiotrace_pcidev *p = g_new0(struct mmiotrace_pcidev, 1);
    MmioTraceEvent ev = { .type = MMIOTRACE_PCIDEV, .dev = d, .bar = -1,
                          .pcidev.pcidev = p };

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
        .config.bus = pci_dev_bus_num(d->pdev), .config.devfn = d->pdev->devfn,
        .config.len = len, .config.data = g_memdup2(d->pdev->config, len),
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
            .map.map_id = d->map_id[bar], .map.phys = d->bar_addr[bar],
            .map.len = d->pdev->io_regions[bar].size,
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
                .map.map_id = d->map_id[bar],
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
                .map.map_id = d->map_id[bar], .map.phys = new_addr, .map.len = size,
            };
            mmiotrace_file_push(d->file, &ev);
        }
    }
}
