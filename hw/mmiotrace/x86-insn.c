/*
 * hvmmio: x86 page walk and write-instruction recovery for KVM exits (x86-insn.h).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <string.h>
#include <capstone.h>
#include "x86-insn.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PSE (1ull << 4)
#define CR4_PAE (1ull << 5)
#define CR4_LA57 (1ull << 12)
#define EFER_LMA (1ull << 10)
#define PTE_P (1ull << 0)
#define PTE_PS (1ull << 7)
#define PTE_ADDR 0x000ffffffffff000ull
#define RFLAGS_DF (1ull << 10)
#define PAGE_MASK_4K 0xfffull

int mmiotrace_x86_code_bits(const MmioTraceX86State *s)
{
    if ((s->efer & EFER_LMA) && s->cs_l) {
        return 64;
    }
    if (!(s->cr0 & CR0_PE)) {
        return 16;
    }
    return s->cs_db ? 32 : 16;
}

uint64_t mmiotrace_x86_code_linear(const MmioTraceX86State *s, uint64_t rip)
{
    if (mmiotrace_x86_code_bits(s) == 64) {
        return rip;
    }
    return (s->seg_base[X86_CS] + rip) & 0xffffffffull;
}

static bool read_entry(MmioTraceReadPhys read, void *opaque, uint64_t pa, unsigned size,
                       uint64_t *e)
{
    uint64_t v = 0;

    if (!read(opaque, pa, &v, size)) {
        return false;
    }
    *e = v; /* x86 is little-endian, and so is every host hvmmio builds for */
    return (v & PTE_P) != 0;
}

bool mmiotrace_x86_translate(const MmioTraceX86State *s, uint64_t la, uint64_t *pa,
                             MmioTraceReadPhys read, void *opaque)
{
    uint64_t e;

    if (!(s->cr0 & CR0_PG)) {
        *pa = (s->efer & EFER_LMA) ? la : la & 0xffffffffull;
        return true;
    }
    if (s->efer & EFER_LMA) {
        /* 4- or 5-level paging: 9 bits a level from bit 39 (48 with LA57) down */
        int levels = (s->cr4 & CR4_LA57) ? 5 : 4;
        uint64_t table = s->cr3 & PTE_ADDR;

        for (int level = levels; level >= 1; level--) {
            int shift = 12 + 9 * (level - 1);
            if (!read_entry(read, opaque, table + ((la >> shift) & 0x1ff) * 8, 8, &e)) {
                return false;
            }
            if (level == 1 || ((level == 2 || level == 3) && (e & PTE_PS))) {
                uint64_t mask = (1ull << shift) - 1;
                *pa = ((e & PTE_ADDR) & ~mask) | (la & mask);
                return true;
            }
            table = e & PTE_ADDR;
        }
        return false;
    }
    la &= 0xffffffffull;
    if (s->cr4 & CR4_PAE) {
        uint64_t pdpt = (s->cr3 & 0xffffffe0ull) + ((la >> 30) & 3) * 8;
        if (!read_entry(read, opaque, pdpt, 8, &e) ||
            !read_entry(read, opaque, (e & PTE_ADDR) + ((la >> 21) & 0x1ff) * 8, 8, &e)) {
            return false;
        }
        if (e & PTE_PS) {
            *pa = (e & PTE_ADDR & ~0x1fffffull) | (la & 0x1fffff);
            return true;
        }
        if (!read_entry(read, opaque, (e & PTE_ADDR) + ((la >> 12) & 0x1ff) * 8, 8, &e)) {
            return false;
        }
        *pa = (e & PTE_ADDR) | (la & PAGE_MASK_4K);
        return true;
    }
    /* 32-bit paging: 4-byte entries, 4 MiB pages with CR4.PSE */
    if (!read_entry(read, opaque, (s->cr3 & 0xfffff000ull) + (la >> 22) * 4, 4, &e)) {
        return false;
    }
    if ((e & PTE_PS) && (s->cr4 & CR4_PSE)) {
        *pa = (e & 0xffc00000ull) | ((e & 0x1fe000ull) << 19) | (la & 0x3fffff);
        return true;
    }
    uint64_t pte = (e & 0xfffff000ull) + ((la >> 12) & 0x3ff) * 4;
    if (!read_entry(read, opaque, pte, 4, &e)) {
        return false;
    }
    *pa = (e & 0xfffff000ull) | (la & PAGE_MASK_4K);
    return true;
}

