/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --learn (see replay-learn.h): the recordings' accesses of the learned device,
 * and what differs between them at the aligned places, as annotations of the first
 * recording's accesses. Writing the annotated copy and the command line: replay-learn-out.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "mmiotrace.h"
#include "replay-learn-int.h"
#include "replay-scan.h"

/* ---- Loading ---- */

static bool dev_is(const struct mmiotrace_record *rec, const char *device)
{
    const char *name = rec->ext & MMIOTRACE_EXT_DEV ? rec->dev : "";
    size_t len = rec->ext & MMIOTRACE_EXT_DEV ? rec->dev_len : 0;
    return strlen(device) == len && !memcmp(name, device, len);
}

/* The device whose accesses are learned: device, or the only one with R/W records in path. */
static char *pick_device(const char *path, const char *device, GError **err)
{
    if (device) {
        return g_strdup(device);
    }
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    struct mmiotrace_record rec;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    int got;

    if (!r) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", path,
                    g_strerror(errno));
        return NULL;
    }
    while ((got = mmiotrace_reader_next(r, &rec)) == 1) {
        if (rec.type != MMIOTRACE_READ && rec.type != MMIOTRACE_WRITE) {
            continue;
        }
        char *name = g_strndup(rec.ext & MMIOTRACE_EXT_DEV ? rec.dev : "",
                               rec.ext & MMIOTRACE_EXT_DEV ? rec.dev_len : 0);
        if (!g_ptr_array_find_with_equal_func(names, name, g_str_equal, NULL)) {
            g_ptr_array_add(names, name);
        } else {
            g_free(name);
        }
    }
    if (got < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", mmiotrace_reader_error(r));
    } else if (names->len != 1) {
        g_ptr_array_add(names, NULL);
        g_autofree char *list = g_strjoinv(", ", (char **)names->pdata);
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    names->len == 1 ? "%s has no R/W records%s"
                                    : "%s has the accesses of several devices (%s): choose one "
                                      "with --device",
                    path, list);
    }
    mmiotrace_reader_free(r);
    return *err ? NULL : g_strdup(names->pdata[0]);
}

/* Keep rec (an R/W of the device) as an access of rl; 0, or -1 with err set. */
static int keep_access(struct rl_recording *rl, const struct mmiotrace_record *rec,
                       const struct mmiotrace_pcidev *pcidev, uint64_t line, uint64_t ordinal,
                       GError **err)
{
    char msg[512];
    struct rl_access a = {
        .line = line, .ordinal = ordinal, .type = rec->type, .width = rec->rw.width};

    if (mmiotrace_replay_access(rec, pcidev, rl->path, line, &a.bar, &a.off, msg, sizeof(msg)) <
        0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", msg);
        return -1;
    }
    a.phys = rec->rw.phys;
    a.value = rec->rw.width < 8 ? rec->rw.value & ((1ull << 8 * rec->rw.width) - 1) : rec->rw.value;
    g_array_append_val(rl->acc, a);
    return 0;
}

/*
 * Read the device's guest accesses from rl->path (QEMU's own, vcpu=none, as the replay device
 * does: only when the guest made none). 0, or -1 with err set.
 */
static int load(struct rl_recording *rl, const char *device, GError **err)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open(rl->path);
    struct mmiotrace_record rec;
    struct mmiotrace_pcidev pcidev;
    bool have_pcidev = false;
    g_autoptr(GArray) qemu_own = g_array_new(FALSE, FALSE, sizeof(struct rl_access));
    uint64_t ordinal = 0;
    int got;

    if (!r) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "%s: %s", rl->path,
                    g_strerror(errno));
        return -1;
    }
    while ((got = mmiotrace_reader_next(r, &rec)) == 1) {
        uint64_t n = ordinal++;
        if (!dev_is(&rec, device)) {
            continue;
        }
        if (rec.type == MMIOTRACE_PCIDEV) {
            pcidev = rec.pcidev;
            have_pcidev = true;
        }
        if (rec.type != MMIOTRACE_READ && rec.type != MMIOTRACE_WRITE) {
            continue;
        }
        bool own = (rec.ext & MMIOTRACE_EXT_VCPU) && rec.vcpu == MMIOTRACE_VCPU_NONE;
        struct rl_recording to = {rl->path, own ? qemu_own : rl->acc, NULL};
        if (keep_access(&to, &rec, have_pcidev ? &pcidev : NULL, mmiotrace_reader_line(r), n, err) <
            0) {
            break;
        }
    }
    if (got < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", mmiotrace_reader_error(r));
    } else if (!*err && !rl->acc->len) {
        g_array_append_vals(rl->acc, qemu_own->data, qemu_own->len);
    }
    mmiotrace_reader_free(r);
    if (!*err && !rl->acc->len) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s: no access of device '%s'", rl->path,
                    device);
    }
    return *err ? -1 : 0;
}

