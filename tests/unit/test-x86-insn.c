/*
 * Tests of hw/mmiotrace/x86-insn.c: the guest page walk and the recovery of the
 * instruction that made a write KVM completed before its exit. Instruction bytes are
 * the encodings the Intel SDM gives for each form (checked against objdump by hand).
 */
#include <glib.h>
#include <string.h>

#include "../../hw/mmiotrace/x86-insn.h"

/* ---- a fake guest: 64 KiB of physical memory ---- */
#define MEM_SIZE 0x10000
static uint8_t mem[MEM_SIZE];

static bool read_mem(void *opaque, uint64_t pa, void *buf, size_t len)
{
    if (pa >= MEM_SIZE || len > MEM_SIZE - pa) {
        return false;
    }
    memcpy(buf, mem + pa, len);
    return true;
}

static void put64(uint64_t pa, uint64_t v)
{
    memcpy(mem + pa, &v, 8);
}

static void put32(uint64_t pa, uint32_t v)
{
    memcpy(mem + pa, &v, 4);
}

static MmioTraceX86State state32(void)
{
    MmioTraceX86State s = {0};
    s.cr0 = 1; /* protected mode, no paging */
    s.cs_db = true;
    return s;
}

static MmioTraceX86State state64(void)
{
    MmioTraceX86State s = {0};
    s.cr0 = 0x80000001;
    s.cr4 = 1 << 5;
    s.efer = 1 << 10 | 1 << 8;
    s.cs_l = true;
    return s;
}

static void test_modes(void)
{
    MmioTraceX86State s = state32();
    g_assert_cmpint(mmiotrace_x86_code_bits(&s), ==, 32);
    s.seg_base[X86_CS] = 0x10000;
    g_assert_cmphex(mmiotrace_x86_code_linear(&s, 0x123), ==, 0x10123);
    s.cs_db = false;
    g_assert_cmpint(mmiotrace_x86_code_bits(&s), ==, 16);
    s.cr0 = 0; /* real mode */
    s.cs_db = true;
    g_assert_cmpint(mmiotrace_x86_code_bits(&s), ==, 16);
    s = state64();
    s.seg_base[X86_CS] = 0x10000; /* ignored in 64-bit mode */
    g_assert_cmpint(mmiotrace_x86_code_bits(&s), ==, 64);
    g_assert_cmphex(mmiotrace_x86_code_linear(&s, 0xffffffff81000000ull), ==,
                    0xffffffff81000000ull);
}

static void test_walk_4level(void)
{
    MmioTraceX86State s = state64();
    uint64_t la = 0xffffffff81234567ull, pa;

    memset(mem, 0, sizeof(mem));
    s.cr3 = 0x1000;
    put64(0x1000 + ((la >> 39) & 0x1ff) * 8, 0x2000 | 3);
    put64(0x2000 + ((la >> 30) & 0x1ff) * 8, 0x3000 | 3);
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x4000 | 3);
    put64(0x4000 + ((la >> 12) & 0x1ff) * 8, 0x5000 | 3);
    g_assert_true(mmiotrace_x86_translate(&s, la, &pa, read_mem, NULL));
    g_assert_cmphex(pa, ==, 0x5567);

    /* a 2 MiB page at the PD level */
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x40000000ull | 0x83);
    g_assert_true(mmiotrace_x86_translate(&s, la, &pa, read_mem, NULL));
    g_assert_cmphex(pa, ==, 0x40000000ull | (la & 0x1fffff));

    /* not present */
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0);
    g_assert_false(mmiotrace_x86_translate(&s, la, &pa, read_mem, NULL));
}

