/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert --to perfetto: the per-access event (an instant with the access's fields as
 * args: offset, width, value, register, bitfields, PC, function, vCPU, instruction) and, for
 * one of the busiest registers, its counter sample. Written with a cursor into a buffer sized
 * beforehand: this is the hot path of the export.
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
        wb_json_string(tmp, s, len, false); /* the slow path: escapes */
        memcpy(w - 1, tmp->str, tmp->len);
        w += tmp->len - 2;
        g_string_free(tmp, TRUE);
    }
    *w++ = '"';
    return w;
}

static char *w_ts(char *w, uint64_t ns)
{
    w = ff_dec_at(w, ns / 1000, 1);
    *w++ = '.';
    return ff_dec_at(w, ns % 1000, 3);
}

/* One access on its way out: where it goes and its texts (in p->name, p->fields, p->sym). */
struct access {
    const struct mmiotrace_record *rec;
    const struct regmap_hit *h; /* NULL: no register known */
    const char *dev, *kind;
    int bar, pid, tid;
    bool unknown, have_sym;
    unsigned width;
    uint64_t off, value, pc;
    gsize bare;      /* p->name->str + bare: the register's name alone */
    const char *dec; /* the decoded fields (in p->fields), or NULL */
    size_t declen, asm_len;
};

/* Its device's process, its BAR's thread, its value. */
static void access_place(struct pf *p, struct access *a)
{
    const struct mmiotrace_record *rec = a->rec;
    a->h = pf_locate(p, rec, &a->dev, &a->bar, &a->off);
    a->pid = pf_dev_pid(p, a->dev);
    a->tid = a->bar >= 0 ? a->bar : 15;
    if (a->bar >= 0) {
        static const char *const tnames[] = {"BAR0", "BAR1", "BAR2", "BAR3", "BAR4", "BAR5", "ROM"};
        pf_thread(p, a->pid, a->tid, a->bar < 7 ? tnames[a->bar] : "BAR?");
    } else {
        pf_thread(p, a->pid, a->tid, "unknown BAR");
    }
    a->unknown = rec->type == MMIOTRACE_UNKNOWN;
    a->width = a->unknown ? 0 : rec->rw.width;
    uint64_t mask = a->width >= 8 ? UINT64_MAX : (1ull << (8 * a->width)) - 1;
    a->value = a->unknown ? 0 : rec->rw.value & mask;
    a->kind = a->unknown ? "UNKNOWN" : rec->type == MMIOTRACE_READ ? "R" : "W";
}

/* The variable parts: the event's name, the decoded fields, the function. */
static void access_texts(struct pf *p, struct access *a)
{
    const struct regmap_hit *h = a->h;
    GString *name = p->name, *f = p->fields, *sym = p->sym;
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
    a->dec = NULL;
    a->declen = 0;
    if (h && !a->unknown) {
        g_string_truncate(f, 0);
        regmap_format(f, h, a->value, a->width);
        const char *brace = memchr(f->str, '{', f->len);
        const char *paren = brace ? NULL : strstr(f->str, " (");
        a->dec = brace ? brace : paren ? paren + 1 : NULL;
        a->declen = a->dec ? f->len - (size_t)(a->dec - f->str) : 0;
    }
    a->pc = a->unknown ? a->rec->unknown.pc : a->rec->rw.pc;
    g_string_truncate(sym, 0);
    a->have_sym = a->pc && p->syms && symtab_format(p->syms, sym, a->pc);
    a->asm_len = a->rec->ext & MMIOTRACE_EXT_ASM ? a->rec->asm_len : 0;
}

/* The instant's args, after the offset. */
static char *w_args(char *w, const struct pf *p, const struct access *a)
{
    const struct mmiotrace_record *rec = a->rec;
    const GString *name = p->name;
    if (!a->unknown) {
        W_LIT(w, ",\"width\":");
        w = ff_dec_at(w, a->width, 1);
        W_LIT(w, ",\"value\":\"0x");
        w = ff_hex_at(w, a->value, (int)(2 * a->width));
        *w++ = '"';
    }
    if (a->h) {
        W_LIT(w, ",\"register\":");
        w = w_str(w, name->str + a->bare, name->len - a->bare);
        if (a->dec) {
            W_LIT(w, ",\"fields\":");
            w = w_str(w, a->dec, a->declen);
        }
    }
    if (a->pc) {
        W_LIT(w, ",\"pc\":\"0x");
        w = ff_hex_at(w, a->pc, 1);
        *w++ = '"';
        if (a->have_sym) {
            W_LIT(w, ",\"function\":");
            w = w_str(w, p->sym->str, p->sym->len);
        }
    }
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
        w = w_str(w, rec->asm_text, a->asm_len);
    }
    return w;
}

/* The counter sample of one of the busiest registers. */
static char *w_counter(char *w, struct pf *p, const struct access *a)
{
    const GString *name = p->name;
    W_LIT(w, ",\n{\"ph\":\"C\",\"name\":");
    w = w_str(w, name->str + a->bare, name->len - a->bare);
    W_LIT(w, ",\"ts\":");
    w = w_ts(w, a->rec->ts_ns);
    W_LIT(w, ",\"pid\":");
    w = ff_dec_at(w, (uint64_t)a->pid, 1);
    /* a JSON number: exact up to 2^53 */
    W_LIT(w, ",\"args\":{\"value\":");
    w = ff_dec_at(w, a->value, 1);
    W_LIT(w, "}}");
    p->counters++;
    p->events++; /* emit counts the instant */
    return w;
}

void pf_access_event(struct pf *p, const struct mmiotrace_record *rec)
{
    struct access a = {.rec = rec};
    access_place(p, &a);
    access_texts(p, &a);
    size_t need = 512 + 12 * p->name->len + 6 * (a.declen + p->sym->len + a.asm_len);

    GString *o = p->s;
    gsize at = o->len;
    g_string_set_size(o, at + need);
    char *w = o->str + at;
    W_LIT(w, "{\"ph\":\"i\",\"s\":\"t\",\"cat\":\"");
    memcpy(w, a.kind, strlen(a.kind));
    w += strlen(a.kind);
    W_LIT(w, "\",\"name\":");
    w = w_str(w, p->name->str, p->name->len);
    W_LIT(w, ",\"ts\":");
    w = w_ts(w, rec->ts_ns);
    W_LIT(w, ",\"pid\":");
    w = ff_dec_at(w, (uint64_t)a.pid, 1);
    W_LIT(w, ",\"tid\":");
    w = ff_dec_at(w, (uint64_t)a.tid, 1);
    W_LIT(w, ",\"args\":{\"offset\":\"0x");
    w = ff_hex_at(w, a.off, 1);
    *w++ = '"';
    w = w_args(w, p, &a);
    W_LIT(w, "}}");
    struct reg_count *c = a.unknown ? NULL : pf_reg_get(p, a.dev, a.bar, a.off);
    if (c && c->counter) {
        w = w_counter(w, p, &a);
    }
    g_string_truncate(o, (gsize)(w - o->str));
    pf_emit(p);
    p->instants++;
}
