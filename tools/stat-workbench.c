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
static GHashTable *names; /* "dev\nregion\noffset" -> name */
static GHashTable *funcs; /* "func [module]" or "0xPC" -> count (uint64_t *) */
static GString *key;
static uint64_t with_pc, unnamed_pc;

int stat_wb_init(const char *prog)
{
    g_autoptr(GError) e = NULL;
    key = g_string_new(NULL);
    names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    funcs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    if (opt_regs) {
        maps = regmap_set_new();
        for (char **r = opt_regs; *r; r++) {
            if (!regmap_set_add(maps, *r, &e)) {
                fprintf(stderr, "%s: %s\n", prog, e->message);
                return 2;
            }
        }
    }
    if (opt_symbols) {
        syms = symtab_new();
        for (char **s = opt_symbols; *s; s++) {
            if (!symtab_add(syms, *s, &e)) {
                fprintf(stderr, "%s: %s\n", prog, e->message);
                return 2;
            }
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
    if (syms && symtab_lookup(syms, pc, &name, &off, &module)) {
        g_string_assign(key, name);
        if (module) {
            g_string_append_printf(key, " [%s]", module);
        }
    } else {
        unnamed_pc += syms != NULL;
        g_string_printf(key, "0x%" PRIx64, pc);
    }
    uint64_t *c = g_hash_table_lookup(funcs, key->str);
    if (!c) {
        c = g_new0(uint64_t, 1);
        g_hash_table_insert(funcs, g_strdup(key->str), c);
    }
    (*c)++;
}

static void make_key(const char *dev, const char *region, uint64_t offset)
{
    g_string_printf(key, "%s\n%s\n%" PRIx64, dev, region, offset);
}

void stat_wb_note(const char *dev, const char *region, uint64_t offset,
                  const struct mmiotrace_record *rec)
{
    if (!maps || rec->type == MMIOTRACE_UNKNOWN) {
        return;
    }
    make_key(dev, region, offset);
    if (g_hash_table_contains(names, key->str)) {
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
    g_hash_table_insert(names, g_strdup(key->str), g_string_free(n, FALSE));
}

const char *stat_wb_name(const char *dev, const char *region, uint64_t offset)
{
    if (!maps) {
        return "";
    }
    make_key(dev, region, offset);
    const char *n = g_hash_table_lookup(names, key->str);
    return n ? n : "";
}

struct fcount {
    const char *name;
    uint64_t count;
};

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
    GHashTableIter it;
    gpointer k, v;
    g_hash_table_iter_init(&it, funcs);
    while (g_hash_table_iter_next(&it, &k, &v)) {
        struct fcount f = {k, *(uint64_t *)v};
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
        g_string_free(key, TRUE);
    }
    g_strfreev(opt_regs);
    g_strfreev(opt_symbols);
}
