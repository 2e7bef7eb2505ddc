/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert --to perfetto: the per-access event (an instant with the access's fields as
 * args: offset, width, value, register, bitfields, PC, function, vCPU, instruction); its
 * register's count and counter sample (spooled: perfetto-counters.c). Written with a cursor
 * into a buffer sized beforehand: this is the hot path of the export.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "fastfmt.h"
#include "mmiotrace.h"
#include "perfetto.h"
#include "regmap.h"
#include "symbols.h"
#include "workbench.h"

#define W_LIT(w, lit) (memcpy((w), (lit), sizeof(lit) - 1), (w) += sizeof(lit) - 1)

/* A word of 8 bytes with none to escape in JSON: no control byte (< 0x20), none >= 0x7f,
 * no '"' and no '\\' (bit tricks: a byte below n, above n, equal to 0). */
static inline bool plain8(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
    uint64_t lt20 = (x - ones * 0x20) & ~x & highs;
    uint64_t ge7f = ((x + ones * (127 - 0x7e)) | x) & highs;
    uint64_t q = x ^ (ones * '"'), b = x ^ (ones * '\\');
    uint64_t zq = (q - ones) & ~q & highs, zb = (b - ones) & ~b & highs;
    return !(lt20 | ge7f | zq | zb);
}

char *pf_w_str(char *w, const char *s, size_t len)
{
    size_t i = 0;
    *w++ = '"';
    for (uint64_t x; i + 8 <= len && (memcpy(&x, s + i, 8), plain8(x)); i += 8) {
        memcpy(w + i, &x, 8);
    }
    while (i < len && (unsigned char)s[i] >= 0x20 && (unsigned char)s[i] < 0x7f && s[i] != '"' &&
           s[i] != '\\') {
        w[i] = s[i];
        i++;
    }
    if (i == len) {
        w += len;
    } else {
        GString *tmp = g_string_new(NULL);
        wb_json_string(tmp, s, len, false); /* the slow path: escapes */
        memcpy(w - 1, tmp->str, tmp->len);
        w += tmp->len - 2;
        g_string_free(tmp, TRUE);
    }
    *w++ = '"';
    return w;
}

char *pf_w_ts(char *w, uint64_t ns)
{
    w = ff_dec_at(w, ns / 1000, 1);
    *w++ = '.';
    return ff_dec_at(w, ns % 1000, 3);
}

/* One access on its way out: where it goes and its texts (in p->name, p->fields). */
struct access {
    const struct mmiotrace_record *rec;
    const struct regmap_hit *h; /* NULL: no register known */
    const char *dev, *kind;
    int bar, pid, tid;
    bool unknown;
    unsigned width;
    uint64_t off, value, pc;
    gsize bare;     /* p->name->str + bare: the register's name alone */
    const char *fj; /* ,"fields":"..." ("" without) */
    size_t fj_len, asm_len;
    const char *pcj; /* ,"pc":...,"function":... ("" without a PC) */
    size_t pcj_len;
};

/* Its device's process and BAR's thread (their metadata events the first time). */
static void access_owner(struct pf *p, struct access *a)
{
    a->pid = pf_dev_pid(p, a->dev);
    a->tid = a->bar >= 0 ? a->bar : 15;
    if (a->bar >= 0) {
        static const char *const tnames[] = {"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM"};
        pf_thread(p, a->pid, a->tid, a->bar < 7 ? tnames[a->bar] : "BAR?");
    } else {
        pf_thread(p, a->pid, a->tid, "unknown BAR");
    }
}

/* The event's name into p->name ("R CTRL", "W +0x5418"). */
static void access_name(struct pf *p, struct access *a)
{
    const struct regmap_hit *h = a->h;
    GString *name = p->name;
    g_string_assign(name, a->kind);
    g_string_append_c(name, ' ');
    a->bare = name->len;
    if (h) {
        ff_put(name, h->name, strlen(h->name));
        if (h->delta) {
            g_string_append_c(name, '+');
            ff_0x(name, h->delta, 1);
        }
    } else {
        if (a->bar >= 0) {
            g_string_append_c(name, '+');
        }
        ff_0x(name, a->off, 1);
    }
}

