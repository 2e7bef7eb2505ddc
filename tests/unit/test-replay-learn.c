/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --learn (tools/replay-learn*.c, issue 18): the alignment on hand-made token
 * sequences whose longest common subsequence is spelled out, and learning from small synthetic
 * recordings made with the trace writer, whose annotations are derived by hand in the comments
 * (the expected annotated lines are written out in full); the command line's errors through
 * the built binary ($HVMMIO).
 */
#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "mmiotrace.h"
#include "replay-learn.h"
#include "test-replay-learn.h"

char *tmpdir;

/* Write a recording of device nic0 (a PCIDEV header, then the accesses) with the trace writer. */
char *write_rec(const char *name, const struct acc *a, size_t n, const char *dev)
{
    char *path = g_build_filename(tmpdir, name, NULL);
    FILE *f = fopen(path, "w");
    struct mmiotrace_writer *w = mmiotrace_writer_new_stdio(f, MMIOTRACE_FMT_EXTENDED);
    struct mmiotrace_record r;

    g_assert_nonnull(w);
    mmiotrace_record_init(&r, MMIOTRACE_PCIDEV);
    r.pcidev.devfn = 0x18;
    r.pcidev.vendor = 0x8086;
    r.pcidev.device = 0x10d3;
    r.pcidev.resource[0] = 0xfeba0000;
    r.pcidev.size[0] = 0x20000;
    r.ext = MMIOTRACE_EXT_DEV;
    r.dev = dev ? dev : "nic0";
    r.dev_len = strlen(r.dev);
    g_assert_cmpint(mmiotrace_writer_write(w, &r), ==, 0);
    for (size_t i = 0; i < n; i++) {
        mmiotrace_record_init(&r, a[i].type == 'R' ? MMIOTRACE_READ : MMIOTRACE_WRITE);
        r.ts_ns = 1000000000ull + i * 1000;
        r.rw.width = 4;
        r.rw.map_id = 1;
        r.rw.phys = 0xfeba0000 + a[i].off;
        r.rw.value = a[i].value;
        r.ext = MMIOTRACE_EXT_DEV | MMIOTRACE_EXT_BAR;
        r.dev = "nic0";
        r.dev_len = 4;
        r.bar_off = a[i].off;
        g_assert_cmpint(mmiotrace_writer_write(w, &r), ==, 0);
    }
    g_assert_cmpint(mmiotrace_writer_free(w), ==, 0);
    fclose(f);
    return path;
}

/* The R/W lines of a file, from the first "R " or "W " on. */
static char *rw_lines(const char *path)
{
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
    const char *p = strstr(text, "\nW ") ? strstr(text, "\nW ") + 1 : text;
    return g_strdup(p);
}

/* ---- Alignment ---- */

static struct rl_recording tokens(const char *path, const struct acc *a, size_t n)
{
    struct rl_recording r = {path, g_array_new(FALSE, TRUE, sizeof(struct rl_access)),
                             g_array_new(FALSE, TRUE, sizeof(struct rl_token))};
    for (size_t i = 0; i < n; i++) {
        struct rl_access x = {.off = a[i].off,
                              .value = a[i].value,
                              .width = 4,
                              .type = a[i].type == 'R' ? MMIOTRACE_READ : MMIOTRACE_WRITE};
        g_array_append_val(r.acc, x);
    }
    rl_tokenize(&r);
    return r;
}

static void expect_align(const struct acc *a, size_t na, const struct acc *b, size_t nb,
                         const int32_t *want_a, const int32_t *want_b)
{
    struct rl_recording ra = tokens("a", a, na), rb = tokens("b", b, nb);
    int32_t ma[16], mb[16];

    g_assert_true(rl_align(&ra, &rb, ma, mb) == (rl_cells_max > 0));
    for (guint i = 0; i < ra.tok->len; i++) {
        g_assert_cmpint(ma[i], ==, want_a[i]);
    }
    for (guint j = 0; j < rb.tok->len; j++) {
        g_assert_cmpint(mb[j], ==, want_b[j]);
    }
    g_array_free(ra.acc, TRUE);
    g_array_free(ra.tok, TRUE);
    g_array_free(rb.acc, TRUE);
    g_array_free(rb.tok, TRUE);
}

