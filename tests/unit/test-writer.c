/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace writer tests. Kernel-mode expectations come from the kernel's own printf formats
 * (kernel/trace/trace_mmiotrace.c), run through snprintf here as an independent oracle, and from
 * real lines of a kernel trace; extended-mode expectations are spelled out from
 * docs/trace-format.md.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "mmiotrace.h"

static char buf[MMIOTRACE_FORMAT_MAX];

void writer_add_dma_tests(void); /* test-writer-dma.c */

static void expect(const struct mmiotrace_record *r, unsigned mode, const char *want)
{
    int n = mmiotrace_format(buf, sizeof(buf), r, mode);
    g_assert_cmpstr(n < 0 ? "(error)" : buf, ==, want);
    g_assert_cmpint(n, ==, strlen(want));
    if (!mmiotrace_record_check(r)) {
        /* the unchecked formatter QEMU's writer uses: the same line */
        static char fast[MMIOTRACE_FORMAT_MAX];
        memset(fast, 0x5a, 64);
        int m = mmiotrace_format_valid(fast, r, mode);
        g_assert_cmpint(m, ==, n);
        if (m > 0) {
            g_assert_cmpstr(fast, ==, want);
        }
    }
}

/* The kernel's timestamp: ns2usecs() then do_div(t, USEC_PER_SEC). */
static void kernel_time(uint64_t ns, unsigned *secs, unsigned long *usec)
{
    unsigned long long t = (ns + 500) / 1000;
    *usec = t % 1000000;
    *secs = (unsigned long)(t / 1000000);
}

static struct mmiotrace_record rw(enum mmiotrace_type t, int width, uint64_t ns, int id,
                                  uint64_t phys, uint64_t value, uint64_t pc)
{
    struct mmiotrace_record r;
    mmiotrace_record_init(&r, t);
    r.ts_ns = ns;
    r.rw.width = width;
    r.rw.map_id = id;
    r.rw.phys = phys;
    r.rw.value = value;
    r.rw.pc = pc;
    return r;
}

/* Real lines from a Debian 6.1 guest tracing e1000e (docs/trace-format.md). */
static void test_real_lines(void)
{
    struct mmiotrace_record r = rw(MMIOTRACE_READ, 4, 2854035000ull, 2, 0xfebf000c, 1, 0);
    expect(&r, MMIOTRACE_FMT_KERNEL, "R 4 2.854035 2 0xfebf000c 0x1 0x0 0\n");
    r = rw(MMIOTRACE_WRITE, 4, 2858352000ull, 2, 0xfebf0000, 0xfee01004, 0);
    expect(&r, MMIOTRACE_FMT_KERNEL, "W 4 2.858352 2 0xfebf0000 0xfee01004 0x0 0\n");

    mmiotrace_record_init(&r, MMIOTRACE_MAP);
    r.ts_ns = 2849603000ull;
    r.map.map_id = 1;
    r.map.phys = 0xfeba0000;
    r.map.virt = 0xffffcc2b406e0000ull;
    r.map.len = 0x20000;
    expect(&r, MMIOTRACE_FMT_KERNEL,
           "MAP 2.849603 1 0xfeba0000 0xffffcc2b406e0000 0x20000 0x0 0\n");

    mmiotrace_record_init(&r, MMIOTRACE_MARK);
    r.ts_ns = 2766196000ull;
    r.mark.text = "MARK-START";
    r.mark.len = 10;
    expect(&r, MMIOTRACE_FMT_KERNEL, "MARK 2.766196 MARK-START\n");

    mmiotrace_record_init(&r, MMIOTRACE_VERSION);
    r.version.text = "20070824";
    r.version.len = 8;
    expect(&r, MMIOTRACE_FMT_KERNEL, "VERSION 20070824\n");

    static const uint64_t res[7] = {0xfeba0000, 0xfebc0000, 0xc001, 0xfebf0000, 0, 0, 0};
    static const uint64_t size[7] = {0x20000, 0x20000, 0x20, 0x4000, 0, 0, 0};
    mmiotrace_record_init(&r, MMIOTRACE_PCIDEV);
    r.pcidev.bus = 0;
    r.pcidev.devfn = 0x18;
    r.pcidev.vendor = 0x8086;
    r.pcidev.device = 0x10d3;
    r.pcidev.irq = 0xb;
    memcpy(r.pcidev.resource, res, sizeof(res));
    memcpy(r.pcidev.size, size, sizeof(size));
    /* no driver: " %s\n" with "" leaves a blank before the newline */
    expect(&r, MMIOTRACE_FMT_KERNEL,
           "PCIDEV 0018 808610d3 b feba0000 febc0000 c001 febf0000 0 0 0 20000 20000 20 4000 0 0 "
           "0 \n");
    r.pcidev.driver = "e1000e";
    r.pcidev.driver_len = 6;
    expect(&r, MMIOTRACE_FMT_KERNEL,
           "PCIDEV 0018 808610d3 b feba0000 febc0000 c001 febf0000 0 0 0 20000 20000 20 4000 0 0 "
           "0 e1000e\n");
}

