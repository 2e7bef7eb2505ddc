/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --fuzz: the guest runs (a baseline, then N runs with mutations), the
 * minimization of each distinct crash (delta debugging, ddmin, within a budget of runs) and
 * the report on stdout and in JSON (replay-fuzz.h, docs/replay-fuzz.md).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib/gstdio.h>
#include <json-c/json.h>

#include "replay-fuzz.h"
#include "run.h"

#define FZ_MAX_MUTATIONS 16

/* A distinct crash: the run that found it, its mutations and the smallest set kept. */
struct fz_found {
    struct fz_crash crash;
    unsigned number, first_run, seen;
    struct fz_mutation muts[FZ_MAX_MUTATIONS], min[FZ_MAX_MUTATIONS];
    size_t nmuts, nmin;
    unsigned min_runs; /* guest runs the minimization took */
    char *reproducer;  /* the recording with the smallest set applied */
};

struct fz_state {
    const struct fz_options *o;
    struct fz_recording rec;
    GHashTable *baseline; /* keys of crashes the unmutated recording makes too */
    GPtrArray *found;     /* struct fz_found */
    int timeout_s;
    unsigned guest_runs;
    unsigned fuzz_runs; /* of the N asked for (fewer with --stop-at-crash) */
    bool refused;       /* hvmmio run refused the options (an unknown scenario, ...) */
};

/* The outcome of one guest run. */
enum fz_outcome { FZ_PASSED, FZ_FAILED, FZ_CRASHED, FZ_ERROR };

/* hvmmio_run with its stderr in DIR/run.log (a crashing guest makes it complain). */
static int run_quietly(HvmmioRunOptions *ro, HvmmioRunResult *res, const char *dir)
{
    g_autofree char *log = g_build_filename(dir, "run.log", NULL);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    fflush(stderr);
    int saved = fd >= 0 ? dup(STDERR_FILENO) : -1;
    if (saved >= 0) {
        dup2(fd, STDERR_FILENO);
    }
    int rc = hvmmio_run(ro, res);
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, STDERR_FILENO);
        close(saved);
    }
    if (fd >= 0) {
        close(fd);
    }
    return rc;
}

/* Boot the scenario against the recording with muts applied, in dir; a crash in out. */
static enum fz_outcome guest_run(struct fz_state *st, const struct fz_mutation *muts, size_t n,
                                 const char *dir, struct fz_crash *out)
{
    const struct fz_options *o = st->o;
    g_autoptr(GError) err = NULL;
    g_autofree char *trace = g_build_filename(dir, "mutated.trace", NULL);
    memset(out, 0, sizeof(*out));
    if (g_mkdir_with_parents(dir, 0755) < 0 || !fz_write_mutated(&st->rec, muts, n, trace, &err)) {
        fprintf(stderr, "hvmmio replay: %s\n", err ? err->message : g_strerror(errno));
        return FZ_ERROR;
    }
    GString *dev = g_string_new("mmiotrace-replay,id=replay,report=replay-report.txt");
    g_string_append_printf(dev, ",trace=%s,on-divergence=continue", trace);
    if (o->devfn >= 0) {
        g_string_append_printf(dev, ",addr=0x%x.%x", o->devfn >> 3, o->devfn & 7);
    }
    g_string_append_printf(dev, "%s%s%s%s", o->device ? ",device=" : "", o->device ? o->device : "",
                           o->mode ? ",mode=" : "", o->mode ? o->mode : "");
    const char *devices[] = {dev->str, NULL};
    HvmmioRunOptions ro;
    HvmmioRunResult res = {0};
    hvmmio_run_options_init(&ro);
    ro.quiet = TRUE;
    ro.outdir = dir;
    ro.timeout_s = st->timeout_s;
    ro.devices = devices;
    ro.accel = o->accel ? o->accel : "auto";
    ro.scenario = o->scenario;
    ro.scenario_args = o->args;
    /* warnings on the console; an oops ends the run at once (panic=-1 and -no-reboot) */
    ro.append = "loglevel=5 oops=panic";
    int rc = run_quietly(&ro, &res, dir);
    g_string_free(dev, TRUE);
    st->guest_runs++;
    if (rc == 2) { /* refused before a guest booted: say why (hvmmio run's message) */
        g_autofree char *log_path = g_build_filename(dir, "run.log", NULL);
        g_autofree char *log = NULL;
        g_file_get_contents(log_path, &log, NULL, NULL);
        fprintf(stderr, "%s", log && *log ? log : "hvmmio replay: the run was refused\n");
        st->refused = true;
        return FZ_ERROR;
    }
    g_autofree char *console = g_build_filename(dir, "console.log", NULL);
    if (st->timeout_s && res.seconds > st->timeout_s / 2.0 && !res.timed_out) {
        st->timeout_s = (int)(res.seconds * 2) + 10; /* a slower machine than the baseline's */
    }
    if (fz_console_crash(console, out)) {
        return FZ_CRASHED;
    }
    if (res.timed_out) {
        fz_console_hang(console, st->timeout_s, out);
        return FZ_CRASHED;
    }
    return rc ? FZ_FAILED : FZ_PASSED;
}

