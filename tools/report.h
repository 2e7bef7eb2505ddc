/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio report: the aggregates shared by its parts.
 *   cmd-report.c   the command line and the two passes over the trace (totals, registers and
 *                  functions; then the time bins)
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

struct rstat {
    struct wb_reg_key k;
    char *name;
    uint64_t reads, writes;
    int heat_row, hist; /* -1: none */
};

struct rep {
    struct regmap_set *maps;
    struct symtab *syms;
    GHashTable *names;     /* interned device names */
    const char *last_name; /* the name interned last (most records' device) */
    size_t last_len;
    GHashTable *pcs;                       /* PC -> count (pass 1), folded into funcs */
    GHashTable *regs;                      /* struct wb_reg_key * -> struct rstat * */
    GHashTable *funcs;                     /* "func [module]" or "0xPC" -> count */
    GPtrArray *pcidevs, *maplines, *marks; /* char * (marks: "T_NS\tTEXT") */
    uint64_t t0, t1, reads, writes, unknown, irqs, lost, records;
    bool have_t;
    /* pass 2 */
    unsigned bins;
    uint64_t bin_ns;
    uint64_t *breads, *bwrites, *birqs;
    uint64_t *heat; /* HEAT_ROWS x bins */
    double *hist;   /* HISTORY x bins, NAN: no access */
    struct rstat *heat_regs[HEAT_ROWS], *hist_regs[HISTORY];
    unsigned nheat, nhist;
};

/* Chart.js was found at build time (without it, hvmmio report refuses to run). */
bool report_have_chartjs(void);
/* The page for trace into o; regs: every register, busiest first. */
void report_write_page(const struct rep *r, GString *o, const char *trace, const GPtrArray *regs);

#endif
