/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader tests: every record type, every tolerance rule, every error message,
 * over-long lines, overflowing numbers, binary garbage, JSON Lines; the compressed input
 * (truncated and corrupt streams too) is in test-reader-compressed.c.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "test-reader.h"

static void on_warn(void *opaque, const char *msg)
{
    g_ptr_array_add(opaque, g_strdup(msg));
}

void result_free(struct result *r)
{
    g_string_free(r->out, TRUE);
    g_ptr_array_free(r->warn, TRUE);
    g_free(r->error);
}

struct result read_reader(struct mmiotrace_reader *rd, enum mmiotrace_error_policy p)
{
    struct result res = {g_string_new(NULL), g_ptr_array_new_with_free_func(g_free), NULL, 0, 0};
    struct mmiotrace_record rec;
    static char line[MMIOTRACE_FORMAT_MAX];
    int got;

    mmiotrace_reader_set_policy(rd, p, on_warn, res.warn);
    while ((got = mmiotrace_reader_next(rd, &rec)) > 0) {
        int n = mmiotrace_format(line, sizeof(line), &rec, MMIOTRACE_FMT_EXTENDED);
        g_assert_cmpint(n, >=, 0);
        g_string_append_len(res.out, line, n);
        res.records++;
    }
    if (got < 0) {
        res.error = g_strdup(mmiotrace_reader_error(rd));
        /* a stopped reader stays stopped */
        g_assert_cmpint(mmiotrace_reader_next(rd, &rec), ==, -1);
    }
    res.skipped = mmiotrace_reader_skipped(rd);
    mmiotrace_reader_free(rd);
    return res;
}

struct result read_mem(const void *data, size_t len, const char *name,
                       enum mmiotrace_error_policy p)
{
    return read_reader(mmiotrace_reader_open_mem(data, len, name), p);
}

struct result read_str(const char *text, enum mmiotrace_error_policy p)
{
    return read_mem(text, strlen(text), "t.txt", p);
}

void expect_ok(const char *in, const char *want)
{
    struct result r = read_str(in, MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==, NULL);
    g_assert_cmpstr(r.out->str, ==, want);
    result_free(&r);
}

void expect_error(const char *in, const char *msg)
{
    struct result r = read_str(in, MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==, msg);
    result_free(&r);
    r = read_str(in, MMIOTRACE_ON_ERROR_SKIP);
    g_assert_cmpstr(r.error, ==, NULL);
    g_assert_cmpint(r.skipped, ==, 1);
    g_assert_cmpuint(r.warn->len, ==, 1);
    g_assert_cmpstr(r.warn->pdata[0], ==, msg);
    result_free(&r);
}

const char reader_sample[] =
    "VERSION 20070824\n"
    "PCIDEV 0018 808610d3 b feba0000 febc0000 c001 febf0000 0 0 0 20000 20000 20 4000 0 0 0 \n"
    "MARK 2.766196 MARK-START\n"
    "MAP 2.849603 1 0xfeba0000 0xffffcc2b406e0000 0x20000 0x0 0\n"
    "R 4 2.854035 2 0xfebf000c 0x1 0x0 0\n"
    "W 4 2.858352 2 0xfebf0000 0xfee01004 0x0 0\n";

