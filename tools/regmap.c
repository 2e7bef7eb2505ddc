/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register maps: the YAML loader (libyaml's document API, so that every node keeps its line),
 * lookups, value formatting, and the set of maps a command was given (docs/regmap.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "fastfmt.h"
#include "regmap.h"

#define CACHE_MAX (1u << 20) /* distinct (bar, offset) pairs remembered per map */

G_DEFINE_QUARK(hvmmio - regmap - error - quark, regmap_error)
#define REGMAP_ERROR regmap_error_quark()

/* ---- the model ---- */

static void enums_free(GArray *a)
{
    if (!a) {
        return;
    }
    for (guint i = 0; i < a->len; i++) {
        g_free(g_array_index(a, struct regmap_enum, i).name);
    }
    g_array_free(a, TRUE);
}

static void node_free(gpointer p)
{
    struct regmap_node *n = p;
    if (!n) {
        return;
    }
    g_free(n->name);
    if (n->fields) {
        for (guint i = 0; i < n->fields->len; i++) {
            struct regmap_field *f = &g_array_index(n->fields, struct regmap_field, i);
            g_free(f->name);
            enums_free(f->values);
        }
        g_array_free(n->fields, TRUE);
    }
    enums_free(n->values);
    if (n->children) {
        g_ptr_array_free(n->children, TRUE);
    }
    g_free(n);
}

struct regmap_node *regmap_node_new(enum regmap_node_kind kind, unsigned line)
{
    struct regmap_node *n = g_new0(struct regmap_node, 1);
    n->kind = kind;
    n->count = 1;
    n->line = line;
    if (kind == REGMAP_REG) {
        n->width = 4;
        n->fields = g_array_new(FALSE, TRUE, sizeof(struct regmap_field));
    } else {
        n->children = g_ptr_array_new_with_free_func(node_free);
    }
    return n;
}

GPtrArray *regmap_nodes_new(void)
{
    return g_ptr_array_new_with_free_func(node_free);
}

static void hit_free(gpointer p)
{
    struct regmap_hit *h = p;
    g_free(h->name);
    g_free(h);
}

struct regmap *regmap_new(const char *file)
{
    struct regmap *m = g_new0(struct regmap, 1);
    m->file = g_strdup(file);
    m->pci_ids = g_array_new(FALSE, FALSE, sizeof(uint32_t));
    m->cache = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, hit_free);
    return m;
}

void regmap_free(struct regmap *m)
{
    if (!m) {
        return;
    }
    g_free(m->file);
    g_free(m->name);
    g_array_free(m->pci_ids, TRUE);
    for (int b = 0; b < REGMAP_BARS; b++) {
        if (m->bars[b]) {
            g_ptr_array_free(m->bars[b], TRUE);
        }
    }
    g_hash_table_destroy(m->cache);
    g_free(m);
}

/* ---- lookups ---- */

static bool walk(const GPtrArray *nodes, uint64_t off, GString *name, struct regmap_hit *hit)
{
    for (guint i = 0; i < nodes->len; i++) {
        const struct regmap_node *n = nodes->pdata[i];
        if (off < n->offset) {
            continue;
        }
        uint64_t rel = off - n->offset, idx = 0;
        if (n->count > 1) {
            if (!n->stride) {
                continue;
            }
            idx = rel / n->stride;
            if (idx >= n->count) {
                continue;
            }
            rel -= idx * n->stride;
        }
        gsize len = name->len;
        if (n->kind == REGMAP_REG) {
            if (rel >= n->width) {
                continue;
            }
            g_string_append(name, n->name);
            if (n->count > 1) {
                g_string_append_printf(name, "[%" PRIu64 "]", idx);
            }
            hit->reg = n;
            hit->delta = rel;
            return true;
        }
        if (n->name) {
            g_string_append(name, n->name);
            if (n->count > 1) {
                g_string_append_printf(name, "[%" PRIu64 "]", idx);
            }
            g_string_append_c(name, '.');
        }
        if (walk(n->children, rel, name, hit)) {
            return true;
        }
        g_string_truncate(name, len);
    }
    return false;
}

const struct regmap_hit *regmap_lookup(struct regmap *m, unsigned bar, uint64_t offset)
{
    static struct regmap_hit scratch; /* past CACHE_MAX entries: valid until the next call */
    uint64_t key = (uint64_t)bar << 56 ^ offset;
    struct regmap_hit *h = g_hash_table_lookup(m->cache, &key);
    if (h) {
        return h;
    }
    bool cache = g_hash_table_size(m->cache) < CACHE_MAX;
    if (cache) {
        h = g_new0(struct regmap_hit, 1);
    } else {
        g_free(scratch.name);
        memset(&scratch, 0, sizeof(scratch));
        h = &scratch;
    }
    GString *name = g_string_new(NULL);
    if (bar < REGMAP_BARS && m->bars[bar] && walk(m->bars[bar], offset, name, h)) {
        h->name = g_string_free(name, FALSE);
    } else {
        g_string_free(name, TRUE);
        h->reg = NULL;
    }
    if (cache) {
        uint64_t *k = g_new(uint64_t, 1);
        *k = key;
        g_hash_table_insert(m->cache, k, h);
    }
    return h;
}

static const char *enum_name(const GArray *values, uint64_t v)
{
    if (!values) {
        return NULL;
    }
    for (guint i = 0; i < values->len; i++) {
        const struct regmap_enum *e = &g_array_index(values, struct regmap_enum, i);
        if (e->value == v) {
            return e->name;
        }
    }
    return NULL;
}

static uint64_t bits_mask(unsigned lo, unsigned hi)
{
    uint64_t m = hi - lo >= 63 ? UINT64_MAX : (1ull << (hi - lo + 1)) - 1;
    return m << lo;
}

static void append_num(GString *out, uint64_t v)
{
    if (v < 10) {
        ff_dec(out, v, 1);
    } else {
        ff_0x(out, v, 1);
    }
}

/* The fields of reg in value, limited to the bits in access (a partial access). */
static void format_fields(GString *out, const struct regmap_node *reg, uint64_t value,
                          uint64_t access)
{
    const char *e = enum_name(reg->values, value);
    if (e) {
        g_string_append(out, " (");
        g_string_append(out, e);
        g_string_append_c(out, ')');
    }
    if (!reg->fields || !reg->fields->len) {
        return;
    }
    uint64_t covered = 0;
    bool first = true;
    gsize start = out->len;
    g_string_append(out, " {");
    for (guint i = 0; i < reg->fields->len; i++) {
        const struct regmap_field *f = &g_array_index(reg->fields, struct regmap_field, i);
        uint64_t fm = bits_mask(f->lo, f->hi);
        if (!(fm & access)) {
            continue;
        }
        covered |= fm;
        uint64_t v = (value & fm) >> f->lo;
        v = f->shr < 64 ? v << f->shr : 0;
        const char *en = enum_name(f->values, v);
        if (!en && !v) {
            continue;
        }
        if (!first) {
            FF_LIT(out, ", ");
        }
        first = false;
        ff_put(out, f->name, strlen(f->name));
        if (en) {
            g_string_append_c(out, '=');
            ff_put(out, en, strlen(en));
        } else if (f->lo != f->hi || f->values) {
            g_string_append_c(out, '=');
            append_num(out, v);
        }
    }
    uint64_t rest = value & access & ~covered;
    if (rest) {
        g_string_append(out, first ? "+" : ", +");
        ff_0x(out, rest, 1);
        first = false;
    }
    if (first) {
        g_string_truncate(out, start); /* nothing to show: no " {}" */
    } else {
        g_string_append_c(out, '}');
    }
}

static gint field_order(gconstpointer a, gconstpointer b)
{
    const struct regmap_field *x = a, *y = b;
    return (x->lo > y->lo) - (x->lo < y->lo);
}

void regmap_sort_fields(struct regmap_node *reg)
{
    g_array_sort(reg->fields, field_order);
}

void regmap_format_fields(GString *out, const struct regmap_node *reg, uint64_t value)
{
    format_fields(out, reg, value, reg->width >= 8 ? UINT64_MAX : (1ull << (8 * reg->width)) - 1);
}

static void format_hit(GString *out, const struct regmap_hit *hit, uint64_t value, unsigned width);

void regmap_format(GString *out, const struct regmap_hit *chit, uint64_t value, unsigned width)
{
    struct regmap_hit *hit = (struct regmap_hit *)chit; /* only the memo changes */
    uint64_t wmask = width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
    value &= wmask;
    if (hit->memo_len && hit->memo_value == value && hit->memo_width == width) {
        g_string_append_len(out, hit->memo, hit->memo_len);
        return;
    }
    gsize start = out->len;
    format_hit(out, hit, value, width);
    gsize len = out->len - start;
    hit->memo_len = len < sizeof(hit->memo) ? (unsigned)len : 0;
    if (hit->memo_len) {
        memcpy(hit->memo, out->str + start, len);
        hit->memo_value = value;
        hit->memo_width = width;
    }
}

static void format_hit(GString *out, const struct regmap_hit *hit, uint64_t value, unsigned width)
{
    uint64_t wmask = width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
    g_string_append(out, hit->name);
    if (hit->delta) {
        g_string_append_c(out, '+');
        ff_0x(out, hit->delta, 1);
    }
    g_string_append(out, " = ");
    ff_0x(out, value, (int)(2 * width));
    if (hit->delta >= 8) {
        return;
    }
    unsigned shift = 8 * (unsigned)hit->delta;
    uint64_t access = shift + 8 * width >= 64 ? UINT64_MAX << shift : wmask << shift;
    if (hit->delta == 0 && width == hit->reg->width) {
        regmap_format_fields(out, hit->reg, value);
    } else {
        format_fields(out, hit->reg, value << shift, access);
    }
}

/* ---- the YAML loader ---- */

struct yload {
    const char *file;
    yaml_document_t doc;
    GError **error;
    bool failed;
};

#define LINE(n) ((unsigned)(n)->start_mark.line + 1)

static bool fail(struct yload *y, const yaml_node_t *n, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool fail(struct yload *y, const yaml_node_t *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!y->failed) {
        g_set_error(y->error, REGMAP_ERROR, 1, "%s:%u: %s", y->file, n ? LINE(n) : 1, msg);
    }
    y->failed = true;
    return false;
}

static const char *scalar(struct yload *y, yaml_node_t *n, const char *what)
{
    if (n->type != YAML_SCALAR_NODE) {
        fail(y, n, "%s must be a single value", what);
        return NULL;
    }
    return (const char *)n->data.scalar.value;
}

static bool parse_u64(const char *s, uint64_t *v)
{
    char *end;
    if (!s || !*s || *s == '-' || *s == '+' || g_ascii_isspace(*s)) {
        return false;
    }
    errno = 0;
    *v = g_ascii_strtoull(s, &end, 0);
    return !errno && !*end;
}

static bool number(struct yload *y, yaml_node_t *n, const char *what, uint64_t *v)
{
    const char *s = scalar(y, n, what);
    if (!s) {
        return false;
    }
    if (!parse_u64(s, v)) {
        return fail(y, n, "%s: '%s' is not a number (decimal or 0x hex)", what, s);
    }
    return true;
}

static bool is_name(const char *s)
{
    if (!*s || strlen(s) > 128) {
        return false;
    }
    for (const char *p = s; *p; p++) {
        if (!g_ascii_isalnum(*p) && *p != '_' && *p != '.' && *p != '-') {
            return false;
        }
    }
    return true;
}

static const char *name_of(struct yload *y, yaml_node_t *n, const char *what)
{
    const char *s = scalar(y, n, what);
    if (s && !is_name(s)) {
        fail(y, n, "%s '%s': use letters, digits, '_', '.' and '-'", what, s);
        return NULL;
    }
    return s;
}

#define FOR_PAIRS(y, map, k, v)                                                                    \
    for (yaml_node_pair_t *pair_ = (map)->data.mapping.pairs.start;                                \
         pair_ < (map)->data.mapping.pairs.top &&                                                  \
         ((k) = yaml_document_get_node(&(y)->doc, pair_->key)) &&                                  \
         ((v) = yaml_document_get_node(&(y)->doc, pair_->value));                                  \
         pair_++)

static bool need_map(struct yload *y, yaml_node_t *n, const char *what)
{
    if (n->type != YAML_MAPPING_NODE) {
        return fail(y, n, "%s must be a mapping (key: value lines)", what);
    }
    return true;
}

static bool load_enums(struct yload *y, yaml_node_t *n, GArray **out, uint64_t max)
{
    yaml_node_t *k, *v;
    if (!need_map(y, n, "values")) {
        return false;
    }
    *out = g_array_new(FALSE, FALSE, sizeof(struct regmap_enum));
    FOR_PAIRS(y, n, k, v)
    {
        uint64_t val;
        const char *name;
        if (!number(y, k, "value", &val) || !(name = name_of(y, v, "value name"))) {
            return false;
        }
        if (val > max) {
            return fail(y, k, "value %s does not fit in the field",
                        (const char *)k->data.scalar.value);
        }
        if (enum_name(*out, val)) {
            return fail(y, k, "value %s is named twice", (const char *)k->data.scalar.value);
        }
        struct regmap_enum e = {val, g_strdup(name)};
        g_array_append_val(*out, e);
    }
    return true;
}

/* "6", "9:8" (high:low) or "8-9" */
static bool parse_bits(const char *s, unsigned *lo, unsigned *hi)
{
    uint64_t a, b;
    const char *sep = strpbrk(s, ":-");
    if (!sep) {
        if (!parse_u64(s, &a) || a > 63) {
            return false;
        }
        *lo = *hi = (unsigned)a;
        return true;
    }
    g_autofree char *first = g_strndup(s, sep - s);
    if (!parse_u64(first, &a) || !parse_u64(sep + 1, &b) || a > 63 || b > 63) {
        return false;
    }
    *lo = (unsigned)MIN(a, b);
    *hi = (unsigned)MAX(a, b);
    return true;
}

static bool load_field(struct yload *y, struct regmap_node *reg, const char *name, yaml_node_t *v,
                       uint64_t *used)
{
    struct regmap_field f = {0};
    yaml_node_t *bits = v, *values = NULL, *k, *x;
    if (v->type == YAML_MAPPING_NODE) {
        bits = NULL;
        FOR_PAIRS(y, v, k, x)
        {
            const char *key = scalar(y, k, "key");
            if (!key) {
                return false;
            }
            if (!strcmp(key, "bits")) {
                bits = x;
            } else if (!strcmp(key, "values")) {
                values = x;
            } else if (strcmp(key, "description")) {
                return fail(y, k, "field %s: unknown key '%s' (bits, values, description)", name,
                            key);
            }
        }
        if (!bits) {
            return fail(y, v, "field %s has no bits", name);
        }
    }
    const char *s = scalar(y, bits, "bits");
    if (!s) {
        return false;
    }
    if (!parse_bits(s, &f.lo, &f.hi)) {
        return fail(y, bits, "field %s: bits '%s' are not BIT or HIGH:LOW (0-63)", name, s);
    }
    if (f.hi >= 8 * reg->width) {
        return fail(y, bits, "field %s: bit %u is outside the %u-bit register %s", name, f.hi,
                    8 * reg->width, reg->name);
    }
    uint64_t m = bits_mask(f.lo, f.hi);
    if (m & *used) {
        return fail(y, bits, "field %s overlaps another field of %s", name, reg->name);
    }
    *used |= m;
    if (values && !load_enums(y, values, &f.values, m >> f.lo)) {
        return false;
    }
    f.name = g_strdup(name);
    g_array_append_val(reg->fields, f);
    return true;
}

static bool load_nodes(struct yload *y, yaml_node_t *map, GPtrArray *out, unsigned width);

static bool width_of(struct yload *y, yaml_node_t *n, unsigned *width)
{
    uint64_t bits;
    if (!number(y, n, "width", &bits)) {
        return false;
    }
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64) {
        return fail(y, n, "width %" PRIu64 ": use 8, 16, 32 or 64 (bits)", bits);
    }
    *width = (unsigned)bits / 8;
    return true;
}

