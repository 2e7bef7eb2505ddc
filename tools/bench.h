/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench's internals (docs/benchmarks.md): what cmd-bench.c (options and the order of
 * things), bench-boot.c (one guest boot), bench-config.c (the configurations a-h),
 * bench-tools.c (the tools' throughput) and bench-report.c (the table, JSON and targets)
 * share.
 */
#ifndef HVMMIO_TOOLS_BENCH_H
#define HVMMIO_TOOLS_BENCH_H

#include <stdint.h>

#include <glib.h>
#include <json-c/json.h>

enum { DEV_EMU, DEV_VFIO, DEV_BAR2, DEV_COUNT };
extern const char *const bench_dev_key[DEV_COUNT];   /* "emu", "vfio", "bar2" */
extern const char *const bench_dev_label[DEV_COUNT]; /* for people */

struct params {
    int reps;
    uint64_t n[DEV_COUNT]; /* a-d */
    uint64_t n_stock[2];   /* e */
    uint64_t n_gtrace[2];  /* f */
    uint64_t burst;        /* h */
    unsigned drop_ring, lossless_ring;
    const char *accel;
    gboolean tools;
    char *tool_sizes;
};

/* One configuration: one guest boot per repetition (bench-config.c). */
struct config {
    char id;
    const char *name;
    const char *emu_props;  /* NULL: no e1000e */
    const char *vfio_props; /* NULL: no test device; "" without properties */
    gboolean gtrace, stock, bar2, emu, vfio;
};

#define NCONFIGS 8
extern const struct config bench_configs[NCONFIGS];
/* The index of configuration id in bench_configs, -1 if none. */
int bench_cfg_index(char id);

/*
 * The mmap'ed BAR2 page is timed BAR2_LOADS times per boot, each a load of the module, and each
 * load is a sample: a 2-5 ns guest access under TCG varies between module loads (writes
 * ~5.3 ns for most loads, 1.7-2.8 ns for others; reads 1.95 ns, some loads 2.5-2.9), with or
 * without hvmmio, so medians of a few boots, or of each boot's loads, differed by up to 3x
 * between G and g. The median of all loads (15 in a default run) is stable.
 */
#define BAR2_LOADS 3

/* The whole benchmark: its parameters and what it measured so far. */
struct bench {
    struct params P;
    const char *only;   /* the configurations asked for */
    const char *outdir; /* the boots' folders */
    double t_start;
    int failures; /* failed boots, loss counts that do not add up, failed tool runs */
    /* [config][dev][0 read / 1 write]: ns per access, one per repetition (BAR2: per load) */
    GArray *samples[NCONFIGS][DEV_COUNT][2];
    GArray *walls[NCONFIGS]; /* seconds per boot */
    char *accel_used;        /* "tcg (forced with --accel)": the first boot's choice */
    json_object *loss;       /* h: {"drop": {...}, "lossless": {...}} */
    json_object *tools;      /* [{"tool": ..., ...}] */
};

double bench_now(void);
char *bench_self_exe(void);

/* bench-boot.c: one guest boot (hvmmio run SCENARIO bench) */
struct boot {
    double wall;
    gboolean ok;
    json_object *query; /* h: query-mmiotrace's answer while the guest held */
};

struct boot_spec {
    const char *emu_props, *vfio_props; /* as in struct config */
    const char *args;                   /* the bench scenario's arguments */
    const char *const *qemu_extra;      /* NULL-terminated, or NULL */
    gboolean qmp_query;                 /* ask query-mmiotrace at "step bench-done" */
};

gboolean bench_boot(struct bench *B, const char *outdir, const struct boot_spec *spec,
                    struct boot *b);

/* What the guest measured on one device in a boot (its bench.txt). */
struct meas {
    gboolean have;
    uint64_t n, accesses;
    double read_ns, write_ns;
    double load_ns[2][BAR2_LOADS];
    int loads;
};

void bench_parse_results(const char *outdir, struct meas m[DEV_COUNT]);
gboolean bench_count_trace(const char *path, uint64_t *rw, uint64_t *lost, uint64_t *markers);
goffset bench_file_size(const char *dir, const char *name);
void bench_remove_file(const char *dir, const char *name);

/* bench-config.c */
void bench_run_configs(struct bench *B); /* a-g */
void bench_run_loss(struct bench *B);    /* h */

/* bench-tools.c */
void bench_run_tools(struct bench *B);

/* bench-report.c */
struct summary {
    int count;
    double med, min, max;
};
struct summary bench_summarise(GArray *v);
/* The table and the JSON report (to json_path); the number of failures in all. */
int bench_report(struct bench *B, const char *json_path);

#endif
