/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader: one parser per record type of the text format (docs/trace-format.md),
 * each reading the kernel's fields in its printf order, then hvmmio's facts (reader-facts.c).
 */
#include <stdio.h>
#include <zlib.h>

#include "reader-int.h"

/* Expect blanks then a field parsed by getter; on failure report it by name. */
#define FIELD(getter, name, ...)                                                                   \
    do {                                                                                           \
        enum status st_ = sep(&c);                                                                 \
        if (!st_) {                                                                                \
            st_ = getter(&c, __VA_ARGS__);                                                         \
        }                                                                                          \
        if (st_) {                                                                                 \
            return mmiotrace_rd_field_error(r, what, name, st_, &c, line, len);                    \
        }                                                                                          \
    } while (0)

/* ---- One parser per record type ---- */

static int parse_rw(struct mmiotrace_reader *r, const char *line, size_t len,
                    struct mmiotrace_record *rec)
{
    const char *what = line[0] == 'R' ? "R" : "W";
    struct cur c = {line + 1, line + len};
    uint64_t width, pid;
    int frac;

    rec->type = line[0] == 'R' ? MMIOTRACE_READ : MMIOTRACE_WRITE;
    FIELD(get_dec, "width", &width);
    if (width != 1 && width != 2 && width != 4 && width != 8) {
        return mmiotrace_rd_line_error(r, r->lineno, "%s record: width %llu is not 1, 2, 4 or 8",
                                       what, (unsigned long long)width);
    }
    rec->rw.width = width;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->rw.map_id);
    FIELD(get_hex, "phys", &rec->rw.phys);
    FIELD(get_hex, "value", &rec->rw.value);
    FIELD(get_hex, "pc", &rec->rw.pc);
    FIELD(get_dec, "pid", &pid);
    if (c.p == c.end) {
        return 0;
    }
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_version(struct mmiotrace_reader *r, const char *line, size_t len,
                         struct mmiotrace_record *rec)
{
    const char *what = "VERSION";
    struct cur c = {line + 7, line + len};
    enum status st = sep(&c);

    if (st) {
        return mmiotrace_rd_field_error(r, what, "version", st, &c, line, len);
    }
    const char *v = c.p;
    while (c.p < c.end && (unsigned char)*c.p > ' ' && *c.p != 0x7f) {
        c.p++;
    }
    if (c.p < c.end && !is_blank(*c.p)) {
        struct cur t = {v, c.end};
        return mmiotrace_rd_field_error(r, what, "version", ST_BAD, &t, line, len);
    }
    if (c.p - v > 64) {
        return mmiotrace_rd_line_error(r, r->lineno,
                                       "VERSION record: version is longer than 64 bytes");
    }
    rec->type = MMIOTRACE_VERSION;
    rec->version.text = v;
    rec->version.len = c.p - v;
    if (c.p == c.end) {
        return 0;
    }
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, 0, false);
}

static int parse_pcidev(struct mmiotrace_reader *r, const char *line, size_t len,
                        struct mmiotrace_record *rec)
{
    const char *what = "PCIDEV";
    struct cur c = {line + 6, line + len};
    struct mmiotrace_pcidev *d = &rec->pcidev;
    uint16_t busdevfn;
    uint32_t ids;

    rec->type = MMIOTRACE_PCIDEV;
    d->driver = "";
    d->driver_len = 0;
    FIELD(mmiotrace_rd_get_hex16, "bus/devfn", &busdevfn);
    d->bus = busdevfn >> 8;
    d->devfn = busdevfn & 0xff;
    FIELD(mmiotrace_rd_get_hex32, "vendor/device", &ids);
    d->vendor = ids >> 16;
    d->device = ids & 0xffff;
    FIELD(mmiotrace_rd_get_hex32, "irq", &d->irq);
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        FIELD(get_hex, "resource", &d->resource[i]);
    }
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        FIELD(get_hex, "resource size", &d->size[i]);
    }
    /* " %s\n": exactly one blank, then the driver (possibly empty), then facts */
    if (c.p < c.end && *c.p == ' ') {
        const char *drv = c.p + 1;
        const char *e = drv;
        while (e < c.end && !is_blank(*e)) {
            e++;
        }
        if (!memchr(drv, '=', e - drv)) {
            if (memchr(drv, '\0', e - drv)) {
                return mmiotrace_rd_line_error(r, r->lineno,
                                               "NUL byte in the driver name (binary data?)");
            }
            for (const char *p = drv; p < e; p++) {
                if ((unsigned char)*p < ' ' || *p == 0x7f) {
                    return mmiotrace_rd_line_error(
                        r, r->lineno, "PCIDEV record: control character in the driver name");
                }
            }
            if (e - drv > 64) {
                return mmiotrace_rd_line_error(
                    r, r->lineno, "PCIDEV record: driver name is longer than 64 bytes");
            }
            d->driver = drv;
            d->driver_len = e - drv;
            c.p = e;
        }
    }
    if (c.p == c.end) {
        return 0;
    }
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, 0, false);
}

