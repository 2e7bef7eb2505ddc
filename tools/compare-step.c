/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare: the look-ahead views (the next guest accesses and host candidates) and the
 * matching of one guest access, R/W or UNKNOWN, with the host accesses at a view position
 * (docs/compare.md: "What is compared").
 */
#include <string.h>

#include "compare.h"

/* ---- Instructions ---- */

static inline bool host_has_pc(const struct mmiotrace_record *r)
{
    return r->rw.pc != 0 || (r->ext & MMIOTRACE_EXT_INSN);
}

static inline bool same_insn(const struct mmiotrace_record *a, const struct mmiotrace_record *b)
{
    if (a->rw.pc || b->rw.pc) {
        return a->rw.pc == b->rw.pc;
    }
    return a->insn_len == b->insn_len && !memcmp(a->insn, b->insn, a->insn_len);
}

/* x86 string instructions behind an UNKNOWN: its opcode after prefixes (66 67 f2 f3 REX). */
static int string_opcode(const uint8_t op[3])
{
    for (int i = 0; i < 3; i++) {
        uint8_t b = op[i];
        if (b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || (b >= 0x40 && b <= 0x4f)) {
            continue;
        }
        switch (b) {
        case 0xa4:
        case 0xa5: /* movs */
        case 0xa6:
        case 0xa7: /* cmps */
        case 0xaa:
        case 0xab: /* stos */
        case 0xac:
        case 0xad: /* lods */
        case 0xae:
        case 0xaf: /* scas */
            return b;
        default:
            return 0;
        }
    }
    return 0;
}

/* ---- Guest mappings ---- */

static bool in_maps(const GArray *maps, uint64_t phys)
{
    for (guint i = 0; i < maps->len; i++) {
        const struct mapping *m = &g_array_index(maps, struct mapping, i);
        if (phys >= m->phys && phys - m->phys < m->len) {
            return true;
        }
    }
    return false;
}

bool cmp_in_guest_maps(struct cmp *c, uint64_t phys)
{
    return in_maps(c->maps, phys);
}

/* A host record that takes part in matching: a vCPU's access inside a traced mapping. */
bool cmp_host_candidate(struct cmp *c, const struct item *it)
{
    return is_rw(&it->rec) && it->cls == HC_PENDING && !by_qemu(&it->rec) &&
           (in_maps(c->maps, it->rec.rw.phys) || in_maps(c->maps_ahead, it->rec.rw.phys));
}

/* ---- Look-ahead views ---- */

static void view_reset(struct view *v, uint64_t from)
{
    v->n = 0;
    v->scan = from;
    v->end = V_OPEN;
}

void cmp_views_reset(struct cmp *c)
{
    view_reset(&c->gv, c->g.pos);
    view_reset(&c->hv, c->h.pos);
    g_array_set_size(c->maps_ahead, 0);
}

static void view_push(struct view *v, uint64_t idx)
{
    v->idx[v->n++] = idx;
    if (v->n == v->limit) {
        v->end = V_WINDOW;
    }
}

/* Guest accesses: true if gv.idx[k] exists. */
bool cmp_gview_get(struct cmp *c, size_t k)
{
    struct view *v = &c->gv;
    while (v->n <= k && v->end == V_OPEN) {
        int f = cmp_side_fill(c, &c->g, v->scan);
        if (f != 1) {
            v->end = f == -2 ? V_WINDOW : V_EOF;
            break;
        }
        struct item *it = at(&c->g, v->scan);
        if (it->gap) {
            v->end = V_GAP;
            break;
        }
        if (it->anchor >= 0) {
            v->end = V_ANCHOR;
            break;
        }
        v->scan++;
        if (is_access(&it->rec) && !it->out) {
            view_push(v, v->scan - 1);
        } else if (it->rec.type == MMIOTRACE_MAP) {
            /* the host accesses through it are candidates of the search (not of the walk) */
            struct mapping m = {it->rec.map.map_id, it->rec.map.phys, it->rec.map.len};
            g_array_append_val(c->maps_ahead, m);
        }
    }
    return v->n > k;
}

/* Host candidates: true if hv.idx[k] exists. */
bool cmp_hview_get(struct cmp *c, size_t k)
{
    struct view *v = &c->hv;
    while (v->n <= k && v->end == V_OPEN) {
        int f = cmp_side_fill(c, &c->h, v->scan);
        if (f != 1) {
            v->end = f == -2 ? V_WINDOW : V_EOF;
            break;
        }
        struct item *it = at(&c->h, v->scan);
        if (it->anchor >= 0) {
            v->end = V_ANCHOR;
            break;
        }
        v->scan++;
        if (cmp_host_candidate(c, it)) {
            view_push(v, v->scan - 1);
        }
    }
    return v->n > k;
}

/* ---- Matching ---- */

/*
 * Length of the host run of the UNKNOWN instruction at guest view index gk starting at host
 * view index hk (whose address is the UNKNOWN's). With PCs: the consecutive accesses with the
 * same PC. Without: a string instruction's accesses go one way with a constant stride, and a
 * read-modify-write is a read then a write of the same address; the run stops before an access
 * that is exactly the guest's next R/W.
 */