static void test_each_kernel_record(void)
{
    struct mmiotrace_record r;

    /* ns2usecs rounds: 999 ns -> 0.000001, 1999999500 ns -> 2.000000 */
    r = rw(MMIOTRACE_READ, 1, 999, 0, 0, 0xff, 0xffffffff81000000ull);
    expect(&r, MMIOTRACE_FMT_KERNEL, "R 1 0.000001 0 0x0 0xff 0xffffffff81000000 0\n");
    r = rw(MMIOTRACE_WRITE, 8, 1999999500ull, 7, 0xfffffffffffffff0ull, UINT64_MAX, 0);
    expect(&r, MMIOTRACE_FMT_KERNEL,
           "W 8 2.000000 7 0xfffffffffffffff0 0xffffffffffffffff 0x0 0\n");
    r = rw(MMIOTRACE_READ, 2, 1999999499ull, 3, 0x10, 0x1234, 0);
    expect(&r, MMIOTRACE_FMT_KERNEL, "R 2 1.999999 3 0x10 0x1234 0x0 0\n");

    mmiotrace_record_init(&r, MMIOTRACE_UNKNOWN);
    r.ts_ns = 5000000ull;
    r.unknown.map_id = 4;
    r.unknown.phys = 0xfebf0100;
    r.unknown.opcode[0] = 0x0f;
    r.unknown.opcode[1] = 0xc7;
    r.unknown.opcode[2] = 0x0e;
    r.unknown.pc = 0xffffffffc0123456ull;
    expect(&r, MMIOTRACE_FMT_KERNEL,
           "UNKNOWN 0.005000 4 0xfebf0100 0f,c7,0e 0xffffffffc0123456 0\n");

    mmiotrace_record_init(&r, MMIOTRACE_UNMAP);
    r.ts_ns = 10000000000ull;
    r.unmap.map_id = -1;
    expect(&r, MMIOTRACE_FMT_KERNEL, "UNMAP 10.000000 -1 0x0 0\n");

    mmiotrace_record_init(&r, MMIOTRACE_LOST);
    r.ts_ns = 123456789;
    r.lost.count = 42;
    expect(&r, MMIOTRACE_FMT_KERNEL, "MARK 0.000000 Lost 42 events.\n");

    /* a MARK with an empty message, and one with an embedded newline */
    mmiotrace_record_init(&r, MMIOTRACE_MARK);
    r.ts_ns = 1000;
    expect(&r, MMIOTRACE_FMT_KERNEL, "MARK 0.000001 \n");
    r.mark.text = "two\nlines";
    r.mark.len = 9;
    expect(&r, MMIOTRACE_FMT_KERNEL, "MARK 0.000001 two\nlines\n");
}