static int parse_unknown(struct mmiotrace_reader *r, const char *line, size_t len,
                         struct mmiotrace_record *rec)
{
    const char *what = "UNKNOWN";
    struct cur c = {line + 7, line + len};
    uint64_t pid;
    int frac;

    rec->type = MMIOTRACE_UNKNOWN;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->unknown.map_id);
    FIELD(get_hex, "phys", &rec->unknown.phys);
    FIELD(mmiotrace_rd_get_opcode, "opcode bytes", rec->unknown.opcode);
    FIELD(get_hex, "pc", &rec->unknown.pc);
    FIELD(get_dec, "pid", &pid);
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_map(struct mmiotrace_reader *r, const char *line, size_t len,
                     struct mmiotrace_record *rec)
{
    const char *what = "MAP";
    struct cur c = {line + 3, line + len};
    uint64_t zero, pid;
    int frac;

    rec->type = MMIOTRACE_MAP;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->map.map_id);
    FIELD(get_hex, "phys", &rec->map.phys);
    FIELD(get_hex, "virt", &rec->map.virt);
    FIELD(get_hex, "len", &rec->map.len);
    FIELD(get_hex, "flags", &zero);
    FIELD(get_dec, "pid", &pid);
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_unmap(struct mmiotrace_reader *r, const char *line, size_t len,
                       struct mmiotrace_record *rec)
{
    const char *what = "UNMAP";
    struct cur c = {line + 5, line + len};
    uint64_t zero, pid;
    int frac;

    rec->type = MMIOTRACE_UNMAP;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->unmap.map_id);
    FIELD(get_hex, "flags", &zero);
    FIELD(get_dec, "pid", &pid);
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

/* "MARK T text": the text runs to the end of the line (MARK continuation lines follow). */
static int parse_mark(struct mmiotrace_reader *r, const char *line, size_t len,
                      struct mmiotrace_record *rec)
{
    const char *what = "MARK";
    struct cur c = {line + 4, line + len};
    int frac;

    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    /* "%s" after exactly one blank; a missing text (no blank) is an empty text */
    const char *text = c.p < c.end ? c.p + 1 : c.p;
    size_t tlen = c.end - text;
    if (memchr(text, '\0', tlen)) {
        return mmiotrace_rd_line_error(r, r->lineno, "NUL byte in MARK text (binary data?)");
    }
    if (tlen > MMIOTRACE_TEXT_MAX) {
        return mmiotrace_rd_line_error(r, r->lineno, "MARK record: text is longer than %d bytes",
                                       MMIOTRACE_TEXT_MAX);
    }
    /* The kernel's lost-events report: "MARK 0.000000 Lost %lu events." */
    if (rec->ts_ns == 0 && mmiotrace_lost_text(text, tlen, &rec->lost.count)) {
        rec->type = MMIOTRACE_LOST;
        return 0;
    }
    rec->type = MMIOTRACE_MARK;
    memcpy(r->mark_text, text, tlen);
    r->mark_len = tlen;
    rec->mark.text = r->mark_text;
    rec->mark.len = tlen;
    return 0;
}

static int parse_markx(struct mmiotrace_reader *r, const char *line, size_t len,
                       struct mmiotrace_record *rec)
{
    const char *what = "MARKX";
    struct cur c = {line + 5, line + len};
    int frac;

    rec->type = MMIOTRACE_MARK;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, true);
}

static int parse_lost(struct mmiotrace_reader *r, const char *line, size_t len,
                      struct mmiotrace_record *rec)
{
    const char *what = "LOST";
    struct cur c = {line + 4, line + len};
    int frac;