static void test_walk_32(void)
{
    MmioTraceX86State s = state32();
    uint64_t pa;

    /* no paging: linear = physical */
    g_assert_true(mmiotrace_x86_translate(&s, 0xfeb54044, &pa, read_mem, NULL));
    g_assert_cmphex(pa, ==, 0xfeb54044);

    /* 32-bit paging, 4 KiB and 4 MiB pages */
    memset(mem, 0, sizeof(mem));
    s.cr0 |= 0x80000000u;
    s.cr3 = 0x1000;
    put32(0x1000 + (0xc0401234u >> 22) * 4, 0x2000 | 3);
    put32(0x2000 + ((0xc0401234u >> 12) & 0x3ff) * 4, 0x7000 | 3);
    g_assert_true(mmiotrace_x86_translate(&s, 0xc0401234u, &pa, read_mem, NULL));
    g_assert_cmphex(pa, ==, 0x7234);
    s.cr4 |= 1 << 4; /* PSE */
    put32(0x1000 + (0xc0401234u >> 22) * 4, 0x00c00000u | 0x83);
    g_assert_true(mmiotrace_x86_translate(&s, 0xc0401234u, &pa, read_mem, NULL));
    g_assert_cmphex(pa, ==, 0x00c01234u);

    /* PAE */
    memset(mem, 0, sizeof(mem));
    s.cr4 = 1 << 5;
    s.cr3 = 0x1000;
    put64(0x1000 + 3 * 8, 0x2000 | 1);
    put64(0x2000 + ((0xc0401234u >> 21) & 0x1ff) * 8, 0x3000 | 3);
    put64(0x3000 + ((0xc0401234u >> 12) & 0x1ff) * 8, 0x9000 | 3);
    g_assert_true(mmiotrace_x86_translate(&s, 0xc0401234u, &pa, read_mem, NULL));
    g_assert_cmphex(pa, ==, 0x9234);
}

static void test_read_linear_stops_at_unmapped_page(void)
{
    MmioTraceX86State s = state64();
    uint8_t buf[16];
    uint64_t la = 0x400ff8;

    memset(mem, 0, sizeof(mem));
    s.cr3 = 0x1000;
    put64(0x1000, 0x2000 | 3);
    put64(0x2000, 0x3000 | 3);
    put64(0x3000 + ((la >> 21) & 0x1ff) * 8, 0x4000 | 3);
    put64(0x4000 + ((la >> 12) & 0x1ff) * 8, 0x5000 | 3); /* the next page is absent */
    memcpy(mem + 0x5ff8, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    g_assert_cmpuint(mmiotrace_x86_read_linear(&s, la, buf, 16, read_mem, NULL), ==, 8);
    g_assert_cmpmem(buf, 8, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
}

/*
 * back: the bytes before rip are prefix + insn (insn ends at rip); at: the bytes at rip.
 * Returns -1 when the function says the PC is unknown.
 */
static int write_back(const MmioTraceX86State *s, const char *before, size_t nbefore,
                      const char *at, size_t nat, uint64_t gpa, unsigned len)
{
    unsigned back = 99;

    if (!mmiotrace_x86_write_insn(s, (const uint8_t *)before, nbefore, (const uint8_t *)at, nat,
                                  gpa, len, &back)) {
        return -1;
    }
    return back;
}

/* 15 bytes before rip ending with the instruction, preceded by nops */
static const char *window(char *buf, const char *insn, size_t n)
{
    memset(buf, 0x90, 15);
    memcpy(buf + 15 - n, insn, n);
    return buf;
}

static void test_write_insn_32(void)
{
    MmioTraceX86State s = state32();
    char w[15];
    const char next[] = "\x90\x90\x90\x90";

    s.gpr[6] = 0xfeb54000; /* esi */
    s.rip = 0x1007ba + 7;
    /* mov dword ptr [esi+0x44], 0x44556677 */
    window(w, "\xc7\x46\x44\x77\x66\x55\x44", 7);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb54044, 4), ==, 7);
    /* the same bytes cannot explain a write elsewhere in the page */
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb54080, 4), ==, -1);
    /* mov byte ptr [esi+0x40], 0x11 */
    window(w, "\xc6\x46\x40\x11", 4);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb54040, 1), ==, 4);
    /* movq [esi+0x48], mm0 */
    window(w, "\x0f\x7f\x46\x48", 4);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb54048, 8), ==, 4);
    /* movdqu [esi+0x50], xmm0: the second 8-byte exit is inside the operand too */
    window(w, "\xf3\x0f\x7f\x46\x50", 5);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb54058, 8), ==, 5);
    /* cmpxchg8b [esi+0x60] */
    window(w, "\x0f\xc7\x4e\x60", 4);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb54060, 8), ==, 4);
    /* mov dword ptr [edi+0xffe], imm: the fragment on the next page (gpa 0x...1000) */
    s.gpr[7] = 0xfeb40000; /* edi */
    window(w, "\xc7\x87\xfe\x0f\x00\x00\x0d\xf0\xfe\xca", 10);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb41000, 2), ==, 10);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb40ffe, 2), ==, 10);
    /* no instruction that writes memory ends at rip */
    window(w, "\x8b\x46\x44", 3); /* a read: mov eax, [esi+0x44] */
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfeb54044, 4), ==, -1);
}

