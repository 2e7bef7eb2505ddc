/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace writer: quoting of fact values (dev=, asm=), which scans a word at a time.
 * Every special byte (blank, control, '"', '\\', DEL) at every place of values of 0-40
 * bytes, and random values, against the rule in docs/trace-format.md applied byte by byte.
 * And the numbers, which the writer formats by hand a word at a time: R/W records of every
 * bit length and random values against printf with the kernel's format.
 */
#include <inttypes.h>
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

/* a value of 0-64 significant bits: every length is as likely */
static uint64_t random_bits(GRand *rnd)
{
    unsigned bits = g_rand_int_range(rnd, 0, 65);
    uint64_t v = ((uint64_t)g_rand_int(rnd) << 32) | g_rand_int(rnd);

    if (!bits) {
        return 0;
    }
    v >>= 64 - bits;
    return v | (1ull << (bits - 1));
}

/* One R/W record, in both modes, against the kernel's printf format and the facts' own. */
static void check_numbers(GRand *rnd)
{
    static char buf[MMIOTRACE_FORMAT_MAX];
    static const unsigned widths[] = {1, 2, 4, 8};
    struct mmiotrace_record r;

    mmiotrace_record_init(&r, g_rand_boolean(rnd) ? MMIOTRACE_READ : MMIOTRACE_WRITE);
    r.ts_ns = random_bits(rnd);
    while (r.ts_ns > MMIOTRACE_TS_MAX_NS) {
        r.ts_ns >>= 1; /* the format's limit: 2^32 s */
    }
    r.rw.width = widths[g_rand_int_range(rnd, 0, 4)];
    r.rw.map_id = (int32_t)g_rand_int(rnd) >> g_rand_int_range(rnd, 0, 32);
    r.rw.phys = random_bits(rnd);
    r.rw.value = random_bits(rnd);
    r.rw.pc = random_bits(rnd);
    r.ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_VCPU | MMIOTRACE_EXT_BAR;
    r.vcpu =
        g_rand_int_range(rnd, 0, 8) ? (int)(random_bits(rnd) & 0x7fffffff) : MMIOTRACE_VCPU_NONE;
    r.bar = g_rand_int_range(rnd, 0, 6);
    r.bar_off = random_bits(rnd);

    /* the kernel: "%c %d %u.%06lu %d 0x%llx 0x%lx 0x%lx %d\n", time rounded to the µs */
    uint64_t us = r.ts_ns / 1000 + (r.ts_ns % 1000 >= 500);
    g_autofree char *line =
        g_strdup_printf("%c %u %" PRIu64 ".%06u %d 0x%" PRIx64 " 0x%" PRIx64 " 0x%" PRIx64 " 0",
                        r.type == MMIOTRACE_READ ? 'R' : 'W', r.rw.width, us / 1000000,
                        (unsigned)(us % 1000000), r.rw.map_id, r.rw.phys, r.rw.value, r.rw.pc);
    g_autofree char *vcpu =
        r.vcpu == MMIOTRACE_VCPU_NONE ? g_strdup("none") : g_strdup_printf("%d", r.vcpu);
    g_autofree char *ext = g_strdup_printf("%s ns=%" PRIu64 " vcpu=%s bar=%d off=0x%" PRIx64 "\n",
                                           line, r.ts_ns, vcpu, r.bar, r.bar_off);
    g_autofree char *kernel = g_strconcat(line, "\n", NULL);

    int n = mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_EXTENDED);
    g_assert_cmpint(n, ==, strlen(ext));
    g_assert_cmpstr(buf, ==, ext);
    n = mmiotrace_format(buf, sizeof(buf), &r, MMIOTRACE_FMT_KERNEL);
    g_assert_cmpint(n, ==, strlen(kernel));
    g_assert_cmpstr(buf, ==, kernel);
    /* a buffer of just the line's size still takes it whole, and not a byte more */
    memset(buf, 'x', sizeof(buf));
    n = mmiotrace_format(buf, strlen(kernel) + 1, &r, MMIOTRACE_FMT_KERNEL);
    g_assert_cmpstr(buf, ==, kernel);
    g_assert_cmpint(buf[n + 1], ==, 'x');
}

static void test_numbers(void)
{
    GRand *rnd = g_rand_new_with_seed(16);

    for (int i = 0; i < 200000; i++) {
        check_numbers(rnd);
    }
    g_rand_free(rnd);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/writer/values/every-place", test_every_place);
    g_test_add_func("/writer/values/random", test_random);
    g_test_add_func("/writer/values/numbers", test_numbers);
    return g_test_run();
}