static const char *const accesses[] = {"r", "w", "rw", "ro", "wo", "rc", "w1c", "rs", "w1s", NULL};

static bool load_node(struct yload *y, const char *name, yaml_node_t *def, GPtrArray *out,
                      unsigned width)
{
    yaml_node_t *k, *v, *offset = NULL, *count = NULL, *stride = NULL, *fields = NULL,
                        *values = NULL, *regs = NULL, *access = NULL, *w = NULL;
    if (!need_map(y, def, name)) {
        return false;
    }
    FOR_PAIRS(y, def, k, v)
    {
        const char *key = scalar(y, k, "key");
        if (!key) {
            return false;
        }
        yaml_node_t **slot = !strcmp(key, "offset")      ? &offset
                             : !strcmp(key, "count")     ? &count
                             : !strcmp(key, "stride")    ? &stride
                             : !strcmp(key, "fields")    ? &fields
                             : !strcmp(key, "values")    ? &values
                             : !strcmp(key, "registers") ? &regs
                             : !strcmp(key, "access")    ? &access
                             : !strcmp(key, "width")     ? &w
                                                         : NULL;
        if (!slot && strcmp(key, "description")) {
            return fail(y, k,
                        "%s: unknown key '%s' (offset, width, access, count, stride, fields, "
                        "values, registers, description)",
                        name, key);
        }
        if (slot && *slot) {
            return fail(y, k, "%s: '%s' given twice", name, key);
        }
        if (slot) {
            *slot = v;
        }
    }
    if (!offset) {
        return fail(y, def, "%s has no offset", name);
    }
    struct regmap_node *n = regmap_node_new(regs ? REGMAP_GROUP : REGMAP_REG, LINE(def));
    g_ptr_array_add(out, n);
    n->name = g_strdup(name);
    if (!number(y, offset, "offset", &n->offset)) {
        return false;
    }
    if (w && !width_of(y, w, &width)) {
        return false;
    }
    if (regs) {
        if (fields || values || access) {
            return fail(y, regs, "%s: a group of registers has no fields, values or access", name);
        }
        if (!load_nodes(y, regs, n->children, width)) {
            return false;
        }
    } else {
        n->width = width;
    }
    if (count && !number(y, count, "count", &n->count)) {
        return false;
    }
    if (count && (n->count < 1 || n->count > (1u << 24))) {
        return fail(y, count, "%s: count must be 1 to %u", name, 1u << 24);
    }
    if (n->count > 1 && !stride) {
        if (n->kind == REGMAP_GROUP) {
            return fail(y, def, "%s: an array of groups needs a stride", name);
        }
        n->stride = n->width;
    }
    if (stride && !number(y, stride, "stride", &n->stride)) {
        return false;
    }
    if (n->count > 1 && (n->stride == 0 || n->stride > UINT64_MAX / n->count)) {
        return fail(y, stride ? stride : def, "%s: bad stride", name);
    }
    if (n->kind == REGMAP_REG && n->count > 1 && n->stride < n->width) {
        return fail(y, stride, "%s: the stride is smaller than the register", name);
    }
    if (n->offset > UINT64_MAX - (n->count - 1) * n->stride) {
        return fail(y, offset, "%s: the array runs past 2^64", name);
    }
    if (access) {
        const char *a = scalar(y, access, "access");
        if (!a) {
            return false;
        }
        if (!g_strv_contains(accesses, a)) {
            return fail(y, access, "%s: access '%s': use r, w, rw, ro, wo, rc, w1c, rs or w1s",
                        name, a);
        }
        g_strlcpy(n->access, a, sizeof(n->access));
    }
    if (values) {
        uint64_t max = n->width >= 8 ? UINT64_MAX : (1ull << (8 * n->width)) - 1;
        if (!load_enums(y, values, &n->values, max)) {
            return false;
        }
    }
    if (fields) {
        uint64_t used = 0;
        if (!need_map(y, fields, "fields")) {
            return false;
        }
        FOR_PAIRS(y, fields, k, v)
        {
            const char *fname = name_of(y, k, "field name");
            if (!fname || !load_field(y, n, fname, v, &used)) {
                return false;
            }
        }
        regmap_sort_fields(n);
    }
    return true;
}

