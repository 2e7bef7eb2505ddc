/*
 * hvmmio: internal structures of the BAR access tracer.
 *
 * Data path: hook (hook.c) -> MmioTraceEvent -> a bounded ring per vCPU
 * (file-ring.c) -> writer thread (file-writer.c) -> libmmiotrace's formatter ->
 * file. device.c attaches a device's BARs, qmp.c is the monitor interface, insn.c
 * captures and disassembles instructions.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MMIOTRACE_INT_H
#define HW_MMIOTRACE_INT_H

#include "qemu/queue.h"
#include "qemu/thread.h"
#include "hw/pci/pci.h"
#include "hw/mmiotrace/mmiotrace.h"
#include "hw/mmiotrace/libmmiotrace/mmiotrace.h"

typedef struct MmioTraceFile MmioTraceFile;
typedef struct MmioTraceDevice MmioTraceDevice;

/* The new file of mmiotrace-rotate (file.c), in an MMIOTRACE_EV_ROTATE event */
typedef struct MmioTraceRotate MmioTraceRotate;

/*
 * One event in a ring: one cache line, aligned, so that handing it from the vCPU to the
 * writer thread moves a single line between cores. The fields every event has, then
 * one member per type. The instruction bytes of an access, when captured, go in a side
 * array of the ring (mmiotrace_file_reserved_insn). Pointers in a member are owned by the
 * event (freed by mmiotrace_event_free).
 */
typedef struct MmioTraceEvent {
    uint8_t type;           /* enum mmiotrace_type, or MMIOTRACE_EV_ROTATE */
    int8_t bar;             /* -1: not about a BAR */
    uint16_t pad;
    int32_t vcpu;           /* R, W, IRQ; MMIOTRACE_VCPU_NONE for QEMU's own */
    uint64_t ts;            /* a stamp, set when queued; the writer converts to ns */
    MmioTraceDevice *dev;   /* NULL: the file's own (VERSION, MARK, LOST) */
    union {
        struct {            /* MMIOTRACE_READ, MMIOTRACE_WRITE */
            uint8_t width;
            uint8_t insn_len;   /* 0: no instruction captured */
            uint8_t asm_mode;   /* capstone mode of the instruction (cs_mode fits) */
            uint8_t flags;      /* MMIOTRACE_EXT_PC_UNKNOWN, MMIOTRACE_EXT_REJECTED */
            int32_t map_id;
            uint64_t phys, value;
            uint64_t off;       /* offset in the BAR */
            uint64_t pc;
        } rw;
        struct {            /* MMIOTRACE_MAP, MMIOTRACE_UNMAP */
            int32_t map_id;
            uint64_t phys, len;
        } map;
        struct {            /* MMIOTRACE_IRQ */
            uint8_t kind;       /* enum mmiotrace_irq_kind */
            uint32_t vector, data;
            uint64_t addr;
        } irq;
        struct {            /* MMIOTRACE_LOST */
            uint64_t count;
        } lost;
        struct {            /* MMIOTRACE_MARK */
            char *text;
        } mark;
        struct {            /* MMIOTRACE_PCIDEV */
            struct mmiotrace_pcidev *pcidev;
        } pcidev;
        struct {            /* MMIOTRACE_CONFIG */
            uint8_t bus, devfn;
            uint16_t len;
            uint8_t *data;
        } config;
        struct {            /* MMIOTRACE_DMA */
            uint32_t crc;       /* of all len bytes */
            uint32_t nbytes;    /* in data: the first ones, up to mmiotrace-dma-bytes */
            uint8_t dir;        /* enum mmiotrace_dma_dir */
            uint64_t addr, len;
            uint8_t *data;
        } dma;
        struct {            /* MMIOTRACE_DMAMAP */
            bool map, readonly;
            uint64_t iova, len;
        } dmamap;
        struct {            /* MMIOTRACE_EV_ROTATE */
            MmioTraceRotate *to;
        } rotate;
    };
} QEMU_ALIGNED(64) MmioTraceEvent;

QEMU_BUILD_BUG_ON(sizeof(MmioTraceEvent) != 64);