/* A new crash keyed out->key: NULL if known (seen counted), else the new entry. */
static struct fz_found *note_crash(struct fz_state *st, struct fz_crash *c, unsigned run,
                                   const struct fz_mutation *muts, size_t n)
{
    for (guint i = 0; i < st->found->len; i++) {
        struct fz_found *f = g_ptr_array_index(st->found, i);
        if (!strcmp(f->crash.key, c->key)) {
            f->seen++;
            return NULL;
        }
    }
    struct fz_found *f = g_new0(struct fz_found, 1);
    f->crash = *c;
    memset(c, 0, sizeof(*c));
    f->number = st->found->len + 1;
    f->first_run = run;
    f->seen = 1;
    f->nmuts = f->nmin = n;
    memcpy(f->muts, muts, n * sizeof(*muts));
    memcpy(f->min, muts, n * sizeof(*muts));
    g_ptr_array_add(st->found, f);
    return f;
}

/* Whether the mutations in subset (a bit mask over f->min) still make f's crash. */
static bool still_crashes(struct fz_state *st, struct fz_found *f, guint64 subset,
                          GHashTable *tried)
{
    gpointer known;
    if (g_hash_table_lookup_extended(tried, &subset, NULL, &known)) {
        return GPOINTER_TO_INT(known);
    }
    struct fz_mutation muts[FZ_MAX_MUTATIONS];
    size_t n = 0;
    for (size_t i = 0; i < f->nmin; i++) {
        if (subset & (1ull << i)) {
            muts[n++] = f->min[i];
        }
    }
    g_autofree char *dir =
        g_strdup_printf("%s/crash-%u/min-%02u", st->o->outdir, f->number, ++f->min_runs);
    struct fz_crash c;
    enum fz_outcome oc = guest_run(st, muts, n, dir, &c);
    bool same = oc == FZ_CRASHED && !strcmp(c.key, f->crash.key);
    fz_crash_clear(&c);
    if (!st->o->quiet) {
        fprintf(stderr, "hvmmio replay --fuzz:   minimizing: %zu of %zu mutations: %s\n", n,
                f->nmin, same ? "the same crash" : "not it");
    }
    guint64 *key = g_new(guint64, 1);
    *key = subset;
    g_hash_table_insert(tried, key, GINT_TO_POINTER(same));
    return same;
}

/* Keep in f->min only the mutations of subset. */
static void keep_subset(struct fz_found *f, guint64 subset)
{
    size_t n = 0;
    for (size_t i = 0; i < f->nmin; i++) {
        if (subset & (1ull << i)) {
            f->min[n++] = f->min[i];
        }
    }
    f->nmin = n;
}

/* ddmin (Zeller): try chunks, then complements, at granularity g, within the budget. */
static void minimize(struct fz_state *st, struct fz_found *f)
{
    size_t g = 2;
    while (f->nmin >= 2 && f->min_runs < (unsigned)st->o->minimize_runs) {
        g_autoptr(GHashTable) tried =
            g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, NULL);
        guint64 all = (f->nmin == 64 ? 0 : 1ull << f->nmin) - 1, found = 0;
        size_t chunk = (f->nmin + g - 1) / g;
        for (size_t pass = 0; pass < 2 && !found; pass++) {
            for (size_t c = 0; c * chunk < f->nmin && !found; c++) {
                guint64 part = ((1ull << chunk) - 1) << (c * chunk) & all;
                guint64 subset = pass ? all & ~part : part;
                if (subset && subset != all && f->min_runs < (unsigned)st->o->minimize_runs &&
                    still_crashes(st, f, subset, tried)) {
                    found = subset;
                }
            }
        }
        if (found) {
            keep_subset(f, found);
            g = 2;
        } else if (g >= f->nmin) {
            break;
        } else {
            g = MIN(2 * g, f->nmin);
        }
    }
}

