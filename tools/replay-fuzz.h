/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --fuzz N --seed S (docs/replay-fuzz.md): N runs of a guest scenario against
 * mmiotrace-replay, each with some of the recording's read values mutated in a copy of the
 * recording; crashes found on the guest console are minimized to the smallest set of
 * mutations that still makes them (delta debugging) and reported (text and JSON).
 *
 * replay-fuzz.c: the recording's candidate reads, the seeded choice of mutations, the mutated
 * copies; replay-fuzz-console.c: crashes from a console log; replay-fuzz-run.c: the runs,
 * the minimization and the report.
 */
#ifndef HVMMIO_TOOLS_REPLAY_FUZZ_H
#define HVMMIO_TOOLS_REPLAY_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <glib.h>

/* What cmd-replay.c passes on. */
struct fz_options {
    const char *trace;    /* the recording (any format hvmmio replay takes) */
    const char *scenario; /* guest scenario */
    const char *device;   /* the recorded device's dev= name, or NULL */
    int devfn;            /* its PCI address, -1 if unknown */
    const char *mode;     /* replay mode, or NULL */
    const char *accel, *args, *outdir, *json;
    int runs;          /* N */
    uint64_t seed;     /* S */
    int max_mutations; /* mutations per run: 1..max_mutations */
    int minimize_runs; /* the budget of guest runs to minimize each crash */
    int timeout_s;     /* per mutated run; 0: from the baseline run */
    int baseline_timeout_s;
    bool quiet;
    bool list_only;     /* print each run's mutations, boot nothing */
    bool stop_at_crash; /* no more runs once a crash was found (and minimized) */
};

/* One read of the replayed device that may be mutated. */
struct fz_read {
    uint64_t index; /* the record's index in the recording (0-based) */
    uint64_t line;  /* its line in the recording */
    uint64_t value;
    uint64_t off;
    uint8_t width, bar;
    unsigned weight; /* 4: a read the driver may branch on; 1: a poll (a read of the register
                      * read just before, or poll=tolerant), or already all-ones */
};

enum fz_kind {
    FZ_BITFLIP,
    FZ_ZERO,
    FZ_ONE,
    FZ_ALL_ONES,
    FZ_SIGN_BIT,
    FZ_MAX_SIGNED,
    FZ_REMOVAL, /* this read and every later read of the device: all-ones (surprise removal) */
};

struct fz_mutation {
    size_t read; /* into fz_recording.reads */
    enum fz_kind kind;
    unsigned bit;       /* FZ_BITFLIP */
    uint64_t new_value; /* the value the read returns instead */
};

struct fz_recording {
    const char *path;
    GArray *reads; /* struct fz_read, in record order */
    char *device;  /* the replayed device's dev= name, NULL if the records have none */
};

/* ---- replay-fuzz.c ---- */
/* hvmmio replay's --fuzz options (cmd-replay.c adds them to its context's main entries). */
const GOptionEntry *fz_option_entries(void);
/* After parsing: false with *why set if the --fuzz options are bad or given without --fuzz. */
bool fz_options_valid(const char **why);
/* Whether --fuzz was given. */
bool fz_wanted(void);
/* Fill o's fuzzing fields (runs, seed, mutations, budget, timeout, JSON) from the options. */
void fz_options_apply(struct fz_options *o);

bool fz_recording_load(struct fz_recording *rec, const char *path, const char *device,
                       GError **err);
void fz_recording_clear(struct fz_recording *rec);
/* Run number run's mutations (1..max of them, on distinct reads): a function of seed and
 * run only. Returns how many were put in out (at most max). */
size_t fz_choose(const struct fz_recording *rec, uint64_t seed, unsigned run, int max,
                 struct fz_mutation *out);
/* Write the recording with the mutations applied to path (plain text). */
bool fz_write_mutated(const struct fz_recording *rec, const struct fz_mutation *muts, size_t n,
                      const char *path, GError **err);
const char *fz_kind_name(enum fz_kind kind);
/* "line 43: R 4 bar=0 off=0x20 0x0 -> 0x80000000 (sign-bit)" */
char *fz_describe(const struct fz_recording *rec, const struct fz_mutation *m);

/* ---- replay-fuzz-console.c ---- */
struct fz_crash {
    char *key;     /* what makes two crashes the same: the first stack frame, or the message */
    char *title;   /* the kernel's first line of the report, with " in FRAME" */
    char *message; /* the report's lines as the console shows them (at most 40) */
};
/* The first crash report on a console log (an oops, BUG, WARN, KASAN, UBSAN, panic, soft
 * lockup, hung task, RCU stall); false if none. */
bool fz_console_crash(const char *console_path, struct fz_crash *out);
/* A run that timed out: a hang, keyed by the scenario's last step on the console. */
void fz_console_hang(const char *console_path, int timeout_s, struct fz_crash *out);
void fz_crash_clear(struct fz_crash *c);

/* ---- replay-fuzz-run.c ---- */
/* The whole --fuzz command: 0 no crash, 1 crashes found (or the runs failed), 2 bad usage. */
int fz_main(const struct fz_options *o);

#endif
