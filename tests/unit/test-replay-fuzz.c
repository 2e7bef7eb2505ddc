/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --fuzz's parts that need no guest (tools/replay-fuzz.c,
 * tools/replay-fuzz-console.c; docs/replay-fuzz.md): the candidate reads and their weights,
 * the documented seeded choice (pinned: seed 60's first run is what test fuzz-driver and the
 * docs rely on), the mutated copy, and crash reports on hand-made console logs.
 */
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "replay-fuzz.h"

/* hvmmio_fuzztarget's accesses on the test device (a recording cut down to them) */
static const char recording[] =
    "VERSION 20070824\n"
    "PCIDEV 0008 12344d4d a febf0000 0 febe0000 0 0 0 0 1000 0 10000 0 0 0 0  dev=testdev\n"
    "MAP 12.707779 15 0xfebf0000 0x0 0x1000 0x0 0 dev=testdev bar=0 off=0x0\n"
    "W 4 17.887841 15 0xfebf003c 0x52535421 0x0 0 vcpu=0 dev=testdev bar=0 off=0x3c\n"
    "R 4 17.887966 15 0xfebf0000 0x4d4d0001 0x0 0 vcpu=0 dev=testdev bar=0 off=0x0\n"
    "W 4 17.888155 15 0xfebf0008 0x5a5a1234 0x0 0 vcpu=0 dev=testdev bar=0 off=0x8\n"
    "R 4 17.888372 15 0xfebf0008 0x5a5a1234 0x0 0 vcpu=0 dev=testdev bar=0 off=0x8\n"
    "W 4 17.888548 15 0xfebf0024 0x1 0x0 0 vcpu=0 dev=testdev bar=0 off=0x24\n"
    "R 4 17.889220 15 0xfebf0028 0x2 0x0 0 vcpu=0 dev=testdev bar=0 off=0x28\n"
    "R 4 17.889380 15 0xfebf0028 0x2 0x0 0 vcpu=0 dev=testdev bar=0 off=0x28\n"
    "R 4 17.889553 15 0xfebf0028 0x1 0x0 0 vcpu=0 dev=testdev bar=0 off=0x28\n"
    "R 4 17.889720 15 0xfebf0020 0x0 0x0 0 vcpu=0 dev=testdev bar=0 off=0x20\n"
    "W 4 17.890084 15 0xfebf0038 0x10 0x0 0 vcpu=0 dev=testdev bar=0 off=0x38\n"
    "R 4 17.890312 15 0xfebf0004 0xffffffff 0x0 0 vcpu=0 dev=testdev bar=0 off=0x4\n";

static char *tmpdir;

static char *write_tmp(const char *name, const char *text)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    return path;
}

static void load(struct fz_recording *rec)
{
    g_autofree char *path = write_tmp("rec.txt", recording);
    g_autoptr(GError) err = NULL;
    g_assert_true(fz_recording_load(rec, g_strdup(path), NULL, &err));
    g_assert_no_error(err);
}

static void test_reads(void)
{
    struct fz_recording rec;
    static const unsigned lines[] = {5, 7, 9, 10, 11, 12, 14};
    static const unsigned weights[] = {4, 4, 1, 1, 1, 4, 1}; /* polls and all-ones: 1 */
    load(&rec);
    g_assert_cmpstr(rec.device, ==, "testdev");
    g_assert_cmpuint(rec.reads->len, ==, 7);
    for (guint i = 0; i < 7; i++) {
        const struct fz_read *rd = &g_array_index(rec.reads, struct fz_read, i);
        g_assert_cmpuint(rd->line, ==, lines[i]);
        g_assert_cmpuint(rd->weight, ==, weights[i]);
    }
    g_assert_cmpuint(g_array_index(rec.reads, struct fz_read, 5).off, ==, 0x20);
    g_free((char *)rec.path);
    fz_recording_clear(&rec);
}

/* The documented sequence: seed 60, run 1 is COUNTER's sign bit and bit 12 of the last
 * STATUS poll (test fuzz-driver and docs/replay-fuzz.md rely on it). */
static void test_choice(void)
{
    struct fz_recording rec;
    struct fz_mutation a[16], b[16];
    load(&rec);
    size_t n = fz_choose(&rec, 60, 1, 3, a);
    g_assert_cmpuint(n, ==, 2);
    g_autofree char *d0 = fz_describe(&rec, &a[0]);
    g_autofree char *d1 = fz_describe(&rec, &a[1]);
    g_assert_cmpstr(d0, ==, "line 12: R 4 bar=0 off=0x20 0x0 -> 0x80000000 (sign-bit)");
    g_assert_cmpstr(d1, ==, "line 11: R 4 bar=0 off=0x28 0x1 -> 0x1001 (bit-flip 12)");
    /* the same seed and run, the same choice; every run mutates 1-3 distinct reads */
    for (unsigned run = 1; run <= 200; run++) {
        size_t na = fz_choose(&rec, 7, run, 3, a), nb = fz_choose(&rec, 7, run, 3, b);
        g_assert_cmpuint(na, ==, nb);
        g_assert_cmpuint(na, >=, 1);
        g_assert_cmpuint(na, <=, 3);
        g_assert_true(!memcmp(a, b, na * sizeof(*a)));
        for (size_t i = 0; i < na; i++) {
            const struct fz_read *rd = &g_array_index(rec.reads, struct fz_read, a[i].read);
            g_assert_true(a[i].new_value != rd->value || a[i].kind == FZ_REMOVAL);
            for (size_t j = 0; j < i; j++) {
                g_assert_cmpuint(a[i].read, !=, a[j].read);
            }
        }
    }
    g_free((char *)rec.path);
    fz_recording_clear(&rec);
}