/* "2 mutations: line 43: ...; line 38: ..." */
static char *describe_all(const struct fz_recording *rec, const struct fz_mutation *muts, size_t n)
{
    GString *s = g_string_new(NULL);
    g_string_append_printf(s, "%zu mutation%s", n, n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        g_autofree char *d = fz_describe(rec, &muts[i]);
        g_string_append_printf(s, "%s%s", i ? "; " : ": ", d);
    }
    return g_string_free(s, FALSE);
}

/* The unmutated recording: is the scenario clean, how long does a run take. */
static bool baseline(struct fz_state *st)
{
    g_autofree char *dir = g_build_filename(st->o->outdir, "baseline", NULL);
    struct fz_crash c;
    gint64 t0 = g_get_monotonic_time();
    st->timeout_s = st->o->baseline_timeout_s ? st->o->baseline_timeout_s : 300;
    enum fz_outcome oc = guest_run(st, NULL, 0, dir, &c);
    double secs = (g_get_monotonic_time() - t0) / 1e6;
    if (oc == FZ_ERROR) {
        return false;
    }
    if (!st->o->timeout_s) {
        st->timeout_s = (int)(3 * secs) + 10;
    }
    if (!st->o->quiet) {
        fprintf(stderr,
                "hvmmio replay --fuzz: baseline (no mutation): %s in %.1f s; runs time out "
                "after %d s\n",
                oc == FZ_PASSED   ? "scenario passed"
                : oc == FZ_FAILED ? "scenario FAILED"
                                  : c.title,
                secs, st->timeout_s);
    }
    if (oc == FZ_CRASHED) {
        fprintf(stderr,
                "hvmmio replay --fuzz: warning: the unmutated recording already "
                "crashes (%s): that crash is not counted\n",
                c.key);
        g_hash_table_add(st->baseline, g_strdup(c.key));
    } else if (oc == FZ_FAILED) {
        fprintf(stderr,
                "hvmmio replay --fuzz: warning: the scenario fails without mutations "
                "(see %s)\n",
                dir);
    }
    fz_crash_clear(&c);
    return true;
}

/* Fuzz run number run (1-based). false on an error that ends the fuzzing. */
static bool fuzz_run(struct fz_state *st, unsigned run)
{
    const struct fz_options *o = st->o;
    struct fz_mutation muts[FZ_MAX_MUTATIONS];
    size_t n = fz_choose(&st->rec, o->seed, run, o->max_mutations, muts);
    g_autofree char *dir = g_strdup_printf("%s/run-%03u", o->outdir, run);
    g_autofree char *what = describe_all(&st->rec, muts, n);
    struct fz_crash c;
    enum fz_outcome oc = guest_run(st, muts, n, dir, &c);
    if (oc == FZ_ERROR) {
        return false;
    }
    bool counted = oc == FZ_CRASHED && !g_hash_table_contains(st->baseline, c.key);
    struct fz_found *f = counted ? note_crash(st, &c, run, muts, n) : NULL;
    if (!o->quiet) {
        fprintf(stderr, "hvmmio replay --fuzz: run %u/%d: %s\n  -> %s%s\n", run, o->runs, what,
                oc == FZ_PASSED   ? "no crash (scenario passed)"
                : oc == FZ_FAILED ? "no crash (scenario failed)"
                : f               ? "NEW CRASH: "
                : counted         ? "crash seen before: "
                                  : "baseline crash: ",
                oc == FZ_CRASHED ? (f ? f->crash.title : c.title) : "");
    }
    fz_crash_clear(&c);
    if (f) {
        minimize(st, f);
        g_autofree char *min = describe_all(&st->rec, f->min, f->nmin);
        f->reproducer = g_strdup_printf("%s/crash-%u.trace", o->outdir, f->number);
        g_autoptr(GError) err = NULL;
        if (!fz_write_mutated(&st->rec, f->min, f->nmin, f->reproducer, &err)) {
            fprintf(stderr, "hvmmio replay: %s\n", err->message);
            return false;
        }
        if (!o->quiet) {
            fprintf(stderr, "hvmmio replay --fuzz:   crash %u minimized in %u guest run%s to %s\n",
                    f->number, f->min_runs, f->min_runs == 1 ? "" : "s", min);
        }
    }
    return true;
}

