/*
 * hvmmio: the per-access hook. memory_region_dispatch_read/write divert accesses to
 * traced regions here; we re-enter dispatch for the real access and queue one record.
 *
 * An access made while another traced access is being dispatched (a device touching a
 * traced BAR from its own handler) is QEMU's, not the guest's: it is marked vcpu=none.
 * One guest access may reach us in pieces (QEMU splits it to the device's valid access
 * size, TCG into aligned pieces): the KVM exit and TCG's MMIO helpers bracket the
 * access (mmiotrace_access_begin/end) and the pieces make one record. An access the
 * device refuses (a size or alignment its MemoryRegionOps do not accept) is recorded
 * with rejected=1.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/core/cpu.h"
#include "exec/cpu-common.h"
#include "system/memory.h"
#include "hw/pci/pci_device.h"
#include "system/kvm.h"
#include "system/hw_accel.h"
#include "mmiotrace-int.h"
#include "file-ring.h"
#include "tcg-pc.h"
#include "trace.h"

__thread MemoryRegion *mmiotrace_dispatching;
bool mmiotrace_enabled;

#define DEFERRED_MAX 8

/*
 * The guest access in progress on this vCPU thread: a KVM MMIO exit, or one TCG MMIO
 * access to one page. QEMU may dispatch it in pieces (the device's access sizes, TCG's
 * aligned pieces); they are joined into the access the guest made. Records of accesses
 * QEMU itself makes meanwhile (a device touching a traced BAR from its handler) and
 * interrupts raised by the access are written after it.
 */
__thread bool mmiotrace_access_in_progress;    /* an access is bracketed */

static __thread struct {
    bool kvm;
    bool is_write;
    bool rejected;
    MmioTraceRegion *region;
    hwaddr addr;                /* first byte, relative to region */
    unsigned len;               /* bytes joined so far (<= 8) */
    uint64_t value;             /* little-endian: byte i at bits 8i */
    unsigned ndeferred;
    MmioTraceEvent deferred[DEFERRED_MAX];
} acc;

/* Queue an event, or hold it back until the access in progress is recorded. */
static void push(MmioTraceFile *f, MmioTraceEvent *ev, bool defer)
{
    if (defer && mmiotrace_access_in_progress && acc.ndeferred < DEFERRED_MAX) {
        acc.deferred[acc.ndeferred++] = *ev;
        return;
    }
    mmiotrace_file_push(f, ev);
}

/*
 * The hot path: the record is written straight into its ring slot, with its PC (and
 * instruction, into the slot's side array) when cpu is given.
 */
static inline QEMU_ALWAYS_INLINE
void record_fast(MmioTraceDevice *d, MmioTraceRegion *r, uint64_t off, uint64_t gpa,
                 unsigned size, uint64_t val, bool is_write, int vcpu, bool rejected,
                 CPUState *cpu)
{
    MmioTraceEvent *ev = mmiotrace_file_reserve(d->file);
    bool known;

    if (!ev) {
        return;
    }
    ev->type = is_write ? MMIOTRACE_WRITE : MMIOTRACE_READ;
    ev->bar = r->bar;
    ev->vcpu = vcpu;
    ev->dev = d;
    ev->rw.width = size;
    ev->rw.insn_len = 0;
    ev->rw.flags = rejected ? MMIOTRACE_EXT_REJECTED : 0;
    ev->rw.map_id = d->map_id[r->bar];
    ev->rw.phys = gpa;
    ev->rw.value = val;
    ev->rw.off = off;
    ev->rw.pc = 0;
    if (unlikely(cpu)) {    /* out of the way of the traced access without PC */
        uint8_t *insn = mmiotrace_file_reserved_insn(ev);

        if (mmiotrace_access_in_progress && acc.kvm) {
            known = mmiotrace_kvm_access_pc(cpu, is_write, gpa, size, ev, insn,
                                            d->want_insn);
        } else {
            known = mmiotrace_tcg_access_pc(cpu, ev, insn, d->want_insn);
        }
        if (!known) {
            ev->rw.pc = 0;
            ev->rw.insn_len = 0;
            ev->rw.flags |= MMIOTRACE_EXT_PC_UNKNOWN;
        }
    }
    mmiotrace_file_commit(d->file, ev);
}

/*
 * QEMU's own access inside a guest access: written after it. Out of line: its event on
 * the stack (64-byte aligned) would make record() realign its frame on every access.
 */
