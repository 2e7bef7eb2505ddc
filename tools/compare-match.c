/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare: the walk (docs/compare.md). It follows the guest log, matching each access
 * with the host's next access inside a guest-traced mapping; on a mismatch it looks for the
 * cheapest resynchronisation (fewest skipped records) within the look-ahead window that the
 * following K accesses confirm, and reports every skipped record. Host records without a guest
 * partner are classified as they are passed.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "compare.h"

/* ---- Guest records ---- */

/* A guest access outside the host-traced devices: counted by guest mapping (or page). */
static void guest_outside(struct cmp *c, const struct mmiotrace_record *rec)
{
    uint64_t phys = access_phys(rec);
    struct range r = {phys & ~0xfffull, 0x1000};

    rec->type == MMIOTRACE_UNKNOWN ? c->out_unknown++ : c->out_rw++;
    for (guint i = c->maps->len; i-- > 0;) {
        struct mapping *m = &g_array_index(c->maps, struct mapping, i);
        if (phys >= m->phys && phys - m->phys < m->len) {
            r = (struct range){m->phys, m->len};
            break;
        }
    }
    struct outside *o = NULL;
    for (guint i = 0; i < c->outside->len && !o; i++) {
        struct outside *e = &g_array_index(c->outside, struct outside, i);
        if (e->r.lo == r.lo && e->r.len == r.len) {
            o = e;
        }
    }
    if (!o && c->outside->len >= OUTSIDE_MAX) {
        c->out_other_ranges++;
        return;
    }
    if (!o) {
        g_array_set_size(c->outside, c->outside->len + 1);
        o = &g_array_index(c->outside, struct outside, c->outside->len - 1);
        o->r = r;
    }
    rec->type == MMIOTRACE_UNKNOWN ? o->unknown++ : o->rw++;
}

/* Pass a guest record that takes no part in matching: MAP/UNMAP, or an access out of scope. */
static void guest_pass(struct cmp *c, const struct item *it)
{
    const struct mmiotrace_record *rec = &it->rec;

    if (is_access(rec) && it->out) {
        guest_outside(c, rec);
    } else if (rec->type == MMIOTRACE_MAP) {
        struct mapping m = {rec->map.map_id, rec->map.phys, rec->map.len};
        g_array_append_val(c->maps, m);
    } else if (rec->type == MMIOTRACE_UNMAP) {
        for (guint i = 0; i < c->maps->len; i++) {
            if (g_array_index(c->maps, struct mapping, i).id == rec->unmap.map_id) {
                g_array_remove_index(c->maps, i);
                break;
            }
        }
    }
}

/* ---- Host classification ---- */

/* Pass host record idx (== h.pos): classify it if it is a R/W; free = the guest tracer is off. */
void cmp_host_pass(struct cmp *c, bool free)
{
    struct item *it = at(&c->h, c->h.pos);

    if (is_rw(&it->rec)) {
        if (it->cls == HC_PENDING) {
            if (by_qemu(&it->rec)) {
                it->cls = HC_QEMU;
            } else if (free) {
                it->cls = HC_OFF;
            } else if (!cmp_in_guest_maps(c, it->rec.rw.phys)) {
                it->cls = HC_OUTSIDE;
            } else {
                it->cls = HC_HOST_ONLY;
                cmp_report(c, D_HOST_ONLY, UINT64_MAX, c->h.pos,
                           "the host made this access through a mapping the guest tracer traced, "
                           "while it was on, but the guest log does not have it here");
            }
        }
        c->hcls[it->cls]++;
    }
    c->h.pos++;
}

/* Advance the host to its next candidate (passing others): true if h.pos is one. */
static bool host_next_candidate(struct cmp *c)
{
    for (;;) {
        if (cmp_side_fill(c, &c->h, c->h.pos) != 1) {
            return false;
        }
        struct item *it = at(&c->h, c->h.pos);
        if (it->anchor >= 0) {
            return false;
        }
        if (cmp_host_candidate(c, it)) {
            return true;
        }
        cmp_host_pass(c, false);
    }
}

/* Pass every host record up to the host side of anchor pair `anchor` (then past it). */
static void host_to_anchor(struct cmp *c, int32_t anchor)
{
    while (!c->stopped && cmp_side_fill(c, &c->h, c->h.pos) == 1) {
        struct item *it = at(&c->h, c->h.pos);
        if (it->anchor == anchor) {
            c->h.pos++;
            c->anchors_used++;
            return;
        }
        cmp_host_pass(c, !c->synced);
    }
}

/* ---- Committing a resynchronisation ---- */

static void mismatch_note(char *buf, size_t size, enum dkind kind)
{
    switch (kind) {
    case D_VALUE:
        snprintf(buf, size, "same access (direction, width, address) with a different value");
        break;
    case D_WIDTH:
        snprintf(buf, size, "same address and direction, different width");
        break;
    case D_DIR:
        snprintf(buf, size, "same address, one log reads where the other writes");
        break;
    default:
        buf[0] = '\0';
    }
}

