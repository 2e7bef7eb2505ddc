/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --learn REC1 REC2 [...] -o ANNOTATED (issue 18): several recordings of the same
 * scenario for one device are aligned, and the first is written with the replay annotations
 * (docs/trace-format.md) that say what differed between the runs: match= on writes whose
 * values differ (the stable bits), rel= where a value is in every run what the guest wrote to
 * another register before, poll=tolerant on reads repeated a varying number of times, opt=1 on
 * accesses not made in every run; the accesses of other runs that the first did not make are
 * inserted, opt=1, where they were made (a replay that takes their path needs them).
 *
 * replay-learn-align.c: the accesses as tokens (a run of reads of one register is one token)
 * and their alignment (a longest common subsequence by type, BAR, offset and width);
 * replay-learn.c: loading the recordings, the annotations, the annotated copy, the summary.
 */
#ifndef HVMMIO_TOOLS_REPLAY_LEARN_H
#define HVMMIO_TOOLS_REPLAY_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

/* One R/W access of the learned device. */
struct rl_access {
    uint64_t off, value; /* value cut to the width */
    uint64_t phys;       /* the address the guest accessed */
    uint64_t line;       /* in its recording */
    uint64_t ordinal;    /* the record's number in its recording (0-based, as read) */
    uint8_t type;        /* MMIOTRACE_READ or MMIOTRACE_WRITE */
    uint8_t bar, width;
};

/* The longest cycle of registers a poll may read in turn. */
#define RL_POLL_PERIOD_MAX 4

/*
 * A token of the alignment: one access (count 1), or a poll: count reads (a multiple of period)
 * of a cycle of period registers read in turn (period 1: one register read count times).
 */
struct rl_token {
    uint32_t first, count; /* into the recording's accesses */
    uint32_t period;
};

struct rl_recording {
    const char *path;
    GArray *acc; /* struct rl_access */
    GArray *tok; /* struct rl_token */
};

/* replay-learn-align.c */

/* Whether two accesses have the same type, BAR, offset and width. */
bool rl_same_key(const struct rl_access *a, const struct rl_access *b);
/* Fill r->tok from r->acc. */
void rl_tokenize(struct rl_recording *r);
/*
 * Align a's tokens with b's: ma[i] is the token of b matched with a's token i, or -1; mb[j]
 * likewise. Exact (a longest common subsequence) unless the stretch from the first to the last
 * difference has more than rl_cells_max cells (tokens x tokens): then it resynchronises within
 * a window after each difference, and returns false.
 */
bool rl_align(const struct rl_recording *a, const struct rl_recording *b, int32_t *ma, int32_t *mb);
extern uint64_t rl_cells_max;

/* replay-learn.c */

/* The --learn option (for hvmmio replay's option table) and whether it was given. */
const GOptionEntry *rl_option_entries(void);
bool rl_wanted(void);
/* --learn's own argument rules: 0, or 2 having said why. */
int rl_check_args(int argc, const char *output, bool other_mode);
/* hvmmio replay --learn: n recordings, the annotated copy to output; the exit status. */
int rl_main(int n, char **paths, const char *output, const char *device);

/* What learning found, for the summary and the tests. */
struct rl_summary {
    uint64_t accesses[2];  /* of the first recording: total, aligned in every recording */
    uint64_t match_writes; /* match= */
    uint64_t rel_writes, rel_reads;
    uint64_t polls, poll_reads; /* runs whose counts vary; their reads marked poll=tolerant */
    uint64_t differing_reads;   /* reads whose values differ (the first run's value kept) */
    uint64_t optional;          /* the first recording's accesses not in every other: opt=1 */
    uint64_t inserted;          /* other recordings' accesses not in the first: inserted, opt=1 */
    uint64_t optional_match;    /* of both, writes given their register's match= mask */
    uint64_t repeated;    /* the first's accesses repeating a block whose count varies: opt=1 */
    GPtrArray *unaligned; /* "REC:LINE: what" */
    unsigned approximate; /* recordings aligned by resynchronisation, not exactly */
};

/*
 * Learn from n recordings of device (NULL: the only one with accesses) and write the first,
 * annotated, to output (compressed by its name). 0, or -1 with err set. s is filled.
 */
int rl_learn(int n, char **paths, const char *output, const char *device, struct rl_summary *s,
             GError **err);
void rl_summary_clear(struct rl_summary *s);

#endif
