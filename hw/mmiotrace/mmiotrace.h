/*
 * hvmmio: trace guest accesses to PCI BARs in Linux mmiotrace format.
 *
 * This is the interface QEMU's own files call through the hooks of qemu-patches/
 * (memory dispatch, PCI realize/unrealize/BAR mapping, KVM MMIO exits). Everything
 * else lives in hw/mmiotrace/.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MMIOTRACE_H
#define HW_MMIOTRACE_H

#include "exec/hwaddr.h"
#include "exec/memop.h"
#include "exec/memattrs.h"
#include "qapi/qapi-types-mmiotrace.h"

typedef struct MemoryRegion MemoryRegion;
typedef struct PCIDevice PCIDevice;
typedef struct ObjectClass ObjectClass;
typedef struct Error Error;

/* Per-device configuration, set through the mmiotrace* properties of every PCI device. */
typedef struct MmioTracePciProps {
    bool enabled;       /* mmiotrace=on|off */
    char *file;         /* mmiotrace-file=PATH */
    char *bars;         /* mmiotrace-bars=0,2 | all */
    char *ranges;       /* mmiotrace-ranges=BAR:OFFSET+LEN,... */
    bool pc;            /* mmiotrace-pc=on|off */
    bool insn;          /* mmiotrace-insn=on|off */
    bool compat;        /* mmiotrace-compat=on|off */
    MmioTraceMode mode; /* mmiotrace-mode=lossless|drop */
    uint32_t ring;      /* mmiotrace-ring=N records */
    bool direct;        /* mmiotrace-direct=on|off */
    bool dma;           /* mmiotrace-dma=on|off */
    uint32_t dma_bytes; /* mmiotrace-dma-bytes=N */
} MmioTracePciProps;

#define MMIOTRACE_DEFAULT_RING 262144

/* props.c: the properties whose values are QAPI enums */
extern const PropertyInfo mmiotrace_prop_mode;
extern const PropertyInfo mmiotrace_prop_replay_mode;
extern const PropertyInfo mmiotrace_prop_replay_on_divergence;

#define DEFINE_MMIOTRACE_PCI_PROPERTIES(_state, _f)                       \
    DEFINE_PROP_BOOL("mmiotrace", _state, _f.enabled, false),             \
    DEFINE_PROP_STRING("mmiotrace-file", _state, _f.file),                \
    DEFINE_PROP_STRING("mmiotrace-bars", _state, _f.bars),                \
    DEFINE_PROP_STRING("mmiotrace-ranges", _state, _f.ranges),            \
    DEFINE_PROP_BOOL("mmiotrace-pc", _state, _f.pc, false),               \
    DEFINE_PROP_BOOL("mmiotrace-insn", _state, _f.insn, false),           \
    DEFINE_PROP_BOOL("mmiotrace-compat", _state, _f.compat, false),       \
    DEFINE_PROP_SIGNED("mmiotrace-mode", _state, _f.mode,                 \
                       MMIO_TRACE_MODE_LOSSLESS, mmiotrace_prop_mode,     \
                       MmioTraceMode),                                    \
    DEFINE_PROP_UINT32("mmiotrace-ring", _state, _f.ring,                 \
                       MMIOTRACE_DEFAULT_RING),                           \
    DEFINE_PROP_BOOL("mmiotrace-direct", _state, _f.direct, false),       \
    DEFINE_PROP_BOOL("mmiotrace-dma", _state, _f.dma, false),             \
    DEFINE_PROP_UINT32("mmiotrace-dma-bytes", _state, _f.dma_bytes, 64)

/* Property descriptions, for -device X,help. */
void mmiotrace_pci_class_init(ObjectClass *klass);

/* Before the device's own realize (turns off what would bypass the trap). */
void mmiotrace_pci_pre_realize(PCIDevice *pdev);
/* After a successful realize: attach the tracer if mmiotrace=on. */
bool mmiotrace_pci_realize(PCIDevice *pdev, Error **errp);
/* First thing on unrealize: flush, detach, close. */
void mmiotrace_pci_unrealize(PCIDevice *pdev);
/* A BAR's bus address changes (PCI_BAR_UNMAPPED = ~0 when unmapped). */
void mmiotrace_pci_bar_update(PCIDevice *pdev, int bar, uint64_t old_addr,
                              uint64_t new_addr);

/* Interrupts a traced device raises (kinds as libmmiotrace's mmiotrace_irq_kind). */
enum {
    MMIOTRACE_PCI_IRQ_INTX = 0,     /* vector: pin (0 = INTA); data: level */
    MMIOTRACE_PCI_IRQ_MSI = 1,
    MMIOTRACE_PCI_IRQ_MSIX = 2,
};
void mmiotrace_pci_irq(PCIDevice *pdev, int kind, unsigned vector, uint64_t addr,
                       uint32_t data);

/*
 * Memory dispatch: a MemoryRegion with mr->mmiotrace set belongs to a traced BAR.
 * memory_region_dispatch_read/write divert to these unless the access is already
 * being traced (the functions re-enter dispatch for the real access).
 */
extern __thread MemoryRegion *mmiotrace_dispatching;
MemTxResult mmiotrace_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                    uint64_t *pval, MemOp op, MemTxAttrs attrs);
MemTxResult mmiotrace_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                     uint64_t data, MemOp op, MemTxAttrs attrs);

/*
 * One guest access, which QEMU may dispatch in pieces (the device's access sizes,
 * TCG's aligned pieces): a KVM MMIO exit and TCG's MMIO helpers bracket it, and the
 * tracer joins the pieces into one record. mmiotrace_enabled is set once a device is
 * traced, so an untraced QEMU pays one test per KVM exit.
 */
extern bool mmiotrace_enabled;
extern __thread bool mmiotrace_access_in_progress;
void mmiotrace_access_begin(bool kvm);
void mmiotrace_access_end(void);

/* Is a guest access bracketed on this thread? (TCG's MMIO helpers, each access) */
static inline bool mmiotrace_access_active(void)
{
    return mmiotrace_access_in_progress;
}

/*
 * dma.c: the DMA of devices traced with mmiotrace-dma=on, from the hooks in
 * system/physmem.c (only while mmiotrace_dma_enabled), and the DMA mappings QEMU
 * programs for a vfio container (hw/vfio/container.c).
 */
extern bool mmiotrace_dma_enabled;
void mmiotrace_dma_rw(AddressSpace *as, hwaddr addr, const void *buf, hwaddr len,
                      bool is_write);
void mmiotrace_dma_map(AddressSpace *as, hwaddr addr, void *ptr, bool direct);
void mmiotrace_dma_unmap(AddressSpace *as, void *ptr, bool is_write,
                         hwaddr access_len);
struct VFIOContainer;
void mmiotrace_vfio_dma_map(struct VFIOContainer *c, hwaddr iova, uint64_t size,
                            bool readonly, bool map);

#endif