/* Random records against the kernel's printf formats. */
static void test_kernel_printf_oracle(void)
{
    GRand *rnd = g_rand_new_with_seed(20070824);
    char want[512];

    for (int i = 0; i < 200000; i++) {
        static const int widths[4] = {1, 2, 4, 8};
        uint64_t ns = ((uint64_t)g_rand_int(rnd) << 20 | g_rand_int(rnd)) % 4000000000000000000ull;
        uint64_t a = (uint64_t)g_rand_int(rnd) << 32 | g_rand_int(rnd);
        uint64_t v = (uint64_t)g_rand_int(rnd) << 32 | g_rand_int(rnd);
        uint64_t pc = g_rand_boolean(rnd) ? 0 : (uint64_t)g_rand_int(rnd) << 32 | g_rand_int(rnd);
        int id = (int)g_rand_int(rnd);
        if (g_rand_boolean(rnd)) {
            a >>= g_rand_int_range(rnd, 0, 64);
            v >>= g_rand_int_range(rnd, 0, 64);
            ns >>= g_rand_int_range(rnd, 0, 50);
            id >>= g_rand_int_range(rnd, 0, 32);
        }
        unsigned secs;
        unsigned long usec;
        kernel_time(ns, &secs, &usec);
        struct mmiotrace_record r;
        switch (i % 4) {
        case 0:
        case 1: {
            int w = widths[g_rand_int_range(rnd, 0, 4)];
            r = rw(i % 4 ? MMIOTRACE_WRITE : MMIOTRACE_READ, w, ns, id, a, v, pc);
            snprintf(want, sizeof(want), "%c %d %u.%06lu %d 0x%llx 0x%lx 0x%lx %d\n",
                     i % 4 ? 'W' : 'R', w, secs, usec, id, (unsigned long long)a, (unsigned long)v,
                     (unsigned long)pc, 0);
            break;
        }
        case 2:
            mmiotrace_record_init(&r, MMIOTRACE_MAP);
            r.ts_ns = ns;
            r.map.map_id = id;
            r.map.phys = a;
            r.map.virt = v;
            r.map.len = pc;
            snprintf(want, sizeof(want), "MAP %u.%06lu %d 0x%llx 0x%lx 0x%lx 0x%lx %d\n", secs,
                     usec, id, (unsigned long long)a, (unsigned long)v, (unsigned long)pc, 0UL, 0);
            break;
        default:
            mmiotrace_record_init(&r, MMIOTRACE_UNKNOWN);
            r.ts_ns = ns;
            r.unknown.map_id = id;
            r.unknown.phys = a;
            r.unknown.pc = pc;
            r.unknown.opcode[0] = v >> 16;
            r.unknown.opcode[1] = v >> 8;
            r.unknown.opcode[2] = v;
            snprintf(want, sizeof(want), "UNKNOWN %u.%06lu %d 0x%llx %02lx,%02lx,%02lx 0x%lx %d\n",
                     secs, usec, id, (unsigned long long)a, (unsigned long)(v >> 16) & 0xff,
                     (unsigned long)(v >> 8) & 0xff, (unsigned long)v & 0xff, (unsigned long)pc, 0);
            break;
        }
        /* and everything the kernel would not have: must not change kernel mode */
        r.ext = MMIOTRACE_EXT_VCPU | MMIOTRACE_EXT_BAR;
        r.vcpu = 1;
        expect(&r, MMIOTRACE_FMT_KERNEL, want);
    }
    g_rand_free(rnd);
}

