/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert --to perfetto: the output state (interned device names, one process per
 * device and one thread per BAR, each announced by a metadata event the first time, the
 * registers' access counts) and the events other than accesses: interrupts, MAP/UNMAP,
 * markers and losses.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "fastfmt.h"
#include "mmiotrace.h"
#include "perfetto.h"
#include "regmap.h"
#include "workbench.h"

const char *pf_intern(struct pf *p, const char *s, size_t len)
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

static void jts(GString *o, uint64_t ns)
{
    ff_dec(o, ns / 1000, 1);
    g_string_append_c(o, '.');
    ff_dec(o, ns % 1000, 3);
}

#define FLUSH_AT (1 << 18) /* bytes of events written at once */

void pf_open(struct pf *p)
{
    if (!p->first) {
        FF_LIT(p->s, ",\n");
    }
    p->first = false;
}

void pf_flush(struct pf *p)
{
    fwrite(p->s->str, 1, p->s->len, p->out);
    g_string_truncate(p->s, 0);
}

void pf_emit(struct pf *p)
{
    p->events++;
    if (p->s->len >= FLUSH_AT) {
        pf_flush(p);
    }
}

int pf_dev_pid(struct pf *p, const char *dev)
{
    gpointer v = g_hash_table_lookup(p->devs, dev);
    if (v) {
        return GPOINTER_TO_INT(v);
    }
    int pid = (int)g_hash_table_size(p->devs) + 1;
    g_hash_table_insert(p->devs, (gpointer)dev, GINT_TO_POINTER(pid));
    pf_open(p);
    g_string_append_printf(
        p->s, "{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":%d,\"args\":{\"name\":", pid);
    wb_json_string(p->s, dev, strlen(dev), false);
    g_string_append(p->s, "}}");
    pf_emit(p);
    return pid;
}

void pf_thread(struct pf *p, int pid, int tid, const char *name)
{
    gpointer k = GINT_TO_POINTER(pid << 8 | tid);
    if (g_hash_table_contains(p->threads, k)) {
        return;
    }
    g_hash_table_add(p->threads, k);
    pf_open(p);
    g_string_append_printf(p->s,
                           "{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":%d,\"tid\":%d,"
                           "\"args\":{\"name\":\"%s\"}}",
                           pid, tid, name);
    pf_emit(p);
}

const struct regmap_hit *pf_locate(struct pf *p, const struct mmiotrace_record *rec,
                                   const char **dev, int *bar, uint64_t *off)
{
    *bar = -1;
    *off = rec->type == MMIOTRACE_UNKNOWN ? rec->unknown.phys : rec->rw.phys;
    const struct regmap_hit *h = regmap_set_resolve(p->maps, rec, bar, off);
    *dev = rec->ext & MMIOTRACE_EXT_DEV ? pf_intern(p, rec->dev, rec->dev_len)
                                        : pf_intern(p, "device", 6);
    return h && h->reg ? h : NULL;
}

struct reg_count *pf_reg_get(struct pf *p, const char *dev, int bar, uint64_t off)
{
    struct wb_reg_key k = {dev, bar, off};
    struct reg_count **slot = &p->regc[(off ^ off >> 8 ^ (uint64_t)bar << 4) & 255];
    struct reg_count *c = *slot;
    if (c && c->k.dev == dev && c->k.bar == bar && c->k.off == off) {
        return c;
    }
    c = g_hash_table_lookup(p->regs, &k);
    if (!c) {
        c = g_new0(struct reg_count, 1);
        c->k = k;
        c->id = p->reg_list->len;
        g_ptr_array_add(p->reg_list, c);
        g_hash_table_insert(p->regs, &c->k, c);
    }
    *slot = c;
    return c;
}

static void reg_count_free(gpointer v)
{
    struct reg_count *c = v;
    g_free(c->cname);
    for (int i = 0; i < 2; i++) {
        if (c->head[i]) {
            g_string_free(c->head[i], TRUE);
        }
    }
    if (c->mid) {
        g_string_free(c->mid, TRUE);
        g_string_free(c->reg, TRUE);
    }
    if (c->fields) {
        g_string_free(c->fields, TRUE);
    }
    g_free(c);
}

void pf_init(struct pf *p)
{
    *p = (struct pf){
        .maps = regmap_set_new(),
        .devs = g_hash_table_new(g_str_hash, g_str_equal),
        .names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL),
        .regs = g_hash_table_new_full(wb_reg_key_hash, wb_reg_key_equal, NULL, reg_count_free),
        .reg_list = g_ptr_array_new(),
        .pcj = g_new0(struct pc_json, PC_JSON),
        .threads = g_hash_table_new(g_direct_hash, g_direct_equal),
        .s = g_string_sized_new(FLUSH_AT + 4096),
        .name = g_string_sized_new(128),
        .fields = g_string_sized_new(256),
        .sym = g_string_sized_new(256),
        .pcbuf = g_string_sized_new(256),
        .ftmp = g_string_sized_new(256),
        .first = true,
    };
}

void pf_free(struct pf *p)
{
    regmap_set_free(p->maps);
    symtab_free(p->syms);
    g_hash_table_destroy(p->devs);
    g_hash_table_destroy(p->names);
    g_hash_table_destroy(p->regs);
    g_hash_table_destroy(p->threads);
    g_ptr_array_free(p->reg_list, TRUE);
    g_free(p->pcj);
    g_free(p->sbuf);
    if (p->spool) {
        fclose(p->spool);
    }
    g_string_free(p->s, TRUE);
    g_string_free(p->name, TRUE);
    g_string_free(p->fields, TRUE);
    g_string_free(p->sym, TRUE);
    g_string_free(p->pcbuf, TRUE);
    g_string_free(p->ftmp, TRUE);
}

void pf_other_event(struct pf *p, const struct mmiotrace_record *rec)
{
    GString *o = p->s;
    const char *dev = rec->ext & MMIOTRACE_EXT_DEV ? pf_intern(p, rec->dev, rec->dev_len)
                                                   : pf_intern(p, "device", 6);
    switch (rec->type) {
    case MMIOTRACE_IRQ: {
        static const char *const kinds[] = {"INTx", "MSI", "MSI-X"};
        int pid = pf_dev_pid(p, dev);
        pf_thread(p, pid, TID_IRQ, "interrupts");
        pf_open(p);
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
        int pid = pf_dev_pid(p, dev);
        pf_thread(p, pid, TID_MAP, "mappings");
        pf_open(p);
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
        pf_open(p);
        g_string_append(o, "{\"ph\":\"i\",\"s\":\"g\",\"cat\":\"MARK\",\"name\":");
        wb_json_string(o, rec->mark.text, rec->mark.len, false);
        g_string_append(o, ",\"ts\":");
        jts(o, rec->ts_ns);
        g_string_append(o, ",\"pid\":0,\"tid\":0}");
        break;
    case MMIOTRACE_LOST:
        pf_open(p);
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
    pf_emit(p);
    p->instants++;
}
