/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat: the statistics shared by its parts.
 *   stat-count.c      the tables (interned labels, registers, devices, regions) and their merging
 *   stat-file.c       reading one trace file into them (header devices, MAP table, accesses)
 *   stat-vcpu.c       the per-vCPU counts (the vcpu= fact)
 *   stat-dma.c        the DMA volume per device (DMA and DMAMAP records)
 *   stat-print.c      the text and JSON summaries
 *   stat-workbench.c  register names (--regs) and busiest functions (--top-functions)
 *   cmd-stat.c        the command line
 *
 * Memory is bounded except for the per-register table (one entry per distinct register).
 * Registers are keyed by interned labels (device, region) so several files add up in the total.
 */
#ifndef HVMMIO_TOOLS_STAT_H
#define HVMMIO_TOOLS_STAT_H

#include <stdbool.h>
#include <stdint.h>

#include <glib.h>

#include "sorted.h"
#include <json-c/json.h>

#include "mmiotrace.h"

#define DISTINCT_MAX 64 /* distinct values remembered per register; more is reported as "64+" */

struct reg_key {
    const char *dev;    /* interned */
    const char *region; /* interned */
    uint64_t offset;
};

struct reg_stat {
    struct reg_key key;
    uint64_t reads, writes;
    unsigned widths; /* bit w set: width w seen */
    unsigned ndistinct;
    bool distinct_capped;
    uint64_t *distinct; /* up to DISTINCT_MAX values */
};

struct count_stat {
    const char *name; /* interned */
    const char *dev;  /* interned, regions only */
    uint64_t base, size;
    uint64_t reads, writes, unknown;
};

struct stats {
    const char *name;
    uint64_t by_type[MMIOTRACE_TYPE_COUNT];
    uint64_t lost_events, malformed;
    uint64_t first_ns, last_ns;
    bool have_time;
    GHashTable *regs;    /* struct reg_key * -> struct reg_stat * */
    GHashTable *devs;    /* interned name -> struct count_stat * */
    GHashTable *regions; /* interned "dev\nregion" -> struct count_stat * */
    GHashTable *opcodes; /* "0f,b6,42" -> count (UNKNOWN records) */
    GHashTable *vcpus;   /* per-vCPU counts: stat-vcpu.c */
    GHashTable *dma;     /* DMA volume per device: stat-dma.c */
};

/* stat-count.c */
void stat_intern_init(void);
void stat_intern_free(void);
/* The one copy of s (labels compare by pointer). */
const char *stat_intern(const char *s);
void stats_init(struct stats *s, const char *name);
void stats_clear(struct stats *s);
struct count_stat *stat_count_get(GHashTable *t, const char *key);
struct reg_stat *stat_reg_get(struct stats *s, const struct reg_key *k);
void stat_distinct_add(struct reg_stat *rs, uint64_t v);
void stat_time_seen(struct stats *s, uint64_t ns);
/* Merge one file's statistics into the total. */
void stats_merge(struct stats *to, struct stats *from);

/* stat-file.c: read one file into s. Returns 0, or -1 after printing why. */
int stat_file(const char *prog, const char *path, struct stats *s, bool strict);

/* stat-vcpu.c: R/W records per vCPU, "none" for QEMU's own; one call at each stage. */
void stat_vcpu_account(struct stats *s, const struct mmiotrace_record *rec);
void stat_vcpu_merge(struct stats *to, struct stats *from);
void stat_vcpu_print(const struct stats *s);
void stat_vcpu_json(json_object *o, const struct stats *s);

/* stat-dma.c: DMA records and bytes each way, IOMMU maps, per device. */
void stat_dma_account(struct stats *s, const struct mmiotrace_record *rec);
void stat_dma_merge(struct stats *to, struct stats *from);
void stat_dma_print(const struct stats *s);
void stat_dma_json(json_object *o, const struct stats *s);

/* stat-print.c */
void stat_print_text(const struct stats *s, unsigned top);
json_object *stat_json(const struct stats *s, unsigned top);

#endif
