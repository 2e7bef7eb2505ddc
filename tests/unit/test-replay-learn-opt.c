/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --learn: accesses made in some recordings only (opt=1, inserted) and blocks
 * repeated a varying number of times, on synthetic recordings whose annotations are derived
 * by hand in the comments.
 */
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "replay-learn.h"
#include "test-replay-learn.h"

/*
 * Accesses made in some runs only. By hand: 0x8 written 2 / 3 / 2: match=0xfffffffe; R 0x10, in
 * run 1 only: opt=1; R 0x44, first in run 2: inserted before run 1's first access, with its time;
 * W 0x30 = 7 after W 0x8 in runs 2 and 3: inserted once, after W 0x8; W 0x8 = 4 at the end of
 * run 3: inserted after W 0x20, with the mask learned for 0x8 (no other run to compare it with).
 */
static void test_optional(void)
{
    const struct acc r1[] = {{'W', 0x0, 1}, {'W', 0x8, 2}, {'R', 0x10, 0}, {'W', 0x20, 5}};
    const struct acc r2[] = {
        {'R', 0x44, 9}, {'W', 0x0, 1}, {'W', 0x8, 3}, {'W', 0x30, 7}, {'W', 0x20, 5}};
    const struct acc r3[] = {
        {'W', 0x0, 1}, {'W', 0x8, 2}, {'W', 0x30, 7}, {'W', 0x20, 5}, {'W', 0x8, 4}};
    g_autofree char *p1 = write_rec("o1.txt", r1, 4, NULL);
    g_autofree char *p2 = write_rec("o2.txt", r2, 5, NULL);
    g_autofree char *p3 = write_rec("o3.txt", r3, 5, NULL);
    g_autofree char *out = g_build_filename(tmpdir, "optional.txt", NULL);
    char *paths[] = {p1, p2, p3};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;

    g_assert_cmpint(rl_learn(3, paths, out, NULL, &s, &err), ==, 0);
    g_assert_cmpuint(s.accesses[0], ==, 4);
    g_assert_cmpuint(s.accesses[1], ==, 3);
    g_assert_cmpuint(s.match_writes, ==, 1);
    g_assert_cmpuint(s.optional, ==, 1);
    g_assert_cmpuint(s.inserted, ==, 3);
    g_assert_cmpuint(s.optional_match, ==, 1);
    /* every place not aligned is listed, the duplicate W 0x30 of run 3 too */
    g_assert_cmpuint(s.unaligned->len, ==, 6);
    g_autofree char *u2 = g_strdup_printf("%s:4: W 4 BAR0+0x30 not in %s", p3, p1);
    g_assert_cmpstr(s.unaligned->pdata[2], ==, u2);
    rl_summary_clear(&s);
    g_autofree char *text = NULL;
    g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
    const char *got = strstr(text, "\nR ") + 1; /* after the header */
    const char *want = "R 4 1.000000 1 0xfeba0044 0x9 0x0 0 dev=nic0 bar=0 off=0x44 opt=1\n" L(
        "W", "00", "0000", "0", "0x1", "") L("W", "01", "0008", "8", "0x2", " match=0xfffffffe")
        L("W", "01", "0030", "30", "0x7", " opt=1") L("R", "02", "0010", "10", "0x0", " opt=1")
            L("W", "03", "0020", "20", "0x5", "")
                L("W", "03", "0008", "8", "0x4", " match=0xfffffffe opt=1");
    g_assert_cmpstr(got, ==, want);
}

/* A block of 8 writes made twice in run 1, three times in run 2: the third is inserted, and
 * both of run 1's are opt=1 (a replay may make it once); W 0x100 = 9 alone is not the block. */
static void test_repeated(void)
{
    struct acc r1[18] = {{'W', 0x100, 9}}, r2[26] = {{'W', 0x100, 9}};
    for (int i = 0; i < 24; i++) {
        struct acc a = {'W', 0x100 + i % 8 * 4, i % 8};
        if (i < 16) {
            r1[1 + i] = a;
        }
        r2[1 + i] = a;
    }
    r1[17] = r2[25] = (struct acc){'R', 0x8, 0};
    g_autofree char *p1 = write_rec("b1.txt", r1, 18, NULL),
                    *p2 = write_rec("b2.txt", r2, 26, NULL);
    g_autofree char *out = g_build_filename(tmpdir, "repeated.txt", NULL);
    char *paths[] = {p1, p2};
    struct rl_summary s;
    g_autoptr(GError) err = NULL;
    g_assert_cmpint(rl_learn(2, paths, out, NULL, &s, &err), ==, 0);
    g_assert_cmpuint(s.optional, ==, 0);
    g_assert_cmpuint(s.inserted, ==, 8);
    g_assert_cmpuint(s.repeated, ==, 16);
    rl_summary_clear(&s);
}

void learn_add_opt_tests(void)
{
    g_test_add_func("/replay-learn/optional", test_optional);
    g_test_add_func("/replay-learn/repeated", test_repeated);
}
