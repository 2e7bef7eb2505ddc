/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace's replay-scan.c (what QEMU's mmiotrace-replay checks in a recording before
 * its PCI code sees it): the scan of a recording and the identity check, one case per rule,
 * on recordings built here. Suites unit (under the sanitizers in scripts/test.sh) and faults.
 */
#include <glib.h>
#include <string.h>

#include "replay-scan.h"

#define PCIDEV_EDU "PCIDEV 0018 123411e8 0 e0000000 0 0 0 0 0 0 100000 0 0 0 0 0 0  dev=d\n"

/* A recording: PCIDEV (pcidev, or edu's), PCICFG from cfg (256 bytes), then more lines. */
static char *recording(const char *pcidev, const uint8_t *cfg, const char *more)
{
    GString *s = g_string_new("VERSION 20070824\n");

    g_string_append(s, pcidev ? pcidev : PCIDEV_EDU);
    if (cfg) {
        g_string_append(s, "PCICFG 0.000001 0018 ");
        for (int i = 0; i < 256; i++) {
            g_string_append_printf(s, "%02x", cfg[i]);
        }
        g_string_append(s, " dev=d\n");
    }
    g_string_append(s, "W 4 0.000002 1 0xe0000004 0x1 0x0 0 ns=2000 vcpu=0 dev=d bar=0 off=0x4\n");
    if (more) {
        g_string_append(s, more);
    }
    return g_string_free(s, FALSE);
}

/* edu's config space: MSI (64-bit) at 0x40, the capability list on. */
static void edu_config(uint8_t *c)
{
    memset(c, 0, 256);
    c[0] = 0x34, c[1] = 0x12, c[2] = 0xe8, c[3] = 0x11;
    c[0x06] = 0x10; /* status: capability list */
    c[0x10] = 0x00;
    c[0x34] = 0x40;
    c[0x40] = 0x05, c[0x41] = 0x00, c[0x42] = 0x80, c[0x43] = 0x00;
}

/* Scan text and check the identity of its device 'd': 0 and id, or -1 and err. */
static int check(const char *text, struct mmiotrace_pci_identity *id, char *err, size_t errlen)
{
    static struct mmiotrace_replay_scan scan;
    struct mmiotrace_reader *r = mmiotrace_reader_open_mem(text, strlen(text), "rec");

    g_assert_nonnull(r);
    int ret = mmiotrace_replay_scan(r, "rec", &scan, err, errlen);
    mmiotrace_reader_free(r);
    if (ret < 0) {
        return -1;
    }
    struct mmiotrace_replay_dev *d = mmiotrace_replay_find(&scan, "d", 1);
    g_assert_nonnull(d);
    return mmiotrace_pci_identity_check(d, "rec", id, err, errlen);
}

static void expect_error(const char *text, const char *want)
{
    struct mmiotrace_pci_identity id;
    char err[512] = "";

    if (check(text, &id, err, sizeof(err)) == 0) {
        g_error("accepted, wanted \"%s\"", want);
    }
    if (!strstr(err, want)) {
        g_error("got \"%s\", wanted \"%s\"", err, want);
    }
}

static void test_good(void)
{
    uint8_t c[256];
    struct mmiotrace_pci_identity id;
    char err[512];

    edu_config(c);
    g_autofree char *t = recording(NULL, c, NULL);
    g_assert_cmpint(check(t, &id, err, sizeof(err)), ==, 0);
    g_assert_cmpuint(id.bar_size[0], ==, 0x100000);
    g_assert_cmpuint(id.msi_pos, ==, 0x40);
    g_assert_cmpuint(id.msi_vectors, ==, 1);
    g_assert_true(id.msi_64bit && !id.msi_maskbit && id.caps);

    /* MSI-X with 64 vectors, table and PBA in BAR 0 */
    c[0x41] = 0x50;
    c[0x50] = 0x11, c[0x52] = 63;
    c[0x54] = 0x00, c[0x55] = 0x20; /* table at 0x2000 */
    c[0x58] = 0x00, c[0x59] = 0x30; /* PBA at 0x3000 */
    g_autofree char *t2 = recording(NULL, c, NULL);
    g_assert_cmpint(check(t2, &id, err, sizeof(err)), ==, 0);
    g_assert_cmpuint(id.msix_pos, ==, 0x50);
    g_assert_cmpuint(id.msix_vectors, ==, 64);
    g_assert_cmpuint(id.msix_table_off, ==, 0x2000);
    g_assert_cmpuint(id.msix_pba_off, ==, 0x3000);
}

