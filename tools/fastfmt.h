/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Number formatting into a GString (or at a cursor) without printf, for the per-record paths
 * of decode, symbolize, stat and the Perfetto export (docs/regmap.md, "Throughput"). */
#ifndef HVMMIO_TOOLS_FASTFMT_H
#define HVMMIO_TOOLS_FASTFMT_H

#include <stdint.h>
#include <string.h>

#include <glib.h>

/* Room for n more bytes after s->len (GString's fields are public; it keeps a NUL). */
static inline void ff_room(GString *s, size_t n)
{
    if (G_UNLIKELY(s->len + n >= s->allocated_len)) {
        gsize len = s->len;
        g_string_set_size(s, len + n);
        g_string_truncate(s, len);
    }
}

/* Append n bytes (g_string_append_len without its overlap checks). */
static inline void ff_put(GString *s, const char *p, size_t n)
{
    ff_room(s, n);
    memcpy(s->str + s->len, p, n);
    s->len += n;
    s->str[s->len] = 0;
}

/* Append a string literal. */
#define FF_LIT(s, lit) ff_put((s), (lit), sizeof(lit) - 1)

/* v in lower-case hex at w, at least digits digits (no "0x"): the end. At most 16 bytes. */
static inline char *ff_hex_at(char *w, uint64_t v, int digits)
{
    int n = v ? (67 - __builtin_clzll(v)) / 4 : 1;
    if (n < digits) {
        n = digits < 16 ? digits : 16;
    }
    for (int i = n - 1; i >= 0; i--) {
        w[i] = "0123456789abcdef"[v & 15];
        v >>= 4;
    }
    return w + n;
}

/* v in decimal at w, at least digits digits (zero-padded): the end. At most 20 bytes. */
static inline char *ff_dec_at(char *w, uint64_t v, int digits)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324252627282930"
                                "31323334353637383940414243444546474849505152535455565758596061"
                                "62636465666768697071727374757677787980818283848586878889909192"
                                "93949596979899";
    int n = 1;
    for (uint64_t t = v; t >= 10; t /= 10) {
        n++;
    }
    for (int pad = (digits < 20 ? digits : 20) - n; pad > 0; pad--) {
        *w++ = '0';
    }
    char *e = w + n;
    while (v >= 100) {
        e -= 2;
        memcpy(e, pairs + 2 * (v % 100), 2);
        v /= 100;
    }
    if (v >= 10) {
        memcpy(e - 2, pairs + 2 * v, 2);
    } else {
        e[-1] = (char)('0' + v);
    }
    return w + n;
}

/* v in lower-case hex, at least digits digits (no "0x"). */
static inline void ff_hex(GString *s, uint64_t v, int digits)
{
    ff_room(s, 16);
    s->len = (gsize)(ff_hex_at(s->str + s->len, v, digits) - s->str);
    s->str[s->len] = 0;
}

static inline void ff_0x(GString *s, uint64_t v, int digits)
{
    FF_LIT(s, "0x");
    ff_hex(s, v, digits);
}

/* v in decimal, at least digits digits (zero-padded). */
static inline void ff_dec(GString *s, uint64_t v, int digits)
{
    ff_room(s, 20);
    s->len = (gsize)(ff_dec_at(s->str + s->len, v, digits) - s->str);
    s->str[s->len] = 0;
}

#endif
