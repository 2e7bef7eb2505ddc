/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader tests for Replay v2 (issue 18): the DMA and DMAMAP records and the replay
 * annotations match=, rel=, poll=, opt= (docs/trace-format.md), in text and JSON Lines: their
 * fields, their round trip and every error message. The expected values are spelled out from the
 * document; the CRC is the standard CRC-32 check value (of "123456789": 0xcbf43926).
 */
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "test-reader.h"

/* "123456789" in hex and its CRC-32 */
#define CHECK_HEX "313233343536373839"
#define CHECK_CRC "0xcbf43926"

static const char *const dma_lines[] = {
    "DMA 1.000000 TO 0x12340000 9 " CHECK_CRC " ns=1000000123 dev=nic0 data=" CHECK_HEX "\n",
    "DMA 1.000001 FROM 0xfffffffffffff000 4096 0x0 vcpu=none dev=nic0 data=0001\n",
    "DMA 1.000002 FROM 0x0 0 0x0\n",
    "DMAMAP 2.000000 MAP 0x100000 65536 ro=1 ns=2000000000 dev=vf0\n",
    "DMAMAP 2.000001 UNMAP 0x100000 65536 dev=vf0\n",
    "W 4 3.000000 2 0xfebf3800 0x12345678 0x0 0 dev=nic0 bar=0 off=0x3800 match=0xfffff000\n",
    "W 4 3.000001 2 0xfebf3804 0x0 0x0 0 bar=0 off=0x3804 match=0x0 rel=0:0x3800\n",
    "R 4 3.000002 2 0xfebf0008 0x80080783 0x0 0 bar=0 off=0x8 poll=tolerant\n",
    "R 4 3.000003 2 0xfebf3800 0x12345678 0x0 0 bar=0 off=0x3800 rel=0:0x3800 poll=tolerant\n",
    "W 8 3.000004 2 0xfebf3800 0x1 0x0 0 rel=5:0xffffffffffffffff\n",
    "W 4 3.000005 2 0xfebf00d0 0x4 0x0 0 bar=0 off=0xd0 match=0xff opt=1\n",
    "R 4 3.000006 2 0xfebf0f00 0x8 0x0 0 bar=0 off=0xf00 poll=tolerant opt=1\n",
};

static struct mmiotrace_record read_one(const char *line, struct mmiotrace_reader **rd)
{
    struct mmiotrace_record r;

    *rd = mmiotrace_reader_open_mem(line, strlen(line), "d.txt");
    g_assert_cmpint(mmiotrace_reader_next(*rd, &r), ==, 1);
    return r;
}

static void test_round_trip(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(dma_lines); i++) {
        expect_ok(dma_lines[i], dma_lines[i]);
    }
    /* the facts in any order; ro=1 after the facts; data= before them */
    expect_ok("DMAMAP 2.000000 MAP 0x100000 65536 dev=vf0 ro=1\n",
              "DMAMAP 2.000000 MAP 0x100000 65536 ro=1 dev=vf0\n");
    expect_ok("DMA 1.000000 TO 0x1 3 0x0 data=AbCd dev=nic0\n",
              "DMA 1.000000 TO 0x1 3 0x0 dev=nic0 data=abcd\n");
    expect_ok("R 4 3.0 2 0x1 0x0 0x0 0 poll=tolerant rel=1:10 vcpu=0\n",
              "R 4 3.000000 2 0x1 0x0 0x0 0 vcpu=0 rel=1:0x10 poll=tolerant\n");
    /* a MARK's continuation line that starts with DMA is now a record */
    expect_ok("MARK 1.000000 a\nDMA 1.000000 TO 0x1 2 0x0\n",
              "MARK 1.000000 a\nDMA 1.000000 TO 0x1 2 0x0\n");
    /* the annotations' keys are not facts of other records: ignored there as unknown */
    expect_ok("MAP 1.000000 1 0x0 0x0 0x1000 0x0 0 match=0x1 poll=tolerant\n",
              "MAP 1.000000 1 0x0 0x0 0x1000 0x0 0\n");
    expect_ok("R 4 3.0 2 0x1 0x0 0x0 0 data=00 ro=1\n", "R 4 3.000000 2 0x1 0x0 0x0 0\n");
    /* opt=1 last, whatever its place; ignored on other records */
    expect_ok("W 4 3.0 2 0x1 0x0 0x0 0 opt=1 match=0x0 dev=a\n",
              "W 4 3.000000 2 0x1 0x0 0x0 0 dev=a match=0x0 opt=1\n");
    expect_ok("IRQ 1.000000 INTX 0 1 opt=1\n", "IRQ 1.000000 INTX 0 1\n");
}

