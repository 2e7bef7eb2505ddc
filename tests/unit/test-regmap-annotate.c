/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register names in the replay device's report (tools/regs-annotate.c, what hvmmio replay
 * --regs prints) on a report text written as hw/mmiotrace/replay.c writes it. The expected
 * names and fields are the 82574 datasheet's (as in test-regmap.c), never the code's output.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "regmap.h"
#include "regs-annotate.h"
#include "test-regmap.h"

/* hw/mmiotrace/replay.c's replay_write_report, after its first (machine) line */
static const char report[] =
    "mmiotrace-replay replay: /r/e1000e.trace (device nic0), mode strict\n"
    "  consumed 12 of 40 recorded records (30.0%), 1 divergences, 0 extra polls, 0 skipped "
    "polls\n"
    "  first divergence at record 12 (/r/e1000e.trace:18):\n"
    "    expected W 4 bar=0 off=0x0 0x140245\n"
    "    got      W 4 bar=0 off=0x0 0x140241\n"
    "  records around it:\n"
    "      #10 /r/e1000e.trace:16 R 4 bar=0 off=0x8 0x80283\n"
    "      #11 /r/e1000e.trace:17 IRQ MSI-X vector 0 data 0xef\n"
    "    > #12 /r/e1000e.trace:18 W 4 bar=0 off=0x0 0x140245\n"
    "      #13 /r/e1000e.trace:19 R 4 bar=0 off=0x5418 0x12345678\n"
    "      #14 /r/e1000e.trace:20 R 4 bar=0 off=0x4 0x0\n";

/* The recording's header: the 82574 (8086:10d3) as nic0, or another device's ids. */
static const char pcidev_82574[] =
    "VERSION 20070824\n"
    "PCIDEV 0008 808610d3 a feba0000 febc0000 c041 febe0000 0 0 0 20000 20000 20 4000 0 0 0  "
    "dev=nic0\n";
static const char pcidev_other[] =
    "VERSION 20070824\n"
    "PCIDEV 0008 1b360010 a feba0000 0 0 0 0 0 0 4000 0 0 0 0 0 0  dev=nic0\n";

static struct regmap_set *maps_for(const char *arg, const char *header)
{
    struct regmap_set *s = regmap_set_new();
    g_autoptr(GError) e = NULL;
    g_assert_true(regmap_set_add(s, arg, &e));
    struct mmiotrace_reader *r = mmiotrace_reader_open_mem(header, strlen(header), "header");
    struct mmiotrace_record rec;
    while (mmiotrace_reader_next(r, &rec) > 0) {
        regmap_set_track(s, &rec);
    }
    mmiotrace_reader_free(r);
    return s;
}

