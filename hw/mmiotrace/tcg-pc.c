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
#include "tcg/insn-start-words.h"
#include "tcg-pc.h"
#ifdef CONFIG_TCG
#include "exec/tb-flush.h"

__thread PcCacheEntry mmiotrace_pc_cache[1 << PC_CACHE_BITS];
uint64_t mmiotrace_pc_page_mask;

unsigned mmiotrace_pc_generation(void)
{
    return tb_flush_generation();
}

/* A miss: unwind from the host code address (QEMU clears data on every call). */
PcCacheEntry *mmiotrace_pc_cache_fill(CPUState *cpu, PcCacheEntry *e, uintptr_t host_pc,
                                      unsigned gen)
{
    uint64_t data[INSN_START_WORDS];

    if (!cpu_unwind_state_data(cpu, host_pc, data)) {
        return NULL;
    }
    mmiotrace_pc_page_mask = qemu_target_page_mask();
    e->host_pc = host_pc;
    e->gen = gen;
    e->pcrel = tcg_cflags_has(cpu, CF_PCREL);
    e->pc = data[0];
    e->insn_len = 0;
    return e;
}

/* The entry's instruction, copied from guest memory at its first use. */
void mmiotrace_pc_cache_insn(CPUState *cpu, PcCacheEntry *e, MmioTraceEvent *ev)
{
    ev->rw.insn_len = 0;
    mmiotrace_insn_capture(cpu, ev, e->insn);
    e->insn_len = ev->rw.insn_len;
    e->asm_mode = ev->rw.asm_mode;
}

#endif