static void test_fields(void)
{
    struct mmiotrace_reader *rd;
    struct mmiotrace_record r = read_one(dma_lines[0], &rd);

    g_assert_cmpint(r.type, ==, MMIOTRACE_DMA);
    g_assert_cmpint(r.dma.dir, ==, MMIOTRACE_DMA_TO_DEVICE);
    g_assert_cmpuint(r.dma.addr, ==, 0x12340000);
    g_assert_cmpuint(r.dma.len, ==, 9);
    g_assert_cmphex(r.dma.crc, ==, 0xcbf43926);
    g_assert_cmpuint(r.dma.nbytes, ==, 9);
    g_assert_true(!memcmp(r.dma.data, "123456789", 9));
    g_assert_cmpuint(r.ts_ns, ==, 1000000123);
    g_assert_cmpint(r.ext, ==, MMIOTRACE_EXT_NS | MMIOTRACE_EXT_DEV);
    mmiotrace_reader_free(rd);

    r = read_one(dma_lines[2], &rd);
    g_assert_cmpint(r.dma.dir, ==, MMIOTRACE_DMA_FROM_DEVICE);
    g_assert_cmpuint(r.dma.nbytes, ==, 0);
    mmiotrace_reader_free(rd);

    r = read_one(dma_lines[3], &rd);
    g_assert_cmpint(r.type, ==, MMIOTRACE_DMAMAP);
    g_assert_true(r.dmamap.map);
    g_assert_true(r.dmamap.readonly);
    g_assert_cmpuint(r.dmamap.iova, ==, 0x100000);
    g_assert_cmpuint(r.dmamap.len, ==, 65536);
    mmiotrace_reader_free(rd);
    r = read_one(dma_lines[4], &rd);
    g_assert_false(r.dmamap.map);
    g_assert_false(r.dmamap.readonly);
    mmiotrace_reader_free(rd);

    r = read_one(dma_lines[6], &rd);
    g_assert_cmpint(r.ext & MMIOTRACE_EXT_ANNOT, ==, MMIOTRACE_EXT_MATCH | MMIOTRACE_EXT_REL);
    g_assert_cmphex(r.match_mask, ==, 0);
    g_assert_cmpint(r.rel_bar, ==, 0);
    g_assert_cmphex(r.rel_off, ==, 0x3800);
    mmiotrace_reader_free(rd);
    r = read_one(dma_lines[8], &rd);
    g_assert_cmpint(r.ext & MMIOTRACE_EXT_ANNOT, ==, MMIOTRACE_EXT_REL | MMIOTRACE_EXT_POLL);
    mmiotrace_reader_free(rd);
    r = read_one(dma_lines[5], &rd);
    g_assert_cmpint(r.ext & MMIOTRACE_EXT_ANNOT, ==, MMIOTRACE_EXT_MATCH);
    g_assert_cmphex(r.match_mask, ==, 0xfffff000);
    mmiotrace_reader_free(rd);
    r = read_one(dma_lines[10], &rd);
    g_assert_cmpint(r.ext & MMIOTRACE_EXT_ANNOT, ==, MMIOTRACE_EXT_MATCH | MMIOTRACE_EXT_OPT);
    g_assert_cmphex(r.match_mask, ==, 0xff);
    mmiotrace_reader_free(rd);
    r = read_one(dma_lines[11], &rd);
    g_assert_cmpint(r.ext & MMIOTRACE_EXT_ANNOT, ==, MMIOTRACE_EXT_POLL | MMIOTRACE_EXT_OPT);
    mmiotrace_reader_free(rd);
}

