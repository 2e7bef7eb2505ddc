/*
 * hvmmio kvm-probe: a firmware-free guest (a 32-bit multiboot ELF, no libc) that drives
 * QEMU's edu, an e1000e and hvmmio's vfio-user test device with every access form
 * (access.S), checks every value it reads, prints them on the debug console (port
 * 0xe9) and leaves through isa-debug-exit (port 0xf4): QEMU exits 1 when every check
 * passed, 3 otherwise. See README.md beside this file.
 */
#include <stdint.h>

#define MB_MAGIC 0x1badb002u
#define MB_FLAGS 0x00000003u /* page-aligned modules, memory info */

__attribute__((section(".multiboot"), used, aligned(4))) static const uint32_t mb_header[3] = {
    MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)};

struct probe_ctx {
    uint32_t t, m, e, n, ram, loops, r;
};

#define NSLOTS 35
uint32_t probe_results[NSLOTS];
static uint8_t ram_buf[64] __attribute__((aligned(16)));
uint8_t stack[16384] __attribute__((aligned(16))); /* _start sets esp to its end */
void probe_accesses(struct probe_ctx *ctx);
void probe_main(const uint32_t *mbi);

/* The entry: a stack, then C. eax holds the multiboot magic, ebx the info. */
__asm__(".text\n"
        ".globl _start\n"
        "_start:\n"
        "  movl $stack + 16384, %esp\n"
        "  pushl %ebx\n"
        "  call probe_main\n"
        "1: hlt\n"
        "  jmp 1b\n");

static inline void outb(uint16_t port, uint8_t v)
{
    __asm__ volatile("outb %0, %1" ::"a"(v), "Nd"(port));
}
static inline void outl(uint16_t port, uint32_t v)
{
    __asm__ volatile("outl %0, %1" ::"a"(v), "Nd"(port));
}
static inline uint32_t inl(uint16_t port)
{
    uint32_t v;
    __asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
    return v;
}

/* isa-debug-exit: QEMU exits with (code << 1) | 1. The request may be served after the
 * vCPU has run on a little: stop here. */
static void __attribute__((noreturn)) debug_exit(uint8_t code)
{
    outb(0xf4, code);
    for (;;) {
        __asm__ volatile("cli; hlt");
    }
}

static void puts_(const char *s)
{
    while (*s) {
        outb(0xe9, (uint8_t)*s++);
    }
}

static void puthex(uint32_t v)
{
    char buf[11] = "0x";
    for (int i = 0; i < 8; i++) {
        buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xf];
    }
    buf[10] = 0;
    puts_(buf);
}

static void putdec(uint32_t v)
{
    char buf[12];
    int i = 11;
    buf[i] = 0;
    do {
        buf[--i] = '0' + v % 10;
        v /= 10;
    } while (v);
    puts_(buf + i);
}

static uint32_t cfg_read(int dev, int off)
{
    outl(0xcf8, 0x80000000u | dev << 11 | (off & 0xfc));
    return inl(0xcfc);
}

static void cfg_write(int dev, int off, uint32_t v)
{
    outl(0xcf8, 0x80000000u | dev << 11 | (off & 0xfc));
    outl(0xcfc, v);
}

/* BAR n of the device with this vendor:device on bus 0, with memory decoding on; 0 if absent. */
static uint32_t find_bar(uint32_t id, int bar)
{
    for (int dev = 0; dev < 32; dev++) {
        if (cfg_read(dev, 0) != id) {
            continue;
        }
        cfg_write(dev, 4, (cfg_read(dev, 4) & 0xffff) | 0x2);
        return cfg_read(dev, 0x10 + 4 * bar) & ~0xfu;
    }
    return 0;
}

static int failed;

static void check(const char *what, int slot, uint32_t want)
{
    uint32_t got = probe_results[slot];
    puts_(got == want ? "ok   " : "FAIL ");
    puts_(what);
    puts_(" ");
    puthex(got);
    if (got != want) {
        puts_(" want ");
        puthex(want);
        failed++;
    }
    puts_("\n");
}