    rec->type = MMIOTRACE_LOST;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_dec, "count", &rec->lost.count);
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_pcicfg(struct mmiotrace_reader *r, const char *line, size_t len,
                        struct mmiotrace_record *rec)
{
    const char *what = "PCICFG";
    struct cur c = {line + 6, line + len};
    uint16_t busdevfn;
    int frac;

    rec->type = MMIOTRACE_CONFIG;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(mmiotrace_rd_get_hex16, "bus/devfn", &busdevfn);
    rec->config.bus = busdevfn >> 8;
    rec->config.devfn = busdevfn & 0xff;
    enum status st = sep(&c);
    if (st) {
        return mmiotrace_rd_field_error(r, what, "config bytes", st, &c, line, len);
    }
    const char *h = c.p;
    while (c.p < c.end && !is_blank(*c.p)) {
        c.p++;
    }
    size_t n = c.p - h;
    if (n % 2 || n > 2 * MMIOTRACE_CONFIG_MAX) {
        return mmiotrace_rd_line_error(
            r, r->lineno,
            "PCICFG record: config space must be 1 to %d bytes in hex, not %zu "
            "digits",
            MMIOTRACE_CONFIG_MAX, n);
    }
    uint8_t *data = (uint8_t *)r->scratch + r->scratch_len;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value[(unsigned char)h[i]], lo = hex_value[(unsigned char)h[i + 1]];
        if (!hi || !lo) {
            struct cur t = {h, c.end};
            return mmiotrace_rd_field_error(r, what, "config bytes", ST_BAD, &t, line, len);
        }
        data[i / 2] = (hi - 1) << 4 | (lo - 1);
    }
    r->scratch_len += n / 2;
    rec->config.data = data;
    rec->config.len = n / 2;
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_irq(struct mmiotrace_reader *r, const char *line, size_t len,
                     struct mmiotrace_record *rec)
{
    const char *what = "IRQ";
    struct cur c = {line + 3, line + len};
    int frac;

    rec->type = MMIOTRACE_IRQ;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(mmiotrace_rd_get_irq_kind, "kind (INTX, MSI or MSIX)", &rec->irq.kind);
    if (rec->irq.kind == MMIOTRACE_IRQ_INTX) {
        FIELD(mmiotrace_rd_get_dec32, "pin", &rec->irq.vector);
        FIELD(mmiotrace_rd_get_dec32, "level", &rec->irq.data);
        if (rec->irq.vector > 3 || rec->irq.data > 1) {
            return mmiotrace_rd_line_error(r, r->lineno,
                                           "IRQ record: INTX pin must be 0-3 and level 0 or 1");
        }
    } else {
        FIELD(mmiotrace_rd_get_dec32, "vector", &rec->irq.vector);
        FIELD(get_hex, "address", &rec->irq.addr);
        FIELD(mmiotrace_rd_get_hex32, "data", &rec->irq.data);
    }
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

/* One of two words (DMA's TO/FROM, DMAMAP's MAP/UNMAP): 0 or 1, else ST_BAD. */
static enum status get_word2(struct cur *c, const char *w0, const char *w1, uint8_t *out)
{
    const char *p = c->p;

    while (p < c->end && !is_blank(*p)) {
        p++;
    }
    size_t n = p - c->p;
    if (n == strlen(w0) && !memcmp(c->p, w0, n)) {
        *out = 0;
    } else if (n == strlen(w1) && !memcmp(c->p, w1, n)) {
        *out = 1;
    } else {
        return ST_BAD;
    }
    c->p = p;
    return ST_OK;
}

static enum status get_dma_dir(struct cur *c, uint8_t *dir)
{
    return get_word2(c, "TO", "FROM", dir);
}

static enum status get_dmamap_op(struct cur *c, uint8_t *unmap)
{
    return get_word2(c, "MAP", "UNMAP", unmap);
}

/* "DMA T TO|FROM 0xADDR LEN 0xCRC facts... [data=HEX]" */
static int parse_dma(struct mmiotrace_reader *r, const char *line, size_t len,
                     struct mmiotrace_record *rec)
{
    const char *what = "DMA";
    struct cur c = {line + 3, line + len};
    int frac;