static void test_each_record(void)
{
    struct mmiotrace_reader *rd =
        mmiotrace_reader_open_mem(reader_sample, strlen(reader_sample), "s.txt");
    struct mmiotrace_record r;

    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.type, ==, MMIOTRACE_VERSION);
    g_assert_cmpint(r.version.len, ==, 8);
    g_assert_true(!memcmp(r.version.text, "20070824", 8));
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.type, ==, MMIOTRACE_PCIDEV);
    g_assert_cmpint(r.pcidev.bus, ==, 0);
    g_assert_cmpint(r.pcidev.devfn, ==, 0x18);
    g_assert_cmpint(r.pcidev.vendor, ==, 0x8086);
    g_assert_cmpint(r.pcidev.device, ==, 0x10d3);
    g_assert_cmpint(r.pcidev.irq, ==, 0xb);
    g_assert_cmpuint(r.pcidev.resource[2], ==, 0xc001);
    g_assert_cmpuint(r.pcidev.size[3], ==, 0x4000);
    g_assert_cmpint(r.pcidev.driver_len, ==, 0);
    g_assert_cmpint(mmiotrace_reader_line(rd), ==, 2);
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.type, ==, MMIOTRACE_MARK);
    g_assert_cmpuint(r.ts_ns, ==, 2766196000ull);
    g_assert_cmpint(r.mark.len, ==, 10);
    g_assert_true(!memcmp(r.mark.text, "MARK-START", 10));
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.type, ==, MMIOTRACE_MAP);
    g_assert_cmpint(r.map.map_id, ==, 1);
    g_assert_cmpuint(r.map.phys, ==, 0xfeba0000);
    g_assert_cmpuint(r.map.virt, ==, 0xffffcc2b406e0000ull);
    g_assert_cmpuint(r.map.len, ==, 0x20000);
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.type, ==, MMIOTRACE_READ);
    g_assert_cmpint(r.rw.width, ==, 4);
    g_assert_cmpuint(r.ts_ns, ==, 2854035000ull);
    g_assert_cmpint(r.rw.map_id, ==, 2);
    g_assert_cmpuint(r.rw.phys, ==, 0xfebf000c);
    g_assert_cmpuint(r.rw.value, ==, 1);
    g_assert_cmpuint(r.rw.pc, ==, 0);
    g_assert_cmpint(r.ext, ==, 0);
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.type, ==, MMIOTRACE_WRITE);
    g_assert_cmpuint(r.rw.value, ==, 0xfee01004);
    g_assert_cmpint(mmiotrace_reader_line(rd), ==, 6);
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 0);
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 0);
    g_assert_false(mmiotrace_reader_is_jsonl(rd));
    g_assert_cmpint(mmiotrace_reader_compression(rd), ==, MMIOTRACE_COMP_NONE);
    mmiotrace_reader_free(rd);
}

/* The other records, each parsed and written back identically (each_lines[10] and [11]:
 * their facts are checked). */
static const char *const each_lines[] = {
    "UNKNOWN 0.005000 4 0xfebf0100 0f,c7,0e 0xffffffffc0123456 0\n",
    "UNMAP 10.000000 -1 0x0 0\n",
    "MARK 0.000000 Lost 42 events.\n",
    "PCIDEV 0018 808610d3 b feba0000 febc0000 c001 febf0000 0 0 0 20000 20000 20 4000 0 0 0 "
    "e1000e\n",
    "R 8 1.000001 2147483647 0xffffffffffffffff 0xffffffffffffffff 0xffffffffffffffff 0\n",
    "W 1 4294967295.999999 -2147483648 0x0 0x0 0x0 0\n",
    "PCICFG 1.000000 0018 8680d310\n",
    "IRQ 1.500000 INTX 0 1\n",
    "IRQ 1.500000 MSI 0 0xfee01004 0x4021\n",
    "IRQ 1.500000 MSIX 3 0xfee01004 0x4021 vcpu=none\n",
    "R 4 2.854035 2 0xfebf000c 0x1 0xffffffffc0a01234 0 ns=2854035123 vcpu=0 dev=e1000e "
    "bar=3 off=0xc insn=8b420c asm=\"mov eax, dword ptr [rdx + 0xc]\"\n",
    "R 4 2.854035 2 0xfebf000c 0x1 0x0 0 vcpu=none dev=\"my dev\" "
    "asm=\"a\\\"b\\\\c\\td\\ne\\x01\"\n",
    "MARKX 2.766196 ns=2766196400 dev=nic0 text=\"hello world\"\n",
    "MARKX 2.766196 ns=2766196400 text=\"two\\nlines\"\n",
    "LOST 3.000000 12 dev=nic0\n",
    "PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0  dev=nic0\n",
    "PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0 e1000e dev=nic0\n",
    "W 1 0.000001 2 0xfebf0000 0x5a 0x0 0 pc=unknown rejected=1\n",
};

static void test_each_record_round_trip(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(each_lines); i++) {
        expect_ok(each_lines[i], each_lines[i]);
    }
}

