/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace writer: the number and value formatters of the text writer (writer.c), by hand
 * and inline (no printf on the hot path), each number reproducing the kernel's printf
 * conversion it names. Each writes at p and returns the end of what it wrote; nothing is
 * NUL-terminated.
 */
#ifndef HVMMIO_TRACE_WRITER_PUT_H
#define HVMMIO_TRACE_WRITER_PUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static const char hex_digits[16] = "0123456789abcdef";

/* c in each of a word's 8 bytes */
#define BYTES(c) (0x0101010101010101ull * (uint8_t)(c))

static const char digit_pairs[201] = "00010203040506070809"
                                     "10111213141516171819"
                                     "20212223242526272829"
                                     "30313233343536373839"
                                     "40414243444546474849"
                                     "50515253545556575859"
                                     "60616263646566676869"
                                     "70717273747576777879"
                                     "80818283848586878889"
                                     "90919293949596979899";

static inline char *put_lit(char *p, const char *s, size_t len)
{
    memcpy(p, s, len);
    return p + len;
}
#define PUT(p, s) put_lit((p), (s), sizeof(s) - 1)

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
/*
 * The 8 hex digits of v, most significant first, as the 8 bytes of the result in memory
 * order: the nibbles spread one per byte, then 0-9 and a-f made ASCII, all 8 at once.
 */
static inline uint64_t hex8(uint32_t v)
{
    uint64_t x = v;
    x = (x | (x << 16)) & 0x0000ffff0000ffffull;
    x = (x | (x << 8)) & 0x00ff00ff00ff00ffull;
    x = (x | (x << 4)) & 0x0f0f0f0f0f0f0f0full;          /* byte i: nibble i */
    x = __builtin_bswap64(x);                            /* byte 0: the most significant */
    uint64_t letters = ((x + BYTES(6)) >> 4) & BYTES(1); /* 1 where the nibble is >= 10 */
    return x + BYTES('0') + letters * ('a' - '0' - 10);
}

/* v's n last hex digits (1 <= n <= 8), stored as 8 bytes: up to 7 past p + n are written */
static inline char *put_hex8(char *p, uint32_t v, int n)
{
    uint64_t d = hex8(v) >> (8 * (8 - n));
    memcpy(p, &d, 8);
    return p + n;
}

/*
 * "%llx". It stores whole words: up to 7 bytes past the end it returns are overwritten
 * (line_bound's slack covers them; what comes next overwrites them).
 */
static inline char *put_hex(char *p, uint64_t v)
{
    uint32_t hi = v >> 32;
    if (hi) {
        p = put_hex8(p, hi, (32 - __builtin_clz(hi) + 3) / 4);
        return put_hex8(p, (uint32_t)v, 8);
    }
    return put_hex8(p, (uint32_t)v, v ? (32 - __builtin_clz((uint32_t)v) + 3) / 4 : 1);
}
#else
/* "%llx" */
static inline char *put_hex(char *p, uint64_t v)
{
    int n = v ? (64 - __builtin_clzll(v) + 3) / 4 : 1;
    char *end = p + n;
    do {
        *--end = hex_digits[v & 0xf];
        v >>= 4;
    } while (end != p);
    return p + n;
}
#endif

/* "0x%llx" */
static inline char *put_0x(char *p, uint64_t v)
{
    p[0] = '0';
    p[1] = 'x';
    return put_hex(p + 2, v);
}

/* "%0Nx" with N = digits */
static inline char *put_hex_fixed(char *p, uint64_t v, int digits)
{
    for (int i = digits - 1; i >= 0; i--) {
        p[i] = hex_digits[v & 0xf];
        v >>= 4;
    }
    return p + digits;
}

/* two digits of v < 100 */
static inline char *put_2(char *p, unsigned v)
{
    memcpy(p, digit_pairs + 2 * v, 2);
    return p + 2;
}

/* "%08u" of v < 100000000: two independent halves, no loop */
static inline char *put_8(char *p, uint32_t v)
{
    uint32_t hi = v / 10000, lo = v % 10000;

    put_2(p, hi / 100);
    put_2(p + 2, hi % 100);
    put_2(p + 4, lo / 100);
    put_2(p + 6, lo % 100);
    return p + 8;
}

