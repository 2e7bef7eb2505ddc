/*
 * hvmmio: the per-access hook. memory_region_dispatch_read/write divert accesses to
 * traced regions here; we re-enter dispatch for the real access and queue one record.
 *
 * An access made while another traced access is being dispatched (a device touching a
 * traced BAR from its own handler) is QEMU's, not the guest's: it is marked vcpu=none.
 * Under KVM one guest access may reach us in pieces (QEMU splits it to the device's
 * valid access size); mmiotrace_kvm_mmio_begin/end join them into one record.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "hw/core/cpu.h"
#include "exec/cpu-common.h"
#include "exec/target_page.h"
#include "exec/translation-block.h"
#include "system/memory.h"
#include "hw/pci/pci_device.h"
#include "system/tcg.h"
#include "system/kvm.h"
#include "system/hw_accel.h"
#include "tcg/insn-start-words.h"
#include "mmiotrace-int.h"
#include "trace.h"

__thread MemoryRegion *mmiotrace_dispatching;

/* A KVM MMIO exit in progress on this vCPU thread. */
static __thread struct {
    bool active;
    bool is_write;
    unsigned len;
    uint64_t gpa;
    unsigned pieces;
    MmioTraceRegion *region;
    hwaddr addr;
} kvm_access;

static bool guest_pc(CPUState *cpu, uint64_t *pc)
{
#ifdef CONFIG_TCG
    if (tcg_enabled()) {
        uint64_t data[INSN_START_WORDS];

        /* mid-TB the CPU state is stale: unwind from the host return address */
        if (!cpu->mem_io_pc || !cpu_unwind_state_data(cpu, cpu->mem_io_pc, data)) {
            return false;
        }
        if (tcg_cflags_has(cpu, CF_PCREL)) {
            *pc = (cpu->cc->get_pc(cpu) & qemu_target_page_mask()) | data[0];
        } else {
            *pc = data[0];
        }
        return true;
    }
#endif
    if (kvm_enabled()) {
        cpu_synchronize_state(cpu);
        *pc = cpu->cc->get_pc(cpu);
        return true;
    }
    return false;
}

static void record(MmioTraceRegion *r, hwaddr addr, unsigned size, uint64_t val,
                   bool is_write, bool nested)
{
    MmioTraceDevice *d = r->dev;
    uint64_t off = r->base + addr;
    CPUState *cpu = nested ? NULL : current_cpu;

    if (!d->active ||
        (d->ranges->len && !mmiotrace_device_in_ranges(d, r->bar, off, size))) {
        return;
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
    if (!d->want_pc || !cpu) {
        /* the hot path: the record is written straight into its ring slot */
        uint64_t ts = mmiotrace_file_now(d->file);
        MmioTraceEvent *ev = mmiotrace_file_reserve(d->file, ts);
        if (ev) {
            ev->type = is_write ? MMIOTRACE_WRITE : MMIOTRACE_READ;
            ev->width = size;
            ev->bar = r->bar;
            ev->insn_len = 0;
            ev->vcpu = vcpu;
            ev->map_id = d->map_id[r->bar];
            ev->ts = ts;
            ev->phys = gpa;
            ev->value = val;
            ev->pc = 0;
            ev->off = off;
            ev->dev = d;
            mmiotrace_file_commit(d->file, ev);
        }
        return;
    }
    MmioTraceEvent ev = {
        .type = is_write ? MMIOTRACE_WRITE : MMIOTRACE_READ,
        .width = size,
        .bar = r->bar,
        .vcpu = vcpu,
        .map_id = d->map_id[r->bar],
        .phys = gpa,
        .value = val,
        .off = off,
        .dev = d,
    };
    uint8_t insn[MMIOTRACE_INSN_MAX];
    if (guest_pc(cpu, &ev.pc) && d->want_insn) {
        mmiotrace_insn_capture(cpu, &ev, insn);
    }
    ev.ts = mmiotrace_file_now(d->file);
    mmiotrace_file_push_insn(d->file, &ev, insn);
}

/* Under KVM, pieces of one exit are collected; the end hook writes the record. */
static bool kvm_piece(MmioTraceRegion *r, hwaddr addr, bool nested)
{
    if (!kvm_access.active || nested) {
        return false;
    }
    if (!kvm_access.pieces++) {
        kvm_access.region = r;
        kvm_access.addr = addr;
    }
    return true;
}

MemTxResult mmiotrace_dispatch_read(MemoryRegion *mr, hwaddr addr,
                                    uint64_t *pval, MemOp op, MemTxAttrs attrs)
{
    MemoryRegion *outer = mmiotrace_dispatching;
    MmioTraceRegion *r = mr->mmiotrace;
    MemTxResult res;

    mmiotrace_dispatching = mr;
    res = memory_region_dispatch_read(mr, addr, pval, op, attrs);
    mmiotrace_dispatching = outer;
    if (!kvm_piece(r, addr, outer)) {
        uint64_t v = *pval;
        if (op & MO_BSWAP) {
            /* the value as the (little-endian) guest saw it in its register */
            v = bswap64(v) >> (64 - memop_size(op) * 8);
        }
        record(r, addr, memop_size(op), v, false, outer);
    }
    return res;
}

MemTxResult mmiotrace_dispatch_write(MemoryRegion *mr, hwaddr addr,
                                     uint64_t data, MemOp op, MemTxAttrs attrs)
{
    MemoryRegion *outer = mmiotrace_dispatching;
    MmioTraceRegion *r = mr->mmiotrace;
    MemTxResult res;

    if (!kvm_piece(r, addr, outer)) {
        uint64_t v = data;
        if (op & MO_BSWAP) {
            v = bswap64(v) >> (64 - memop_size(op) * 8);
        }
        record(r, addr, memop_size(op), v, true, outer);
    }
    mmiotrace_dispatching = mr;
    res = memory_region_dispatch_write(mr, addr, data, op, attrs);
    mmiotrace_dispatching = outer;
    return res;
}

void mmiotrace_kvm_mmio_begin(uint64_t gpa, unsigned len, bool is_write)
{
    kvm_access.active = true;
    kvm_access.gpa = gpa;
    kvm_access.len = len;
    kvm_access.is_write = is_write;
    kvm_access.pieces = 0;
}

void mmiotrace_kvm_mmio_end(const uint8_t *data)
{
    kvm_access.active = false;
    if (kvm_access.pieces && kvm_access.len >= 1 && kvm_access.len <= 8) {
        record(kvm_access.region, kvm_access.addr, kvm_access.len,
               ldn_le_p(data, kvm_access.len), kvm_access.is_write, false);
    }
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
        .payload = g_strdup(text), .ts = mmiotrace_file_now(d->file),
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
        .width = kind, .off = vector, .phys = addr, .value = data,
        .ts = mmiotrace_file_now(d->file),
    };
    mmiotrace_file_push(d->file, &ev);
}
