/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register maps: the loader of hvmmio's YAML format (libyaml's document API, so that every
 * node keeps its line for the messages; docs/regmap.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <yaml.h>

#include "regmap.h"

#define REGMAP_ERROR regmap_error_quark()

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
        if (regmap_enum_name(*out, val)) {
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
    uint64_t m = regmap_bits_mask(f.lo, f.hi);
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

/* The keys of a register's or a group's definition (NULL: not given). */
struct node_keys {
    yaml_node_t *offset, *count, *stride, *fields, *values, *regs, *access, *width;
};

static bool node_keys(struct yload *y, const char *name, yaml_node_t *def, struct node_keys *nk)
{
    yaml_node_t *k, *v;
    FOR_PAIRS(y, def, k, v)
    {
        const char *key = scalar(y, k, "key");
        if (!key) {
            return false;
        }
        yaml_node_t **slot = !strcmp(key, "offset")      ? &nk->offset
                             : !strcmp(key, "count")     ? &nk->count
                             : !strcmp(key, "stride")    ? &nk->stride
                             : !strcmp(key, "fields")    ? &nk->fields
                             : !strcmp(key, "values")    ? &nk->values
                             : !strcmp(key, "registers") ? &nk->regs
                             : !strcmp(key, "access")    ? &nk->access
                             : !strcmp(key, "width")     ? &nk->width
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
    return true;
}

/* count and stride: an array of registers or groups, checked to fit. */
static bool node_array(struct yload *y, struct regmap_node *n, const char *name, yaml_node_t *def,
                       const struct node_keys *nk)
{
    if (nk->count && !number(y, nk->count, "count", &n->count)) {
        return false;
    }
    if (nk->count && (n->count < 1 || n->count > (1u << 24))) {
        return fail(y, nk->count, "%s: count must be 1 to %u", name, 1u << 24);
    }
    if (n->count > 1 && !nk->stride) {
        if (n->kind == REGMAP_GROUP) {
            return fail(y, def, "%s: an array of groups needs a stride", name);
        }
        n->stride = n->width;
    }
    if (nk->stride && !number(y, nk->stride, "stride", &n->stride)) {
        return false;
    }
    if (n->count > 1 && (n->stride == 0 || n->stride > UINT64_MAX / n->count)) {
        return fail(y, nk->stride ? nk->stride : def, "%s: bad stride", name);
    }
    if (n->kind == REGMAP_REG && n->count > 1 && n->stride < n->width) {
        return fail(y, nk->stride, "%s: the stride is smaller than the register", name);
    }
    if (n->offset > UINT64_MAX - (n->count - 1) * n->stride) {
        return fail(y, nk->offset, "%s: the array runs past 2^64", name);
    }
    return true;
}

/* A register's access, whole-register values and fields. */
static bool node_reg_keys(struct yload *y, struct regmap_node *n, const char *name,
                          const struct node_keys *nk)
{
    yaml_node_t *k, *v;
    if (nk->access) {
        const char *a = scalar(y, nk->access, "access");
        if (!a) {
            return false;
        }
        if (!g_strv_contains(accesses, a)) {
            return fail(y, nk->access, "%s: access '%s': use r, w, rw, ro, wo, rc, w1c, rs or w1s",
                        name, a);
        }
        g_strlcpy(n->access, a, sizeof(n->access));
    }
    if (nk->values) {
        uint64_t max = n->width >= 8 ? UINT64_MAX : (1ull << (8 * n->width)) - 1;
        if (!load_enums(y, nk->values, &n->values, max)) {
            return false;
        }
    }
    if (nk->fields) {
        uint64_t used = 0;
        if (!need_map(y, nk->fields, "fields")) {
            return false;
        }
        FOR_PAIRS(y, nk->fields, k, v)
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

static bool load_node(struct yload *y, const char *name, yaml_node_t *def, GPtrArray *out,
                      unsigned width)
{
    struct node_keys nk = {NULL};
    if (!need_map(y, def, name) || !node_keys(y, name, def, &nk)) {
        return false;
    }
    if (!nk.offset) {
        return fail(y, def, "%s has no offset", name);
    }
    struct regmap_node *n = regmap_node_new(nk.regs ? REGMAP_GROUP : REGMAP_REG, LINE(def));
    g_ptr_array_add(out, n);
    n->name = g_strdup(name);
    if (!number(y, nk.offset, "offset", &n->offset)) {
        return false;
    }
    if (nk.width && !width_of(y, nk.width, &width)) {
        return false;
    }
    if (nk.regs) {
        if (nk.fields || nk.values || nk.access) {
            return fail(y, nk.regs, "%s: a group of registers has no fields, values or access",
                        name);
        }
        if (!load_nodes(y, nk.regs, n->children, width)) {
            return false;
        }
    } else {
        n->width = width;
    }
    return node_array(y, n, name, def, &nk) && node_reg_keys(y, n, name, &nk);
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

/* The top-level keys: name, pci and width are taken; registers, bars and bar returned. */
static bool top_keys(struct yload *y, struct regmap *m, yaml_node_t *root, unsigned *width,
                     yaml_node_t **regs, yaml_node_t **bars, yaml_node_t **bar)
{
    yaml_node_t *k, *v;
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
            if (!width_of(y, v, width)) {
                return false;
            }
        } else if (!strcmp(key, "registers")) {
            *regs = v;
        } else if (!strcmp(key, "bars")) {
            *bars = v;
        } else if (!strcmp(key, "bar")) {
            *bar = v;
        } else if (strcmp(key, "description")) {
            return fail(y, k,
                        "unknown key '%s' (name, description, pci, width, bar, registers, bars)",
                        key);
        }
    }
    return true;
}

/* "bars: {N: {registers...}, ...}" */
static bool load_bars(struct yload *y, struct regmap *m, yaml_node_t *bars, unsigned width)
{
    yaml_node_t *k, *v;
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

static bool load_top(struct yload *y, struct regmap *m)
{
    yaml_node_t *root = yaml_document_get_root_node(&y->doc), *regs = NULL, *bars = NULL,
                *bar = NULL;
    unsigned width = 4;
    if (!root) {
        return fail(y, NULL, "empty register map");
    }
    if (!need_map(y, root, "a register map") || !top_keys(y, m, root, &width, &regs, &bars, &bar)) {
        return false;
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
    return load_bars(y, m, bars, width);
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