/* ---- What each recording's guest last wrote to each register, walking forwards ---- */

struct written {
    uint64_t value, index; /* the last value written and the access that wrote it */
};

gpointer rl_reg_key(uint8_t bar, uint64_t off)
{
    return GSIZE_TO_POINTER(((uint64_t)bar + 1) << 56 | off);
}

/* Apply rec's writes before access upto to its table. */
static void walk_to(struct rl_learner *l, unsigned k, uint64_t upto)
{
    const struct rl_recording *rec = &l->rec[k];

    for (; l->pos[k] < upto; l->pos[k]++) {
        const struct rl_access *a = &g_array_index(rec->acc, struct rl_access, l->pos[k]);
        if (a->type != MMIOTRACE_WRITE) {
            continue;
        }
        struct written *w = g_hash_table_lookup(l->written[k], rl_reg_key(a->bar, a->off));
        if (!w) {
            w = g_new(struct written, 1);
            g_hash_table_insert(l->written[k], rl_reg_key(a->bar, a->off), w);
        }
        w->value = a->value;
        w->index = l->pos[k];
    }
}

static uint64_t width_mask(unsigned width)
{
    return width < 8 ? (1ull << 8 * width) - 1 : UINT64_MAX;
}

/*
 * A register that in every recording k was last written, before access at[k], with the value
 * of that access (cut to its width): for a read its own register if it qualifies (a value
 * read back), else the one written last in the first recording. A write does not relate to
 * its own register.
 */
static bool find_rel(struct rl_learner *l, const uint64_t *at, uint8_t *bar, uint64_t *off)
{
    const struct rl_access *a0 = &g_array_index(l->rec[0].acc, struct rl_access, at[0]);
    uint64_t mask = width_mask(a0->width), best = 0;
    gpointer own = rl_reg_key(a0->bar, a0->off), key, val, found = NULL;
    GHashTableIter it;

    g_hash_table_iter_init(&it, l->written[0]);
    while (g_hash_table_iter_next(&it, &key, &val)) {
        const struct written *w0 = val;
        if ((w0->value & mask) != a0->value || (a0->type == MMIOTRACE_WRITE && key == own) ||
            (found && key != own && w0->index < best)) {
            continue;
        }
        bool all = true;
        for (unsigned k = 1; k < l->n && all; k++) {
            const struct rl_access *ak = &g_array_index(l->rec[k].acc, struct rl_access, at[k]);
            const struct written *wk = g_hash_table_lookup(l->written[k], key);
            all = wk && (wk->value & mask) == ak->value;
        }
        if (all) {
            found = key;
            best = key == own ? UINT64_MAX : w0->index;
        }
    }
    if (!found) {
        return false;
    }
    uint64_t k = GPOINTER_TO_SIZE(found);
    *bar = (k >> 56) - 1;
    *off = k & ((1ull << 56) - 1);
    return true;
}

/*
 * The bits of a written value a replay checks, given the bits that differed between the
 * recordings. Two or three runs cannot tell a field from a number, so: differing bits that
 * spread over 8 or more bits, or that all lie at bit 12 or above (a page address), are a
 * number (an address, a counter, a random key) whose higher bits may differ in another run
 * too: from the lowest bit that differed up, none is checked, and for a page address none
 * from bit 12 up (another run's page differs in any bit of its number). Otherwise (a few
 * low bits) only the bits from the lowest to the highest that differed are not checked.
 * When a quarter of the bits or more differed, the value looks random (a key): none is.
 */
