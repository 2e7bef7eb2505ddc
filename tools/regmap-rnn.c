/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Import of envytools' rules-ng-ng register databases (libxml2): domains, reg8/16/32/64,
 * arrays and stripes (with length and stride), bitfields (low/high or pos), enums and bitsets
 * (inline or by type), imports, and chipset variants (a token list of names, "A-B" inclusive,
 * "A:B" up to B, "A-" onwards, ordered by the varset enum's values). See docs/regmap.md.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "regmap.h"

#define IMPORT_DEPTH 16

struct rnn {
    GPtrArray *docs;     /* xmlDoc *, kept until the import ends */
    GHashTable *enums;   /* name -> xmlNode * (enum) */
    GHashTable *bitsets; /* name -> xmlNode * (bitset) */
    GHashTable *domains; /* name -> GPtrArray of xmlNode * (the domain's parts, in order) */
    GHashTable *files;   /* imported files (real paths) */
    char *first_domain;  /* the first domain's name */
    const char *variant;
    GError **error;
    bool failed;
};

static bool rfail(struct rnn *r, xmlNode *n, const char *fmt, ...) G_GNUC_PRINTF(3, 4);
static bool rfail(struct rnn *r, xmlNode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (!r->failed) {
        const char *file = n && n->doc && n->doc->URL ? (const char *)n->doc->URL : "?";
        g_set_error(r->error, regmap_error_quark(), 1, "%s:%ld: %s", file, n ? xmlGetLineNo(n) : 0L,
                    msg);
    }
    r->failed = true;
    return false;
}

static bool is(xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && !strcmp((const char *)n->name, name);
}

/* An attribute as a string (owned by the caller's g_autofree via xmlFree-compatible free). */
static char *attr(xmlNode *n, const char *name)
{
    xmlChar *v = xmlGetProp(n, (const xmlChar *)name);
    char *s = v ? g_strdup((const char *)v) : NULL;
    xmlFree(v);
    return s;
}

static bool attr_u64(struct rnn *r, xmlNode *n, const char *name, uint64_t *v, bool required)
{
    g_autofree char *s = attr(n, name);
    char *end;
    if (!s) {
        return required ? rfail(r, n, "<%s> has no %s", n->name, name) : true;
    }
    errno = 0;
    *v = g_ascii_strtoull(s, &end, 0);
    if (!*s || *end || errno || *s == '-') {
        return rfail(r, n, "<%s> %s=\"%s\" is not a number", n->name, name, s);
    }
    return true;
}

/* ---- loading files and their imports ---- */

static bool load_file(struct rnn *r, const char *path, xmlNode *from, int depth);

static bool collect(struct rnn *r, xmlNode *parent, const char *dir, int depth)
{
    for (xmlNode *n = parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE) {
            continue;
        }
        GHashTable *t = is(n, "enum") ? r->enums : is(n, "bitset") ? r->bitsets : NULL;
        if (is(n, "domain")) {
            /* a domain is spread over files (rnndb's NV_MMIO): every part counts */
            g_autofree char *name = attr(n, "name");
            if (!name) {
                return rfail(r, n, "<domain> has no name");
            }
            GPtrArray *parts = g_hash_table_lookup(r->domains, name);
            if (!parts) {
                parts = g_ptr_array_new();
                if (!r->first_domain) {
                    r->first_domain = g_strdup(name);
                }
                g_hash_table_insert(r->domains, g_steal_pointer(&name), parts);
            }
            g_ptr_array_add(parts, n);
            continue;
        }
        if (t) {
            g_autofree char *name = attr(n, "name");
            if (!name) {
                return rfail(r, n, "<%s> has no name", n->name);
            }
            /* a later definition of the same name extends or repeats it: keep the first */
            if (!g_hash_table_contains(t, name)) {
                g_hash_table_insert(t, g_steal_pointer(&name), n);
            }
        } else if (is(n, "import")) {
            g_autofree char *file = attr(n, "file");
            if (!file) {
                return rfail(r, n, "<import> has no file");
            }
            g_autofree char *path =
                g_path_is_absolute(file) ? g_strdup(file) : g_build_filename(dir, file, NULL);
            if (!load_file(r, path, n, depth + 1)) {
                return false;
            }
        }
    }
    return true;
}