/* The copy: the same lines but the mutated values; a removal makes every later read of the
 * device all-ones and leaves writes alone. */
static void test_write(void)
{
    struct fz_recording rec;
    load(&rec);
    struct fz_mutation m[2] = {
        {.read = 5, .kind = FZ_BITFLIP, .bit = 3, .new_value = 0x8},
        {.read = 3, .kind = FZ_REMOVAL, .new_value = 0xffffffff},
    };
    g_autofree char *out = g_build_filename(tmpdir, "mut.txt", NULL);
    g_autoptr(GError) err = NULL;
    g_assert_true(fz_write_mutated(&rec, m, 2, out, &err));
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    g_auto(GStrv) got = g_strsplit(text, "\n", -1);
    g_auto(GStrv) want = g_strsplit(recording, "\n", -1);
    g_assert_cmpuint(g_strv_length(got), ==, g_strv_length(want));
    for (guint i = 0; want[i]; i++) {
        unsigned line = i + 1;
        if (line == 10 || line == 11 || line == 14) { /* the removal's reads */
            g_assert_nonnull(strstr(got[i], " 0xffffffff 0x0 0 "));
        } else if (line == 12) { /* the bit flip, its own mutation before the removal's */
            g_assert_nonnull(strstr(got[i], " 0xfebf0020 0x8 0x0 0 "));
        } else {
            g_assert_cmpstr(got[i], ==, want[i]);
        }
    }
    g_free((char *)rec.path);
    fz_recording_clear(&rec);
}

static const char oops[] =
    "hvmmio: step load-fuzztarget\r\n"
    "[    6.218731] BUG: unable to handle page fault for address: 00000003c0434170\r\n"
    "[    6.219838] #PF: supervisor read access in kernel mode\r\n"
    "[    6.220685] Oops: 0000 [#1] PREEMPT SMP NOPTI\r\n"
    "[    6.221768] RIP: 0010:ft_probe+0xd2/0x139 [hvmmio_fuzztarget]\r\n"
    "[    6.225607] Call Trace:\r\n"
    "[    6.226445]  <TASK>\r\n"
    "[    6.226945]  local_pci_probe+0x41/0x80\r\n"
    "[    6.300000] Kernel panic - not syncing: Fatal exception\r\n";

/* A call through a NULL pointer: RIP is 0x0, the first reliable Call Trace frame names it. */
static const char null_call[] =
    "[    3.1] BUG: kernel NULL pointer dereference, address: 0000000000000000\n"
    "[    3.2] RIP: 0010:0x0\n"
    "[    3.3] Call Trace:\n"
    "[    3.4]  <TASK>\n"
    "[    3.5]  ? __die_body+0x1a/0x60\n"
    "[    3.6]  my_start+0x15/0x30 [mydrv]\n";

static const char ubsan[] = "[    2.0] UBSAN: array-index-out-of-bounds in drivers/x.c:42:7\n"
                            "[    2.1] index 9 is out of range for type 'u32 [4]'\n";

static void expect_crash(const char *console, const char *key, const char *title_start)
{
    g_autofree char *path = write_tmp("console.log", console);
    struct fz_crash c;
    g_assert_true(fz_console_crash(path, &c));
    g_assert_cmpstr(c.key, ==, key);
    g_assert_true(g_str_has_prefix(c.title, title_start));
    g_assert_cmpint(strncmp(c.message, title_start, 10), ==, 0); /* from the header on */
    fz_crash_clear(&c);
}

static void test_console(void)
{
    expect_crash(oops, "ft_probe [hvmmio_fuzztarget]",
                 "BUG: unable to handle page fault for address: 00000003c0434170 in ft_probe");
    expect_crash(null_call, "my_start [mydrv]", "BUG: kernel NULL pointer dereference");
    expect_crash(ubsan, "UBSAN: array-index-out-of-bounds in drivers/x.c:N:N",
                 "UBSAN: array-index-out-of-bounds in drivers/x.c:42:7");
    expect_crash("[ 1.0] WARNING: CPU: 0 PID: 90 at drivers/x.c:7 f+0x1/0x2 [m]\n"
                 "[ 1.1] RIP: 0010:f+0x1/0x2 [m]\n",
                 "f [m]", "WARNING: CPU: 0 PID: 90");

    /* a clean run and a run whose driver merely refused the device: no crash */
    g_autofree char *clean =
        write_tmp("clean.log", "[ 6.3] hvmmio_fuzztarget 0000:00:01.0: unknown device id 0x0\n"
                               "hvmmio: step unload-fuzztarget\nhvmmio: done rc=1\n");
    struct fz_crash c;
    g_assert_false(fz_console_crash(clean, &c));
    fz_console_hang(clean, 80, &c);
    g_assert_cmpstr(c.key, ==, "hang after step unload-fuzztarget");
    fz_crash_clear(&c);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("test-replay-fuzz-XXXXXX", NULL);
    g_assert_nonnull(tmpdir);
    g_test_add_func("/replay-fuzz/reads", test_reads);
    g_test_add_func("/replay-fuzz/choice", test_choice);
    g_test_add_func("/replay-fuzz/write", test_write);
    g_test_add_func("/replay-fuzz/console", test_console);
    int ret = g_test_run();
    g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(cmd) != 0) {
        ret = 1;
    }
    g_free(tmpdir);
    return ret;
}
