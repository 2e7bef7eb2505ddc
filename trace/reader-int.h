/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: the streaming reader's private interface, between its files (not installed):
 *   reader.c          the public API: opening, the error policy, the record loop
 *   reader-input.c    input (file, fd, memory), decompression hand-off, line assembly
 *   reader-lex.c      field scanners that are not on the hot path, error messages for fields
 *   reader-facts.c    hvmmio's " key=value" facts (parse_ext)
 *   reader-records.c  one parser per record type (R, W, MAP, PCIDEV, ...)
 * The hot path's scanners (R and W lines) are static inline here.
 */
#ifndef HVMMIO_TRACE_READER_INT_H
#define HVMMIO_TRACE_READER_INT_H

#include <string.h>

#include "internal.h"

#define READ_CHUNK (1024 * 1024)

struct mmiotrace_reader {
    char *name;
    int fd; /* -1: memory input */
    bool own_fd;
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    struct mmiotrace_decomp *dz;
    enum mmiotrace_compression comp;
    bool started;      /* compression sniffed */
    bool format_known; /* text or JSON Lines decided */
    bool jsonl;
    bool eof;        /* no more (decompressed) input */
    bool failed;     /* a fatal error: err holds it */
    bool discarding; /* skipping the rest of an over-long line */
    enum mmiotrace_error_policy policy;
    mmiotrace_warn_fn warn;
    void *warn_opaque;
    uint64_t lineno;   /* lines consumed */
    uint64_t rec_line; /* first line of the last record returned */
    uint64_t skipped;
    uint64_t raw_bytes; /* bytes read from the file (compressed size if compressed) */
    size_t start, end;  /* unconsumed data: buf[start, end) */
    size_t scan;        /* buf[start, scan) has no newline */
    size_t next_start;  /* where the peeked line ends (after its newline) */
    size_t scratch_len; /* scratch bytes used by the current record */

    /* a MARK waiting for possible continuation lines */
    bool mark_pending;
    uint64_t mark_line;
    uint64_t mark_ts;
    size_t mark_len;

    char err[512];
    char mark_text[MMIOTRACE_TEXT_MAX];
    char scratch[MMIOTRACE_LINE_MAX];
    char buf[READ_CHUNK + MMIOTRACE_LINE_MAX];
};

/* ---- Errors (reader.c) ---- */

