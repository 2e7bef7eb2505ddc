/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench --probe: the cost of one trapped access, measured with the firmware-free
 * kvm-probe guest (tests/kvm-probe/), so it runs under KVM on machines where a Linux guest
 * is too slow: untraced, traced, with the PC, with the instruction. Configurations
 * alternate within each repetition; each boot reports its timed loops in guest TSC cycles
 * (a read and a write of an edu register), and the ratios come from the
 * medians of boots made side by side.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include "accel.h"
#include "hvmmio.h"
#include "locate.h"

#define NCFG 4
static const char *const cfg_name[NCFG] = {"untraced", "traced", "pc", "insn"};
static const char *const cfg_props[NCFG] = {NULL, "", ",mmiotrace-pc=on", ",mmiotrace-insn=on"};

struct probe_bench {
    const char *accel;
    int reps;
    int loops;
    char *qemu, *probe, *testdev, *outdir;
};

/* One boot; per-access cycles of the read and the write loop, or FALSE. */
static gboolean probe_boot(struct probe_bench *B, int cfg, int rep, double *rd, double *wr,
                           GError **err)
{
    g_autofree char *dir = g_strdup_printf("%s/%s-%d", B->outdir, cfg_name[cfg], rep);
    g_autofree char *sock = g_build_filename(dir, "testdev.sock", NULL);
    g_autofree char *debug = g_build_filename(dir, "debug.txt", NULL);
    g_autofree char *trace = g_build_filename(dir, "trace.txt", NULL);
    g_autofree char *tr =
        cfg_props[cfg] ? g_strdup_printf(",mmiotrace=on,mmiotrace-file=%s%s", trace, cfg_props[cfg])
                       : g_strdup("");
    GPid server;
    g_autofree char *out = NULL;
    int status = 0;

    g_mkdir_with_parents(dir, 0755);
    g_unlink(sock);
    char *sargv[] = {B->testdev, sock, NULL};
    if (!g_spawn_async(NULL, sargv, NULL,
                       G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
                           G_SPAWN_STDERR_TO_DEV_NULL,
                       NULL, NULL, &server, err)) {
        return FALSE;
    }
    for (int i = 0; i < 250 && !g_file_test(sock, G_FILE_TEST_EXISTS); i++) {
        g_usleep(20000);
    }
    g_autofree char *tdev = g_strdup_printf(
        "{\"driver\":\"vfio-user-pci\",\"id\":\"testdev\",\"addr\":\"04.0\","
        "\"socket\":{\"type\":\"unix\",\"path\":\"%s\"}%s}",
        sock, cfg_props[cfg] ? ",\"mmiotrace\":true,\"mmiotrace-file\":\"testdev.txt\"" : "");
    g_autofree char *edu = g_strdup_printf("edu,id=edu0,addr=05.0%s", tr);
    g_autofree char *nic = g_strdup_printf("e1000e,id=nic0,addr=06.0,romfile=%s", tr);
    g_autofree char *append = g_strdup_printf("loops=%d", B->loops);
    g_autofree char *chardev = g_strdup_printf("file,id=dbg,path=%s", debug);
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, B->qemu);
    hvmmio_add_firmware_args(argv);
    const char *rest[] = {"-machine",
                          "q35",
                          "-accel",
                          B->accel,
                          "-m",
                          "128M",
                          "-nodefaults",
                          "-display",
                          "none",
                          "-object",
                          "memory-backend-memfd,id=mem,size=128M,share=on",
                          "-machine",
                          "memory-backend=mem",
                          "-kernel",
                          B->probe,
                          "-append",
                          append,
                          "-chardev",
                          chardev,
                          "-device",
                          "isa-debugcon,iobase=0xe9,chardev=dbg",
                          "-device",
                          "isa-debug-exit,iobase=0xf4,iosize=4",
                          "-device",
                          tdev,
                          "-device",
                          edu,
                          "-device",
                          nic,
                          NULL};
    for (const char **p = rest; *p; p++) {
        g_ptr_array_add(argv, (char *)*p);
    }
    g_ptr_array_add(argv, NULL);
    g_autofree char *qemu_err = NULL;
    gboolean ok = g_spawn_sync(dir, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, &qemu_err, &status, err);
    if (qemu_err && *qemu_err) {
        g_autofree char *log = g_build_filename(dir, "qemu.log", NULL);
        g_file_set_contents(log, qemu_err, -1, NULL);
    }
    g_ptr_array_free(argv, TRUE);
    kill(server, SIGTERM);
    waitpid(server, NULL, 0);
    g_spawn_close_pid(server);
    if (!ok) {
        return FALSE;
    }
    /* isa-debug-exit: the guest's 0 (all checks passed) becomes exit status 1 */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !g_file_get_contents(debug, &out, NULL, NULL) || !strstr(out, "RESULT PASS 0")) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the probe guest failed (%s, see %s)",
                    cfg_name[cfg], debug);
        return FALSE;
    }
    const char *line = strstr(out, "loop_r cycles ");
    unsigned long long r = 0, w = 0, n = 0;
    if (!line ||
        sscanf(line, "loop_r cycles %llu loop_w cycles %llu loops %llu", &r, &w, &n) != 3 || !n) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "no timing line in %s", debug);
        return FALSE;
    }
    *rd = (double)r / n;
    *wr = (double)w / n;
    return TRUE;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, int n)
{
    qsort(v, n, sizeof(*v), cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static char *beside_self(const char *rel)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : g_strdup(".");
    return g_build_filename(dir, rel, NULL);
}

int hvmmio_bench_probe(int argc, char **argv)
{
    struct probe_bench B = {.accel = "kvm", .reps = 5, .loops = 0};
    g_autofree char *accel = NULL, *json_path = NULL;
    GOptionEntry entries[] = {
        {"probe", 0, 0, G_OPTION_ARG_NONE, &(gboolean){0},
         "Measure with the firmware-free probe guest (this mode)", NULL},
        {"accel", 'a', 0, G_OPTION_ARG_STRING, &accel, "kvm (default) or tcg", "ACCEL"},
        {"reps", 'r', 0, G_OPTION_ARG_INT, &B.reps, "Boots of each configuration (default 5)", "N"},
        {"loops", 'n', 0, G_OPTION_ARG_INT, &B.loops,
         "Accesses per timed loop (default 20000 under KVM, 1000000 under TCG)", "N"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &B.outdir,
         "Folder for the boots' files (default: a temporary folder)", "DIR"},
        {"json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path, "Also write the results as JSON",
         "FILE"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--probe");
    g_autoptr(GError) err = NULL;

    g_option_context_set_summary(
        ctx, "The cost of one trapped access with the kvm-probe guest (tests/kvm-probe/):\n"
             "untraced, traced, with mmiotrace-pc and with mmiotrace-insn, alternating boots.\n"
             "Ratios are of median guest TSC cycles per access to edu's registers (a read of\n"
             "its ID, a write of INVERT).");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("hvmmio bench: %s\n", err->message);
        return 2;
    }
    if (accel) {
        B.accel = accel;
    }
    if (strcmp(B.accel, "kvm") && strcmp(B.accel, "tcg")) {
        g_printerr("hvmmio bench: --accel must be kvm or tcg, not '%s'\n", B.accel);
        return 2;
    }
    if (B.reps < 1 || B.loops < 0) {
        g_printerr("hvmmio bench: --reps must be at least 1 and --loops positive\n");
        return 2;
    }
    if (!B.loops) {
        B.loops = strcmp(B.accel, "kvm") ? 1000000 : 20000;
    }
    if (!strcmp(B.accel, "kvm")) {
        struct kvm_calibration cal;
        hvmmio_kvm_calibrate(&cal);
        if (!cal.usable) {
            g_printerr("hvmmio bench: KVM cannot run guests on this machine (%s); "
                       "use --accel tcg\n",
                       g_file_test("/dev/kvm", G_FILE_TEST_EXISTS) ? "/dev/kvm did not run "
                                                                     "the calibration guest"
                                                                   : "no /dev/kvm");
            return 1;
        }
    }
    B.qemu = hvmmio_find_qemu(&err);
    if (!B.qemu) {
        g_printerr("hvmmio bench: %s\n", err->message);
        return 1;
    }
    const char *env_probe = g_getenv("HVMMIO_PROBE");
    g_autofree char *built = beside_self("../tests/kvm-probe/kvm-probe.elf");
    g_autofree char *installed = g_build_filename(HVMMIO_DATADIR, "kvm-probe.elf", NULL);
    B.probe = g_strdup(env_probe && *env_probe                  ? env_probe
                       : g_file_test(built, G_FILE_TEST_EXISTS) ? built
                                                                : installed);
    const char *env_td = g_getenv("HVMMIO_TESTDEV");
    B.testdev = env_td && *env_td ? g_strdup(env_td) : beside_self("hvmmio-testdev");
    if (!g_file_test(B.probe, G_FILE_TEST_EXISTS) ||
        !g_file_test(B.testdev, G_FILE_TEST_IS_EXECUTABLE)) {
        g_printerr("hvmmio bench: the probe guest (%s) or hvmmio-testdev (%s) is not built; "
                   "set $HVMMIO_PROBE / $HVMMIO_TESTDEV\n",
                   B.probe, B.testdev);
        return 1;
    }
    if (!B.outdir) {
        B.outdir = g_dir_make_tmp("hvmmio-bench-probe-XXXXXX", &err);
        if (!B.outdir) {
            g_printerr("hvmmio bench: %s\n", err->message);
            return 1;
        }
    }

    double rd[NCFG][B.reps], wr[NCFG][B.reps];
    for (int rep = 0; rep < B.reps; rep++) {
        for (int c = 0; c < NCFG; c++) {
            int k = (c + rep) % NCFG; /* rotate the order: no configuration always first */
            if (!probe_boot(&B, k, rep, &rd[k][rep], &wr[k][rep], &err)) {
                g_printerr("hvmmio bench: %s\n", err->message);
                return 1;
            }
            if (isatty(2)) {
                g_printerr("\rhvmmio bench: boot %d of %d", rep * NCFG + c + 1, B.reps * NCFG);
            }
        }
    }
    if (isatty(2)) {
        g_printerr("\n");
    }
    double mr[NCFG], mw[NCFG];
    for (int c = 0; c < NCFG; c++) {
        mr[c] = median(rd[c], B.reps);
        mw[c] = median(wr[c], B.reps);
    }
    printf("hvmmio bench --probe: accel %s, %d boots per configuration, %d accesses per loop\n",
           B.accel, B.reps, B.loops);
    printf("%-10s %14s %8s %14s %8s\n", "config", "read cycles", "ratio", "write cycles", "ratio");
    for (int c = 0; c < NCFG; c++) {
        printf("%-10s %14.0f %8.3f %14.0f %8.3f\n", cfg_name[c], mr[c], mr[c] / mr[0], mw[c],
               mw[c] / mw[0]);
    }
    printf("targets (KVM): traced/untraced <= 1.05, pc <= 1.2, insn <= 1.3 (reads: %.3f %.3f "
           "%.3f)\n",
           mr[1] / mr[0], mr[2] / mr[0], mr[3] / mr[0]);
    if (json_path) {
        json_object *j = json_object_new_object();
        json_object_object_add(j, "accel", json_object_new_string(B.accel));
        json_object_object_add(j, "reps", json_object_new_int(B.reps));
        json_object_object_add(j, "loops", json_object_new_int(B.loops));
        for (int c = 0; c < NCFG; c++) {
            json_object *o = json_object_new_object();
            json_object_object_add(o, "read_cycles", json_object_new_double(mr[c]));
            json_object_object_add(o, "write_cycles", json_object_new_double(mw[c]));
            json_object_object_add(o, "read_ratio", json_object_new_double(mr[c] / mr[0]));
            json_object_object_add(o, "write_ratio", json_object_new_double(mw[c] / mw[0]));
            json_object_object_add(j, cfg_name[c], o);
        }
        if (json_object_to_file_ext(json_path, j, JSON_C_TO_STRING_PRETTY) < 0) {
            g_printerr("hvmmio bench: cannot write %s\n", json_path);
            json_object_put(j);
            return 1;
        }
        json_object_put(j);
    }
    return 0;
}