static uint64_t stable_mask(uint64_t differ, unsigned width)
{
    unsigned lo = __builtin_ctzll(differ), hi = 63 - __builtin_clzll(differ);
    uint64_t below = lo >= 12 ? 0xfff : lo ? (1ull << lo) - 1 : 0;
    bool field = hi - lo + 1 < 8 && lo < 12;

    if ((unsigned)__builtin_popcountll(differ) >= 2 * width) {
        return 0;
    }
    uint64_t span = field ? ((1ull << (hi + 1)) - 1) & ~below : ~below;

    return ~span & width_mask(width);
}

/* The access at[0] of the first recording, aligned with at[k] in the others: its note. */
static void learn_value(struct rl_learner *l, const uint64_t *at)
{
    const struct rl_access *a0 = &g_array_index(l->rec[0].acc, struct rl_access, at[0]);
    struct rl_note *note = &l->notes[at[0]];
    uint64_t differ = 0;

    for (unsigned k = 1; k < l->n; k++) {
        differ |= g_array_index(l->rec[k].acc, struct rl_access, at[k]).value ^ a0->value;
    }
    if (!differ) {
        return;
    }
    for (unsigned k = 0; k < l->n; k++) {
        walk_to(l, k, at[k]);
    }
    bool rel = find_rel(l, at, &note->rel_bar, &note->rel_off);
    if (rel) {
        note->ext |= MMIOTRACE_EXT_REL;
    }
    if (a0->type == MMIOTRACE_READ) {
        l->sum->differing_reads++;
        l->sum->rel_reads += rel;
    } else if (rel) {
        l->sum->rel_writes++;
    } else {
        note->ext |= MMIOTRACE_EXT_MATCH;
        note->mask = stable_mask(differ, a0->width);
        l->sum->match_writes++;
    }
}

/* The first recording's token t, aligned in every recording (tk[k]): its notes. */
static void learn_token(struct rl_learner *l, guint t, const int32_t *tk)
{
    const struct rl_token *t0 = &g_array_index(l->rec[0].tok, struct rl_token, t);
    bool vary = false;
    uint64_t at[RL_MAX_RECORDINGS];

    for (unsigned k = 1; k < l->n; k++) {
        vary |= g_array_index(l->rec[k].tok, struct rl_token, tk[k]).count != t0->count;
    }
    if (vary) { /* a poll whose count varies: its reads may be repeated or not */
        for (uint32_t p = 0; p < t0->count; p++) {
            l->notes[t0->first + p].ext |= MMIOTRACE_EXT_POLL;
        }
        l->sum->polls++;
        l->sum->poll_reads += t0->count;
        return;
    }
    for (uint32_t p = 0; p < t0->count; p++) {
        at[0] = t0->first + p;
        for (unsigned k = 1; k < l->n; k++) {
            at[k] = g_array_index(l->rec[k].tok, struct rl_token, tk[k]).first + p;
        }
        learn_value(l, at);
    }
}

static void unaligned(struct rl_learner *l, unsigned k, guint t, unsigned other)
{
    const struct rl_token *tok = &g_array_index(l->rec[k].tok, struct rl_token, t);
    const struct rl_access *a = &g_array_index(l->rec[k].acc, struct rl_access, tok->first);

    g_ptr_array_add(l->sum->unaligned,
                    g_strdup_printf("%s:%" PRIu64 ": %s %u BAR%u+0x%" PRIx64 "%s not in %s",
                                    l->rec[k].path, a->line, a->type == MMIOTRACE_READ ? "R" : "W",
                                    a->width, a->bar, a->off,
                                    tok->count > 1 ? " (a run of reads)" : "", l->rec[other].path));
}

/* Whether the other recordings' earlier insertions at after hold token j of recording k. */
static bool inserted_before(struct rl_learner *l, GHashTable *seen, int64_t after, unsigned k,
                            guint j)
{
    const struct rl_token *tok = &g_array_index(l->rec[k].tok, struct rl_token, j);
    GString *key = g_string_new(NULL);

    g_string_append_printf(key, "%" PRId64, after);
    for (uint32_t p = 0; p < tok->count; p++) {
        const struct rl_access *a = &g_array_index(l->rec[k].acc, struct rl_access, tok->first + p);
        g_string_append_printf(key, " %c%u:%u:%" PRIx64 "=%" PRIx64,
                               a->type == MMIOTRACE_READ ? 'R' : 'W', a->width, a->bar, a->off,
                               a->value);
    }
    gpointer owner;
    if (g_hash_table_lookup_extended(seen, key->str, NULL, &owner) &&
        GPOINTER_TO_UINT(owner) != k) {
        g_string_free(key, TRUE);
        return true;
    }
    g_hash_table_insert(seen, g_string_free(key, FALSE), GUINT_TO_POINTER(k));
    return false;
}

