/*
 * hvmmio: the guest PC and instruction behind a TCG access, cached by host code address.
 *
 * Mid-block the vCPU state is stale: the PC is found by unwinding from the host return
 * address of the MMIO helper (a search of the translation blocks and a decode of the
 * block's instruction table), and the instruction is copied from guest memory with a
 * debug page walk. Both depend only on the translated code at that host address: the
 * instruction's place (its page offset where code is position-independent, CF_PCREL)
 * and the guest bytes it was translated from, which cannot change while the block
 * runs (a write to them invalidates the block; its retranslation gets new host code).
 * Host code is reused only after a flush of all translations, so an entry holds until
 * tb_flush_generation() changes. Each vCPU thread has a small direct-mapped cache.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "exec/target_page.h"
#include "exec/translation-block.h"
#include "system/tcg.h"
#include "tcg/insn-start-words.h"
#include "mmiotrace-int.h"
#ifdef CONFIG_TCG
#include "exec/tb-flush.h"

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

static __thread PcCacheEntry pc_cache[1 << PC_CACHE_BITS];
static uint64_t pc_page_mask;

/*
 * A miss: unwind (out of line, so that the hit's path has no frame to set up; QEMU
 * clears locals such as data on every call, -ftrivial-auto-var-init=zero).
 */
static __attribute__((noinline)) PcCacheEntry *pc_cache_fill(CPUState *cpu,
                                                              PcCacheEntry *e,
                                                              uintptr_t host_pc,
                                                              unsigned gen)
{
    uint64_t data[INSN_START_WORDS];

    if (!cpu_unwind_state_data(cpu, host_pc, data)) {
        return NULL;
    }
    pc_page_mask = qemu_target_page_mask();
    e->host_pc = host_pc;
    e->gen = gen;
    e->pcrel = tcg_cflags_has(cpu, CF_PCREL);
    e->pc = data[0];
    e->insn_len = 0;
    return e;
}

static inline PcCacheEntry *pc_cache_entry(CPUState *cpu, uintptr_t host_pc)
{
    unsigned gen = tb_flush_generation();
    PcCacheEntry *e = &pc_cache[(host_pc >> 2) & ((1 << PC_CACHE_BITS) - 1)];

    if (likely(e->host_pc == host_pc && e->gen == gen)) {
        return e;
    }
    return pc_cache_fill(cpu, e, host_pc, gen);
}

bool mmiotrace_tcg_access_pc(CPUState *cpu, MmioTraceEvent *ev, uint8_t *insn,
                             bool want_insn)
{
    PcCacheEntry *e;

    if (!tcg_enabled() || !cpu->mem_io_pc) {
        return false;
    }
    e = pc_cache_entry(cpu, cpu->mem_io_pc);
    if (!e) {
        return false;
    }
    ev->rw.pc = e->pcrel ? (cpu->cc->get_pc(cpu) & pc_page_mask) | e->pc : e->pc;
    if (!want_insn) {
        return true;
    }
    if (!e->insn_len) {
        ev->rw.insn_len = 0;
        mmiotrace_insn_capture(cpu, ev, e->insn);
        e->insn_len = ev->rw.insn_len;
        e->asm_mode = ev->rw.asm_mode;
    }
    memcpy(insn, e->insn, e->insn_len);
    ev->rw.insn_len = e->insn_len;
    ev->rw.asm_mode = e->asm_mode;
    return true;
}

#else

bool mmiotrace_tcg_access_pc(CPUState *cpu, MmioTraceEvent *ev, uint8_t *insn,
                             bool want_insn)
{
    return false;
}

#endif