static json_object *mutations_json(const struct fz_recording *rec, const struct fz_mutation *muts,
                                   size_t n)
{
    json_object *a = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        const struct fz_read *rd = &g_array_index(rec->reads, struct fz_read, muts[i].read);
        json_object *m = json_object_new_object();
        json_object_object_add(m, "line", json_object_new_int64((int64_t)rd->line));
        json_object_object_add(m, "record", json_object_new_int64((int64_t)rd->index));
        json_object_object_add(m, "bar", json_object_new_int(rd->bar));
        json_object_object_add(m, "offset", json_object_new_int64((int64_t)rd->off));
        json_object_object_add(m, "width", json_object_new_int(rd->width));
        g_autofree char *oldv = g_strdup_printf("0x%" PRIx64, rd->value);
        g_autofree char *newv = g_strdup_printf("0x%" PRIx64, muts[i].new_value);
        json_object_object_add(m, "old", json_object_new_string(oldv));
        json_object_object_add(m, "new", json_object_new_string(newv));
        json_object_object_add(m, "kind", json_object_new_string(fz_kind_name(muts[i].kind)));
        if (muts[i].kind == FZ_BITFLIP) {
            json_object_object_add(m, "bit", json_object_new_int((int)muts[i].bit));
        }
        json_object_array_add(a, m);
    }
    return a;
}

static json_object *crash_json(const struct fz_state *st, const struct fz_found *f)
{
    json_object *c = json_object_new_object();
    json_object_object_add(c, "key", json_object_new_string(f->crash.key));
    json_object_object_add(c, "title", json_object_new_string(f->crash.title));
    json_object_object_add(c, "message", json_object_new_string(f->crash.message));
    json_object_object_add(c, "first_run", json_object_new_int((int)f->first_run));
    json_object_object_add(c, "runs_seen", json_object_new_int((int)f->seen));
    json_object_object_add(c, "mutations", mutations_json(&st->rec, f->muts, f->nmuts));
    json_object_object_add(c, "minimal", mutations_json(&st->rec, f->min, f->nmin));
    json_object_object_add(c, "minimize_runs", json_object_new_int((int)f->min_runs));
    json_object_object_add(c, "reproducer", json_object_new_string(f->reproducer));
    return c;
}

