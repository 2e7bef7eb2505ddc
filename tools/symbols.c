/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Guest symbols for PCs: kallsyms/System.map text, ELF symbol tables (libelf). */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fastfmt.h"
#include "regmap.h"
#include "symbols.h"

#define PC_CACHE 4096        /* lookups remembered */
#define FMT_MEMO 1024        /* formatted PCs remembered */
#define NOSIZE_SPAN 0x100000 /* a symbol without size covers at most 1 MiB up to the next */

struct sym {
    uint64_t addr, size; /* size 0: up to the next symbol */
    const char *name, *module;
    unsigned inst; /* 0: none; else its module instance's index + 1 */
};

/* A module as loaded once (a "# hvmmio-module" header in a kallsyms file, as the guest saves
 * them): its symbols are valid from its load to its unload, in the guest's event order. */
struct instance {
    uint64_t lo, hi;           /* its code */
    uint64_t loaded, unloaded; /* event numbers (unloaded UINT64_MAX: never) */
    bool sized;                /* lo, hi from the header; else from its symbols */
};

struct symtab {
    GArray *syms;   /* struct sym, sorted by addr once lookups start */
    GArray *insts;  /* struct instance */
    unsigned cur;   /* the instance the symbols being read belong to (0: none) */
    uint64_t bound; /* the guest event reached at least: the latest load evidenced by a PC */
    unsigned epoch; /* bumped when bound changes (answers may change) */
    GStringChunk *strings;
    bool sorted;
    struct pc_cache {
        uint64_t pc;
        const struct sym *sym; /* NULL: no symbol covers pc */
        bool valid;
    } cache[PC_CACHE]; /* recent lookups, direct-mapped (cleared when symbols are added) */
    struct fmt_memo {
        uint64_t pc;
        unsigned len; /* 0: empty */
        char text[116];
    } memo[FMT_MEMO]; /* symtab_format's recent answers (likewise) */
};

struct symtab *symtab_new(void)
{
    struct symtab *t = g_new0(struct symtab, 1);
    t->syms = g_array_new(FALSE, FALSE, sizeof(struct sym));
    t->insts = g_array_new(FALSE, FALSE, sizeof(struct instance));
    t->strings = g_string_chunk_new(1 << 16);
    return t;
}

void symtab_free(struct symtab *t)
{
    if (!t) {
        return;
    }
    g_array_free(t->syms, TRUE);
    g_array_free(t->insts, TRUE);
    g_string_chunk_free(t->strings);
    g_free(t);
}

unsigned symtab_size(const struct symtab *t)
{
    return t->syms->len;
}

static void add(struct symtab *t, uint64_t addr, uint64_t size, const char *name,
                const char *module)
{
    struct sym s = {addr, size, g_string_chunk_insert_const(t->strings, name),
                    module ? g_string_chunk_insert_const(t->strings, module) : NULL, t->cur};
    g_array_append_val(t->syms, s);
    struct instance *in = t->cur ? &g_array_index(t->insts, struct instance, t->cur - 1) : NULL;
    if (in && !in->sized) {
        in->lo = MIN(in->lo, addr);
        in->hi = MAX(in->hi, addr + (size ? size : 4096));
    }
    if (t->sorted) {
        memset(t->cache, 0, sizeof(t->cache));
        memset(t->memo, 0, sizeof(t->memo));
    }
    t->sorted = false;
}

static bool sfail(GError **error, const char *file, unsigned line, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);
static bool sfail(GError **error, const char *file, unsigned line, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    if (line) {
        g_set_error(error, regmap_error_quark(), 1, "%s:%u: %s", file, line, msg);
    } else {
        g_set_error(error, regmap_error_quark(), 1, "%s: %s", file, msg);
    }
    return false;
}

/* "# hvmmio-module NAME TEXT SIZE loaded=N unloaded=N|-": the symbols that follow are that
 * instance's, its code TEXT (hex) to TEXT + SIZE (0: up to its last symbol + 4 KiB); other
 * comments are skipped. False if malformed. */
static bool instance_header(struct symtab *t, const char *l)
{
    char name[128], unloaded[32];
    uint64_t loaded, text, size;
    if (!g_str_has_prefix(l, "# hvmmio-module ")) {
        return true;
    }
    if (sscanf(l, "# hvmmio-module %127s %" SCNx64 " %" SCNu64 " loaded=%" SCNu64 " unloaded=%31s",
               name, &text, &size, &loaded, unloaded) != 5) {
        return false;
    }
    struct instance in = {size ? text : UINT64_MAX, size ? text + size : 0, loaded, UINT64_MAX,
                          size != 0};
    if (strcmp(unloaded, "-")) {
        char *e;
        in.unloaded = g_ascii_strtoull(unloaded, &e, 10);
        if (*e || in.unloaded < loaded) {
            return false;
        }
    }
    g_array_append_val(t->insts, in);
    t->cur = t->insts->len;
    return true;
}

