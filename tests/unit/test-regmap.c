/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The reverse-engineering workbench (docs/regmap.md): register maps (YAML and rules-ng-ng),
 * the shipped maps against their sources (the test device's against tools/testdev-regs.h),
 * symbols; the commands (hvmmio decode, symbolize, stat, convert --to perfetto) are in
 * test-regmap-cmds.c. Expected names and field values come from the datasheets and the hand-written
 * fixtures, never from the code under test.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <zlib.h>

#include "regmap.h"
#include "symbols.h"
#include "test-regmap.h"

static const char *srcdir; /* the project's source root */

char *test_src(const char *rel)
{
    return g_build_filename(srcdir, rel, NULL);
}

static struct regmap *load_ok(const char *rel)
{
    g_autofree char *p = test_src(rel);
    g_autoptr(GError) e = NULL;
    struct regmap *m = regmap_load(p, &e);
    if (!m) {
        g_test_message("%s", e->message);
    }
    g_assert_nonnull(m);
    return m;
}

/* The name at (bar, off), "" when nothing is there. */
static const char *name_at(struct regmap *m, unsigned bar, uint64_t off)
{
    const struct regmap_hit *h = regmap_lookup(m, bar, off);
    return h->reg ? h->name : "";
}

static char *decoded(struct regmap *m, unsigned bar, uint64_t off, uint64_t value, unsigned width)
{
    const struct regmap_hit *h = regmap_lookup(m, bar, off);
    g_assert_nonnull(h->reg);
    GString *s = g_string_new(NULL);
    regmap_format(s, h, value, width);
    return g_string_free(s, FALSE);
}

static void test_e1000e(void)
{
    struct regmap *m = load_ok("regmaps/e1000e.yaml");
    /* 82574 datasheet, table 10-3 */
    g_assert_cmpstr(name_at(m, 0, 0x0000), ==, "CTRL");
    g_assert_cmpstr(name_at(m, 0, 0x0008), ==, "STATUS");
    g_assert_cmpstr(name_at(m, 0, 0x0010), ==, "EECD");
    g_assert_cmpstr(name_at(m, 0, 0x0014), ==, "EERD");
    g_assert_cmpstr(name_at(m, 0, 0x0018), ==, "CTRL_EXT");
    g_assert_cmpstr(name_at(m, 0, 0x0020), ==, "MDIC");
    g_assert_cmpstr(name_at(m, 0, 0x00c0), ==, "ICR");
    g_assert_cmpstr(name_at(m, 0, 0x00c4), ==, "ITR");
    g_assert_cmpstr(name_at(m, 0, 0x00c8), ==, "ICS");
    g_assert_cmpstr(name_at(m, 0, 0x00d0), ==, "IMS");
    g_assert_cmpstr(name_at(m, 0, 0x00d8), ==, "IMC");
    g_assert_cmpstr(name_at(m, 0, 0x0100), ==, "RCTL");
    g_assert_cmpstr(name_at(m, 0, 0x0400), ==, "TCTL");
    g_assert_cmpstr(name_at(m, 0, 0x2800), ==, "RXQ[0].RDBAL");
    g_assert_cmpstr(name_at(m, 0, 0x2804), ==, "RXQ[0].RDBAH");
    g_assert_cmpstr(name_at(m, 0, 0x2808), ==, "RXQ[0].RDLEN");
    g_assert_cmpstr(name_at(m, 0, 0x2810), ==, "RXQ[0].RDH");
    g_assert_cmpstr(name_at(m, 0, 0x2918), ==, "RXQ[1].RDT");
    g_assert_cmpstr(name_at(m, 0, 0x3800), ==, "TXQ[0].TDBAL");
    g_assert_cmpstr(name_at(m, 0, 0x3818), ==, "TXQ[0].TDT");
    g_assert_cmpstr(name_at(m, 0, 0x5200), ==, "MTA[0]");
    g_assert_cmpstr(name_at(m, 0, 0x53fc), ==, "MTA[127]");
    g_assert_cmpstr(name_at(m, 0, 0x5418), ==, "RAL[3]");
    g_assert_cmpstr(name_at(m, 0, 0x541c), ==, "RAH[3]");
    g_assert_cmpstr(name_at(m, 0, 0x5478), ==, "RAL[15]");
    g_assert_cmpstr(name_at(m, 0, 0x5480), ==, ""); /* past RAL/RAH[15] */
    g_assert_cmpstr(name_at(m, 0, 0x0004), ==, ""); /* a hole */
    g_assert_cmpstr(name_at(m, 1, 0x0000), ==, ""); /* BAR1 (flash) has no map */
    g_assert_cmpstr(name_at(m, 3, 0x001c), ==, "MSIX[1].VECTOR_CTRL");
    /* CTRL = RST (bit 26) | RFCE (27) | SLU (6): fields in bit order, SPEED 0 = 10M */
    g_autofree char *ctrl = decoded(m, 0, 0, 0x0c000040, 4);
    g_assert_cmpstr(ctrl, ==, "CTRL = 0x0c000040 {SLU, SPEED=10M, RST, RFCE}");
    /* STATUS 0x80283: FD, LU, SPEED 10b = 1000, ASDV 10b, GIO master enable (bit 19) */
    g_autofree char *status = decoded(m, 0, 8, 0x80283, 4);
    g_assert_cmpstr(status, ==,
                    "STATUS = 0x00080283 {FD, LU, SPEED=1000M, ASDV=2, GIO_MASTER_ENABLE}");
    /* MDIC read of PHY 1 register 2 done: DATA 0x141, OP 10b READ, R (ready) */
    g_autofree char *mdic = decoded(m, 0, 0x20, 0x18220141, 4);
    g_assert_cmpstr(mdic, ==, "MDIC = 0x18220141 {DATA=0x141, REGADD=2, PHYADD=1, OP=READ, R}");
    /* a bit no field claims is shown as a rest */
    g_autofree char *rctl = decoded(m, 0, 0x100, 0x2 | 1u << 31, 4);
    g_assert_cmpstr(rctl, ==,
                    "RCTL = 0x80000002 {EN, LBM=NORMAL, RDMTS=HALF, DTYP=LEGACY, +0x80000000}");
    /* a 2-byte read of RAH's upper half: AV is bit 31, bit 15 of the half */
    g_autofree char *rah = decoded(m, 0, 0x5406, 0x8000, 2);
    g_assert_cmpstr(rah, ==, "RAH[0]+0x2 = 0x8000 {AV}");
    regmap_free(m);
}

static void test_nvme(void)
{
    struct regmap *m = load_ok("regmaps/nvme.yaml");
    /* NVMe base specification 2.0, figure 35 */
    g_assert_cmpstr(name_at(m, 0, 0x00), ==, "CAP");
    g_assert_cmpstr(name_at(m, 0, 0x08), ==, "VS");
    g_assert_cmpstr(name_at(m, 0, 0x0c), ==, "INTMS");
    g_assert_cmpstr(name_at(m, 0, 0x10), ==, "INTMC");
    g_assert_cmpstr(name_at(m, 0, 0x14), ==, "CC");
    g_assert_cmpstr(name_at(m, 0, 0x1c), ==, "CSTS");
    g_assert_cmpstr(name_at(m, 0, 0x24), ==, "AQA");
    g_assert_cmpstr(name_at(m, 0, 0x28), ==, "ASQ");
    g_assert_cmpstr(name_at(m, 0, 0x30), ==, "ACQ");
    g_assert_cmpstr(name_at(m, 0, 0x1000), ==, "DB[0].SQTDBL");
    g_assert_cmpstr(name_at(m, 0, 0x1004), ==, "DB[0].CQHDBL");
    g_assert_cmpstr(name_at(m, 0, 0x101c), ==, "DB[3].CQHDBL");
    /* CC: EN, IOSQES 6 (64-byte SQ entries), IOCQES 4 (16-byte CQ entries) */
    g_autofree char *cc = decoded(m, 0, 0x14, 0x00460001, 4);
    g_assert_cmpstr(cc, ==, "CC = 0x00460001 {EN, CSS=NVM, AMS=RR, SHN=NONE, IOSQES=6, IOCQES=4}");
    g_autofree char *shn = decoded(m, 0, 0x14, 0x00464001, 4);
    g_assert_nonnull(strstr(shn, "SHN=NORMAL"));
    /* CAP's high half read alone: DSTRD (35:32) 0, CSS (44:37) 0x41, MPSMAX (55:52) 4 */
    g_autofree char *caphi = decoded(m, 0, 0x4, 0x00400820, 4);
    g_assert_cmpstr(caphi, ==, "CAP+0x4 = 0x00400820 {CSS=0x41, MPSMAX=4}");
    /* CSTS shutdown complete */
    g_autofree char *csts = decoded(m, 0, 0x1c, 0x9, 4);
    g_assert_cmpstr(csts, ==, "CSTS = 0x00000009 {RDY, SHST=COMPLETE}");
    regmap_free(m);
}

static void test_edu(void)
{
    struct regmap *m = load_ok("regmaps/edu.yaml");
    /* QEMU docs/specs/edu.rst */
    g_autofree char *id = decoded(m, 0, 0, 0x010000ed, 4);
    g_assert_cmpstr(id, ==, "ID = 0x010000ed {ED=EDU, MAJOR=1}");
    g_assert_cmpstr(name_at(m, 0, 0x08), ==, "FACTORIAL");
    g_assert_cmpstr(name_at(m, 0, 0x60), ==, "IRQ_RAISE");
    g_assert_cmpstr(name_at(m, 0, 0x64), ==, "IRQ_ACK");
    g_assert_cmpstr(name_at(m, 0, 0x90), ==, "DMA_COUNT");
    g_autofree char *cmd = decoded(m, 0, 0x98, 0x7, 8);
    g_assert_cmpstr(cmd, ==, "DMA_CMD = 0x0000000000000007 {START, DIRECTION=EDU_TO_RAM, IRQ}");
    regmap_free(m);
}

/* regmaps/hvmmio-testdev.yaml against tools/testdev-regs.h, both ways. */
static void test_testdev_drift(void)
{
    struct regmap *m = load_ok("regmaps/hvmmio-testdev.yaml");
    g_autofree char *hpath = test_src("tools/testdev-regs.h");
    g_autofree char *h = NULL;
    g_assert_true(g_file_get_contents(hpath, &h, NULL, NULL));
    g_autoptr(GRegex) re =
        g_regex_new("^#define\\s+(REG_|STATUS_|SCRATCH_|TAIL_|BAR0_|BAR2_|TESTDEV_)(\\w+)\\s+"
                    "\\(?(0x[0-9a-fA-F]+|[0-9]+)u?(?:ull)?\\s*(?:<<\\s*([0-9]+))?",
                    G_REGEX_MULTILINE, 0, NULL);
    g_autoptr(GMatchInfo) mi = NULL;
    g_autoptr(GHashTable) regs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    unsigned checked = 0;
    uint64_t scratch_start = 0, scratch_size = 0, tail_start = 0, tail_size = 0, bar2 = 0;
    uint32_t vendor = 0, device = 0;
    g_regex_match(re, h, 0, &mi);
    while (g_match_info_matches(mi)) {
        g_autofree char *kind = g_match_info_fetch(mi, 1);
        g_autofree char *name = g_match_info_fetch(mi, 2);
        g_autofree char *num = g_match_info_fetch(mi, 3);
        g_autofree char *shift = g_match_info_fetch(mi, 4);
        uint64_t v = g_ascii_strtoull(num, NULL, 0);
        if (shift && *shift) {
            v <<= g_ascii_strtoull(shift, NULL, 10);
        }
        if (!strcmp(kind, "REG_")) {
            g_test_message("REG_%s = 0x%" PRIx64, name, v);
            g_assert_cmpstr(name_at(m, 0, v), ==, name);
            g_assert_cmpuint(regmap_lookup(m, 0, v)->delta, ==, 0);
            g_hash_table_add(regs, g_strdup(name));
            checked++;
        } else if (!strcmp(kind, "STATUS_")) {
            /* STATUS_X (1u << n): STATUS's field X is bit n */
            const struct regmap_hit *st = regmap_lookup(m, 0, 0x28);
            GString *s = g_string_new(NULL);
            regmap_format_fields(s, st->reg, v);
            g_autofree char *want = g_strdup_printf(" {%s}", name);
            g_assert_cmpstr(s->str, ==, want);
            g_string_free(s, TRUE);
            checked++;
        } else if (!strcmp(kind, "SCRATCH_")) {
            *(strcmp(name, "START") ? &scratch_size : &scratch_start) = v;
        } else if (!strcmp(kind, "TAIL_")) {
            *(strcmp(name, "START") ? &tail_size : &tail_start) = v;
        } else if (!strcmp(kind, "BAR2_") && !strcmp(name, "SIZE")) {
            bar2 = v;
        } else if (!strcmp(kind, "TESTDEV_") && !strcmp(name, "VENDOR")) {
            vendor = (uint32_t)v;
        } else if (!strcmp(kind, "TESTDEV_") && !strcmp(name, "DEVICE")) {
            device = (uint32_t)v;
        }
        g_match_info_next(mi, NULL);
    }
    g_assert_cmpuint(checked, >=, 14);
    /* the memory-like ranges: first and last byte named, the byte after not */
    g_assert_cmpstr(name_at(m, 0, scratch_start), ==, "SCRATCH[0]");
    g_assert_true(g_str_has_prefix(name_at(m, 0, scratch_start + scratch_size - 1), "SCRATCH["));
    g_assert_cmpstr(name_at(m, 0, scratch_start + scratch_size), ==, "");
    g_assert_cmpstr(name_at(m, 0, tail_start), ==, "TAIL[0]");
    g_assert_true(g_str_has_prefix(name_at(m, 0, tail_start + tail_size - 1), "TAIL["));
    g_assert_cmpstr(name_at(m, 2, 0), ==, "PATTERN[0]");
    g_assert_true(g_str_has_prefix(name_at(m, 2, bar2 - 1), "PATTERN["));
    g_assert_cmpstr(name_at(m, 2, bar2), ==, "");
    g_assert_cmpuint(m->pci_ids->len, ==, 1);
    g_assert_cmphex(g_array_index(m->pci_ids, uint32_t, 0), ==, vendor << 16 | device);
    /* the other way: every BAR0 register of the map is a REG_ (or a memory range) */
    for (guint i = 0; i < m->bars[0]->len; i++) {
        const struct regmap_node *n = m->bars[0]->pdata[i];
        if (!strcmp(n->name, "SCRATCH") || !strcmp(n->name, "TAIL")) {
            continue;
        }
        g_test_message("map register %s", n->name);
        g_assert_true(g_hash_table_contains(regs, n->name));
    }
    regmap_free(m);
}

/* Malformed maps: the error names the file and the line of the fault. */
static void test_yaml_errors(void)
{
    static const struct {
        const char *text, *want;
    } cases[] = {
        {"registers:\n  A: {offset: 0x0\n", "bad.yaml:3: "},
        {"registers:\n  A:\n    offset: 0x0\n    colour: red\n",
         "bad.yaml:4: A: unknown key 'colour'"},
        {"registers:\n  A:\n    offset: 0x0\n    fields:\n      X: 32\n",
         "bad.yaml:5: field X: bit 32 is outside the 32-bit register A"},
        {"registers:\n  A:\n    offset: 0x0\n    fields:\n      X: 3:0\n      Y: 2\n",
         "bad.yaml:6: field Y overlaps another field of A"},
        {"registers:\n  A: {offset: 0}\n  A: {offset: 4}\n",
         "bad.yaml:3: register A is defined twice"},
        {"registers:\n  A: {offset: four}\n", "bad.yaml:2: offset: 'four' is not a number"},
        {"registers:\n  A:\n    width: 12\n    offset: 0\n",
         "bad.yaml:3: width 12: use 8, 16, 32 or 64"},
        {"registers:\n  A: {width: 32}\n", "bad.yaml:2: A has no offset"},
        {"registers:\n  G:\n    offset: 0\n    count: 4\n    registers: {X: {offset: 0}}\n",
         "bad.yaml:3: G: an array of groups needs a stride"},
        {"pci: [\"8086-10d3\"]\nregisters: {A: {offset: 0}}\n", "bad.yaml:1: pci id '8086-10d3'"},
        {"registers:\n  A: {offset: 0, access: sometimes}\n", "bad.yaml:2: A: access 'sometimes'"},
        {"registers:\n  A:\n    offset: 0\n    fields:\n      X: {bits: 1:0, values: {4: FOUR}}\n",
         "bad.yaml:5: value 4 does not fit in the field"},
        {"name: x\n", "bad.yaml:1: the map has no registers"},
        {"", "bad.yaml:1: empty register map"},
        {"- a\n- b\n", "bad.yaml:1: a register map must be a mapping"},
        {"bars:\n  9: {A: {offset: 0}}\n", "bad.yaml:2: bar 9: BARs are 0-6"},
        {"registers:\n  A: {offset: 0xfffffffffffffff0, count: 16}\n",
         "bad.yaml:2: A: the array runs past 2^64"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) e = NULL;
        struct regmap *m =
            regmap_load_yaml_mem(cases[i].text, strlen(cases[i].text), "bad.yaml", &e);
        g_test_message("case %zu: %s", i, e ? e->message : "(loaded)");
        g_assert_null(m);
        g_assert_nonnull(strstr(e->message, cases[i].want));
    }
    g_autoptr(GError) e = NULL;
    g_assert_null(regmap_load("/nonexistent/map.yaml", &e));
    g_assert_nonnull(strstr(e->message, "/nonexistent/map.yaml"));
}

static void test_rnn(void)
{
    g_autofree char *p = test_src("tests/unit/regmap/rnn-nv.xml");
    g_autoptr(GError) e = NULL;
    struct regmap *m = regmap_load_rnn(p, NULL, NULL, &e);
    g_assert_no_error(e);
    g_assert_cmpstr(m->name, ==, "NV_MMIO");
    g_assert_cmpstr(name_at(m, 0, 0x0), ==, "PMC.ID");
    g_assert_cmpstr(name_at(m, 0, 0x104), ==, "PMC.INTR[1]");
    g_assert_cmpstr(name_at(m, 0, 0x2504), ==, "PFIFO.MODE");
    g_assert_cmpstr(name_at(m, 0, 0x2830), ==, "PFIFO.CHAN_CTX"); /* stripe: no name of its own */
    g_assert_cmpstr(name_at(m, 0, 0x2834), ==, "PFIFO.CHAN_PRIO");
    g_assert_cmpstr(name_at(m, 0, 0x2835), ==, ""); /* a reg8 is one byte */
    g_assert_cmpstr(name_at(m, 0, 0x9404), ==, "PTIMER_TIME");
    g_assert_cmpstr(name_at(m, 0, 0x400310), ==, "PGRAPH_UNIT[3].STATUS");
    /* NV_MMIO's part in the imported rnn-more.xml */
    g_assert_cmpstr(name_at(m, 0, 0x9400), ==, "PTIMER.TIME_LOW");
    g_autofree char *alarm = decoded(m, 0, 0x9100, 1, 4);
    g_assert_cmpstr(alarm, ==, "PTIMER.INTR = 0x00000001 {ALARM}");
    /* shr="2": the field holds the address >> 2, shown shifted back */
    g_autofree char *fault = decoded(m, 0, 0x9084, 0x1000, 4);
    g_assert_cmpstr(fault, ==, "PTIMER.FAULT = 0x00001000 {ADDRESS=0x1000}");
    /* without a variant the first definition at an offset wins */
    g_assert_cmpstr(name_at(m, 0, 0x300), ==, "PMC.NEWER");
    g_autofree char *id = decoded(m, 0, 0, 0x050000a2, 4);
    /* fields in bit order, whatever the order in the file */
    g_assert_cmpstr(id, ==, "PMC.ID = 0x050000a2 {STEPPING=0xa2, CHIPSET=0x50}");
    /* a bitset by type="..." */
    g_autofree char *intr = decoded(m, 0, 0x100, 0x3101, 4);
    g_assert_cmpstr(intr, ==, "PMC.INTR[0] = 0x00003101 {FIFO, GRAPH, TIMER_CNT=3}");
    /* a bitfield with an enum type, a boolean, and a register's own values */
    g_autofree char *mode = decoded(m, 0, 0x2504, 0x11, 4);
    g_assert_cmpstr(mode, ==, "PFIFO.MODE = 0x00000011 {CH0=DMA, CAN_PUSH}");
    g_autofree char *state = decoded(m, 0, 0x2900, 3, 4);
    g_assert_cmpstr(state, ==, "PFIFO.STATE = 0x00000003 (BUSY)");
    regmap_free(m);

    /* variants: NV10 is before NV50 (OLDER, NV04:NV50), NVC0 after (NEWER, NV50-) */
    m = regmap_load_rnn(p, NULL, "NV10", &e);
    g_assert_no_error(e);
    g_assert_cmpstr(name_at(m, 0, 0x300), ==, "PMC.OLDER");
    g_assert_cmpstr(name_at(m, 0, 0x400310), ==, "");              /* PGRAPH_UNIT is NVC0- */
    g_assert_cmpstr(name_at(m, 0, 0x9400), ==, "PTIMER.TIME_LOW"); /* NV10- */
    regmap_free(m);
    m = regmap_load_rnn(p, NULL, "NV50", &e);
    g_assert_cmpstr(name_at(m, 0, 0x300), ==, "PMC.NEWER"); /* NV04:NV50 excludes NV50 */
    regmap_free(m);
    /* a domain by name, through the FILE.xml#DOMAIN@VARIANT form */
    g_autofree char *spec = g_strdup_printf("%s#OTHER@NVE0", p);
    m = regmap_load(spec, &e);
    g_assert_no_error(e);
    g_assert_cmpstr(name_at(m, 0, 0x4), ==, "ONLY_HERE");
    regmap_free(m);

    static const struct {
        const char *file, *domain, *variant, *want;
    } bad[] = {
        {"rnn-bad-xml.xml", NULL, NULL, "rnn-bad-xml.xml:5: "},
        {"rnn-no-offset.xml", NULL, NULL, "rnn-no-offset.xml:6: <reg32> has no offset"},
        {"rnn-bad-import.xml", NULL, NULL, "rnn-bad-import.xml:3: cannot import"},
        {"rnn-nv.xml", "NOPE", NULL, "NOPE: "},
        {"rnn-nv.xml", NULL, "NV99", "variant NV99"},
        {"kallsyms.txt", NULL, NULL, "kallsyms.txt:1: "},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *rel = g_strconcat("tests/unit/regmap/", bad[i].file, NULL);
        g_autofree char *bp = test_src(rel);
        g_clear_error(&e);
        g_assert_null(regmap_load_rnn(bp, bad[i].domain, bad[i].variant, &e));
        g_test_message("%s", e->message);
        g_assert_nonnull(strstr(e->message, bad[i].want));
    }
}

static void test_symbols(void)
{
    g_autofree char *p = test_src("tests/unit/regmap/kallsyms.txt");
    g_autoptr(GError) e = NULL;
    struct symtab *t = symtab_new();
    g_assert_true(symtab_add(t, p, &e));
    g_assert_cmpuint(symtab_size(t), ==, 7); /* the D symbol is not text */
    GString *s = g_string_new(NULL);
    struct {
        uint64_t pc;
        const char *want;
    } cases[] = {
        {0xffffffff81000000, "_stext+0x0"}, /* two names at one address: the first listed */
        {0xffffffff81000123, "helper_fn+0x23"},
        {0xffffffff81000190, "helper_fn+0x90"}, /* data symbols do not end functions */
        {0xffffffffc0a0109a, "e1000e_probe+0x1a [e1000e]"},
        {0xffffffffc0a02004, "nvme_probe+0x4 [nvme]"},
        {0xffffffffc0b02004, NULL}, /* more than 1 MiB past the last symbol */
        {0xffffffff80000000, NULL}, /* before the first */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_string_truncate(s, 0);
        bool ok = symtab_format(t, s, cases[i].pc);
        g_assert_cmpint(ok, ==, cases[i].want != NULL);
        if (ok) {
            g_assert_cmpstr(s->str, ==, cases[i].want);
        }
    }
    g_string_free(s, TRUE);
    static const struct {
        const char *file, *want;
    } bad[] = {
        {"kallsyms-bad.txt", "kallsyms-bad.txt:2: not a kallsyms or System.map line"},
        {"kallsyms-zero.txt", "kallsyms read without root"},
        {"does-not-exist.map", "does-not-exist.map"},
        {"rnn-nv.xml", "rnn-nv.xml:1: not a kallsyms"},
        {"kallsyms.txt@ffff", "FILE@ADDR is for ELF files"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autofree char *rel = g_strconcat("tests/unit/regmap/", bad[i].file, NULL);
        g_autofree char *bp = test_src(rel);
        g_clear_error(&e);
        g_assert_false(symtab_add(t, bp, &e));
        g_test_message("%s", e->message);
        g_assert_nonnull(strstr(e->message, bad[i].want));
    }
    symtab_free(t);

    /* gzip'ed kallsyms (what the guest saves) reads the same */
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(p, &text, NULL, NULL));
    g_autofree char *dir = g_dir_make_tmp("regmap-XXXXXX", NULL);
    g_autofree char *gzp = g_build_filename(dir, "kallsyms.txt.gz", NULL);
    gzFile gz = gzopen(gzp, "wb");
    g_assert_nonnull(gz);
    g_assert_cmpint(gzwrite(gz, text, (unsigned)strlen(text)), ==, (int)strlen(text));
    g_assert_cmpint(gzclose(gz), ==, Z_OK);
    t = symtab_new();
    g_clear_error(&e);
    g_assert_true(symtab_add(t, gzp, &e));
    GString *g = g_string_new(NULL);
    g_assert_true(symtab_format(t, g, 0xffffffffc0a0109a));
    g_assert_cmpstr(g->str, ==, "e1000e_probe+0x1a [e1000e]");
    g_string_free(g, TRUE);
    symtab_free(t);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    srcdir = g_getenv("SRCDIR");
    g_assert_nonnull(srcdir);
    g_test_add_func("/regmap/e1000e", test_e1000e);
    g_test_add_func("/regmap/nvme", test_nvme);
    g_test_add_func("/regmap/edu", test_edu);
    g_test_add_func("/regmap/testdev-drift", test_testdev_drift);
    g_test_add_func("/regmap/yaml-errors", test_yaml_errors);
    g_test_add_func("/regmap/rnn", test_rnn);
    g_test_add_func("/regmap/symbols", test_symbols);
    regmap_add_cmd_tests();
    regmap_add_annotate_tests();
    return g_test_run();
}
