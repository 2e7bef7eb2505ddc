/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --fuzz: the recording's reads that may be mutated, the seeded choice of the
 * mutations of each run, and the mutated copies of the recording (replay-fuzz.h).
 *
 * The choice is a function of the seed and the run number alone (docs/replay-fuzz.md):
 * splitmix64 seeded with S ^ (run * 0xd1b54a32d192ed03) gives 64-bit numbers x; "x mod n"
 * picks among n. So run 3 of seed 7 mutates the same reads the same way whatever N is, on
 * every machine and GLib version.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "mmiotrace.h"
#include "replay-fuzz.h"

static uint64_t fz_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint64_t width_mask(unsigned width)
{
    return width >= 8 ? ~0ull : (1ull << (width * 8)) - 1;
}

/* Whether rec is an access of the replayed device (any device if the records are unnamed). */
static bool is_device(const struct mmiotrace_record *r, const char *device)
{
    if (!device || !(r->ext & MMIOTRACE_EXT_DEV)) {
        return true;
    }
    return r->dev_len == strlen(device) && !memcmp(r->dev, device, r->dev_len);
}

/* A read of the register the device's previous access read is a poll, and so is that one. */
static void add_read(struct fz_recording *rec, const struct mmiotrace_record *r, uint64_t index,
                     uint64_t line, const struct mmiotrace_record *prev, uint64_t prev_index)
{
    struct fz_read rd = {
        .index = index,
        .line = line,
        .value = r->rw.value,
        .off = (r->ext & MMIOTRACE_EXT_BAR) ? r->bar_off : r->rw.phys,
        .width = r->rw.width,
        .bar = (r->ext & MMIOTRACE_EXT_BAR) ? r->bar : 0,
        .weight = 4,
    };
    bool poll = prev && prev->type == MMIOTRACE_READ && prev->rw.width == r->rw.width &&
                prev->rw.phys == r->rw.phys && rec->reads->len &&
                g_array_index(rec->reads, struct fz_read, rec->reads->len - 1).index == prev_index;
    if (poll) {
        rd.weight = 1;
        g_array_index(rec->reads, struct fz_read, rec->reads->len - 1).weight = 1;
    }
    if (rd.value == width_mask(rd.width) || (r->ext & MMIOTRACE_EXT_POLL)) {
        rd.weight = 1;
    }
    g_array_append_val(rec->reads, rd);
}

bool fz_recording_load(struct fz_recording *rec, const char *path, const char *device, GError **err)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    struct mmiotrace_record cur, prev;
    bool have_prev = false;
    uint64_t index = 0, prev_index = 0;
    int ret;

    memset(rec, 0, sizeof(*rec));
    rec->path = path;
    rec->reads = g_array_new(FALSE, FALSE, sizeof(struct fz_read));
    rec->device = g_strdup(device);
    if (!r) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot read %s: %s", path,
                    g_strerror(errno));
        return false;
    }
    for (; (ret = mmiotrace_reader_next(r, &cur)) == 1; index++) {
        if (cur.type == MMIOTRACE_PCIDEV && !rec->device && (cur.ext & MMIOTRACE_EXT_DEV)) {
            rec->device = g_strndup(cur.dev, cur.dev_len);
        }
        if ((cur.type != MMIOTRACE_READ && cur.type != MMIOTRACE_WRITE) ||
            !is_device(&cur, rec->device)) {
            continue;
        }
        /* a read annotated rel= returns what the guest wrote, whatever the recorded value */
        if (cur.type == MMIOTRACE_READ && !(cur.ext & MMIOTRACE_EXT_REL)) {
            add_read(rec, &cur, index, mmiotrace_reader_line(r), have_prev ? &prev : NULL,
                     prev_index);
        }
        prev = cur; /* only its scalar fields are used */
        prev_index = index;
        have_prev = true;
    }
    if (ret < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", mmiotrace_reader_error(r));
    } else if (!rec->reads->len) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL,
                    "%s: the recording has no read of %s to mutate", path,
                    rec->device ? rec->device : "the device");
        ret = -1;
    }
    mmiotrace_reader_free(r);
    return ret >= 0;
}

void fz_recording_clear(struct fz_recording *rec)
{
    if (rec->reads) {
        g_array_free(rec->reads, TRUE);
    }
    g_free(rec->device);
    memset(rec, 0, sizeof(*rec));
}

const char *fz_kind_name(enum fz_kind kind)
{
    static const char *const names[] = {
        [FZ_BITFLIP] = "bit-flip",
        [FZ_ZERO] = "zero",
        [FZ_ONE] = "one",
        [FZ_ALL_ONES] = "all-ones",
        [FZ_SIGN_BIT] = "sign-bit",
        [FZ_MAX_SIGNED] = "max-signed",
        [FZ_REMOVAL] = "surprise-removal",
    };
    return names[kind];
}

