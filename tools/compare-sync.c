/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare: the first synchronisation (docs/compare.md), at the start of the guest log
 * and after a gap in it: where in the host trace the guest tracer's records begin. Host
 * records before that point were made while the guest tracer was off.
 *
 * The earliest place where a few accesses agree is not good enough: SeaBIOS, the kernel's
 * early PCI quirks or an earlier probe often make the driver's first accesses, with the same
 * values, before the guest tracer starts. So every host position where the guest's next
 * accesses are found is scored by how many of them it explains (walking on, each access
 * within a few host records of the previous, at most one missing), and the best one wins;
 * on a tie, the later one (the earlier records are then explained as the tracer being off,
 * rather than leaving the later ones host-only).
 */
#include <stdio.h>

#include "compare.h"

struct sync_pos {
    bool found;
    size_t a, b;  /* guest view accesses given up, host view candidate */
    size_t score; /* guest accesses it explains */
    long val;     /* score - a */
    bool hcut;    /* the host view's end stopped the scoring */
};

/*
 * Guest view accesses matched walking from (gk, hk), each within `slack` host candidates of
 * the previous one, until the misses outnumber 1 + one in 16 matched (a long run tolerates a
 * few discrepancies, a chance match does not) or either view ends. *hcut: the host's
 * look-ahead window (not its end) stopped the walk, so the position may explain more.
 */
static size_t sync_score(struct cmp *c, size_t gk, size_t hk, size_t slack, bool *hcut)
{
    struct run run = c->run;
    size_t matched = 0;
    unsigned misses = 0;

    *hcut = false;
    for (; cmp_gview_get(c, gk); gk++) {
        long took = -1;
        size_t s;
        for (s = 0; s <= slack; s++) {
            if (!cmp_hview_get(c, hk + s)) {
                *hcut = c->hv.end == V_WINDOW;
                break;
            }
            struct run r2 = run;
            took = cmp_match_step(c, gk, hk + s, &r2);
            if (took >= 0) {
                run = r2;
                break;
            }
        }
        if (took >= 0) {
            matched++;
            hk += s + (size_t)took;
        } else if (*hcut || ++misses > 1 + matched / 16) {
            break;
        }
    }
    return matched;
}

/*
 * Score every host position for guest view start a; keep the best in *best and the best
 * position the host window cut short in *cut.
 */
static void sync_scan(struct cmp *c, size_t a, size_t need, struct sync_pos *best,
                      struct sync_pos *cut)
{
    size_t slack = 2 * c->confirm;

    for (size_t b = 0; cmp_hview_get(c, b); b++) {
        struct run run = c->run;
        if (cmp_match_step(c, a, b, &run) < 0) {
            continue;
        }
        bool hcut;
        size_t score = sync_score(c, a, b, slack, &hcut);
        struct sync_pos p = {true, a, b, score, (long)score - (long)a, hcut};
        if (hcut && (!cut->found || score >= cut->score)) {
            *cut = p;
        }
        if (score < need) {
            continue;
        }
        /* a larger value wins; on a tie, the later position for the same a */
        if (!best->found || p.val > best->val || (p.val == best->val && p.a == best->a)) {
            *best = p;
        }
    }
}

/* Pass the host records before absolute index target as made while the guest tracer was off. */
static void sync_slide(struct cmp *c, uint64_t target)
{
    while (c->h.pos < target) {
        cmp_host_pass(c, true);
    }
    cmp_views_reset(c);
}

/* Choose where to start within the current window; false: slid on, look again. */
static bool sync_round(struct cmp *c, struct sync_pos *best)
{
    size_t k = 2 * c->confirm;
    struct sync_pos cut = {0};

    cmp_gview_get(c, c->window); /* fill the guest view: its length bounds every score */
    size_t gn = c->gv.n;
    *best = (struct sync_pos){0};
    for (size_t a = 0; a <= INIT_MAX_SKIP && a < gn; a++) {
        if (best->found && best->val >= (long)(gn - a) - (long)a) {
            break; /* no position giving up a accesses can explain more */
        }
        size_t avail = gn - a < k ? gn - a : k;
        sync_scan(c, a, avail - 1 ? avail - 1 : 1, best, &cut);
    }
    if (c->hv.end != V_WINDOW) {
        return true; /* the host view reaches an anchor or the end: decide here */
    }
    if (cut.found && (!best->found || cut.val >= best->val) && cut.b > 0) {
        sync_slide(c, c->hv.idx[cut.b]); /* it may explain more with the window after it */
        return false;
    }
    if (best->found) {
        size_t b0 = best->b - (best->a < best->b ? best->a : best->b);
        if (best->score >= gn) {
            return true; /* it explains every guest access in view: nothing can do better */
        }
        if (b0 > 0) {
            sync_slide(c, c->hv.idx[b0]); /* look a full window beyond it */
            return false;
        }
        /*
         * The best of a full window after it. A weak one (explaining a quarter of the guest
         * view or less, net of the accesses it gives up, and not for want of host records) is a
         * chance match of firmware or early-boot accesses before a long stretch of others
         * (SeaBIOS polls a port ~10^6 times): look beyond it.
         */
        if (best->hcut || 4 * best->val > (long)gn) {
            return true;
        }
    }
    if (c->hv.n == 0) {
        sync_slide(c, c->hv.scan);
        return false;
    }
    /* nothing (good) here: these host records are before the guest log's start (keep the last k) */
    size_t keep = c->hv.n > k ? c->hv.n - k : 0;
    uint64_t target = keep ? c->hv.idx[keep] : c->hv.idx[0];
    sync_slide(c, target == c->h.pos ? c->hv.scan : target);
    return false;
}

void cmp_first_sync(struct cmp *c)
{
    struct sync_pos best;

    cmp_views_reset(c);
    while (!sync_round(c, &best) && !c->stopped) {
    }
    if (c->stopped) {
        return;
    }
    size_t ba = best.found ? best.a : 1, bb = best.found ? best.b : 0;
    bool at_free_end = !cmp_gview_get(c, ba) && gend_free(&c->gv);
    cmp_commit_skips(c, ba, bb, true, at_free_end ? ba : 0);
    if (best.found && cmp_gview_get(c, ba)) {
        if (!c->start_hline) {
            c->start_gline = gv_item(c, ba)->line;
            c->start_hline = hv_item(c, bb)->line;
            c->start_off = c->hcls[HC_OFF];
        }
        cmp_commit_match(c, ba, bb);
        c->synced = true;
    }
    g_array_set_size(c->maps_ahead, 0);
}