/* ,"fields":"{...}" of an access to c (kept by c for its last value): into a->fj. */
static void access_fields(struct pf *p, struct access *a, struct reg_count *c)
{
    a->fj = "";
    a->fj_len = 0;
    if (!a->h || a->unknown) {
        return;
    }
    bool kept = c->id < PF_KEPT_REGS;
    if (!kept || !c->fields || c->fv != a->value || c->fw != a->width) {
        GString *f = p->fields;
        g_string_truncate(f, 0);
        if (a->h->delta == 0 && a->width == a->h->reg->width) {
            regmap_format_fields(f, a->h->reg, a->value); /* what regmap_format appends */
        } else {
            regmap_format(f, a->h, a->value, a->width);
        }
        const char *brace = memchr(f->str, '{', f->len);
        const char *paren = brace ? NULL : strstr(f->str, " (");
        const char *dec = brace ? brace : paren ? paren + 1 : NULL;
        size_t len = dec ? f->len - (size_t)(dec - f->str) : 0;
        if (kept && !c->fields) {
            c->fields = g_string_new(NULL);
        }
        GString *j = kept ? c->fields : p->ftmp;
        g_string_set_size(j, 16 + 6 * len);
        char *w = j->str;
        if (dec) {
            W_LIT(w, ",\"fields\":");
            w = pf_w_str(w, dec, len);
        }
        g_string_truncate(j, (gsize)(w - j->str));
        c->fv = a->value;
        c->fw = a->width;
    }
    GString *j = kept ? c->fields : p->ftmp;
    a->fj = j->str;
    a->fj_len = j->len;
}

/* ,"pc":"0x...","function":"..." of a->pc (remembered per PC): into a->pcj. */
static void access_pc(struct pf *p, struct access *a)
{
    uint64_t pc = a->pc;
    struct pc_json *m = &p->pcj[(pc ^ pc >> 10) & (PC_JSON - 1)];
    if (p->syms && symtab_epoch(p->syms) != p->sym_epoch) { /* names changed (symbols.h) */
        memset(p->pcj, 0, PC_JSON * sizeof(*p->pcj));
        p->sym_epoch = symtab_epoch(p->syms);
    }
    if (m->len && m->pc == pc) {
        a->pcj = m->text;
        a->pcj_len = m->len;
        return;
    }
    g_string_truncate(p->sym, 0);
    bool named = p->syms && symtab_format(p->syms, p->sym, pc);
    GString *j = p->pcbuf;
    g_string_set_size(j, 64 + 6 * p->sym->len);
    char *w = j->str;
    W_LIT(w, ",\"pc\":\"0x");
    w = ff_hex_at(w, pc, 1);
    *w++ = '"';
    if (named) {
        W_LIT(w, ",\"function\":");
        w = pf_w_str(w, p->sym->str, p->sym->len);
    }
    size_t len = (size_t)(w - j->str);
    if (p->syms && symtab_epoch(p->syms) != p->sym_epoch) { /* this lookup changed them */
        memset(p->pcj, 0, PC_JSON * sizeof(*p->pcj));
        p->sym_epoch = symtab_epoch(p->syms);
    }
    m->len = len <= sizeof(m->text) ? (unsigned)len : 0;
    if (m->len) {
        memcpy(m->text, j->str, len);
        m->pc = pc;
    }
    a->pcj = j->str;
    a->pcj_len = len;
}

/* The args after the register's name: fields, PC and function, vCPU, instruction. */
static char *w_args(char *w, struct pf *p, const struct access *a)
{
    const struct mmiotrace_record *rec = a->rec;
    memcpy(w, a->fj, a->fj_len);
    w += a->fj_len;
    memcpy(w, a->pcj, a->pcj_len);
    w += a->pcj_len;
    if (rec->ext & MMIOTRACE_EXT_VCPU) {
        if (rec->vcpu == MMIOTRACE_VCPU_NONE) {
            W_LIT(w, ",\"vcpu\":\"none\"");
        } else {
            W_LIT(w, ",\"vcpu\":");
            w = ff_dec_at(w, (uint64_t)rec->vcpu, 1);
        }
    }
    if (a->asm_len) {
        W_LIT(w, ",\"asm\":");
        w = pf_w_str(w, rec->asm_text, a->asm_len);
    }
    return w;
}

/* Room for n + 512 bytes at the end of p->s: the cursor (p->s->len unchanged). */
static char *reserve(struct pf *p, size_t n)
{
    ff_room(p->s, n + 512);
    return p->s->str + p->s->len;
}

/* What was written at the cursor up to w is p->s's. */
static void commit(struct pf *p, char *w)
{
    p->s->len = (gsize)(w - p->s->str);
    p->s->str[p->s->len] = 0;
}

