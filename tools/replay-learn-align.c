/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --learn: the accesses of a recording as tokens, and the alignment of two
 * recordings' tokens (see replay-learn.h). A token is one access, or a poll: a run of reads of
 * one register, or of a cycle of up to RL_POLL_PERIOD_MAX registers read in turn (e1000e's
 * SYSTIML/SYSTIMH), repeated at least twice; its length may differ from run to run, so it is
 * matched as one. The
 * alignment is a longest common subsequence of the tokens by (type, BAR, offset, width), after
 * the common prefix and suffix: two rows of lengths and two bits of direction per cell.
 */
#include <string.h>

#include "mmiotrace.h"
#include "replay-learn.h"

/* The most cells (tokens x tokens after the common prefix and suffix) aligned exactly: 64 MiB
 * of directions; beyond, the alignment resynchronises within a window (see resync). */
uint64_t rl_cells_max = 1ull << 28;

/* resync: how far ahead a resynchronisation is looked for (tokens of both, summed), and how
 * many tokens must agree there */
#define RL_RESYNC_REACH 256
#define RL_RESYNC_AGREE 4

bool rl_same_key(const struct rl_access *a, const struct rl_access *b)
{
    return a->type == b->type && a->bar == b->bar && a->off == b->off && a->width == b->width;
}

/* Whether the period accesses at i are reads repeated right after themselves. */
static bool repeats(const struct rl_access *acc, guint n, guint i, guint period)
{
    if (i + 2 * period > n) {
        return false;
    }
    for (guint q = 0; q < period; q++) {
        if (acc[i + q].type != MMIOTRACE_READ || !rl_same_key(&acc[i + q], &acc[i + period + q])) {
            return false;
        }
    }
    return true;
}

void rl_tokenize(struct rl_recording *r)
{
    const struct rl_access *acc = (const struct rl_access *)r->acc->data;
    guint n = r->acc->len;

    g_array_set_size(r->tok, 0);
    for (guint i = 0; i < n;) {
        struct rl_token t = {i, 1, 1};
        for (guint p = 1; p <= RL_POLL_PERIOD_MAX; p++) {
            if (repeats(acc, n, i, p)) {
                t.period = p;
                t.count = 2 * p;
                while (repeats(acc, n, i + t.count - p, p)) {
                    t.count += p;
                }
                break;
            }
        }
        g_array_append_val(r->tok, t);
        i += t.count;
    }
}

/* Whether two tokens are the same access, or polls of the same registers in the same order. */
static bool same_token(const struct rl_recording *a, guint i, const struct rl_recording *b, guint j)
{
    const struct rl_token *ta = &g_array_index(a->tok, struct rl_token, i);
    const struct rl_token *tb = &g_array_index(b->tok, struct rl_token, j);
    guint pa = ta->count > 1 ? ta->period : 1, pb = tb->count > 1 ? tb->period : 1;

    if (pa != pb) {
        return pa == 1 && pb == 1;
    }
    for (guint q = 0; q < pa; q++) {
        if (!rl_same_key(&g_array_index(a->acc, struct rl_access, ta->first + q),
                         &g_array_index(b->acc, struct rl_access, tb->first + q))) {
            return false;
        }
    }
    return true;
}

enum { DIR_DIAG = 0, DIR_UP = 1, DIR_LEFT = 2 };

static unsigned dir_get(const uint8_t *d, uint64_t cell)
{
    return d[cell / 4] >> (cell % 4 * 2) & 3;
}

static void dir_set(uint8_t *d, uint64_t cell, unsigned v)
{
    d[cell / 4] |= v << (cell % 4 * 2);
}