/*
 * Pair skipped guest view accesses [0, a) with host view candidates [h0, nh): first the same
 * access elsewhere (out of order), then the same address (a mismatch). gkind[i]: the kind of
 * discrepancy; gpair[i]: the host partner's view index.
 */
static void pair_skipped(struct cmp *c, size_t a, size_t h0, size_t nh, int8_t *gkind,
                         size_t *gpair)
{
    g_autofree bool *used = g_new0(bool, nh + 1);

    for (size_t i = 0; i < a; i++) {
        gkind[i] = D_GUEST_ONLY;
        const struct mmiotrace_record *g = &gv_item(c, i)->rec;
        for (size_t j = h0; j < nh && is_rw(g); j++) {
            if (!used[j] && rw_equal(g, &hv_item(c, j)->rec)) {
                used[j] = true;
                gkind[i] = D_ORDER;
                gpair[i] = j;
                break;
            }
        }
    }
    size_t from = h0;
    for (size_t i = 0; i < a; i++) {
        const struct mmiotrace_record *g = &gv_item(c, i)->rec;
        if (gkind[i] != D_GUEST_ONLY || !is_rw(g)) {
            continue;
        }
        for (size_t j = from; j < nh; j++) {
            const struct mmiotrace_record *h = &hv_item(c, j)->rec;
            if (!used[j] && h->rw.phys == g->rw.phys) {
                used[j] = true;
                gkind[i] = h->type != g->type           ? D_DIR
                           : h->rw.width != g->rw.width ? D_WIDTH
                                                        : D_VALUE;
                gpair[i] = j;
                from = j + 1;
                break;
            }
        }
    }
}

/* Report skipped guest view access i (its kind and partner from pair_skipped). */
static void report_skipped(struct cmp *c, size_t i, enum dkind kind, size_t pair)
{
    uint64_t hi = UINT64_MAX;
    char note[256];

    if (kind != D_GUEST_ONLY) {
        hi = c->hv.idx[pair];
        at(&c->h, hi)->cls = HC_PAIRED;
    }
    if (kind == D_ORDER) {
        snprintf(note, sizeof(note), "this access is in both logs, but in a different order");
    } else if (kind == D_GUEST_ONLY) {
        const struct mmiotrace_record *g = &gv_item(c, i)->rec;
        snprintf(note, sizeof(note), "%s",
                 g->type == MMIOTRACE_UNKNOWN
                     ? "no run of host accesses by one instruction starts at this address here"
                     : "the host trace has no such access here");
        /* the nearest host access to the same address, as a hint */
        for (size_t j = 0; cmp_hview_get(c, j) && j < 64; j++) {
            if (hv_item(c, j)->rec.rw.phys == access_phys(g)) {
                hi = c->hv.idx[j];
                snprintf(note, sizeof(note),
                         "the host trace has no such access here (the marked host record "
                         "is the nearest access to the same address)");
                break;
            }
        }
    } else {
        mismatch_note(note, sizeof(note), kind);
    }
    cmp_report(c, kind, c->gv.idx[i], hi, note);
}

/*
 * Skip guest view accesses [0, a) and host view candidates [0, b): report them (pairing those
 * that are the same access elsewhere: out of order; or the same address: mismatch). free: the
 * host records are while the guest tracer was off; pair_extra: host candidates after b that
 * skipped guest records may pair with (at a free guest end).
 */
void cmp_commit_skips(struct cmp *c, size_t a, size_t b, bool free, size_t pair_extra)
{
    size_t nh = b + pair_extra;
    /* before the first synchronisation only the last host records may be the partners */
    size_t h0 = free && b > a ? b - a : 0;
    g_autofree int8_t *gkind = g_new0(int8_t, a + 1);
    g_autofree size_t *gpair = g_new0(size_t, a + 1);

    while (nh > b && !cmp_hview_get(c, nh - 1)) {
        nh--;
    }
    pair_skipped(c, a, h0, nh, gkind, gpair);
    for (size_t i = 0; i < a; i++) {
        report_skipped(c, i, gkind[i], gpair[i]);
    }
    /* host side first: the guest's skipped MAP/UNMAP must not change the host's candidates */
    uint64_t htarget = b < c->hv.n ? c->hv.idx[b] : (b ? c->hv.idx[b - 1] + 1 : c->h.pos);
    size_t j = 0;
    while (c->h.pos < htarget) {
        struct item *it = at(&c->h, c->h.pos);
        if (j < b && c->hv.idx[j] == c->h.pos) {
            j++;
            if (it->cls == HC_PENDING && free) {
                it->cls = HC_OFF;
            }
        }
        cmp_host_pass(c, free);
    }
    uint64_t gtarget = a < c->gv.n ? c->gv.idx[a] : (a ? c->gv.idx[a - 1] + 1 : c->g.pos);
    while (c->g.pos < gtarget) {
        guest_pass(c, at(&c->g, c->g.pos));
        c->g.pos++;
    }
}

