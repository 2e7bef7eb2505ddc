/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio replay --learn: the state between replay-learn.c and replay-learn-out.c. */
#ifndef HVMMIO_TOOLS_REPLAY_LEARN_INT_H
#define HVMMIO_TOOLS_REPLAY_LEARN_INT_H

#include "replay-learn.h"

#define RL_MAX_RECORDINGS 16

/* The annotation of one access of the first recording. */
struct rl_note {
    unsigned ext; /* MMIOTRACE_EXT_MATCH, _REL, _POLL */
    uint64_t mask, rel_off;
    uint8_t rel_bar;
};

/* An access of another recording that the first did not make: inserted into the copy, opt=1. */
struct rl_insert {
    int64_t after;   /* the first recording's access it follows (-1: before the first) */
    uint32_t k;      /* its recording */
    uint32_t access; /* into rec[k].acc */
    struct rl_note note;
};

/* A run of tokens of recording k not aligned in every recording (replay-learn-repeat.c) */
struct rl_stretch {
    uint32_t k, first, count;
};

/* Tokens in a row that make a block's signature (replay-learn-repeat.c) */
#define RL_REPEAT_NGRAM 8

struct rl_learner {
    unsigned n; /* recordings */
    char *device;
    struct rl_recording rec[RL_MAX_RECORDINGS];
    GHashTable *written[RL_MAX_RECORDINGS]; /* register -> struct written, per recording */
    uint64_t pos[RL_MAX_RECORDINGS];        /* accesses applied to written */
    struct rl_note *notes;                  /* per access of rec[0] */
    GArray *inserts;                        /* struct rl_insert, in the copy's order */
    GArray *stretches;                      /* struct rl_stretch */
    struct rl_summary *sum;
};

/* Load the n recordings (l->n set) of device (NULL: the only one) and learn their notes. */
int rl_learner_run(struct rl_learner *l, char **paths, const char *device, GError **err);
void rl_learner_free(struct rl_learner *l);
/* The first recording's token t is optional (opt=1 on its accesses). */
void rl_optional_token(struct rl_learner *l, guint t);
/* The key of a register in the tables of registers (a pointer). */
gpointer rl_reg_key(uint8_t bar, uint64_t off);

/* replay-learn-repeat.c: the first recording's repetitions of blocks whose count varies, opt=1
 * (masks: register -> the mask learned for its writes) */
void rl_mark_repeated(struct rl_learner *l, GHashTable *masks);

#endif
