/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libmmiotrace: JSON Lines parser (json-c), the reverse of jsonl-write.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <zlib.h>

#include "internal.h"

struct jctx {
    struct json_object *obj;
    const char *what; /* record type name, for messages */
    char *scratch;
    size_t scratch_size, scratch_len;
    char *err;
    size_t errlen;
};

static int jerr(struct jctx *j, const char *msg, const char *key)
{
    snprintf(j->err, j->errlen, "%s record: %s \"%s\"", j->what, msg, key);
    return -1;
}

/* 1 = found, 0 = absent (error if required), -1 = error */
static int jget(struct jctx *j, const char *key, bool required, struct json_object **out)
{
    if (!json_object_object_get_ex(j->obj, key, out)) {
        return required ? jerr(j, "missing", key) : 0;
    }
    return 1;
}

/* A hex string "0x..." (or a non-negative JSON integer) -> u64 */
static int u64_of(struct jctx *j, struct json_object *o, const char *key, uint64_t max, uint64_t *v)
{
    if (json_object_is_type(o, json_type_int)) {
        int64_t s = json_object_get_int64(o);
        if (s < 0) {
            return jerr(j, "negative", key);
        }
        *v = s == INT64_MAX ? json_object_get_uint64(o) : (uint64_t)s;
    } else if (json_object_is_type(o, json_type_string)) {
        const char *s = json_object_get_string(o);
        size_t n = json_object_get_string_len(o);
        const char *p = s;
        uint64_t x = 0;
        if (n >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
            p += 2;
        }
        if (p == s + n) {
            return jerr(j, "bad", key);
        }
        for (; p < s + n; p++) {
            int d;
            if (*p >= '0' && *p <= '9') {
                d = *p - '0';
            } else if ((*p | 0x20) >= 'a' && (*p | 0x20) <= 'f') {
                d = (*p | 0x20) - 'a' + 10;
            } else {
                return jerr(j, "bad", key);
            }
            if (x >> 60) {
                return jerr(j, "too large", key);
            }
            x = x << 4 | d;
        }
        *v = x;
    } else {
        return jerr(j, "bad", key);
    }
    if (*v > max) {
        return jerr(j, "out of range:", key);
    }
    return 1;
}

static int get_u64(struct jctx *j, const char *key, bool required, uint64_t max, uint64_t *v)
{
    struct json_object *o;
    int got = jget(j, key, required, &o);

    if (got <= 0) {
        return got;
    }
    return u64_of(j, o, key, max, v);
}

static int get_int(struct jctx *j, const char *key, bool required, int64_t min, int64_t max,
                   int64_t *v)
{
    struct json_object *o;
    int got = jget(j, key, required, &o);

    if (got <= 0) {
        return got;
    }
    if (!json_object_is_type(o, json_type_int)) {
        return jerr(j, "bad", key);
    }
    errno = 0;
    *v = json_object_get_int64(o);
    if (errno || *v < min || *v > max) {
        return jerr(j, "out of range:", key);
    }
    return 1;
}

/* An optional boolean flag: 1 if present and true, 0 if absent or false. */
static int get_flag(struct jctx *j, const char *key)
{
    struct json_object *o;
    int got = jget(j, key, false, &o);

    if (got <= 0) {
        return got;
    }
    if (!json_object_is_type(o, json_type_boolean)) {
        return jerr(j, "bad", key);
    }
    return json_object_get_boolean(o) ? 1 : 0;
}

/* A string copied into scratch (no NUL bytes allowed). */
static int get_str(struct jctx *j, const char *key, bool required, size_t max, const char **s,
                   size_t *len)
{
    struct json_object *o;
    int got = jget(j, key, required, &o);

    if (got <= 0) {
        return got;
    }
    if (!json_object_is_type(o, json_type_string)) {
        return jerr(j, "bad", key);
    }
    const char *v = json_object_get_string(o);
    size_t n = json_object_get_string_len(o);
    if (n > max) {
        return jerr(j, "too long:", key);
    }
    if (memchr(v, '\0', n)) {
        return jerr(j, "NUL character in", key);
    }
    if (j->scratch_len + n > j->scratch_size) {
        return jerr(j, "too long:", key);
    }
    char *dst = j->scratch + j->scratch_len;
    memcpy(dst, v, n);
    j->scratch_len += n;
    *s = dst;
    *len = n;
    return 1;
}

