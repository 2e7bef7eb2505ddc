/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader: hvmmio's facts, the " key=value" tokens after a line's kernel fields
 * (docs/trace-format.md): values plain or quoted, one handler per known key; keys it does not
 * know (facts of a newer hvmmio) are ignored.
 */
#include <stdio.h>

#include "reader-int.h"

/* What a fact's handler needs: the record and its line's context. */
struct facts {
    struct mmiotrace_reader *r;
    const char *what; /* the record type, for messages */
    struct mmiotrace_record *rec;
    int frac_digits; /* of the line's timestamp */
    bool is_rw;
    bool have_off, have_text;
    int kl;          /* the key's length, for messages (at most 24) */
    const char *key; /* the key, for messages */
};

/* A value without quotes: to the next blank. */
static int plain_value(struct facts *f, struct cur *c, const char **val, size_t *vlen)
{
    const char *p = c->p;

    while (p < c->end && !is_blank(*p)) {
        if (!*p) {
            return mmiotrace_rd_line_error(
                f->r, f->r->lineno, "NUL byte at column %zu (binary data?)", (size_t)(p - c->p));
        }
        p++;
    }
    *val = c->p;
    *vlen = p - c->p;
    c->p = p;
    return 0;
}

/* The escape at *pp (after its backslash) in a quoted value: its byte, or -1 (message set). */
static int unescape(struct facts *f, const struct cur *c, const char **pp)
{
    const char *p = *pp;

    switch (*p) {
    case '\\':
    case '"':
        return (unsigned char)*p;
    case 'n':
        return '\n';
    case 't':
        return '\t';
    case 'r':
        return '\r';
    case 'x':
        if (c->end - p < 3 || !hex_value[(unsigned char)p[1]] || !hex_value[(unsigned char)p[2]]) {
            return mmiotrace_rd_line_error(
                f->r, f->r->lineno, "%s record: bad \\x escape in %.*s=", f->what, f->kl, f->key);
        }
        *pp = p + 2;
        return (hex_value[(unsigned char)p[1]] - 1) << 4 | (hex_value[(unsigned char)p[2]] - 1);
    default:
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: bad escape '\\%c' in %.*s=", f->what,
                                       *p >= ' ' && *p < 0x7f ? *p : '?', f->kl, f->key);
    }
}

static int unterminated(struct facts *f)
{
    return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                   "%s record: unterminated quoted value of %.*s=", f->what, f->kl,
                                   f->key);
}

/* Decode a value (plain or quoted) into the scratch buffer; c->p is at its first byte. */
static int get_value(struct facts *f, struct cur *c, const char **val, size_t *vlen)
{
    struct mmiotrace_reader *r = f->r;
    const char *p = c->p;
    char *out = r->scratch + r->scratch_len;
    char *o = out;

    if (p == c->end || *p != '"') {
        return plain_value(f, c, val, vlen);
    }
    for (p++;; p++) {
        if (p == c->end) {
            return unterminated(f);
        }
        int ch = (unsigned char)*p;
        if (ch == '"') {
            p++;
            break;
        }
        if (!ch) {
            return mmiotrace_rd_line_error(
                r, r->lineno, "NUL byte in the value of %.*s= (binary data?)", f->kl, f->key);
        }
        if (ch == '\\') {
            if (++p == c->end) {
                return unterminated(f);
            }
            if ((ch = unescape(f, c, &p)) < 0) {
                return -1;
            }
        }
        *o++ = ch;
    }
    if (!at_field_end(c, p)) {
        return mmiotrace_rd_line_error(r, r->lineno,
                                       "%s record: text after the closing quote of %.*s=", f->what,
                                       f->kl, f->key);
    }
    r->scratch_len += o - out;
    *val = out;
    *vlen = o - out;
    c->p = p;
    return 0;
}

/*
 * One handler per key: v and vlen are the decoded value. Returns ST_OK, ST_BAD or ST_OVERFLOW
 * (reported as a bad or too large value), or -1 with its own message.
 */
typedef int (*fact_fn)(struct facts *f, const char *v, size_t vlen);

/* ns=: the time to the nanosecond, which must round to the line's timestamp */
static int fact_ns(struct facts *f, const char *v, size_t vlen)
{
    struct mmiotrace_record *rec = f->rec;
    struct cur vc = {v, v + vlen};
    uint64_t n = 0;

    if (rec->type == MMIOTRACE_VERSION || rec->type == MMIOTRACE_PCIDEV) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: ns= on a record without a time", f->what);
    }
    enum status vst = get_dec(&vc, &n);
    if (!vst && n > MMIOTRACE_TS_MAX_NS) {
        vst = ST_OVERFLOW;
    }
    if (!vst) {
        if (f->frac_digits <= 6 && (n + 500) / 1000 != rec->ts_ns / 1000) {
            return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                           "%s record: ns=%llu does not round to the timestamp",
                                           f->what, (unsigned long long)n);
        }
        rec->ts_ns = n;
        rec->ext |= MMIOTRACE_EXT_NS;
    }
    return vst;
}