static void test_extended(void)
{
    struct mmiotrace_record r =
        rw(MMIOTRACE_READ, 4, 2854035123ull, 2, 0xfebf000c, 1, 0xffffffffc0a01234ull);

    /* without facts, extended mode is kernel mode */
    expect(&r, MMIOTRACE_FMT_EXTENDED, "R 4 2.854035 2 0xfebf000c 0x1 0xffffffffc0a01234 0\n");
    r.ext = MMIOTRACE_EXT_FACTS;
    r.vcpu = 0;
    r.dev = "e1000e";
    r.dev_len = 6;
    r.bar = 3;
    r.bar_off = 0xc;
    memcpy(r.insn, "\x8b\x42\x0c", 3);
    r.insn_len = 3;
    r.asm_text = "mov eax, dword ptr [rdx + 0xc]";
    r.asm_len = strlen(r.asm_text);
    expect(&r, MMIOTRACE_FMT_EXTENDED,
           "R 4 2.854035 2 0xfebf000c 0x1 0xffffffffc0a01234 0 ns=2854035123 vcpu=0 dev=e1000e "
           "bar=3 off=0xc insn=8b420c asm=\"mov eax, dword ptr [rdx + 0xc]\"\n");
    /* kernel mode drops every fact */
    expect(&r, MMIOTRACE_FMT_KERNEL, "R 4 2.854035 2 0xfebf000c 0x1 0xffffffffc0a01234 0\n");

    /* a refused access, and one whose PC could not be determined (pc 0) */
    struct mmiotrace_record f = rw(MMIOTRACE_WRITE, 1, 1000, 2, 0xfebf0000, 0x5a, 0);
    f.ext = MMIOTRACE_EXT_REJECTED | MMIOTRACE_EXT_PC_UNKNOWN;
    expect(&f, MMIOTRACE_FMT_EXTENDED,
           "W 1 0.000001 2 0xfebf0000 0x5a 0x0 0 pc=unknown rejected=1\n");
    expect(&f, MMIOTRACE_FMT_KERNEL, "W 1 0.000001 2 0xfebf0000 0x5a 0x0 0\n");
    f.rw.pc = 0x1234; /* pc=unknown with a PC is a contradiction */
    char fbuf[MMIOTRACE_FORMAT_MAX];
    errno = 0;
    g_assert_cmpint(mmiotrace_format(fbuf, sizeof(fbuf), &f, MMIOTRACE_FMT_EXTENDED), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);

    /* vcpu=none: QEMU's own access; quoting of awkward text */
    r.ext = MMIOTRACE_EXT_VCPU | MMIOTRACE_EXT_ASM | MMIOTRACE_EXT_DEV;
    r.vcpu = MMIOTRACE_VCPU_NONE;
    r.dev = "my dev";
    r.dev_len = 6;
    r.asm_text = "a\"b\\c\td\ne\x01";
    r.asm_len = 10;
    expect(&r, MMIOTRACE_FMT_EXTENDED,
           "R 4 2.854035 2 0xfebf000c 0x1 0xffffffffc0a01234 0 vcpu=none dev=\"my dev\" "
           "asm=\"a\\\"b\\\\c\\td\\ne\\x01\"\n");
    r.asm_len = 0;
    r.ext = MMIOTRACE_EXT_ASM;
    expect(&r, MMIOTRACE_FMT_EXTENDED,
           "R 4 2.854035 2 0xfebf000c 0x1 0xffffffffc0a01234 0 asm=\"\"\n");
}

/* a MARK with facts becomes MARKX with a quoted text */
static void test_extended_mark(void)
{
    struct mmiotrace_record r;
    mmiotrace_record_init(&r, MMIOTRACE_MARK);
    r.ts_ns = 2766196400ull;
    r.mark.text = "MARK-START";
    r.mark.len = 10;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "MARK 2.766196 MARK-START\n");
    r.ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_DEV;
    r.dev = "nic0";
    r.dev_len = 4;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "MARKX 2.766196 ns=2766196400 dev=nic0 text=MARK-START\n");
    r.mark.text = "hello world";
    r.mark.len = 11;
    expect(&r, MMIOTRACE_FMT_EXTENDED,
           "MARKX 2.766196 ns=2766196400 dev=nic0 text=\"hello world\"\n");
    expect(&r, MMIOTRACE_FMT_KERNEL, "MARK 2.766196 hello world\n");
    r.mark.len = 0;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "MARKX 2.766196 ns=2766196400 dev=nic0 text=\"\"\n");
}

/* found by fuzzing: texts a plain MARK line would not give back go in MARKX; in kernel mode,
 * no line of a MARK's text may read as a record or a skipped line */