/* Hex bytes "0a1b..." -> dst (into scratch when dst is NULL); returns the count or -1. */
static int get_hexbytes(struct jctx *j, const char *key, size_t max, uint8_t *dst,
                        const uint8_t **out)
{
    const char *s;
    size_t n;
    int got = get_str(j, key, true, 2 * max, &s, &n);

    if (got <= 0) {
        return -1;
    }
    if (!n || n % 2) {
        return jerr(j, "bad", key);
    }
    uint8_t *b = dst ? dst : (uint8_t *)s; /* decoding in place is safe: output is shorter */
    for (size_t i = 0; i < n; i += 2) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char c = s[i + k] | 0x20;
            if (c >= '0' && c <= '9') {
                v = v << 4 | (c - '0');
            } else if (c >= 'a' && c <= 'f') {
                v = v << 4 | (c - 'a' + 10);
            } else {
                return jerr(j, "bad", key);
            }
        }
        b[i / 2] = v;
    }
    if (out) {
        *out = b;
    }
    return n / 2;
}

static int get_hex_array(struct jctx *j, const char *key, uint64_t *v)
{
    struct json_object *a;

    if (jget(j, key, true, &a) <= 0) {
        return -1;
    }
    if (!json_object_is_type(a, json_type_array) ||
        json_object_array_length(a) != MMIOTRACE_PCI_RESOURCES) {
        return jerr(j, "needs 7 elements:", key);
    }
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        if (u64_of(j, json_object_array_get_idx(a, i), key, UINT64_MAX, &v[i]) < 0) {
            return -1;
        }
    }
    return 0;
}

/* A required number into dst, or return -1 from the calling function. */
#define U(key, max, dst)                                                                           \
    do {                                                                                           \
        uint64_t u_;                                                                               \
        if (get_u64(j, key, true, max, &u_) < 0) {                                                 \
            return -1;                                                                             \
        }                                                                                          \
        dst = u_;                                                                                  \
    } while (0)
#define I(key, min, max, dst)                                                                      \
    do {                                                                                           \
        int64_t i_;                                                                                \
        if (get_int(j, key, true, min, max, &i_) < 0) {                                            \
            return -1;                                                                             \
        }                                                                                          \
        dst = i_;                                                                                  \
    } while (0)

/* ts_ns (exact), else ts_us */
static int obj_time(struct jctx *j, struct mmiotrace_record *rec)
{
    int got = get_u64(j, "ts_ns", false, MMIOTRACE_TS_MAX_NS, &rec->ts_ns);

    if (got < 0) {
        return -1;
    }
    if (got) {
        rec->ext |= MMIOTRACE_EXT_NS;
    } else {
        U("ts_us", MMIOTRACE_TS_MAX_NS / 1000, rec->ts_ns);
        rec->ts_ns *= 1000;
    }
    return 0;
}

/* ---- One function per record type: its fields (0, or -1 with a message) ---- */

static int obj_version(struct jctx *j, struct mmiotrace_record *rec)
{
    if (get_str(j, "version", true, 64, &rec->version.text, &rec->version.len) < 0) {
        return -1;
    }
    return 0;
}

static int obj_pcidev(struct jctx *j, struct mmiotrace_record *rec)
{
    struct mmiotrace_pcidev *d = &rec->pcidev;

    I("bus", 0, 255, d->bus);
    I("devfn", 0, 255, d->devfn);
    U("vendor", 0xffff, d->vendor);
    U("device", 0xffff, d->device);
    I("irq", 0, UINT32_MAX, d->irq);
    if (get_hex_array(j, "resources", d->resource) < 0 || get_hex_array(j, "sizes", d->size) < 0) {
        return -1;
    }
    d->driver = "";
    d->driver_len = 0;
    if (get_str(j, "driver", false, 64, &d->driver, &d->driver_len) < 0) {
        return -1;
    }
    return 0;
}

static int obj_rw(struct jctx *j, struct mmiotrace_record *rec)
{
    I("width", 1, 8, rec->rw.width);
    I("map_id", INT32_MIN, INT32_MAX, rec->rw.map_id);
    U("phys", UINT64_MAX, rec->rw.phys);
    U("value", UINT64_MAX, rec->rw.value);
    U("pc", UINT64_MAX, rec->rw.pc);
    return 0;
}