static void test_each_record_facts(void)
{
    struct mmiotrace_record r;
    const char *ext = each_lines[10];
    struct mmiotrace_reader *rd = mmiotrace_reader_open_mem(ext, strlen(ext), "e.txt");
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.ext, ==, MMIOTRACE_EXT_FACTS);
    g_assert_cmpuint(r.ts_ns, ==, 2854035123ull);
    g_assert_cmpint(r.vcpu, ==, 0);
    g_assert_cmpint(r.dev_len, ==, 6);
    g_assert_true(!memcmp(r.dev, "e1000e", 6));
    g_assert_cmpint(r.bar, ==, 3);
    g_assert_cmpuint(r.bar_off, ==, 0xc);
    g_assert_cmpint(r.insn_len, ==, 3);
    g_assert_true(!memcmp(r.insn, "\x8b\x42\x0c", 3));
    g_assert_cmpint(r.asm_len, ==, strlen("mov eax, dword ptr [rdx + 0xc]"));
    mmiotrace_reader_free(rd);
    const char *q = each_lines[11];
    rd = mmiotrace_reader_open_mem(q, strlen(q), "q.txt");
    g_assert_cmpint(mmiotrace_reader_next(rd, &r), ==, 1);
    g_assert_cmpint(r.vcpu, ==, MMIOTRACE_VCPU_NONE);
    g_assert_cmpint(r.asm_len, ==, 10);
    g_assert_true(!memcmp(r.asm_text, "a\"b\\c\td\ne\x01", 10));
    mmiotrace_reader_free(rd);
}

static void test_tolerance(void)
{
    const char *r1 = "R 4 2.854035 2 0xfebf000c 0x1 0x0 0\n";

    /* repeated headers (trace_pipe reopened) are records, not errors */
    expect_ok("VERSION 20070824\nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\nVERSION 20070824\n",
              "VERSION 20070824\nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\nVERSION 20070824\n");
    /* the 'trace' file's comment header; LSPCI lines; the kernel's "rw what?"/"map what?" */
    expect_ok("# tracer: mmiotrace\n#\n#           TASK-PID\nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\n",
              r1);
    expect_ok("LSPCI\nLSPCI 00:03.0 Ethernet controller\nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\n",
              r1);
    expect_ok("rw what?\nmap what?\nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\n", r1);
    /* blank lines, CRLF, a last line without newline, runs of blanks */
    expect_ok("\n  \nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\r\n\n", r1);
    expect_ok("R 4 2.854035 2 0xfebf000c 0x1 0x0 0", r1);
    expect_ok("R  4\t2.854035   2 0xfebf000c 0x1 0x0 0  \n", r1);
    /* hex with or without 0x, upper case */
    expect_ok("R 4 2.854035 2 febf000c 1 0 0\n", r1);
    expect_ok("R 4 2.854035 2 0XFEBF000C 0x00000000000000000001 0x0 0\n", r1);
    /* any number of fraction digits */
    expect_ok("R 4 2.854035123 2 0xfebf000c 0x1 0x0 0\n", r1);
    expect_ok("R 4 2.8540351234567 2 0xfebf000c 0x1 0x0 0\n", r1);
    expect_ok("R 4 2.85 2 0xfebf000c 0x1 0x0 0\n", "R 4 2.850000 2 0xfebf000c 0x1 0x0 0\n");
    expect_ok("R 4 2 2 0xfebf000c 0x1 0x0 0\n", "R 4 2.000000 2 0xfebf000c 0x1 0x0 0\n");
    expect_ok("R 4 2. 2 0xfebf000c 0x1 0x0 0\n", "R 4 2.000000 2 0xfebf000c 0x1 0x0 0\n");
    /* MARK text to the end of the line, blanks included; continuation lines */
    expect_ok("MARK 1.000000   spaced  out  \n", "MARK 1.000000   spaced  out  \n");
    expect_ok(
        "MARK 1.000000 line one\nline two\n\n  line four\nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\n",
        "MARK 1.000000 line one\nline two\n\n  line four\nR 4 2.854035 2 0xfebf000c 0x1 0x0 0\n");
    expect_ok("MARK 1.000000 a\nb", "MARK 1.000000 a\nb\n");
    expect_ok("MARK 1.000000\n", "MARK 1.000000 \n");
    /* MARK text that happens to look like data is still text */
    expect_ok("MARK 1.000000 R 4 x\n", "MARK 1.000000 R 4 x\n");
    /* only the kernel's exact report is a lost-events record */
    expect_ok("MARK 0.000000 Lost 05 events.\n", "MARK 0.000000 Lost 05 events.\n");
    expect_ok("MARK 1.000000 Lost 5 events.\n", "MARK 1.000000 Lost 5 events.\n");
    /* found by fuzzing: bar= without off= means offset 0, whatever the record held before */
    expect_ok("R 4 2.854035 2 0xfebf000c 0x1 0x0 0 bar=0 off=0x55a2c398dd50\n"
              "R 4 2.854035 2 0xfebf000c 0x1 0x0 0 bar=1\n",
              "R 4 2.854035 2 0xfebf000c 0x1 0x0 0 bar=0 off=0x55a2c398dd50\n"
              "R 4 2.854035 2 0xfebf000c 0x1 0x0 0 bar=1 off=0x0\n");
    /* unknown facts of a newer writer are ignored */
    expect_ok("R 4 2.854035 2 0xfebf000c 0x1 0x0 0 future=\"x y\" vcpu=1\n",
              "R 4 2.854035 2 0xfebf000c 0x1 0x0 0 vcpu=1\n");
    /* a blank after PCIDEV's driver slot holding a fact, not a driver */
    expect_ok("PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0 dev=nic0\n",
              "PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0  dev=nic0\n");
    expect_ok("PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
              "PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0 \n");
}