static const struct {
    uint64_t ts_ns;
    const char *text;
    unsigned mode;
    const char *want;
} mark_texts[] = {
    {2766196400ull, "two\nLSPCI", MMIOTRACE_FMT_EXTENDED, "MARKX 2.766196 text=\"two\\nLSPCI\"\n"},
    {2766196400ull, "two\nLSPCI", MMIOTRACE_FMT_KERNEL, "MARK 2.766196 two\\nLSPCI\n"},
    {2766196400ull, "two\nR 4", MMIOTRACE_FMT_EXTENDED, "MARKX 2.766196 text=\"two\\nR 4\"\n"},
    {2766196400ull, "plain\nW 4 1.000000 1 0xfe000000 0x1 0x0 0\nmore text\n\nW",
     MMIOTRACE_FMT_KERNEL,
     "MARK 2.766196 plain\\nW 4 1.000000 1 0xfe000000 0x1 0x0 0\nmore text\n\\nW\n"},
    {2766196400ull, "a\rW 4 1.000000 1 0xfe000000 0x1 0x0 0\x01\x7f\tb", MMIOTRACE_FMT_KERNEL,
     "MARK 2.766196 a\\rW 4 1.000000 1 0xfe000000 0x1 0x0 0\\x01\\x7f\tb\n"},
    {2766196400ull, "a\rW 4 1.000000 1 0xfe000000 0x1 0x0 0\x01\x7f\tb", MMIOTRACE_FMT_EXTENDED,
     "MARKX 2.766196 text=\"a\\rW 4 1.000000 1 0xfe000000 0x1 0x0 0\\x01\\x7f\\tb\"\n"},
    {2766196400ull, "a\r", MMIOTRACE_FMT_EXTENDED, "MARKX 2.766196 text=\"a\\r\"\n"},
    {2766196400ull, "two\nlines\n\n  indented", MMIOTRACE_FMT_EXTENDED,
     "MARK 2.766196 two\nlines\n\n  indented\n"},
    {0, "Lost 3 events.", MMIOTRACE_FMT_EXTENDED, "MARKX 0.000000 text=\"Lost 3 events.\"\n"},
    {0, "Lost 3 events.", MMIOTRACE_FMT_KERNEL, "MARK 0.000000 \\x4cost 3 events.\n"},
    {0, "Lost 3 events.\nW 4 1.0 1 0x1 0x1 0x0 0", MMIOTRACE_FMT_KERNEL,
     "MARK 0.000000 \\x4cost 3 events.\\nW 4 1.0 1 0x1 0x1 0x0 0\n"},
    {0, "Lost 03 events.", MMIOTRACE_FMT_EXTENDED, "MARK 0.000000 Lost 03 events.\n"},
};

static void test_extended_mark_text(void)
{
    struct mmiotrace_record r;
    mmiotrace_record_init(&r, MMIOTRACE_MARK);
    for (size_t i = 0; i < G_N_ELEMENTS(mark_texts); i++) {
        r.ts_ns = mark_texts[i].ts_ns;
        r.mark.text = mark_texts[i].text;
        r.mark.len = strlen(r.mark.text);
        expect(&r, mark_texts[i].mode, mark_texts[i].want);
    }
    /* "Lost 03 events." at the end of time */
    r.ts_ns = MMIOTRACE_TS_MAX_NS + 1;
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED), ==, -1);
    r.ts_ns = MMIOTRACE_TS_MAX_NS; /* the last that does not round up to 4294967296 s */
    expect(&r, MMIOTRACE_FMT_EXTENDED, "MARK 4294967295.999999 Lost 03 events.\n");
}

/* lost events with facts */
static void test_extended_lost(void)
{
    struct mmiotrace_record r;
    mmiotrace_record_init(&r, MMIOTRACE_LOST);
    r.ts_ns = 3000000000ull;
    r.lost.count = 12;
    /* the kernel's report carries no time: a lost record with a time stays LOST */
    expect(&r, MMIOTRACE_FMT_EXTENDED, "LOST 3.000000 12\n");
    r.ts_ns = 0;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "MARK 0.000000 Lost 12 events.\n");
    r.ts_ns = 3000000000ull;
    r.ext = MMIOTRACE_EXT_DEV;
    r.dev = "nic0";
    r.dev_len = 4;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "LOST 3.000000 12 dev=nic0\n");
    expect(&r, MMIOTRACE_FMT_KERNEL, "MARK 0.000000 Lost 12 events.\n");
}