/* Two hand-made alignments (test_align; test_resync with the one-pass aligner). */
static void expect_two_alignments(void)
{
    /* tokens A: W0 R8(x3) W10 W20 R30; B: W0 R8(x1) W20 W40 R30: common W0 R8 W20 R30 */
    const struct acc a[] = {{'W', 0, 1},    {'R', 8, 0},    {'R', 8, 0},   {'R', 8, 1},
                            {'W', 0x10, 0}, {'W', 0x20, 0}, {'R', 0x30, 0}};
    const struct acc b[] = {
        {'W', 0, 1}, {'R', 8, 1}, {'W', 0x20, 0}, {'W', 0x40, 0}, {'R', 0x30, 0}};
    expect_align(a, G_N_ELEMENTS(a), b, G_N_ELEMENTS(b), (const int32_t[]){0, 1, -1, 2, 4},
                 (const int32_t[]){0, 1, 3, -1, 4});
    /* a difference at both ends: A: X W1 W2 W3; B: W1 W2 Y W3 */
    const struct acc c[] = {{'W', 0x99, 0}, {'W', 1, 0}, {'W', 2, 0}, {'W', 3, 0}};
    const struct acc d[] = {{'W', 1, 0}, {'W', 2, 0}, {'W', 0x77, 0}, {'W', 3, 0}};
    expect_align(c, 4, d, 4, (const int32_t[]){-1, 0, 1, 3}, (const int32_t[]){1, 2, -1, 3});
}

static void test_align(void)
{
    expect_two_alignments();
    /* R and W of one register are different keys */
    const struct acc e[] = {{'R', 4, 0}, {'W', 4, 0}, {'R', 8, 0}};
    const struct acc f[] = {{'W', 4, 0}, {'W', 8, 0}};
    expect_align(e, 3, f, 2, (const int32_t[]){-1, 0, -1}, (const int32_t[]){1, -1});
}

/*
 * A poll of two registers read in turn (A B A B A B in one run, A B in the other) is one token:
 * aligned whatever its length, its reads poll=tolerant; a single pair is not a poll.
 */
static void test_cycle(void)
{
    const struct acc a[] = {{'R', 0xb600, 1}, {'R', 0xb604, 2}, {'R', 0xb600, 3}, {'R', 0xb604, 4},
                            {'R', 0xb600, 5}, {'R', 0xb604, 6}, {'W', 0x14, 1}};
    const struct acc b[] = {
        {'R', 0xb600, 1}, {'R', 0xb604, 2}, {'R', 0xb600, 3}, {'R', 0xb604, 4}, {'W', 0x14, 1}};
    const struct acc c[] = {{'R', 0xb600, 1}, {'R', 0xb604, 2}, {'W', 0x14, 1}};
    expect_align(a, 7, b, 5, (const int32_t[]){0, 1}, (const int32_t[]){0, 1});
    expect_align(a, 7, c, 3, (const int32_t[]){-1, 2}, (const int32_t[]){-1, -1, 1});
    g_autofree char *p1 = write_rec("cy1.txt", a, 7, NULL);
    g_autofree char *p2 = write_rec("cy2.txt", b, 5, NULL);
    g_autofree char *out = g_build_filename(tmpdir, "cy-out.txt", NULL);
    char *paths[] = {p1, p2};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(rl_learn(2, paths, out, NULL, &s, &err), ==, 0);
    g_assert_cmpuint(s.polls, ==, 1);
    g_assert_cmpuint(s.poll_reads, ==, 6);
    g_assert_cmpuint(s.differing_reads + s.unaligned->len, ==, 0);
    rl_summary_clear(&s);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 1; i <= 6; i++) {
        g_assert_true(g_str_has_suffix(lines[i], " poll=tolerant"));
    }
    g_assert_false(g_str_has_suffix(lines[7], " poll=tolerant"));
}

/* ---- Learning from two recordings ---- */

