/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare: reading both logs (libmmiotrace's streaming reader) into bounded rings, and
 * the pre-pass over regular files that finds the anchors (markers in both logs) and the host's
 * scope (the memory BARs of the devices it traced, from its PCIDEV and MAP records).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "compare.h"
#include "warn.h"

/* ---- Scope: the host-traced devices' memory ---- */

static void scope_add(struct cmp *c, uint64_t lo, uint64_t len)
{
    if (!lo || !len || c->scope->len >= SCOPE_MAX) {
        return; /* a BAR not programmed yet (0), or an absurd number of them */
    }
    for (guint i = 0; i < c->scope->len; i++) {
        struct range *r = &g_array_index(c->scope, struct range, i);
        if (r->lo == lo && r->len == len) {
            return;
        }
    }
    struct range r = {lo, len};
    g_array_append_val(c->scope, r);
}

/* A host PCIDEV (memory BARs and ROM; I/O BARs are not MMIO) or MAP widens the scope. */
static void scope_add_record(struct cmp *c, const struct mmiotrace_record *rec)
{
    if (rec->type == MMIOTRACE_MAP) {
        scope_add(c, rec->map.phys, rec->map.len);
    } else if (rec->type == MMIOTRACE_PCIDEV) {
        for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
            uint64_t res = rec->pcidev.resource[i];
            if (!(res & 1)) { /* bit 0 of the flags: an I/O-port BAR */
                scope_add(c, res & ~0xfull, rec->pcidev.size[i]);
            }
        }
    }
}

/* In scope: inside a host-traced BAR, or the host trace says nothing of its devices. */
bool cmp_in_scope(const struct cmp *c, uint64_t phys)
{
    if (!c->scope->len) {
        return true;
    }
    for (guint i = 0; i < c->scope->len; i++) {
        if (in_range(&g_array_index(c->scope, struct range, i), phys)) {
            return true;
        }
    }
    return false;
}

/* ---- The rings ---- */

/* Count a record read into the ring; false: it is not kept (header, PCIDEV, PCICFG, IRQ, DMA). */
static bool side_take(struct cmp *c, struct side *s, struct item *it)
{
    struct mmiotrace_record *rec = &it->rec;

    switch (rec->type) {
    case MMIOTRACE_READ:
    case MMIOTRACE_WRITE:
    case MMIOTRACE_UNKNOWN:
        rec->type == MMIOTRACE_UNKNOWN ? s->n_unknown++ : s->n_rw++;
        it->out = s == &c->g && !cmp_in_scope(c, access_phys(rec));
        break;
    case MMIOTRACE_MAP:
        s->n_map++;
        break;
    case MMIOTRACE_UNMAP:
        s->n_unmap++;
        break;
    case MMIOTRACE_MARK:
        it->text = g_strndup(rec->mark.text, rec->mark.len);
        rec->mark.text = it->text;
        if (s->mark_anchor && s->nmarks < s->mark_anchor->len) {
            it->anchor = g_array_index(s->mark_anchor, int32_t, s->nmarks);
        }
        s->nmarks++;
        s->n_mark++;
        break;
    case MMIOTRACE_LOST:
        s->n_lost++;
        it->gap = true;
        break;
    case MMIOTRACE_VERSION:
        if (!s->header_done) {
            return false; /* the header itself */
        }
        it->gap = true; /* a new trace session: see docs/compare.md */
        break;
    default: /* PCIDEV, PCICFG, IRQ, DMA, DMAMAP: not compared */
        s->n_other++;
        return false;
    }
    s->header_done = true;
    return true;
}

int cmp_side_fill(struct cmp *c, struct side *s, uint64_t idx)
{
    while (s->tail <= idx) {
        if (s->eof) {
            return 0;
        }
        uint64_t keep = s->pos > HIST ? s->pos - HIST : 0;
        if (s->tail - keep >= s->mask) {
            return -2;
        }
        struct item *it = at(s, s->tail);
        g_free(it->text);
        it->text = NULL;
        int got = mmiotrace_reader_next(s->r, &it->rec);
        if (got <= 0) {
            s->eof = true;
            if (got < 0) {
                fprintf(stderr, "hvmmio compare: %s\n", mmiotrace_reader_error(s->r));
                c->error = true;
                c->stopped = true;
            }
            return 0;
        }
        it->line = mmiotrace_reader_line(s->r);
        it->anchor = -1;
        it->cls = HC_PENDING;
        it->gap = it->out = false;
        cmp_regs_take(c, s, it);
        it->rec.ext &= ~(MMIOTRACE_EXT_DEV | MMIOTRACE_EXT_ASM);
        it->rec.dev = it->rec.asm_text = NULL;
        it->rec.dev_len = it->rec.asm_len = 0;
        if (s == &c->h && !c->scope_prepass) {
            scope_add_record(c, &it->rec);
        }
        if (side_take(c, s, it)) {
            s->tail++;
        }
    }
    return 1;
}

