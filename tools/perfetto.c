/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert TRACE OUT.json --to perfetto: the Chrome/Perfetto trace event format (JSON),
 * which ui.perfetto.dev and chrome://tracing open. One process per device, one thread per BAR;
 * an instant event per access with its fields as args (register name, value, bitfields, PC,
 * function, vCPU); a counter track with the value history of each of the N busiest registers;
 * interrupts, MAP/UNMAP, markers and losses as instant events.
 *
 * The trace is read twice (the first pass finds the busiest registers), so TRACE must be a
 * file. The events are written as they are read: memory grows with distinct registers only.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "symbols.h"

#define TID_IRQ 16
#define TID_MAP 17

int hvmmio_perfetto_requested(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--to=perfetto") ||
            (!strcmp(argv[i], "--to") && i + 1 < argc && !strcmp(argv[i + 1], "perfetto"))) {
            return 1;
        }
    }
    return 0;
}

struct reg_count {
    uint64_t key_off;
    int bar;
    const char *dev; /* interned */
    uint64_t count;
    bool counter; /* one of the busiest: gets a counter track */
};

struct pf {
    FILE *out;
    struct regmap_set *maps;
    struct symtab *syms;
    GHashTable *devs;    /* interned dev name -> pid (GINT) */
    GHashTable *names;   /* interning */
    GHashTable *regs;    /* "dev\nbar\noff" -> struct reg_count * */
    GHashTable *threads; /* pid << 8 | tid seen */
    GString *s, *key;
    bool first;
    uint64_t events, instants, counters;
};

static const char *intern(struct pf *p, const char *s, size_t len)
{
    g_autofree char *k = g_strndup(s, len);
    char *v = g_hash_table_lookup(p->names, k);
    if (!v) {
        v = g_steal_pointer(&k);
        g_hash_table_add(p->names, v);
    }
    return v;
}

/* JSON string (valid UTF-8 is kept; other bytes are written as \u00XX). */
static void jstr(GString *o, const char *s, size_t len)
{
    bool utf8 = g_utf8_validate(s, (gssize)len, NULL);
    g_string_append_c(o, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            g_string_append_c(o, '\\');
            g_string_append_c(o, (char)c);
        } else if (c < 0x20 || c == 0x7f || (c >= 0x80 && !utf8)) {
            g_string_append_printf(o, "\\u%04x", c);
        } else {
            g_string_append_c(o, (char)c);
        }
    }
    g_string_append_c(o, '"');
}

static void jts(GString *o, uint64_t ns)
{
    g_string_append_printf(o, "%" PRIu64 ".%03" PRIu64, ns / 1000, ns % 1000);
}

static void emit(struct pf *p)
{
    if (!p->first) {
        fputs(",\n", p->out);
    }
    p->first = false;
    fwrite(p->s->str, 1, p->s->len, p->out);
    g_string_truncate(p->s, 0);
    p->events++;
}

static int dev_pid(struct pf *p, const char *dev)
{
    gpointer v = g_hash_table_lookup(p->devs, dev);
    if (v) {
        return GPOINTER_TO_INT(v);
    }
    int pid = (int)g_hash_table_size(p->devs) + 1;
    g_hash_table_insert(p->devs, (gpointer)dev, GINT_TO_POINTER(pid));
    g_string_append_printf(
        p->s, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":", pid);
    jstr(p->s, dev, strlen(dev));
    g_string_append(p->s, "}}");
    emit(p);
    return pid;
}

static void thread(struct pf *p, int pid, int tid, const char *name)
{
    gpointer k = GINT_TO_POINTER(pid << 8 | tid);
    if (g_hash_table_contains(p->threads, k)) {
        return;
    }
    g_hash_table_add(p->threads, k);
    g_string_append_printf(p->s,
                           "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
                           "\"args\":{\"name\":\"%s\"}}",
                           pid, tid, name);
    emit(p);
}

/* Where an access goes: its device, BAR (-1: unknown), offset (phys if no BAR), register. */
static const struct regmap_hit *locate(struct pf *p, const struct mmiotrace_record *rec,
                                       const char **dev, int *bar, uint64_t *off)
{
    *bar = -1;
    *off = rec->type == MMIOTRACE_UNKNOWN ? rec->unknown.phys : rec->rw.phys;
    const struct regmap_hit *h = regmap_set_resolve(p->maps, rec, bar, off);
    *dev =
        rec->ext & MMIOTRACE_EXT_DEV ? intern(p, rec->dev, rec->dev_len) : intern(p, "device", 6);
    return h && h->reg ? h : NULL;
}

