/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --learn (see replay-learn.h): activity repeated a varying number of times. A
 * driver's periodic work (a watchdog's round of PHY and statistics reads, every two seconds)
 * runs as many times as the scenario lasts, so two runs hold different numbers of rounds: the
 * extra rounds of one are not aligned with the other, and a replay that runs shorter than
 * both would leave rounds that both made unmade. As poll=tolerant does for a read repeated a
 * varying number of times, every repetition of such a block in the first recording is made
 * optional: each stretch of the first recording whose RL_REPEAT_NGRAM tokens in a row (type,
 * BAR, offset, width, a write's value under its register's learned mask) also occur in a
 * row within a stretch not aligned in every recording.
 */
#include <inttypes.h>
#include <string.h>

#include "mmiotrace.h"
#include "replay-learn-int.h"

/* A token's key: its accesses' type, width, BAR, offset and, for a write, checked value. */
static void token_key(GString *key, const struct rl_recording *r, guint t, GHashTable *masks)
{
    const struct rl_token *tok = &g_array_index(r->tok, struct rl_token, t);
    guint period = tok->count > 1 ? tok->period : 1;

    for (guint q = 0; q < period; q++) {
        const struct rl_access *a = &g_array_index(r->acc, struct rl_access, tok->first + q);
        const uint64_t *m = g_hash_table_lookup(masks, rl_reg_key(a->bar, a->off));
        g_string_append_printf(key, "%c%u:%u:%" PRIx64, a->type == MMIOTRACE_READ ? 'R' : 'W',
                               a->width, a->bar, a->off);
        if (a->type == MMIOTRACE_WRITE) {
            g_string_append_printf(key, "=%" PRIx64, a->value & (m ? *m : UINT64_MAX));
        }
        g_string_append_c(key, q + 1 < period ? ',' : ';');
    }
    if (tok->count > 1) {
        g_string_append(key, "poll;");
    }
}

/* The key of the RL_REPEAT_NGRAM tokens of r from t. */
static char *ngram_key(const struct rl_recording *r, guint t, GHashTable *masks)
{
    GString *key = g_string_new(NULL);

    for (guint i = 0; i < RL_REPEAT_NGRAM; i++) {
        token_key(key, r, t + i, masks);
    }
    return g_string_free(key, FALSE);
}

void rl_mark_repeated(struct rl_learner *l, GHashTable *masks)
{
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    const struct rl_recording *r0 = &l->rec[0];

    for (guint s = 0; s < l->stretches->len; s++) {
        const struct rl_stretch *st = &g_array_index(l->stretches, struct rl_stretch, s);
        for (guint i = 0; i + RL_REPEAT_NGRAM <= st->count; i++) {
            g_hash_table_add(seen, ngram_key(&l->rec[st->k], st->first + i, masks));
        }
    }
    if (!g_hash_table_size(seen)) {
        return;
    }
    for (guint t = 0; t + RL_REPEAT_NGRAM <= r0->tok->len; t++) {
        g_autofree char *key = ngram_key(r0, t, masks);
        if (!g_hash_table_contains(seen, key)) {
            continue;
        }
        for (guint i = t; i < t + RL_REPEAT_NGRAM; i++) {
            const struct rl_token *tok = &g_array_index(r0->tok, struct rl_token, i);
            if (!(l->notes[tok->first].ext & MMIOTRACE_EXT_OPT)) {
                rl_optional_token(l, i);
                l->sum->repeated += tok->count;
            }
        }
    }
}