bool cmp_side_open(struct side *s, const char *path, const char *role, size_t window, bool skip_bad)
{
    s->path = path;
    s->role = role;
    s->r = mmiotrace_reader_open(path);
    if (!s->r) {
        fprintf(stderr, "hvmmio compare: %s: %s\n", path, strerror(errno));
        return false;
    }
    if (skip_bad) {
        s->warn = (struct hvmmio_warn){"hvmmio compare", WARN_MAX, 0};
        mmiotrace_reader_set_policy(s->r, MMIOTRACE_ON_ERROR_SKIP, hvmmio_warn_line, &s->warn);
    }
    uint64_t cap = 16;
    while (cap < window + HIST + 2) {
        cap <<= 1;
    }
    s->ring = g_new0(struct item, cap);
    s->mask = cap - 1;
    return true;
}

void cmp_side_close(struct side *s)
{
    if (s->ring) {
        for (uint64_t i = 0; i <= s->mask; i++) {
            g_free(s->ring[i].text);
        }
        g_free(s->ring);
    }
    if (s->r) {
        mmiotrace_reader_free(s->r);
    }
    if (s->mark_anchor) {
        g_array_free(s->mark_anchor, TRUE);
    }
}

/* ---- The pre-pass ---- */

/*
 * Read a regular file once: its MARK texts (marks != NULL) and, for the host, its scope
 * (c != NULL). False if it is not a regular file or cannot be read through (the main pass
 * reports read errors).
 */
static bool prepass_file(struct cmp *c, const char *path, bool skip_bad, GPtrArray *marks)
{
    struct stat st;
    if (!strcmp(path, "-") || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        return false;
    }
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    if (!r) {
        return false;
    }
    if (skip_bad) {
        mmiotrace_reader_set_policy(r, MMIOTRACE_ON_ERROR_SKIP, NULL, NULL);
    }
    struct mmiotrace_record rec;
    int got;
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        if (rec.type == MMIOTRACE_MARK && marks) {
            if (marks->len >= MARKS_MAX) {
                got = -1;
                break;
            }
            g_ptr_array_add(marks, g_strndup(rec.mark.text, rec.mark.len));
        } else if (c) {
            scope_add_record(c, &rec);
            cmp_regs_header(c, &rec);
        }
    }
    mmiotrace_reader_free(r);
    return got == 0;
}

/* Pair the guest's markers, in order, with the host's first unused marker of the same text. */
static void pair_anchors(struct cmp *c, GPtrArray *gm, GPtrArray *hm)
{
    int32_t none = -1;

    c->g.mark_anchor = g_array_sized_new(FALSE, FALSE, sizeof(int32_t), gm->len);
    c->h.mark_anchor = g_array_sized_new(FALSE, FALSE, sizeof(int32_t), hm->len);
    for (guint j = 0; j < hm->len; j++) {
        g_array_append_val(c->h.mark_anchor, none);
    }
    guint next = 0;
    for (guint i = 0; i < gm->len; i++) {
        int32_t pair = -1;
        for (guint j = next; j < hm->len; j++) {
            if (!strcmp(gm->pdata[i], hm->pdata[j])) {
                pair = (int32_t)c->anchors++;
                g_array_index(c->h.mark_anchor, int32_t, j) = pair;
                next = j + 1;
                break;
            }
        }
        g_array_append_val(c->g.mark_anchor, pair);
    }
}

void cmp_prepass(struct cmp *c, bool no_anchors, bool skip_bad)
{
    g_autoptr(GPtrArray) gm = g_ptr_array_new_with_free_func(g_free);
    g_autoptr(GPtrArray) hm = g_ptr_array_new_with_free_func(g_free);
    bool gok = !no_anchors && prepass_file(NULL, c->g.path, skip_bad, gm);

    c->scope_prepass = prepass_file(c, c->h.path, skip_bad, gok ? hm : NULL);
    if (!c->scope_prepass) {
        /* a pipe: the scope grows as the host is read; read its header and first records */
        g_array_set_size(c->scope, 0);
        cmp_side_fill(c, &c->h, c->window - 1);
    }
    if (gok && c->scope_prepass) {
        pair_anchors(c, gm, hm);
    }
}
