/*
 * hvmmio: the guest PC and instruction behind a TCG access, cached by host code address
 * (tcg-pc.c says how). The cache's hit is inline in the per-access hook (hook.c): a
 * call, its frame and the calls it made were most of the PC's cost; the misses are
 * functions of tcg-pc.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MMIOTRACE_TCG_PC_H
#define HW_MMIOTRACE_TCG_PC_H

#include "hw/core/cpu.h"
#include "mmiotrace-int.h"

#ifdef CONFIG_TCG
#include "system/tcg.h"

#define PC_CACHE_BITS 8

typedef struct PcCacheEntry {
    uintptr_t host_pc;          /* 0: empty */
    unsigned gen;               /* tb_flush_generation() when filled */
    bool pcrel;                 /* pc is an offset in the page (CF_PCREL) */
    uint64_t pc;                /* the PC, or its offset in the page */
    uint8_t insn_len;           /* bytes in insn, 0: not copied yet */
    uint8_t asm_mode;
    uint8_t insn[MMIOTRACE_INSN_MAX];
} PcCacheEntry;

/* Each vCPU thread's cache, direct-mapped */
extern __thread PcCacheEntry mmiotrace_pc_cache[1 << PC_CACHE_BITS];
extern uint64_t mmiotrace_pc_page_mask;     /* qemu_target_page_mask() */
unsigned mmiotrace_pc_generation(void);     /* tb_flush_generation() */
/* Misses: the entry for host_pc unwound and filled (NULL: unknown); its instruction. */
PcCacheEntry *mmiotrace_pc_cache_fill(CPUState *cpu, PcCacheEntry *e, uintptr_t host_pc,
                                      unsigned gen);
void mmiotrace_pc_cache_insn(CPUState *cpu, PcCacheEntry *e, MmioTraceEvent *ev);

/*
 * The PC (and with want_insn the instruction bytes, into insn) of the TCG access in
 * progress; false: unknown.
 */
static inline QEMU_ALWAYS_INLINE
bool mmiotrace_tcg_access_pc(CPUState *cpu, MmioTraceEvent *ev, uint8_t *insn,
                             bool want_insn)
{
    uintptr_t host_pc = cpu->mem_io_pc;
    unsigned gen;
    PcCacheEntry *e;

    if (!tcg_enabled() || !host_pc) {
        return false;
    }
    gen = mmiotrace_pc_generation();
    e = &mmiotrace_pc_cache[(host_pc >> 2) & ((1 << PC_CACHE_BITS) - 1)];
    if (unlikely(e->host_pc != host_pc || e->gen != gen)) {
        e = mmiotrace_pc_cache_fill(cpu, e, host_pc, gen);
        if (!e) {
            return false;
        }
    }
    ev->rw.pc = e->pcrel ? (cpu->cc->get_pc(cpu) & mmiotrace_pc_page_mask) | e->pc
                         : e->pc;
    if (!want_insn) {
        return true;
    }
    if (unlikely(!e->insn_len)) {
        mmiotrace_pc_cache_insn(cpu, e, ev);
    }
    memcpy(insn, e->insn, e->insn_len);
    ev->rw.insn_len = e->insn_len;
    ev->rw.asm_mode = e->asm_mode;
    return true;
}

#else

static inline bool mmiotrace_tcg_access_pc(CPUState *cpu, MmioTraceEvent *ev,
                                           uint8_t *insn, bool want_insn)
{
    return false;
}

#endif
#endif