/* Token t of recording k is (not) aligned: the stretches of those not aligned grow. */
static void note_stretch(struct rl_learner *l, unsigned k, guint t, bool unaligned)
{
    struct rl_stretch *last =
        l->stretches->len ? &g_array_index(l->stretches, struct rl_stretch, l->stretches->len - 1)
                          : NULL;
    if (!unaligned) {
        return;
    }
    if (last && last->k == k && last->first + last->count == t) {
        last->count++;
    } else {
        struct rl_stretch st = {k, t, 1};
        g_array_append_val(l->stretches, st);
    }
}

/*
 * Recording k's tokens that the first did not make (back[j] < 0): listed as not aligned, and
 * inserted after the first recording's access matched last before them, unless an earlier
 * recording's insertion there was the same.
 */
static void insert_others(struct rl_learner *l, unsigned k, const int32_t *back, GHashTable *seen)
{
    const GArray *tok0 = l->rec[0].tok;
    int64_t after = -1;

    for (guint j = 0; j < l->rec[k].tok->len; j++) {
        note_stretch(l, k, j, back[j] < 0);
        if (back[j] >= 0) {
            const struct rl_token *t0 = &g_array_index(tok0, struct rl_token, back[j]);
            after = (int64_t)t0->first + t0->count - 1;
            continue;
        }
        unaligned(l, k, j, 0);
        if (inserted_before(l, seen, after, k, j)) {
            continue;
        }
        const struct rl_token *tok = &g_array_index(l->rec[k].tok, struct rl_token, j);
        for (uint32_t p = 0; p < tok->count; p++) {
            struct rl_insert in = {.after = after, .k = k, .access = tok->first + p};
            in.note.ext = MMIOTRACE_EXT_OPT;
            g_array_append_val(l->inserts, in);
            l->sum->inserted++;
        }
    }
}

static gint insert_order(gconstpointer a, gconstpointer b)
{
    const struct rl_insert *x = a, *y = b;

    if (x->after != y->after) {
        return x->after < y->after ? -1 : 1;
    }
    if (x->k != y->k) {
        return x->k < y->k ? -1 : 1;
    }
    return x->access < y->access ? -1 : x->access > y->access;
}

/*
 * Optional writes (opt=1, made in some recordings only) have no other run to compare their
 * value with: they get the mask learned for their register's aligned writes (the bits checked
 * in every one of them), if any was learned.
 */
static void learned_masks(struct rl_learner *l, GHashTable *masks)
{
    const GArray *acc0 = l->rec[0].acc;

    for (guint i = 0; i < acc0->len; i++) {
        const struct rl_access *a = &g_array_index(acc0, struct rl_access, i);
        if (l->notes[i].ext & MMIOTRACE_EXT_MATCH) {
            uint64_t *m = g_hash_table_lookup(masks, rl_reg_key(a->bar, a->off));
            if (!m) {
                m = g_new(uint64_t, 1);
                *m = UINT64_MAX;
                g_hash_table_insert(masks, rl_reg_key(a->bar, a->off), m);
            }
            *m &= l->notes[i].mask;
        }
    }
}

static void mask_optional_writes(struct rl_learner *l, GHashTable *masks)
{
    const GArray *acc0 = l->rec[0].acc;

    for (guint i = 0; i < acc0->len + l->inserts->len; i++) {
        struct rl_insert *in =
            i < acc0->len ? NULL : &g_array_index(l->inserts, struct rl_insert, i - acc0->len);
        const struct rl_access *a =
            in ? &g_array_index(l->rec[in->k].acc, struct rl_access, in->access)
               : &g_array_index(acc0, struct rl_access, i);
        struct rl_note *note = in ? &in->note : &l->notes[i];
        const uint64_t *m = g_hash_table_lookup(masks, rl_reg_key(a->bar, a->off));
        if (a->type == MMIOTRACE_WRITE && (note->ext & MMIOTRACE_EXT_OPT) && m &&
            !(note->ext & (MMIOTRACE_EXT_MATCH | MMIOTRACE_EXT_REL))) {
            note->ext |= MMIOTRACE_EXT_MATCH;
            note->mask = *m & width_mask(a->width);
            l->sum->optional_match++;
        }
    }
}

