/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: JSON Lines writer (libc only). One object per record with every field; the
 * schema is in docs/trace-format.md. 64-bit addresses and values are hex strings ("0x..."),
 * because JSON numbers are doubles for many consumers.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "mmiotrace.h"

struct out {
    char *p, *end;
    bool overflow;
};

static void put(struct out *o, const char *s, size_t len)
{
    if ((size_t)(o->end - o->p) < len) {
        o->overflow = true;
        return;
    }
    memcpy(o->p, s, len);
    o->p += len;
}

__attribute__((format(printf, 2, 3))) static void putf(struct out *o, const char *fmt, ...)
{
    va_list ap;
    size_t room = o->end - o->p;

    va_start(ap, fmt);
    int n = vsnprintf(o->p, room, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= room) {
        o->overflow = true;
        return;
    }
    o->p += n;
}

/* A JSON string; bytes >= 0x80 are copied as they are (UTF-8 stays UTF-8). */
static void put_jstr(struct out *o, const char *s, size_t len)
{
    put(o, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = s[i];
        switch (c) {
        case '"':
            put(o, "\\\"", 2);
            break;
        case '\\':
            put(o, "\\\\", 2);
            break;
        case '\n':
            put(o, "\\n", 2);
            break;
        case '\t':
            put(o, "\\t", 2);
            break;
        case '\r':
            put(o, "\\r", 2);
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                putf(o, "\\u%04x", c);
            } else {
                put(o, (const char *)&c, 1);
            }
        }
    }
    put(o, "\"", 1);
}

static void key_str(struct out *o, const char *key, const char *s, size_t len)
{
    putf(o, ",\"%s\":", key);
    put_jstr(o, s, len);
}

static void key_hex(struct out *o, const char *key, uint64_t v)
{
    putf(o, ",\"%s\":\"0x%" PRIx64 "\"", key, v);
}

static void key_u64(struct out *o, const char *key, uint64_t v)
{
    putf(o, ",\"%s\":%" PRIu64, key, v);
}

static void key_i64(struct out *o, const char *key, int64_t v)
{
    putf(o, ",\"%s\":%" PRId64, key, v);
}

static void put_hexbytes(struct out *o, const uint8_t *b, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        char h[2] = {digits[b[i] >> 4], digits[b[i] & 0xf]};
        put(o, h, 2);
    }
}

static bool has_time(enum mmiotrace_type t)
{
    return t != MMIOTRACE_VERSION && t != MMIOTRACE_PCIDEV;
}

/* ---- One function per record type: its fields after "type" and the time ---- */

static void fields_version(struct out *o, const struct mmiotrace_record *r)
{
    key_str(o, "version", r->version.text, r->version.len);
}

static void fields_pcidev(struct out *o, const struct mmiotrace_record *r)
{
    const struct mmiotrace_pcidev *d = &r->pcidev;

    putf(o, ",\"bus\":%u,\"devfn\":%u,\"vendor\":\"0x%04x\",\"device\":\"0x%04x\",\"irq\":%u",
         d->bus, d->devfn, d->vendor, d->device, d->irq);
    put(o, ",\"resources\":[", 14);
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        putf(o, "%s\"0x%" PRIx64 "\"", i ? "," : "", d->resource[i]);
    }
    put(o, "],\"sizes\":[", 11);
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        putf(o, "%s\"0x%" PRIx64 "\"", i ? "," : "", d->size[i]);
    }
    put(o, "]", 1);
    if (d->driver_len) {
        key_str(o, "driver", d->driver, d->driver_len);
    }
}

static void fields_rw(struct out *o, const struct mmiotrace_record *r)
{
    key_u64(o, "width", r->rw.width);
    key_i64(o, "map_id", r->rw.map_id);
    key_hex(o, "phys", r->rw.phys);
    key_hex(o, "value", r->rw.value);
    key_hex(o, "pc", r->rw.pc);
}

static void fields_unknown(struct out *o, const struct mmiotrace_record *r)
{
    key_i64(o, "map_id", r->unknown.map_id);
    key_hex(o, "phys", r->unknown.phys);
    putf(o, ",\"opcode\":\"%02x,%02x,%02x\"", r->unknown.opcode[0], r->unknown.opcode[1],
         r->unknown.opcode[2]);
    key_hex(o, "pc", r->unknown.pc);
}

static void fields_map(struct out *o, const struct mmiotrace_record *r)
{
    key_i64(o, "map_id", r->map.map_id);
    key_hex(o, "phys", r->map.phys);
    key_hex(o, "virt", r->map.virt);
    key_hex(o, "len", r->map.len);
}

static void fields_unmap(struct out *o, const struct mmiotrace_record *r)
{
    key_i64(o, "map_id", r->unmap.map_id);
}

static void fields_mark(struct out *o, const struct mmiotrace_record *r)
{
    key_str(o, "text", r->mark.text, r->mark.len);
}

static void fields_lost(struct out *o, const struct mmiotrace_record *r)
{
    key_u64(o, "count", r->lost.count);
}

static void fields_config(struct out *o, const struct mmiotrace_record *r)
{
    putf(o, ",\"bus\":%u,\"devfn\":%u,\"config\":\"", r->config.bus, r->config.devfn);
    put_hexbytes(o, r->config.data, r->config.len);
    put(o, "\"", 1);
}