/* file.c's own event: go on in a new file (mmiotrace-rotate) */
#define MMIOTRACE_EV_ROTATE 0x80

/* Free what the event owns (MARK text, PCIDEV, PCICFG bytes, a rotation's file). */
static inline void mmiotrace_event_free(MmioTraceEvent *ev)
{
    switch (ev->type) {
    case MMIOTRACE_MARK:
        g_free(ev->mark.text);
        ev->mark.text = NULL;
        break;
    case MMIOTRACE_PCIDEV:
        g_free(ev->pcidev.pcidev);
        ev->pcidev.pcidev = NULL;
        break;
    case MMIOTRACE_CONFIG:
        g_free(ev->config.data);
        ev->config.data = NULL;
        break;
    case MMIOTRACE_DMA:
        g_free(ev->dma.data);
        ev->dma.data = NULL;
        break;
    case MMIOTRACE_EV_ROTATE:
        g_free(ev->rotate.to);
        ev->rotate.to = NULL;
        break;
    }
}

/* A traced piece of a BAR: a leaf I/O MemoryRegion, or an overlay trapping RAM. */
typedef struct MmioTraceRegion {
    MmioTraceDevice *dev;
    MemoryRegion *mr;       /* the region whose mr->mmiotrace points here */
    int bar;
    hwaddr base;            /* offset of mr within the BAR */
    MemoryRegion *target;   /* overlay: the RAM region it stands in front of */
    hwaddr target_off;      /* overlay: its offset within target */
    /*
     * A BAR that is an alias of another region (rtl8139's MMIO BAR aliases its I/O BAR):
     * mr is the alias's target, reached by other paths too (port I/O, QEMU itself), so
     * only accesses made by a guest instruction through memory (inside an access bracket)
     * in [alias_start, alias_end) of the target are this BAR's; base is then the BAR
     * offset of the target's offset 0 (modulo 2^64).
     */
    bool via_alias;
    hwaddr alias_start, alias_end;
    QLIST_ENTRY(MmioTraceRegion) next;
} MmioTraceRegion;

typedef struct MmioTraceSpan {
    int bar;
    uint64_t off, len;
} MmioTraceSpan;

struct MmioTraceDevice {
    PCIDevice *pdev;
    char *name;             /* dev= identity: the qdev id, or TYPE@BB:DD.F */
    size_t name_len;
    MmioTraceFile *file;
    bool active;            /* records are written (mmiotrace-start/stop) */
    bool want_pc, want_insn;
    bool want_dma;          /* mmiotrace-dma=on */
    uint32_t dma_bytes;     /* mmiotrace-dma-bytes */
    bool pcidev_stale;      /* a BAR moved since the last PCIDEV record */
    uint32_t bar_mask;      /* traced BARs */
    GArray *ranges;         /* MmioTraceSpan; empty: whole BARs */
    int32_t map_id[PCI_NUM_REGIONS];
    uint64_t bar_addr[PCI_NUM_REGIONS];
    QLIST_HEAD(, MmioTraceRegion) regions;
    QTAILQ_ENTRY(MmioTraceDevice) next;
    /*
     * Accesses recorded, counted by the file's writer thread (or the vCPU without a
     * file): on a line of its own, since vCPUs read the fields above on every access
     * (sharing the line cost the writer a miss per record, and the vCPU one per write).
     */
    QEMU_ALIGNED(64) uint64_t records;
};

/* file.c: an output file shared by the devices that name it, with its writer thread */
MmioTraceFile *mmiotrace_file_open(const char *path, bool compat, bool drop,
                                   uint32_t ring_size, bool direct, Error **errp);
void mmiotrace_file_unref(MmioTraceFile *f);
/*
 * Queue an event (lossless: wait for room; drop: count the loss). Each vCPU thread has
 * a ring of its own; an event is stamped (ev->ts) when it is queued, and the writer
 * merges the rings in stamp order.
 */
void mmiotrace_file_push(MmioTraceFile *f, MmioTraceEvent *ev);
/*
 * The same in two steps, to fill the stamped slot in place (the per-access hot path):
 * mmiotrace_file_reserve and mmiotrace_file_commit, inline in file-ring.h.
 */