/* libxml2's first complaint about a file (the later ones follow from it) */
struct first_error {
    int line;
    char *message;
};

static void first_error(void *opaque, xmlErrorPtr e)
{
    struct first_error *fe = opaque;
    if (!fe->message && e && e->level >= XML_ERR_ERROR) {
        fe->line = e->line;
        fe->message = g_strdup(e->message ? e->message : "XML error");
    }
}

static bool load_file(struct rnn *r, const char *path, xmlNode *from, int depth)
{
    if (depth > IMPORT_DEPTH) {
        return rfail(r, from, "imports nest deeper than %d", IMPORT_DEPTH);
    }
    g_autofree char *real = realpath(path, NULL);
    if (!real) {
        if (from) {
            return rfail(r, from, "cannot import %s: %s", path, g_strerror(errno));
        }
        g_set_error(r->error, regmap_error_quark(), 1, "%s: %s", path, g_strerror(errno));
        r->failed = true;
        return false;
    }
    if (!g_hash_table_add(r->files, g_strdup(real))) {
        return true; /* imported already */
    }
    struct first_error fe = {0, NULL};
    xmlParserCtxt *ctxt = xmlNewParserCtxt();
    xmlSetStructuredErrorFunc(&fe, first_error);
    xmlDoc *doc = ctxt ? xmlCtxtReadFile(ctxt, path, NULL, XML_PARSE_NONET) : NULL;
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (!doc) {
        g_autofree char *msg = g_strdup(fe.message ? fe.message : "not XML");
        g_strchomp(msg);
        g_set_error(r->error, regmap_error_quark(), 1, "%s:%d: %s", path, fe.line, msg);
        r->failed = true;
        g_free(fe.message);
        xmlFreeParserCtxt(ctxt);
        return false;
    }
    g_free(fe.message);
    xmlFreeParserCtxt(ctxt);
    g_ptr_array_add(r->docs, doc);
    xmlNode *root = xmlDocGetRootElement(doc);
    if (!root || !is(root, "database")) {
        return rfail(r, root, "not a rules-ng-ng database (the root element is not <database>)");
    }
    g_autofree char *dir = g_path_get_dirname(path);
    return collect(r, root, dir, depth);
}

/* ---- variants ---- */

/* The position of name among the varset enum's values, or -1. */
static int variant_pos(struct rnn *r, xmlNode *varset, const char *name)
{
    int i = 0;
    for (xmlNode *v = varset ? varset->children : NULL; v; v = v->next) {
        if (is(v, "value")) {
            g_autofree char *n = attr(v, "name");
            if (n && !strcmp(n, name)) {
                return i;
            }
            i++;
        }
    }
    return -1;
}

/* Does an element's variants="..." include the chosen variant? */
static bool variant_ok(struct rnn *r, xmlNode *n, xmlNode *varset)
{
    if (!r->variant) {
        return true;
    }
    g_autofree char *spec = attr(n, "variants");
    if (!spec) {
        return true;
    }
    int want = variant_pos(r, varset, r->variant);
    g_auto(GStrv) toks = g_strsplit_set(spec, " \t\n,", -1);
    for (char **t = toks; *t; t++) {
        if (!**t) {
            continue;
        }
        char *sep = strpbrk(*t, "-:");
        if (!sep) {
            if (!strcmp(*t, r->variant)) {
                return true;
            }
            continue;
        }
        if (want < 0) {
            continue; /* a range needs the order: the variant is not in the varset */
        }
        bool half_open = *sep == ':';
        *sep = 0;
        int lo = **t ? variant_pos(r, varset, *t) : 0;
        int hi = sep[1] ? variant_pos(r, varset, sep + 1) : G_MAXINT;
        if (lo < 0 || hi < 0) {
            continue;
        }
        if (want >= lo && (half_open ? want < hi : want <= hi)) {
            return true;
        }
    }
    return false;
}

/* ---- building the tree ---- */