/*
 * Run 1 and run 2 of one probe. By hand:
 * - STATUS (0x8) is polled 3 times in run 1, once in run 2: its 3 reads get poll=tolerant;
 * - RDBAL (0x2800) 0x12340000 / 0x56780000 differ in 0x444c0000: bits 18-30, a page address:
 *   match=0xfff (the page offset); nothing was written with that value before;
 * - TDBAL (0x3800) gets what RDBAL got in both runs: rel=0:0x2800;
 * - RDBAL read back: its own register qualifies (and is preferred): rel=0:0x2800;
 * - RCTL (0x100) 0x8002 / 0x8006: bit 2, a field: match=0xfffffffb;
 * - ICR (0xc0) read 1 / 3: a differing read without relation: the first value kept;
 * - EECD (0x10) only in run 1, 0x5000 only in run 2: not aligned: the read of EECD is opt=1,
 *   and the write of 0x5000 is inserted, opt=1, after the access of run 1 that it followed in
 *   run 2 (W 0xd0), with that access's time.
 */
static const struct acc run1[] = {
    {'W', 0x0, 0x4000000},
    {'R', 0x8, 0},
    {'R', 0x8, 0},
    {'R', 0x8, 0x80080783},
    {'W', 0x2800, 0x12340000},
    {'W', 0x3800, 0x12340000},
    {'R', 0x2800, 0x12340000},
    {'W', 0x100, 0x8002},
    {'R', 0xc0, 1},
    {'R', 0x10, 0},
    {'W', 0xd0, 0x1f},
};
static const struct acc run2[] = {
    {'W', 0x0, 0x4000000},
    {'R', 0x8, 0x80080783},
    {'W', 0x2800, 0x56780000},
    {'W', 0x3800, 0x56780000},
    {'R', 0x2800, 0x56780000},
    {'W', 0x100, 0x8006},
    {'R', 0xc0, 3},
    {'W', 0xd0, 0x1f},
    {'W', 0x5000, 1},
};

static void test_learn_two(void)
{
    g_autofree char *p1 = write_rec("run1.txt", run1, G_N_ELEMENTS(run1), NULL);
    g_autofree char *p2 = write_rec("run2.txt", run2, G_N_ELEMENTS(run2), NULL);
    g_autofree char *out = g_build_filename(tmpdir, "learned.txt", NULL);
    char *paths[] = {p1, p2};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(rl_learn(2, paths, out, NULL, &s, &err), ==, 0);
    g_assert_no_error(err);
    g_assert_cmpuint(s.accesses[0], ==, 11);
    g_assert_cmpuint(s.accesses[1], ==, 10);
    g_assert_cmpuint(s.match_writes, ==, 2);
    g_assert_cmpuint(s.rel_writes, ==, 1);
    g_assert_cmpuint(s.rel_reads, ==, 1);
    g_assert_cmpuint(s.polls, ==, 1);
    g_assert_cmpuint(s.poll_reads, ==, 3);
    g_assert_cmpuint(s.differing_reads, ==, 2);
    g_assert_cmpuint(s.unaligned->len, ==, 2);
    g_assert_cmpuint(s.optional + s.inserted + s.optional_match, ==, 2);
    g_autofree char *u0 = g_strdup_printf("%s:10: W 4 BAR0+0x5000 not in %s", p2, p1);
    g_autofree char *u1 = g_strdup_printf("%s:11: R 4 BAR0+0x10 not in %s", p1, p2);
    g_assert_cmpstr(s.unaligned->pdata[0], ==, u0);
    g_assert_cmpstr(s.unaligned->pdata[1], ==, u1);
    rl_summary_clear(&s);
    g_autofree char *got = rw_lines(out);
    const char *want = L("W", "00", "0000", "0", "0x4000000", "")
        L("R", "01", "0008", "8", "0x0", " poll=tolerant")
            L("R", "02", "0008", "8", "0x0", " poll=tolerant")
                L("R", "03", "0008", "8", "0x80080783", " poll=tolerant")
                    L("W", "04", "2800", "2800", "0x12340000", " match=0xfff")
                        L("W", "05", "3800", "3800", "0x12340000", " rel=0:0x2800")
                            L("R", "06", "2800", "2800", "0x12340000", " rel=0:0x2800")
                                L("W", "07", "0100", "100", "0x8002", " match=0xfffffffb")
                                    L("R", "08", "00c0", "c0", "0x1", "")
                                        L("R", "09", "0010", "10", "0x0", " opt=1")
                                            L("W", "10", "00d0", "d0", "0x1f", "")
                                                L("W", "10", "5000", "5000", "0x1", " opt=1");
    g_assert_cmpstr(got, ==, want);
}

