/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay TRACE --scenario NAME: boot the guest with QEMU's mmiotrace-replay device
 * standing in for the recorded device, run the scenario, and report how the driver's
 * accesses compared with the recording. Exits 0 only if the scenario passed and the whole
 * recording was consumed without divergence.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>
#include <glib/gstdio.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "regs-annotate.h"
#include "replay-learn.h"
#include "replay-fuzz.h"
#include "run.h"

/* The recorded device's PCI address (devfn) from its first PCIDEV line, -1 if none. The
 * PCIDEV lines up to it are tracked in maps (they choose its register map). */
static int recorded_devfn(const char *trace, const char *device, struct regmap_set *maps,
                          GError **err)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open(trace);
    struct mmiotrace_record rec;
    int ret, devfn = -1;

    if (!r) {
        g_set_error(err, G_FILE_ERROR, g_file_error_from_errno(errno), "cannot read %s: %s", trace,
                    g_strerror(errno));
        return -2;
    }
    while ((ret = mmiotrace_reader_next(r, &rec)) == 1) {
        if (rec.type != MMIOTRACE_PCIDEV) {
            continue;
        }
        regmap_set_track(maps, &rec);
        if (device && (!(rec.ext & MMIOTRACE_EXT_DEV) || rec.dev_len != strlen(device) ||
                       memcmp(rec.dev, device, rec.dev_len))) {
            continue;
        }
        devfn = rec.pcidev.devfn;
        break;
    }
    if (ret < 0) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_INVAL, "%s", mmiotrace_reader_error(r));
        devfn = -2;
    }
    mmiotrace_reader_free(r);
    return devfn;
}

/* The options of hvmmio replay (file scope: the option table points into it). */
static struct {
    char *scenario, *device, *mode, *on_div, *outdir, *accel, *args;
    char **regs;
    int timeout_s, reorder_window;
    gboolean quiet;
} opt;

static const GOptionEntry entries[] = {
    {"scenario", 's', 0, G_OPTION_ARG_STRING, &opt.scenario,
     "The guest scenario to run (as with hvmmio run; required)", "NAME"},
    {"device", 'D', 0, G_OPTION_ARG_STRING, &opt.device,
     "The recorded device to replay, when the trace holds several (its dev= name)", "NAME"},
    {"mode", 'm', 0, G_OPTION_ARG_STRING, &opt.mode,
     "strict (default: the recording's exact order) or poll-tolerant (extra or missing "
     "polls of a status register are tolerated)",
     "MODE"},
    {"on-divergence", 0, 0, G_OPTION_ARG_STRING, &opt.on_div,
     "stop (default: end the run at the first divergence), log or continue", "WHAT"},
    {"reorder-window", 0, 0, G_OPTION_ARG_INT, &opt.reorder_window,
     "An access that does not match the next recorded one may take a later one, passing at "
     "most N recorded accesses still to make (0-4096; default: 32 for a recording with replay "
     "annotations, as hvmmio replay --learn writes, else 0: strict order)",
     "N"},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &opt.outdir,
     "Output folder (default hvmmio-out/replay-SCENARIO)", "DIR"},
    {"accel", 'a', 0, G_OPTION_ARG_STRING, &opt.accel, "auto, kvm or tcg (as hvmmio run)", "ACCEL"},
    {"args", 0, 0, G_OPTION_ARG_STRING, &opt.args, "Arguments for the scenario", "A,B"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &opt.timeout_s, "Seconds (default 300)", "SECONDS"},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &opt.quiet, "Only the report", NULL},
    {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &opt.regs,
     "Name the register and decode the fields of each access in the report (expected, got, "
     "the records around it), as hvmmio decode does: the map whose PCI ids are the recorded "
     "device's (docs/regmap.md), or DEV=MAP for the recorded device named DEV; repeat for "
     "several",
     "[DEV=]MAP"},
    {NULL},
};