static bool enum_values(struct rnn *r, xmlNode *parent, xmlNode *varset, GArray **out)
{
    for (xmlNode *v = parent->children; v; v = v->next) {
        if (!is(v, "value") || !variant_ok(r, v, varset)) {
            continue;
        }
        struct regmap_enum e = {0, attr(v, "name")};
        if (!e.name) {
            return rfail(r, v, "<value> has no name");
        }
        g_autofree char *val = attr(v, "value");
        if (!val) {
            g_free(e.name);
            continue; /* a varset member, not a number */
        }
        if (!attr_u64(r, v, "value", &e.value, true)) {
            g_free(e.name);
            return false;
        }
        if (!*out) {
            *out = g_array_new(FALSE, FALSE, sizeof(struct regmap_enum));
        }
        g_array_append_val(*out, e);
    }
    return true;
}

static bool bitfields(struct rnn *r, xmlNode *parent, xmlNode *varset, struct regmap_node *reg);

/* A type="..." reference: a bitset adds its fields, an enum gives values. */
static bool use_type(struct rnn *r, xmlNode *n, const char *type, xmlNode *varset,
                     struct regmap_node *reg, GArray **values)
{
    xmlNode *t;
    if ((t = g_hash_table_lookup(r->bitsets, type)) && reg) {
        return bitfields(r, t, varset, reg);
    }
    if ((t = g_hash_table_lookup(r->enums, type))) {
        return enum_values(r, t, varset, values);
    }
    return true; /* a builtin (boolean, hex, uint, fixed, ...): nothing to name */
}

static bool bitfields(struct rnn *r, xmlNode *parent, xmlNode *varset, struct regmap_node *reg)
{
    for (xmlNode *b = parent->children; b; b = b->next) {
        if (!is(b, "bitfield") || !variant_ok(r, b, varset)) {
            continue;
        }
        struct regmap_field f = {0};
        uint64_t lo = 0, hi = 0, pos = 0;
        g_autofree char *haspos = attr(b, "pos");
        if (haspos) {
            if (!attr_u64(r, b, "pos", &pos, true)) {
                return false;
            }
            lo = hi = pos;
        } else if (!attr_u64(r, b, "low", &lo, true) || !attr_u64(r, b, "high", &hi, true)) {
            return false;
        }
        if (lo > hi || hi >= 8 * reg->width) {
            return rfail(r, b,
                         "bitfield bits %" PRIu64 "-%" PRIu64 " do not fit the %u-bit register", lo,
                         hi, 8 * reg->width);
        }
        f.name = attr(b, "name");
        if (!f.name) {
            return rfail(r, b, "<bitfield> has no name");
        }
        f.lo = (unsigned)lo;
        f.hi = (unsigned)hi;
        uint64_t shr = 0;
        if (!attr_u64(r, b, "shr", &shr, false) || shr > 63) {
            g_free(f.name);
            return shr > 63 ? rfail(r, b, "<bitfield> shr must be 0 to 63") : false;
        }
        f.shr = (unsigned)shr;
        g_autofree char *type = attr(b, "type");
        bool ok = enum_values(r, b, varset, &f.values) &&
                  (!type || use_type(r, b, type, varset, NULL, &f.values));
        g_array_append_val(reg->fields, f);
        if (!ok) {
            return false;
        }
    }
    return true;
}