/* kallsyms / System.map: "ADDR TYPE NAME [MODULE]" per line; text symbols (t, T, w, W). A
 * "# hvmmio-module" header starts a module instance's symbols (instance_header). */
static bool add_text(struct symtab *t, const char *path, const char *data, size_t len,
                     GError **error)
{
    unsigned line = 0, added = 0, zero = 0;
    const char *p = data, *end = data + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', end - p);
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        g_autofree char *l = g_strndup(p, n);
        p += n + (nl != NULL);
        line++;
        g_strstrip(l);
        if (*l == '#') {
            if (!instance_header(t, l)) {
                return sfail(error, path, line,
                             "bad module header (# hvmmio-module NAME ADDR loaded=N "
                             "unloaded=N|-)");
            }
            continue;
        }
        if (!*l) {
            continue;
        }
        char *f[5] = {0};
        int nf = 0;
        for (char *tok = strtok(l, " \t"); tok && nf < 5; tok = strtok(NULL, " \t")) {
            f[nf++] = tok;
        }
        char *e;
        errno = 0;
        uint64_t addr = f[0] ? g_ascii_strtoull(f[0], &e, 16) : 0;
        if (nf < 3 || nf > 4 || errno || *e || strlen(f[1]) != 1 ||
            (nf == 4 && (f[3][0] != '[' || f[3][strlen(f[3]) - 1] != ']'))) {
            return sfail(error, path, line,
                         "not a kallsyms or System.map line (ADDRESS TYPE NAME [MODULE])");
        }
        char type = f[1][0];
        if (type != 't' && type != 'T' && type != 'w' && type != 'W') {
            continue;
        }
        if (!addr) {
            zero++;
            continue;
        }
        if (nf == 4) {
            f[3][strlen(f[3]) - 1] = 0;
        }
        add(t, addr, 0, f[2], nf == 4 ? f[3] + 1 : NULL);
        added++;
    }
    t->cur = 0; /* the next file starts outside any instance */
    if (!added) {
        return sfail(error, path, 0,
                     zero ? "every text symbol has address 0 (kallsyms read without root?)"
                          : "no text symbols (t/T/w/W lines) in this file");
    }
    return true;
}

/* The function symbols of the ELF's symbol tables (in executable sections; of a relocatable
 * object, in .text, at base): how many. */
static unsigned add_elf_symbols(struct symtab *t, Elf *elf, size_t shstrndx, bool rel,
                                uint64_t base, const char *module)
{
    unsigned added = 0;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn));) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || (sh.sh_type != SHT_SYMTAB && sh.sh_type != SHT_DYNSYM) ||
            !sh.sh_entsize) {
            continue;
        }
        Elf_Data *data = elf_getdata(scn, NULL);
        size_t n = data ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; i < n; i++) {
            GElf_Sym s;
            if (!gelf_getsym(data, (int)i, &s)) {
                break;
            }
            int type = GELF_ST_TYPE(s.st_info);
            if ((type != STT_FUNC && type != STT_NOTYPE) || s.st_shndx == SHN_UNDEF ||
                s.st_shndx >= SHN_LORESERVE) {
                continue;
            }
            const char *name = elf_strptr(elf, sh.sh_link, s.st_name);
            if (!name || !*name || name[0] == '$' || !strncmp(name, ".L", 2)) {
                continue;
            }
            /* executable code only */
            Elf_Scn *in = elf_getscn(elf, s.st_shndx);
            GElf_Shdr ish;
            if (!in || !gelf_getshdr(in, &ish) || !(ish.sh_flags & SHF_EXECINSTR)) {
                continue;
            }
            uint64_t addr = s.st_value;
            if (rel) {
                const char *sname = elf_strptr(elf, shstrndx, ish.sh_name);
                if (!sname || strcmp(sname, ".text")) {
                    continue; /* only .text's address is given */
                }
                addr += base;
            } else {
                addr += base; /* FILE@ADDR on an executable: a load bias */
            }
            add(t, addr, s.st_size, name, module);
            added++;
        }
    }
    return added;
}