/* PCIDEV facts follow the driver slot (empty or not) */
static void test_extended_pcidev(void)
{
    struct mmiotrace_record r;
    mmiotrace_record_init(&r, MMIOTRACE_PCIDEV);
    r.pcidev.devfn = 0x18;
    r.pcidev.vendor = 0x8086;
    r.pcidev.device = 0x10d3;
    r.pcidev.irq = 0xb;
    r.ext = MMIOTRACE_EXT_DEV;
    r.dev = "nic0";
    r.dev_len = 4;
    expect(&r, MMIOTRACE_FMT_EXTENDED,
           "PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0  dev=nic0\n");
    r.pcidev.driver = "e1000e";
    r.pcidev.driver_len = 6;
    expect(&r, MMIOTRACE_FMT_EXTENDED,
           "PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0 e1000e dev=nic0\n");
}

static void test_new_records(void)
{
    struct mmiotrace_record r;
    uint8_t cfg[4096];

    for (int i = 0; i < 4096; i++) {
        cfg[i] = i * 7;
    }
    mmiotrace_record_init(&r, MMIOTRACE_CONFIG);
    r.ts_ns = 1000000000ull;
    r.config.devfn = 0x18;
    r.config.data = (const uint8_t *)"\x86\x80\xd3\x10";
    r.config.len = 4;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "PCICFG 1.000000 0018 8680d310\n");
    /* not a kernel record: nothing in kernel mode */
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_KERNEL), ==, 0);
    r.config.data = cfg;
    r.config.len = 4096;
    int n = mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED);
    g_assert_cmpint(n, ==, strlen("PCICFG 1.000000 0018 ") + 8192 + 1);
    g_assert_true(g_str_has_prefix(buf, "PCICFG 1.000000 0018 00070e15"));
    r.config.len = 4097;
    errno = 0;
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);

    mmiotrace_record_init(&r, MMIOTRACE_IRQ);
    r.ts_ns = 1500000000ull;
    r.irq.kind = MMIOTRACE_IRQ_INTX;
    r.irq.vector = 0;
    r.irq.data = 1;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "IRQ 1.500000 INTX 0 1\n");
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_KERNEL), ==, 0);
    r.irq.kind = MMIOTRACE_IRQ_MSI;
    r.irq.addr = 0xfee01004;
    r.irq.data = 0x4021;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "IRQ 1.500000 MSI 0 0xfee01004 0x4021\n");
    r.irq.kind = MMIOTRACE_IRQ_MSIX;
    r.irq.vector = 3;
    r.ext = MMIOTRACE_EXT_VCPU;
    r.vcpu = MMIOTRACE_VCPU_NONE;
    expect(&r, MMIOTRACE_FMT_EXTENDED, "IRQ 1.500000 MSIX 3 0xfee01004 0x4021 vcpu=none\n");
    r.irq.kind = MMIOTRACE_IRQ_INTX;
    r.irq.vector = 4;
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED), ==, -1);
}