/* Parse argv into opt: 0, or 2 having said why. */
static int parse_args(int *argc, char ***argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("TRACE --scenario NAME");
    g_option_context_set_summary(
        ctx, "Replay a recorded trace: boot the guest with the mmiotrace-replay device in place\n"
             "of the recorded device (its IDs, BARs and capabilities from the recording), run\n"
             "the scenario, and check that the driver makes the recorded accesses: reads get\n"
             "the recorded values, writes must carry the recorded values, recorded interrupts\n"
             "are raised at their place. Exits 0 only if the scenario passed and the whole\n"
             "recording was consumed without divergence.");
    g_option_context_set_description(
        ctx, "Example:\n  hvmmio replay tests/fixtures/replay-e1000e-mac.trace.gz "
             "--scenario e1000e-mac --regs regmaps/e1000e.yaml\n"
             "With --regs the report's accesses carry their register:\n"
             "    expected W 4 bar=0 off=0x0 0x140245  CTRL = 0x00140245 {FD, GIO_MASTER_DISABLE, "
             "SLU, ...}\n"
             "Fuzzing the driver (docs/replay-fuzz.md): 8 runs, mutations chosen by seed 5:\n"
             "  hvmmio replay rec.trace --scenario fuzztarget --fuzz 8 --seed 5\n");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, rl_option_entries(), NULL);
    g_option_context_add_main_entries(ctx, fz_option_entries(), NULL);
    g_autoptr(GError) err = NULL;
    opt.timeout_s = 300;
    opt.reorder_window = -1;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "hvmmio replay: %s (see --help)\n", err->message);
        return 2;
    }
    if (rl_wanted()) { /* replay-learn.c: its own rules */
        return rl_check_args(*argc, opt.outdir, opt.scenario || opt.regs || fz_wanted());
    }
    if (*argc != 2 || !opt.scenario) {
        fprintf(stderr, "hvmmio replay: %s (see --help)\n",
                *argc != 2 ? "name one trace" : "--scenario is required");
        return 2;
    }
    if (opt.reorder_window < -1 || opt.reorder_window > 4096) {
        fprintf(stderr, "hvmmio replay: --reorder-window must be 0 to 4096 (see --help)\n");
        return 2;
    }
    const char *why;
    if (fz_options_valid(&why) && fz_wanted() && (opt.on_div || opt.regs)) {
        why = "--fuzz replays with on-divergence=continue: no --on-divergence or --regs";
    }
    if (why) {
        fprintf(stderr, "hvmmio replay: %s (see --help)\n", why);
        return 2;
    }
    for (const char *c = opt.device ? opt.device : ""; *c; c++) {
        if (*c == ',' || *c == '=') {
            fprintf(stderr, "hvmmio replay: bad device name '%s'\n", opt.device);
            return 2;
        }
    }
    return 0;
}

/* The mmiotrace-replay -device for TRACE, in the recorded device's slot when it is known. */
static char *replay_device(const char *trace, int devfn)
{
    GString *dev = g_string_new("mmiotrace-replay,id=replay,report=replay-report.txt");
    g_string_append_printf(dev, ",trace=%s", trace);
    if (devfn >= 0) {
        g_string_append_printf(dev, ",addr=0x%x.%x", devfn >> 3, devfn & 7);
    }
    if (opt.device) {
        g_string_append_printf(dev, ",device=%s", opt.device);
    }
    if (opt.mode) {
        g_string_append_printf(dev, ",mode=%s", opt.mode);
    }
    if (opt.on_div) {
        g_string_append_printf(dev, ",on-divergence=%s", opt.on_div);
    }
    if (opt.reorder_window >= 0) {
        g_string_append_printf(dev, ",reorder-window=%d", opt.reorder_window);
    }
    return g_string_free(dev, FALSE);
}

/* After the run: print the replay device's report and the verdict; the exit status. */
static int print_report(const char *report_path, const char *outdir, int run_rc,
                        struct regmap_set *maps)
{
    g_autofree char *report = NULL;
    if (!g_file_get_contents(report_path, &report, NULL, NULL)) {
        fprintf(stderr,
                "hvmmio replay: no replay report (%s): the replay device did not "
                "start; see %s/qemu.log\n",
                report_path, outdir);
        return 1;
    }
    /* the first line is for machines; the rest is the report */
    const char *body = strchr(report, '\n');
    body = body ? body + 1 : report;
    g_autofree char *named = regmap_set_size(maps) ? regs_annotate_replay(body, maps) : NULL;
    printf("%s", named ? named : body);
    gboolean pass = g_str_has_prefix(report, "RESULT PASS");
    gboolean diverged = !strstr(report, " divergences=0 ");
    printf("%s\n", pass && !run_rc ? "RESULT: PASS — the driver made exactly the recorded accesses"
                   : !pass && diverged
                       ? "RESULT: FAIL — the driver's accesses diverged from the recording"
                   : !pass ? "RESULT: FAIL — the driver did not make every recorded access"
                           : "RESULT: FAIL — the scenario failed (see above)");
    return pass && !run_rc ? 0 : 1;
}