static struct reg_count *reg_get(struct pf *p, const char *dev, int bar, uint64_t off)
{
    g_string_printf(p->key, "%s\n%d\n%" PRIx64, dev, bar, off);
    struct reg_count *c = g_hash_table_lookup(p->regs, p->key->str);
    if (!c) {
        c = g_new0(struct reg_count, 1);
        c->dev = dev;
        c->bar = bar;
        c->key_off = off;
        g_hash_table_insert(p->regs, g_strdup(p->key->str), c);
    }
    return c;
}

static gint busier(gconstpointer a, gconstpointer b)
{
    const struct reg_count *x = *(struct reg_count *const *)a, *y = *(struct reg_count *const *)b;
    return x->count > y->count ? -1 : x->count < y->count;
}

static void access_event(struct pf *p, const struct mmiotrace_record *rec)
{
    const char *dev;
    int bar;
    uint64_t off;
    const struct regmap_hit *h = locate(p, rec, &dev, &bar, &off);
    int pid = dev_pid(p, dev);
    int tid = bar >= 0 ? bar : 15;
    char tname[16];
    snprintf(tname, sizeof(tname), bar >= 0 ? "BAR%d" : "unknown BAR", bar);
    thread(p, pid, tid, tname);
    bool unknown = rec->type == MMIOTRACE_UNKNOWN;
    unsigned width = unknown ? 0 : rec->rw.width;
    uint64_t mask = width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
    uint64_t value = unknown ? 0 : rec->rw.value & mask;
    GString *name = g_string_new(NULL);
    if (h) {
        g_string_append(name, h->name);
        if (h->delta) {
            g_string_append_printf(name, "+0x%" PRIx64, h->delta);
        }
    } else {
        g_string_append_printf(name, "%s0x%" PRIx64, bar >= 0 ? "+" : "", off);
    }
    const char *kind = unknown ? "UNKNOWN" : rec->type == MMIOTRACE_READ ? "R" : "W";
    GString *o = p->s;
    g_string_append_printf(o, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"%s\",\"name\":\"%s ", kind,
                           kind);
    g_string_append(o, name->str);
    g_string_append(o, "\",\"ts\":");
    jts(o, rec->ts_ns);
    g_string_append_printf(o, ",\"pid\":%d,\"tid\":%d,\"args\":{\"offset\":\"0x%" PRIx64 "\"", pid,
                           tid, off);
    if (!unknown) {
        g_string_append_printf(o, ",\"width\":%u,\"value\":\"0x%0*" PRIx64 "\"", width, 2 * width,
                               value);
    }
    if (h) {
        g_string_append(o, ",\"register\":");
        jstr(o, name->str, name->len);
        GString *f = g_string_new(NULL);
        if (!unknown) {
            regmap_format(f, h, value, width);
            const char *brace = strchr(f->str, '{');
            const char *paren = strstr(f->str, " (");
            const char *dec = brace ? brace : paren ? paren + 1 : NULL;
            if (dec) {
                g_string_append(o, ",\"fields\":");
                jstr(o, dec, strlen(dec));
            }
        }
        g_string_free(f, TRUE);
    }
    uint64_t pc = unknown ? rec->unknown.pc : rec->rw.pc;
    if (pc) {
        g_string_append_printf(o, ",\"pc\":\"0x%" PRIx64 "\"", pc);
        GString *sym = g_string_new(NULL);
        if (p->syms && symtab_format(p->syms, sym, pc)) {
            g_string_append(o, ",\"function\":");
            jstr(o, sym->str, sym->len);
        }
        g_string_free(sym, TRUE);
    }
    if (rec->ext & MMIOTRACE_EXT_VCPU) {
        if (rec->vcpu == MMIOTRACE_VCPU_NONE) {
            g_string_append(o, ",\"vcpu\":\"none\"");
        } else {
            g_string_append_printf(o, ",\"vcpu\":%" PRId32, rec->vcpu);
        }
    }
    if (rec->ext & MMIOTRACE_EXT_ASM) {
        g_string_append(o, ",\"asm\":");
        jstr(o, rec->asm_text, rec->asm_len);
    }
    g_string_append(o, "}}");
    emit(p);
    p->instants++;
    struct reg_count *c = unknown ? NULL : reg_get(p, dev, bar, off);
    if (c && c->counter) {
        g_string_append(o, "{\"ph\":\"C\",\"name\":");
        jstr(o, name->str, name->len);
        g_string_append(o, ",\"ts\":");
        jts(o, rec->ts_ns);
        /* a JSON number: exact up to 2^53 */
        g_string_append_printf(o, ",\"pid\":%d,\"args\":{\"value\":%" PRIu64 "}}", pid, value);
        emit(p);
        p->counters++;
    }
    g_string_free(name, TRUE);
}