static bool load_nodes(struct yload *y, yaml_node_t *map, GPtrArray *out, unsigned width)
{
    yaml_node_t *k, *v;
    if (!need_map(y, map, "registers")) {
        return false;
    }
    g_autoptr(GHashTable) names = g_hash_table_new(g_str_hash, g_str_equal);
    FOR_PAIRS(y, map, k, v)
    {
        const char *name = name_of(y, k, "register name");
        if (!name) {
            return false;
        }
        if (!g_hash_table_add(names, (gpointer)name)) {
            return fail(y, k, "register %s is defined twice", name);
        }
        if (!load_node(y, name, v, out, width)) {
            return false;
        }
    }
    return true;
}

static bool load_pci(struct yload *y, struct regmap *m, yaml_node_t *n)
{
    if (n->type != YAML_SEQUENCE_NODE) {
        return fail(y, n, "pci must be a list of VENDOR:DEVICE ids, e.g. [\"8086:10d3\"]");
    }
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *e = yaml_document_get_node(&y->doc, *it);
        const char *s = scalar(y, e, "pci id");
        unsigned vendor, device;
        char tail;
        if (!s) {
            return false;
        }
        if (sscanf(s, "%4x:%4x%c", &vendor, &device, &tail) != 2 || strlen(s) != 9) {
            return fail(y, e, "pci id '%s' is not VENDOR:DEVICE in hex (8086:10d3)", s);
        }
        uint32_t id = vendor << 16 | device;
        g_array_append_val(m->pci_ids, id);
    }
    return true;
}