/* The value kind gives a read of old with width bytes. */
static uint64_t mutated_value(enum fz_kind kind, unsigned bit, uint64_t old, unsigned width)
{
    uint64_t sign = 1ull << (width * 8 - 1);
    switch (kind) {
    case FZ_BITFLIP:
        return old ^ (1ull << bit);
    case FZ_ZERO:
        return 0;
    case FZ_ONE:
        return 1;
    case FZ_SIGN_BIT:
        return sign;
    case FZ_MAX_SIGNED:
        return sign - 1;
    case FZ_ALL_ONES:
    case FZ_REMOVAL:
        break;
    }
    return width_mask(width);
}

/* One mutation of read rd: the kind from x (45% bit flips, 10% zero, 7% one, 13% all-ones,
 * 8% sign bit, 7% the largest signed value, 10% surprise removal); a value equal to the
 * recorded one becomes a flip of bit x mod (8 * width). */
static struct fz_mutation make_mutation(size_t read, const struct fz_read *rd, uint64_t x)
{
    static const struct {
        unsigned below;
        enum fz_kind kind;
    } table[] = {
        {45, FZ_BITFLIP},  {55, FZ_ZERO},       {62, FZ_ONE},      {75, FZ_ALL_ONES},
        {83, FZ_SIGN_BIT}, {90, FZ_MAX_SIGNED}, {100, FZ_REMOVAL},
    };
    unsigned pct = (unsigned)(x % 100), bit = (unsigned)((x / 100) % (8u * rd->width));
    struct fz_mutation m = {.read = read, .kind = FZ_BITFLIP, .bit = bit};
    for (size_t i = 0; i < G_N_ELEMENTS(table); i++) {
        if (pct < table[i].below) {
            m.kind = table[i].kind;
            break;
        }
    }
    m.new_value = mutated_value(m.kind, bit, rd->value, rd->width);
    if (m.new_value == rd->value && m.kind != FZ_REMOVAL) {
        m.kind = FZ_BITFLIP;
        m.new_value = mutated_value(m.kind, bit, rd->value, rd->width);
    }
    return m;
}

size_t fz_choose(const struct fz_recording *rec, uint64_t seed, unsigned run, int max,
                 struct fz_mutation *out)
{
    uint64_t s = seed ^ ((uint64_t)run * 0xd1b54a32d192ed03ull);
    size_t nreads = rec->reads->len, want = 1 + fz_next(&s) % (uint64_t)max, n = 0;
    g_autofree bool *taken = g_new0(bool, nreads);
    uint64_t total = 0;

    for (size_t i = 0; i < nreads; i++) {
        total += g_array_index(rec->reads, struct fz_read, i).weight;
    }
    for (; n < want && total; n++) {
        uint64_t x = fz_next(&s) % total;
        size_t i = 0;
        for (;; i++) { /* the read whose weight interval holds x, among those not taken */
            unsigned w = taken[i] ? 0 : g_array_index(rec->reads, struct fz_read, i).weight;
            if (x < w) {
                break;
            }
            x -= w;
        }
        taken[i] = true;
        const struct fz_read *rd = &g_array_index(rec->reads, struct fz_read, i);
        total -= rd->weight;
        out[n] = make_mutation(i, rd, fz_next(&s));
    }
    return n;
}

char *fz_describe(const struct fz_recording *rec, const struct fz_mutation *m)
{
    const struct fz_read *rd = &g_array_index(rec->reads, struct fz_read, m->read);
    g_autofree char *kind = m->kind == FZ_BITFLIP ? g_strdup_printf("bit-flip %u", m->bit)
                                                  : g_strdup(fz_kind_name(m->kind));
    return g_strdup_printf("line %" PRIu64 ": R %u bar=%u off=0x%" PRIx64 " 0x%" PRIx64
                           " -> 0x%" PRIx64 "%s (%s)",
                           rd->line, rd->width, rd->bar, rd->off, rd->value, m->new_value,
                           m->kind == FZ_REMOVAL ? " and every later read" : "", kind);
}

/* The value record index (a read of the device) gets under muts, or its own. */
static uint64_t value_under(const struct fz_recording *rec, const struct fz_mutation *muts,
                            size_t n, uint64_t index, uint64_t value, unsigned width)
{
    for (size_t i = 0; i < n; i++) {
        const struct fz_read *rd = &g_array_index(rec->reads, struct fz_read, muts[i].read);
        if (rd->index == index) {
            return muts[i].new_value;
        }
        if (muts[i].kind == FZ_REMOVAL && index > rd->index) {
            return width_mask(width);
        }
    }
    return value;
}