static bool add_elf(struct symtab *t, const char *path, const char *at, GError **error)
{
    bool ok = false;
    uint64_t base = 0;
    g_autofree char *module = NULL;
    if (at) {
        char *e;
        errno = 0;
        base = g_ascii_strtoull(at, &e, 16);
        if (!*at || *e || errno) {
            return sfail(error, path, 0, "'@%s' is not a hex .text address", at);
        }
    }
    if (elf_version(EV_CURRENT) == EV_NONE) {
        return sfail(error, path, 0, "libelf: %s", elf_errmsg(-1));
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return sfail(error, path, 0, "%s", g_strerror(errno));
    }
    Elf *elf = elf_begin(fd, ELF_C_READ, NULL);
    GElf_Ehdr eh;
    if (!elf || elf_kind(elf) != ELF_K_ELF || !gelf_getehdr(elf, &eh)) {
        sfail(error, path, 0, "not an ELF file: %s", elf_errmsg(-1));
        goto out;
    }
    bool rel = eh.e_type == ET_REL;
    if (rel && !at) {
        sfail(error, path, 0,
              "a relocatable object (a kernel module): give its .text address as FILE@ADDR "
              "(/sys/module/NAME/sections/.text)");
        goto out;
    }
    size_t shstrndx;
    if (elf_getshdrstrndx(elf, &shstrndx)) {
        sfail(error, path, 0, "no section names: %s", elf_errmsg(-1));
        goto out;
    }
    if (rel) {
        g_autofree char *b = g_path_get_basename(path);
        char *dot = strstr(b, ".ko");
        if (dot) {
            *dot = 0;
        }
        module = g_strdup(b);
    }
    if (!add_elf_symbols(t, elf, shstrndx, rel, base, module)) {
        sfail(error, path, 0, "no function symbols (stripped?)");
        goto out;
    }
    ok = true;
out:
    if (elf) {
        elf_end(elf);
    }
    close(fd);
    return ok;
}

bool symtab_add(struct symtab *t, const char *spec, GError **error)
{
    g_autofree char *path = g_strdup(spec);
    char *at = strrchr(path, '@');
    if (at && !strchr(at, '/')) {
        *at++ = 0;
    } else {
        at = NULL;
    }
    /* zlib reads plain and gzip'ed files alike (the guest saves kallsyms-modules.txt.gz) */
    gzFile gz = gzopen(path, "rb");
    if (!gz) {
        return sfail(error, path, 0, "%s", g_strerror(errno ? errno : ENOMEM));
    }
    GByteArray *buf = g_byte_array_new();
    char chunk[65536];
    int n;
    while ((n = gzread(gz, chunk, sizeof(chunk))) > 0) {
        g_byte_array_append(buf, (const guint8 *)chunk, (guint)n);
    }
    int zerr;
    const char *zmsg = n < 0 ? gzerror(gz, &zerr) : NULL;
    g_autofree char *zcopy = g_strdup(zmsg);
    bool compressed = !gzdirect(gz);
    gzclose(gz);
    gsize len = buf->len;
    g_autofree char *data = (char *)g_byte_array_free(buf, FALSE);
    if (zcopy) {
        return sfail(error, path, 0, "%s", zcopy);
    }
    if (compressed && len >= 4 && !memcmp(data, "\177ELF", 4)) {
        return sfail(error, path, 0, "a compressed ELF: decompress it first");
    }
    if (len >= 4 && !memcmp(data, "\177ELF", 4)) {
        return add_elf(t, path, at, error);
    }
    if (at) {
        return sfail(error, path, 0, "FILE@ADDR is for ELF files; this is text");
    }
    return add_text(t, path, data, len, error);
}

struct symtab *symtab_load(char **specs, GError **error)
{
    struct symtab *t = symtab_new();

    for (char **sp = specs; sp && *sp; sp++) {
        if (!symtab_add(t, *sp, error)) {
            symtab_free(t);
            return NULL;
        }
    }
    return t;
}

static gint sym_order(gconstpointer a, gconstpointer b)
{
    const struct sym *x = a, *y = b;
    if (x->addr != y->addr) {
        return x->addr < y->addr ? -1 : 1;
    }
    /* at one address: a sized symbol (a function) before a label */
    return (x->size == 0) - (y->size == 0);
}

/* A PC of instance i was seen: the guest got at least to its load. */
static void evidence(struct symtab *t, const struct instance *i)
{
    if (i->loaded > t->bound) {
        t->bound = i->loaded;
        t->epoch++;
        memset(t->cache, 0, sizeof(t->cache));
        memset(t->memo, 0, sizeof(t->memo));
    }
}

/* The module instance whose symbols name pc (index + 1; 0: the symbols outside instances).
 * Where several instances held pc's address in turn: the one loaded at the guest event
 * reached (bound), else the next one loaded after it, else the last. */