static void other_event(struct pf *p, const struct mmiotrace_record *rec)
{
    GString *o = p->s;
    const char *dev =
        rec->ext & MMIOTRACE_EXT_DEV ? intern(p, rec->dev, rec->dev_len) : intern(p, "device", 6);
    switch (rec->type) {
    case MMIOTRACE_IRQ: {
        static const char *const kinds[] = {"INTx", "MSI", "MSI-X"};
        int pid = dev_pid(p, dev);
        thread(p, pid, TID_IRQ, "interrupts");
        const char *k = rec->irq.kind <= MMIOTRACE_IRQ_MSIX ? kinds[rec->irq.kind] : "?";
        g_string_append_printf(
            o,
            "{\"ph\":\"i\",\"s\":\"p\",\"cat\":\"IRQ\",\"name\":\"IRQ %s %" PRIu32 "\",\"ts\":", k,
            rec->irq.vector);
        jts(o, rec->ts_ns);
        g_string_append_printf(
            o,
            ",\"pid\":%d,\"tid\":%d,\"args\":{\"kind\":\"%s\",\"vector\":%" PRIu32
            ",\"data\":\"0x%" PRIx32 "\",\"addr\":\"0x%" PRIx64 "\"}}",
            pid, TID_IRQ, k, rec->irq.vector, rec->irq.data, rec->irq.addr);
        break;
    }
    case MMIOTRACE_MAP:
    case MMIOTRACE_UNMAP: {
        int pid = dev_pid(p, dev);
        thread(p, pid, TID_MAP, "mappings");
        bool map = rec->type == MMIOTRACE_MAP;
        g_string_append_printf(
            o, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"%s\",\"name\":\"%s %" PRId32 "\",\"ts\":",
            map ? "MAP" : "UNMAP", map ? "MAP" : "UNMAP",
            map ? rec->map.map_id : rec->unmap.map_id);
        jts(o, rec->ts_ns);
        g_string_append_printf(o, ",\"pid\":%d,\"tid\":%d,\"args\":{", pid, TID_MAP);
        if (map) {
            g_string_append_printf(o, "\"phys\":\"0x%" PRIx64 "\",\"len\":\"0x%" PRIx64 "\"",
                                   rec->map.phys, rec->map.len);
        }
        g_string_append(o, "}}");
        break;
    }
    case MMIOTRACE_MARK:
        g_string_append(o, "{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"MARK\",\"name\":");
        jstr(o, rec->mark.text, rec->mark.len);
        g_string_append(o, ",\"ts\":");
        jts(o, rec->ts_ns);
        g_string_append(o, ",\"pid\":0,\"tid\":0}");
        break;
    case MMIOTRACE_LOST:
        g_string_append_printf(o,
                               "{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"LOST\",\"name\":\"lost %" PRIu64
                               " events\",\"ts\":",
                               rec->lost.count);
        jts(o, rec->ts_ns);
        g_string_append_printf(o, ",\"pid\":0,\"tid\":0,\"args\":{\"count\":%" PRIu64 "}}",
                               rec->lost.count);
        break;
    default:
        return;
    }
    emit(p);
    p->instants++;
}

static void warn_line(void *opaque, const char *message)
{
    unsigned *warned = opaque;
    if (++*warned <= 5) {
        fprintf(stderr, "hvmmio convert: warning: %s (line skipped)\n", message);
    }
}

/* One pass over path: count (first) or write events. */
static int pass(struct pf *p, const char *prog, const char *path, bool skip_bad, bool write)
{
    unsigned warned = 0;
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    mmiotrace_reader_set_policy(r, skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                write ? warn_line : NULL, &warned);
    struct mmiotrace_record rec;
    int got;
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        regmap_set_track(p->maps, &rec);
        bool access = rec.type == MMIOTRACE_READ || rec.type == MMIOTRACE_WRITE;
        if (!write) {
            if (access) {
                const char *dev;
                int bar;
                uint64_t off;
                locate(p, &rec, &dev, &bar, &off);
                reg_get(p, dev, bar, off)->count++;
            }
            continue;
        }
        if (access || rec.type == MMIOTRACE_UNKNOWN) {
            access_event(p, &rec);
        } else {
            other_event(p, &rec);
        }
    }
    if (got < 0) {
        fprintf(stderr, "%s: %s\n", prog, mmiotrace_reader_error(r));
    }
    mmiotrace_reader_free(r);
    return got < 0 ? -1 : 0;
}