/* Match guest access at g.pos (view index a) with the host at view index b and advance. */
void cmp_commit_match(struct cmp *c, size_t a, size_t b)
{
    long took = cmp_match_step(c, a, b, &c->run);
    struct item *g = at(&c->g, c->g.pos);

    g_assert(took >= 0);
    if (is_rw(&g->rec)) {
        c->g_rw_matched++;
    } else {
        c->g_unk_matched++;
        c->g_unk_continued += took == 0;
    }
    if (took > 0) {
        uint64_t last = c->hv.idx[b + (size_t)took - 1];
        size_t j = b;
        while (c->h.pos <= last) {
            struct item *it = at(&c->h, c->h.pos);
            if (j < b + (size_t)took && c->hv.idx[j] == c->h.pos) {
                it->cls = is_rw(&g->rec) ? HC_MATCHED : HC_RUN;
                j++;
            }
            cmp_host_pass(c, false);
        }
    }
    c->g.pos++;
}

/*
 * The cheapest (a, b) = (guest accesses, host candidates skipped) after which the next
 * accesses agree, within the window; at the guest view's end: skip to it (a free end), or to
 * the anchor both logs must pass together.
 */
static bool resync_search(struct cmp *c, size_t *ba, size_t *bb)
{
    size_t best = SIZE_MAX;
    bool found = false;

    for (size_t a = 0; a <= c->window && a < best; a++) {
        bool gend = !cmp_gview_get(c, a);
        if (gend && c->gv.end == V_WINDOW) {
            break;
        }
        for (size_t b = 0; a + b < best && a + b <= c->window; b++) {
            if (gend) {
                if (gend_free(&c->gv)) {
                    b = 0;
                } else if (cmp_hview_get(c, b)) { /* anchor: the host must be at its anchor */
                    continue;
                }
                if (gend_free(&c->gv) || c->hv.end == V_ANCHOR || c->hv.end == V_EOF) {
                    best = gend_free(&c->gv) ? a : a + b;
                    *ba = a;
                    *bb = b;
                    found = true;
                }
                break;
            }
            if (!cmp_hview_get(c, b)) {
                break;
            }
            struct run run = c->run;
            if (cmp_match_step(c, a, b, &run) >= 0 && cmp_confirm(c, a, b, c->confirm, false)) {
                best = a + b;
                *ba = a;
                *bb = b;
                found = true;
                break;
            }
        }
        if (gend) {
            break;
        }
    }
    return found;
}

/*
 * The walks disagree at the guest access g.pos: find the cheapest resynchronisation, report
 * the skipped records and go on.
 */
static void resync(struct cmp *c)
{
    size_t ba = 1, bb = 0;

    cmp_views_reset(c);
    bool found = resync_search(c, &ba, &bb);
    if (!found) {
        ba = 1;
        bb = 0; /* nothing agrees within the window: give up on this guest record */
    }
    bool at_free_end = !cmp_gview_get(c, ba) && gend_free(&c->gv);
    cmp_commit_skips(c, ba, bb, false, at_free_end ? ba : 0);
    if (found && cmp_gview_get(c, ba)) {
        cmp_commit_match(c, ba, bb);
    }
    g_array_set_size(c->maps_ahead, 0);
}

/* ---- The walk ---- */

/* A guest gap (lost events, tracer restart) or anchor at g.pos. */
static void guest_break(struct cmp *c, const struct item *g)
{
    c->run.valid = false;
    if (g->gap) {
        c->synced = false; /* the guest log may miss records here */
        c->gaps++;
        if (g->rec.type == MMIOTRACE_VERSION) {
            g_array_set_size(c->maps, 0); /* a restarted tracer traces new mappings only */
        }
    } else {
        host_to_anchor(c, g->anchor);
        c->synced = true;
    }
    c->g.pos++;
}

void cmp_walk(struct cmp *c)
{
    while (!c->stopped) {
        if (cmp_side_fill(c, &c->g, c->g.pos) != 1) {
            break;
        }
        struct item *g = at(&c->g, c->g.pos);
        if (g->gap || g->anchor >= 0) {
            guest_break(c, g);
        } else if (!is_access(&g->rec) || g->out) {
            guest_pass(c, g);
            c->g.pos++;
        } else if (!c->synced) {
            cmp_first_sync(c);
        } else if (is_rw(&g->rec) && host_next_candidate(c) &&
                   rw_equal(&g->rec, &at(&c->h, c->h.pos)->rec)) {
            at(&c->h, c->h.pos)->cls = HC_MATCHED;
            c->hcls[HC_MATCHED]++;
            c->h.pos++;
            c->g.pos++;
            c->g_rw_matched++;
            c->run.valid = false;
        } else {
            resync(c);
        }
    }
    /* after the guest log's last record: the guest tracer was off */
    while (!c->stopped && cmp_side_fill(c, &c->h, c->h.pos) == 1) {
        cmp_host_pass(c, true);
    }
}