static bool build(struct rnn *r, xmlNode *parent, xmlNode *varset, GPtrArray *out, int depth)
{
    if (depth > 32) {
        return rfail(r, parent, "arrays nest deeper than 32");
    }
    for (xmlNode *n = parent->children; n; n = n->next) {
        if (n->type != XML_ELEMENT_NODE || !variant_ok(r, n, varset)) {
            continue;
        }
        unsigned width = is(n, "reg8")    ? 1
                         : is(n, "reg16") ? 2
                         : is(n, "reg32") ? 4
                         : is(n, "reg64") ? 8
                                          : 0;
        bool group = is(n, "array") || is(n, "stripe");
        if (!width && !group) {
            continue; /* doc, brief, use-group, ... */
        }
        struct regmap_node *x =
            regmap_node_new(group ? REGMAP_GROUP : REGMAP_REG, (unsigned)xmlGetLineNo(n));
        g_ptr_array_add(out, x);
        x->name = attr(n, "name");
        if (!x->name && !is(n, "stripe")) {
            return rfail(r, n, "<%s> has no name", n->name);
        }
        uint64_t length = 1;
        if (!attr_u64(r, n, "offset", &x->offset, !is(n, "stripe")) ||
            !attr_u64(r, n, "length", &length, false) ||
            !attr_u64(r, n, "stride", &x->stride, group && length > 1)) {
            return false;
        }
        if (length < 1 || length > (1u << 24)) {
            return rfail(r, n, "<%s> length must be 1 to %u", n->name, 1u << 24);
        }
        x->count = length;
        if (!group) {
            x->width = width;
            if (!x->stride) {
                x->stride = width;
            }
            g_autofree char *access = attr(n, "access");
            if (access) {
                g_strlcpy(x->access, access, sizeof(x->access));
            }
            g_autofree char *type = attr(n, "type");
            if (!bitfields(r, n, varset, x) || !enum_values(r, n, varset, &x->values) ||
                (type && !use_type(r, n, type, varset, x, &x->values))) {
                return false;
            }
            regmap_sort_fields(x);
        } else {
            xmlNode *vs = varset;
            g_autofree char *prefix = attr(n, "varset");
            if (prefix && g_hash_table_lookup(r->enums, prefix)) {
                vs = g_hash_table_lookup(r->enums, prefix);
            }
            if (!build(r, n, vs, x->children, depth + 1)) {
                return false;
            }
        }
        if (x->count > 1 && x->offset > UINT64_MAX - (x->count - 1) * x->stride) {
            return rfail(r, n, "<%s> runs past 2^64", n->name);
        }
    }
    return true;
}

struct regmap *regmap_load_rnn(const char *path, const char *domain, const char *variant,
                               GError **error)
{
    struct rnn r = {
        .docs = g_ptr_array_new_with_free_func((GDestroyNotify)xmlFreeDoc),
        .enums = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .bitsets = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free,
                                         (GDestroyNotify)g_ptr_array_unref),
        .files = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .variant = variant,
        .error = error,
    };
    struct regmap *m = NULL;
    g_autofree char *vs = NULL, *prefix = NULL;
    if (!load_file(&r, path, NULL, 0)) {
        goto out;
    }
    GPtrArray *parts = g_hash_table_lookup(r.domains, domain           ? domain
                                                      : r.first_domain ? r.first_domain
                                                                       : "");
    if (!parts) {
        g_set_error(error, regmap_error_quark(), 1, "%s: %s", path,
                    domain ? "no such domain" : "no <domain> in the database");
        if (domain) {
            g_prefix_error(error, "%s: ", domain);
        }
        goto out;
    }
    xmlNode *d = parts->pdata[0];
    xmlNode *varset = g_hash_table_lookup(r.enums, "chipset");
    vs = attr(d, "varset");
    prefix = attr(d, "prefix");
    if (vs && g_hash_table_lookup(r.enums, vs)) {
        varset = g_hash_table_lookup(r.enums, vs);
    } else if (prefix && g_hash_table_lookup(r.enums, prefix)) {
        varset = g_hash_table_lookup(r.enums, prefix);
    }
    if (variant && variant_pos(&r, varset, variant) < 0) {
        g_set_error(error, regmap_error_quark(), 1, "%s: variant %s is not a value of the %s enum",
                    path, variant, varset ? "varset" : "(missing) chipset");
        goto out;
    }
    m = regmap_new(path);
    m->name = attr(d, "name");
    m->bars[0] = regmap_nodes_new();
    for (guint i = 0; i < parts->len; i++) {
        if (!build(&r, parts->pdata[i], varset, m->bars[0], 0)) {
            regmap_free(m);
            m = NULL;
            break;
        }
    }
out:
    g_free(r.first_domain);
    g_hash_table_destroy(r.enums);
    g_hash_table_destroy(r.bitsets);
    g_hash_table_destroy(r.domains);
    g_hash_table_destroy(r.files);
    g_ptr_array_free(r.docs, TRUE);
    return m;
}
