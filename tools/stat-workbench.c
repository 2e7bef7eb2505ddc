/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio stat --regs / --top-functions / --symbols (see stat-workbench.h). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "regmap.h"
#include "stat-workbench.h"
#include "symbols.h"

static char **opt_regs, **opt_symbols;
static gboolean opt_functions;

GOptionEntry stat_wb_entries[] = {
    {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_regs,
     "Name the busiest registers with a register map (docs/regmap.md; repeatable)", "[DEV=]MAP"},
    {"top-functions", 'f', 0, G_OPTION_ARG_NONE, &opt_functions,
     "Show the N functions (PCs without --symbols) that made the most accesses", NULL},
    {"symbols", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &opt_symbols,
     "Name PCs: kallsyms, System.map or ELF (docs/regmap.md; repeatable)", "FILE"},
    {NULL},
};

static struct regmap_set *maps;
static struct symtab *syms;
static GHashTable *names; /* struct nkey * -> name */
/* functions by symbol (name and module pointers) or, outside every symbol, by PC */
struct fkey {
    uint64_t pc;
    const char *name, *module;
};
struct fentry {
    struct fkey k;
    uint64_t count;
};
static GHashTable *funcs; /* struct fkey * -> struct fentry * (its count) */

static guint fkey_hash(gconstpointer p)
{
    const struct fkey *k = p;
    return g_direct_hash(k->name) ^ g_direct_hash(k->module) ^
           (guint)(k->pc ^ k->pc >> 32) * 2654435761u;
}

static gboolean fkey_equal(gconstpointer a, gconstpointer b)
{
    const struct fkey *x = a, *y = b;
    return x->pc == y->pc && x->name == y->name && x->module == y->module;
}

/* register names by stat's key: its interned device and region strings and the offset */
struct nkey {
    const char *dev, *region;
    uint64_t offset;
};

static guint nkey_hash(gconstpointer p)
{
    const struct nkey *k = p;
    return g_direct_hash(k->dev) ^ g_direct_hash(k->region) * 31 ^
           (guint)(k->offset ^ k->offset >> 32) * 2654435761u;
}

static gboolean nkey_equal(gconstpointer a, gconstpointer b)
{
    const struct nkey *x = a, *y = b;
    return x->dev == y->dev && x->region == y->region && x->offset == y->offset;
}
static uint64_t with_pc, unnamed_pc;

int stat_wb_init(const char *prog)
{
    g_autoptr(GError) e = NULL;
    names = g_hash_table_new_full(nkey_hash, nkey_equal, g_free, g_free);
    funcs = g_hash_table_new_full(fkey_hash, fkey_equal, NULL, g_free);
    if (opt_regs) {
        maps = regmap_set_new();
        if (!regmap_set_add_all(maps, opt_regs, &e)) {
            fprintf(stderr, "%s: %s\n", prog, e->message);
            return 2;
        }
    }
    if (opt_symbols) {
        if (!(syms = symtab_load(opt_symbols, &e))) {
            fprintf(stderr, "%s: %s\n", prog, e->message);
            return 2;
        }
        opt_functions = TRUE;
    }
    return 0;
}

void stat_wb_record(const struct mmiotrace_record *rec)
{
    if (maps) {
        regmap_set_track(maps, rec);
    }
    if (!opt_functions) {
        return;
    }
    uint64_t pc = rec->type == MMIOTRACE_UNKNOWN                                ? rec->unknown.pc
                  : rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE ? rec->rw.pc
                                                                                : 0;
    if (!pc) {
        return;
    }
    with_pc++;
    const char *name, *module;
    uint64_t off;
    struct fkey k = {0, NULL, NULL};
    if (syms && symtab_lookup(syms, pc, &name, &off, &module)) {
        k.name = name; /* one pointer per distinct name (the table interns them) */
        k.module = module;
    } else {
        unnamed_pc += syms != NULL;
        k.pc = pc;
    }
    struct fentry *e = g_hash_table_lookup(funcs, &k);
    if (!e) {
        e = g_new0(struct fentry, 1);
        e->k = k;
        g_hash_table_insert(funcs, &e->k, e);
    }
    e->count++;
}