static bool load_top(struct yload *y, struct regmap *m)
{
    yaml_node_t *root = yaml_document_get_root_node(&y->doc), *k, *v, *regs = NULL, *bars = NULL,
                *bar = NULL;
    unsigned width = 4;
    if (!root) {
        return fail(y, NULL, "empty register map");
    }
    if (!need_map(y, root, "a register map")) {
        return false;
    }
    FOR_PAIRS(y, root, k, v)
    {
        const char *key = scalar(y, k, "key");
        if (!key) {
            return false;
        }
        if (!strcmp(key, "name")) {
            const char *s = scalar(y, v, "name");
            if (!s) {
                return false;
            }
            g_free(m->name);
            m->name = g_strdup(s);
        } else if (!strcmp(key, "pci")) {
            if (!load_pci(y, m, v)) {
                return false;
            }
        } else if (!strcmp(key, "width")) {
            if (!width_of(y, v, &width)) {
                return false;
            }
        } else if (!strcmp(key, "registers")) {
            regs = v;
        } else if (!strcmp(key, "bars")) {
            bars = v;
        } else if (!strcmp(key, "bar")) {
            bar = v;
        } else if (strcmp(key, "description")) {
            return fail(y, k,
                        "unknown key '%s' (name, description, pci, width, bar, registers, bars)",
                        key);
        }
    }
    if (regs && bars) {
        return fail(y, bars, "give either registers (with bar) or bars, not both");
    }
    if (!regs && !bars) {
        return fail(y, root, "the map has no registers (a 'registers' or 'bars' key)");
    }
    if (regs) {
        uint64_t b = 0;
        if (bar && !number(y, bar, "bar", &b)) {
            return false;
        }
        if (b >= REGMAP_BARS) {
            return fail(y, bar, "bar %" PRIu64 ": BARs are 0-6", b);
        }
        m->bars[b] = regmap_nodes_new();
        return load_nodes(y, regs, m->bars[b], width);
    }
    if (!need_map(y, bars, "bars")) {
        return false;
    }
    FOR_PAIRS(y, bars, k, v)
    {
        uint64_t b;
        if (!number(y, k, "bar", &b)) {
            return false;
        }
        if (b >= REGMAP_BARS) {
            return fail(y, k, "bar %" PRIu64 ": BARs are 0-6", b);
        }
        if (m->bars[b]) {
            return fail(y, k, "bar %" PRIu64 " is given twice", b);
        }
        m->bars[b] = regmap_nodes_new();
        if (!load_nodes(y, v, m->bars[b], width)) {
            return false;
        }
    }
    return true;
}