static void test_replay_report(void)
{
    g_autofree char *map = test_src("regmaps/e1000e.yaml");
    struct regmap_set *s = maps_for(map, pcidev_82574);
    g_autofree char *out = regs_annotate_replay(report, s);
    g_test_message("%s", out);
    /* CTRL (0x0): FD bit 0, GIO_MASTER_DISABLE bit 2, SLU bit 6, SPEED 9:8 (2 = 1000M),
     * SWDPIN0 bit 18, ADVD3WUC bit 20 */
    g_assert_nonnull(strstr(out,
                            "\n    expected W 4 bar=0 off=0x0 0x140245  CTRL = 0x00140245 "
                            "{FD, GIO_MASTER_DISABLE, SLU, SPEED=1000M, SWDPIN0, ADVD3WUC}\n"));
    g_assert_nonnull(strstr(out, "\n    got      W 4 bar=0 off=0x0 0x140241  CTRL = 0x00140241 "
                                 "{FD, SLU, SPEED=1000M, SWDPIN0, ADVD3WUC}\n"));
    g_assert_nonnull(strstr(out, "#10 /r/e1000e.trace:16 R 4 bar=0 off=0x8 0x80283  STATUS = "
                                 "0x00080283 {FD, LU, SPEED=1000M, ASDV=2, GIO_MASTER_ENABLE}\n"));
    g_assert_nonnull(strstr(out, "    > #12 /r/e1000e.trace:18 W 4 bar=0 off=0x0 0x140245  CTRL = "
                                 "0x00140245 {"));
    /* RAL[n] at 0x5400 + 8n, RAH[n] at 0x5404 + 8n: 0x5418 is RAL[3] */
    g_assert_nonnull(strstr(out, "off=0x5418 0x12345678  RAL[3] = 0x12345678\n"));
    g_assert_nonnull(strstr(out, "off=0x4 0x0  ? = 0x00000000\n"));
    /* lines without an access are as they were */
    g_assert_nonnull(strstr(out, "\n      #11 /r/e1000e.trace:17 IRQ MSI-X vector 0 data 0xef\n"));
    g_assert_true(g_str_has_prefix(out, "mmiotrace-replay replay: /r/e1000e.trace (device nic0), "
                                        "mode strict\n  consumed 12 of 40"));
    g_assert_cmpuint(strlen(out) - strlen(report), ==,
                     strlen("  CTRL = 0x00140245 {FD, GIO_MASTER_DISABLE, SLU, SPEED=1000M, "
                            "SWDPIN0, ADVD3WUC}") *
                             2 +
                         strlen("  CTRL = 0x00140241 {FD, SLU, SPEED=1000M, SWDPIN0, "
                                "ADVD3WUC}") +
                         strlen("  STATUS = 0x00080283 {FD, LU, SPEED=1000M, ASDV=2, "
                                "GIO_MASTER_ENABLE}") +
                         strlen("  RAL[3] = 0x12345678") + strlen("  ? = 0x00000000"));
    regmap_set_free(s);
}

/* The driver's read in "got": named, no value (the device had none to give). */
static void test_replay_got_read(void)
{
    g_autofree char *map = test_src("regmaps/e1000e.yaml");
    struct regmap_set *s = maps_for(map, pcidev_82574);
    g_autofree char *out = regs_annotate_replay("mmiotrace-replay r: t (device nic0), mode strict\n"
                                                "    expected W 4 bar=0 off=0xd8 0xffffffff\n"
                                                "    got      R 4 bar=0 off=0x8 0x0\n",
                                                s);
    g_assert_nonnull(strstr(out, "    got      R 4 bar=0 off=0x8 0x0  STATUS\n"));
    g_assert_nonnull(strstr(out, "expected W 4 bar=0 off=0xd8 0xffffffff  IMC = 0xffffffff {TXDW"));
    regmap_set_free(s);
}

/* The map is the recorded device's: by its PCI ids, or bound to its name; else nothing. */
static void test_replay_choice(void)
{
    g_autofree char *map = test_src("regmaps/e1000e.yaml");
    g_autofree char *nvme = test_src("regmaps/nvme.yaml");
    g_autofree char *bound = g_strconcat("nic0=", map, NULL);
    g_autofree char *other = g_strconcat("nic1=", map, NULL);
    struct {
        const char *arg, *header;
        bool named;
    } cases[] = {
        {nvme, pcidev_82574, false},  /* the NVMe map's ids are not the 82574's */
        {map, pcidev_other, false},   /* the recorded device is not an 82574 */
        {bound, pcidev_other, true},  /* nic0=MAP: bound by name, whatever the ids */
        {other, pcidev_82574, false}, /* bound to another device */
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        struct regmap_set *s = maps_for(cases[i].arg, cases[i].header);
        g_autofree char *out = regs_annotate_replay(report, s);
        g_assert_cmpint(strstr(out, "  CTRL = 0x00140245") != NULL, ==, cases[i].named);
        if (!cases[i].named) {
            g_assert_cmpstr(out, ==, report);
        }
        regmap_set_free(s);
    }
}

void regmap_add_annotate_tests(void)
{
    g_test_add_func("/regmap/replay-report", test_replay_report);
    g_test_add_func("/regmap/replay-got-read", test_replay_got_read);
    g_test_add_func("/regmap/replay-choice", test_replay_choice);
}
