/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench --probe: the cost of one trapped access, measured with the firmware-free
 * kvm-probe guest (tests/kvm-probe/), so it runs under KVM on machines where a Linux guest
 * is too slow. Paired: one boot has four edu devices that differ only in tracing
 * (untraced, traced, with the PC, with the instruction), and the guest times blocks of
 * reads and writes on each in turn (probe's bench=BLOCKS mode). Each block gives the ratios
 * of the traced devices to the untraced one on the same machine at the same moment; a
 * boot's ratio is the median of its blocks, and the boots' spread is reported.
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

static double median(double *v, int n);

struct probe_bench {
    const char *accel;
    int reps, blocks;
    int loops;
    int hogs;    /* busy processes running beside the guest (--hog) */
    char *props; /* more properties of the traced devices (--props), or NULL */
    char *qemu, *probe, *outdir;
    gboolean tmp_outdir; /* outdir is ours: each boot's files go once it is measured */
};

/* edu slots of the four configurations, in the order the guest measures them */
static const int cfg_slot[NCFG] = {5, 8, 9, 10};

/* QEMU's argv for one boot (NULL-terminated; devs: the four edu -device values, to free). */
static GPtrArray *probe_argv(struct probe_bench *B, const char *append, const char *chardev,
                             char *devs[NCFG])
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, B->qemu);
    hvmmio_add_firmware_args(argv);
    const char *rest[] = {"-machine",
                          "q35",
                          "-accel",
                          B->accel,
                          "-m",
                          "64M",
                          "-nodefaults",
                          "-display",
                          "none",
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
                          "-trace",
                          "mmiotrace_file_close",
                          NULL};
    for (const char **p = rest; *p; p++) {
        g_ptr_array_add(argv, (char *)*p);
    }
    for (int c = 0; c < NCFG; c++) {
        /* one file, so one writer thread, as when a user traces one device */
        devs[c] = cfg_props[c] ? g_strdup_printf("edu,addr=%02x.0,mmiotrace=on,"
                                                 "mmiotrace-file=paired.txt%s%s%s",
                                                 cfg_slot[c], cfg_props[c], B->props ? "," : "",
                                                 B->props ? B->props : "")
                               : g_strdup_printf("edu,addr=%02x.0", cfg_slot[c]);
        g_ptr_array_add(argv, "-device");
        g_ptr_array_add(argv, devs[c]);
    }
    g_ptr_array_add(argv, NULL);
    return argv;
}

/*
 * The trace file's figures from QEMU's close event: per record, the writer's CPU ns (user,
 * system and the I/O thread's), of them in user space, and bytes; the vCPU's waits for room
 * in a full ring and their ms in all
 */
enum { W_CPU, W_USER, W_BYTES, W_WAITS, W_WAIT_MS, NWRITER };

/*
 * One boot's figures, [configuration][0: reads, 1: writes]. ratio: for each traced
 * configuration the median over blocks of its cycles per access divided by the untraced
 * device's in the same block; [0]: the untraced device's median cycles per access. best: the
 * fastest block's cycles per access divided by the untraced device's fastest (time the machine
 * takes from the guest only makes a block slower); [0]: the untraced device's fewest cycles.
 * writer: the figures above (W_*), all 0: unknown.
 */
struct probe_boot_result {
    double ratio[NCFG][2], best[NCFG][2];
    double writer[NWRITER];
};

/* QEMU's trace event at the file's close (mmiotrace_file_close, QEMU's log backend) */
static void parse_writer(const char *qemu_err, struct probe_boot_result *res)
{
    const char *l = qemu_err ? strstr(qemu_err, "mmiotrace_file_close ") : NULL;
    const char *ev = l ? strstr(l, " events ") : NULL;
    unsigned long long events, bytes, user, sys, io, waits, wait_ns;

    memset(res->writer, 0, sizeof(res->writer));
    if (ev &&
        sscanf(ev,
               " events %llu bytes %llu writer_user_ns %llu writer_sys_ns %llu io_cpu_ns %llu "
               "room_waits %llu room_wait_ns %llu",
               &events, &bytes, &user, &sys, &io, &waits, &wait_ns) == 7 &&
        events) {
        res->writer[W_CPU] = (double)(user + sys + io) / events;
        res->writer[W_USER] = (double)user / events;
        res->writer[W_BYTES] = (double)bytes / events;
        res->writer[W_WAITS] = waits;
        res->writer[W_WAIT_MS] = wait_ns / 1e6;
    }
}