/* A fatal error not tied to one line: "NAME: message"; returns -1. */
int mmiotrace_rd_fatal(struct mmiotrace_reader *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A malformed line: "NAME:LINE: message" (the policy decides what happens next); returns -1. */
int mmiotrace_rd_line_error(struct mmiotrace_reader *r, uint64_t line, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* ---- Input (reader-input.c) ---- */

/* Sniff the magic bytes and set up decompression. 0, or -1 (fatal). */
int mmiotrace_rd_start(struct mmiotrace_reader *r);
/* mmiotrace_rd_peek_line in full: over-long lines, reading more input, the end of input. */
int mmiotrace_rd_peek_line_slow(struct mmiotrace_reader *r, const char **line, size_t *len);

/*
 * The next line, without consuming it (see mmiotrace_rd_consume_line): 1 = the line is in *line
 * and *len (the newline and a '\r' before it removed), 0 = end of input, -1 = error (fatal, or an
 * over-long line: r->failed tells which). Inline for the usual case, a whole line in the buffer.
 */
static inline int mmiotrace_rd_peek_line(struct mmiotrace_reader *r, const char **line, size_t *len)
{
    char *nl = r->discarding ? NULL : memchr(r->buf + r->scan, '\n', r->end - r->scan);
    size_t l = nl ? (size_t)(nl - (r->buf + r->start)) : MMIOTRACE_LINE_MAX;

    if (l >= MMIOTRACE_LINE_MAX) {
        return mmiotrace_rd_peek_line_slow(r, line, len);
    }
    r->next_start = nl + 1 - r->buf;
    *line = r->buf + r->start;
    if (l && nl[-1] == '\r') {
        l--;
    }
    *len = l;
    return 1;
}

/* A line longer than MMIOTRACE_LINE_MAX, or NUL bytes (nul): the message for it. */
void mmiotrace_rd_long_line_error(struct mmiotrace_reader *r, uint64_t line, bool nul);

static inline void mmiotrace_rd_consume_line(struct mmiotrace_reader *r)
{
    r->start = r->scan = r->next_start;
    r->lineno++;
}

/* ---- Lexing: the hot path's scanners (inline) ---- */

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t';
}

/* A cursor over the rest of a line. */
struct cur {
    const char *p, *end;
};

enum status { ST_OK = 0, ST_MISSING, ST_BAD, ST_OVERFLOW, ST_RANGE };

/* hex_value[c] - 1 is the digit's value; 0 = not a hex digit */
static const signed char hex_value[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};

/* Skip the blanks before a field; ST_MISSING at the end of the line, ST_BAD if no blank. */
static inline enum status sep(struct cur *c)
{
    const char *p = c->p;

    if (p == c->end) {
        return ST_MISSING;
    }
    if (!is_blank(*p)) {
        return ST_BAD;
    }
    do {
        p++;
    } while (p < c->end && is_blank(*p));
    c->p = p;
    return p == c->end ? ST_MISSING : ST_OK;
}

static inline bool at_field_end(const struct cur *c, const char *p)
{
    return p == c->end || is_blank(*p);
}

/* Hex with or without 0x; on error c->p stays at the token. */
static inline enum status get_hex(struct cur *c, uint64_t *out)
{
    const char *p = c->p;
    uint64_t v = 0;

    if (c->end - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        p += 2;
    }
    const char *digits = p;
    int d;
    while (p < c->end && (d = hex_value[(unsigned char)*p])) {
        if (v >> 60) {
            return ST_OVERFLOW;
        }
        v = v << 4 | (d - 1);
        p++;
    }
    if (p == digits || !at_field_end(c, p)) {
        return ST_BAD;
    }
    c->p = p;
    *out = v;
    return ST_OK;
}

static inline enum status get_dec(struct cur *c, uint64_t *out)
{
    const char *p = c->p;
    uint64_t v = 0;

    while (p < c->end && (unsigned)(*p - '0') < 10) {
        unsigned d = *p - '0';
        if (v > (UINT64_MAX - d) / 10) {
            return ST_OVERFLOW;
        }
        v = v * 10 + d;
        p++;
    }
    if (p == c->p || !at_field_end(c, p)) {
        return ST_BAD;
    }
    c->p = p;
    *out = v;
    return ST_OK;
}

/* "%d" */
static inline enum status get_int(struct cur *c, int32_t *out)
{
    struct cur t = *c;
    bool neg = t.p < t.end && *t.p == '-';
    uint64_t v;

    if (neg) {
        t.p++;
    }
    enum status st = get_dec(&t, &v);
    if (st) {
        return st;
    }
    if (v > (neg ? 0x80000000u : 0x7fffffffu)) {
        return ST_OVERFLOW;
    }
    c->p = t.p;
    *out = neg ? (int32_t)(0 - v) : (int32_t)v;
    return ST_OK;
}

/* "SECONDS.FRACTION" with any number of fraction digits (beyond 9 ignored) -> ns */
static inline enum status get_time(struct cur *c, uint64_t *ns, int *frac_digits)
{
    const char *p = c->p;
    uint64_t secs = 0, frac = 0;
    int nfrac = 0;

    while (p < c->end && (unsigned)(*p - '0') < 10) {
        secs = secs * 10 + (*p - '0');
        if (secs > UINT32_MAX) { /* the kernel's "%u" */
            return ST_OVERFLOW;
        }
        p++;
    }
    if (p == c->p) {
        return ST_BAD;
    }
    if (p < c->end && *p == '.') {
        p++;
        while (p < c->end && (unsigned)(*p - '0') < 10) {
            if (nfrac < 9) {
                frac = frac * 10 + (*p - '0');
            }
            nfrac++;
            p++;
        }
    }
    if (!at_field_end(c, p)) {
        return ST_BAD;
    }
    static const uint32_t scale[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                       10000,      1000,      100,      10,      1};
    uint64_t v = secs * 1000000000u;
    frac *= scale[nfrac < 9 ? nfrac : 9];
    if (v + frac > MMIOTRACE_TS_MAX_NS) {
        return ST_OVERFLOW;
    }
    *ns = v + frac;
    *frac_digits = nfrac;
    c->p = p;
    return ST_OK;
}

/* ---- Lexing: the other scanners and field errors (reader-lex.c) ---- */

enum status mmiotrace_rd_get_hex16(struct cur *c, uint16_t *out);
enum status mmiotrace_rd_get_hex32(struct cur *c, uint32_t *out);
enum status mmiotrace_rd_get_dec32(struct cur *c, uint32_t *out);
/* UNKNOWN's opcode bytes "%02lx,%02lx,%02lx" */
enum status mmiotrace_rd_get_opcode(struct cur *c, uint8_t *op);
/* IRQ's kind: INTX, MSI or MSIX */
enum status mmiotrace_rd_get_irq_kind(struct cur *c, enum mmiotrace_irq_kind *kind);
/* Copy a token for a message: at most 40 bytes, non-printable bytes as \xHH. */
const char *mmiotrace_rd_show(char *out, size_t size, const char *p, const char *end);
/*
 * Describe a field error of a what record ("missing phys", "bad phys 'xyz'", "phys '0x1...' is
 * too large") at c in line; returns -1.
 */
int mmiotrace_rd_field_error(struct mmiotrace_reader *r, const char *what, const char *field,
                             enum status st, const struct cur *c, const char *line, size_t len);

/* ---- Facts (reader-facts.c) ---- */

/*
 * Parse " key=value" tokens from c to the end of the line into rec (text values go to
 * r->scratch). frac_digits: the timestamp's fraction digits (for ns=); markx: a MARKX line,
 * whose text= is the MARK's text. 0, or -1 (message in r->err).
 */
int mmiotrace_rd_parse_ext(struct mmiotrace_reader *r, const char *what, struct cur c,
                           struct mmiotrace_record *rec, const char *line, size_t len,
                           int frac_digits, bool markx);

/* ---- Records (reader-records.c) ---- */

/* Parse a text line of a known kind; 0 = *rec filled, -1 = malformed (message in r->err). */
int mmiotrace_rd_parse_line(struct mmiotrace_reader *r, enum keyword kw, const char *line,
                            size_t len, struct mmiotrace_record *rec);

#endif