static void test_msi(void)
{
    uint8_t c[256];

    for (unsigned q = 6; q <= 7; q++) {
        edu_config(c);
        c[0x42] = 0x80 | q << 1;
        g_autofree char *t = recording(NULL, c, NULL);
        g_autofree char *want =
            g_strdup_printf("rec:3: MSI capability at 0x40: Multiple Message Capable field %u", q);
        expect_error(t, want);
    }
    for (unsigned pos = 0xf8; pos <= 0xfc; pos += 4) {
        edu_config(c);
        c[0x34] = pos;
        c[pos] = 0x05, c[pos + 2] = 0x80, c[pos + 3] = 0x01; /* 64-bit, masking: 0x18 bytes */
        g_autofree char *t = recording(NULL, c, NULL);
        expect_error(t, "ends past the config space");
    }
    edu_config(c);
    c[0x42] = 0x80 | 1 << 1 | 2 << 4; /* enable 4 of 2 */
    g_autofree char *t = recording(NULL, c, NULL);
    expect_error(t, "Multiple Message Enable 2 exceeds Multiple Message Capable 1");
}

static void test_chain(void)
{
    uint8_t c[256];

    edu_config(c);
    c[0x41] = 0x40;
    g_autofree char *loop = recording(NULL, c, NULL);
    expect_error(loop, "rec:3: the capability list loops at 0x40");

    edu_config(c);
    c[0x3d] = 5;
    g_autofree char *pin = recording(NULL, c, NULL);
    expect_error(pin, "rec:3: Interrupt Pin 5 is not 0-4");

    edu_config(c);
    c[0x34] = 0x3c;
    g_autofree char *header = recording(NULL, c, NULL);
    expect_error(header, "outside the recorded capability area");

    edu_config(c);
    c[0x42] = 0x80, c[0x43] = 0x01; /* 0x18 bytes: 0x40-0x57 */
    c[0x41] = 0x48;
    c[0x48] = 0x01;
    g_autofree char *overlap = recording(NULL, c, NULL);
    expect_error(overlap, "overlaps capability 0x01 at 0x48");

    edu_config(c);
    c[0x41] = 0x50;
    c[0x50] = 0x05;
    g_autofree char *two = recording(NULL, c, NULL);
    expect_error(two, "a second MSI capability at 0x50");

    /* a config space shorter than its header */
    g_autofree char *shortcfg = g_strdup_printf(
        "VERSION 20070824\n" PCIDEV_EDU "PCICFG 0.000001 0018 3412e811%056d dev=d\n", 0);
    expect_error(shortcfg, "rec:3: PCICFG has 32 bytes; a config space header has 64");
}

static void test_msix(void)
{
    uint8_t c[256];

    edu_config(c);
    c[0x41] = 0x50;
    c[0x50] = 0x11, c[0x52] = 0xff, c[0x53] = 0x07; /* 2048 vectors: 32 KiB */
    c[0x55] = 0xf0, c[0x56] = 0x0f;                 /* table at 0xff000 */
    c[0x59] = 0x10;
    g_autofree char *outside = recording(NULL, c, NULL);
    expect_error(outside, "is outside its BAR");

    c[0x52] = 3, c[0x53] = 0;
    c[0x54] = 2, c[0x55] = 0x10, c[0x56] = 0; /* BIR 2 */
    g_autofree char *nobar = recording(NULL, c, NULL);
    expect_error(nobar, "in a BAR the recording does not have (BIR 2, 0)");

    c[0x54] = 0, c[0x55] = 0x10; /* table 0x1000 (64 bytes), PBA at 0x1020 */
    c[0x58] = 0x20, c[0x59] = 0x10;
    g_autofree char *overlap = recording(NULL, c, NULL);
    expect_error(overlap, "MSI-X table and PBA overlap");
}