static const struct {
    const char *in, *msg;
} dma_errors[] = {
    {"DMA 1.0 IN 0x0 1 0x0\n", "t.txt:1: DMA record: bad direction (TO or FROM) 'IN'"},
    {"DMA 1.0 TO 0x0 0x10 0x0\n", "t.txt:1: DMA record: bad length '0x10'"},
    {"DMA 1.0 TO 0x0 1\n", "t.txt:1: DMA record: missing crc"},
    {"DMA 1.0 TO 0x0 1 0x100000000\n", "t.txt:1: DMA record: crc '0x100000000' is too large"},
    {"DMA 1.0 TO 0x0 1 0x0 data=0001\n",
     "t.txt:1: DMA record: data= has 2 bytes, more than the length 1"},
    {"DMA 1.0 TO 0x0 9 0xcbf43927 data=" CHECK_HEX "\n",
     "t.txt:1: DMA record: data= does not match crc 0xcbf43927"},
    {"DMA 1.0 TO 0x0 9 0x0 data=123\n",
     "t.txt:1: DMA record: data= must be 1 to 4096 bytes in hex"},
    {"DMA 1.0 TO 0x0 9 0x0 data=zz\n", "t.txt:1: DMA record: bad data='zz'"},
    {"DMA 1.0 TO 0x0 9 0x0 data=\n", "t.txt:1: DMA record: data= must be 1 to 4096 bytes in hex"},
    {"DMAMAP 1.0 REMAP 0x0 1\n", "t.txt:1: DMAMAP record: bad operation (MAP or UNMAP) 'REMAP'"},
    {"DMAMAP 1.0 MAP 0x0\n", "t.txt:1: DMAMAP record: missing length"},
    {"DMAMAP 1.0 MAP 0x0 1 ro=0\n", "t.txt:1: DMAMAP record: ro= must be 1"},
    {"R 4 1.0 2 0x1 0x0 0x0 0 match=0xff\n", "t.txt:1: R record: match= is for W records only"},
    {"W 2 1.0 2 0x1 0x0 0x0 0 match=0x10000\n",
     "t.txt:1: W record: match= has bits beyond the width (2 bytes)"},
    {"W 4 1.0 2 0x1 0x0 0x0 0 match=zz\n", "t.txt:1: W record: bad match='zz'"},
    {"W 4 1.0 2 0x1 0x0 0x0 0 poll=tolerant\n", "t.txt:1: W record: poll= is for R records only"},
    {"R 4 1.0 2 0x1 0x0 0x0 0 poll=yes\n", "t.txt:1: R record: poll= must be 'tolerant'"},
    {"R 4 1.0 2 0x1 0x0 0x0 0 rel=6:0x0\n",
     "t.txt:1: R record: rel= must be BAR:0xOFFSET with a BAR 0-5"},
    {"R 4 1.0 2 0x1 0x0 0x0 0 rel=0x10\n",
     "t.txt:1: R record: rel= must be BAR:0xOFFSET with a BAR 0-5"},
    {"R 4 1.0 2 0x1 0x0 0x0 0 rel=0:\n",
     "t.txt:1: R record: rel= must be BAR:0xOFFSET with a BAR 0-5"},
    {"R 4 1.0 2 0x1 0x0 0x0 0 rel=0:0xg\n", "t.txt:1: R record: bad rel='0:0xg'"},
    {"R 4 1.0 2 0x1 0x0 0x0 0 opt=0\n", "t.txt:1: R record: opt= must be 1"},
    {"W 4 1.0 2 0x1 0x0 0x0 0 opt=yes\n", "t.txt:1: W record: opt= must be 1"},
    {"W 4 1.0 2 0x1 0x0 0x0 0 opt=\n", "t.txt:1: W record: opt= must be 1"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(dma_errors); i++) {
        expect_error(dma_errors[i].in, dma_errors[i].msg);
    }
}

