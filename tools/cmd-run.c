/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run: the command line. Its options become HvmmioRunOptions for hvmmio_run (run.c),
 * which boots the guest scenario; everything after "--" goes to QEMU untouched.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "run.h"

/* The options as parsed (file scope: the option table points into it). */
static struct {
    char *outdir, *accel, *scenario_args, *image, *machine, *append;
    char **devices;
    int timeout_s, memory_mb, smp;
    gboolean verbose, quiet, list;
    gboolean testdev; /* --testdev[=PROPS] */
    char *testdev_props;
    gboolean witness; /* --testdev-witness: the server logs what it serves (hvmmio witness) */
} cli;

static gboolean parse_testdev_opt(const char *name, const char *value, gpointer data, GError **err)
{
    cli.testdev = TRUE;
    g_free(cli.testdev_props);
    cli.testdev_props = value && *value ? g_strdup(value) : NULL;
    return TRUE;
}

static const GOptionEntry entries[] = {
    {"device", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &cli.devices,
     "Add a device, in QEMU's -device syntax (repeatable), e.g. e1000e,mmiotrace=on", "SPEC"},
    {"testdev", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_testdev_opt,
     "Add hvmmio's vfio-user test device (docs/testdev.md), served by hvmmio-testdev; "
     "optional PROPS after '=': more vfio-user-pci properties, as key=value,... or JSON "
     "members",
     "PROPS"},
    {"list-scenarios", 0, 0, G_OPTION_ARG_NONE, &cli.list,
     "Print the guest image's scenarios, one a line, and exit", NULL},
    {"testdev-witness", 0, 0, G_OPTION_ARG_NONE, &cli.witness,
     "With --testdev: the server logs every BAR0 access it serves to witness.log in the "
     "output folder, for 'hvmmio witness'",
     NULL},
    {"output", 'o', 0, G_OPTION_ARG_FILENAME, &cli.outdir,
     "Folder for the console log, the guest's results and the host traces "
     "(default: hvmmio-out/SCENARIO)",
     "DIR"},
    {"accel", 'a', 0, G_OPTION_ARG_STRING, &cli.accel,
     "auto (default: KVM if a calibration shows it is fast, else TCG), kvm or tcg", "ACCEL"},
    {"timeout", 't', 0, G_OPTION_ARG_INT, &cli.timeout_s,
     "Stop the guest after this many seconds (default 300)", "SECONDS"},
    {"memory", 'm', 0, G_OPTION_ARG_INT, &cli.memory_mb, "Guest memory (default 512)", "MB"},
    {"smp", 0, 0, G_OPTION_ARG_INT, &cli.smp,
     "vCPUs (default 1; the guest's own mmiotrace offlines all but one)", "N"},
    {"machine", 0, 0, G_OPTION_ARG_STRING, &cli.machine, "QEMU machine (default q35)", "TYPE"},
    {"append", 0, 0, G_OPTION_ARG_STRING, &cli.append,
     "More guest kernel command-line arguments, e.g. 'intel_iommu=on iommu=pt'", "ARGS"},
    {"args", 0, 0, G_OPTION_ARG_STRING, &cli.scenario_args,
     "Comma-separated arguments passed to the scenario script", "A,B,..."},
    {"image", 0, 0, G_OPTION_ARG_FILENAME, &cli.image,
     "Guest image folder with vmlinuz and initrd.img (default: $HVMMIO_IMAGE or the cache)", "DIR"},
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &cli.verbose, "Echo the whole guest console", NULL},
    {"quiet", 'q', 0, G_OPTION_ARG_NONE, &cli.quiet, "Print only errors and the verdict", NULL},
    {NULL},
};