/* The guest's "bench BLOCK SLOT read CYCLES write CYCLES" lines. */
static gboolean parse_probe(struct probe_bench *B, const char *out, const char *debug,
                            struct probe_boot_result *res, GError **err)
{
    double cyc[B->blocks][NCFG][2];
    int seen = 0;
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        unsigned blk, slot;
        unsigned long long r, w;
        if (sscanf(*l, "bench %u %u read %llu write %llu", &blk, &slot, &r, &w) != 4 ||
            blk >= (unsigned)B->blocks) {
            continue;
        }
        for (int c = 0; c < NCFG; c++) {
            if ((int)slot == cfg_slot[c]) {
                cyc[blk][c][0] = (double)r / B->loops;
                cyc[blk][c][1] = (double)w / B->loops;
                seen++;
            }
        }
    }
    if (seen != B->blocks * NCFG) {
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "%d of %d timing lines in %s", seen,
                    B->blocks * NCFG, debug);
        return FALSE;
    }
    double v[B->blocks];
    for (int c = 0; c < NCFG; c++) {
        for (int d = 0; d < 2; d++) {
            double fastest = cyc[0][c][d];
            for (int b = 0; b < B->blocks; b++) {
                v[b] = c ? cyc[b][c][d] / cyc[b][0][d] : cyc[b][0][d];
                fastest = MIN(fastest, cyc[b][c][d]);
            }
            res->ratio[c][d] = median(v, B->blocks);
            res->best[c][d] = fastest;
        }
    }
    for (int c = NCFG - 1; c >= 0; c--) {
        for (int d = 0; d < 2; d++) {
            res->best[c][d] /= c ? res->best[0][d] : 1;
        }
    }
    return TRUE;
}

/* One boot: QEMU with the probe guest and four edu devices; its timings (parse_probe). */
static gboolean probe_boot(struct probe_bench *B, int rep, struct probe_boot_result *res,
                           GError **err)
{
    g_autofree char *dir = g_strdup_printf("%s/boot-%d", B->outdir, rep);
    g_autofree char *debug = g_build_filename(dir, "debug.txt", NULL);
    g_autofree char *append = g_strdup_printf("loops=%d bench=%d", B->loops, B->blocks);
    g_autofree char *chardev = g_strdup_printf("file,id=dbg,path=%s", debug);
    g_autofree char *out = NULL, *qemu_err = NULL;
    char *devs[NCFG];
    int status = 0;

    g_mkdir_with_parents(dir, 0755);
    GPtrArray *argv = probe_argv(B, append, chardev, devs);
    gboolean ok = g_spawn_sync(dir, (char **)argv->pdata, NULL, G_SPAWN_STDOUT_TO_DEV_NULL, NULL,
                               NULL, NULL, &qemu_err, &status, err);
    g_ptr_array_free(argv, TRUE);
    for (int c = 0; c < NCFG; c++) {
        g_free(devs[c]);
    }
    if (qemu_err && *qemu_err) {
        g_autofree char *log = g_build_filename(dir, "qemu.log", NULL);
        g_file_set_contents(log, qemu_err, -1, NULL);
    }
    if (!ok) {
        return FALSE;
    }
    /* isa-debug-exit: the guest's 0 becomes exit status 1 */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1 ||
        !g_file_get_contents(debug, &out, NULL, NULL) || !strstr(out, "RESULT PASS 0")) {
        /* QEMU refusing its arguments (a bad --props) says why on stderr */
        g_autofree char *why =
            qemu_err && *qemu_err ? g_strndup(qemu_err, strcspn(qemu_err, "\n")) : NULL;
        g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_FAILED, "the probe guest failed%s%s (see %s)",
                    why ? ": " : "", why ? why : "", debug);
        return FALSE;
    }
    ok = parse_probe(B, out, debug, res, err);
    parse_writer(qemu_err, res);
    if (ok && B->tmp_outdir) {
        /* a boot's trace is about 700 MB: a temporary folder keeps nothing once measured */
        const char *files[] = {"paired.txt", "debug.txt", "qemu.log"};
        for (size_t i = 0; i < G_N_ELEMENTS(files); i++) {
            g_autofree char *f = g_build_filename(dir, files[i], NULL);
            g_unlink(f);
        }
        g_rmdir(dir);
    }
    return ok;
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