struct regmap *regmap_load_yaml_mem(const char *data, size_t len, const char *name, GError **error)
{
    yaml_parser_t parser;
    struct yload y = {.file = name, .error = error};
    if (!yaml_parser_initialize(&parser)) {
        g_set_error(error, REGMAP_ERROR, 1, "%s: out of memory", name);
        return NULL;
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)data, len);
    if (!yaml_parser_load(&parser, &y.doc)) {
        g_set_error(error, REGMAP_ERROR, 1, "%s:%zu: %s%s%s", name, parser.problem_mark.line + 1,
                    parser.problem ? parser.problem : "YAML error", parser.context ? " " : "",
                    parser.context ? parser.context : "");
        yaml_parser_delete(&parser);
        return NULL;
    }
    yaml_parser_delete(&parser);
    struct regmap *m = regmap_new(name);
    bool ok = load_top(&y, m);
    yaml_document_delete(&y.doc);
    if (!ok) {
        regmap_free(m);
        return NULL;
    }
    if (!m->name) {
        m->name = g_path_get_basename(name);
    }
    return m;
}

struct regmap *regmap_load(const char *spec, GError **error)
{
    if (g_str_has_suffix(spec, ".xml") || strstr(spec, ".xml#") || strstr(spec, ".xml@")) {
        g_autofree char *path = g_strdup(spec);
        char *variant = strchr(path, '@'), *domain;
        if (variant) {
            *variant++ = 0;
        }
        domain = strchr(path, '#');
        if (domain) {
            *domain++ = 0;
        }
        return regmap_load_rnn(path, domain, variant, error);
    }
    g_autofree char *data = NULL;
    gsize len;
    g_autoptr(GError) e = NULL;
    if (!g_file_get_contents(spec, &data, &len, &e)) {
        g_set_error_literal(error, REGMAP_ERROR, 1, e->message); /* names the file */
        return NULL;
    }
    return regmap_load_yaml_mem(data, len, spec, error);
}

