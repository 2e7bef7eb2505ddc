/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run as a C function: boot a guest scenario under hvmmio's QEMU and collect its
 * results. `hvmmio run` (cmd-run.c) parses its command line into HvmmioRunOptions; `hvmmio
 * replay` and `hvmmio bench` fill them in and call hvmmio_run directly.
 */
#ifndef HVMMIO_TOOLS_RUN_H
#define HVMMIO_TOOLS_RUN_H

#include <stdbool.h>
#include <stddef.h>

typedef struct HvmmioRunOptions {
    const char *scenario;          /* kernel-guest/scenarios/NAME.sh (required) */
    const char *scenario_args;     /* comma-separated arguments for the scenario, or NULL */
    const char *outdir;            /* NULL: hvmmio-out/SCENARIO */
    const char *accel;             /* auto, kvm or tcg */
    const char *image;             /* guest image folder; NULL: $HVMMIO_IMAGE or the cache */
    const char *machine;           /* QEMU machine */
    const char *append;            /* more guest kernel command-line arguments, or NULL */
    const char *const *devices;    /* -device specs (NULL-terminated), or NULL */
    const char *const *qemu_extra; /* more QEMU arguments (NULL-terminated), or NULL */
    bool testdev;                  /* hvmmio's vfio-user test device (hvmmio-testdev) */
    const char *testdev_props;     /* more vfio-user-pci properties: key=value,... or JSON */
    bool testdev_witness;          /* the server logs what it serves to witness.log */
    int timeout_s, memory_mb, smp;
    bool verbose, quiet;
    /*
     * Called with each complete line of the guest console while QEMU runs (the console is
     * read every 200 ms; the line may hold NUL bytes, hence len), e.g. to query QEMU when the
     * guest reaches a step. NULL: none.
     */
    void (*on_console_line)(const char *line, size_t len, void *opaque);
    void *opaque;
} HvmmioRunOptions;

typedef struct HvmmioRunResult {
    const char *accel; /* the accelerator used ("kvm" or "tcg"), NULL if none was chosen */
    double seconds;    /* from QEMU's start to its end, 0 if it did not start */
    bool timed_out;
} HvmmioRunResult;

/* The defaults of hvmmio run's options: auto accelerator, q35, 512 MB, 1 vCPU, 300 s. */
void hvmmio_run_options_init(HvmmioRunOptions *opts);

/*
 * Boot the scenario. Progress and errors go to stderr, prefixed "hvmmio run:" / "hvmmio:".
 * Returns 0 if the scenario passed, 1 if it or the run failed, 2 if the options were refused
 * before any guest booted (an unknown scenario, a bad value). res may be NULL.
 */
int hvmmio_run(const HvmmioRunOptions *opts, HvmmioRunResult *res);

/* hvmmio run --list-scenarios: print the guest image's scenarios, one a line. */
int hvmmio_run_list_scenarios(const char *image);

#endif