/* The first recording's token t, not in every recording: its accesses are optional. */
void rl_optional_token(struct rl_learner *l, guint t)
{
    const struct rl_token *t0 = &g_array_index(l->rec[0].tok, struct rl_token, t);

    for (uint32_t p = 0; p < t0->count; p++) {
        l->notes[t0->first + p].ext |= MMIOTRACE_EXT_OPT;
    }
}

/* Align every recording with the first and note what differs. */
static void learn_all(struct rl_learner *l)
{
    guint n0 = l->rec[0].tok->len;
    int32_t *match[RL_MAX_RECORDINGS] = {NULL};
    g_autoptr(GHashTable) seen = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);

    for (unsigned k = 1; k < l->n; k++) {
        match[k] = g_new(int32_t, n0);
        g_autofree int32_t *back = g_new(int32_t, l->rec[k].tok->len);
        if (!rl_align(&l->rec[0], &l->rec[k], match[k], back)) {
            l->sum->approximate++;
        }
        insert_others(l, k, back, seen);
    }
    g_array_sort(l->inserts, insert_order);
    for (guint t = 0; t < n0; t++) {
        int32_t tk[RL_MAX_RECORDINGS];
        bool all = true;
        for (unsigned k = 1; k < l->n; k++) {
            tk[k] = match[k][t];
            if (tk[k] < 0) {
                unaligned(l, 0, t, k);
                all = false;
            }
        }
        note_stretch(l, 0, t, !all);
        if (all) {
            l->sum->accesses[1] += g_array_index(l->rec[0].tok, struct rl_token, t).count;
            learn_token(l, t, tk);
        } else {
            rl_optional_token(l, t);
            l->sum->optional += g_array_index(l->rec[0].tok, struct rl_token, t).count;
        }
    }
    g_autoptr(GHashTable) masks =
        g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
    learned_masks(l, masks);
    rl_mark_repeated(l, masks);
    mask_optional_writes(l, masks);
    for (unsigned k = 1; k < l->n; k++) {
        g_free(match[k]);
    }
}

/* See replay-learn-int.h. */
int rl_learner_run(struct rl_learner *l, char **paths, const char *device, GError **err)
{
    g_autofree char *dev = pick_device(paths[0], device, err);

    if (!dev) {
        return -1;
    }
    l->device = g_strdup(dev);
    for (unsigned k = 0; k < l->n; k++) {
        l->rec[k].path = paths[k];
        l->rec[k].acc = g_array_new(FALSE, FALSE, sizeof(struct rl_access));
        l->rec[k].tok = g_array_new(FALSE, FALSE, sizeof(struct rl_token));
        l->written[k] = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free);
        if (load(&l->rec[k], dev, err) < 0) {
            return -1;
        }
        rl_tokenize(&l->rec[k]);
    }
    l->notes = g_new0(struct rl_note, l->rec[0].acc->len);
    l->inserts = g_array_new(FALSE, FALSE, sizeof(struct rl_insert));
    l->stretches = g_array_new(FALSE, FALSE, sizeof(struct rl_stretch));
    l->sum->accesses[0] = l->rec[0].acc->len;
    learn_all(l);
    return 0;
}

void rl_learner_free(struct rl_learner *l)
{
    for (unsigned k = 0; k < l->n; k++) {
        if (l->rec[k].acc) {
            g_array_free(l->rec[k].acc, TRUE);
            g_array_free(l->rec[k].tok, TRUE);
            g_hash_table_destroy(l->written[k]);
        }
    }
    g_free(l->notes);
    if (l->inserts) {
        g_array_free(l->inserts, TRUE);
        g_array_free(l->stretches, TRUE);
    }
    g_free(l->device);
}