void stat_wb_note(const char *dev, const char *region, uint64_t offset,
                  const struct mmiotrace_record *rec)
{
    if (!maps || rec->type == MMIOTRACE_UNKNOWN) {
        return;
    }
    struct nkey k = {dev, region, offset};
    if (g_hash_table_contains(names, &k)) {
        return;
    }
    int bar = -1;
    uint64_t off = 0;
    const struct regmap_hit *h = regmap_set_resolve(maps, rec, &bar, &off);
    GString *n = g_string_new(NULL);
    if (h && h->reg) {
        g_string_append(n, h->name);
        if (h->delta) {
            g_string_append_printf(n, "+0x%" PRIx64, h->delta);
        }
    }
    struct nkey *copy = g_new(struct nkey, 1);
    *copy = k;
    g_hash_table_insert(names, copy, g_string_free(n, FALSE));
}

/* stat interns its strings once for all files, so the total's keys find the same names */
bool stat_wb_regs(void)
{
    return maps != NULL;
}

const char *stat_wb_name(const char *dev, const char *region, uint64_t offset)
{
    if (!maps) {
        return "";
    }
    struct nkey k = {dev, region, offset};
    const char *n = g_hash_table_lookup(names, &k);
    return n ? n : "";
}

struct fcount {
    char *name;
    uint64_t count;
};

static void fcount_clear(gpointer p)
{
    g_free(((struct fcount *)p)->name);
}

static gint fbusier(gconstpointer a, gconstpointer b)
{
    const struct fcount *x = a, *y = b;
    if (x->count != y->count) {
        return x->count > y->count ? -1 : 1;
    }
    return strcmp(x->name, y->name);
}

static GArray *sorted(void)
{
    GArray *a = g_array_new(FALSE, FALSE, sizeof(struct fcount));
    g_array_set_clear_func(a, fcount_clear);
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, funcs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct fentry *e = v;
        GString *name = g_string_new(NULL);
        if (e->k.name) {
            g_string_append(name, e->k.name);
            if (e->k.module) {
                g_string_append_printf(name, " [%s]", e->k.module);
            }
        } else {
            g_string_append_printf(name, "0x%" PRIx64, e->k.pc);
        }
        struct fcount f = {g_string_free(name, FALSE), e->count};
        g_array_append_val(a, f);
    }
    g_array_sort(a, fbusier);
    return a;
}

void stat_wb_print(unsigned top)
{
    if (!opt_functions) {
        return;
    }
    g_autoptr(GArray) a = sorted();
    unsigned n = MIN(a->len, top);
    printf("busiest functions (%u of %u; %" PRIu64 " accesses with a PC", n, a->len, with_pc);
    if (syms) {
        printf(", %" PRIu64 " of them outside every symbol", unnamed_pc);
    }
    printf("):\n");
    for (unsigned i = 0; i < n; i++) {
        struct fcount *f = &g_array_index(a, struct fcount, i);
        printf("  %10" PRIu64 "  %s\n", f->count, f->name);
    }
    printf("\n");
}

void stat_wb_json(json_object *root, unsigned top)
{
    if (!opt_functions) {
        return;
    }
    g_autoptr(GArray) a = sorted();
    json_object *arr = json_object_new_array();
    for (unsigned i = 0; i < a->len && i < top; i++) {
        struct fcount *f = &g_array_index(a, struct fcount, i);
        json_object *d = json_object_new_object();
        json_object_object_add(d, "function", json_object_new_string(f->name));
        json_object_object_add(d, "accesses", json_object_new_uint64(f->count));
        json_object_array_add(arr, d);
    }
    json_object_object_add(root, "functions", arr);
    json_object_object_add(root, "accesses_with_pc", json_object_new_uint64(with_pc));
}

void stat_wb_free(void)
{
    regmap_set_free(maps);
    symtab_free(syms);
    if (names) {
        g_hash_table_destroy(names);
        g_hash_table_destroy(funcs);
    }
    g_strfreev(opt_regs);
    g_strfreev(opt_symbols);
}
