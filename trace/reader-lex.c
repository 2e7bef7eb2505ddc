/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader: the field scanners that are not on the hot path (the R/W line's are
 * inline in reader-int.h) and the messages that describe a bad field.
 */
#include <stdio.h>

#include "reader-int.h"

/* A number read by get (hex or dec) that must not exceed max; c is kept on overflow. */
static enum status get_bounded(struct cur *c, enum status (*get)(struct cur *, uint64_t *),
                               uint64_t max, uint64_t *v)
{
    const char *start = c->p;
    enum status st = get(c, v);

    if (!st && *v > max) {
        c->p = start;
        return ST_OVERFLOW;
    }
    return st;
}

enum status mmiotrace_rd_get_hex32(struct cur *c, uint32_t *out)
{
    uint64_t v;
    enum status st = get_bounded(c, get_hex, UINT32_MAX, &v);

    if (!st) {
        *out = v;
    }
    return st;
}

enum status mmiotrace_rd_get_hex16(struct cur *c, uint16_t *out)
{
    uint64_t v;
    enum status st = get_bounded(c, get_hex, 0xffff, &v);

    if (!st) {
        *out = v;
    }
    return st;
}

enum status mmiotrace_rd_get_dec32(struct cur *c, uint32_t *out)
{
    uint64_t v;
    enum status st = get_bounded(c, get_dec, UINT32_MAX, &v);

    if (!st) {
        *out = v;
    }
    return st;
}

enum status mmiotrace_rd_get_opcode(struct cur *c, uint8_t *op)
{
    const char *p = c->p;

    for (int i = 0; i < 3; i++) {
        int hi, lo;
        if (c->end - p < 2 || !(hi = hex_value[(unsigned char)p[0]]) ||
            !(lo = hex_value[(unsigned char)p[1]])) {
            return ST_BAD;
        }
        op[i] = (hi - 1) << 4 | (lo - 1);
        p += 2;
        if (i < 2) {
            if (p == c->end || *p != ',') {
                return ST_BAD;
            }
            p++;
        }
    }
    if (!at_field_end(c, p)) {
        return ST_BAD;
    }
    c->p = p;
    return ST_OK;
}

enum status mmiotrace_rd_get_irq_kind(struct cur *c, enum mmiotrace_irq_kind *kind)
{
    const char *p = c->p;
    size_t n = 0;

    while (p + n < c->end && !is_blank(p[n])) {
        n++;
    }
    if (n == 4 && !memcmp(p, "INTX", 4)) {
        *kind = MMIOTRACE_IRQ_INTX;
    } else if (n == 3 && !memcmp(p, "MSI", 3)) {
        *kind = MMIOTRACE_IRQ_MSI;
    } else if (n == 4 && !memcmp(p, "MSIX", 4)) {
        *kind = MMIOTRACE_IRQ_MSIX;
    } else {
        return ST_BAD;
    }
    c->p = p + n;
    return ST_OK;
}

const char *mmiotrace_rd_show(char *out, size_t size, const char *p, const char *end)
{
    size_t o = 0;

    for (; p < end && *p != ' ' && *p != '\t' && o + 5 < size; p++) {
        unsigned char c = *p;
        if (o >= 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c < ' ' || c >= 0x7f || c == '\'') {
            o += snprintf(out + o, size - o, "\\x%02x", c);
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

int mmiotrace_rd_field_error(struct mmiotrace_reader *r, const char *what, const char *field,
                             enum status st, const struct cur *c, const char *line, size_t len)
{
    char tok[200];
    const char *nul = memchr(line, '\0', len);

    if (nul) {
        return mmiotrace_rd_line_error(r, r->lineno, "NUL byte at column %zu (binary data?)",
                                       (size_t)(nul - line) + 1);
    }
    mmiotrace_rd_show(tok, sizeof(tok), c->p, c->end);
    switch (st) {
    case ST_MISSING:
        return mmiotrace_rd_line_error(r, r->lineno, "%s record: missing %s", what, field);
    case ST_OVERFLOW:
        return mmiotrace_rd_line_error(r, r->lineno, "%s record: %s '%s' is too large", what, field,
                                       tok);
    default:
        if (c->p < c->end && !is_blank(*c->p) && c->p > line && !is_blank(c->p[-1])) {
            /* two fields run together */
            return mmiotrace_rd_line_error(r, r->lineno, "%s record: bad character '%s' before %s",
                                           what, tok, field);
        }
        return mmiotrace_rd_line_error(r, r->lineno, "%s record: bad %s '%s'", what, field, tok);
    }
}