static __attribute__((noinline)) void record_deferred(MmioTraceDevice *d,
                                                      MmioTraceRegion *r, uint64_t off,
                                                      uint64_t gpa, unsigned size,
                                                      uint64_t val, bool is_write,
                                                      int vcpu, bool rejected)
{
    MmioTraceEvent ev = {
        .type = is_write ? MMIOTRACE_WRITE : MMIOTRACE_READ,
        .bar = r->bar,
        .vcpu = vcpu,
        .dev = d,
        .rw.width = size,
        .rw.flags = rejected ? MMIOTRACE_EXT_REJECTED : 0,
        .rw.map_id = d->map_id[r->bar],
        .rw.phys = gpa,
        .rw.value = val,
        .rw.off = off,
    };
    push(d->file, &ev, true);
}

/* Both inline in their callers: a traced access's calls were a fifth of its cost. */
static inline QEMU_ALWAYS_INLINE
void record(MmioTraceRegion *r, hwaddr addr, unsigned size, uint64_t val,
            bool is_write, bool nested, bool rejected)
{
    MmioTraceDevice *d = r->dev;
    uint64_t off = r->base + addr;
    CPUState *cpu = nested ? NULL : current_cpu;

    if (!d->active ||
        (d->ranges->len && !mmiotrace_device_in_ranges(d, r->bar, off, size))) {
        return;
    }
    if (unlikely(r->via_alias) &&
        (!mmiotrace_access_in_progress || nested || addr < r->alias_start ||
         addr >= r->alias_end)) {
        return;     /* the aliased region reached otherwise: port I/O, QEMU itself */
    }
    if (size < 8) {
        val &= (1ull << (size * 8)) - 1;
    }
    uint64_t gpa = d->bar_addr[r->bar] == PCI_BAR_UNMAPPED ? off
                                                            : d->bar_addr[r->bar] + off;
    int vcpu = cpu ? cpu->cpu_index : MMIOTRACE_VCPU_NONE;

    if (is_write) {
        trace_mmiotrace_write(d->name, r->bar, off, gpa, size, val, vcpu);
    } else {
        trace_mmiotrace_read(d->name, r->bar, off, gpa, size, val, vcpu);
    }
    if (!d->file) {
        qatomic_inc(&d->records);   /* with a file, its writer counts them */
        return;
    }
    if (unlikely(d->pcidev_stale)) {
        mmiotrace_device_push_pcidev(d);
    }
    if (!(nested && mmiotrace_access_in_progress)) {
        record_fast(d, r, off, gpa, size, val, is_write, vcpu, rejected,
                    d->want_pc ? cpu : NULL);
        return;
    }
    record_deferred(d, r, off, gpa, size, val, is_write, vcpu, rejected);
}

/* A width the format has a name for. */
static inline bool proper_width(unsigned len)
{
    return len == 4 || len == 1 || len == 2 || len == 8;
}

/*
 * Record the joined access. A width the format has no name for (3, 5, 6, 7 bytes: what
 * is left of an access on one side of a page boundary) is written as naturally aligned
 * pieces, the largest first, so every accelerator gives the same records.
 */
static void flush_joined(void)
{
    hwaddr addr = acc.addr;
    uint64_t value = acc.value;
    unsigned left = acc.len;

    if (proper_width(left)) {
        left = 0;   /* a whole access of a proper width, aligned or not */
        record(acc.region, addr, acc.len, value, acc.is_write, false, acc.rejected);
    }
    while (left) {
        unsigned size = 8;
        while (size > left || (addr & (size - 1))) {
            size >>= 1;
        }
        record(acc.region, addr, size, value, acc.is_write, false, acc.rejected);
        addr += size;
        value = size < 8 ? value >> (size * 8) : 0;
        left -= size;
    }
    acc.len = 0;
    acc.rejected = false;
}

/* A piece of the access in progress; false if no access is in progress. */
static inline QEMU_ALWAYS_INLINE
bool join_piece(MmioTraceRegion *r, hwaddr addr, unsigned size, uint64_t v,
                bool is_write, bool rejected, bool nested)
{
    if (!mmiotrace_access_in_progress || nested) {
        return false;
    }
    if (acc.len && (r != acc.region || addr != acc.addr + acc.len ||
                    is_write != acc.is_write || acc.len + size > 8)) {
        flush_joined();
    }
    if (!acc.len) {
        acc.region = r;
        acc.addr = addr;
        acc.value = 0;
        acc.is_write = is_write;
    }
    if (size < 8) {
        v &= (1ull << (size * 8)) - 1;
    }
    acc.value |= acc.len ? v << (acc.len * 8) : v;
    acc.len += size;
    acc.rejected |= rejected;
    return true;
}