/* JSON Lines: the same records, their keys spelled out, and back to the same text. */
static void test_jsonl(void)
{
    static char line[MMIOTRACE_FORMAT_MAX];
    static const struct {
        int text; /* index in dma_lines */
        const char *json;
    } cases[] = {
        {0, "{\"type\":\"DMA\",\"ts_ns\":1000000123,\"dir\":\"TO\",\"addr\":\"0x12340000\","
            "\"len\":9,\"crc\":\"0xcbf43926\",\"data\":\"" CHECK_HEX "\",\"dev\":\"nic0\"}\n"},
        {3, "{\"type\":\"DMAMAP\",\"ts_ns\":2000000000,\"op\":\"MAP\",\"iova\":\"0x100000\","
            "\"len\":65536,\"readonly\":true,\"dev\":\"vf0\"}\n"},
        {6, "{\"type\":\"W\",\"ts_us\":3000001,\"width\":4,\"map_id\":2,\"phys\":\"0xfebf3804\","
            "\"value\":\"0x0\",\"pc\":\"0x0\",\"bar\":0,\"offset\":\"0x3804\",\"match\":\"0x0\","
            "\"rel_bar\":0,\"rel_offset\":\"0x3800\"}\n"},
        {7, "{\"type\":\"R\",\"ts_us\":3000002,\"width\":4,\"map_id\":2,\"phys\":\"0xfebf0008\","
            "\"value\":\"0x80080783\",\"pc\":\"0x0\",\"bar\":0,\"offset\":\"0x8\","
            "\"poll\":\"tolerant\"}\n"},
        {10, "{\"type\":\"W\",\"ts_us\":3000005,\"width\":4,\"map_id\":2,\"phys\":\"0xfebf00d0\","
             "\"value\":\"0x4\",\"pc\":\"0x0\",\"bar\":0,\"offset\":\"0xd0\",\"match\":\"0xff\","
             "\"opt\":true}\n"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct mmiotrace_reader *rd;
        struct mmiotrace_record r = read_one(dma_lines[cases[i].text], &rd);
        g_assert_cmpint(mmiotrace_jsonl_format(line, sizeof(line), &r, 0), >, 0);
        g_assert_cmpstr(line, ==, cases[i].json);
        mmiotrace_reader_free(rd);
        expect_ok(cases[i].json, dma_lines[cases[i].text]);
    }
    expect_error("{\"type\":\"DMA\",\"ts_us\":1,\"dir\":\"UP\",\"addr\":\"0x0\",\"len\":1,"
                 "\"crc\":\"0x0\"}\n",
                 "t.txt:1: DMA record: bad \"dir\"");
    expect_error("{\"type\":\"DMA\",\"ts_us\":1,\"dir\":\"TO\",\"addr\":\"0x0\",\"len\":1,"
                 "\"crc\":\"0x0\",\"data\":\"0102\"}\n",
                 "t.txt:1: DMA record: DMA data is longer than the DMA or than 4096 bytes");
    expect_error("{\"type\":\"R\",\"ts_us\":1,\"width\":4,\"map_id\":2,\"phys\":\"0x0\","
                 "\"value\":\"0x0\",\"pc\":\"0x0\",\"match\":\"0x1\"}\n",
                 "t.txt:1: R record: match= is for W records only");
    expect_error("{\"type\":\"R\",\"ts_us\":1,\"width\":4,\"map_id\":2,\"phys\":\"0x0\","
                 "\"value\":\"0x0\",\"pc\":\"0x0\",\"poll\":\"often\"}\n",
                 "t.txt:1: R record: bad \"poll\"");
    expect_error("{\"type\":\"R\",\"ts_us\":1,\"width\":4,\"map_id\":2,\"phys\":\"0x0\","
                 "\"value\":\"0x0\",\"pc\":\"0x0\",\"opt\":1}\n",
                 "t.txt:1: R record: bad \"opt\"");
}

/* The largest DMA record: 4096 bytes of data (8192 hex digits) reads and writes back. */
static void test_largest(void)
{
    GString *in = g_string_new("DMA 1.000000 FROM 0x1000 8192 0x1234 dev=nic0 data=");
    for (int i = 0; i < MMIOTRACE_DMA_BYTES_MAX; i++) {
        g_string_append_printf(in, "%02x", (i * 7) & 0xff);
    }
    g_string_append_c(in, '\n');
    expect_ok(in->str, in->str);
    g_string_truncate(in, in->len - 1);
    g_string_append(in, "00\n");
    expect_error(in->str, "t.txt:1: DMA record: data= must be 1 to 4096 bytes in hex");
    g_string_free(in, TRUE);
}

void reader_add_dma_tests(void)
{
    g_test_add_func("/reader/dma/round-trip", test_round_trip);
    g_test_add_func("/reader/dma/fields", test_fields);
    g_test_add_func("/reader/dma/errors", test_errors);
    g_test_add_func("/reader/dma/jsonl", test_jsonl);
    g_test_add_func("/reader/dma/largest", test_largest);
}
