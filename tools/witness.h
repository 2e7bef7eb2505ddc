/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio witness's internals: the state of the check (the window of served accesses, the
 * counters per register and vCPU) shared by witness-match.c (reading the device's log and
 * matching host records against it) and cmd-witness.c (the command and its summary).
 */
#ifndef HVMMIO_TOOLS_WITNESS_H
#define HVMMIO_TOOLS_WITNESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "mmiotrace.h"

/* One access the device served (a witness line). */
struct served {
    uint64_t seq, line;
    uint64_t value;
    uint64_t entered; /* host records matched when it entered the window */
    uint32_t off;
    uint8_t width;
    char dir; /* 'R' or 'W' */
    bool matched;
    bool ignored; /* no register decoded it */
};

/* The witness log, read a line at a time. */
struct witness {
    const char *path;
    FILE *f;
    char *buf;
    size_t cap;
    uint64_t line, last_seq, accesses, resets;
    bool eof;
};

/* Per register (BAR0 offset): host records and served accesses, by direction. */
struct reg_stat {
    uint32_t off;
    uint64_t host[2], served[2], bad; /* [0] R, [1] W; bad: discrepancies */
};

struct vcpu_stat {
    int32_t vcpu;
    uint64_t records, last_seq, order_bad;
};

struct check {
    const char *host_path;
    struct witness w;
    char *dev; /* the device checked (dev=) */
    bool dev_from_user;
    GArray *win;         /* struct served: the window, in witness order */
    guint win_head;      /* first live element of win */
    guint win_unmatched; /* unmatched accesses in win */
    size_t window;
    uint64_t host_records, matched, joined, value_bad, extra, missing, order_bad, global_bad;
    uint64_t lost, rejected, other_bar, max_seq;
    GHashTable *regs;  /* off -> struct reg_stat* */
    GHashTable *vcpus; /* vcpu + 1 -> struct vcpu_stat* */
    guint show, shown;
    bool error;
};
/* The test device's name for a BAR0 offset (buf for the computed ones). */
const char *witness_reg_name(uint32_t off, char *buf, size_t len);
/* Print one discrepancy (the first --show of them). */
void witness_discrepancy(struct check *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
struct reg_stat *witness_reg_stat(struct check *c, uint32_t off);
void witness_vcpu_name(int32_t vcpu, char *buf, size_t len);
/*
 * The next access of the witness log into *s: 1, 0 at its end, -1 on a malformed line
 * (said on stderr). Reset lines are counted and skipped.
 */
int witness_next(struct check *c, struct served *s);
struct served *witness_win_at(struct check *c, guint i);
void witness_set_matched(struct check *c, struct served *s);
void witness_report_missing(struct check *c, struct served *s);
/* Fill the window before a host record is checked: false on a witness read error. */
bool witness_win_fill(struct check *c);
/* One host R/W record of the device's BAR0. */
void witness_check_record(struct check *c, const struct mmiotrace_record *rec, uint64_t line);

#endif
