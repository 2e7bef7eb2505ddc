/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Number formatting into a GString (or at a cursor) without printf, for the per-record paths
 * of decode, symbolize, stat and the Perfetto export (docs/regmap.md, "Throughput"). */
#ifndef HVMMIO_TOOLS_FASTFMT_H
#define HVMMIO_TOOLS_FASTFMT_H

#include <stdint.h>
#include <string.h>

#include <glib.h>

/* Append n bytes (g_string_append_len without its overlap checks). */
static inline void ff_put(GString *s, const char *p, size_t n)
{
    gsize at = s->len;
    g_string_set_size(s, at + n);
    memcpy(s->str + at, p, n);
}

/* Append a string literal. */
#define FF_LIT(s, lit) ff_put((s), (lit), sizeof(lit) - 1)

/* v in lower-case hex at w, at least digits digits (no "0x"): the end. At most 16 bytes. */
static inline char *ff_hex_at(char *w, uint64_t v, int digits)
{
    char buf[16];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n < digits && n < 16) {
        buf[n++] = '0';
    }
    while (n) {
        *w++ = buf[--n];
    }
    return w;
}

/* v in decimal at w, at least digits digits (zero-padded): the end. At most 20 bytes. */
static inline char *ff_dec_at(char *w, uint64_t v, int digits)
{
    char buf[20];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < digits && n < 20) {
        buf[n++] = '0';
    }
    while (n) {
        *w++ = buf[--n];
    }
    return w;
}

/* v in lower-case hex, at least digits digits (no "0x"). */
static inline void ff_hex(GString *s, uint64_t v, int digits)
{
    gsize at = s->len;
    g_string_set_size(s, at + 16);
    g_string_truncate(s, (gsize)(ff_hex_at(s->str + at, v, digits) - s->str));
}

static inline void ff_0x(GString *s, uint64_t v, int digits)
{
    g_string_append_len(s, "0x", 2);
    ff_hex(s, v, digits);
}

/* v in decimal, at least digits digits (zero-padded). */
static inline void ff_dec(GString *s, uint64_t v, int digits)
{
    gsize at = s->len;
    g_string_set_size(s, at + 20);
    g_string_truncate(s, (gsize)(ff_dec_at(s->str + at, v, digits) - s->str));
}

#endif