size_t mmiotrace_x86_read_linear(const MmioTraceX86State *s, uint64_t la, uint8_t *buf,
                                 size_t len, MmioTraceReadPhys read, void *opaque)
{
    size_t done = 0;

    while (done < len) {
        uint64_t pa;
        size_t n = 0x1000 - ((la + done) & PAGE_MASK_4K);
        if (n > len - done) {
            n = len - done;
        }
        if (!mmiotrace_x86_translate(s, la + done, &pa, read, opaque) ||
            !read(opaque, pa, buf + done, n)) {
            break;
        }
        done += n;
    }
    return done;
}

/* ---- Which instruction made a write ---- */

/* A capstone register as (gpr index, width in bytes); -1 for RIP, -2 for none/other. */
static int reg_index(unsigned reg, unsigned *bytes)
{
    static const struct {
        unsigned r64, r32, r16;
    } map[16] = {
        { X86_REG_RAX, X86_REG_EAX, X86_REG_AX },
        { X86_REG_RCX, X86_REG_ECX, X86_REG_CX },
        { X86_REG_RDX, X86_REG_EDX, X86_REG_DX },
        { X86_REG_RBX, X86_REG_EBX, X86_REG_BX },
        { X86_REG_RSP, X86_REG_ESP, X86_REG_SP },
        { X86_REG_RBP, X86_REG_EBP, X86_REG_BP },
        { X86_REG_RSI, X86_REG_ESI, X86_REG_SI },
        { X86_REG_RDI, X86_REG_EDI, X86_REG_DI },
        { X86_REG_R8, X86_REG_R8D, X86_REG_R8W },
        { X86_REG_R9, X86_REG_R9D, X86_REG_R9W },
        { X86_REG_R10, X86_REG_R10D, X86_REG_R10W },
        { X86_REG_R11, X86_REG_R11D, X86_REG_R11W },
        { X86_REG_R12, X86_REG_R12D, X86_REG_R12W },
        { X86_REG_R13, X86_REG_R13D, X86_REG_R13W },
        { X86_REG_R14, X86_REG_R14D, X86_REG_R14W },
        { X86_REG_R15, X86_REG_R15D, X86_REG_R15W },
    };

    if (reg == X86_REG_RIP || reg == X86_REG_EIP) {
        *bytes = reg == X86_REG_RIP ? 8 : 4;
        return -1;
    }
    for (int i = 0; i < 16; i++) {
        if (reg == map[i].r64) {
            *bytes = 8;
            return i;
        } else if (reg == map[i].r32) {
            *bytes = 4;
            return i;
        } else if (reg == map[i].r16) {
            *bytes = 2;
            return i;
        }
    }
    *bytes = 0;
    return -2;
}

static bool reg_value(const MmioTraceX86State *s, unsigned reg, uint64_t next_ip,
                      uint64_t *v)
{
    unsigned bytes;
    int i;

    if (reg == X86_REG_INVALID) {
        *v = 0;
        return true;
    }
    i = reg_index(reg, &bytes);
    if (i == -2) {
        return false;
    }
    *v = i == -1 ? next_ip : s->gpr[i];
    if (bytes < 8) {
        *v &= (1ull << (bytes * 8)) - 1;
    }
    return true;
}

static bool is_stack_reg(unsigned reg)
{
    return reg == X86_REG_RSP || reg == X86_REG_ESP || reg == X86_REG_SP ||
           reg == X86_REG_RBP || reg == X86_REG_EBP || reg == X86_REG_BP;
}

static uint64_t seg_base(const MmioTraceX86State *s, unsigned seg, unsigned base,
                         int bits)
{
    static const struct {
        unsigned reg;
        int index;
    } segs[] = {
        { X86_REG_ES, X86_ES }, { X86_REG_CS, X86_CS }, { X86_REG_SS, X86_SS },
        { X86_REG_DS, X86_DS }, { X86_REG_FS, X86_FS }, { X86_REG_GS, X86_GS },
    };
    int i = is_stack_reg(base) ? X86_SS : X86_DS;

    for (size_t k = 0; k < sizeof(segs) / sizeof(segs[0]); k++) {
        if (seg == segs[k].reg) {
            i = segs[k].index;
        }
    }
    if (bits == 64 && i != X86_FS && i != X86_GS) {
        return 0;
    }
    return s->seg_base[i];
}

static bool is_string_store(unsigned id)
{
    switch (id) {
    case X86_INS_MOVSB: case X86_INS_MOVSW: case X86_INS_MOVSD: case X86_INS_MOVSQ:
    case X86_INS_STOSB: case X86_INS_STOSW: case X86_INS_STOSD: case X86_INS_STOSQ:
        return true;
    default:
        return false;
    }
}

/*
 * Does insn (which ended at next_ip, or is being restarted at it) explain a write of
 * len bytes at gpa? Its written memory operand must cover gpa's offset in the page:
 * the linear and the physical address share their low 12 bits.
 */
