/*
 * hvmmio: the PC and instruction of an access that reached QEMU through a KVM MMIO exit.
 *
 * QEMU's copy of the vCPU registers is stale during the exit, and refreshing it with
 * cpu_synchronize_state marks it dirty: QEMU then writes every register back before
 * the next KVM_RUN, over the value KVM completes a pending MMIO read with (the guest
 * reads the register's old contents). So the registers are read without touching
 * QEMU's copy: from kvm_run's sync registers where KVM offers them (no ioctl at all;
 * turned on at the first traced access that wants a PC), else with the read-only
 * KVM_GET_REGS and KVM_GET_SREGS. The instruction bytes are read from guest RAM with
 * the guest's own page tables (x86-insn.c), not through QEMU's stale CPU state.
 *
 * KVM exits for a read before the instruction completes (rip is the instruction) but
 * completes a write first (rip is past it, except in the middle of a rep movs/stos):
 * the writing instruction is found by decoding the bytes that end at rip
 * (mmiotrace_x86_write_insn). Where that cannot be told, the record says pc=unknown.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "system/kvm.h"
#include "system/memory.h"
#include "system/address-spaces.h"
#include "mmiotrace-int.h"

#if defined(TARGET_I386) && defined(__x86_64__) && defined(CONFIG_CAPSTONE)
#include <linux/kvm.h>
#include <capstone.h>
#include "x86-insn.h"

#define SYNC_WANTED (KVM_SYNC_X86_REGS | KVM_SYNC_X86_SREGS)

/* Decoded write instructions, by linear rip and the bytes around it (per vCPU thread). */
typedef struct WriteInsn {
    uint64_t rip;
    int bits;
    uint8_t bytes[31];
    bool known;
    uint8_t back;
} WriteInsn;

static __thread GHashTable *write_insns;
static int sync_regs_caps = -1;

static bool read_ram(void *opaque, uint64_t pa, void *buf, size_t len)
{
    MemoryRegion *mr;
    hwaddr xlat, l = len;

    RCU_READ_LOCK_GUARD();
    mr = address_space_translate(&address_space_memory, pa, &xlat, &l, false,
                                 MEMTXATTRS_UNSPECIFIED);
    /* never reach a device (a traced BAR would recurse into the tracer) */
    if (!memory_region_is_ram(mr) || l < len) {
        return false;
    }
    return address_space_read(&address_space_memory, pa, MEMTXATTRS_UNSPECIFIED,
                              buf, len) == MEMTX_OK;
}

static void from_segment(MmioTraceX86State *s, int i, const struct kvm_segment *seg)
{
    s->seg_base[i] = seg->base;
}

static bool guest_state(CPUState *cpu, MmioTraceX86State *s)
{
    struct kvm_run *run = cpu->kvm_run;
    struct kvm_regs regs_buf, *regs = &regs_buf;
    struct kvm_sregs sregs_buf, *sregs = &sregs_buf;

    if ((run->kvm_valid_regs & SYNC_WANTED) == SYNC_WANTED) {
        regs = &run->s.regs.regs;
        sregs = &run->s.regs.sregs;
    } else {
        if (kvm_vcpu_ioctl(cpu, KVM_GET_REGS, regs) < 0 ||
            kvm_vcpu_ioctl(cpu, KVM_GET_SREGS, sregs) < 0) {
            return false;
        }
        if (sync_regs_caps < 0) {
            sync_regs_caps = kvm_check_extension(kvm_state, KVM_CAP_SYNC_REGS);
        }
        if ((sync_regs_caps & SYNC_WANTED) == SYNC_WANTED) {
            /* from the next exit on, KVM stores them in kvm_run; QEMU never sets
             * kvm_dirty_regs on x86, so nothing is written back */
            run->kvm_valid_regs |= SYNC_WANTED;
        }
    }
    s->gpr[0] = regs->rax;
    s->gpr[1] = regs->rcx;
    s->gpr[2] = regs->rdx;
    s->gpr[3] = regs->rbx;
    s->gpr[4] = regs->rsp;
    s->gpr[5] = regs->rbp;
    s->gpr[6] = regs->rsi;
    s->gpr[7] = regs->rdi;
    s->gpr[8] = regs->r8;
    s->gpr[9] = regs->r9;
    s->gpr[10] = regs->r10;
    s->gpr[11] = regs->r11;
    s->gpr[12] = regs->r12;
    s->gpr[13] = regs->r13;
    s->gpr[14] = regs->r14;
    s->gpr[15] = regs->r15;
    s->rip = regs->rip;
    s->rflags = regs->rflags;
    s->cr0 = sregs->cr0;
    s->cr3 = sregs->cr3;
    s->cr4 = sregs->cr4;
    s->efer = sregs->efer;
    from_segment(s, X86_ES, &sregs->es);
    from_segment(s, X86_CS, &sregs->cs);
    from_segment(s, X86_SS, &sregs->ss);
    from_segment(s, X86_DS, &sregs->ds);
    from_segment(s, X86_FS, &sregs->fs);
    from_segment(s, X86_GS, &sregs->gs);
    s->cs_l = sregs->cs.l;
    s->cs_db = sregs->cs.db;
    return true;
}