/* vcpu=N or vcpu=none */
static int fact_vcpu(struct facts *f, const char *v, size_t vlen)
{
    struct cur vc = {v, v + vlen};
    uint64_t n = 0;
    enum status vst = ST_OK;

    if (vlen == 4 && !memcmp(v, "none", 4)) {
        f->rec->vcpu = MMIOTRACE_VCPU_NONE;
    } else if (!(vst = get_dec(&vc, &n))) {
        if (n > INT32_MAX) {
            vst = ST_OVERFLOW;
        }
        f->rec->vcpu = n;
    }
    f->rec->ext |= MMIOTRACE_EXT_VCPU;
    return vst;
}

static int fact_dev(struct facts *f, const char *v, size_t vlen)
{
    if (!vlen || vlen > MMIOTRACE_DEV_MAX) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: dev= must be 1 to %d bytes",
                                       f->what, MMIOTRACE_DEV_MAX);
    }
    f->rec->dev = v;
    f->rec->dev_len = vlen;
    f->rec->ext |= MMIOTRACE_EXT_DEV;
    return ST_OK;
}

static int fact_bar(struct facts *f, const char *v, size_t vlen)
{
    struct cur vc = {v, v + vlen};
    uint64_t n = 0;
    enum status vst;

    if (!(vst = get_dec(&vc, &n)) && n > 6) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: bar=%llu is not 0-6",
                                       f->what, (unsigned long long)n);
    }
    f->rec->bar = n;
    f->rec->ext |= MMIOTRACE_EXT_BAR;
    return vst;
}

static int fact_off(struct facts *f, const char *v, size_t vlen)
{
    struct cur vc = {v, v + vlen};

    f->have_off = true;
    return get_hex(&vc, &f->rec->bar_off);
}

static int fact_insn(struct facts *f, const char *v, size_t vlen)
{
    struct mmiotrace_record *rec = f->rec;
    enum status vst = ST_OK;

    if (!vlen || vlen % 2 || vlen > 2 * MMIOTRACE_INSN_MAX) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: insn= must be 1 to %d bytes in hex", f->what,
                                       MMIOTRACE_INSN_MAX);
    }
    for (size_t i = 0; i < vlen; i += 2) {
        int hi = hex_value[(unsigned char)v[i]], lo = hex_value[(unsigned char)v[i + 1]];
        if (!hi || !lo) {
            vst = ST_BAD;
            break;
        }
        rec->insn[i / 2] = (hi - 1) << 4 | (lo - 1);
    }
    rec->insn_len = vlen / 2;
    rec->ext |= MMIOTRACE_EXT_INSN;
    return vst;
}

static int fact_asm(struct facts *f, const char *v, size_t vlen)
{
    if (vlen > MMIOTRACE_ASM_MAX) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: asm= is longer than %d bytes", f->what,
                                       MMIOTRACE_ASM_MAX);
    }
    f->rec->asm_text = v;
    f->rec->asm_len = vlen;
    f->rec->ext |= MMIOTRACE_EXT_ASM;
    return ST_OK;
}

static int fact_pc(struct facts *f, const char *v, size_t vlen)
{
    if (vlen != 7 || memcmp(v, "unknown", 7)) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: pc= must be 'unknown'",
                                       f->what);
    }
    f->rec->ext |= MMIOTRACE_EXT_PC_UNKNOWN;
    return ST_OK;
}

static int fact_rejected(struct facts *f, const char *v, size_t vlen)
{
    if (vlen != 1 || *v != '1') {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: rejected= must be 1",
                                       f->what);
    }
    f->rec->ext |= MMIOTRACE_EXT_REJECTED;
    return ST_OK;
}

/* MARKX's text=: the MARK's text */
static int fact_text(struct facts *f, const char *v, size_t vlen)
{
    if (vlen > MMIOTRACE_TEXT_MAX) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: text is longer than %d bytes", f->what,
                                       MMIOTRACE_TEXT_MAX);
    }
    f->rec->mark.text = v;
    f->rec->mark.len = vlen;
    f->have_text = true;
    return ST_OK;
}

