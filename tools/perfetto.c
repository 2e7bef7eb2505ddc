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

#include "fastfmt.h"
#include "hvmmio.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "symbols.h"
#include "warn.h"

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
    GString *s, *key, *name, *fields, *sym;
    const char *last_dev; /* intern's last answer */
    size_t last_dev_len;
    bool first;
    uint64_t events, instants, counters;
};

static const char *intern(struct pf *p, const char *s, size_t len)
{
    if (p->last_dev && p->last_dev_len == len && !memcmp(p->last_dev, s, len)) {
        return p->last_dev;
    }
    g_autofree char *k = g_strndup(s, len);
    char *v = g_hash_table_lookup(p->names, k);
    if (!v) {
        v = g_steal_pointer(&k);
        g_hash_table_add(p->names, v);
    }
    p->last_dev = v;
    p->last_dev_len = len;
    return v;
}

/* JSON string (valid UTF-8 is kept; other bytes are written as \u00XX). */
static void jstr(GString *o, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '"' &&
           s[i] != '\\') {
        i++;
    }
    if (i == len) { /* plain ASCII: as is */
        gsize at = o->len;
        g_string_set_size(o, at + len + 2);
        o->str[at] = '"';
        memcpy(o->str + at + 1, s, len);
        o->str[at + len + 1] = '"';
        return;
    }
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
    ff_dec(o, ns / 1000, 1);
    g_string_append_c(o, '.');
    ff_dec(o, ns % 1000, 3);
}