/* ---- a set of maps and the trace's devices ---- */

struct set_entry {
    char *dev; /* bound to this dev= name, or NULL */
    struct regmap *map;
};

struct set_dev {
    char *name; /* dev= of its PCIDEV, or NULL */
    struct mmiotrace_pcidev d;
};

struct regmap_set {
    GArray *entries;  /* struct set_entry */
    GArray *devs;     /* struct set_dev */
    GHashTable *maps; /* map id -> phys base (uint64_t *) */
    /* the last access's device name and the map chosen for it */
    char last_dev[MMIOTRACE_DEV_MAX + 1];
    size_t last_len;
    struct regmap *last_map;
    bool have_last; /* cleared when maps or devices are added */
};

struct regmap_set *regmap_set_new(void)
{
    struct regmap_set *s = g_new0(struct regmap_set, 1);
    s->entries = g_array_new(FALSE, FALSE, sizeof(struct set_entry));
    s->devs = g_array_new(FALSE, FALSE, sizeof(struct set_dev));
    s->maps = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    return s;
}

bool regmap_set_add(struct regmap_set *s, const char *arg, GError **error)
{
    const char *eq = strchr(arg, '=');
    struct set_entry e = {NULL, NULL};
    const char *file = arg;
    if (eq && eq > arg && !memchr(arg, '/', eq - arg)) {
        e.dev = g_strndup(arg, eq - arg);
        file = eq + 1;
    }
    e.map = regmap_load(file, error);
    if (!e.map) {
        g_free(e.dev);
        return false;
    }
    g_array_append_val(s->entries, e);
    s->have_last = false;
    return true;
}