static void check_testdev(void)
{
    check("r1", 0, 0x11);
    check("r2", 1, 0x2233);
    check("r4", 2, 0x44556677);
    check("r8.lo", 3, 0x44332211);
    check("r8.hi", 4, 0x88776655);
    check("r16.0", 5, 0x55667788);
    check("r16.1", 6, 0x11223344);
    check("r16.2", 7, 0xddeeff00);
    check("r16.3", 8, 0x99aabbcc);
    check("half_r8.lo", 9, 0x89abcdef);
    check("half_r8.hi", 10, 0x01234567);
    check("half_lo_r", 11, 0x89abcdef);
    check("half_hi_r", 12, 0x01234567);
    check("strad_r4", 13, 0xa1b2c3d4);
    check("strad_r8.lo", 14, 0xf0f0f0f0);
    check("strad_r8.hi", 15, 0x12345678);
    check("page_r", 16, 0xcafef00d);
    check("rmw_xchg.old", 17, 0x103);
    check("rmw_cx8.zf", 18, 1);
    check("rmw_r8.lo", 19, 0x22222222);
    check("rmw_r8.hi", 20, 0x11111111);
    check("movs_r.0", 21, 0x10203040);
    check("movs_r.3", 22, 0xd0e0f000);
    check("stos_r", 23, 0x5a5a5a5a);
}

static void check_edu_e1000e(void)
{
    check("edu_id", 24, 0x010000ed);
    check("edu_inv_r", 25, 0xedcba987);
    check("edu_r8.lo", 26, 0x12345000);
    check("edu_r8.hi", 27, 0);
    check("edu_r1", 28, 0xffffff00);
    check("e_rdbal_r", 29, 0x12345670);
    check("e_rdbah_r", 30, 0x9);
}

/* NAME=N on the multiboot command line (-append); dflt if absent */
static uint32_t cmdline_num(const uint32_t *mbi, const char *name, uint32_t dflt)
{
    const char *start, *p, *q;
    uint32_t n = 0;

    if (!mbi || !(mbi[0] & 4) || !mbi[4]) {
        return dflt;
    }
    start = (const char *)(uintptr_t)mbi[4];
    for (p = start; *p; p++) {
        for (q = name; *q && p[q - name] == *q; q++) {
        }
        if (*q || p[q - name] != '=' || (p != start && p[-1] != ' ')) {
            continue;
        }
        for (p += q - name + 1; *p >= '0' && *p <= '9'; p++) {
            n = n * 10 + (*p - '0');
        }
        return n ? n : 1;
    }
    return dflt;
}

static inline uint32_t rdtsc32(void)
{
    uint32_t lo, hi;
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    (void)hi;
    return lo;
}

/*
 * Paired measurement (bench=BLOCKS): every edu device on bus 0, in slot order, differing
 * only in how they are traced; blocks of `loops` reads of ID and writes of INVERT go to
 * each in turn, so that every configuration sees the same machine. One line per block
 * and device: "bench BLOCK SLOT read CYCLES write CYCLES".
 */
static void bench_paired(uint32_t blocks, uint32_t loops)
{
    uint32_t base[8];
    int slot[8], n = 0;

    for (int dev = 0; dev < 32 && n < 8; dev++) {
        if (cfg_read(dev, 0) == 0x11e81234) {
            cfg_write(dev, 4, (cfg_read(dev, 4) & 0xffff) | 0x2);
            base[n] = cfg_read(dev, 0x10) & ~0xfu;
            slot[n++] = dev;
        }
    }
    for (uint32_t b = 0; b < blocks; b++) {
        for (int i = 0; i < n; i++) {
            volatile uint32_t *r = (volatile uint32_t *)(uintptr_t)base[i];
            uint32_t t0 = rdtsc32(), t1, t2;
            for (uint32_t k = 0; k < loops; k++) {
                (void)r[0];
            }
            t1 = rdtsc32();
            for (uint32_t k = 0; k < loops; k++) {
                r[1] = k;
            }
            t2 = rdtsc32();
            puts_("bench ");
            putdec(b);
            puts_(" ");
            putdec(slot[i]);
            puts_(" read ");
            putdec(t1 - t0);
            puts_(" write ");
            putdec(t2 - t1);
            puts_("\n");
        }
    }
    puts_("RESULT PASS 0\n");
    debug_exit(0);
}

/*
 * Code that rewrites itself (smc=N): N reads of edu's ID, all by the instruction at
 * smc_code, rewritten before each read to one of two encodings, chosen by bit 16 of an
 * LCG (x = x * 1103515245 + 12345 from x = 1; 0: mov (%eax),%eax; 1: mov 0x0(%eax),%eax),
 * so that the sequence has no period a cache could fall in step with. A tracer that caches
 * the instruction behind a PC must see each rewrite.
 */
static uint8_t smc_code[16] __attribute__((aligned(16)));
static const uint8_t smc_insn[2][4] = {{0x8b, 0x00, 0xc3}, {0x8b, 0x40, 0x00, 0xc3}};