bool fz_write_mutated(const struct fz_recording *rec, const struct fz_mutation *muts, size_t n,
                      const char *path, GError **err)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open(rec->path);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    struct mmiotrace_writer *w =
        fd >= 0 ? mmiotrace_writer_new_fd(fd, MMIOTRACE_FMT_EXTENDED) : NULL;
    struct mmiotrace_record cur;
    uint64_t index = 0;
    int ret = -1;

    if (r && w) {
        for (; (ret = mmiotrace_reader_next(r, &cur)) == 1; index++) {
            if (cur.type == MMIOTRACE_READ && is_device(&cur, rec->device)) {
                cur.rw.value = value_under(rec, muts, n, index, cur.rw.value, cur.rw.width);
            }
            if (mmiotrace_writer_write(w, &cur) < 0) {
                ret = -1;
                break;
            }
        }
    }
    if (w && mmiotrace_writer_free(w) < 0) {
        ret = -1;
    }
    if (fd >= 0 && close(fd) < 0) {
        ret = -1;
    }
    if (ret < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "cannot write %s: %s", path,
                    r && mmiotrace_reader_error(r) ? mmiotrace_reader_error(r) : g_strerror(errno));
    }
    if (r) {
        mmiotrace_reader_free(r);
    }
    return ret == 0;
}

/* --fuzz's options (file scope: the option table points into it) */
static struct {
    int runs, mutations, minimize_runs, timeout_s;
    char *seed, *json;
    gboolean list, stop;
} fz_opt = {.runs = INT_MIN, .mutations = 3, .minimize_runs = 8}; /* INT_MIN: no --fuzz */

static const GOptionEntry fz_entries[] = {
    {"fuzz", 0, 0, G_OPTION_ARG_INT, &fz_opt.runs,
     "Fuzz the driver: a baseline run, then N runs with read values of the recording mutated "
     "(bit flips, 0, 1, all-ones, sign bit, largest signed value, surprise removal); crashes "
     "on the guest console (oops, BUG, WARN, KASAN, UBSAN, panic, lockups, hangs) are "
     "minimized and reported (output in hvmmio-out/fuzz-SCENARIO unless --output); exit status 1 "
     "if any",
     "N"},
    {"seed", 0, 0, G_OPTION_ARG_STRING, &fz_opt.seed,
     "The seed that chooses the mutations (default 1): the same seed, the same runs", "S"},
    {"fuzz-mutations", 0, 0, G_OPTION_ARG_INT, &fz_opt.mutations,
     "At most M reads mutated per run (1-16, default 3)", "M"},
    {"minimize-runs", 0, 0, G_OPTION_ARG_INT, &fz_opt.minimize_runs,
     "At most R guest runs to minimize each crash (default 8)", "R"},
    {"fuzz-timeout", 0, 0, G_OPTION_ARG_INT, &fz_opt.timeout_s,
     "A mutated run that takes longer is a hang (default: 3 times the baseline run + 10 s)",
     "SECONDS"},
    {"fuzz-list", 0, 0, G_OPTION_ARG_NONE, &fz_opt.list,
     "Print the mutations of each of the N runs and exit without running a guest", NULL},
    {"stop-at-crash", 0, 0, G_OPTION_ARG_NONE, &fz_opt.stop,
     "No more runs once a crash was found and minimized", NULL},
    {"json", 0, 0, G_OPTION_ARG_FILENAME, &fz_opt.json,
     "The JSON report (default OUTPUT/fuzz-report.json)", "FILE"},
    {NULL},
};

const GOptionEntry *fz_option_entries(void)
{
    return fz_entries;
}

bool fz_wanted(void)
{
    return fz_opt.runs != INT_MIN;
}

bool fz_options_valid(const char **why)
{
    guint64 seed = 1;
    *why = NULL;
    if (!fz_wanted() && (fz_opt.seed || fz_opt.json || fz_opt.timeout_s || fz_opt.list ||
                         fz_opt.stop || fz_opt.mutations != 3 || fz_opt.minimize_runs != 8)) {
        *why = "--seed, --fuzz-mutations, --minimize-runs, --fuzz-timeout, --fuzz-list, "
               "--stop-at-crash and --json need --fuzz";
    } else if (fz_wanted() && fz_opt.runs < 1) {
        *why = "--fuzz wants a number of runs of at least 1";
    } else if (fz_opt.seed &&
               !g_ascii_string_to_unsigned(fz_opt.seed, 10, 0, G_MAXUINT64, &seed, NULL)) {
        *why = "--seed wants a decimal number from 0 to 18446744073709551615";
    } else if (fz_opt.mutations < 1 || fz_opt.mutations > 16) {
        *why = "--fuzz-mutations wants a number from 1 to 16";
    } else if (fz_opt.minimize_runs < 0) {
        *why = "--minimize-runs wants a number of runs of at least 0";
    } else if (fz_opt.timeout_s < 0) {
        *why = "--fuzz-timeout wants a number of seconds of at least 1";
    }
    return !*why;
}

void fz_options_apply(struct fz_options *o)
{
    guint64 seed = 1;
    if (fz_opt.seed) {
        g_ascii_string_to_unsigned(fz_opt.seed, 10, 0, G_MAXUINT64, &seed, NULL);
    }
    o->runs = fz_opt.runs;
    o->seed = seed;
    o->max_mutations = fz_opt.mutations;
    o->minimize_runs = fz_opt.minimize_runs;
    o->timeout_s = fz_opt.timeout_s;
    o->json = fz_opt.json;
    o->list_only = fz_opt.list;
    o->stop_at_crash = fz_opt.stop;
}