static void test_bars(void)
{
    static const struct {
        const char *pcidev, *want;
    } cases[] = {
        {"PCIDEV 0018 123411e8 0 e0000000 0 0 0 0 0 0 10000000000 0 0 0 0 0 0  dev=d\n",
         "BAR 0 size 0x10000000000 is impossible for a 32-bit memory BAR"},
        {"PCIDEV 0018 123411e8 0 e0000000 c001 0 0 0 0 0 100000 10000000000 0 0 0 0 0  dev=d\n",
         "BAR 1 size 0x10000000000 is impossible for an I/O BAR"},
        {"PCIDEV 0018 123411e8 0 e0000000 c001 0 0 0 0 0 100000 200 0 0 0 0 0  dev=d\n",
         "BAR 1 size 0x200 is impossible for an I/O BAR"},
        {"PCIDEV 0018 123411e8 0 e0000000 c003 0 0 0 0 0 100000 100 0 0 0 0 0  dev=d\n",
         "BAR 1 has I/O flags 0x3"},
        {"PCIDEV 0018 123411e8 0 e0000004 0 0 0 0 0 0 100000 1000 0 0 0 0 0  dev=d\n",
         "BAR 0 is 64-bit, so BAR 1 is its upper half"},
        {"PCIDEV 0018 123411e8 0 e0000002 0 0 0 0 0 0 100000 0 0 0 0 0 0  dev=d\n",
         "BAR 0 has a reserved memory type (flags 0x2)"},
        {"PCIDEV 0018 123411e8 0 e0000000 0 0 0 0 e0004 0 100000 0 0 0 0 1000 0  dev=d\n",
         "BAR 5 cannot be 64-bit"},
        {"PCIDEV 0018 123411e8 0 e0000000 0 0 0 0 0 0 100001 0 0 0 0 0 0  dev=d\n",
         "BAR 0 size 0x100001 is impossible for a 32-bit memory BAR"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *t = recording(cases[i].pcidev, NULL, NULL);
        g_autofree char *want = g_strdup_printf("rec:2: %s", cases[i].want);
        expect_error(t, want);
    }
    /* a 64-bit BAR of 1 TiB is fine */
    struct mmiotrace_pci_identity id;
    char err[512];
    g_autofree char *big = recording(
        "PCIDEV 0018 123411e8 0 e000000c 0 0 0 0 0 0 10000000000 0 0 0 0 0 0  dev=d\n", NULL, NULL);
    g_assert_cmpint(check(big, &id, err, sizeof(err)), ==, 0);
    g_assert_cmphex(id.bar_type[0], ==, 0xc);
}

static void test_accesses(void)
{
    g_autofree char *wrap = recording(
        NULL, NULL,
        "R 4 0.000003 1 0xe0000000 0x0 0x0 0 ns=3000 vcpu=0 dev=d bar=0 off=0xffffffffffffffff\n");
    expect_error(wrap, "rec:4: access at BAR 0 offset 0xffffffffffffffff wraps around");
    g_autofree char *outside = recording(
        NULL, NULL, "R 4 0.000003 1 0xe0000000 0x0 0x0 0 ns=3000 vcpu=0 dev=d bar=0 off=0xffffe\n");
    expect_error(outside, "rec:4: access at BAR 0 ends at offset 0x100002, outside the recorded");
    g_autofree char *rom = recording(
        NULL, NULL, "R 4 0.000003 1 0xe0000000 0x0 0x0 0 ns=3000 vcpu=0 dev=d bar=6 off=0x0\n");
    expect_error(rom, "rec:4: access to BAR 6: only BARs 0-5 are replayed");
    g_autofree char *nobar = recording(NULL, NULL, "R 4 0.000003 1 0xd0000000 0x0 0x0 0\n");
    /* (no dev=: another device, '' - its access has no PCIDEV to be placed by) */
    expect_error(nobar, "rec:4: access at 0xd0000000 is in no memory BAR");

    GString *many = g_string_new(NULL);
    for (int i = 0; i < 70; i++) {
        g_string_append_printf(many, "MARK 0.1 x\nW 4 0.2 1 0x0 0x1 0x0 0 dev=x%d bar=0 off=0x0\n",
                               i);
    }
    g_autofree char *m = recording(NULL, NULL, many->str);
    g_string_free(many, TRUE);
    expect_error(m, "rec:131: the recording names more than 64 devices");
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/replay-scan/good", test_good);
    g_test_add_func("/replay-scan/msi", test_msi);
    g_test_add_func("/replay-scan/chain", test_chain);
    g_test_add_func("/replay-scan/msix", test_msix);
    g_test_add_func("/replay-scan/bars", test_bars);
    g_test_add_func("/replay-scan/accesses", test_accesses);
    return g_test_run();
}