static bool insn_explains(const MmioTraceX86State *s, const cs_insn *insn, int bits,
                          uint64_t next_ip, uint64_t gpa, unsigned len)
{
    const cs_x86 *x = &insn->detail->x86;
    bool string = is_string_store(insn->id);

    for (int i = 0; i < x->op_count; i++) {
        const cs_x86_op *op = &x->operands[i];
        uint64_t base, index, ea;

        if (op->type != X86_OP_MEM || op->size < len) {
            continue;
        }
        /*
         * the destination is the first operand; capstone 4's access flags are not
         * reliable for it (an MMX movq or cmpxchg8b store is marked as a read)
         */
        if (!(op->access & CS_AC_WRITE) && i != 0) {
            continue;
        }
        if (!reg_value(s, op->mem.base, next_ip, &base) ||
            !reg_value(s, op->mem.index, next_ip, &index)) {
            continue;
        }
        ea = base + index * (uint64_t)op->mem.scale + (uint64_t)op->mem.disp;
        if (string) {
            /* rdi has already moved past the element written */
            ea += (s->rflags & RFLAGS_DF) ? op->size : -(uint64_t)op->size;
        }
        ea += seg_base(s, op->mem.segment, op->mem.base, bits);
        if (((gpa - ea) & PAGE_MASK_4K) + len > op->size) {
            continue;
        }
        /*
         * the whole operand, or a piece of it: KVM exits for at most 8 bytes at a time,
         * and separately for each page an operand touches
         */
        if (len == op->size || op->size > 8 || (ea & PAGE_MASK_4K) + op->size > 0x1000) {
            return true;
        }
    }
    return false;
}

static bool rep_in_progress(const MmioTraceX86State *s, const cs_insn *insn, int bits)
{
    const cs_x86 *x = &insn->detail->x86;
    uint64_t rcx = s->gpr[1];
    int abits = x->addr_size ? x->addr_size * 8 : bits;

    if (!is_string_store(insn->id) ||
        (x->prefix[0] != X86_PREFIX_REP && x->prefix[0] != X86_PREFIX_REPNE)) {
        return false;
    }
    if (abits < 64) {
        rcx &= (1ull << abits) - 1;
    }
    return rcx != 0;
}

static bool only_prefixes(const uint8_t *p, unsigned n, int bits)
{
    for (unsigned i = 0; i < n; i++) {
        switch (p[i]) {
        case 0xf0: case 0xf2: case 0xf3: case 0x2e: case 0x36: case 0x3e: case 0x26:
        case 0x64: case 0x65: case 0x66: case 0x67:
            break;
        default:
            if (bits != 64 || (p[i] & 0xf0) != 0x40) {
                return false;
            }
        }
    }
    return true;
}

bool mmiotrace_x86_write_insn(const MmioTraceX86State *s, const uint8_t *before,
                              size_t nbefore, const uint8_t *at, size_t nat,
                              uint64_t gpa, unsigned len, unsigned *back)
{
    int bits = mmiotrace_x86_code_bits(s);
    cs_mode mode = bits == 64 ? CS_MODE_64 : bits == 32 ? CS_MODE_32 : CS_MODE_16;
    uint8_t window[15 + 16];
    unsigned found = 0, nfound = 0;
    cs_insn *insn;
    csh h;

    if (nbefore > 15 || nat > 16 || cs_open(CS_ARCH_X86, mode, &h) != CS_ERR_OK) {
        return false;
    }
    cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
    memcpy(window, before, nbefore);
    memcpy(window + nbefore, at, nat);

    /* the middle of a rep movs/stos: restarted at rip, which is still the instruction */
    if (nat && cs_disasm(h, at, nat, s->rip, 1, &insn) == 1) {
        bool restart = rep_in_progress(s, insn, bits) &&
                       insn_explains(s, insn, bits, s->rip, gpa, len);
        cs_free(insn, 1);
        if (restart) {
            cs_close(&h);
            *back = 0;
            return true;
        }
    }
    /* else the instruction that ends exactly at rip */
    for (unsigned n = 1; n <= nbefore; n++) {
        if (cs_disasm(h, window + nbefore - n, n, s->rip - n, 1, &insn) != 1) {
            continue;
        }
        if (insn->size == n && insn_explains(s, insn, bits, s->rip, gpa, len)) {
            /*
             * a longer candidate that is a shorter one with prefixes in front (rep,
             * operand size, segment, REX) is the same instruction read from its real
             * start: keep the longest
             */
            if (nfound && only_prefixes(window + nbefore - n, n - found, bits)) {
                nfound = 0;
            }
            found = n;
            nfound++;
        }
        cs_free(insn, 1);
    }
    cs_close(&h);
    if (nfound != 1) {
        return false;
    }
    *back = found;
    return true;
}