/* Each input must stop with exactly this message; with the skip policy it is a warning. */
static const struct {
    const char *in, *msg;
} errors[] = {
    {"R 3 2.854035 2 0xfebf000c 0x1 0x0 0\n", "t.txt:1: R record: width 3 is not 1, 2, 4 or 8"},
    {"VERSION 20070824\n\nR 4 2.854035 2 0xfebf000c 0x1 0x0\n", "t.txt:3: R record: missing pid"},
    {"R 4 2.854035 2 0xfebf000c\n", "t.txt:1: R record: missing value"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 pc=maybe\n", "t.txt:1: R record: pc= must be 'unknown'"},
    {"W 4 2.854035 2 0xfebf000c 0x1 0x0 0 rejected=yes\n",
     "t.txt:1: W record: rejected= must be 1"},
    {"W 4 2.854035 2 0xfebf000c 0x1 0x10 0 pc=unknown\n",
     "t.txt:1: W record: pc=unknown with a non-zero PC"},
    {"R\n", "t.txt:1: R record: missing width"},
    {"W 4 2.854035 2 zz 0x1 0x0 0\n", "t.txt:1: W record: bad phys 'zz'"},
    {"W 4 2.854035 2 0x 0x1 0x0 0\n", "t.txt:1: W record: bad phys '0x'"},
    {"W 4 2.854035 2 0x12g 0x1 0x0 0\n", "t.txt:1: W record: bad phys '0x12g'"},
    {"W 4 2.85x 2 0x1 0x1 0x0 0\n", "t.txt:1: W record: bad timestamp '2.85x'"},
    {"W 4 -2.5 2 0x1 0x1 0x0 0\n", "t.txt:1: W record: bad timestamp '-2.5'"},
    /* overflowing numbers */
    {"R 4 2.854035 2 0x1ffffffffffffffff 0x1 0x0 0\n",
     "t.txt:1: R record: phys '0x1ffffffffffffffff' is too large"},
    {"R 4 2.854035 2147483648 0x1 0x1 0x0 0\n",
     "t.txt:1: R record: map id '2147483648' is too large"},
    {"R 4 2.854035 -2147483649 0x1 0x1 0x0 0\n",
     "t.txt:1: R record: map id '-2147483649' is too large"},
    {"R 18446744073709551616 2.854035 2 0x1 0x1 0x0 0\n",
     "t.txt:1: R record: width '18446744073709551616' is too large"},
    {"R 4 18446744074.0 2 0x1 0x1 0x0 0\n",
     "t.txt:1: R record: timestamp '18446744074.0' is too large"},
    {"R 4 1.0 2 0x1 0x1 0x0 0 ns=18446744073709551615\n",
     "t.txt:1: R record: too large ns='18446744073709551615'"},
    {"PCIDEV 10018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0 \n",
     "t.txt:1: PCIDEV record: bus/devfn '10018' is too large"},
    {"PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0\n",
     "t.txt:1: PCIDEV record: missing resource size"},
    {"UNKNOWN 0.005000 4 0xfebf0100 0f,c7 0x0 0\n",
     "t.txt:1: UNKNOWN record: bad opcode bytes '0f,c7'"},
    {"MAP 2.849603 1 0xfeba0000 0xffffcc2b406e0000\n", "t.txt:1: MAP record: missing len"},
    {"UNMAP 10.000000 x 0x0 0\n", "t.txt:1: UNMAP record: bad map id 'x'"},
    {"IRQ 1.0 NMI 0 1\n", "t.txt:1: IRQ record: bad kind (INTX, MSI or MSIX) 'NMI'"},
    {"IRQ 1.0 INTX 4 1\n", "t.txt:1: IRQ record: INTX pin must be 0-3 and level 0 or 1"},
    {"PCICFG 1.0 0018 abc\n",
     "t.txt:1: PCICFG record: config space must be 1 to 4096 bytes in hex, not 3 digits"},
    {"PCICFG 1.0 0018 zz\n", "t.txt:1: PCICFG record: bad config bytes 'zz'"},
    /* unknown keywords, stray fields, bad facts */
    {"FOO 1 2 3\n", "t.txt:1: unknown record type 'FOO'"},
    {"\xff\xfe garbage\n", "t.txt:1: unknown record type '\\xff\\xfe'"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 junk\n", "t.txt:1: R record: unexpected field 'junk'"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 ns=2854035999\n",
     "t.txt:1: R record: ns=2854035999 does not round to the timestamp"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 bar=7\n", "t.txt:1: R record: bar=7 is not 0-6"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 off=0x10\n", "t.txt:1: R record: off= without bar="},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 vcpu=x\n", "t.txt:1: R record: bad vcpu='x'"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 vcpu=2147483648\n",
     "t.txt:1: R record: too large vcpu='2147483648'"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 insn=8b4\n",
     "t.txt:1: R record: insn= must be 1 to 16 bytes in hex"},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 asm=\"mov\n",
     "t.txt:1: R record: unterminated quoted value of asm="},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 asm=\"a\\qb\"\n",
     "t.txt:1: R record: bad escape '\\q' in asm="},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 asm=\"a\\x4\"\n",
     "t.txt:1: R record: bad \\x escape in asm="},
    {"R 4 2.854035 2 0xfebf000c 0x1 0x0 0 asm=\"a\"b\n",
     "t.txt:1: R record: text after the closing quote of asm="},
    {"MARKX 1.0 dev=x\n", "t.txt:1: MARKX record: missing text="},
    /* found by fuzzing: ns on a record without a time; times beyond the kernel's %u seconds */
    {"PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0  ns=5\n",
     "t.txt:1: PCIDEV record: ns= on a record without a time"},
    {"R 4 4294967296.0 2 0x1 0x1 0x0 0\n",
     "t.txt:1: R record: timestamp '4294967296.0' is too large"},
    {"R 4 4294967295.9999995 2 0x1 0x1 0x0 0\n",
     "t.txt:1: R record: timestamp '4294967295.9999995' is too large"},
    /* found by fuzzing: control characters in VERSION and the driver name */
    {"VERSION 20070824\x08\n", "t.txt:1: VERSION record: bad version '20070824\\x08'"},
    {"PCIDEV 0018 808610d3 b 0 0 0 0 0 0 0 0 0 0 0 0 0 0 e1000\x01\n",
     "t.txt:1: PCIDEV record: control character in the driver name"},
};

