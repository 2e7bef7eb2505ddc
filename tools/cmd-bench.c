/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench: the cost of a traced access (docs/benchmarks.md).
 *
 * Each configuration is one guest boot (hvmmio_run of kernel-guest/scenarios/bench.sh)
 * in which the guest module hvmmio_bench times N 4-byte reads and N 4-byte writes of one
 * register with ktime: an emulated e1000e (STATUS read, IMC write) and hvmmio's vfio-user test
 * device (SCRATCH32; its BAR2 page for the mmap fast path) in the same boot. Configurations
 * alternate within a repetition, boots run one after the other (never in parallel):
 *   a  untraced: the bare trap          b  hvmmio, kernel-compatible lines
 *   c  hvmmio with PC                   d  hvmmio with PC and instruction
 *   e  stock QEMU -trace memory_region_ops_* -D file
 *   f  the guest's own mmiotrace        g  an untraced page of a selectively trapped BAR
 *   h  drop mode under a burst larger than the ring; lossless mode at the same rate
 * Then the tools' throughput: hvmmio stat and hvmmio compare on generated 1M and 10M traces
 * streamed through FIFOs (records/s, peak RSS).
 *
 * This file: the options and the order of things. One boot through hvmmio_run: bench-boot.c;
 * the configurations: bench-config.c; the tools: bench-tools.c; the report: bench-report.c;
 * --probe (the kvm-probe guest): bench-probe.c.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <json-c/json.h>

#include "bench.h"
#include "hvmmio.h"

/* The options as parsed (file scope: the option table points into it). */
static struct {
    gboolean quick, no_tools;
    char *outdir, *json_path, *only, *accel, *tool_sizes;
    gint64 n_emu, n_vfio, n_bar2, burst;
    int reps;
} opt;

static const GOptionEntry entries[] = {
    {"reps", 'r', 0, G_OPTION_ARG_INT, &opt.reps, "Repetitions of each configuration (default 5)",
     "N"},
    {"quick", 0, 0, G_OPTION_ARG_NONE, &opt.quick,
     "One repetition, smaller loops, tools at 1M records only (about 3 minutes)", NULL},
    {"only", 0, 0, G_OPTION_ARG_STRING, &opt.only,
     "Configurations to run, e.g. abh (default abcdefgh)", "IDS"},
    {"n-emu", 0, 0, G_OPTION_ARG_INT64, &opt.n_emu,
     "Accesses per direction on the emulated device, configurations a-d (default 1000000)", "N"},
    {"n-vfio", 0, 0, G_OPTION_ARG_INT64, &opt.n_vfio,
     "Accesses per direction on the vfio-user device (default 20000: ~35 us each under TCG)", "N"},
    {"n-bar2", 0, 0, G_OPTION_ARG_INT64, &opt.n_bar2,
     "Accesses per direction on the mmap'ed BAR2 page (default 20000000)", "N"},
    {"burst", 0, 0, G_OPTION_ARG_INT64, &opt.burst,
     "Accesses per direction in the drop/lossless runs (default 200000)", "N"},
    {"accel", 'a', 0, G_OPTION_ARG_STRING, &opt.accel, "tcg (default), kvm or auto", "ACCEL"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &opt.outdir,
     "Folder for the boots' results (default hvmmio-out/bench)", "DIR"},
    {"json", 'j', 0, G_OPTION_ARG_FILENAME, &opt.json_path,
     "JSON report (default OUTPUT/bench.json)", "FILE"},
    {"no-tools", 0, 0, G_OPTION_ARG_NONE, &opt.no_tools, "Skip hvmmio stat/compare throughput",
     NULL},
    {"tool-sizes", 0, 0, G_OPTION_ARG_STRING, &opt.tool_sizes,
     "Records for the tool throughput (default 1000000,10000000)", "N,N"},
    {NULL},
};

double bench_now(void)
{
    return g_get_monotonic_time() / 1e6;
}

char *bench_self_exe(void)
{
    char *p = g_file_read_link("/proc/self/exe", NULL);
    return p ? p : g_strdup("hvmmio");
}