static void write_insn_free(gpointer p)
{
    g_free(p);
}

/* How far before rip the instruction that made this write starts; false: unknown. */
static bool write_back(const MmioTraceX86State *s, int bits, uint64_t la, uint64_t gpa,
                       unsigned len, unsigned *back)
{
    uint8_t bytes[31] = { 0 };
    size_t nbefore = 15, nat;
    WriteInsn *w;

    /* the 15 bytes before rip; where they start on an unmapped page, those of rip's */
    if (mmiotrace_x86_read_linear(s, la - 15, bytes, 15, read_ram, NULL) < 15) {
        memset(bytes, 0, 15);
        nbefore = MIN(15, la & 0xfff);
        if (nbefore && mmiotrace_x86_read_linear(s, la - nbefore, bytes + 15 - nbefore,
                                                 nbefore, read_ram, NULL) < nbefore) {
            nbefore = 0;
        }
    }
    nat = mmiotrace_x86_read_linear(s, la, bytes + 15, 16, read_ram, NULL);

    if (!write_insns) {
        write_insns = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL,
                                            write_insn_free);
    }
    w = g_hash_table_lookup(write_insns, &la);
    if (w && w->bits == bits && !memcmp(w->bytes, bytes, sizeof(bytes))) {
        *back = w->back;
        return w->known;
    }
    w = g_new0(WriteInsn, 1);
    w->rip = la;
    w->bits = bits;
    memcpy(w->bytes, bytes, sizeof(bytes));
    w->known = mmiotrace_x86_write_insn(s, bytes + 15 - nbefore, nbefore, bytes + 15, nat,
                                        gpa, len, back);
    w->back = w->known ? *back : 0;
    if (g_hash_table_size(write_insns) >= 65536) {
        g_hash_table_remove_all(write_insns);
    }
    g_hash_table_replace(write_insns, &w->rip, w);
    return w->known;
}

bool mmiotrace_kvm_access_pc(CPUState *cpu, bool is_write, uint64_t gpa, unsigned len,
                             MmioTraceEvent *ev, uint8_t *insn, bool want_insn)
{
    MmioTraceX86State s;
    unsigned back = 0;
    int bits;
    uint64_t la;

    if (!guest_state(cpu, &s)) {
        return false;
    }
    bits = mmiotrace_x86_code_bits(&s);
    la = mmiotrace_x86_code_linear(&s, s.rip);
    if (is_write && !write_back(&s, bits, la, gpa, len, &back)) {
        return false;
    }
    /* the PC as QEMU's get_pc reports it: the linear address */
    ev->rw.pc = la - back;
    if (want_insn) {
        size_t n = mmiotrace_x86_read_linear(&s, ev->rw.pc, insn, MMIOTRACE_INSN_MAX,
                                             read_ram, NULL);
        if (n) {
            ev->rw.insn_len = n;
            ev->rw.asm_mode = bits == 64 ? CS_MODE_64
                            : bits == 32 ? CS_MODE_32 : CS_MODE_16;
        }
    }
    return true;
}

#else

bool mmiotrace_kvm_access_pc(CPUState *cpu, bool is_write, uint64_t gpa, unsigned len,
                             MmioTraceEvent *ev, uint8_t *insn, bool want_insn)
{
    return false;
}

#endif
