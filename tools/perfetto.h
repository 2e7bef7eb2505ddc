/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert --to perfetto: the state shared by its parts.
 *   perfetto-events.c  the output state: interned device names, processes and threads, the
 *                      registers' counts, the events other than accesses
 *   perfetto-access.c  the per-access event (and its counter sample)
 *   perfetto-counters.c the counter samples: spooled to a temporary file as the trace is
 *                      read, written for the busiest registers once it is over
 *   perfetto.c         the command line and the one pass
 */
#ifndef HVMMIO_TOOLS_PERFETTO_H
#define HVMMIO_TOOLS_PERFETTO_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <glib.h>

#include "mmiotrace.h"
#include "regmap.h"
#include "symbols.h"
#include "workbench.h"

#define TID_IRQ 16
#define TID_MAP 17

struct reg_count {
    struct wb_reg_key k;
    uint64_t count;
    uint32_t id;  /* its index in pf.reg_list (the spool names registers by it) */
    int pid;      /* its device's process */
    char *cname;  /* the counter track's name as JSON (the register's, without "R "/"W ") */
    bool counter; /* one of the busiest: gets a counter track */
    /* the constant parts of its R and W events (NULL until its first access): up to "ts",
     * from "pid" to the offset, its register name */
    GString *head[2], *mid, *reg;
    GString *fields; /* ,"fields":... of its last value fv at width fw (NULL: none yet) */
    uint64_t fv;
    unsigned fw;
};

#define PC_JSON 1024 /* PCs whose "pc" and "function" args are remembered */
/* registers that keep their events' constant parts (beyond, e.g. a frame buffer's every
 * offset, they are made anew each time: memory stays a few dozen bytes a register) */
#define PF_KEPT_REGS 4096

struct pf {
    FILE *out;
    struct regmap_set *maps;
    struct symtab *syms;
    GHashTable *devs;    /* interned dev name -> pid (GINT) */
    GHashTable *names;   /* interning */
    GHashTable *regs;    /* struct wb_reg_key * -> struct reg_count * */
    GHashTable *threads; /* pid << 8 | tid seen */
    GPtrArray *reg_list; /* struct reg_count *, by id */
    GString *s;          /* events not yet written (flushed in large writes) */
    GString *name, *fields, *sym, *pcbuf, *ftmp;
    const char *last_dev; /* intern's last answer */
    size_t last_dev_len;
    bool first;
    FILE *spool;                 /* the counter samples of every access (NULL: --counters 0) */
    struct reg_count *regc[256]; /* pf_reg_get's recent answers, direct-mapped */
    struct spool_buf *sbuf;      /* samples on their way to the spool */
    unsigned sym_epoch;          /* symtab_epoch when pcj was filled */
    struct pc_json {
        uint64_t pc;
        unsigned len; /* 0: empty */
        char text[248];
    } * pcj; /* ,"pc":"0x..","function":".." of recent PCs, direct-mapped */
    uint64_t events, instants, counters;
};

/* perfetto-events.c */
void pf_init(struct pf *p);
void pf_free(struct pf *p);
/* The one copy of s[0..len) (names compare by pointer). */
const char *pf_intern(struct pf *p, const char *s, size_t len);
/* Start an event at the end of p->s (the separator before every event but the first). */
void pf_open(struct pf *p);
/* The event started last is complete (written out once p->s holds enough). */
void pf_emit(struct pf *p);
/* Write out what p->s holds. */
void pf_flush(struct pf *p);
/* The process of a device (its metadata event the first time). */
int pf_dev_pid(struct pf *p, const char *dev);
/* A thread's metadata event, the first time it is seen. */
void pf_thread(struct pf *p, int pid, int tid, const char *name);
/* Where an access goes: its device, BAR (-1: unknown), offset (phys if no BAR), register. */
const struct regmap_hit *pf_locate(struct pf *p, const struct mmiotrace_record *rec,
                                   const char **dev, int *bar, uint64_t *off);
struct reg_count *pf_reg_get(struct pf *p, const char *dev, int bar, uint64_t off);
/* IRQ, MAP/UNMAP, MARK, LOST; nothing for the others. */
void pf_other_event(struct pf *p, const struct mmiotrace_record *rec);

/* perfetto-access.c: an R, W or UNKNOWN record. */
void pf_access_event(struct pf *p, const struct mmiotrace_record *rec);
/* At w: s[0..len) as a JSON string (at most 6 * len + 2 bytes); a time stamp in µs with ns
 * decimals (at most 24 bytes). The end. */
char *pf_w_str(char *w, const char *s, size_t len);
char *pf_w_ts(char *w, uint64_t ns);

/* perfetto-counters.c */
/* Open the spool (in the temporary folder, already unlinked): false after printing why. */
bool pf_spool_open(struct pf *p, const char *prog);
/* Spool the counter sample of an access to c (its value as the record had it). */
void pf_spool_sample(struct pf *p, const struct reg_count *c, uint64_t ts_ns, uint64_t value);
/* The n busiest registers get counter tracks: their samples from the spool as events;
 * 0, or -1 after printing why. */
int pf_spool_write(struct pf *p, const char *prog, unsigned n);

#endif