unsigned regmap_set_size(const struct regmap_set *s)
{
    return s->entries->len;
}

bool regmap_set_add_all(struct regmap_set *s, char **args, GError **error)
{
    for (char **a = args; a && *a; a++) {
        if (!regmap_set_add(s, *a, error)) {
            return false;
        }
    }
    return true;
}

void regmap_set_reset(struct regmap_set *s)
{
    for (guint i = 0; i < s->devs->len; i++) {
        g_free(g_array_index(s->devs, struct set_dev, i).name);
    }
    g_array_set_size(s->devs, 0);
    g_hash_table_remove_all(s->maps);
    s->have_last = false;
}

void regmap_set_track(struct regmap_set *s, const struct mmiotrace_record *rec)
{
    if (rec->type == MMIOTRACE_PCIDEV) {
        struct set_dev d = {NULL, rec->pcidev};
        d.d.driver = NULL;
        d.d.driver_len = 0;
        if (rec->ext & MMIOTRACE_EXT_DEV) {
            d.name = g_strndup(rec->dev, rec->dev_len);
        }
        for (guint i = 0; i < s->devs->len; i++) {
            struct set_dev *o = &g_array_index(s->devs, struct set_dev, i);
            if (o->d.bus == d.d.bus && o->d.devfn == d.d.devfn && !g_strcmp0(o->name, d.name)) {
                g_free(o->name);
                *o = d; /* a repeated header: the latest BARs */
                return;
            }
        }
        g_array_append_val(s->devs, d);
        s->have_last = false;
    } else if (rec->type == MMIOTRACE_MAP) {
        uint64_t *p = g_new(uint64_t, 1);
        *p = rec->map.phys;
        g_hash_table_replace(s->maps, GINT_TO_POINTER(rec->map.map_id), p);
    }
}

/* The header device and BAR holding phys. */
static struct set_dev *find_bar(struct regmap_set *s, uint64_t phys, int *bar, uint64_t *off)
{
    for (guint i = 0; i < s->devs->len; i++) {
        struct set_dev *d = &g_array_index(s->devs, struct set_dev, i);
        for (int b = 0; b < MMIOTRACE_PCI_RESOURCES; b++) {
            uint64_t start = d->d.resource[b] & ~(uint64_t)0xf;
            if ((d->d.resource[b] & 1) || !d->d.size[b]) {
                continue;
            }
            if (phys >= start && phys - start < d->d.size[b]) {
                *bar = b;
                *off = phys - start;
                return d;
            }
        }
    }
    return NULL;
}

