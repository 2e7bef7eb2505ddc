/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio report: the aggregates shared by its parts.
 *   cmd-report.c   the command line and the pass over the trace (totals, registers,
 *                  functions, time bins)
 *   report-bins.c  the time bins: a power of two nanoseconds wide, aligned to multiples of
 *                  it, merged in pairs when the trace's time span outgrows them, so that one
 *                  pass suffices
 *   report-page.c  the HTML page (the data as JSON, Chart.js and report/page.js inlined)
 */
#ifndef HVMMIO_TOOLS_REPORT_H
#define HVMMIO_TOOLS_REPORT_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "regmap.h"
#include "symbols.h"
#include "workbench.h"

#define HEAT_ROWS 24
#define HISTORY 6
#define LIST_MAX 64 /* PCIDEV, MAP lines and markers kept for the page */
/* bytes of per-register bins kept in the pass; a trace with more registers than fit is read a
 * second time for the busiest registers' bins (not from stdin) */
#define REG_BINS_BUDGET (16u << 20)

/* the last value in a bin: the latest record's in file order (seq 0: none) */
struct hslot {
    uint64_t seq, value;
};

/* accesses by function (name and module: the symbol table's pointers), else by PC */
struct rfunc {
    uint64_t pc; /* 0 when named */
    const char *name, *module;
    uint64_t count;
};

struct rstat {
    struct wb_reg_key k;
    char *name;
    uint64_t reads, writes;
    int heat_row, hist;   /* -1: none */
    uint64_t *heat;       /* accesses per bin (a ring like rep's), NULL: not kept */
    struct hslot *values; /* the last value per bin (likewise) */
};

struct rep {
    struct regmap_set *maps;
    struct symtab *syms;
    GHashTable *names;     /* interned device names */
    const char *last_name; /* the name interned last (most records' device) */
    size_t last_len;
    GHashTable *pcs;                       /* struct rfunc (its own key), folded into funcs */
    GHashTable *regs;                      /* struct wb_reg_key * -> struct rstat * */
    GHashTable *funcs;                     /* "func [module]" or "0xPC" -> count */
    GPtrArray *pcidevs, *maplines, *marks; /* char * (marks: "T_NS\tTEXT") */
    uint64_t t0, t1, reads, writes, unknown, irqs, lost, records;
    bool have_t;
    /* the bins: ring slots (--bins); absolute bin a = ns >> shift sits in slot a % slots; the
     * span amin..amax (of the earliest and latest stamps) is shorter than slots */
    unsigned slots, shift;
    uint64_t amin, amax;
    uint64_t *breads, *bwrites, *birqs; /* rings */
    GPtrArray *reglist;                 /* struct rstat *, every register */
    size_t reg_bytes;                   /* their rings' bytes */
    bool overflow; /* more than REG_BINS_BUDGET: registers' rings dropped, a second pass */
    /* for the page (rbins_finish): the bins in time order */
    unsigned bins;
    uint64_t bin_t0, bin_ns;
    uint64_t *heat; /* HEAT_ROWS x bins */
    double *hist;   /* HISTORY x bins, NAN: no access */
    struct rstat *heat_regs[HEAT_ROWS], *hist_regs[HISTORY];
    unsigned nheat, nhist;
};

/* report-bins.c */
void rbins_init(struct rep *r, unsigned slots);
/* A record stamped ts: the span covers it (bins merged if it must grow). */
void rbins_cover(struct rep *r, uint64_t ts);
/* The slot of ts (covered). */
static inline unsigned rbins_slot(const struct rep *r, uint64_t ts)
{
    return (unsigned)((ts >> r->shift) % r->slots);
}
/* A new register's rings (none once over the budget: then r->overflow). */
void rbins_reg_new(struct rep *r, struct rstat *s);
/* An access to s at ts (covered) of value, the seq'th record. */
void rbins_access(struct rep *r, struct rstat *s, uint64_t ts, uint64_t value, uint64_t seq);
/* The page's arrays from the rings, for the registers chosen (heat_regs, hist_regs). */
void rbins_finish(struct rep *r);
/* The bin of ts in the page's arrays (after rbins_finish). */
unsigned rbins_index(const struct rep *r, uint64_t ts);
void rbins_free(struct rep *r);

/* Chart.js was found at build time (without it, hvmmio report refuses to run). */
bool report_have_chartjs(void);
/* The page for trace into o; regs: every register, busiest first. */
void report_write_page(const struct rep *r, GString *o, const char *trace, const GPtrArray *regs);

#endif