    rec->type = MMIOTRACE_DMA;
    rec->dma.nbytes = 0;
    rec->dma.data = NULL;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_dma_dir, "direction (TO or FROM)", &rec->dma.dir);
    FIELD(get_hex, "address", &rec->dma.addr);
    FIELD(get_dec, "length", &rec->dma.len);
    FIELD(mmiotrace_rd_get_hex32, "crc", &rec->dma.crc);
    if (mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false) < 0) {
        return -1;
    }
    if (rec->dma.nbytes > rec->dma.len) {
        return mmiotrace_rd_line_error(r, r->lineno,
                                       "DMA record: data= has %u bytes, more than the length %llu",
                                       (unsigned)rec->dma.nbytes, (unsigned long long)rec->dma.len);
    }
    if (rec->dma.nbytes && rec->dma.nbytes == rec->dma.len &&
        crc32(0, rec->dma.data, rec->dma.nbytes) != rec->dma.crc) {
        return mmiotrace_rd_line_error(r, r->lineno, "DMA record: data= does not match crc 0x%x",
                                       (unsigned)rec->dma.crc);
    }
    return 0;
}

/* "DMAMAP T MAP|UNMAP 0xIOVA LEN [ro=1] facts..." */
static int parse_dmamap(struct mmiotrace_reader *r, const char *line, size_t len,
                        struct mmiotrace_record *rec)
{
    const char *what = "DMAMAP";
    struct cur c = {line + 6, line + len};
    uint8_t unmap;
    int frac;

    rec->type = MMIOTRACE_DMAMAP;
    rec->dmamap.readonly = false;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_dmamap_op, "operation (MAP or UNMAP)", &unmap);
    rec->dmamap.map = !unmap;
    FIELD(get_hex, "iova", &rec->dmamap.iova);
    FIELD(get_dec, "length", &rec->dmamap.len);
    return mmiotrace_rd_parse_ext(r, what, c, rec, line, len, frac, false);
}

/* A line that starts with no keyword of the format. */
static int unknown_line(struct mmiotrace_reader *r, const char *line, size_t len)
{
    char tok[200];
    const char *nul = memchr(line, '\0', len);

    if (len && !line[0]) {
        /* a line starting with NUL bytes: the hole copytruncate leaves */
        mmiotrace_rd_long_line_error(r, r->lineno, true);
        return -1;
    }
    if (nul) {
        return mmiotrace_rd_line_error(r, r->lineno, "NUL byte at column %zu (binary data?)",
                                       (size_t)(nul - line) + 1);
    }
    return mmiotrace_rd_line_error(r, r->lineno, "unknown record type '%s'",
                                   mmiotrace_rd_show(tok, sizeof(tok), line, line + len));
}

/*
 * The records but R and W. Not inlined into mmiotrace_rd_parse_line: the R/W hot path then
 * does not pay for the stack frame of these parsers.
 */
__attribute__((noinline)) static int parse_other(struct mmiotrace_reader *r, enum keyword kw,
                                                 const char *line, size_t len,
                                                 struct mmiotrace_record *rec)
{
    switch (kw) {
    case KW_VERSION:
        return parse_version(r, line, len, rec);
    case KW_PCIDEV:
        return parse_pcidev(r, line, len, rec);
    case KW_UNKNOWN:
        return parse_unknown(r, line, len, rec);
    case KW_MAP:
        return parse_map(r, line, len, rec);
    case KW_UNMAP:
        return parse_unmap(r, line, len, rec);
    case KW_MARK:
        return parse_mark(r, line, len, rec);
    case KW_MARKX:
        return parse_markx(r, line, len, rec);
    case KW_LOST:
        return parse_lost(r, line, len, rec);
    case KW_PCICFG:
        return parse_pcicfg(r, line, len, rec);
    case KW_IRQ:
        return parse_irq(r, line, len, rec);
    case KW_DMA:
        return parse_dma(r, line, len, rec);
    case KW_DMAMAP:
        return parse_dmamap(r, line, len, rec);
    default:
        return unknown_line(r, line, len);
    }
}

/* See reader-int.h. */
int mmiotrace_rd_parse_line(struct mmiotrace_reader *r, enum keyword kw, const char *line,
                            size_t len, struct mmiotrace_record *rec)
{
    if (kw == KW_R || kw == KW_W) {
        return parse_rw(r, line, len, rec);
    }
    return parse_other(r, kw, line, len, rec);
}
