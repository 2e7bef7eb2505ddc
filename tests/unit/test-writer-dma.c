/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace writer tests for Replay v2 (issue 18): DMA and DMAMAP records and the replay
 * annotations, built field by field; the expected lines are spelled out from
 * docs/trace-format.md. Kernel mode has no such records and no annotations.
 */
#include <errno.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"

static char buf[MMIOTRACE_FORMAT_MAX];

/* Extended mode gives want (also the unchecked formatter QEMU uses); kernel mode kern. */
static void expect2(const struct mmiotrace_record *r, const char *want, const char *kern)
{
    static char fast[MMIOTRACE_FORMAT_MAX];
    int n = mmiotrace_format(buf, sizeof(buf), r, MMIOTRACE_FMT_EXTENDED);

    g_assert_cmpstr(n < 0 ? "(error)" : buf, ==, want);
    g_assert_cmpint(n, ==, strlen(want));
    g_assert_null(mmiotrace_record_check(r));
    g_assert_cmpint(mmiotrace_format_valid(fast, r, MMIOTRACE_FMT_EXTENDED), ==, n);
    g_assert_cmpstr(fast, ==, want);
    n = mmiotrace_format(buf, sizeof(buf), r, MMIOTRACE_FMT_KERNEL);
    g_assert_cmpstr(n ? buf : "", ==, kern);
}

static void expect_invalid(const struct mmiotrace_record *r, const char *why)
{
    errno = 0;
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), r, MMIOTRACE_FMT_EXTENDED), ==, -1);
    g_assert_cmpint(errno, ==, EINVAL);
    g_assert_cmpstr(mmiotrace_record_check(r), ==, why);
}

static void test_dma(void)
{
    struct mmiotrace_record r;
    uint8_t big[MMIOTRACE_DMA_BYTES_MAX + 1];

    mmiotrace_record_init(&r, MMIOTRACE_DMA);
    r.ts_ns = 1000000123;
    r.ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_DEV;
    r.dev = "nic0";
    r.dev_len = 4;
    r.dma.dir = MMIOTRACE_DMA_TO_DEVICE;
    r.dma.addr = 0x12340000;
    r.dma.len = 9;
    r.dma.crc = 0xcbf43926;
    r.dma.data = (const uint8_t *)"123456789";
    r.dma.nbytes = 9;
    expect2(&r,
            "DMA 1.000000 TO 0x12340000 9 0xcbf43926 ns=1000000123 dev=nic0 "
            "data=313233343536373839\n",
            "");
    r.ext = 0;
    r.dma.dir = MMIOTRACE_DMA_FROM_DEVICE;
    r.dma.len = UINT64_MAX;
    r.dma.nbytes = 0;
    r.dma.crc = 0;
    expect2(&r, "DMA 1.000000 FROM 0x12340000 18446744073709551615 0x0\n", "");

    memset(big, 0xa5, sizeof(big));
    r.dma.data = big;
    r.dma.nbytes = MMIOTRACE_DMA_BYTES_MAX;
    g_assert_cmpint(mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED), ==,
                    strlen("DMA 1.000000 FROM 0x12340000 18446744073709551615 0x0 data=") +
                        2 * MMIOTRACE_DMA_BYTES_MAX + 1);
    r.dma.nbytes = MMIOTRACE_DMA_BYTES_MAX + 1;
    expect_invalid(&r, "DMA data is longer than the DMA or than 4096 bytes");
    r.dma.len = 2;
    r.dma.nbytes = 3;
    expect_invalid(&r, "DMA data is longer than the DMA or than 4096 bytes");
    r.dma.nbytes = 1;
    r.dma.data = NULL;
    expect_invalid(&r, "DMA data missing");
    r.dma.nbytes = 0;
    r.dma.dir = 2;
    expect_invalid(&r, "DMA direction is not TO or FROM");
}