/* Wait until every event queued so far is written out. */
void mmiotrace_file_sync(MmioTraceFile *f);
int32_t mmiotrace_file_next_map_id(MmioTraceFile *f);
const char *mmiotrace_file_path(MmioTraceFile *f);
bool mmiotrace_file_compat(MmioTraceFile *f);
void mmiotrace_file_stats(MmioTraceFile *f, uint64_t *bytes, uint64_t *dropped);
/* Write errors: the errno of a failure in progress (0: writing works); records lost. */
int mmiotrace_file_write_state(MmioTraceFile *f, uint64_t *write_lost);
/* Accesses of device dev (its dev= name) lost to write errors. */
uint64_t mmiotrace_file_lost_accesses(MmioTraceFile *f, const char *dev);
/*
 * mmiotrace-rotate: records queued after this go to a new file at path (which starts
 * with VERSION); queue the devices' headers, then call mmiotrace_file_rotate_done.
 */
bool mmiotrace_file_rotate(MmioTraceFile *f, const char *path, Error **errp);
void mmiotrace_file_rotate_done(MmioTraceFile *f);
void mmiotrace_files_close_all(void);

/* device.c */
extern QTAILQ_HEAD(MmioTraceDeviceList, MmioTraceDevice) mmiotrace_devices;
MmioTraceDevice *mmiotrace_device_find(const char *name, Error **errp);
void mmiotrace_device_header(MmioTraceDevice *d);
void mmiotrace_device_push_pcidev(MmioTraceDevice *d);
bool mmiotrace_device_in_ranges(MmioTraceDevice *d, int bar, uint64_t off,
                                unsigned size);
bool mmiotrace_device_trap(MmioTraceDevice *d, int bar, uint64_t off,
                           uint64_t len, bool enable, Error **errp);

/* device-header.c: a device's header for a new file (PCIDEV, PCICFG, MAPs) */
void mmiotrace_device_header_rotated(MmioTraceDevice *d);
/* device.c */
bool mmiotrace_bar_is_memory(PCIDevice *pdev, int bar);
/* device-ranges.c: mmiotrace-ranges=BAR:OFFSET+LEN,... */
bool mmiotrace_device_parse_ranges(MmioTraceDevice *d, const char *spec, Error **errp);
/* device-regions.c: the regions of the traced BARs, overlays in front of traced RAM */
void mmiotrace_device_remove_overlays(MmioTraceDevice *d);
void mmiotrace_device_rebuild_overlays(MmioTraceDevice *d);

/* qmp.c: the MMIOTRACE_WRITE_ERROR / _RESUMED events (main loop; err 0: resumed) */
void mmiotrace_qmp_write_state(const char *path, int err, uint64_t lost);

/* hook.c */
void mmiotrace_mark(MmioTraceDevice *d, const char *text);
/* Queue an event of d's, after the access in progress on this thread if there is one. */
void mmiotrace_push_after_access(MmioTraceDevice *d, MmioTraceEvent *ev);

/* dma.c: trace the DMA of d's bus-master address space (mmiotrace-dma=on) */
bool mmiotrace_dma_attach(MmioTraceDevice *d, Error **errp);
void mmiotrace_dma_detach(MmioTraceDevice *d);

/*
 * kvm.c: the PC (and with want_insn the instruction bytes) of an access made through
 * the KVM MMIO exit in progress, read without changing QEMU's copy of the vCPU state.
 * false: unknown.
 */
bool mmiotrace_kvm_access_pc(CPUState *cpu, bool is_write, uint64_t gpa, unsigned len,
                             MmioTraceEvent *ev, uint8_t *insn, bool want_insn);

/* tcg-pc.h: the same for the TCG access in progress (mmiotrace_tcg_access_pc) */

/* insn.c */
void mmiotrace_insn_capture(CPUState *cpu, MmioTraceEvent *ev, uint8_t *bytes);
/* Writer thread only: the disassembly of ev's instruction, cached by PC. */
const char *mmiotrace_insn_text(void **cache, MmioTraceEvent *ev, const uint8_t *bytes,
                                size_t *len);
void mmiotrace_insn_cache_free(void *cache);

#endif