int hvmmio_perfetto_convert(int argc, char **argv)
{
    g_auto(GStrv) regs = NULL, symbols = NULL;
    g_autofree char *to = NULL;
    gboolean skip_bad = FALSE, quiet = FALSE;
    gint ncounters = 16;
    GOptionEntry entries[] = {
        {"to", 0, 0, G_OPTION_ARG_STRING, &to, "perfetto: the Chrome/Perfetto trace event JSON",
         "FORMAT"},
        {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &regs,
         "Name registers and fields with a register map (see hvmmio decode --help)", "[DEV=]MAP"},
        {"symbols", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &symbols,
         "Name PCs by function (see hvmmio decode --help)", "FILE"},
        {"counters", 'n', 0, G_OPTION_ARG_INT, &ncounters,
         "Counter tracks (value history) for the N busiest registers (default 16)", "N"},
        {"skip-bad", 's', 0, G_OPTION_ARG_NONE, &skip_bad,
         "Skip malformed input lines (with a warning) instead of stopping", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "No summary line", NULL},
        {NULL}};
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE OUT.json --to perfetto");
    g_autoptr(GError) error = NULL;
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (argc != 3 || g_strcmp0(to, "perfetto")) {
        fprintf(stderr, "%s: --to perfetto takes TRACE and OUT.json (see --to perfetto --help)\n",
                argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "-")) {
        fprintf(stderr, "%s: --to perfetto reads TRACE twice: give a file, not stdin\n", argv[0]);
        return 2;
    }
    if (ncounters < 0) {
        fprintf(stderr, "%s: --counters must not be negative\n", argv[0]);
        return 2;
    }
    struct pf p = {
        .maps = regmap_set_new(),
        .devs = g_hash_table_new(g_str_hash, g_str_equal),
        .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .regs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
        .threads = g_hash_table_new(g_direct_hash, g_direct_equal),
        .s = g_string_sized_new(1024),
        .key = g_string_sized_new(128),
        .first = true,
    };
    int ret = 2;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    for (char **r = regs; r && *r; r++) {
        if (!regmap_set_add(p.maps, *r, &error)) {
            fprintf(stderr, "%s: %s\n", argv[0], error->message);
            goto out;
        }
    }
    if (symbols) {
        p.syms = symtab_new();
        for (char **s = symbols; *s; s++) {
            if (!symtab_add(p.syms, *s, &error)) {
                fprintf(stderr, "%s: %s\n", argv[0], error->message);
                goto out;
            }
        }
    }
    ret = 1;
    if (pass(&p, argv[0], argv[1], skip_bad, false) < 0) {
        goto out;
    }
    /* the busiest registers get counter tracks */
    GHashTableIter it;
    gpointer v;
    g_ptr_array_set_size(all, 0);
    g_hash_table_iter_init(&it, p.regs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(all, v);
    }
    g_ptr_array_sort(all, busier);
    for (guint i = 0; i < all->len && i < (guint)ncounters; i++) {
        ((struct reg_count *)all->pdata[i])->counter = true;
    }
    /* the second pass starts afresh: the same devices and mappings again */
    regmap_set_free(p.maps);
    p.maps = regmap_set_new();
    for (char **r = regs; r && *r; r++) {
        regmap_set_add(p.maps, *r, NULL);
    }
    p.out = strcmp(argv[2], "-") ? fopen(argv[2], "w") : stdout;
    if (!p.out) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[2], strerror(errno));
        goto out;
    }
    fputs(
        "{\"displayTimeUnit\":\"ns\",\"otherData\":{\"generator\":\"hvmmio\"},\"traceEvents\":[\n",
        p.out);
    int r = pass(&p, argv[0], argv[1], skip_bad, true);
    fputs("\n]}\n", p.out);
    if (fflush(p.out) || (p.out != stdout && fclose(p.out))) {
        fprintf(stderr, "%s: %s: %s\n", argv[0], argv[2], strerror(errno));
        goto out;
    }
    if (r < 0) {
        goto out;
    }
    if (!quiet) {
        fprintf(stderr,
                "%s: %" PRIu64 " events (%" PRIu64 " instant, %" PRIu64
                " counter samples on %u registers)\n",
                argv[0], p.events, p.instants, p.counters, MIN(all->len, (guint)ncounters));
    }
    ret = 0;
out:
    regmap_set_free(p.maps);
    symtab_free(p.syms);
    g_hash_table_destroy(p.devs);
    g_hash_table_destroy(p.names);
    g_hash_table_destroy(p.regs);
    g_hash_table_destroy(p.threads);
    g_string_free(p.s, TRUE);
    g_string_free(p.key, TRUE);
    return ret;
}