static unsigned choose_instance(struct symtab *t, uint64_t pc)
{
    unsigned n = 0, only = 0, alive = 0, next = 0, last = 0;
    for (guint i = 0; i < t->insts->len; i++) {
        const struct instance *in = &g_array_index(t->insts, struct instance, i);
        if (pc < in->lo || pc >= in->hi) {
            continue;
        }
        n++;
        only = i + 1;
        const struct instance *a = alive ? &g_array_index(t->insts, struct instance, alive - 1) : 0;
        const struct instance *x = next ? &g_array_index(t->insts, struct instance, next - 1) : 0;
        const struct instance *l = last ? &g_array_index(t->insts, struct instance, last - 1) : 0;
        if (in->loaded <= t->bound && t->bound < in->unloaded && (!a || in->loaded > a->loaded)) {
            alive = i + 1;
        }
        if (in->loaded > t->bound && (!x || in->loaded < x->loaded)) {
            next = i + 1;
        }
        if (!l || in->loaded > l->loaded) {
            last = i + 1;
        }
    }
    if (n == 1) {
        evidence(t, &g_array_index(t->insts, struct instance, only - 1));
        return only;
    }
    return alive ? alive : next ? next : last;
}

/* The symbol of instance inst (0: outside instances) holding pc, or NULL. */
static const struct sym *find(struct symtab *t, uint64_t pc, unsigned inst)
{
    guint lo = 0, hi = t->syms->len; /* the last symbol with addr <= pc */
    while (lo < hi) {
        guint mid = lo + (hi - lo) / 2;
        if (g_array_index(t->syms, struct sym, mid).addr <= pc) {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    /* other instances' symbols may lie between (a bounded walk) */
    guint i = lo, steps = 0;
    while (i && g_array_index(t->syms, struct sym, i - 1).inst != inst && ++steps < 65536) {
        i--;
    }
    if (!i || g_array_index(t->syms, struct sym, i - 1).inst != inst) {
        return NULL;
    }
    i--;
    /* the first of its symbols at that address (sorted: the sized one) */
    const struct sym *s = &g_array_index(t->syms, struct sym, i);
    for (guint j = i; j && g_array_index(t->syms, struct sym, j - 1).addr == s->addr; j--) {
        if (g_array_index(t->syms, struct sym, j - 1).inst == inst) {
            s = &g_array_index(t->syms, struct sym, j - 1);
        }
    }
    uint64_t span = s->size ? s->size : NOSIZE_SPAN;
    return pc - s->addr < span ? s : NULL;
}

bool symtab_lookup(struct symtab *t, uint64_t pc, const char **name, uint64_t *off,
                   const char **module)
{
    if (!t->sorted) {
        g_array_sort(t->syms, sym_order);
        t->sorted = true;
    }
    const struct sym *s = NULL;
    struct pc_cache *c = &t->cache[(pc ^ pc >> 12) & (PC_CACHE - 1)];
    if (c->valid && c->pc == pc) {
        s = c->sym;
    } else {
        s = find(t, pc, t->insts->len ? choose_instance(t, pc) : 0);
        c->pc = pc; /* after choose_instance, which may clear the cache */
        c->sym = s;
        c->valid = true;
    }
    if (!s) {
        return false;
    }
    *name = s->name;
    *off = pc - s->addr;
    *module = s->module;
    return true;
}

unsigned symtab_epoch(const struct symtab *t)
{
    return t->epoch;
}

bool symtab_format(struct symtab *t, GString *out, uint64_t pc)
{
    const char *name, *module;
    uint64_t off;
    struct fmt_memo *m = &t->memo[(pc ^ pc >> 10) & (FMT_MEMO - 1)];
    if (m->len && m->pc == pc) {
        ff_put(out, m->text, m->len);
        return true;
    }
    if (!symtab_lookup(t, pc, &name, &off, &module)) {
        return false;
    }
    gsize start = out->len;
    g_string_append(out, name);
    g_string_append_c(out, '+');
    ff_0x(out, off, 1);
    if (module) {
        g_string_append(out, " [");
        g_string_append(out, module);
        g_string_append_c(out, ']');
    }
    gsize len = out->len - start;
    m->len = len < sizeof(m->text) ? (unsigned)len : 0;
    if (m->len) {
        memcpy(m->text, out->str + start, len);
        m->pc = pc;
    }
    return true;
}

void fact_quote(GString *out, const char *v, size_t len)
{
    bool plain = len > 0;
    for (size_t i = 0; i < len && plain; i++) {
        unsigned char c = (unsigned char)v[i];
        plain = c > 0x20 && c != 0x7f && c != '"' && c != '\\';
    }
    if (plain) {
        g_string_append_len(out, v, (gssize)len);
        return;
    }
    g_string_append_c(out, '"');
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)v[i];
        switch (c) {
        case '\\':
            g_string_append(out, "\\\\");
            break;
        case '"':
            g_string_append(out, "\\\"");
            break;
        case '\n':
            g_string_append(out, "\\n");
            break;
        case '\t':
            g_string_append(out, "\\t");
            break;
        case '\r':
            g_string_append(out, "\\r");
            break;
        default:
            if (c < 0x20 || c == 0x7f) {
                g_string_append_printf(out, "\\x%02x", c);
            } else {
                g_string_append_c(out, (char)c);
            }
        }
    }
    g_string_append_c(out, '"');
}