static void test_invalid(void)
{
    struct mmiotrace_record r = rw(MMIOTRACE_READ, 3, 0, 0, 0, 0, 0);
    char small[16];

    errno = 0;
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_KERNEL), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpstr(mmiotrace_record_check(&r), ==, "width is not 1, 2, 4 or 8");
    r.rw.width = 4;
    r.ext = MMIOTRACE_EXT_INSN;
    r.insn_len = 17;
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED), ==, -1);
    r.ext = 0;
    /* too small a buffer: ENOSPC, nothing overrun */
    memset(small, 'x', sizeof(small));
    errno = 0;
    g_assert_cmpint(mmiotrace_format(small, sizeof(small) - 1, &r, MMIOTRACE_FMT_KERNEL), ==, -1);
    g_assert_cmpint(errno, ==, ENOSPC);
    g_assert_cmpint(small[sizeof(small) - 1], ==, 'x');
    /* exactly big enough: the line and its NUL */
    r = rw(MMIOTRACE_READ, 4, 0, 0, 0, 0, 0);
    const char *want = "R 4 0.000000 0 0x0 0x0 0x0 0\n";
    char exact[64];
    g_assert_cmpint(mmiotrace_format(exact, strlen(want) + 1, &r, MMIOTRACE_FMT_KERNEL), ==,
                    strlen(want));
    g_assert_cmpstr(exact, ==, want);
    g_assert_cmpint(mmiotrace_format(exact, strlen(want), &r, MMIOTRACE_FMT_KERNEL), ==, -1);
}

struct mem_sink {
    GString *s;
    int fail_after; /* -1: never */
};

static int mem_sink(void *opaque, const void *data, size_t len)
{
    struct mem_sink *m = opaque;
    if (m->fail_after == 0) {
        errno = ENOSPC;
        return -1;
    }
    m->fail_after--;
    g_string_append_len(m->s, data, len);
    return 0;
}

static void test_stream_writer(void)
{
    struct mem_sink m = {g_string_new(NULL), -1};
    struct mmiotrace_writer *w = mmiotrace_writer_new(mem_sink, &m, NULL, MMIOTRACE_FMT_KERNEL);
    GString *want = g_string_new(NULL);

    for (int i = 0; i < 100000; i++) {
        struct mmiotrace_record r = rw(MMIOTRACE_WRITE, 4, i * 1000ull, 1, 0xfeb00000 + i, i, 0);
        g_assert_cmpint(mmiotrace_writer_write(w, &r), ==, 0);
        g_string_append_printf(want, "W 4 %u.%06u 1 0x%x 0x%x 0x0 0\n", i / 1000000, i % 1000000,
                               0xfeb00000 + i, i);
    }
    struct mmiotrace_record irq;
    mmiotrace_record_init(&irq, MMIOTRACE_IRQ);
    g_assert_cmpint(mmiotrace_writer_write(w, &irq), ==, 0); /* dropped in kernel mode */
    g_assert_cmpint(mmiotrace_writer_records(w), ==, 100000);
    g_assert_cmpint(mmiotrace_writer_bytes(w), ==, want->len);
    g_assert_cmpint(mmiotrace_writer_free(w), ==, 0);
    g_assert_cmpint(m.s->len, ==, want->len);
    g_assert_true(!memcmp(m.s->str, want->str, want->len));

    /* a failing sink: the error is reported and sticks */
    g_string_truncate(m.s, 0);
    m.fail_after = 0;
    w = mmiotrace_writer_new(mem_sink, &m, NULL, MMIOTRACE_FMT_KERNEL);
    struct mmiotrace_record r = rw(MMIOTRACE_READ, 4, 0, 0, 0, 0, 0);
    g_assert_cmpint(mmiotrace_writer_write(w, &r), ==, 0);
    g_assert_cmpint(mmiotrace_writer_flush(w), ==, -1);
    g_assert_cmpint(errno, ==, ENOSPC);
    g_assert_cmpint(mmiotrace_writer_flush(w), ==, -1);
    g_assert_cmpint(mmiotrace_writer_free(w), ==, -1);

    /* fd and stdio writers */
    FILE *f = tmpfile();
    w = mmiotrace_writer_new_stdio(f, MMIOTRACE_FMT_KERNEL);
    g_assert_cmpint(mmiotrace_writer_write(w, &r), ==, 0);
    g_assert_cmpint(mmiotrace_writer_free(w), ==, 0);
    w = mmiotrace_writer_new_fd(fileno(f), MMIOTRACE_FMT_KERNEL);
    g_assert_cmpint(mmiotrace_writer_write(w, &r), ==, 0);
    g_assert_cmpint(mmiotrace_writer_free(w), ==, 0);
    char got[128] = "";
    rewind(f);
    g_assert_cmpint(fread(got, 1, sizeof(got) - 1, f), ==, 2 * 29);
    g_assert_cmpstr(got, ==, "R 4 0.000000 0 0x0 0x0 0x0 0\nR 4 0.000000 0 0x0 0x0 0x0 0\n");
    fclose(f);
    g_string_free(m.s, TRUE);
    g_string_free(want, TRUE);
}