static bool write_json(const struct fz_state *st, const char *path)
{
    const struct fz_options *o = st->o;
    json_object *j = json_object_new_object();
    json_object_object_add(j, "recording", json_object_new_string(o->trace));
    json_object_object_add(j, "scenario", json_object_new_string(o->scenario));
    json_object_object_add(j, "seed", json_object_new_uint64(o->seed));
    json_object_object_add(j, "runs", json_object_new_int((int)st->fuzz_runs));
    json_object_object_add(j, "runs_asked", json_object_new_int(o->runs));
    json_object_object_add(j, "guest_runs", json_object_new_int((int)st->guest_runs));
    json_object_object_add(j, "candidate_reads", json_object_new_int((int)st->rec.reads->len));
    json_object *a = json_object_new_array();
    for (guint i = 0; i < st->found->len; i++) {
        json_object_array_add(a, crash_json(st, g_ptr_array_index(st->found, i)));
    }
    json_object_object_add(j, "crashes", a);
    const char *text =
        json_object_to_json_string_ext(j, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
    g_autoptr(GError) err = NULL;
    g_autofree char *with_nl = g_strdup_printf("%s\n", text);
    bool ok = g_file_set_contents(path, with_nl, -1, &err);
    if (!ok) {
        fprintf(stderr, "hvmmio replay: %s\n", err->message);
    }
    json_object_put(j);
    return ok;
}

static void print_report(const struct fz_state *st, const char *json_path)
{
    const struct fz_options *o = st->o;
    printf("hvmmio replay --fuzz: %u of %d runs of scenario %s, seed %" PRIu64 ", %u reads of "
           "the recording to mutate, %u guest runs in all: %u distinct crash%s\n",
           st->fuzz_runs, o->runs, o->scenario, o->seed, st->rec.reads->len, st->guest_runs,
           st->found->len, st->found->len == 1 ? "" : "es");
    for (guint i = 0; i < st->found->len; i++) {
        const struct fz_found *f = g_ptr_array_index(st->found, i);
        printf("\ncrash %u: %s\n  first in run %u, seen in %u run%s; the smallest set of "
               "mutations that makes it (%u guest run%s to minimize from %zu):\n",
               f->number, f->crash.title, f->first_run, f->seen, f->seen == 1 ? "" : "s",
               f->min_runs, f->min_runs == 1 ? "" : "s", f->nmuts);
        for (size_t m = 0; m < f->nmin; m++) {
            g_autofree char *d = fz_describe(&st->rec, &f->min[m]);
            printf("    %s\n", d);
        }
        printf("  the kernel said:\n");
        g_auto(GStrv) lines = g_strsplit(f->crash.message, "\n", 13);
        for (size_t l = 0; lines[l] && l < 12; l++) {
            if (*lines[l]) {
                printf("    %s\n", lines[l]);
            }
        }
        printf(
            "  reproduce: hvmmio replay %s --scenario %s --on-divergence continue --timeout 60\n",
            f->reproducer, o->scenario);
    }
    printf("\nJSON report: %s\n", json_path);
}

/* --fuzz-list: each run's mutations, a line each: "run 3: 2 mutations: line 43: ..." */
static void list_runs(const struct fz_state *st)
{
    for (unsigned run = 1; run <= (unsigned)st->o->runs; run++) {
        struct fz_mutation muts[FZ_MAX_MUTATIONS];
        size_t n = fz_choose(&st->rec, st->o->seed, run, st->o->max_mutations, muts);
        g_autofree char *what = describe_all(&st->rec, muts, n);
        printf("run %u: %s\n", run, what);
    }
}

int fz_main(const struct fz_options *o)
{
    struct fz_state st = {.o = o};
    g_autoptr(GError) err = NULL;
    int ret = 1;
    if (!fz_recording_load(&st.rec, o->trace, o->device, &err)) {
        fprintf(stderr, "hvmmio replay: %s\n", err->message);
        fz_recording_clear(&st.rec);
        return 1;
    }
    if (o->list_only) {
        list_runs(&st);
        fz_recording_clear(&st.rec);
        return 0;
    }
    st.baseline = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    st.found = g_ptr_array_new();
    if (!o->quiet) {
        fprintf(stderr,
                "hvmmio replay --fuzz: %u reads of %s to mutate in %s; %d run%s, seed %" PRIu64
                ", output in %s\n",
                st.rec.reads->len, st.rec.device ? st.rec.device : "the device", o->trace, o->runs,
                o->runs == 1 ? "" : "s", o->seed, o->outdir);
    }
    bool ok = g_mkdir_with_parents(o->outdir, 0755) == 0 && baseline(&st);
    for (unsigned run = 1; ok && run <= (unsigned)o->runs; run++) {
        if (o->stop_at_crash && st.found->len) {
            break;
        }
        ok = fuzz_run(&st, run);
        st.fuzz_runs = run;
    }
    g_autofree char *json =
        o->json ? g_strdup(o->json) : g_build_filename(o->outdir, "fuzz-report.json", NULL);
    if (ok && write_json(&st, json)) {
        print_report(&st, json);
        ret = st.found->len ? 1 : 0;
    } else if (st.refused) {
        ret = 2;
    }
    for (guint i = 0; i < st.found->len; i++) {
        struct fz_found *f = g_ptr_array_index(st.found, i);
        fz_crash_clear(&f->crash);
        g_free(f->reproducer);
        g_free(f);
    }
    g_ptr_array_free(st.found, TRUE);
    g_hash_table_destroy(st.baseline);
    fz_recording_clear(&st.rec);
    return ret;
}