static void test_write_insn_string(void)
{
    MmioTraceX86State s = state32();
    char w[15];

    s.gpr[7] = 0xfeb54808; /* edi after the element at 0x804 */
    s.gpr[1] = 2;          /* ecx: two more to go */
    s.rip = 0x1008f1;
    /* in the middle of rep movsd: KVM restarts it at rip */
    window(w, "\x90\x90", 2);
    g_assert_cmpint(write_back(&s, w, 15, "\xf3\xa5\x90\x90", 4, 0xfeb54804, 4), ==, 0);
    /* the last element: rip has moved past the instruction */
    s.gpr[1] = 0;
    s.gpr[7] = 0xfeb54810;
    s.rip = 0x1008f3;
    window(w, "\xf3\xa5", 2);
    g_assert_cmpint(write_back(&s, w, 15, "\x5e\x56\x81\xc6", 4, 0xfeb5480c, 4), ==, 2);
    /* rep stosd, backwards (DF set) */
    s.rflags = 1 << 10;
    s.gpr[1] = 1;
    s.gpr[7] = 0xfeb5480c;
    g_assert_cmpint(write_back(&s, w, 15, "\xf3\xab\x90\x90", 4, 0xfeb54810, 4), ==, 0);
}

static void test_write_insn_64(void)
{
    MmioTraceX86State s = state64();
    char w[15];
    const char next[] = "\xc3\x90\x90\x90";

    /* mov dword ptr [rbx+0xc], eax (writel in a Linux driver) */
    s.gpr[3] = 0xffffc90000a01000ull;
    s.rip = 0xffffffffc0a0123bull;
    window(w, "\x89\x43\x0c", 3);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfebf000c, 4), ==, 3);
    /* mov qword ptr [r12+rax*8+0x100], rdx */
    s.gpr[12] = 0xffffc90000a02000ull;
    s.gpr[0] = 2;
    window(w, "\x49\x89\x94\xc4\x00\x01\x00\x00", 8);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0xfebf1110, 8), ==, 8);
    /* RIP-relative: mov dword ptr [rip+0x100], ecx (rip = the next instruction) */
    s.rip = 0xffffffffc0a02000ull;
    window(w, "\x89\x0d\x00\x01\x00\x00", 6);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0x7000100, 4), ==, 6);
    /* a GS-based write: mov dword ptr gs:[0x10], eax */
    s.seg_base[X86_GS] = 0xffff888000345000ull;
    window(w, "\x65\x89\x04\x25\x10\x00\x00\x00", 8);
    g_assert_cmpint(write_back(&s, w, 15, next, 4, 0x12345010, 4), ==, 8);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/x86/modes", test_modes);
    g_test_add_func("/x86/walk-4level", test_walk_4level);
    g_test_add_func("/x86/walk-32", test_walk_32);
    g_test_add_func("/x86/read-linear", test_read_linear_stops_at_unmapped_page);
    g_test_add_func("/x86/write-insn-32", test_write_insn_32);
    g_test_add_func("/x86/write-insn-string", test_write_insn_string);
    g_test_add_func("/x86/write-insn-64", test_write_insn_64);
    return g_test_run();
}
