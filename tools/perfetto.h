/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio convert --to perfetto: the state shared by its parts.
 *   perfetto-events.c  the output state: interned device names, processes and threads, the
 *                      registers' counts, the events other than accesses
 *   perfetto-access.c  the per-access event (and its counter sample)
 *   perfetto.c         the command line and the two passes
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
    bool counter; /* one of the busiest: gets a counter track */
};

struct pf {
    FILE *out;
    struct regmap_set *maps;
    struct symtab *syms;
    GHashTable *devs;    /* interned dev name -> pid (GINT) */
    GHashTable *names;   /* interning */
    GHashTable *regs;    /* struct wb_reg_key * -> struct reg_count * */
    GHashTable *threads; /* pid << 8 | tid seen */
    GString *s, *key, *name, *fields, *sym;
    const char *last_dev; /* intern's last answer */
    size_t last_dev_len;
    bool first;
    uint64_t events, instants, counters;
};

/* perfetto-events.c */
void pf_init(struct pf *p);
void pf_free(struct pf *p);
/* The one copy of s[0..len) (names compare by pointer). */
const char *pf_intern(struct pf *p, const char *s, size_t len);
/* Write p->s as the next event. */
void pf_emit(struct pf *p);
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

#endif
