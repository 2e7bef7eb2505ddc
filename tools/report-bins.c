/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio report: the time bins, filled in the one pass over the trace. A bin is 2^shift ns
 * wide and starts at a multiple of its width, so two neighbours merge exactly into one of the
 * next width: when a stamp falls outside the span so far and the span would need more bins
 * than --bins, every ring (the totals' and each register's) is merged into wider bins. The
 * result does not depend on the order of the stamps: the width is the smallest power of two
 * for which the span fits. Bins are kept in rings (absolute bin a in slot a % slots), so a
 * stamp earlier than all before needs no shifting.
 */
#include <math.h>
#include <string.h>

#include <glib.h>

#include "report.h"

void rbins_init(struct rep *r, unsigned slots)
{
    r->slots = slots;
    r->shift = 0;
    r->breads = g_new0(uint64_t, slots);
    r->bwrites = g_new0(uint64_t, slots);
    r->birqs = g_new0(uint64_t, slots);
    r->reglist = g_ptr_array_new();
}

void rbins_free(struct rep *r)
{
    g_free(r->breads);
    g_free(r->bwrites);
    g_free(r->birqs);
    g_free(r->heat);
    g_free(r->hist);
    if (r->reglist) {
        g_ptr_array_free(r->reglist, TRUE);
    }
}

/* A ring of counts into bins 2^d times wider (slots outside the span are 0 and stay 0). */
static void merge_counts(const struct rep *r, uint64_t *ring, uint64_t *tmp, unsigned d)
{
    memset(tmp, 0, r->slots * sizeof(*tmp));
    for (uint64_t a = r->amin; a <= r->amax; a++) {
        tmp[(a >> d) % r->slots] += ring[a % r->slots];
    }
    memcpy(ring, tmp, r->slots * sizeof(*tmp));
}

/* A ring of last values likewise: the latest record's wins. */
static void merge_values(const struct rep *r, struct hslot *ring, struct hslot *tmp, unsigned d)
{
    memset(tmp, 0, r->slots * sizeof(*tmp));
    for (uint64_t a = r->amin; a <= r->amax; a++) {
        struct hslot *to = &tmp[(a >> d) % r->slots], *from = &ring[a % r->slots];
        if (from->seq > to->seq) {
            *to = *from;
        }
    }
    memcpy(ring, tmp, r->slots * sizeof(*tmp));
}

static void merge(struct rep *r, unsigned d)
{
    struct hslot *tmp = g_new(struct hslot, r->slots); /* also holds slots counts */
    merge_counts(r, r->breads, (uint64_t *)tmp, d);
    merge_counts(r, r->bwrites, (uint64_t *)tmp, d);
    merge_counts(r, r->birqs, (uint64_t *)tmp, d);
    for (guint i = 0; i < r->reglist->len; i++) {
        struct rstat *s = r->reglist->pdata[i];
        if (s->heat) {
            merge_counts(r, s->heat, (uint64_t *)tmp, d);
            merge_values(r, s->values, tmp, d);
        }
    }
    g_free(tmp);
    r->shift += d;
}

void rbins_cover(struct rep *r, uint64_t ts)
{
    if (!r->have_t) {
        r->amin = r->amax = ts >> r->shift;
        return;
    }
    if (ts >= r->t0 && ts <= r->t1) {
        return;
    }
    uint64_t lo = MIN(r->t0, ts), hi = MAX(r->t1, ts);
    unsigned s = r->shift;
    while (s < 63 && (hi >> s) - (lo >> s) >= r->slots) {
        s++;
    }
    if (s != r->shift) {
        merge(r, s - r->shift);
    }
    r->amin = lo >> r->shift;
    r->amax = hi >> r->shift;
}

void rbins_reg_new(struct rep *r, struct rstat *s)
{
    size_t bytes = (size_t)r->slots * (sizeof(*s->heat) + sizeof(*s->values));
    g_ptr_array_add(r->reglist, s);
    if (!r->overflow && r->reg_bytes + bytes <= REG_BINS_BUDGET) {
        s->heat = g_new0(uint64_t, r->slots);
        s->values = g_new0(struct hslot, r->slots);
        r->reg_bytes += bytes;
        return;
    }
    if (!r->overflow) { /* too many registers: their bins come from a second pass */
        r->overflow = true;
        for (guint i = 0; i < r->reglist->len; i++) {
            struct rstat *x = r->reglist->pdata[i];
            g_clear_pointer(&x->heat, g_free);
            g_clear_pointer(&x->values, g_free);
        }
        r->reg_bytes = 0;
    }
}

void rbins_access(struct rep *r, struct rstat *s, uint64_t ts, uint64_t value, uint64_t seq)
{
    if (s->heat) {
        unsigned slot = rbins_slot(r, ts);
        s->heat[slot]++;
        s->values[slot] = (struct hslot){seq, value};
    }
}

unsigned rbins_index(const struct rep *r, uint64_t ts)
{
    return (unsigned)((ts >> r->shift) - r->amin);
}

/* A ring in time order (its first bins bins). */
static void unroll(const struct rep *r, uint64_t *ring)
{
    uint64_t *tmp = g_new(uint64_t, r->bins);
    for (unsigned i = 0; i < r->bins; i++) {
        tmp[i] = ring[(r->amin + i) % r->slots];
    }
    memcpy(ring, tmp, r->bins * sizeof(*tmp));
    g_free(tmp);
}

void rbins_finish(struct rep *r)
{
    r->bins = (unsigned)(r->amax - r->amin + 1);
    r->bin_t0 = r->amin << r->shift;
    r->bin_ns = 1ull << r->shift;
    unroll(r, r->breads);
    unroll(r, r->bwrites);
    unroll(r, r->birqs);
    r->heat = g_new0(uint64_t, (size_t)HEAT_ROWS * r->bins);
    r->hist = g_new(double, (size_t)HISTORY * r->bins);
    for (size_t i = 0; i < (size_t)HISTORY * r->bins; i++) {
        r->hist[i] = NAN;
    }
    if (r->overflow) {
        return; /* filled by the second pass */
    }
    for (unsigned i = 0; i < r->nheat; i++) {
        for (unsigned b = 0; b < r->bins; b++) {
            r->heat[(size_t)i * r->bins + b] = r->heat_regs[i]->heat[(r->amin + b) % r->slots];
        }
    }
    for (unsigned i = 0; i < r->nhist; i++) {
        for (unsigned b = 0; b < r->bins; b++) {
            const struct hslot *h = &r->hist_regs[i]->values[(r->amin + b) % r->slots];
            if (h->seq) {
                r->hist[(size_t)i * r->bins + b] = (double)h->value;
            }
        }
    }
}