static void emit(struct pf *p)
{
    if (!p->first) {
        fwrite(",\n", 1, 2, p->out);
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

static guint rc_hash(gconstpointer k)
{
    const struct reg_count *c = k;
    return g_direct_hash(c->dev) ^ (guint)c->bar * 16777619u ^
           (guint)(c->key_off ^ c->key_off >> 32) * 2654435761u;
}

static gboolean rc_equal(gconstpointer a, gconstpointer b)
{
    const struct reg_count *x = a, *y = b;
    return x->dev == y->dev && x->bar == y->bar && x->key_off == y->key_off;
}

static struct reg_count *reg_get(struct pf *p, const char *dev, int bar, uint64_t off)
{
    struct reg_count k = {.key_off = off, .bar = bar, .dev = dev};
    struct reg_count *c = g_hash_table_lookup(p->regs, &k);
    if (!c) {
        c = g_new0(struct reg_count, 1);
        *c = k;
        g_hash_table_add(p->regs, c);
    }
    return c;
}

static gint busier(gconstpointer a, gconstpointer b)
{
    const struct reg_count *x = *(struct reg_count *const *)a, *y = *(struct reg_count *const *)b;
    return x->count > y->count ? -1 : x->count < y->count;
}

/* ---- the per-access event, written with a cursor into a buffer sized beforehand ---- */

#define W_LIT(w, lit) (memcpy((w), (lit), sizeof(lit) - 1), (w) += sizeof(lit) - 1)

static char *w_hex(char *w, uint64_t v, int digits)
{
    char buf[16];
    int n = 0;
    do {
        buf[n++] = "0123456789abcdef"[v & 15];
        v >>= 4;
    } while (v);
    while (n < digits && n < 16) {
        buf[n++] = '0';
    }
    while (n) {
        *w++ = buf[--n];
    }
    return w;
}

static char *w_dec(char *w, uint64_t v, int digits)
{
    char buf[20];
    int n = 0;
    do {
        buf[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (n < digits && n < 20) {
        buf[n++] = '0';
    }
    while (n) {
        *w++ = buf[--n];
    }
    return w;
}

/* a JSON string: needs at most 6 * len + 2 bytes */
static char *w_str(char *w, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '"' &&
           s[i] != '\\') {
        i++;
    }
    *w++ = '"';
    if (i == len) {
        memcpy(w, s, len);
        w += len;
    } else {
        GString *tmp = g_string_new(NULL);
        jstr(tmp, s, len); /* the slow path: escapes */
        memcpy(w - 1, tmp->str, tmp->len);
        w += tmp->len - 2;
        g_string_free(tmp, TRUE);
    }
    *w++ = '"';
    return w;
}

static char *w_ts(char *w, uint64_t ns)
{
    w = w_dec(w, ns / 1000, 1);
    *w++ = '.';
    return w_dec(w, ns % 1000, 3);
}

static void access_event(struct pf *p, const struct mmiotrace_record *rec)
{
    const char *dev;
    int bar;
    uint64_t off;
    const struct regmap_hit *h = locate(p, rec, &dev, &bar, &off);
    int pid = dev_pid(p, dev);
    int tid = bar >= 0 ? bar : 15;
    if (bar >= 0) {
        static const char *const tnames[] = {"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM"};
        thread(p, pid, tid, bar < 7 ? tnames[bar] : "BAR?");
    } else {
        thread(p, pid, tid, "unknown BAR");
    }
    bool unknown = rec->type == MMIOTRACE_UNKNOWN;
    unsigned width = unknown ? 0 : rec->rw.width;
    uint64_t mask = width >= 8 ? UINT64_MAX : (1ull << (8 * width)) - 1;
    uint64_t value = unknown ? 0 : rec->rw.value & mask;
    const char *kind = unknown ? "UNKNOWN" : rec->type == MMIOTRACE_READ ? "R" : "W";

    /* the variable parts first, to size the buffer */
    GString *name = p->name, *f = p->fields, *sym = p->sym;
    g_string_assign(name, kind);
    g_string_append_c(name, ' ');
    gsize bare = name->len; /* name->str + bare: the register's name alone */
    if (h) {
        ff_put(name, h->name, strlen(h->name));
        if (h->delta) {
            g_string_append_c(name, '+');
            ff_0x(name, h->delta, 1);
        }
    } else {
        if (bar >= 0) {
            g_string_append_c(name, '+');
        }
        ff_0x(name, off, 1);
    }
    const char *dec = NULL;
    size_t declen = 0;
    if (h && !unknown) {
        g_string_truncate(f, 0);
        regmap_format(f, h, value, width);
        const char *brace = memchr(f->str, '{', f->len);
        const char *paren = brace ? NULL : strstr(f->str, " (");
        dec = brace ? brace : paren ? paren + 1 : NULL;
        declen = dec ? f->len - (size_t)(dec - f->str) : 0;
    }
    uint64_t pc = unknown ? rec->unknown.pc : rec->rw.pc;
    g_string_truncate(sym, 0);
    bool have_sym = pc && p->syms && symtab_format(p->syms, sym, pc);
    size_t asm_len = rec->ext & MMIOTRACE_EXT_ASM ? rec->asm_len : 0;
    size_t need = 512 + 12 * name->len + 6 * (declen + sym->len + asm_len);

    GString *o = p->s;
    gsize at = o->len;
    g_string_set_size(o, at + need);
    char *w = o->str + at;
    W_LIT(w, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"");
    memcpy(w, kind, strlen(kind));
    w += strlen(kind);
    W_LIT(w, "\",\"name\":");
    w = w_str(w, name->str, name->len);
    W_LIT(w, ",\"ts\":");
    w = w_ts(w, rec->ts_ns);
    W_LIT(w, ",\"pid\":");
    w = w_dec(w, (uint64_t)pid, 1);
    W_LIT(w, ",\"tid\":");
    w = w_dec(w, (uint64_t)tid, 1);
    W_LIT(w, ",\"args\":{\"offset\":\"0x");
    w = w_hex(w, off, 1);
    *w++ = '"';
    if (!unknown) {
        W_LIT(w, ",\"width\":");
        w = w_dec(w, width, 1);
        W_LIT(w, ",\"value\":\"0x");
        w = w_hex(w, value, (int)(2 * width));
        *w++ = '"';
    }
    if (h) {
        W_LIT(w, ",\"register\":");
        w = w_str(w, name->str + bare, name->len - bare);
        if (dec) {
            W_LIT(w, ",\"fields\":");
            w = w_str(w, dec, declen);
        }
    }
    if (pc) {
        W_LIT(w, ",\"pc\":\"0x");
        w = w_hex(w, pc, 1);
        *w++ = '"';
        if (have_sym) {
            W_LIT(w, ",\"function\":");
            w = w_str(w, sym->str, sym->len);
        }
    }
    if (rec->ext & MMIOTRACE_EXT_VCPU) {
        if (rec->vcpu == MMIOTRACE_VCPU_NONE) {
            W_LIT(w, ",\"vcpu\":\"none\"");
        } else {
            W_LIT(w, ",\"vcpu\":");
            w = w_dec(w, (uint64_t)rec->vcpu, 1);
        }
    }
    if (asm_len) {
        W_LIT(w, ",\"asm\":");
        w = w_str(w, rec->asm_text, asm_len);
    }
    W_LIT(w, "}}");
    struct reg_count *c = unknown ? NULL : reg_get(p, dev, bar, off);
    if (c && c->counter) {
        W_LIT(w, ",\n{\"ph\":\"C\",\"name\":");
        w = w_str(w, name->str + bare, name->len - bare);
        W_LIT(w, ",\"ts\":");
        w = w_ts(w, rec->ts_ns);
        W_LIT(w, ",\"pid\":");
        w = w_dec(w, (uint64_t)pid, 1);
        /* a JSON number: exact up to 2^53 */
        W_LIT(w, ",\"args\":{\"value\":");
        w = w_dec(w, value, 1);
        W_LIT(w, "}}");
        p->counters++;
        p->events++; /* emit counts the instant */
    }
    g_string_truncate(o, (gsize)(w - o->str));
    emit(p);
    p->instants++;
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

/* One pass over path: count (first) or write events. */
static int pass(struct pf *p, const char *prog, const char *path, bool skip_bad, bool write)
{
    struct hvmmio_warn warned = {"hvmmio convert", 5, 0};
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return -1;
    }
    mmiotrace_reader_set_policy(r, skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                write ? hvmmio_warn_line : NULL, &warned);
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
    if (!strcmp(argv[1], "-") && ncounters) {
        fprintf(stderr,
                "%s: --to perfetto reads TRACE twice (to choose the counter tracks): give a "
                "file, not stdin, or --counters 0\n",
                argv[0]);
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
        .regs = g_hash_table_new_full(rc_hash, rc_equal, g_free, NULL),
        .threads = g_hash_table_new(g_direct_hash, g_direct_equal),
        .s = g_string_sized_new(1024),
        .key = g_string_sized_new(128),
        .name = g_string_sized_new(128),
        .fields = g_string_sized_new(256),
        .sym = g_string_sized_new(256),
        .first = true,
    };
    int ret = 2;
    g_autoptr(GPtrArray) all = g_ptr_array_new();
    if (!regmap_set_add_all(p.maps, regs, &error) ||
        (symbols && !(p.syms = symtab_load(symbols, &error)))) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        goto out;
    }
    ret = 1;
    if (ncounters && pass(&p, argv[0], argv[1], skip_bad, false) < 0) {
        goto out; /* --counters 0: no first pass */
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
    regmap_set_reset(p.maps);
    p.out = strcmp(argv[2], "-") ? fopen(argv[2], "w") : stdout;
    static char obuf[1 << 16];
    if (p.out) {
        setvbuf(p.out, obuf, _IOFBF, sizeof(obuf));
    }
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
    g_string_free(p.name, TRUE);
    g_string_free(p.fields, TRUE);
    g_string_free(p.sym, TRUE);
    return ret;
}