static void test_errors(void)
{
    for (size_t i = 0; i < G_N_ELEMENTS(errors); i++) {
        expect_error(errors[i].in, errors[i].msg);
    }
    /* the last times within the kernel's %u seconds */
    expect_ok("R 4 4294967295.999999 2 0x1 0x1 0x0 0\n", "R 4 4294967295.999999 2 0x1 0x1 0x0 0\n");
    expect_ok("R 4 4294967295.9999994 2 0x1 0x1 0x0 0\n",
              "R 4 4294967295.999999 2 0x1 0x1 0x0 0\n");
}

static void test_nul_bytes(void)
{
    /* NUL bytes */
    static const char nul[] = "R 4 2.854035 2 0xfeb\0000c 0x1 0x0 0\n";
    struct result r = read_mem(nul, sizeof(nul) - 1, "n.txt", MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==, "n.txt:1: NUL byte at column 21 (binary data?)");
    result_free(&r);
    static const char nulmark[] = "MARK 1.0 a\0b\n";
    r = read_mem(nulmark, sizeof(nulmark) - 1, "n.txt", MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==, "n.txt:1: NUL byte in MARK text (binary data?)");
    result_free(&r);
    static const char nulcont[] = "MARK 1.0 a\nb\0\nR 4 1.0 1 0x1 0x1 0x0 0\n";
    r = read_mem(nulcont, sizeof(nulcont) - 1, "n.txt", MMIOTRACE_ON_ERROR_SKIP);
    g_assert_cmpstr(r.error, ==, NULL);
    g_assert_cmpint(r.skipped, ==, 1);
    g_assert_cmpstr(r.out->str, ==, "R 4 1.000000 1 0x1 0x1 0x0 0\n");
    g_assert_cmpstr(r.warn->pdata[0], ==, "n.txt:2: NUL byte in MARK text (binary data?)");
    result_free(&r);
}