/* Parse argv into B and *json_path: 0, or 2 having said why. */
static int parse_args(int argc, char **argv, struct probe_bench *B, char **json_path)
{
    g_autofree char *accel = NULL;
    GOptionEntry entries[] = {
        {"probe", 0, 0, G_OPTION_ARG_NONE, &(gboolean){0},
         "Measure with the firmware-free probe guest (this mode)", NULL},
        {"accel", 'a', 0, G_OPTION_ARG_STRING, &accel, "kvm (default) or tcg", "ACCEL"},
        {"reps", 'r', 0, G_OPTION_ARG_INT, &B->reps, "Boots (default 5)", "N"},
        {"blocks", 'b', 0, G_OPTION_ARG_INT, &B->blocks,
         "Blocks per boot, each timing every configuration in turn (default 11)", "N"},
        {"loops", 'n', 0, G_OPTION_ARG_INT, &B->loops,
         "Reads and writes per block and configuration (default 2000 under KVM, 100000 under "
         "TCG)",
         "N"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &B->outdir,
         "Keep the boots' files (traces of about 700 MB each) in this folder (default: a temporary "
         "folder, emptied as each boot is measured)",
         "DIR"},
        {"json", 'j', 0, G_OPTION_ARG_FILENAME, json_path, "Also write the results as JSON",
         "FILE"},
        {"hog", 0, 0, G_OPTION_ARG_INT, &B->hogs,
         "Run N busy processes (CPU hogs) beside the guest, e.g. 1 to keep the other core of a "
         "2-core machine busy (default 0)",
         "N"},
        {"props", 0, 0, G_OPTION_ARG_STRING, &B->props,
         "More properties of the three traced devices, e.g. mmiotrace-ring=262144 or "
         "mmiotrace-compat=on",
         "PROP=VALUE[,...]"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("--probe");
    g_autoptr(GError) err = NULL;

    g_option_context_set_summary(
        ctx, "The cost of one trapped access with the kvm-probe guest (tests/kvm-probe/):\n"
             "untraced, traced, with mmiotrace-pc and with mmiotrace-insn. Paired: four edu\n"
             "devices in one boot differ only in tracing, and the guest times blocks of reads\n"
             "(ID) and writes (INVERT) on each in turn; ratios to the untraced device are taken\n"
             "per block, their median per boot, and the spread over boots is reported. From\n"
             "QEMU's trace event at the file's close it also reports the writer thread's CPU\n"
             "per record and how often the vCPU waited for room in a full ring.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        g_printerr("hvmmio bench: %s\n", err->message);
        return 2;
    }
    B->accel = accel && !strcmp(accel, "tcg") ? "tcg" : "kvm";
    if (accel && strcmp(accel, "kvm") && strcmp(accel, "tcg")) {
        g_printerr("hvmmio bench: --accel must be kvm or tcg, not '%s'\n", accel);
        return 2;
    }
    if (B->hogs < 0 || B->hogs > 64) {
        g_printerr("hvmmio bench: --hog must be between 0 and 64\n");
        return 2;
    }
    if (B->reps < 1 || B->blocks < 1 || B->blocks > 1000 || B->loops < 0) {
        g_printerr("hvmmio bench: --reps and --blocks (at most 1000) must be at least 1, "
                   "--loops positive\n");
        return 2;
    }
    if (!B->loops) {
        B->loops = strcmp(B->accel, "kvm") ? 100000 : 2000;
    }
    return 0;
}

/* QEMU, the probe guest, KVM if asked for, the output folder: 0, or 1 having said why. */
static int prepare(struct probe_bench *B)
{
    g_autoptr(GError) err = NULL;
    if (!strcmp(B->accel, "kvm")) {
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
    B->qemu = hvmmio_find_qemu(&err);
    if (!B->qemu) {
        g_printerr("hvmmio bench: %s\n", err->message);
        return 1;
    }
    const char *env_probe = g_getenv("HVMMIO_PROBE");
    g_autofree char *built = beside_self("../tests/kvm-probe/kvm-probe.elf");
    g_autofree char *installed = hvmmio_installed_file(HVMMIO_DATADIR, "kvm-probe.elf");
    B->probe = g_strdup(env_probe && *env_probe                  ? env_probe
                        : g_file_test(built, G_FILE_TEST_EXISTS) ? built
                        : installed                              ? installed
                                                                 : built);
    if (!g_file_test(B->probe, G_FILE_TEST_EXISTS)) {
        g_printerr("hvmmio bench: the probe guest is not built (looked for %s); set "
                   "$HVMMIO_PROBE\n",
                   B->probe);
        return 1;
    }
    if (!B->outdir) {
        B->tmp_outdir = TRUE;
        B->outdir = g_dir_make_tmp("hvmmio-bench-probe-XXXXXX", &err);
        if (!B->outdir) {
            g_printerr("hvmmio bench: %s\n", err->message);
            return 1;
        }
    }
    return 0;
}

/* Per configuration and direction: the median over boots, min and max (best: of the best). */
struct probe_result {
    double med[NCFG][2], lo[NCFG][2], hi[NCFG][2];
    double bmed[NCFG][2], blo[NCFG][2], bhi[NCFG][2];
    double writer[NWRITER][3]; /* each figure's median, min and max over boots */
};

/* Each writer figure over the boots that have them (QEMU traced its file's close). */
static void writer_spread(const struct probe_boot_result *res, int reps, double out[NWRITER][3])
{
    for (int k = 0; k < NWRITER; k++) {
        double v[reps];
        int n = 0;

        for (int r = 0; r < reps; r++) {
            if (res[r].writer[W_CPU] > 0) {
                v[n++] = res[r].writer[k];
            }
        }
        out[k][0] = n ? median(v, n) : 0; /* sorts v */
        out[k][1] = n ? v[0] : 0;
        out[k][2] = n ? v[n - 1] : 0;
    }
}

static void print_result(const struct probe_bench *B, const struct probe_result *R)
{
    char hogs[48] = "";

    if (B->hogs) {
        snprintf(hogs, sizeof(hogs), ", %d CPU hog(s) running", B->hogs);
    }
    printf("hvmmio bench --probe: accel %s, %d boots x %d blocks x %d accesses per direction "
           "and device (paired: one boot, four edu devices)%s%s%s\n",
           B->accel, B->reps, B->blocks, B->loops, hogs, B->props ? "; traced devices: " : "",
           B->props ? B->props : "");
    printf("untraced: %.0f cycles per read, %.0f per write (median of boots; range %.0f-%.0f, "
           "%.0f-%.0f)\n",
           R->med[0][0], R->med[0][1], R->lo[0][0], R->hi[0][0], R->lo[0][1], R->hi[0][1]);
    printf("%-10s %22s %22s\n", "ratio", "read (min-max)", "write (min-max)");
    for (int c = 1; c < NCFG; c++) {
        printf("%-10s %8.3f (%5.3f-%5.3f) %8.3f (%5.3f-%5.3f)\n", cfg_name[c], R->med[c][0],
               R->lo[c][0], R->hi[c][0], R->med[c][1], R->lo[c][1], R->hi[c][1]);
    }
    printf("fastest blocks (each configuration's fastest block over the untraced device's; "
           "untraced %.0f/%.0f cycles):\n",
           R->bmed[0][0], R->bmed[0][1]);
    for (int c = 1; c < NCFG; c++) {
        printf("%-10s %8.3f (%5.3f-%5.3f) %8.3f (%5.3f-%5.3f)\n", cfg_name[c], R->bmed[c][0],
               R->blo[c][0], R->bhi[c][0], R->bmed[c][1], R->blo[c][1], R->bhi[c][1]);
    }
    if (R->writer[W_CPU][0] > 0) {
        printf("writer: %.1f ns of CPU per record (range %.1f-%.1f; %.1f in user space), %.1f "
               "bytes per record\n",
               R->writer[W_CPU][0], R->writer[W_CPU][1], R->writer[W_CPU][2], R->writer[W_USER][0],
               R->writer[W_BYTES][0]);
        printf("the vCPU waited for room in a full ring %.0f times per boot (%.1f ms; most %.0f, "
               "%.1f ms)\n",
               R->writer[W_WAITS][0], R->writer[W_WAIT_MS][0], R->writer[W_WAITS][2],
               R->writer[W_WAIT_MS][2]);
    }
    printf("targets (KVM): traced <= 1.05, pc <= 1.2, insn <= 1.3; (TCG, issue 16): traced <= "
           "1.05, pc <= 1.15, insn <= 1.3\n");
}

static int write_json(const struct probe_bench *B, const struct probe_result *R,
                      const char *json_path)
{
    json_object *j = json_object_new_object();
    json_object_object_add(j, "accel", json_object_new_string(B->accel));
    json_object_object_add(j, "boots", json_object_new_int(B->reps));
    json_object_object_add(j, "blocks", json_object_new_int(B->blocks));
    json_object_object_add(j, "loops", json_object_new_int(B->loops));
    json_object_object_add(j, "hogs", json_object_new_int(B->hogs));
    if (B->props) {
        json_object_object_add(j, "props", json_object_new_string(B->props));
    }
    if (R->writer[W_CPU][0] > 0) {
        json_object_object_add(j, "writer_cpu_ns_per_record",
                               json_object_new_double(R->writer[W_CPU][0]));
        json_object_object_add(j, "writer_user_ns_per_record",
                               json_object_new_double(R->writer[W_USER][0]));
        json_object_object_add(j, "bytes_per_record",
                               json_object_new_double(R->writer[W_BYTES][0]));
        json_object_object_add(j, "room_waits_per_boot",
                               json_object_new_double(R->writer[W_WAITS][0]));
        json_object_object_add(j, "room_wait_ms_per_boot",
                               json_object_new_double(R->writer[W_WAIT_MS][0]));
    }
    json_object_object_add(j, "untraced_read_cycles", json_object_new_double(R->med[0][0]));
    json_object_object_add(j, "untraced_write_cycles", json_object_new_double(R->med[0][1]));
    for (int c = 1; c < NCFG; c++) {
        json_object *o = json_object_new_object();
        const char *k[2] = {"read", "write"};
        for (int d = 0; d < 2; d++) {
            json_object *e = json_object_new_object();
            json_object_object_add(e, "ratio", json_object_new_double(R->med[c][d]));
            json_object_object_add(e, "min", json_object_new_double(R->lo[c][d]));
            json_object_object_add(e, "max", json_object_new_double(R->hi[c][d]));
            json_object_object_add(e, "fastest_ratio", json_object_new_double(R->bmed[c][d]));
            json_object_object_add(o, k[d], e);
        }
        json_object_object_add(j, cfg_name[c], o);
    }
    if (json_object_to_file_ext(json_path, j, JSON_C_TO_STRING_PRETTY) < 0) {
        g_printerr("hvmmio bench: cannot write %s\n", json_path);
        json_object_put(j);
        return 1;
    }
    json_object_put(j);
    return 0;
}

/* n processes that do nothing but use CPU, until hogs_stop */
static void hogs_start(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        pids[i] = fork();
        if (pids[i] == 0) {
            for (volatile unsigned long x = 0;; x++) {
            }
        }
    }
}

static void hogs_stop(pid_t *pids, int n)
{
    for (int i = 0; i < n; i++) {
        if (pids[i] > 0) {
            kill(pids[i], SIGKILL);
            waitpid(pids[i], NULL, 0);
        }
    }
}

int hvmmio_bench_probe(int argc, char **argv)
{
    struct probe_bench B = {.reps = 5, .blocks = 11, .loops = 0};
    g_autofree char *json_path = NULL;
    g_autoptr(GError) err = NULL;
    int ret = parse_args(argc, argv, &B, &json_path);
    if (ret || (ret = prepare(&B))) {
        return ret;
    }
    struct probe_boot_result res[B.reps];
    pid_t hogs[B.hogs + 1];
    hogs_start(hogs, B.hogs);
    for (int rep = 0; rep < B.reps; rep++) {
        if (!probe_boot(&B, rep, &res[rep], &err)) {
            hogs_stop(hogs, B.hogs);
            g_printerr("hvmmio bench: %s\n", err->message);
            return 1;
        }
        if (isatty(2)) {
            g_printerr("\rhvmmio bench: boot %d of %d", rep + 1, B.reps);
        }
    }
    hogs_stop(hogs, B.hogs);
    if (isatty(2)) {
        g_printerr("\n");
    }
    struct probe_result R;
    double v[B.reps];
    for (int c = 0; c < NCFG; c++) {
        for (int d = 0; d < 2; d++) {
            for (int r = 0; r < B.reps; r++) {
                v[r] = res[r].ratio[c][d];
            }
            R.med[c][d] = median(v, B.reps); /* sorts v */
            R.lo[c][d] = v[0];
            R.hi[c][d] = v[B.reps - 1];
            for (int r = 0; r < B.reps; r++) {
                v[r] = res[r].best[c][d];
            }
            R.bmed[c][d] = median(v, B.reps);
            R.blo[c][d] = v[0];
            R.bhi[c][d] = v[B.reps - 1];
        }
    }
    writer_spread(res, B.reps, R.writer);
    print_result(&B, &R);
    if (B.tmp_outdir) {
        g_rmdir(B.outdir);
    }
    return json_path ? write_json(&B, &R, json_path) : 0;
}