/*
 * Three runs. By hand:
 * - CTRL (0x0) 0x40 / 0x42 / 0x48: bits 1 and 3 differed, a field: bits 1-3 unchecked:
 *   match=0xfffffff1 (two runs alone would have given 0xfffffffd);
 * - 0x10 takes 0x20's value in runs 1 and 2 but not in run 3: no rel=, a match= instead
 *   (0x1000 / 0x2000 / 0x3000: bits 12-13, at bit 12 or above: from bit 12 up: 0xfff);
 * - 0x18 takes 0x20's value in all three: rel=0:0x20 (0x20 itself, written first, is a
 *   number spread over 8 bits or more with a random look: 0x0 ^ 0xffff... see below);
 * - 0x20 0x5a5a5a5a / 0xa5a5a5a5 / 0x5a5a5a5a: every bit differed once: random: match=0x0.
 */
static void test_learn_three(void)
{
    const struct acc r1[] = {
        {'W', 0x0, 0x40}, {'W', 0x20, 0x5a5a5a5a}, {'W', 0x10, 0x1000}, {'W', 0x18, 0x5a5a5a5a}};
    const struct acc r2[] = {
        {'W', 0x0, 0x42}, {'W', 0x20, 0xa5a5a5a5}, {'W', 0x10, 0x2000}, {'W', 0x18, 0xa5a5a5a5}};
    const struct acc r3[] = {
        {'W', 0x0, 0x48}, {'W', 0x20, 0x5a5a5a5a}, {'W', 0x10, 0x3000}, {'W', 0x18, 0x5a5a5a5a}};
    g_autofree char *p1 = write_rec("t1.txt", r1, 4, NULL);
    g_autofree char *p2 = write_rec("t2.txt", r2, 4, NULL);
    g_autofree char *p3 = write_rec("t3.txt", r3, 4, NULL);
    g_autofree char *out = g_build_filename(tmpdir, "learned3.txt.gz", NULL);
    char *paths[] = {p1, p2, p3};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(rl_learn(3, paths, out, NULL, &s, &err), ==, 0);
    g_assert_cmpuint(s.match_writes, ==, 3);
    g_assert_cmpuint(s.rel_writes, ==, 1);
    g_assert_cmpuint(s.unaligned->len, ==, 0);
    rl_summary_clear(&s);
    /* the output is compressed as its name says, and reads back with its annotations */
    g_autofree char *head = NULL;
    gsize len;
    g_assert_true(g_file_get_contents(out, &head, &len, NULL));
    g_assert_true(len > 2 && (guchar)head[0] == 0x1f && (guchar)head[1] == 0x8b);
    struct mmiotrace_reader *rd = mmiotrace_reader_open(out);
    struct mmiotrace_record rec;
    const uint64_t masks[] = {0xfffffff1, 0x0, 0xfff};
    unsigned i = 0;
    while (mmiotrace_reader_next(rd, &rec) == 1) {
        if (rec.type != MMIOTRACE_WRITE) {
            continue;
        }
        if (i < 3) {
            g_assert_cmpuint(rec.ext & MMIOTRACE_EXT_ANNOT, ==, MMIOTRACE_EXT_MATCH);
            g_assert_cmphex(rec.match_mask, ==, masks[i]);
        } else {
            g_assert_cmpuint(rec.ext & MMIOTRACE_EXT_ANNOT, ==, MMIOTRACE_EXT_REL);
            g_assert_cmpuint(rec.rel_bar, ==, 0);
            g_assert_cmphex(rec.rel_off, ==, 0x20);
        }
        i++;
    }
    g_assert_cmpuint(i, ==, 4);
    mmiotrace_reader_free(rd);
}