/* Parse argv into opt: 0, or 2 having said why. */
static int parse_args(int argc, char **argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_option_context_set_summary(
        ctx, "Measure the cost of a traced MMIO access (docs/benchmarks.md): guest-timed loops\n"
             "of 4-byte reads and writes on an emulated e1000e and on hvmmio's vfio-user test\n"
             "device, untraced, traced by hvmmio (compat, PC, instruction), traced by stock QEMU\n"
             "and by the guest's own mmiotrace; the mmap fast path beside a trapped page; drop\n"
             "and lossless modes under a burst; hvmmio stat/compare throughput. One guest boot\n"
             "per configuration, run one after the other. Prints a table, writes a JSON report;\n"
             "exits 1 if a boot failed or a loss count is wrong (targets are reported, not\n"
             "enforced).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, &argc, &argv, &err) || argc != 1) {
        fprintf(stderr, "hvmmio bench: %s (see --help)\n", err ? err->message : "no arguments");
        return 2;
    }
    return 0;
}

/* The parameters: the defaults, --quick's smaller ones, then the options given. */
static int set_params(struct params *P)
{
    *P = (struct params){
        .reps = 5,
        .n = {1000000, 20000, 20000000},
        .n_stock = {200000, 20000},
        .n_gtrace = {20000, 2000},
        .burst = 200000,
        .drop_ring = 64,
        .lossless_ring = 64,
        .accel = "tcg",
        .tools = TRUE,
        .tool_sizes = opt.tool_sizes,
    };
    if (opt.quick) {
        P->reps = 1;
        P->n[DEV_EMU] = 200000;
        P->n[DEV_VFIO] = 2000;
        P->n[DEV_BAR2] = 2000000;
        P->n_stock[0] = 50000;
        P->n_stock[1] = 2000;
        P->n_gtrace[0] = 5000;
        P->n_gtrace[1] = 500;
        P->burst = 100000;
        if (!P->tool_sizes) {
            P->tool_sizes = g_strdup("1000000");
        }
    }
    if (opt.reps) {
        P->reps = opt.reps;
    }
    if (opt.n_emu > 0) {
        P->n[DEV_EMU] = (uint64_t)opt.n_emu;
    }
    if (opt.n_vfio > 0) {
        P->n[DEV_VFIO] = P->n_stock[1] = (uint64_t)opt.n_vfio;
    }
    if (opt.n_bar2 > 0) {
        P->n[DEV_BAR2] = (uint64_t)opt.n_bar2;
    }
    if (opt.burst > 0) {
        P->burst = (uint64_t)opt.burst;
    }
    if (opt.accel) {
        P->accel = opt.accel;
    }
    if (!P->tool_sizes) {
        P->tool_sizes = g_strdup("1000000,10000000");
    }
    P->tools = !opt.no_tools;
    if (P->reps < 1) {
        fprintf(stderr, "hvmmio bench: --reps must be >= 1\n");
        return 2;
    }
    if (!opt.only) {
        opt.only = g_strdup("abcdefgh");
    }
    if (strspn(opt.only, "abcdefgh") != strlen(opt.only)) {
        fprintf(stderr, "hvmmio bench: --only takes letters a to h\n");
        return 2;
    }
    return 0;
}

int hvmmio_cmd_bench(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--probe")) {
            return hvmmio_bench_probe(argc, argv);
        }
    }
    static struct bench B;
    int ret = parse_args(argc, argv);
    if (ret || (ret = set_params(&B.P))) {
        return ret;
    }
    if (!opt.outdir) {
        opt.outdir = g_strdup("hvmmio-out/bench");
    }
    if (!opt.json_path) {
        opt.json_path = g_build_filename(opt.outdir, "bench.json", NULL);
    }
    g_mkdir_with_parents(opt.outdir, 0755);
    B.only = opt.only;
    B.outdir = opt.outdir;
    B.t_start = bench_now();
    B.loss = json_object_new_object();
    B.tools = json_object_new_array();
    fprintf(stderr,
            "hvmmio bench: %d repetition(s) of configurations %s, one boot each; N = %" PRIu64
            " (e1000e), %" PRIu64 " (vfio-user), %" PRIu64 " (BAR2 mmap); results in %s\n",
            B.P.reps, B.only, B.P.n[DEV_EMU], B.P.n[DEV_VFIO], B.P.n[DEV_BAR2], B.outdir);
    bench_run_configs(&B);
    bench_run_loss(&B);
    bench_run_tools(&B);
    int failures = bench_report(&B, opt.json_path);
    json_object_put(B.loss);
    json_object_put(B.tools);
    if (failures) {
        fprintf(stderr,
                "hvmmio bench: %d failure(s) (failed boots or loss counts that do not "
                "add up)\n",
                failures);
    }
    return failures ? 1 : 0;
}
