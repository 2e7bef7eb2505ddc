/*
 * hvmmio: the instruction behind an access. The vCPU thread copies its bytes out of
 * guest memory; the writer thread disassembles them with capstone, once per PC and
 * byte sequence (a driver's accessors run the same few instructions millions of times).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "hw/core/cpu.h"
#include "exec/target_page.h"
#include "disas/dis-asm.h"
#include "mmiotrace-int.h"

#ifdef CONFIG_CAPSTONE
#include <capstone.h>
#endif

#define INSN_CACHE_MAX 65536

void mmiotrace_insn_capture(CPUState *cpu, MmioTraceEvent *ev, uint8_t *bytes)
{
    uint64_t page = qemu_target_page_size();    /* the guest's pages */
    unsigned len = MMIOTRACE_INSN_MAX;
    disassemble_info info = { 0 };

    /* an instruction may cross into the next page; the guest may not map it */
    if (cpu_memory_rw_debug(cpu, ev->rw.pc, bytes, len, false) < 0) {
        len = MIN(len, page - (ev->rw.pc & (page - 1)));
        if (cpu_memory_rw_debug(cpu, ev->rw.pc, bytes, len, false) < 0) {
            return;
        }
    }
    ev->rw.insn_len = len;
    if (cpu->cc->disas_set_info) {
        cpu->cc->disas_set_info(cpu, &info);
        ev->rw.asm_mode = info.cap_mode;
    }
}

typedef struct InsnText {
    uint8_t bytes[MMIOTRACE_INSN_MAX];
    uint8_t len;            /* of the decoded instruction */
    uint32_t mode;
    char *text;
    size_t text_len;
} InsnText;

typedef struct InsnCache {
    GHashTable *by_pc;      /* guest PC -> InsnText */
    InsnText *last;         /* the last one found (a loop's accesses come from one PC) */
    uint64_t last_pc;
#ifdef CONFIG_CAPSTONE
    csh handle;
    bool open;
    uint32_t mode;
#endif
} InsnCache;

static void insn_text_free(gpointer p)
{
    InsnText *t = p;
    g_free(t->text);
    g_free(t);
}

static char *disassemble(InsnCache *c, MmioTraceEvent *ev, const uint8_t *bytes,
                         uint8_t *len)
{
#ifdef CONFIG_CAPSTONE
    cs_insn *insn;
    uint32_t mode = ev->rw.asm_mode ? ev->rw.asm_mode : CS_MODE_64;

    if (!c->open || c->mode != mode) {
        if (c->open) {
            cs_close(&c->handle);
            c->open = false;
        }
        if (cs_open(CS_ARCH_X86, mode, &c->handle) != CS_ERR_OK) {
            return NULL;
        }
        c->open = true;
        c->mode = mode;
    }
    if (cs_disasm(c->handle, bytes, ev->rw.insn_len, ev->rw.pc, 1, &insn) != 1) {
        return NULL;
    }
    char *s = g_strdup_printf("%s%s%s", insn->mnemonic, insn->op_str[0] ? " " : "",
                              insn->op_str);
    *len = insn->size;
    cs_free(insn, 1);
    return s;
#else
    return NULL;
#endif
}

const char *mmiotrace_insn_text(void **cache, MmioTraceEvent *ev, const uint8_t *bytes,
                                size_t *len)
{
    InsnCache *c = *cache;
    InsnText *t;

    if (!c) {
        c = *cache = g_new0(InsnCache, 1);
        c->by_pc = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                         insn_text_free);
    }
    t = c->last && c->last_pc == ev->rw.pc ? c->last
                                           : g_hash_table_lookup(c->by_pc, &ev->rw.pc);
    if (t && t->mode == ev->rw.asm_mode && t->len <= ev->rw.insn_len &&
        !memcmp(t->bytes, bytes, t->len)) {
        ev->rw.insn_len = t->len;
        c->last = t;
        c->last_pc = ev->rw.pc;
        *len = t->text_len;
        return t->text;
    }
    uint8_t ilen = 0;
    char *text = disassemble(c, ev, bytes, &ilen);
    if (!text) {
        return NULL;
    }
    c->last = NULL;     /* the entry it points to may be replaced or removed */
    if (g_hash_table_size(c->by_pc) >= INSN_CACHE_MAX) {
        g_hash_table_remove_all(c->by_pc);
    }
    t = g_new0(InsnText, 1);
    memcpy(t->bytes, bytes, ilen);
    t->len = ilen;
    t->mode = ev->rw.asm_mode;
    t->text = text;
    t->text_len = strlen(text);
    g_hash_table_replace(c->by_pc, g_memdup2(&ev->rw.pc, sizeof(ev->rw.pc)), t);
    /* record only the decoded instruction's bytes, not the whole 16-byte window */
    ev->rw.insn_len = ilen;
    *len = t->text_len;
    return text;
}

void mmiotrace_insn_cache_free(void *cache)
{
    InsnCache *c = cache;

    if (!c) {
        return;
    }
#ifdef CONFIG_CAPSTONE
    if (c->open) {
        cs_close(&c->handle);
    }
#endif
    g_hash_table_destroy(c->by_pc);
    g_free(c);
}