static void test_dmamap(void)
{
    struct mmiotrace_record r;

    mmiotrace_record_init(&r, MMIOTRACE_DMAMAP);
    r.ts_ns = 2000000000;
    r.dmamap.map = true;
    r.dmamap.iova = 0x100000;
    r.dmamap.len = 65536;
    r.dmamap.readonly = true;
    r.ext = MMIOTRACE_EXT_DEV;
    r.dev = "vf0";
    r.dev_len = 3;
    expect2(&r, "DMAMAP 2.000000 MAP 0x100000 65536 ro=1 dev=vf0\n", "");
    r.dmamap.map = false;
    r.dmamap.readonly = false;
    r.ext = 0;
    expect2(&r, "DMAMAP 2.000000 UNMAP 0x100000 65536\n", "");
}

static void test_annotations(void)
{
    struct mmiotrace_record r;

    mmiotrace_record_init(&r, MMIOTRACE_WRITE);
    r.ts_ns = 3000000000;
    r.rw.width = 4;
    r.rw.map_id = 2;
    r.rw.phys = 0xfebf3800;
    r.rw.value = 0x12345678;
    r.ext = MMIOTRACE_EXT_BAR | MMIOTRACE_EXT_MATCH;
    r.bar = 0;
    r.bar_off = 0x3800;
    r.match_mask = 0xfffff000;
    expect2(&r, "W 4 3.000000 2 0xfebf3800 0x12345678 0x0 0 bar=0 off=0x3800 match=0xfffff000\n",
            "W 4 3.000000 2 0xfebf3800 0x12345678 0x0 0\n");
    r.ext |= MMIOTRACE_EXT_REL | MMIOTRACE_EXT_REJECTED;
    r.match_mask = 0;
    r.rel_bar = 5;
    r.rel_off = 0x10;
    expect2(&r,
            "W 4 3.000000 2 0xfebf3800 0x12345678 0x0 0 bar=0 off=0x3800 rejected=1 match=0x0 "
            "rel=5:0x10\n",
            "W 4 3.000000 2 0xfebf3800 0x12345678 0x0 0\n");
    r.match_mask = 0x100000000ull;
    expect_invalid(&r, "match= has bits beyond the access's width");
    r.rw.width = 8;
    r.match_mask = UINT64_MAX;
    r.ext = MMIOTRACE_EXT_MATCH;
    expect2(&r, "W 8 3.000000 2 0xfebf3800 0x12345678 0x0 0 match=0xffffffffffffffff\n",
            "W 8 3.000000 2 0xfebf3800 0x12345678 0x0 0\n");
    r.ext = MMIOTRACE_EXT_REL;
    r.rel_bar = 6;
    expect_invalid(&r, "rel= BAR is not 0-5");
    r.ext = MMIOTRACE_EXT_POLL;
    expect_invalid(&r, "poll= is for R records only");

    r.type = MMIOTRACE_READ;
    r.ext = MMIOTRACE_EXT_POLL | MMIOTRACE_EXT_REL;
    r.rel_bar = 1;
    r.rel_off = 0;
    expect2(&r, "R 8 3.000000 2 0xfebf3800 0x12345678 0x0 0 rel=1:0x0 poll=tolerant\n",
            "R 8 3.000000 2 0xfebf3800 0x12345678 0x0 0\n");
    r.ext |= MMIOTRACE_EXT_OPT;
    expect2(&r, "R 8 3.000000 2 0xfebf3800 0x12345678 0x0 0 rel=1:0x0 poll=tolerant opt=1\n",
            "R 8 3.000000 2 0xfebf3800 0x12345678 0x0 0\n");
    r.ext = MMIOTRACE_EXT_MATCH;
    expect_invalid(&r, "match= is for W records only");
    r.type = MMIOTRACE_MAP;
    r.ext = MMIOTRACE_EXT_POLL;
    expect_invalid(&r, "match=, rel=, poll= and opt= are for R and W records only");
    r.ext = MMIOTRACE_EXT_OPT;
    expect_invalid(&r, "match=, rel=, poll= and opt= are for R and W records only");
    r.ext = 1u << 12;
    expect_invalid(&r, "unknown ext bits");
}

void writer_add_dma_tests(void)
{
    g_test_add_func("/writer/dma", test_dma);
    g_test_add_func("/writer/dmamap", test_dmamap);
    g_test_add_func("/writer/annotations", test_annotations);
}