/* Boot the guest with the replay device for trace and print its report: the exit status. */
static int replay_run(const char *trace, int devfn, struct regmap_set *maps)
{
    g_autofree char *outdir =
        opt.outdir ? g_strdup(opt.outdir) : g_strdup_printf("hvmmio-out/replay-%s", opt.scenario);
    g_autofree char *dev = replay_device(trace, devfn);
    const char *devices[] = {dev, NULL};
    HvmmioRunOptions o;
    hvmmio_run_options_init(&o);
    o.quiet = TRUE;
    o.outdir = outdir;
    o.timeout_s = opt.timeout_s;
    o.devices = devices;
    o.accel = opt.accel ? opt.accel : "auto";
    o.scenario_args = opt.args;
    o.scenario = opt.scenario;
    g_autofree char *report_path = g_build_filename(outdir, "replay-report.txt", NULL);
    g_unlink(report_path);
    if (!opt.quiet) {
        fprintf(stderr, "hvmmio: replaying %s in place of the recorded device, scenario %s\n",
                trace, opt.scenario);
    }
    int run_rc = hvmmio_run(&o, NULL);
    if (run_rc == 2) {
        return 2; /* hvmmio run refused its options (e.g. an unknown scenario): no guest ran */
    }
    return print_report(report_path, outdir, run_rc, maps);
}

/* hvmmio replay --fuzz (replay-fuzz.h): replay's run options, the --fuzz ones. */
static int fuzz_replay(const char *trace, int devfn)
{
    g_autofree char *rel =
        opt.outdir ? g_strdup(opt.outdir) : g_strdup_printf("hvmmio-out/fuzz-%s", opt.scenario);
    /* absolute: the mutated recordings in it are named to QEMU, which runs elsewhere */
    g_autofree char *outdir = g_canonicalize_filename(rel, NULL);
    if (strchr(outdir, ',')) {
        fprintf(stderr, "hvmmio replay: the output folder's path must not contain ','\n");
        return 2;
    }
    struct fz_options o = {
        .trace = trace,
        .scenario = opt.scenario,
        .device = opt.device,
        .devfn = devfn,
        .mode = opt.mode,
        .accel = opt.accel,
        .args = opt.args,
        .outdir = outdir,
        .baseline_timeout_s = opt.timeout_s,
        .quiet = opt.quiet,
    };
    fz_options_apply(&o);
    return fz_main(&o);
}

int hvmmio_cmd_replay(int argc, char **argv)
{
    int ret = parse_args(&argc, &argv);
    if (ret) {
        return ret;
    }
    if (rl_wanted()) {
        return rl_main(argc - 1, argv + 1, opt.outdir, opt.device);
    }
    g_autoptr(GError) err = NULL;
    g_autofree char *trace = g_canonicalize_filename(argv[1], NULL);
    if (strchr(trace, ',')) {
        fprintf(stderr, "hvmmio replay: the trace path must not contain ','\n");
        return 2;
    }
    struct regmap_set *maps = regmap_set_new(); /* empty without --regs */
    if (!regmap_set_add_all(maps, opt.regs, &err)) {
        fprintf(stderr, "hvmmio replay: %s\n", err->message);
        ret = 2;
    } else {
        int devfn = recorded_devfn(trace, opt.device, maps, &err);
        if (devfn == -2) {
            fprintf(stderr, "hvmmio replay: %s\n", err->message);
            ret = 1;
        } else {
            ret = fz_wanted() ? fuzz_replay(trace, devfn) : replay_run(trace, devfn, maps);
        }
    }
    regmap_set_free(maps);
    return ret;
}