/* match=0xMASK (W only): the bits of the written value a replay checks */
static int fact_match(struct facts *f, const char *v, size_t vlen)
{
    struct cur vc = {v, v + vlen};

    if (f->rec->type != MMIOTRACE_WRITE) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: match= is for W records only", f->what);
    }
    enum status vst = get_hex(&vc, &f->rec->match_mask);
    unsigned w = f->rec->rw.width;
    if (!vst && w < 8 && f->rec->match_mask >> (8 * w)) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: match= has bits beyond the width (%u bytes)",
                                       f->what, w);
    }
    f->rec->ext |= MMIOTRACE_EXT_MATCH;
    return vst;
}

/* rel=BAR:0xOFF: the value the guest last wrote to that register */
static int fact_rel(struct facts *f, const char *v, size_t vlen)
{
    struct cur vc = {v + 2, v + vlen};

    if (vlen < 3 || v[0] < '0' || v[0] > '5' || v[1] != ':') {
        return mmiotrace_rd_line_error(
            f->r, f->r->lineno, "%s record: rel= must be BAR:0xOFFSET with a BAR 0-5", f->what);
    }
    f->rec->rel_bar = v[0] - '0';
    f->rec->ext |= MMIOTRACE_EXT_REL;
    return get_hex(&vc, &f->rec->rel_off);
}

/* poll=tolerant (R only) */
static int fact_poll(struct facts *f, const char *v, size_t vlen)
{
    if (f->rec->type != MMIOTRACE_READ) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: poll= is for R records only",
                                       f->what);
    }
    if (vlen != 8 || memcmp(v, "tolerant", 8)) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: poll= must be 'tolerant'",
                                       f->what);
    }
    f->rec->ext |= MMIOTRACE_EXT_POLL;
    return ST_OK;
}

/* opt=1: the access may be absent from a replay */
static int fact_opt(struct facts *f, const char *v, size_t vlen)
{
    if (vlen != 1 || *v != '1') {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: opt= must be 1", f->what);
    }
    f->rec->ext |= MMIOTRACE_EXT_OPT;
    return ST_OK;
}

/* DMA's data=: the first bytes of the DMA in hex, decoded into the scratch buffer */
static int fact_data(struct facts *f, const char *v, size_t vlen)
{
    uint8_t *out = (uint8_t *)f->r->scratch + f->r->scratch_len;

    if (!vlen || vlen % 2 || vlen > 2 * MMIOTRACE_DMA_BYTES_MAX) {
        return mmiotrace_rd_line_error(f->r, f->r->lineno,
                                       "%s record: data= must be 1 to %d bytes in hex", f->what,
                                       MMIOTRACE_DMA_BYTES_MAX);
    }
    for (size_t i = 0; i < vlen; i += 2) {
        int hi = hex_value[(unsigned char)v[i]], lo = hex_value[(unsigned char)v[i + 1]];
        if (!hi || !lo) {
            return ST_BAD;
        }
        out[i / 2] = (hi - 1) << 4 | (lo - 1);
    }
    f->r->scratch_len += vlen / 2;
    f->rec->dma.data = out;
    f->rec->dma.nbytes = vlen / 2;
    return ST_OK;
}

/* DMAMAP's ro=1: a read-only mapping */
static int fact_ro(struct facts *f, const char *v, size_t vlen)
{
    if (vlen != 1 || *v != '1') {
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: ro= must be 1", f->what);
    }
    f->rec->dmamap.readonly = true;
    return ST_OK;
}

#define FACT_RW 1u     /* only on R/W records (elsewhere: ignored as unknown) */
#define FACT_MARKX 2u  /* only on MARKX records (elsewhere: ignored as unknown) */
#define FACT_DMA 4u    /* only on DMA records (elsewhere: ignored as unknown) */
#define FACT_DMAMAP 8u /* only on DMAMAP records (elsewhere: ignored as unknown) */

/* The known keys: X(key, FACT_* where it applies or 0 for any record, handler) */
#define FACT_KEYS(X)                                                                               \
    X("ns", 0, fact_ns)                                                                            \
    X("vcpu", 0, fact_vcpu)                                                                        \
    X("dev", 0, fact_dev)                                                                          \
    X("bar", 0, fact_bar)                                                                          \
    X("off", 0, fact_off)                                                                          \
    X("insn", 0, fact_insn)                                                                        \
    X("asm", 0, fact_asm)                                                                          \
    X("pc", FACT_RW, fact_pc)                                                                      \
    X("rejected", FACT_RW, fact_rejected)                                                          \
    X("text", FACT_MARKX, fact_text)                                                               \
    X("match", FACT_RW, fact_match)                                                                \
    X("rel", FACT_RW, fact_rel)                                                                    \
    X("poll", FACT_RW, fact_poll)                                                                  \
    X("opt", FACT_RW, fact_opt)                                                                    \
    X("data", FACT_DMA, fact_data)                                                                 \
    X("ro", FACT_DMAMAP, fact_ro)