static int obj_unknown(struct jctx *j, struct mmiotrace_record *rec)
{
    const char *op;
    size_t oplen;

    I("map_id", INT32_MIN, INT32_MAX, rec->unknown.map_id);
    U("phys", UINT64_MAX, rec->unknown.phys);
    U("pc", UINT64_MAX, rec->unknown.pc);
    if (get_str(j, "opcode", true, 8, &op, &oplen) < 0) {
        return -1;
    }
    unsigned a, b, c;
    char tail;
    char tmp[9];
    memcpy(tmp, op, oplen);
    tmp[oplen] = '\0';
    if (oplen != 8 || sscanf(tmp, "%2x,%2x,%2x%c", &a, &b, &c, &tail) != 3) {
        return jerr(j, "bad", "opcode");
    }
    rec->unknown.opcode[0] = a;
    rec->unknown.opcode[1] = b;
    rec->unknown.opcode[2] = c;
    return 0;
}

static int obj_map(struct jctx *j, struct mmiotrace_record *rec)
{
    I("map_id", INT32_MIN, INT32_MAX, rec->map.map_id);
    U("phys", UINT64_MAX, rec->map.phys);
    U("virt", UINT64_MAX, rec->map.virt);
    U("len", UINT64_MAX, rec->map.len);
    return 0;
}

static int obj_unmap(struct jctx *j, struct mmiotrace_record *rec)
{
    I("map_id", INT32_MIN, INT32_MAX, rec->unmap.map_id);
    return 0;
}

static int obj_mark(struct jctx *j, struct mmiotrace_record *rec)
{
    if (get_str(j, "text", true, MMIOTRACE_TEXT_MAX, &rec->mark.text, &rec->mark.len) < 0) {
        return -1;
    }
    return 0;
}

static int obj_lost(struct jctx *j, struct mmiotrace_record *rec)
{
    U("count", UINT64_MAX, rec->lost.count);
    return 0;
}

static int obj_config(struct jctx *j, struct mmiotrace_record *rec)
{
    I("bus", 0, 255, rec->config.bus);
    I("devfn", 0, 255, rec->config.devfn);
    int n = get_hexbytes(j, "config", MMIOTRACE_CONFIG_MAX, NULL, &rec->config.data);
    if (n < 0) {
        return -1;
    }
    rec->config.len = n;
    return 0;
}

static int obj_irq(struct jctx *j, struct mmiotrace_record *rec)
{
    const char *k;
    size_t klen;

    if (get_str(j, "kind", true, 8, &k, &klen) < 0) {
        return -1;
    }
    if (klen == 4 && !memcmp(k, "INTX", 4)) {
        rec->irq.kind = MMIOTRACE_IRQ_INTX;
        I("pin", 0, 3, rec->irq.vector);
        I("level", 0, 1, rec->irq.data);
    } else if ((klen == 3 && !memcmp(k, "MSI", 3)) || (klen == 4 && !memcmp(k, "MSIX", 4))) {
        rec->irq.kind = klen == 3 ? MMIOTRACE_IRQ_MSI : MMIOTRACE_IRQ_MSIX;
        I("vector", 0, UINT32_MAX, rec->irq.vector);
        U("addr", UINT64_MAX, rec->irq.addr);
        U("data", UINT32_MAX, rec->irq.data);
    } else {
        return jerr(j, "bad", "kind");
    }
    return 0;
}

/* A string field that must be one of two words: 0 or 1 into *out, or -1. */
static int get_word2(struct jctx *j, const char *key, const char *w0, const char *w1, bool *out)
{
    const char *k;
    size_t klen;

    if (get_str(j, key, true, 8, &k, &klen) < 0) {
        return -1;
    }
    *out = klen == strlen(w1) && !memcmp(k, w1, klen);
    if (!*out && (klen != strlen(w0) || memcmp(k, w0, klen))) {
        return jerr(j, "bad", key);
    }
    return 0;
}