void mmiotrace_access_begin(bool kvm)
{
    if (mmiotrace_access_in_progress) {
        mmiotrace_access_end();     /* one left open (a longjmp out of an access) */
    }
    mmiotrace_access_in_progress = true;
    acc.kvm = kvm;
    acc.len = 0;
    acc.ndeferred = 0;
    acc.rejected = false;
}

void mmiotrace_access_end(void)
{
    if (!mmiotrace_access_in_progress) {
        return;
    }
    if (likely(proper_width(acc.len))) {
        /* the usual access, recorded here without a call (flush_joined's first case) */
        record(acc.region, acc.addr, acc.len, acc.value, acc.is_write, false,
               acc.rejected);
        acc.len = 0;
        acc.rejected = false;
    } else if (acc.len) {
        flush_joined();
    }
    mmiotrace_access_in_progress = false;
    for (unsigned i = 0; i < acc.ndeferred; i++) {
        MmioTraceEvent *ev = &acc.deferred[i];
        mmiotrace_file_push(ev->dev->file, ev);
    }
    acc.ndeferred = 0;
}

/* The value as the (little-endian) guest saw it in its register. */
static uint64_t guest_value(uint64_t v, MemOp op)
{
    if (op & MO_BSWAP) {
        v = bswap64(v) >> (64 - memop_size(op) * 8);
    }
    return v;
}

MemTxResult mmiotrace_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                    uint64_t *pval, MemOp op, MemTxAttrs attrs)
{
    MemoryRegion *outer = mmiotrace_dispatching;
    MmioTraceRegion *r = mr->mmiotrace;
    unsigned size = memop_size(op);
    MemTxResult res;
    uint64_t v;

    mmiotrace_dispatching = mr;
    res = memory_region_dispatch_read(mr, addr, pval, op, attrs);
    mmiotrace_dispatching = outer;
    v = guest_value(*pval, op);
    if (!join_piece(r, addr, size, v, false, res != MEMTX_OK, outer)) {
        record(r, addr, size, v, false, outer, res != MEMTX_OK);
    }
    return res;
}

MemTxResult mmiotrace_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                     uint64_t data, MemOp op, MemTxAttrs attrs)
{
    MemoryRegion *outer = mmiotrace_dispatching;
    MmioTraceRegion *r = mr->mmiotrace;
    unsigned size = memop_size(op);
    MemTxResult res;

    /* a lone write is recorded before its effects (interrupts it raises come after) */
    if (!mmiotrace_access_in_progress || outer) {
        bool rejected = !memory_region_access_valid(mr, addr, size, true, attrs);
        record(r, addr, size, guest_value(data, op), true, outer, rejected);
    }
    mmiotrace_dispatching = mr;
    res = memory_region_dispatch_write(mr, addr, data, op, attrs);
    mmiotrace_dispatching = outer;
    join_piece(r, addr, size, guest_value(data, op), true, res != MEMTX_OK, outer);
    return res;
}

void mmiotrace_push_after_access(MmioTraceDevice *d, MmioTraceEvent *ev)
{
    push(d->file, ev, true);
}

void mmiotrace_mark(MmioTraceDevice *d, const char *text)
{
    if (!d->file) {
        return;
    }
    if (unlikely(d->pcidev_stale)) {
        mmiotrace_device_push_pcidev(d);
    }
    /* a marker belongs to the whole file: no dev= (it stays a kernel MARK line) */
    MmioTraceEvent ev = {
        .type = MMIOTRACE_MARK, .bar = -1,
        .mark.text = g_strdup(text),
    };
    mmiotrace_file_push(d->file, &ev);
}

void mmiotrace_pci_irq(PCIDevice *pdev, int kind, unsigned vector, uint64_t addr,
                       uint32_t data)
{
    MmioTraceDevice *d = pdev->mmiotrace_dev;

    if (!d || !d->active) {
        return;
    }
    trace_mmiotrace_irq(d->name, kind, vector, addr, data);
    if (!d->file || mmiotrace_file_compat(d->file)) {
        return;
    }
    MmioTraceEvent ev = {
        .type = MMIOTRACE_IRQ, .bar = -1, .dev = d, .vcpu = MMIOTRACE_VCPU_NONE,
        .irq.kind = kind, .irq.vector = vector, .irq.addr = addr, .irq.data = data,
    };
    push(d->file, &ev, true);    /* after the access that raised it */
}