/*
 * The handler of a key on this record (FACT_* flags), or NULL (a fact of a newer hvmmio:
 * ignored). Comparisons of constant size, which the compiler inlines: the hot path.
 */
static fact_fn fact_lookup(const char *k, size_t klen, unsigned record)
{
#define FACT_MATCH(name, only, fn)                                                                 \
    if (klen == sizeof(name) - 1 && !memcmp(k, name, sizeof(name) - 1)) {                          \
        return ((only) & ~record) ? NULL : fn;                                                     \
    }
    FACT_KEYS(FACT_MATCH)
#undef FACT_MATCH
    return NULL;
}

/* A token that is not key=value. */
static int bad_token(struct facts *f, const char *k, const struct cur *c, const char *line,
                     size_t len)
{
    char tok[200];
    struct cur t = {k, c->end};

    if (memchr(line, '\0', len)) {
        return mmiotrace_rd_field_error(f->r, f->what, "", ST_BAD, &t, line, len);
    }
    return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: unexpected field '%s'", f->what,
                                   mmiotrace_rd_show(tok, sizeof(tok), k, c->end));
}

/* One key=value at c (after its blanks). */
static int parse_fact(struct facts *f, struct cur *c, unsigned record, const char *line, size_t len)
{
    const char *k = c->p;

    while (c->p < c->end &&
           ((*c->p >= 'a' && *c->p <= 'z') || (*c->p >= '0' && *c->p <= '9') || *c->p == '_')) {
        c->p++;
    }
    size_t klen = c->p - k;
    if (!klen || c->p == c->end || *c->p != '=') {
        return bad_token(f, k, c, line, len);
    }
    c->p++;
    f->key = k;
    f->kl = klen < 24 ? klen : 24;
    const char *v = NULL;
    size_t vlen = 0;
    if (get_value(f, c, &v, &vlen) < 0) {
        return -1;
    }
    fact_fn fn = fact_lookup(k, klen, record);
    int vst = fn ? fn(f, v, vlen) : ST_OK;
    if (vst < 0) {
        return -1;
    }
    if (vst) {
        char tok[200];
        mmiotrace_rd_show(tok, sizeof(tok), v, v + vlen);
        return mmiotrace_rd_line_error(f->r, f->r->lineno, "%s record: %s %.*s='%s'", f->what,
                                       vst == ST_OVERFLOW ? "too large" : "bad", f->kl, k, tok);
    }
    return 0;
}

/* The rules between facts, once all are read. */
static int facts_done(struct facts *f, bool markx)
{
    struct mmiotrace_record *rec = f->rec;
    struct mmiotrace_reader *r = f->r;

    if (f->have_off && !(rec->ext & MMIOTRACE_EXT_BAR)) {
        return mmiotrace_rd_line_error(r, r->lineno, "%s record: off= without bar=", f->what);
    }
    if ((rec->ext & MMIOTRACE_EXT_BAR) && !f->have_off) {
        rec->bar_off = 0;
    }
    if (markx && !f->have_text) {
        return mmiotrace_rd_line_error(r, r->lineno, "%s record: missing text=", f->what);
    }
    if (f->is_rw && (rec->ext & MMIOTRACE_EXT_PC_UNKNOWN) && rec->rw.pc) {
        return mmiotrace_rd_line_error(r, r->lineno, "%s record: pc=unknown with a non-zero PC",
                                       f->what);
    }
    return 0;
}

int mmiotrace_rd_parse_ext(struct mmiotrace_reader *r, const char *what, struct cur c,
                           struct mmiotrace_record *rec, const char *line, size_t len,
                           int frac_digits, bool markx)
{
    struct facts f = {.r = r, .what = what, .rec = rec, .frac_digits = frac_digits};
    unsigned record = markx ? FACT_MARKX : 0;

    f.is_rw = rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE;
    if (f.is_rw) {
        record |= FACT_RW;
    } else if (rec->type == MMIOTRACE_DMA) {
        record |= FACT_DMA;
    } else if (rec->type == MMIOTRACE_DMAMAP) {
        record |= FACT_DMAMAP;
    }
    for (;;) {
        enum status st = sep(&c);
        if (st == ST_MISSING) {
            break;
        }
        if (st) {
            return mmiotrace_rd_field_error(r, what, "field separator", ST_BAD, &c, line, len);
        }
        if (parse_fact(&f, &c, record, line, len) < 0) {
            return -1;
        }
    }
    return facts_done(&f, markx);
}