static int obj_dma(struct jctx *j, struct mmiotrace_record *rec)
{
    struct json_object *o;
    bool from;

    if (get_word2(j, "dir", "TO", "FROM", &from) < 0) {
        return -1;
    }
    rec->dma.dir = from ? MMIOTRACE_DMA_FROM_DEVICE : MMIOTRACE_DMA_TO_DEVICE;
    U("addr", UINT64_MAX, rec->dma.addr);
    U("len", UINT64_MAX, rec->dma.len);
    U("crc", UINT32_MAX, rec->dma.crc);
    if (json_object_object_get_ex(j->obj, "data", &o)) {
        int n = get_hexbytes(j, "data", MMIOTRACE_DMA_BYTES_MAX, NULL, &rec->dma.data);
        if (n < 0) {
            return -1;
        }
        rec->dma.nbytes = n;
        if ((uint64_t)n == rec->dma.len && crc32(0, rec->dma.data, n) != rec->dma.crc) {
            return jerr(j, "does not match \"crc\":", "data");
        }
    }
    return 0;
}

static int obj_dmamap(struct jctx *j, struct mmiotrace_record *rec)
{
    bool unmap;
    int ro;

    if (get_word2(j, "op", "MAP", "UNMAP", &unmap) < 0 || (ro = get_flag(j, "readonly")) < 0) {
        return -1;
    }
    rec->dmamap.map = !unmap;
    rec->dmamap.readonly = ro;
    U("iova", UINT64_MAX, rec->dmamap.iova);
    U("len", UINT64_MAX, rec->dmamap.len);
    return 0;
}

typedef int obj_fn(struct jctx *j, struct mmiotrace_record *rec);

static obj_fn *const type_fields[MMIOTRACE_TYPE_COUNT] = {
    [MMIOTRACE_VERSION] = obj_version, [MMIOTRACE_PCIDEV] = obj_pcidev,
    [MMIOTRACE_READ] = obj_rw,         [MMIOTRACE_WRITE] = obj_rw,
    [MMIOTRACE_UNKNOWN] = obj_unknown, [MMIOTRACE_MAP] = obj_map,
    [MMIOTRACE_UNMAP] = obj_unmap,     [MMIOTRACE_MARK] = obj_mark,
    [MMIOTRACE_LOST] = obj_lost,       [MMIOTRACE_CONFIG] = obj_config,
    [MMIOTRACE_IRQ] = obj_irq,         [MMIOTRACE_DMA] = obj_dma,
    [MMIOTRACE_DMAMAP] = obj_dmamap,
};

/* What an optional getter returned (1 found, 0 absent, -1 error): found sets flag in ext. */
static int fact_flag(int got, struct mmiotrace_record *rec, unsigned flag)
{
    rec->ext |= got > 0 ? flag : 0;
    return got < 0 ? -1 : 0;
}

/* The replay annotations (R/W; mmiotrace_record_check says where each may be) */
static int obj_annotations(struct jctx *j, struct mmiotrace_record *rec)
{
    struct json_object *o;
    const char *s;
    size_t n;

    if (fact_flag(get_u64(j, "match", false, UINT64_MAX, &rec->match_mask), rec,
                  MMIOTRACE_EXT_MATCH) < 0 ||
        fact_flag(get_flag(j, "opt"), rec, MMIOTRACE_EXT_OPT) < 0) {
        return -1;
    }
    if (json_object_object_get_ex(j->obj, "rel_bar", &o)) {
        I("rel_bar", 0, 5, rec->rel_bar);
        U("rel_offset", UINT64_MAX, rec->rel_off);
        rec->ext |= MMIOTRACE_EXT_REL;
    }
    int got = get_str(j, "poll", false, 8, &s, &n);
    if (got > 0 && (n != 8 || memcmp(s, "tolerant", 8))) {
        return jerr(j, "bad", "poll");
    }
    return fact_flag(got, rec, MMIOTRACE_EXT_POLL);
}