static size_t unknown_run(struct cmp *c, size_t gk, size_t hk, struct run *run)
{
    const struct mmiotrace_record *u = &gv_item(c, gk)->rec;
    const struct mmiotrace_record *h0 = &hv_item(c, hk)->rec;
    const struct mmiotrace_record *next =
        cmp_gview_get(c, gk + 1) ? &gv_item(c, gk + 1)->rec : NULL;
    size_t n = 1;
    uint64_t lo = h0->rw.phys, hi = h0->rw.phys, prev = h0->rw.phys;
    int64_t stride = 0;

    if (next && !is_rw(next)) {
        next = NULL;
    }
    if (host_has_pc(h0)) {
        while (cmp_hview_get(c, hk + n) && same_insn(&hv_item(c, hk + n)->rec, h0)) {
            uint64_t p = hv_item(c, hk + n)->rec.rw.phys;
            int64_t d = (int64_t)(p - prev);
            stride = n == 1 ? d : (stride == d ? stride : 0);
            lo = p < lo ? p : lo;
            hi = p > hi ? p : hi;
            prev = p;
            n++;
        }
    } else {
        bool string = string_opcode(u->unknown.opcode) != 0;
        unsigned bytes = h0->rw.width;
        while (cmp_hview_get(c, hk + n)) {
            const struct mmiotrace_record *h = &hv_item(c, hk + n)->rec;
            if (next && rw_equal(h, next)) {
                break;
            }
            if (!string && n == 1 && h->type != h0->type && h->rw.phys == h0->rw.phys &&
                h->type == MMIOTRACE_WRITE) {
                n++; /* read-modify-write, xchg, cmpxchg */
                break;
            }
            int64_t d = (int64_t)(h->rw.phys - prev);
            if (h->type != h0->type || h->rw.width != h0->rw.width ||
                (d != h0->rw.width && d != -(int64_t)h0->rw.width) || (n > 1 && d != stride) ||
                (!string && (d < 0 || bytes + h->rw.width > 64))) {
                break;
            }
            stride = d;
            bytes += h->rw.width;
            lo = h->rw.phys < lo ? h->rw.phys : lo;
            hi = h->rw.phys > hi ? h->rw.phys : hi;
            prev = h->rw.phys;
            n++;
        }
    }
    if (run) {
        run->valid = true;
        memcpy(run->opcode, u->unknown.opcode, 3);
        run->first = lo;
        run->last = hi;
        run->stride = stride < 0 ? -stride : stride;
    }
    return n;
}

/* A guest UNKNOWN that is another iteration of the instruction of the last matched run. */
static bool unknown_continues(const struct run *run, const struct mmiotrace_record *u)
{
    uint64_t p = u->unknown.phys;
    if (!run->valid || memcmp(run->opcode, u->unknown.opcode, 3) || p < run->first ||
        p > run->last) {
        return false;
    }
    return !run->stride || (p - run->first) % (uint64_t)run->stride == 0;
}

/*
 * Does guest view access gk match at host view index hk? Returns the number of host accesses it
 * takes (0 for an UNKNOWN continuing the last run), or -1. Updates *run.
 */
long cmp_match_step(struct cmp *c, size_t gk, size_t hk, struct run *run)
{
    const struct mmiotrace_record *g = &gv_item(c, gk)->rec;

    if (is_rw(g)) {
        if (!cmp_hview_get(c, hk) || !rw_equal(g, &hv_item(c, hk)->rec)) {
            return -1;
        }
        run->valid = false;
        return 1;
    }
    if (cmp_hview_get(c, hk)) {
        const struct mmiotrace_record *h = &hv_item(c, hk)->rec;
        if (h->rw.phys == g->unknown.phys &&
            !(g->unknown.pc && h->rw.pc && g->unknown.pc != h->rw.pc)) {
            return (long)unknown_run(c, gk, hk, run);
        }
    }
    return unknown_continues(run, g) ? 0 : -1;
}

/* Are guest gk.. and host hk.. matched for the next k accesses (or to both ends)? */
bool cmp_confirm(struct cmp *c, size_t gk, size_t hk, unsigned k, bool strict_window)
{
    struct run run = c->run;

    for (unsigned t = 0; t < k; t++) {
        if (!cmp_gview_get(c, gk)) {
            if (gend_free(&c->gv)) {
                return true;
            }
            if (c->gv.end == V_ANCHOR) {
                return !cmp_hview_get(c, hk) && c->hv.end == V_ANCHOR;
            }
            return !strict_window;
        }
        if (!cmp_hview_get(c, hk) && c->hv.end == V_WINDOW) {
            return !strict_window;
        }
        long took = cmp_match_step(c, gk, hk, &run);
        if (took < 0) {
            return false;
        }
        gk++;
        hk += (size_t)took;
    }
    return true;
}