/* QEMU's own accesses (vcpu=none) are left out when the guest made some, as the replay does. */
static void test_qemu_own(void)
{
    g_autofree char *p1 = g_build_filename(tmpdir, "own1.txt", NULL);
    g_autofree char *p2 = g_build_filename(tmpdir, "own2.txt", NULL);
    g_autofree char *out = g_build_filename(tmpdir, "own-out.txt", NULL);
    g_assert_true(g_file_set_contents(p1,
                                      "W 4 1.0 1 0x10 0x1 0x0 0 vcpu=none dev=d bar=0 off=0x10\n"
                                      "W 4 1.1 1 0x20 0x7 0x0 0 vcpu=0 dev=d bar=0 off=0x20\n",
                                      -1, NULL));
    g_assert_true(g_file_set_contents(p2, "W 4 1.1 1 0x20 0x6 0x0 0 vcpu=0 dev=d bar=0 off=0x20\n",
                                      -1, NULL));
    char *paths[] = {p1, p2};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(rl_learn(2, paths, out, NULL, &s, &err), ==, 0);
    g_assert_cmpuint(s.accesses[0], ==, 1);
    g_assert_cmpuint(s.match_writes, ==, 1);
    g_assert_cmpuint(s.unaligned->len, ==, 0);
    rl_summary_clear(&s);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    g_assert_cmpstr(text, ==,
                    "W 4 1.000000 1 0x10 0x1 0x0 0 vcpu=none dev=d bar=0 off=0x10\n"
                    "W 4 1.100000 1 0x20 0x7 0x0 0 vcpu=0 dev=d bar=0 off=0x20 match=0xfffffffe\n");
}

/* Bad input: a clear message, no output file left behind. */
static void expect_learn_error(int n, char **paths, const char *device, const char *want)
{
    g_autofree char *out = g_build_filename(tmpdir, "err-out.txt", NULL);
    struct rl_summary s;
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(rl_learn(n, paths, out, device, &s, &err), ==, -1);
    g_assert_nonnull(err);
    g_assert_cmpstr(err->message, ==, want);
    g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
    rl_summary_clear(&s);
}

static void test_learn_errors(void)
{
    const struct acc a[] = {{'W', 0, 1}};
    g_autofree char *p1 = write_rec("e1.txt", a, 1, NULL);
    g_autofree char *p2 = write_rec("e2.txt", a, 1, "nic1");
    g_autofree char *bad = g_build_filename(tmpdir, "bad.txt", NULL);
    g_autofree char *missing = g_build_filename(tmpdir, "missing.txt", NULL);
    g_assert_true(g_file_set_contents(bad, "W 3 1.0 1 0x0 0x0 0x0 0\n", -1, NULL));

    char *one[] = {p1};
    expect_learn_error(1, one, NULL, "--learn takes 2 to 16 recordings, not 1");
    char *two[] = {p1, missing};
    g_autofree char *m = g_strdup_printf("%s: No such file or directory", missing);
    expect_learn_error(2, two, NULL, m);
    char *with_bad[] = {p1, bad};
    g_autofree char *b = g_strdup_printf("%s:1: W record: width 3 is not 1, 2, 4 or 8", bad);
    expect_learn_error(2, with_bad, NULL, b);
    /* e2.txt's header names nic1 but the accesses are nic0's: nic1 has none in e1.txt */
    char *other[] = {p1, p2};
    g_autofree char *o = g_strdup_printf("%s: no access of device 'nic1'", p1);
    expect_learn_error(2, other, "nic1", o);
    g_autofree char *both = g_build_filename(tmpdir, "both.txt", NULL);
    g_assert_true(g_file_set_contents(both,
                                      "W 4 1.0 1 0x0 0x1 0x0 0 dev=nic0 bar=0 off=0x0\n"
                                      "W 4 1.0 1 0x0 0x1 0x0 0 dev=nic1 bar=0 off=0x0\n",
                                      -1, NULL));
    /* with --device, the other device's accesses are copied unannotated */
    g_autofree char *both2 = g_build_filename(tmpdir, "both2.txt", NULL);
    g_autofree char *both_out = g_build_filename(tmpdir, "both-out.txt", NULL);
    g_assert_true(g_file_set_contents(both2,
                                      "W 4 1.0 1 0x0 0x1 0x0 0 dev=nic0 bar=0 off=0x0\n"
                                      "W 4 1.0 1 0x0 0x2 0x0 0 dev=nic1 bar=0 off=0x0\n",
                                      -1, NULL));
    char *pair[] = {both, both2};
    struct rl_summary ok;
    g_autoptr(GError) ok_err = NULL;
    g_assert_cmpint(rl_learn(2, pair, both_out, "nic1", &ok, &ok_err), ==, 0);
    g_assert_cmpuint(ok.accesses[0], ==, 1);
    g_assert_cmpuint(ok.match_writes, ==, 1);
    rl_summary_clear(&ok);
    g_autofree char *both_text = NULL;
    g_assert_true(g_file_get_contents(both_out, &both_text, NULL, NULL));
    g_assert_cmpstr(both_text, ==,
                    "W 4 1.000000 1 0x0 0x1 0x0 0 dev=nic0 bar=0 off=0x0\n"
                    "W 4 1.000000 1 0x0 0x1 0x0 0 dev=nic1 bar=0 off=0x0 match=0xfffffffc\n");
    char *several[] = {both, p1};
    g_autofree char *sv = g_strdup_printf(
        "%s has the accesses of several devices (nic0, nic1): choose one with --device", both);
    expect_learn_error(2, several, NULL, sv);
    char *same[] = {p1, p1};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(rl_learn(2, same, p1, NULL, &s, &err), ==, -1);
    g_autofree char *sm = g_strdup_printf("the output %s is the recording %s", p1, p1);
    g_assert_cmpstr(err->message, ==, sm);
    rl_summary_clear(&s);
}

