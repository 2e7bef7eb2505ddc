/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register maps (docs/regmap.md): the model, lookups and value formatting, and regmap_load,
 * which hands a file to its loader (regmap-yaml.c, regmap-rnn.c). The set of maps a command
 * was given is in regmap-set.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *regmap_enum_name(const GArray *values, uint64_t v)
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

uint64_t regmap_bits_mask(unsigned lo, unsigned hi)
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
    const char *e = regmap_enum_name(reg->values, value);
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
        uint64_t fm = regmap_bits_mask(f->lo, f->hi);
        if (!(fm & access)) {
            continue;
        }
        covered |= fm;
        uint64_t v = (value & fm) >> f->lo;
        v = f->shr < 64 ? v << f->shr : 0;
        const char *en = regmap_enum_name(f->values, v);
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

/* ---- loading: by the file's kind ---- */

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