/* hvmmio's facts */
static int obj_facts(struct jctx *j, struct mmiotrace_record *rec)
{
    struct json_object *o;

    if (json_object_object_get_ex(j->obj, "vcpu", &o)) {
        if (json_object_is_type(o, json_type_null)) {
            rec->vcpu = MMIOTRACE_VCPU_NONE;
        } else {
            I("vcpu", 0, INT32_MAX, rec->vcpu);
        }
        rec->ext |= MMIOTRACE_EXT_VCPU;
    }
    int got = get_str(j, "dev", false, MMIOTRACE_DEV_MAX, &rec->dev, &rec->dev_len);
    if (got > 0 && !rec->dev_len) {
        return jerr(j, "empty", "dev");
    }
    if (fact_flag(got, rec, MMIOTRACE_EXT_DEV) < 0) {
        return -1;
    }
    if (json_object_object_get_ex(j->obj, "bar", &o)) {
        I("bar", 0, 6, rec->bar);
        if (get_u64(j, "offset", false, UINT64_MAX, &rec->bar_off) < 0) {
            return -1;
        }
        rec->ext |= MMIOTRACE_EXT_BAR;
    }
    if (json_object_object_get_ex(j->obj, "insn", &o)) {
        int n = get_hexbytes(j, "insn", MMIOTRACE_INSN_MAX, rec->insn, NULL);
        if (n < 0) {
            return -1;
        }
        rec->insn_len = n;
        rec->ext |= MMIOTRACE_EXT_INSN;
    }
    got = get_str(j, "asm", false, MMIOTRACE_ASM_MAX, &rec->asm_text, &rec->asm_len);
    if (fact_flag(got, rec, MMIOTRACE_EXT_ASM) < 0 ||
        fact_flag(get_flag(j, "pc_unknown"), rec, MMIOTRACE_EXT_PC_UNKNOWN) < 0 ||
        fact_flag(get_flag(j, "rejected"), rec, MMIOTRACE_EXT_REJECTED) < 0) {
        return -1;
    }
    return obj_annotations(j, rec);
}

#undef U
#undef I

static int parse_obj(struct jctx *j, struct mmiotrace_record *rec)
{
    const char *tname;
    size_t tlen;

    j->what = "JSON";
    if (get_str(j, "type", true, 16, &tname, &tlen) < 0) {
        return -1;
    }
    rec->type = mmiotrace_type_from_name(tname, tlen);
    if (rec->type == MMIOTRACE_NONE) {
        snprintf(j->err, j->errlen, "unknown record type \"%.*s\"", (int)tlen, tname);
        return -1;
    }
    j->what = mmiotrace_type_name(rec->type);
    if (rec->type != MMIOTRACE_VERSION && rec->type != MMIOTRACE_PCIDEV && obj_time(j, rec) < 0) {
        return -1;
    }
    obj_fn *fields = rec->type < MMIOTRACE_TYPE_COUNT ? type_fields[rec->type] : NULL;
    if (fields && fields(j, rec) < 0) {
        return -1;
    }
    if (obj_facts(j, rec) < 0) {
        return -1;
    }
    const char *why = mmiotrace_record_check(rec);
    if (why) {
        snprintf(j->err, j->errlen, "%s record: %s", j->what, why);
        return -1;
    }
    return 0;
}

int mmiotrace_jsonl_parse(const char *line, size_t len, struct mmiotrace_record *rec, char *scratch,
                          size_t scratch_size, char *err, size_t errlen)
{
    struct json_tokener *tok;
    struct json_object *obj;
    int ret = -1;

    if (memchr(line, '\0', len)) {
        snprintf(err, errlen, "NUL byte in JSON line (binary data?)");
        return -1;
    }
    tok = json_tokener_new();
    if (!tok) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    obj = json_tokener_parse_ex(tok, line, len);
    enum json_tokener_error jerr_ = json_tokener_get_error(tok);
    if (!obj || jerr_ != json_tokener_success) {
        snprintf(err, errlen, "bad JSON: %s",
                 jerr_ == json_tokener_continue ? "unexpected end of line"
                                                : json_tokener_error_desc(jerr_));
        goto out;
    }
    size_t used = json_tokener_get_parse_end(tok);
    while (used < len && (line[used] == ' ' || line[used] == '\t')) {
        used++;
    }
    if (used != len) {
        snprintf(err, errlen, "bad JSON: text after the object");
        goto out;
    }
    if (!json_object_is_type(obj, json_type_object)) {
        snprintf(err, errlen, "bad JSON: a record must be an object");
        goto out;
    }
    struct jctx j = {obj, "JSON", scratch, scratch_size, 0, err, errlen};
    memset(rec, 0, sizeof(*rec));
    ret = parse_obj(&j, rec);
out:
    json_object_put(obj);
    json_tokener_free(tok);
    return ret;
}