static struct regmap *choose(struct regmap_set *s, const char *dev, const struct set_dev *d)
{
    struct regmap *generic = NULL;
    for (guint i = 0; i < s->entries->len; i++) {
        struct set_entry *e = &g_array_index(s->entries, struct set_entry, i);
        if (e->dev) {
            if (dev && !strcmp(e->dev, dev)) {
                return e->map;
            }
            continue;
        }
        if (!e->map->pci_ids->len) {
            generic = generic ? generic : e->map;
            continue;
        }
        for (guint j = 0; d && j < e->map->pci_ids->len; j++) {
            if (g_array_index(e->map->pci_ids, uint32_t, j) ==
                ((uint32_t)d->d.vendor << 16 | d->d.device)) {
                return e->map;
            }
        }
    }
    if (!generic && !d && s->entries->len == 1 &&
        !g_array_index(s->entries, struct set_entry, 0).dev) {
        /* no header to match ids against: the one map given */
        generic = g_array_index(s->entries, struct set_entry, 0).map;
    }
    return generic;
}

const struct regmap_hit *regmap_set_resolve(struct regmap_set *s,
                                            const struct mmiotrace_record *rec, int *bar,
                                            uint64_t *offset)
{
    uint64_t phys;
    int32_t map_id;
    if (rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE) {
        phys = rec->rw.phys;
        map_id = rec->rw.map_id;
    } else if (rec->type == MMIOTRACE_UNKNOWN) {
        phys = rec->unknown.phys;
        map_id = rec->unknown.map_id;
    } else {
        return NULL;
    }
    struct set_dev *d = NULL;
    int b = -1;
    uint64_t off = 0;
    bool have_d = false;
    if (rec->ext & MMIOTRACE_EXT_BAR) {
        b = rec->bar;
        off = rec->bar_off;
    } else if ((d = find_bar(s, phys, &b, &off))) {
        have_d = true; /* from the header's BARs */
    } else {
        uint64_t *base = g_hash_table_lookup(s->maps, GINT_TO_POINTER(map_id));
        if (!base || phys < *base) {
            return NULL;
        }
        b = 0; /* a kernel trace without a header: the mapping's start is BAR0's */
        off = phys - *base;
        have_d = true; /* no header device */
    }
    *bar = b;
    *offset = off;
    struct regmap *m;
    size_t dlen = rec->ext & MMIOTRACE_EXT_DEV ? MIN(rec->dev_len, (size_t)MMIOTRACE_DEV_MAX) : 0;
    /* the map chosen for the last device name (an access with a name never needs the header
     * lookup again until the devices change) */
    if (dlen && s->have_last && s->last_len == dlen && !memcmp(s->last_dev, rec->dev, dlen)) {
        m = s->last_map;
    } else {
        char dev[MMIOTRACE_DEV_MAX + 1] = "";
        if (!have_d) {
            int b2;
            uint64_t o2;
            d = find_bar(s, phys, &b2, &o2);
        }
        if (dlen) {
            memcpy(dev, rec->dev, dlen);
            dev[dlen] = 0;
        } else if (d && d->name) {
            g_strlcpy(dev, d->name, sizeof(dev));
        }
        if (*dev && !d) {
            for (guint i = 0; i < s->devs->len && !d; i++) {
                struct set_dev *x = &g_array_index(s->devs, struct set_dev, i);
                d = x->name && !strcmp(x->name, dev) ? x : NULL;
            }
        }
        m = choose(s, *dev ? dev : NULL, d);
        if (dlen) {
            memcpy(s->last_dev, dev, dlen + 1);
            s->last_len = dlen;
            s->last_map = m;
            s->have_last = true;
        }
    }
    if (!m) {
        return NULL;
    }
    return regmap_lookup(m, (unsigned)b, off);
}

void regmap_set_free(struct regmap_set *s)
{
    if (!s) {
        return;
    }
    for (guint i = 0; i < s->entries->len; i++) {
        struct set_entry *e = &g_array_index(s->entries, struct set_entry, i);
        g_free(e->dev);
        regmap_free(e->map);
    }
    for (guint i = 0; i < s->devs->len; i++) {
        g_free(g_array_index(s->devs, struct set_dev, i).name);
    }
    g_array_free(s->entries, TRUE);
    g_array_free(s->devs, TRUE);
    g_hash_table_destroy(s->maps);
    g_free(s);
}