/* The longest common subsequence of a's tokens [pa, pa + n) and b's [pb, pb + m). */
static void lcs(const struct rl_recording *a, const struct rl_recording *b, guint pa, guint pb,
                guint n, guint m, int32_t *ma, int32_t *mb)
{
    uint32_t *prev = g_new0(uint32_t, m + 1), *cur = g_new0(uint32_t, m + 1);
    uint8_t *dir = g_malloc0(((uint64_t)n * m + 3) / 4);

    for (guint i = 1; i <= n; i++) {
        cur[0] = 0;
        for (guint j = 1; j <= m; j++) {
            uint64_t cell = (uint64_t)(i - 1) * m + (j - 1);
            if (same_token(a, pa + i - 1, b, pb + j - 1)) {
                cur[j] = prev[j - 1] + 1;
            } else if (prev[j] >= cur[j - 1]) {
                cur[j] = prev[j];
                dir_set(dir, cell, DIR_UP);
            } else {
                cur[j] = cur[j - 1];
                dir_set(dir, cell, DIR_LEFT);
            }
        }
        uint32_t *t = prev;
        prev = cur;
        cur = t;
    }
    for (guint i = n, j = m; i && j;) {
        unsigned d = dir_get(dir, (uint64_t)(i - 1) * m + (j - 1));
        if (d == DIR_DIAG) {
            ma[pa + i - 1] = pb + j - 1;
            mb[pb + j - 1] = pa + i - 1;
            i--, j--;
        } else if (d == DIR_UP) {
            i--;
        } else {
            j--;
        }
    }
    g_free(prev);
    g_free(cur);
    g_free(dir);
}

/* Whether RL_RESYNC_AGREE tokens of a from x and of b from y agree (fewer at an end). */
static bool agree(const struct rl_recording *a, guint x, guint ea, const struct rl_recording *b,
                  guint y, guint eb)
{
    for (guint q = 0; q < RL_RESYNC_AGREE; q++, x++, y++) {
        if (x == ea || y == eb) {
            return q > 0;
        }
        if (!same_token(a, x, b, y)) {
            return false;
        }
    }
    return true;
}

/*
 * Align a's tokens [i, ea) with b's [j, eb) in one pass, for stretches too long for lcs:
 * equal tokens match; at a difference, the nearest place (fewest tokens skipped in both,
 * summed, up to RL_RESYNC_REACH) from which RL_RESYNC_AGREE tokens agree is where matching
 * resumes; if there is none, RL_RESYNC_REACH / 2 tokens of each are left unmatched (which
 * bounds the work on recordings that have nothing in common: a search per that many tokens).
 */
static void resync(const struct rl_recording *a, guint i, guint ea, const struct rl_recording *b,
                   guint j, guint eb, int32_t *ma, int32_t *mb)
{
    while (i < ea && j < eb) {
        if (same_token(a, i, b, j)) {
            ma[i] = j;
            mb[j] = i;
            i++, j++;
            continue;
        }
        bool found = false;
        for (guint d = 1; d <= RL_RESYNC_REACH && !found; d++) {
            for (guint dx = 0; dx <= d && !found; dx++) {
                guint x = i + dx, y = j + d - dx;
                if (x < ea && y < eb && agree(a, x, ea, b, y, eb)) {
                    i = x, j = y, found = true;
                }
            }
        }
        if (!found) {
            i += RL_RESYNC_REACH / 2, j += RL_RESYNC_REACH / 2;
        }
    }
}

bool rl_align(const struct rl_recording *a, const struct rl_recording *b, int32_t *ma, int32_t *mb)
{
    guint n = a->tok->len, m = b->tok->len, pre = 0, suf = 0;

    for (guint i = 0; i < n; i++) {
        ma[i] = -1;
    }
    for (guint j = 0; j < m; j++) {
        mb[j] = -1;
    }
    while (pre < n && pre < m && same_token(a, pre, b, pre)) {
        ma[pre] = pre;
        mb[pre] = pre;
        pre++;
    }
    while (suf < n - pre && suf < m - pre && same_token(a, n - 1 - suf, b, m - 1 - suf)) {
        ma[n - 1 - suf] = m - 1 - suf;
        mb[m - 1 - suf] = n - 1 - suf;
        suf++;
    }
    uint64_t cells = (uint64_t)(n - pre - suf) * (m - pre - suf);
    if (cells > rl_cells_max) {
        resync(a, pre, n - suf, b, pre, m - suf, ma, mb);
        return false;
    }
    if (cells) {
        lcs(a, b, pre, pre, n - pre - suf, m - pre - suf, ma, mb);
    }
    return true;
}