static void fields_irq(struct out *o, const struct mmiotrace_record *r)
{
    static const char *const irq_kinds[] = {"INTX", "MSI", "MSIX"};

    putf(o, ",\"kind\":\"%s\"", irq_kinds[r->irq.kind]);
    if (r->irq.kind == MMIOTRACE_IRQ_INTX) {
        key_u64(o, "pin", r->irq.vector);
        key_u64(o, "level", r->irq.data);
    } else {
        key_u64(o, "vector", r->irq.vector);
        key_hex(o, "addr", r->irq.addr);
        key_hex(o, "data", r->irq.data);
    }
}

static void fields_dma(struct out *o, const struct mmiotrace_record *r)
{
    putf(o, ",\"dir\":\"%s\"", r->dma.dir == MMIOTRACE_DMA_TO_DEVICE ? "TO" : "FROM");
    key_hex(o, "addr", r->dma.addr);
    key_u64(o, "len", r->dma.len);
    key_hex(o, "crc", r->dma.crc);
    if (r->dma.nbytes) {
        put(o, ",\"data\":\"", 9);
        put_hexbytes(o, r->dma.data, r->dma.nbytes);
        put(o, "\"", 1);
    }
}

static void fields_dmamap(struct out *o, const struct mmiotrace_record *r)
{
    putf(o, ",\"op\":\"%s\"", r->dmamap.map ? "MAP" : "UNMAP");
    key_hex(o, "iova", r->dmamap.iova);
    key_u64(o, "len", r->dmamap.len);
    if (r->dmamap.readonly) {
        put(o, ",\"readonly\":true", 16);
    }
}

/* A record type's fields; the record is valid (mmiotrace_record_check). */
typedef void fields_fn(struct out *o, const struct mmiotrace_record *r);

static fields_fn *const type_fields[MMIOTRACE_TYPE_COUNT] = {
    [MMIOTRACE_VERSION] = fields_version, [MMIOTRACE_PCIDEV] = fields_pcidev,
    [MMIOTRACE_READ] = fields_rw,         [MMIOTRACE_WRITE] = fields_rw,
    [MMIOTRACE_UNKNOWN] = fields_unknown, [MMIOTRACE_MAP] = fields_map,
    [MMIOTRACE_UNMAP] = fields_unmap,     [MMIOTRACE_MARK] = fields_mark,
    [MMIOTRACE_LOST] = fields_lost,       [MMIOTRACE_CONFIG] = fields_config,
    [MMIOTRACE_IRQ] = fields_irq,         [MMIOTRACE_DMA] = fields_dma,
    [MMIOTRACE_DMAMAP] = fields_dmamap,
};

/* hvmmio's facts (VERSION has none, as in text) */
static void put_facts(struct out *o, const struct mmiotrace_record *r)
{
    unsigned ext = r->type == MMIOTRACE_VERSION ? 0 : r->ext;

    if (ext & MMIOTRACE_EXT_VCPU) {
        if (r->vcpu == MMIOTRACE_VCPU_NONE) {
            put(o, ",\"vcpu\":null", 12);
        } else {
            key_i64(o, "vcpu", r->vcpu);
        }
    }
    if (ext & MMIOTRACE_EXT_DEV) {
        key_str(o, "dev", r->dev, r->dev_len);
    }
    if (ext & MMIOTRACE_EXT_BAR) {
        key_u64(o, "bar", r->bar);
        key_hex(o, "offset", r->bar_off);
    }
    if (ext & MMIOTRACE_EXT_INSN) {
        put(o, ",\"insn\":\"", 9);
        put_hexbytes(o, r->insn, r->insn_len);
        put(o, "\"", 1);
    }
    if (ext & MMIOTRACE_EXT_ASM) {
        key_str(o, "asm", r->asm_text, r->asm_len);
    }
    if (ext & MMIOTRACE_EXT_PC_UNKNOWN) {
        put(o, ",\"pc_unknown\":true", 18);
    }
    if (ext & MMIOTRACE_EXT_REJECTED) {
        put(o, ",\"rejected\":true", 16);
    }
    if (ext & MMIOTRACE_EXT_MATCH) {
        key_hex(o, "match", r->match_mask);
    }
    if (ext & MMIOTRACE_EXT_REL) {
        key_u64(o, "rel_bar", r->rel_bar);
        key_hex(o, "rel_offset", r->rel_off);
    }
    if (ext & MMIOTRACE_EXT_POLL) {
        key_str(o, "poll", "tolerant", 8);
    }
    if (ext & MMIOTRACE_EXT_OPT) {
        put(o, ",\"opt\":true", 11);
    }
}

int mmiotrace_jsonl_format(char *buf, size_t size, const struct mmiotrace_record *r, unsigned mode)
{
    struct out o = {buf, buf + (size ? size - 1 : 0), false};

    (void)mode; /* every field is written */

    if (mmiotrace_record_check(r)) {
        errno = EINVAL;
        return -1;
    }
    putf(&o, "{\"type\":\"%s\"", mmiotrace_type_name(r->type));
    if (has_time(r->type)) {
        if (r->ext & MMIOTRACE_EXT_NS) {
            key_u64(&o, "ts_ns", r->ts_ns);
        } else {
            key_u64(&o, "ts_us", (r->ts_ns + 500) / 1000);
        }
    }
    if (r->type < MMIOTRACE_TYPE_COUNT && type_fields[r->type]) {
        type_fields[r->type](&o, r);
    }
    put_facts(&o, r);
    put(&o, "}\n", 2);
    if (o.overflow) {
        errno = ENOSPC;
        return -1;
    }
    *o.p = '\0';
    return o.p - buf;
}