/* The event's constant parts, kept by its register (c: NULL for an UNKNOWN access). */
static void parts(struct pf *p, struct access *a, GString *head, GString *mid, GString *reg)
{
    access_name(p, a);
    char *w = reserve(p, 64 + 12 * p->name->len), *start = w;
    W_LIT(w, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"");
    memcpy(w, a->kind, strlen(a->kind));
    w += strlen(a->kind);
    W_LIT(w, "\",\"name\":");
    w = pf_w_str(w, p->name->str, p->name->len);
    W_LIT(w, ",\"ts\":");
    g_string_append_len(head, start, w - start);
    w = start;
    W_LIT(w, ",\"pid\":");
    w = ff_dec_at(w, (uint64_t)a->pid, 1);
    W_LIT(w, ",\"tid\":");
    w = ff_dec_at(w, (uint64_t)a->tid, 1);
    W_LIT(w, ",\"args\":{\"offset\":\"0x");
    w = ff_hex_at(w, a->off, 1);
    *w++ = '"';
    g_string_append_len(mid, start, w - start);
    if (a->h) {
        w = start;
        W_LIT(w, ",\"register\":");
        w = pf_w_str(w, p->name->str + a->bare, p->name->len - a->bare);
        g_string_append_len(reg, start, w - start);
    }
}

/* Write the event from its parts. */
static void write_event(struct pf *p, const struct access *a, const GString *head,
                        const GString *mid, const GString *reg)
{
    const struct mmiotrace_record *rec = a->rec;
    pf_open(p);
    char *w = reserve(p, head->len + mid->len + reg->len + a->pcj_len + a->fj_len + 6 * a->asm_len);
    memcpy(w, head->str, head->len);
    w = pf_w_ts(w + head->len, rec->ts_ns);
    memcpy(w, mid->str, mid->len);
    w += mid->len;
    if (!a->unknown) {
        W_LIT(w, ",\"width\":");
        w = ff_dec_at(w, a->width, 1);
        W_LIT(w, ",\"value\":\"0x");
        w = ff_hex_at(w, a->value, (int)(2 * a->width));
        *w++ = '"';
    }
    memcpy(w, reg->str, reg->len);
    w = w_args(w + reg->len, p, a);
    W_LIT(w, "}}");
    commit(p, w);
    pf_emit(p);
    p->instants++;
}

/* The access counts for c (its counter track's name the first time) and is spooled. */
static void counted(struct pf *p, const struct access *a, struct reg_count *c)
{
    if (!c->cname) {
        char *w = reserve(p, 12 * (p->name->len - a->bare)), *start = w;
        w = pf_w_str(w, p->name->str + a->bare, p->name->len - a->bare);
        c->cname = g_strndup(start, (gsize)(w - start));
        c->pid = a->pid;
    }
    c->count++;
    if (p->spool) {
        pf_spool_sample(p, c, a->rec->ts_ns, a->value);
    }
}

void pf_access_event(struct pf *p, const struct mmiotrace_record *rec)
{
    struct access a = {.rec = rec, .unknown = rec->type == MMIOTRACE_UNKNOWN};
    a.h = pf_locate(p, rec, &a.dev, &a.bar, &a.off);
    a.width = a.unknown ? 0 : rec->rw.width;
    uint64_t mask = a.width >= 8 ? UINT64_MAX : (1ull << (8 * a.width)) - 1;
    a.value = a.unknown ? 0 : rec->rw.value & mask;
    a.kind = a.unknown ? "UNKNOWN" : rec->type == MMIOTRACE_READ ? "R" : "W";
    a.pc = a.unknown ? rec->unknown.pc : rec->rw.pc;
    a.asm_len = rec->ext & MMIOTRACE_EXT_ASM ? rec->asm_len : 0;
    a.fj = a.pcj = "";
    if (a.pc) {
        access_pc(p, &a);
    }
    struct reg_count *c = a.unknown ? NULL : pf_reg_get(p, a.dev, a.bar, a.off);
    if (!c || c->id >= PF_KEPT_REGS) { /* no register, or too many: nothing kept */
        if (c) {
            access_fields(p, &a, c);
        }
        g_autoptr(GString) head = g_string_new(NULL), mid = g_string_new(NULL);
        g_autoptr(GString) reg = g_string_new(NULL);
        access_owner(p, &a);
        parts(p, &a, head, mid, reg);
        write_event(p, &a, head, mid, reg);
        if (c) {
            counted(p, &a, c);
        }
        return;
    }
    int k = rec->type == MMIOTRACE_WRITE;
    if (!c->head[k]) {
        access_owner(p, &a);
        c->head[k] = g_string_new(NULL);
        if (!c->mid) {
            c->mid = g_string_new(NULL);
            c->reg = g_string_new(NULL);
            parts(p, &a, c->head[k], c->mid, c->reg);
        } else {
            g_autoptr(GString) mid = g_string_new(NULL), reg = g_string_new(NULL);
            parts(p, &a, c->head[k], mid, reg);
        }
    }
    access_fields(p, &a, c);
    write_event(p, &a, c->head[k], c->mid, c->reg);
    counted(p, &a, c);
}