static void test_skip_policy(void)
{
    const char *in = "R 4 1.0 1 0x1 0x1 0x0 0\n"
                     "R 3 1.0 1 0x1 0x1 0x0 0\n"
                     "bogus\n"
                     "W 4 2.0 1 0x1 0x2 0x0 0\n";
    struct result r = read_str(in, MMIOTRACE_ON_ERROR_SKIP);

    g_assert_cmpstr(r.error, ==, NULL);
    g_assert_cmpint(r.skipped, ==, 2);
    g_assert_cmpint(r.records, ==, 2);
    g_assert_cmpstr(r.warn->pdata[0], ==, "t.txt:2: R record: width 3 is not 1, 2, 4 or 8");
    g_assert_cmpstr(r.warn->pdata[1], ==, "t.txt:3: unknown record type 'bogus'");
    g_assert_cmpstr(r.out->str, ==, "R 4 1.000000 1 0x1 0x1 0x0 0\nW 4 2.000000 1 0x1 0x2 0x0 0\n");
    result_free(&r);
    r = read_str(in, MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==, "t.txt:2: R record: width 3 is not 1, 2, 4 or 8");
    g_assert_cmpint(r.records, ==, 1);
    result_free(&r);
}

static void test_long_lines(void)
{
    /* the longest acceptable line (65535 bytes + newline), one byte more, one beyond the buffer */
    static const size_t lens[] = {MMIOTRACE_LINE_MAX - 1, MMIOTRACE_LINE_MAX, 3 * 1024 * 1024};
    for (size_t k = 0; k < G_N_ELEMENTS(lens); k++) {
        GString *s = g_string_new("R 4 1.0 1 0x1 0x1 0x0 0\n");
        size_t start = s->len;
        g_string_append(s, "MARK 1.0 ");
        while (s->len - start < lens[k]) {
            g_string_append_c(s, 'x');
        }
        g_string_append(s, "\nW 4 2.0 1 0x1 0x2 0x0 0\n");
        struct result r = read_mem(s->str, s->len, "l.txt", MMIOTRACE_ON_ERROR_SKIP);
        g_assert_cmpstr(r.error, ==, NULL);
        g_assert_cmpint(r.skipped, ==, 1);
        if (k == 0) {
            /* MARK text over the 4096-byte limit: an error, but not an over-long line */
            g_assert_cmpstr(r.warn->pdata[0], ==,
                            "l.txt:2: MARK record: text is longer than 4096 bytes");
        } else {
            g_assert_cmpstr(r.warn->pdata[0], ==, "l.txt:2: line is longer than 65536 bytes");
        }
        g_assert_cmpstr(r.out->str, ==,
                        "R 4 1.000000 1 0x1 0x1 0x0 0\nW 4 2.000000 1 0x1 0x2 0x0 0\n");
        result_free(&r);
        r = read_mem(s->str, s->len, "l.txt", MMIOTRACE_ON_ERROR_STOP);
        g_assert_nonnull(r.error);
        g_assert_cmpint(r.records, ==, 1);
        result_free(&r);
        g_string_free(s, TRUE);
    }
    /* an over-long last line without a newline */
    GString *s = g_string_new("R 4 1.0 1 0x1 0x1 0x0 0\n");
    for (int i = 0; i < 200000; i++) {
        g_string_append_c(s, 'y');
    }
    struct result r = read_mem(s->str, s->len, "l.txt", MMIOTRACE_ON_ERROR_SKIP);
    g_assert_cmpint(r.records, ==, 1);
    g_assert_cmpint(r.skipped, ==, 1);
    g_assert_cmpstr(r.warn->pdata[0], ==, "l.txt:2: line is longer than 65536 bytes");
    result_free(&r);
    g_string_free(s, TRUE);
}