/* "%u" of v < 100000000, written in place from its last digit */
static inline char *put_u27(char *p, uint32_t v)
{
    int n = v < 10         ? 1
            : v < 100      ? 2
            : v < 1000     ? 3
            : v < 10000    ? 4
            : v < 100000   ? 5
            : v < 1000000  ? 6
            : v < 10000000 ? 7
                           : 8;
    char *end = p + n;

    while (v >= 100) {
        end -= 2;
        put_2(end, v % 100);
        v /= 100;
    }
    if (v >= 10) {
        put_2(end - 2, v);
    } else {
        end[-1] = '0' + v;
    }
    return p + n;
}

/* "%llu": in pieces of eight digits, so the divisions are 32-bit and mostly independent */
static inline char *put_u64(char *p, uint64_t v)
{
    if (v < 100000000) {
        return put_u27(p, (uint32_t)v);
    }
    uint64_t hi = v / 100000000;
    uint32_t lo = v % 100000000;
    if (hi < 100000000) {
        p = put_u27(p, (uint32_t)hi);
    } else {
        p = put_u27(p, (uint32_t)(hi / 100000000)); /* < 10^4: 20 digits at most */
        p = put_8(p, (uint32_t)(hi % 100000000));
    }
    return put_8(p, lo);
}

/* "%d" */
static inline char *put_i32(char *p, int32_t v)
{
    if (v < 0) {
        *p++ = '-';
        return put_u64(p, -(int64_t)v);
    }
    return put_u64(p, v);
}

/*
 * The kernel's timestamp "%u.%06lu": ns2usecs() rounds to the microsecond ((ns + 500) / 1000),
 * then do_div() splits seconds and microseconds.
 */
static inline char *put_time(char *p, uint64_t ns)
{
    uint64_t us = (ns + 500) / 1000;
    unsigned rem = us % 1000000;
    p = put_u64(p, us / 1000000);
    *p++ = '.';
    put_2(p, rem / 10000);
    put_2(p + 2, rem / 100 % 100);
    put_2(p + 4, rem % 100);
    return p + 6;
}

/*
 * Scanning a value a word at a time: does any of the 8 bytes of w need a look of its own?
 * (the classic has-zero and has-less tests, exact as yes/no answers for n <= 128)
 */
#define HAS_ZERO(v) (((v)-BYTES(1)) & ~(v)&BYTES(0x80))
#define HAS_LESS(v, n) (((v)-BYTES(n)) & ~(v)&BYTES(0x80))

static inline uint64_t special_bytes(uint64_t w, unsigned below)
{
    return HAS_LESS(w, below) | HAS_ZERO(w ^ BYTES('"')) | HAS_ZERO(w ^ BYTES('\\')) |
           HAS_ZERO(w ^ BYTES(0x7f));
}

/*
 * The length of s's prefix free of control bytes, '"', '\\' and (below = ' ' + 1) blanks,
 * to within a word: the bytes after it are looked at one by one.
 */
static inline size_t clean_prefix(const char *s, size_t len, unsigned below)
{
    size_t i = 0;
    for (; i + 8 <= len; i += 8) {
        uint64_t w;
        memcpy(&w, s + i, 8);
        if (special_bytes(w, below)) {
            break;
        }
    }
    return i;
}

/* A value that needs no quoting: non-empty, no blank, control, '"' or '\\'. */
static inline bool plain_value(const char *s, size_t len)
{
    if (!len) {
        return false;
    }
    for (size_t i = clean_prefix(s, len, ' ' + 1); i < len; i++) {
        unsigned char c = s[i];
        if (c <= ' ' || c == '"' || c == '\\' || c == 0x7f) {
            return false;
        }
    }
    return true;
}

/*
 * An extension value: as is when plain, else in double quotes with \\ \" \n \t \r and \xHH
 * (other control bytes) escaped. Worst case 4 * len + 2 bytes.
 */
static inline char *put_value(char *p, const char *s, size_t len)
{
    if (plain_value(s, len)) {
        return put_lit(p, s, len);
    }
    *p++ = '"';
    size_t clean = clean_prefix(s, len, ' ');
    p = put_lit(p, s, clean);
    for (size_t i = clean; i < len; i++) {
        unsigned char c = s[i];
        if (c == '"' || c == '\\') {
            *p++ = '\\';
            *p++ = c;
        } else if (c == '\n') {
            p = PUT(p, "\\n");
        } else if (c == '\t') {
            p = PUT(p, "\\t");
        } else if (c == '\r') {
            p = PUT(p, "\\r");
        } else if (c < ' ' || c == 0x7f) {
            p = PUT(p, "\\x");
            p = put_hex_fixed(p, c, 2);
        } else {
            *p++ = c;
        }
    }
    *p++ = '"';
    return p;
}

#endif