/* The command line: --learn's own rules, and a run with its summary. */
static void test_cli(void)
{
    const char *hvmmio = g_getenv("HVMMIO");
    if (!hvmmio) {
        g_test_skip("HVMMIO is not set");
        return;
    }
    g_autofree char *p1 = write_rec("c1.txt", run1, G_N_ELEMENTS(run1), NULL);
    g_autofree char *p2 = write_rec("c2.txt", run2, G_N_ELEMENTS(run2), NULL);
    g_autofree char *out = g_build_filename(tmpdir, "cli-out.txt", NULL);
    const struct {
        const char *argv[10];
        int status;
        const char *text;
    } cases[] = {
        {{hvmmio, "replay", "--learn", p1, "-o", out}, 2, "at least two recordings"},
        {{hvmmio, "replay", "--learn", p1, p2}, 2, "--learn needs --output FILE"},
        {{hvmmio, "replay", "--learn", p1, p2, "-o", out, "--scenario=x"}, 2, "no --scenario"},
        {{hvmmio, "replay", "--learn", p1, p2, "-o", out},
         0,
         "  not aligned     2 (made optional)\n"},
        {{hvmmio, "replay", "--learn", p1, p2, "-o", out},
         0,
         "  opt=1           1 of the first recording's accesses not in every recording, 1 of the "
         "others' inserted, 0 repeating a block whose count varies (0 writes given their "
         "register's match=)\n"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autofree char *o = NULL, *e = NULL;
        int status;
        g_autoptr(GError) err = NULL;
        g_spawn_sync(NULL, (char **)cases[i].argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &o, &e,
                     &status, &err);
        g_assert_no_error(err);
        g_assert_true(WIFEXITED(status));
        g_assert_cmpint(WEXITSTATUS(status), ==, cases[i].status);
        g_assert_nonnull(strstr(cases[i].status ? e : o, cases[i].text));
    }
    g_assert_true(g_file_test(out, G_FILE_TEST_EXISTS));
}

/*
 * Two real recordings of e1000e-probe --args noipv6,down (tests/fixtures/learn-e1000e-probe-
 * *.trace.gz, TCG; the first and the last of tests/fixtures/make-fixtures.sh's six): the
 * figures of docs/replay-learn.md, and the annotations of the ring addresses and the RSS key.
 */
static void test_e1000e(void)
{
    const char *fixtures = g_getenv("FIXTURES");
    if (!fixtures) {
        g_test_skip("FIXTURES is not set");
        return;
    }
    g_autofree char *p1 = g_build_filename(fixtures, "learn-e1000e-probe-1.trace.gz", NULL);
    g_autofree char *p2 = g_build_filename(fixtures, "learn-e1000e-probe-2.trace.gz", NULL);
    g_autofree char *out = g_build_filename(tmpdir, "e1000e.trace", NULL);
    char *paths[] = {p1, p2};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(rl_learn(2, paths, out, NULL, &s, &err), ==, 0);
    g_assert_cmpuint(s.accesses[0], ==, 4403);
    g_assert_cmpuint(s.accesses[1], ==, 4393);
    g_assert_cmpuint(s.match_writes, ==, 12);
    g_assert_cmpuint(s.rel_writes + s.rel_reads, ==, 0);
    /* the SYSTIML/SYSTIMH re-read loops whose counts differ: 5 and 14 pairs in the first */
    g_assert_cmpuint(s.polls, ==, 2);
    g_assert_cmpuint(s.poll_reads, ==, 38);
    g_assert_cmpuint(s.differing_reads, ==, 25);
    g_assert_cmpuint(s.unaligned->len, ==, 22);
    /* each not aligned: 10 of the first recording's accesses opt=1, 12 of the second's inserted
     * (the link-change handler and a PHY block, in the other order), the first's 9 accesses
     * repeating a block whose count varies opt=1; no optional write of a register with match= */
    g_assert_cmpuint(s.optional * 1000000 + s.inserted * 1000 + s.repeated, ==, 10012009);
    g_assert_cmpuint(s.optional_match, ==, 0);
    rl_summary_clear(&s);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    /* the receive ring's pages (0x11406000, 0x1fee0000) differ in 10 bits, a quarter of 32:
     * taken for a random value */
    g_assert_true(
        g_regex_match_simple("^W 4 .* off=0x2800 match=0x0$", text, G_REGEX_MULTILINE, 0));
    g_assert_true(
        g_regex_match_simple("^W 4 .* off=0x3800 match=0xfff$", text, G_REGEX_MULTILINE, 0));
    for (unsigned off = 0x5c80; off <= 0x5ca4; off += 4) {
        g_autofree char *re = g_strdup_printf("^W 4 .* off=0x%x match=0x0$", off);
        g_assert_true(g_regex_match_simple(re, text, G_REGEX_MULTILINE, 0));
    }
    unsigned rw = 0, opt = 0; /* 4403 + 12 accesses, 22 + 9 of them opt=1 */
    for (const char *l = text; l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        rw += *l == 'R' || *l == 'W';
        opt += strcspn(l, "\n") > 6 && !strncmp(l + strcspn(l, "\n") - 6, " opt=1", 6);
    }
    g_assert_cmpuint(rw * 1000 + opt, ==, (4403 + 12) * 1000 + 22 + 9);
}

/*
 * Stretches too long to align exactly resynchronise after each difference: forced here
 * (rl_cells_max 0), the hand-made alignments and the two-run learning come out as above.
 */
static void test_resync(void)
{
    uint64_t saved = rl_cells_max;

    rl_cells_max = 0;
    expect_two_alignments();
    test_learn_two();
    /* the e1000e recordings: as many aligned as exactly (their differences are short) */
    const char *fixtures = g_getenv("FIXTURES");
    if (fixtures) {
        g_autofree char *p1 = g_build_filename(fixtures, "learn-e1000e-probe-1.trace.gz", NULL);
        g_autofree char *p2 = g_build_filename(fixtures, "learn-e1000e-probe-2.trace.gz", NULL);
        g_autofree char *out = g_build_filename(tmpdir, "e1000e-resync.trace", NULL);
        char *paths[] = {p1, p2};
        struct rl_summary s;
        g_autoptr(GError) err = NULL;
        g_assert_cmpint(rl_learn(2, paths, out, NULL, &s, &err), ==, 0);
        g_assert_cmpuint(s.approximate, ==, 1);
        g_assert_cmpuint(s.accesses[1], ==, 4393);
        g_assert_cmpuint(s.unaligned->len, ==, 22);
        rl_summary_clear(&s);
    }
    rl_cells_max = saved;
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    tmpdir = g_dir_make_tmp("replay-learn-XXXXXX", NULL);
    g_test_add_func("/replay-learn/align", test_align);
    g_test_add_func("/replay-learn/cycle", test_cycle);
    g_test_add_func("/replay-learn/two", test_learn_two);
    g_test_add_func("/replay-learn/resync", test_resync);
    g_test_add_func("/replay-learn/three", test_learn_three);
    learn_add_opt_tests();
    g_test_add_func("/replay-learn/qemu-own", test_qemu_own);
    g_test_add_func("/replay-learn/errors", test_learn_errors);
    g_test_add_func("/replay-learn/cli", test_cli);
    g_test_add_func("/replay-learn/e1000e", test_e1000e);
    int ret = g_test_run();
    g_autofree char *rm = g_strdup_printf("rm -rf '%s'", tmpdir);
    if (system(rm)) {
        ret = ret ? ret : 1;
    }
    g_free(tmpdir);
    return ret;
}