/*
 * Kernel mode never lets a MARK's text become a line a kernel-format reader takes for a
 * record: each hostile text, formatted, reads back (libmmiotrace's reader) as one MARK, and
 * no line after the first starts like an R/W/MAP/UNMAP/UNKNOWN/MARK line (the kernel's
 * consumers, e.g. demmio, go by the first word; others split lines at CR as well).
 */
static void test_kernel_mark_injection(void)
{
    static const char *const texts[] = {
        "one\nW 4 1.000000 1 0xfe000000 0x1 0x0 0",
        "one\rR 4 1.000000 1 0xfe000000 0x1 0x0 0",
        "one\r\nMAP 1.0 1 0xfe000000 0x0 0x1000 0x0 0",
        "\nUNMAP 1.0 1 0x0 0\n",
        "x\nMARK 1.000000 nested\nVERSION 20070824\nPCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 "
        "0 0 ",
        "Lost 3 events.",
        "a\n\nR 4 1 1 0x1 0x1 0x0 0\n# comment\nLSPCI x\x0bW 4 1 1 0x1 0x1 0x0 0\x0c",
    };
    static const char *const kw[] = {"R ",   "W ",      "MAP ",   "UNMAP ", "UNKNOWN ",
                                     "MARK", "VERSION", "PCIDEV", "LOST",   "PCICFG",
                                     "IRQ",  "#",       "LSPCI"};
    struct mmiotrace_record r;

    for (size_t i = 0; i < G_N_ELEMENTS(texts); i++) {
        mmiotrace_record_init(&r, MMIOTRACE_MARK);
        r.ts_ns = i == 5 ? 0 : 2766196400ull;
        r.mark.text = texts[i];
        r.mark.len = strlen(texts[i]);
        int n = mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_KERNEL);
        g_assert_cmpint(n, >, 0);
        g_assert_null(memchr(buf, '\r', n));
        g_auto(GStrv) lines = g_strsplit_set(buf, "\n\x0b\x0c", -1);
        for (int l = 1; lines[l]; l++) {
            for (size_t k = 0; k < G_N_ELEMENTS(kw); k++) {
                g_assert_false(g_str_has_prefix(lines[l], kw[k]));
            }
        }
        struct mmiotrace_reader *rd = mmiotrace_reader_open_mem(buf, n, "mark");
        struct mmiotrace_record got;
        g_assert_cmpint(mmiotrace_reader_next(rd, &got), ==, 1);
        g_assert_cmpint(got.type, ==, MMIOTRACE_MARK);
        g_assert_cmpint(mmiotrace_reader_next(rd, &got), ==, 0);
        mmiotrace_reader_free(rd);
    }
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/writer/real-kernel-lines", test_real_lines);
    g_test_add_func("/writer/each-kernel-record", test_each_kernel_record);
    g_test_add_func("/writer/kernel-printf-oracle", test_kernel_printf_oracle);
    g_test_add_func("/writer/extended", test_extended);
    g_test_add_func("/writer/extended/mark", test_extended_mark);
    g_test_add_func("/writer/extended/mark-text", test_extended_mark_text);
    g_test_add_func("/writer/extended/lost", test_extended_lost);
    g_test_add_func("/writer/extended/pcidev", test_extended_pcidev);
    g_test_add_func("/writer/pcicfg-irq", test_new_records);
    g_test_add_func("/writer/invalid", test_invalid);
    g_test_add_func("/writer/kernel-mark-injection", test_kernel_mark_injection);
    g_test_add_func("/writer/stream", test_stream_writer);
    writer_add_dma_tests();
    return g_test_run();
}