/* Forget a previous parse; the defaults of hvmmio_run_options_init. */
static void cli_reset(void)
{
    g_free(cli.outdir);
    g_free(cli.accel);
    g_free(cli.scenario_args);
    g_free(cli.image);
    g_free(cli.machine);
    g_free(cli.append);
    g_free(cli.testdev_props);
    g_strfreev(cli.devices);
    memset(&cli, 0, sizeof(cli));
    cli.timeout_s = 300;
    cli.memory_mb = 512;
    cli.smp = 1;
}

static GOptionContext *run_context(void)
{
    GOptionContext *ctx = g_option_context_new("SCENARIO [-- QEMU-ARGS...]");
    g_option_context_set_summary(
        ctx, "Boot hvmmio's guest image under the patched QEMU, run the scenario script\n"
             "kernel-guest/scenarios/SCENARIO.sh inside it, and collect its results (the\n"
             "guest's own mmiotrace log among them), the console log and the host-side traces\n"
             "in one folder. Exits 0 only if the scenario passed.");
    g_option_context_set_description(
        ctx, "Scenarios: e1000e-probe (the real e1000e driver probes an emulated e1000e with\n"
             "the guest's mmiotrace on) and those listed in kernel-guest/scenarios/.\n\n"
             "Examples:\n"
             "  hvmmio run -d e1000e,mmiotrace=on e1000e-probe\n"
             "  hvmmio run --testdev testdrv          (the test device and its guest driver)\n"
             "  hvmmio run --testdev=mmiotrace=on,mmiotrace-file=host.txt testdrv\n\n"
             "Environment: HVMMIO_QEMU (QEMU binary), HVMMIO_IMAGE (guest image folder),\n"
             "HVMMIO_TESTDEV (hvmmio-testdev binary), HVMMIO_CACHE_DIR (cache, default\n"
             "~/.cache/hvmmio).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    return ctx;
}

/*
 * The index of "--" (argc if none): what follows is for QEMU. A bare --testdev before it
 * becomes --testdev= (it has no PROPS: GLib would take the next word, the scenario).
 */
static int split_qemu_args(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            return i;
        }
        if (!strcmp(argv[i], "--testdev")) {
            argv[i] = (char *)"--testdev=";
        }
    }
    return argc;
}

int hvmmio_cmd_run(int argc, char **argv)
{
    cli_reset();
    int qemu_extra_at = split_qemu_args(argc, argv);
    g_autoptr(GOptionContext) ctx = run_context();
    g_autoptr(GError) err = NULL;
    int pargc = qemu_extra_at;
    char **pargv = argv;
    if (!g_option_context_parse(ctx, &pargc, &pargv, &err)) {
        fprintf(stderr, "hvmmio run: %s (see --help)\n", err->message);
        return 2;
    }
    if (cli.list) {
        return hvmmio_run_list_scenarios(cli.image);
    }
    if (pargc != 2) {
        fprintf(stderr, "hvmmio run: %s (see --help)\n",
                pargc < 2 ? "name a scenario" : "only one scenario at a time");
        return 2;
    }
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    for (int i = qemu_extra_at + 1; i < argc; i++) {
        g_ptr_array_add(extra, argv[i]);
    }
    g_ptr_array_add(extra, NULL);

    HvmmioRunOptions o;
    hvmmio_run_options_init(&o);
    o.scenario = pargv[1];
    o.scenario_args = cli.scenario_args;
    o.outdir = cli.outdir;
    o.accel = cli.accel ? cli.accel : "auto";
    o.image = cli.image;
    o.machine = cli.machine ? cli.machine : "q35";
    o.append = cli.append;
    o.devices = (const char *const *)cli.devices;
    o.qemu_extra = (const char *const *)extra->pdata;
    o.testdev = cli.testdev;
    o.testdev_props = cli.testdev_props;
    o.testdev_witness = cli.witness;
    o.timeout_s = cli.timeout_s;
    o.memory_mb = cli.memory_mb;
    o.smp = cli.smp;
    o.verbose = cli.verbose;
    o.quiet = cli.quiet;
    return hvmmio_run(&o, NULL);
}