static void test_garbage(void)
{
    GRand *rnd = g_rand_new_with_seed(42);

    for (int round = 0; round < 200; round++) {
        size_t len = g_rand_int_range(rnd, 0, 20000);
        char *junk = g_malloc(len + 1);
        for (size_t i = 0; i < len; i++) {
            junk[i] = g_rand_int(rnd);
            if (round % 2 && g_rand_int_range(rnd, 0, 40) == 0) {
                junk[i] = '\n';
            }
        }
        struct result r = read_mem(junk, len, "g.bin", MMIOTRACE_ON_ERROR_SKIP);
        if (r.error) {
            g_assert_true(g_str_has_prefix(r.error, "g.bin:"));
        }
        result_free(&r);
        r = read_mem(junk, len, "g.bin", MMIOTRACE_ON_ERROR_STOP);
        if (len && r.records == 0) {
            g_assert_nonnull(r.error);
            g_assert_true(g_str_has_prefix(r.error, "g.bin:"));
        }
        result_free(&r);
        g_free(junk);
    }
    g_rand_free(rnd);
}

static void test_jsonl(void)
{
    expect_ok("{\"type\":\"R\",\"ts_us\":2854035,\"width\":4,\"map_id\":2,\"phys\":\"0xfebf000c\","
              "\"value\":\"0x1\",\"pc\":\"0x0\"}\n",
              "R 4 2.854035 2 0xfebf000c 0x1 0x0 0\n");
    expect_ok(
        "{\"type\":\"R\",\"ts_ns\":2854035123,\"width\":4,\"map_id\":2,\"phys\":\"febf000c\","
        "\"value\":1,\"pc\":\"0x0\",\"vcpu\":null,\"dev\":\"a b\",\"bar\":3,\"offset\":\"0xc\","
        "\"insn\":\"8b420c\",\"asm\":\"mov\"}\n",
        "R 4 2.854035 2 0xfebf000c 0x1 0x0 0 ns=2854035123 vcpu=none dev=\"a b\" bar=3 off=0xc "
        "insn=8b420c asm=mov\n");
    expect_error(
        "{\"type\":\"R\",\"ts_us\":1,\"width\":4,\"map_id\":2,\"value\":\"0x1\",\"pc\":\"0x0\"}\n",
        "t.txt:1: R record: missing \"phys\"");
    expect_error("{\"type\":\"R\",\"ts_us\":1,\"width\":3,\"map_id\":2,\"phys\":\"0x1\",\"value\":"
                 "\"0x1\",\"pc\":\"0x0\"}\n",
                 "t.txt:1: R record: width is not 1, 2, 4 or 8");
    expect_error("{\"type\":\"R\",\"ts_us\":1,\"width\":4,\"map_id\":2,\"phys\":"
                 "\"0x1ffffffffffffffff\",\"value\":\"0x1\",\"pc\":\"0x0\"}\n",
                 "t.txt:1: R record: too large \"phys\"");
    expect_error("{\"type\":\"FOO\"}\n", "t.txt:1: unknown record type \"FOO\"");
    /* found by fuzzing: VERSION carries no facts, in JSONL as in text */
    expect_ok("{\"type\":\"VERSION\",\"version\":\"20070824\",\"vcpu\":1}\n", "VERSION 20070824\n");
    expect_error("{\"type\":\"MARK\",\"ts_us\":1,\"text\":\"a\\u0000b\"}\n",
                 "t.txt:1: MARK record: NUL character in \"text\"");
    expect_error("{\"type\":\"VERSION\",\"version\":\"1\"} x\n",
                 "t.txt:1: bad JSON: text after the object");
    expect_error("{\"type\":\"VERSION\",\n", "t.txt:1: bad JSON: unexpected end of line");
    expect_error("{\"type\":\"VERSION\",\"version\":\"1\"}\n[1]\n",
                 "t.txt:2: bad JSON: a record must be an object");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/reader/each-record", test_each_record);
    g_test_add_func("/reader/each-record/round-trip", test_each_record_round_trip);
    g_test_add_func("/reader/each-record/facts", test_each_record_facts);
    g_test_add_func("/reader/tolerance", test_tolerance);
    g_test_add_func("/reader/errors", test_errors);
    g_test_add_func("/reader/errors/nul-bytes", test_nul_bytes);
    g_test_add_func("/reader/skip-policy", test_skip_policy);
    g_test_add_func("/reader/long-lines", test_long_lines);
    g_test_add_func("/reader/garbage", test_garbage);
    reader_add_compressed_tests();
    g_test_add_func("/reader/jsonl", test_jsonl);
    reader_add_dma_tests();
    return g_test_run();
}