static void smc_loop(uint32_t n, uint32_t edu)
{
    uint32_t bad = 0, x = 1;

    for (uint32_t i = 0; i < n; i++) {
        uint32_t v;

        x = x * 1103515245u + 12345u;
        for (int j = 0; j < 4; j++) {
            ((volatile uint8_t *)smc_code)[j] = smc_insn[(x >> 16) & 1][j];
        }
        __asm__ volatile("call *%1" : "=a"(v) : "r"(smc_code), "0"(edu) : "ecx", "edx", "memory");
        bad += v != 0x010000ed;
    }
    puts_("smc_code ");
    puthex((uint32_t)(uintptr_t)smc_code);
    puts_(bad ? "\nRESULT FAIL 1\n" : "\nRESULT PASS 0\n");
    debug_exit(bad ? 1 : 0);
}

/*
 * A CPU-bound guest (spin=N): N rounds of arithmetic over a 4 KiB buffer in RAM, no device
 * access, timed with rdtsc: "spin N kcycles K" (K: units of 1024 cycles). How much tracing a device
 * costs code that does not touch it (issue 16's whole-guest slowdown).
 */
static void spin_loop(uint32_t n)
{
    static uint32_t buf[1024];
    uint32_t lo, hi, x = 1;
    uint64_t t0, t1;

    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    t0 = (uint64_t)hi << 32 | lo;

    for (uint32_t i = 0; i < n; i++) {
        for (int j = 0; j < 1024; j++) {
            x = x * 1664525u + 1013904223u;
            buf[j] += x >> 7;
        }
    }
    __asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
    t1 = (uint64_t)hi << 32 | lo;
    puts_("spin ");
    putdec(n);
    puts_(" kcycles ");
    putdec((uint32_t)((t1 - t0) >> 10)); /* units of 1024 cycles: no 64-bit division */
    puts_(" sum ");
    puthex(buf[x & 1023]);
    puts_("\nRESULT PASS 0\n");
    debug_exit(0);
}

void probe_main(const uint32_t *mbi)
{
    uint32_t loops = cmdline_num(mbi, "loops", 1000);
    struct probe_ctx ctx = {
        .t = find_bar(0x4d4d1234, 0),
        .m = find_bar(0x4d4d1234, 2),
        .e = find_bar(0x11e81234, 0),
        .n = find_bar(0x10d38086, 0),
        .ram = (uint32_t)(uintptr_t)ram_buf,
        .loops = loops,
        .r = find_bar(0x813910ec, 1),
    };
    uint32_t cr0, cr4;

    puts_("hvmmio kvm-probe\n");
    if (cmdline_num(mbi, "bench", 0)) {
        bench_paired(cmdline_num(mbi, "bench", 0), loops);
    }
    if (cmdline_num(mbi, "spin", 0)) {
        spin_loop(cmdline_num(mbi, "spin", 0));
    }
    if (cmdline_num(mbi, "smc", 0)) {
        if (!ctx.e) {
            puts_("FAIL devices: smc needs edu on bus 0\n");
            debug_exit(1);
        }
        smc_loop(cmdline_num(mbi, "smc", 0), ctx.e);
    }
    if (!ctx.e || !ctx.n || (ctx.t && !ctx.m)) {
        puts_("FAIL devices: need edu and e1000e (and hvmmio-testdev) on bus 0\n");
        debug_exit(1);
    }
    if (!ctx.t) {
        puts_("no test device: edu and e1000e only\n");
    }
    /* SSE for movdqu: CR0.EM off, CR0.MP on, CR4.OSFXSR and OSXMMEXCPT on */
    __asm__ volatile("movl %%cr0, %0" : "=r"(cr0));
    __asm__ volatile("movl %0, %%cr0" ::"r"((cr0 & ~4u) | 2u));
    __asm__ volatile("movl %%cr4, %0" : "=r"(cr4));
    __asm__ volatile("movl %0, %%cr4" ::"r"(cr4 | 0x600u));
    __asm__ volatile("fninit");

    probe_accesses(&ctx);

    /* every value read, as the device documents it (docs/testdev.md, QEMU's edu and e1000e) */
    if (ctx.t) {
        check_testdev();
    }
    check_edu_e1000e();
    if (ctx.r) {
        check("rtl_strad", 33, 0x66554433);
        check("rtl_r1", 34, 0x88);
    }
    puts_("loop_r cycles ");
    putdec(probe_results[31]);
    puts_(" loop_w cycles ");
    putdec(probe_results[32]);
    puts_(" loops ");
    putdec(loops);
    puts_("\n");
    puts_(failed ? "RESULT FAIL " : "RESULT PASS ");
    putdec(failed);
    puts_("\n");
    debug_exit(failed ? 1 : 0);
}
