/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace writer: quoting of fact values (dev=, asm=), which scans a word at a time.
 * Every special byte (blank, control, '"', '\\', DEL) at every place of values of 0-40
 * bytes, and random values, against the rule in docs/trace-format.md applied byte by byte.
 */
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"

/* The rule: plain if non-empty and free of blanks, controls, '"', '\\' and DEL; else quoted. */
static void model(GString *out, const char *s, size_t len)
{
    gboolean plain = len > 0;

    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        plain &= !(c <= ' ' || c == '"' || c == '\\' || c == 0x7f);
    }
    if (plain) {
        g_string_append_len(out, s, len);
        return;
    }
    g_string_append_c(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            g_string_append_c(out, '\\');
            g_string_append_c(out, c);
        } else if (c == '\n') {
            g_string_append(out, "\\n");
        } else if (c == '\t') {
            g_string_append(out, "\\t");
        } else if (c == '\r') {
            g_string_append(out, "\\r");
        } else if (c < ' ' || c == 0x7f) {
            g_string_append_printf(out, "\\x%02x", c);
        } else {
            g_string_append_c(out, c);
        }
    }
    g_string_append_c(out, '"');
}

/* The asm= value of an R record carrying s, as formatted. */
static void check(const char *s, size_t len)
{
    static char buf[MMIOTRACE_FORMAT_MAX];
    struct mmiotrace_record r;
    g_autoptr(GString) want = g_string_new("R 4 0.000001 1 0x1000 0x0 0x0 0 dev=");

    mmiotrace_record_init(&r, MMIOTRACE_READ);
    r.ts_ns = 1000;
    r.rw.width = 4;
    r.rw.map_id = 1;
    r.rw.phys = 0x1000;
    r.ext = MMIOTRACE_EXT_DEV | MMIOTRACE_EXT_ASM;
    r.dev = s;
    r.dev_len = len;
    r.asm_text = s;
    r.asm_len = len;
    model(want, s, len);
    g_string_append(want, " asm=");
    model(want, s, len);
    g_string_append_c(want, '\n');
    if (!len) {
        r.ext &= ~MMIOTRACE_EXT_DEV; /* an empty device name is not a record */
        g_string_assign(want, "R 4 0.000001 1 0x1000 0x0 0x0 0 asm=\"\"\n");
    }
    int n = mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED);
    g_assert_cmpint(n, ==, want->len);
    g_assert_cmpstr(buf, ==, want->str);
}

static void test_every_place(void)
{
    static const unsigned char special[] = {' ', '\t', '\n', '\r', 0x01, 0x1f, '"',  '\\', 0x7f,
                                            '!', '#',  '[',  ']',  0x80, 0xff, 0x21, 0x5b, 0x5d};
    char s[41];

    for (size_t len = 0; len <= 40; len++) {
        memset(s, 'm', len);
        check(s, len);
        for (size_t at = 0; at < len; at++) {
            for (size_t k = 0; k < sizeof(special); k++) {
                memset(s, 'm', len);
                s[at] = special[k];
                check(s, len);
            }
        }
    }
}

static void test_random(void)
{
    GRand *rnd = g_rand_new_with_seed(18);
    char s[64];

    for (int i = 0; i < 200000; i++) {
        size_t len = g_rand_int_range(rnd, 1, 64);
        for (size_t j = 0; j < len; j++) {
            /* mostly printable, some specials */
            s[j] = g_rand_int_range(rnd, 0, 8) ? g_rand_int_range(rnd, 0x21, 0x7f)
                                               : g_rand_int_range(rnd, 0, 256);
        }
        check(s, len);
    }
    g_rand_free(rnd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/writer/values/every-place", test_every_place);
    g_test_add_func("/writer/values/random", test_random);
    return g_test_run();
}
