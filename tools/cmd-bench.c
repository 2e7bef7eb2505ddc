/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench: the cost of a traced access (docs/benchmarks.md).
 *
 * Each configuration is one guest boot (`hvmmio run ... bench`, kernel-guest/scenarios/bench.sh)
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
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "trace-gen.h"

enum { DEV_EMU, DEV_VFIO, DEV_BAR2, DEV_COUNT };
static const char *const dev_key[DEV_COUNT] = {"emu", "vfio", "bar2"};
static const char *const dev_label[DEV_COUNT] = {
    "e1000e BAR0 (emulated)", "testdev BAR0 (vfio-user)", "testdev BAR2 page 0 (mmap)"};

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

struct config {
    char id;
    const char *name;
    const char *emu_props;  /* NULL: no e1000e */
    const char *vfio_props; /* NULL: no test device; "" without properties */
    gboolean gtrace, stock, bar2, emu, vfio;
};

static const struct config configs[] = {
    {'a', "untraced (bare trap)", "", "", FALSE, FALSE, TRUE, TRUE, TRUE},
    {'b', "hvmmio, kernel-compatible lines",
     "mmiotrace=on,mmiotrace-compat=on,mmiotrace-file=emu.txt",
     "mmiotrace=on,mmiotrace-compat=on,mmiotrace-file=vfio.txt", FALSE, FALSE, FALSE, TRUE, TRUE},
    {'c', "hvmmio with PC", "mmiotrace=on,mmiotrace-pc=on,mmiotrace-file=emu.txt",
     "mmiotrace=on,mmiotrace-pc=on,mmiotrace-file=vfio.txt", FALSE, FALSE, FALSE, TRUE, TRUE},
    {'d', "hvmmio with PC and instruction", "mmiotrace=on,mmiotrace-insn=on,mmiotrace-file=emu.txt",
     "mmiotrace=on,mmiotrace-insn=on,mmiotrace-file=vfio.txt", FALSE, FALSE, FALSE, TRUE, TRUE},
    {'e', "stock QEMU -trace memory_region_ops_*", "", "", FALSE, TRUE, FALSE, TRUE, TRUE},
    {'f', "guest's own mmiotrace", "", "", TRUE, FALSE, FALSE, TRUE, TRUE},
    /* g's reference: the same page with tracing off entirely, in a boot of its own (run with g) */
    {'G', "BAR2 page, tracing off entirely", NULL, "", FALSE, FALSE, TRUE, FALSE, FALSE},
    {'g', "untraced page, BAR2 page 1 trapped", NULL,
     "mmiotrace=on,mmiotrace-ranges=2:0x1000+0x1000,mmiotrace-file=vfio.txt", FALSE, FALSE, TRUE,
     FALSE, FALSE},
};
#define NCONFIGS G_N_ELEMENTS(configs)

/* samples[config][dev][0 read / 1 write]: ns per access, one per repetition (BAR2: per load) */
static GArray *samples[NCONFIGS][DEV_COUNT][2];
static GArray *walls[NCONFIGS];
static char *accel_used;

static char *self_exe(void)
{
    char *p = g_file_read_link("/proc/self/exe", NULL);
    return p ? p : g_strdup("hvmmio");
}

static double now_s(void)
{
    return g_get_monotonic_time() / 1e6;
}

/* ---- one boot ---- */

struct boot {
    char *outdir;
    double wall;
    gboolean ok;
    /* h: query-mmiotrace's answer while the guest held */
    json_object *query;
};

/* The QMP client: greeting, qmp_capabilities, then one command; returns its "return". */
static json_object *qmp_command(const char *sock, const char *cmd, GError **err)
{
    g_autoptr(GSocketClient) c = g_socket_client_new();
    g_autoptr(GSocketAddress) addr = g_unix_socket_address_new(sock);
    g_autoptr(GSocketConnection) conn =
        g_socket_client_connect(c, G_SOCKET_CONNECTABLE(addr), NULL, err);
    if (!conn) {
        return NULL;
    }
    GOutputStream *out = g_io_stream_get_output_stream(G_IO_STREAM(conn));
    g_autoptr(GDataInputStream) in =
        g_data_input_stream_new(g_io_stream_get_input_stream(G_IO_STREAM(conn)));
    const char *cmds[] = {"{\"execute\":\"qmp_capabilities\"}\n", cmd};
    json_object *ret = NULL;
    g_autofree char *greeting = g_data_input_stream_read_line(in, NULL, NULL, err);
    if (!greeting) {
        return NULL;
    }
    for (int i = 0; i < 2; i++) {
        if (!g_output_stream_write_all(out, cmds[i], strlen(cmds[i]), NULL, NULL, err)) {
            return NULL;
        }
        for (;;) {
            g_autofree char *line = g_data_input_stream_read_line(in, NULL, NULL, err);
            if (!line) {
                if (err && !*err) {
                    g_set_error(err, G_IO_ERROR, G_IO_ERROR_CLOSED, "QMP closed");
                }
                return NULL;
            }
            json_object *o = json_tokener_parse(line);
            json_object *r;
            if (o && json_object_object_get_ex(o, "return", &r)) {
                if (i == 1) {
                    ret = json_object_get(r);
                }
                json_object_put(o);
                break;
            }
            if (o && json_object_object_get_ex(o, "error", &r)) {
                g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "QMP error: %s",
                            json_object_to_json_string(r));
                json_object_put(o);
                return NULL;
            }
            json_object_put(o); /* an event */
        }
    }
    return ret;
}

static void on_exit_cb(GObject *source, GAsyncResult *res, gpointer data)
{
    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    *(gboolean *)data = TRUE;
}

/*
 * Boot once: hvmmio run SCENARIO bench with the devices and arguments given. With qmp_query,
 * QEMU gets a QMP socket; when the guest prints "step bench-done" (then waits), query-mmiotrace
 * is asked and kept in b->query.
 */
static gboolean boot(const char *outdir, const char *accel, const char *emu_props,
                     const char *vfio_props, const char *args, const char *const *qemu_extra,
                     gboolean qmp_query, struct boot *b)
{
    g_autofree char *self = self_exe();
    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
    g_autofree char *qmpdir = NULL, *qmpsock = NULL;

    g_ptr_array_add(a, g_strdup(self));
    g_ptr_array_add(a, g_strdup("run"));
    g_ptr_array_add(a, g_strdup("--accel"));
    g_ptr_array_add(a, g_strdup(accel));
    g_ptr_array_add(a, g_strdup("--timeout"));
    g_ptr_array_add(a, g_strdup("600"));
    g_ptr_array_add(a, g_strdup("-o"));
    g_ptr_array_add(a, g_strdup(outdir));
    if (emu_props) {
        g_ptr_array_add(a, g_strdup("-d"));
        g_ptr_array_add(a,
                        *emu_props ? g_strdup_printf("e1000e,%s", emu_props) : g_strdup("e1000e"));
    }
    if (vfio_props) {
        g_ptr_array_add(a, *vfio_props ? g_strdup_printf("--testdev=%s", vfio_props)
                                       : g_strdup("--testdev"));
    }
    g_ptr_array_add(a, g_strdup("--args"));
    g_ptr_array_add(a, g_strdup(args));
    g_ptr_array_add(a, g_strdup("bench"));
    g_ptr_array_add(a, g_strdup("--"));
    if (qmp_query) {
        qmpdir = g_dir_make_tmp("hvmmio-bench-XXXXXX", NULL);
        qmpsock = g_build_filename(qmpdir, "qmp.sock", NULL);
        g_ptr_array_add(a, g_strdup("-qmp"));
        g_ptr_array_add(a, g_strdup_printf("unix:%s,server=on,wait=off", qmpsock));
    }
    for (const char *const *q = qemu_extra; q && *q; q++) {
        g_ptr_array_add(a, g_strdup(*q));
    }
    g_ptr_array_add(a, NULL);

    g_mkdir_with_parents(outdir, 0755);
    g_autofree char *runlog = g_build_filename(outdir, "run.log", NULL);
    g_autofree char *console = g_build_filename(outdir, "console.log", NULL);
    g_unlink(console);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(l, runlog);
    g_autoptr(GError) err = NULL;
    double t0 = now_s();
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, (const char *const *)a->pdata, &err);
    if (!p) {
        fprintf(stderr, "hvmmio bench: cannot run %s: %s\n", self, err->message);
        return FALSE;
    }
    gboolean queried = !qmp_query, exited = FALSE;
    g_subprocess_wait_async(p, NULL, on_exit_cb, &exited);
    while (!queried) {
        g_usleep(100000);
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        g_autofree char *text = NULL;
        gsize len = 0;
        const char *done = "hvmmio: step bench-done";
        /* (the console may hold NUL bytes) */
        if (g_file_get_contents(console, &text, &len, NULL) &&
            memmem(text, len, done, strlen(done))) {
            g_autofree char *cmd = g_strdup("{\"execute\":\"query-mmiotrace\"}\n");
            b->query = qmp_command(qmpsock, cmd, &err);
            if (!b->query) {
                fprintf(stderr, "hvmmio bench: query-mmiotrace: %s\n",
                        err ? err->message : "no answer");
                g_clear_error(&err);
            }
            queried = TRUE;
        }
        /* the run ended (failed) before the guest said it was done */
        if (!queried && exited) {
            break;
        }
    }
    gboolean ok = g_subprocess_wait(p, NULL, NULL) && g_subprocess_get_if_exited(p) &&
                  g_subprocess_get_exit_status(p) == 0;
    b->wall = now_s() - t0;
    while (!exited) { /* the callback refers to this frame: let it run now */
        g_main_context_iteration(NULL, TRUE);
    }
    if (qmpsock) {
        g_unlink(qmpsock);
        g_rmdir(qmpdir);
    }
    g_autofree char *log = NULL;
    if (g_file_get_contents(runlog, &log, NULL, NULL)) {
        const char *acc = strstr(log, "hvmmio: accelerator ");
        if (acc && !accel_used) {
            acc += strlen("hvmmio: accelerator ");
            accel_used = g_strndup(acc, strcspn(acc, "\n"));
        }
    }
    if (!ok) {
        fprintf(stderr, "hvmmio bench: the boot in %s failed; its log (%s):\n%s", outdir, runlog,
                log ? log : "");
    }
    b->ok = ok;
    return ok;
}

/* bench.txt: NAME N READ_PS WRITE_PS ACCESSES RESULT */
/*
 * The mmap'ed BAR2 page is timed BAR2_LOADS times per boot, each a load of the module, and each
 * load is a sample: a 2-5 ns guest access under TCG varies between module loads (writes
 * ~5.3 ns for most loads, 1.7-2.8 ns for others; reads 1.95 ns, some loads 2.5-2.9), with or
 * without hvmmio, so medians of a few boots, or of each boot's loads, differed by up to 3x
 * between G and g. The median of all loads (15 in a default run) is stable.
 */
#define BAR2_LOADS 3

struct meas {
    gboolean have;
    uint64_t n, accesses;
    double read_ns, write_ns;
    double load_ns[2][BAR2_LOADS];
    int loads;
};

/* The median of n <= 3 values. */
static double median3(const double *v, int n)
{
    if (n < 3) {
        return n == 2 ? (v[0] + v[1]) / 2 : v[0];
    }
    double lo = MIN(v[0], v[1]), hi = MAX(v[0], v[1]);
    return v[2] < lo ? lo : v[2] > hi ? hi : v[2];
}

static void parse_bench(const char *outdir, struct meas m[DEV_COUNT])
{
    g_autofree char *path = g_build_filename(outdir, "bench.txt", NULL);
    g_autofree char *text = NULL;
    memset(m, 0, sizeof(struct meas) * DEV_COUNT);
    if (!g_file_get_contents(path, &text, NULL, NULL)) {
        return;
    }
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (char **l = lines; *l; l++) {
        char name[16];
        uint64_t n, rps, wps, acc;
        int res;
        if (sscanf(*l, "%15s %" SCNu64 " %" SCNu64 " %" SCNu64 " %" SCNu64 " %d", name, &n, &rps,
                   &wps, &acc, &res) != 6 ||
            res != 0) {
            continue;
        }
        for (int d = 0; d < DEV_COUNT; d++) {
            if (!strcmp(name, dev_key[d])) {
                struct meas *x = &m[d];
                if (x->loads < BAR2_LOADS) { /* BAR2: the median of the boot's module loads */
                    x->load_ns[0][x->loads] = rps / 1000.0;
                    x->load_ns[1][x->loads] = wps / 1000.0;
                    x->loads++;
                }
                x->have = TRUE;
                x->n = n;
                x->accesses += acc;
                x->read_ns = median3(x->load_ns[0], x->loads);
                x->write_ns = median3(x->load_ns[1], x->loads);
            }
        }
    }
}

static goffset file_size(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    GStatBuf st;
    return g_stat(p, &st) == 0 ? (goffset)st.st_size : -1;
}

static void remove_file(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
}

/* R/W records and the total of the "Lost N events" markers in an mmiotrace file. */
static gboolean count_trace(const char *path, uint64_t *rw, uint64_t *lost, uint64_t *markers)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        return FALSE;
    }
    char *line = NULL;
    size_t cap = 0;
    *rw = *lost = *markers = 0;
    while (getline(&line, &cap, f) > 0) {
        unsigned long long n;
        if ((line[0] == 'R' || line[0] == 'W') && line[1] == ' ') {
            (*rw)++;
        } else if (sscanf(line, "MARK 0.000000 Lost %llu events.", &n) == 1 ||
                   sscanf(line, "LOST %*u.%*u %llu", &n) == 1) {
            /* the kernel's marker (compat) or hvmmio's LOST line (extended) */
            *lost += n;
            (*markers)++;
        }
    }
    free(line);
    fclose(f);
    return TRUE;
}

/* ---- statistics ---- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

struct summary {
    int count;
    double med, min, max;
};

static struct summary summarise(GArray *v)
{
    struct summary s = {0, NAN, NAN, NAN};
    if (!v || !v->len) {
        return s;
    }
    double *d = g_memdup2(v->data, v->len * sizeof(double));
    qsort(d, v->len, sizeof(double), cmp_double);
    s.count = (int)v->len;
    s.min = d[0];
    s.max = d[v->len - 1];
    s.med = v->len % 2 ? d[v->len / 2] : (d[v->len / 2 - 1] + d[v->len / 2]) / 2;
    g_free(d);
    return s;
}

static void add_sample(GArray **a, double v)
{
    if (!*a) {
        *a = g_array_new(FALSE, FALSE, sizeof(double));
    }
    g_array_append_val(*a, v);
}

/* ---- tool throughput (hvmmio stat / compare on generated traces through FIFOs) ---- */

struct tool_result {
    double cpu, wall, mrec_per_s;
    long rss_mb;
    int status;
    uint64_t records;
};

static gboolean run_tool(const char *tool, uint64_t n, struct tool_result *res)
{
    char dir[] = "/tmp/hvmmio-bench-tool.XXXXXX";
    if (!mkdtemp(dir)) {
        return FALSE;
    }
    g_autofree char *g = g_build_filename(dir, "guest", NULL);
    g_autofree char *h = g_build_filename(dir, "host", NULL);
    if (mkfifo(g, 0600) < 0 || mkfifo(h, 0600) < 0) {
        return FALSE;
    }
    gboolean cmp = !strcmp(tool, "compare");
    g_autofree char *self = self_exe();
    fflush(NULL);
    pid_t pg = -1, ph;
    if (cmp && (pg = fork()) == 0) {
        trace_gen_write(g, false, n, false);
    }
    if ((ph = fork()) == 0) {
        trace_gen_write(h, true, n, false);
    }
    double t0 = now_s();
    pid_t pc = fork();
    if (pc == 0) {
        int null = open("/dev/null", O_WRONLY);
        dup2(null, 1);
        if (cmp) {
            execl(self, self, "compare", g, h, (char *)NULL);
        } else {
            execl(self, self, "stat", h, (char *)NULL);
        }
        _exit(2);
    }
    int status, s;
    struct rusage ru;
    if (wait4(pc, &status, 0, &ru) < 0) {
        return FALSE;
    }
    res->wall = now_s() - t0;
    if (pg > 0) {
        waitpid(pg, &s, 0);
    }
    waitpid(ph, &s, 0);
    g_unlink(g);
    g_unlink(h);
    g_rmdir(dir);
    res->cpu = ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
               ru.ru_stime.tv_usec / 1e6;
    res->records = (n + 1) * (cmp ? 2 : 1);
    res->mrec_per_s = res->records / res->cpu / 1e6;
    res->rss_mb = ru.ru_maxrss / 1024;
    res->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128;
    return TRUE;
}

/* ---- the machine ---- */

static char *cpu_model(void)
{
    g_autofree char *text = NULL;
    if (g_file_get_contents("/proc/cpuinfo", &text, NULL, NULL)) {
        const char *m = strstr(text, "model name");
        if (m && (m = strchr(m, ':'))) {
            m += 2;
            return g_strndup(m, strcspn(m, "\n"));
        }
    }
    return g_strdup("unknown");
}

/* ---- the report ---- */

struct target {
    const char *what;
    double value;
    const char *unit;
    const char *cond;
    gboolean pass;
    gboolean known;
};

static GArray *targets;

static void add_target(const char *what, double value, const char *unit, const char *cond,
                       gboolean pass)
{
    struct target t = {what, value, unit, cond, pass, !isnan(value)};
    g_array_append_val(targets, t);
}

static double med(int c, int d, int rw)
{
    return summarise(samples[c][d][rw]).med;
}

static int cfg_index(char id)
{
    for (unsigned i = 0; i < NCONFIGS; i++) {
        if (configs[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

int hvmmio_cmd_bench(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--probe")) {
            return hvmmio_bench_probe(argc, argv);
        }
    }
    struct params P = {
        .reps = 5,
        .n = {1000000, 20000, 20000000},
        .n_stock = {200000, 20000},
        .n_gtrace = {20000, 2000},
        .burst = 200000,
        .drop_ring = 64,
        .lossless_ring = 64,
        .accel = "tcg",
        .tools = TRUE,
    };
    gboolean quick = FALSE, no_tools = FALSE;
    g_autofree char *outdir = NULL, *json_path = NULL, *only = NULL, *accel = NULL;
    gint64 n_emu = 0, n_vfio = 0, n_bar2 = 0, burst = 0;
    int reps = 0;
    GOptionEntry entries[] = {
        {"reps", 'r', 0, G_OPTION_ARG_INT, &reps, "Repetitions of each configuration (default 5)",
         "N"},
        {"quick", 0, 0, G_OPTION_ARG_NONE, &quick,
         "One repetition, smaller loops, tools at 1M records only (about 3 minutes)", NULL},
        {"only", 0, 0, G_OPTION_ARG_STRING, &only,
         "Configurations to run, e.g. abh (default abcdefgh)", "IDS"},
        {"n-emu", 0, 0, G_OPTION_ARG_INT64, &n_emu,
         "Accesses per direction on the emulated device, configurations a-d (default 1000000)",
         "N"},
        {"n-vfio", 0, 0, G_OPTION_ARG_INT64, &n_vfio,
         "Accesses per direction on the vfio-user device (default 20000: ~35 us each under TCG)",
         "N"},
        {"n-bar2", 0, 0, G_OPTION_ARG_INT64, &n_bar2,
         "Accesses per direction on the mmap'ed BAR2 page (default 20000000)", "N"},
        {"burst", 0, 0, G_OPTION_ARG_INT64, &burst,
         "Accesses per direction in the drop/lossless runs (default 200000)", "N"},
        {"accel", 'a', 0, G_OPTION_ARG_STRING, &accel, "tcg (default), kvm or auto", "ACCEL"},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &outdir,
         "Folder for the boots' results (default hvmmio-out/bench)", "DIR"},
        {"json", 'j', 0, G_OPTION_ARG_FILENAME, &json_path,
         "JSON report (default OUTPUT/bench.json)", "FILE"},
        {"no-tools", 0, 0, G_OPTION_ARG_NONE, &no_tools, "Skip hvmmio stat/compare throughput",
         NULL},
        {"tool-sizes", 0, 0, G_OPTION_ARG_STRING, &P.tool_sizes,
         "Records for the tool throughput (default 1000000,10000000)", "N,N"},
        {NULL},
    };
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
    if (quick) {
        P.reps = 1;
        P.n[DEV_EMU] = 200000;
        P.n[DEV_VFIO] = 2000;
        P.n[DEV_BAR2] = 2000000;
        P.n_stock[0] = 50000;
        P.n_stock[1] = 2000;
        P.n_gtrace[0] = 5000;
        P.n_gtrace[1] = 500;
        P.burst = 100000;
        if (!P.tool_sizes) {
            P.tool_sizes = g_strdup("1000000");
        }
    }
    if (reps) {
        P.reps = reps;
    }
    if (n_emu > 0) {
        P.n[DEV_EMU] = (uint64_t)n_emu;
    }
    if (n_vfio > 0) {
        P.n[DEV_VFIO] = P.n_stock[1] = (uint64_t)n_vfio;
    }
    if (n_bar2 > 0) {
        P.n[DEV_BAR2] = (uint64_t)n_bar2;
    }
    if (burst > 0) {
        P.burst = (uint64_t)burst;
    }
    if (accel) {
        P.accel = accel;
    }
    if (!P.tool_sizes) {
        P.tool_sizes = g_strdup("1000000,10000000");
    }
    P.tools = !no_tools;
    if (P.reps < 1) {
        fprintf(stderr, "hvmmio bench: --reps must be >= 1\n");
        return 2;
    }
    if (!only) {
        only = g_strdup("abcdefgh");
    }
    if (strspn(only, "abcdefgh") != strlen(only)) {
        fprintf(stderr, "hvmmio bench: --only takes letters a to h\n");
        return 2;
    }
    if (!outdir) {
        outdir = g_strdup("hvmmio-out/bench");
    }
    if (!json_path) {
        json_path = g_build_filename(outdir, "bench.json", NULL);
    }
    g_mkdir_with_parents(outdir, 0755);
    targets = g_array_new(FALSE, FALSE, sizeof(struct target));
    int failures = 0;
    double t_start = now_s();

    fprintf(stderr,
            "hvmmio bench: %d repetition(s) of configurations %s, one boot each; N = %" PRIu64
            " (e1000e), %" PRIu64 " (vfio-user), %" PRIu64 " (BAR2 mmap); results in %s\n",
            P.reps, only, P.n[DEV_EMU], P.n[DEV_VFIO], P.n[DEV_BAR2], outdir);

    /* a-g, alternating within each repetition */
    for (int rep = 0; rep < P.reps; rep++) {
        for (unsigned c = 0; c < NCONFIGS; c++) {
            const struct config *cf = &configs[c];
            if (!strchr(only, cf->id == 'G' ? 'g' : cf->id)) {
                continue;
            }
            uint64_t ne = cf->stock ? P.n_stock[0] : cf->gtrace ? P.n_gtrace[0] : P.n[DEV_EMU];
            uint64_t nv = cf->stock ? P.n_stock[1] : cf->gtrace ? P.n_gtrace[1] : P.n[DEV_VFIO];
            g_autoptr(GString) args = g_string_new(cf->gtrace ? "gtrace," : "");
            if (cf->emu) {
                g_string_append_printf(args, "emu:%" PRIu64 ",", ne);
            }
            if (cf->vfio) {
                g_string_append_printf(args, "vfio:%" PRIu64 ",", nv);
            }
            for (int k = 0; cf->bar2 && k < BAR2_LOADS; k++) {
                g_string_append_printf(args, "bar2:%" PRIu64 ",", P.n[DEV_BAR2]);
            }
            g_string_truncate(args, args->len - 1);
            const char *stock[] = {"-trace", "memory_region_ops_*", "-D", "qemu-trace.log", NULL};
            g_autofree char *dir = g_strdup_printf("%s/%c%d", outdir, cf->id, rep + 1);
            struct boot b = {0};
            fprintf(stderr, "[%5.0f s] %c rep %d: %s ... ", now_s() - t_start, cf->id, rep + 1,
                    cf->name);
            if (!boot(dir, P.accel, cf->emu ? cf->emu_props : NULL, cf->vfio_props, args->str,
                      cf->stock ? stock : NULL, FALSE, &b)) {
                failures++;
                continue;
            }
            struct meas m[DEV_COUNT];
            parse_bench(dir, m);
            for (int d = 0; d < DEV_COUNT; d++) {
                if (m[d].have) {
                    /* the BAR2 page: every module load is a sample */
                    for (int k = 0; k < m[d].loads; k++) {
                        add_sample(&samples[c][d][0], m[d].load_ns[0][k]);
                        add_sample(&samples[c][d][1], m[d].load_ns[1][k]);
                    }
                    fprintf(stderr, "%s %.0f/%.0f ns  ", dev_key[d], m[d].read_ns, m[d].write_ns);
                }
            }
            add_sample(&walls[c], b.wall);
            fprintf(stderr, "(boot %.1f s)\n", b.wall);
            if (cf->stock) {
                goffset sz = file_size(dir, "qemu-trace.log");
                g_autofree char *sp = g_build_filename(dir, "qemu-trace.size", NULL);
                g_autofree char *szs = g_strdup_printf("%" G_GOFFSET_FORMAT "\n", sz);
                g_file_set_contents(sp, szs, -1, NULL);
                remove_file(dir, "qemu-trace.log"); /* hundreds of MB */
            }
            /* the traces of a-d are large and checked elsewhere: keep the sizes only */
            for (int i = 0; i < 2; i++) {
                const char *names[] = {"emu.txt", "vfio.txt"};
                goffset sz = file_size(dir, names[i]);
                if (sz > 0) {
                    g_autofree char *sp = g_strdup_printf("%s/%s.size", dir, names[i]);
                    g_autofree char *szs = g_strdup_printf("%" G_GOFFSET_FORMAT "\n", sz);
                    g_file_set_contents(sp, szs, -1, NULL);
                    remove_file(dir, names[i]);
                }
            }
        }
    }

    /* h: drop mode under a burst larger than the ring; lossless at the same rate */
    json_object *jh = json_object_new_object();
    if (strchr(only, 'h')) {
        for (int lossless = 0; lossless < 2; lossless++) {
            unsigned ring = lossless ? P.lossless_ring : P.drop_ring;
            g_autofree char *props =
                g_strdup_printf("id=nic0,mmiotrace=on,mmiotrace-compat=on,mmiotrace-mode=%s,"
                                "mmiotrace-ring=%u,mmiotrace-file=emu.txt",
                                lossless ? "lossless" : "drop", ring);
            g_autofree char *args = g_strdup_printf("emu:%" PRIu64 ",hold:4", P.burst);
            g_autofree char *dir =
                g_strdup_printf("%s/h-%s", outdir, lossless ? "lossless" : "drop");
            struct boot b = {0};
            fprintf(stderr, "[%5.0f s] h: %s mode, ring %u, %" PRIu64 " reads + writes ... ",
                    now_s() - t_start, lossless ? "lossless" : "drop", ring, P.burst);
            gboolean ok = boot(dir, P.accel, props, NULL, args, NULL, TRUE, &b);
            struct meas m[DEV_COUNT];
            parse_bench(dir, m);
            uint64_t rw = 0, lost = 0, markers = 0, q_dropped = 0, q_records = 0;
            g_autofree char *tpath = g_build_filename(dir, "emu.txt", NULL);
            gboolean counted = ok && count_trace(tpath, &rw, &lost, &markers);
            gboolean have_q = FALSE;
            if (b.query) {
                g_autofree char *qp = g_build_filename(dir, "query-mmiotrace.json", NULL);
                json_object_to_file_ext(qp, b.query, JSON_C_TO_STRING_PRETTY);
            } else {
                fprintf(stderr, "(no query-mmiotrace answer) ");
            }
            if (b.query && json_object_is_type(b.query, json_type_array)) {
                for (size_t i = 0; i < json_object_array_length(b.query); i++) {
                    json_object *d = json_object_array_get_idx(b.query, i), *v;
                    if (json_object_object_get_ex(d, "device", &v) &&
                        !strcmp(json_object_get_string(v), "nic0")) {
                        if (json_object_object_get_ex(d, "dropped", &v)) {
                            q_dropped = json_object_get_uint64(v);
                            have_q = TRUE;
                        }
                        if (json_object_object_get_ex(d, "records", &v)) {
                            q_records = json_object_get_uint64(v);
                        }
                    }
                }
            }
            uint64_t acc = m[DEV_EMU].accesses;
            gboolean exact = counted && have_q && m[DEV_EMU].have && lost == q_dropped &&
                             rw + lost == acc && (!lossless || (lost == 0 && rw == acc));
            if (!exact) {
                failures++;
            }
            fprintf(stderr, "%s\n", exact ? "exact" : "MISMATCH");
            json_object *o = json_object_new_object();
            json_object_object_add(o, "ring", json_object_new_int(ring));
            json_object_object_add(o, "accesses", json_object_new_uint64(acc));
            json_object_object_add(o, "records_in_file", json_object_new_uint64(rw));
            json_object_object_add(o, "lost_markers", json_object_new_uint64(markers));
            json_object_object_add(o, "lost_in_markers", json_object_new_uint64(lost));
            json_object_object_add(o, "query_dropped", json_object_new_uint64(q_dropped));
            json_object_object_add(o, "query_records", json_object_new_uint64(q_records));
            json_object_object_add(o, "read_ns", json_object_new_double(m[DEV_EMU].read_ns));
            json_object_object_add(o, "write_ns", json_object_new_double(m[DEV_EMU].write_ns));
            json_object_object_add(o, "boot_s", json_object_new_double(b.wall));
            json_object_object_add(o, "exact", json_object_new_boolean(exact));
            json_object_object_add(jh, lossless ? "lossless" : "drop", o);
            if (b.query) {
                json_object_put(b.query);
            }
            goffset sz = file_size(dir, "emu.txt");
            if (sz > 0) {
                remove_file(dir, "emu.txt");
            }
        }
    }

    /* tools */
    json_object *jt = json_object_new_array();
    if (P.tools) {
        g_auto(GStrv) sizes = g_strsplit(P.tool_sizes, ",", -1);
        for (char **s = sizes; *s; s++) {
            uint64_t n = g_ascii_strtoull(*s, NULL, 10);
            for (int t = 0; t < 2 && n; t++) {
                const char *tool = t ? "compare" : "stat";
                struct tool_result r = {0};
                fprintf(stderr, "[%5.0f s] hvmmio %s on %" PRIu64 " records ... ",
                        now_s() - t_start, tool, n);
                if (!run_tool(tool, n, &r) || r.status) {
                    fprintf(stderr, "FAILED (status %d)\n", r.status);
                    failures++;
                    continue;
                }
                fprintf(stderr, "%.2f M records/s, %ld MB\n", r.mrec_per_s, r.rss_mb);
                json_object *o = json_object_new_object();
                json_object_object_add(o, "tool", json_object_new_string(tool));
                json_object_object_add(o, "accesses", json_object_new_uint64(n));
                json_object_object_add(o, "records_read", json_object_new_uint64(r.records));
                json_object_object_add(o, "cpu_s", json_object_new_double(r.cpu));
                json_object_object_add(o, "wall_s", json_object_new_double(r.wall));
                json_object_object_add(o, "records_per_cpu_s",
                                       json_object_new_double(r.mrec_per_s * 1e6));
                json_object_object_add(o, "peak_rss_mb", json_object_new_int64(r.rss_mb));
                json_object_array_add(jt, o);
            }
        }
    }

    /* ---- report ---- */
    g_autofree char *model = cpu_model();
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    printf("\nhvmmio bench: accelerator %s; host %s, %ld cores; %d repetition(s); %.0f s\n",
           accel_used ? accel_used : P.accel, model, cores, P.reps, now_s() - t_start);
    printf("ns per 4-byte access, guest ktime: median [min-max] over the repetitions (BAR2: "
           "over %d module loads per boot); ratio = median / median of a\n\n",
           BAR2_LOADS);
    printf("%-26s %-2s %-38s %8s %-20s %7s %8s %-20s %7s %7s\n", "device", "", "configuration", "N",
           "read ns [min-max]", "ratio", "", "write ns [min-max]", "ratio", "boot s");
    json_object *jroot = json_object_new_object();
    json_object *jm = json_object_new_object();
    json_object_object_add(jm, "accelerator",
                           json_object_new_string(accel_used ? accel_used : P.accel));
    json_object_object_add(jm, "cpu_model", json_object_new_string(model));
    json_object_object_add(jm, "cores", json_object_new_int64(cores));
    json_object_object_add(jroot, "machine", jm);
    json_object_object_add(jroot, "repetitions", json_object_new_int(P.reps));
    json_object *jc = json_object_new_array();
    int ia = cfg_index('a');
    for (int d = 0; d < DEV_COUNT; d++) {
        for (unsigned c = 0; c < NCONFIGS; c++) {
            struct summary r = summarise(samples[c][d][0]), w = summarise(samples[c][d][1]);
            if (!r.count) {
                continue;
            }
            const struct config *cf = &configs[c];
            uint64_t n = d == DEV_BAR2 ? P.n[DEV_BAR2]
                         : cf->stock   ? P.n_stock[d]
                         : cf->gtrace  ? P.n_gtrace[d]
                                       : P.n[d];
            double ra = med(ia, d, 0), wa = med(ia, d, 1);
            struct summary bw = summarise(walls[c]);
            char rs[64], ws[64];
            snprintf(rs, sizeof(rs), "%.0f [%.0f-%.0f]", r.med, r.min, r.max);
            snprintf(ws, sizeof(ws), "%.0f [%.0f-%.0f]", w.med, w.min, w.max);
            if (d == DEV_BAR2) {
                snprintf(rs, sizeof(rs), "%.2f [%.2f-%.2f]", r.med, r.min, r.max);
                snprintf(ws, sizeof(ws), "%.2f [%.2f-%.2f]", w.med, w.min, w.max);
            }
            printf("%-26s %c  %-38s %8" PRIu64 " %-20s %7.3f %8s %-20s %7.3f %7.1f\n", dev_label[d],
                   cf->id, cf->name, n, rs, r.med / ra, "", ws, w.med / wa, bw.med);
            json_object *o = json_object_new_object();
            json_object_object_add(o, "device", json_object_new_string(dev_key[d]));
            json_object_object_add(o, "config", json_object_new_string_len(&cf->id, 1));
            json_object_object_add(o, "name", json_object_new_string(cf->name));
            json_object_object_add(o, "n", json_object_new_uint64(n));
            for (int rw = 0; rw < 2; rw++) {
                struct summary s = rw ? w : r;
                json_object *x = json_object_new_object();
                json_object_object_add(x, "median_ns", json_object_new_double(s.med));
                json_object_object_add(x, "min_ns", json_object_new_double(s.min));
                json_object_object_add(x, "max_ns", json_object_new_double(s.max));
                json_object_object_add(x, "ratio_to_a",
                                       json_object_new_double(s.med / (rw ? wa : ra)));
                json_object *all = json_object_new_array();
                for (guint i = 0; i < samples[c][d][rw]->len; i++) {
                    json_object_array_add(
                        all, json_object_new_double(g_array_index(samples[c][d][rw], double, i)));
                }
                json_object_object_add(x, "samples_ns", all);
                json_object_object_add(o, rw ? "write" : "read", x);
            }
            json_object_object_add(o, "boot_wall_s_median", json_object_new_double(bw.med));
            json_object_array_add(jc, o);
        }
    }
    json_object_object_add(jroot, "configurations", jc);
    json_object_object_add(jroot, "loss", jh);
    json_object_object_add(jroot, "tools", jt);

    if (json_object_object_length(jh)) {
        printf("\nlosses (e1000e, %" PRIu64 " reads + %" PRIu64 " writes + 1 read):\n", P.burst,
               P.burst);
        json_object_object_foreach(jh, mode, o)
        {
            json_object *v;
#define U(k) (json_object_object_get_ex(o, k, &v) ? json_object_get_uint64(v) : 0)
            printf("  %-8s ring %4" PRIu64 ": accesses %" PRIu64 ", records in file %" PRIu64
                   ", Lost markers %" PRIu64 " totalling %" PRIu64
                   ", query-mmiotrace dropped %" PRIu64 ", %.0f/%.0f ns: %s\n",
                   mode, U("ring"), U("accesses"), U("records_in_file"), U("lost_markers"),
                   U("lost_in_markers"), U("query_dropped"),
                   json_object_object_get_ex(o, "read_ns", &v) ? json_object_get_double(v) : 0,
                   json_object_object_get_ex(o, "write_ns", &v) ? json_object_get_double(v) : 0,
                   json_object_object_get_ex(o, "exact", &v) && json_object_get_boolean(v)
                       ? "exact"
                       : "MISMATCH");
        }
    }
    if (json_object_array_length(jt)) {
        printf("\ntools (generated traces streamed through FIFOs; records/s per CPU second):\n");
        for (size_t i = 0; i < json_object_array_length(jt); i++) {
            json_object *o = json_object_array_get_idx(jt, i), *v;
            printf("  hvmmio %-7s %9" PRIu64 " accesses (%9" PRIu64 " records): %6.2f M records/s, "
                   "%6.2f s CPU, peak RSS %ld MB\n",
                   json_object_get_string(json_object_object_get(o, "tool")), U("accesses"),
                   U("records_read"),
                   json_object_get_double(json_object_object_get(o, "records_per_cpu_s")) / 1e6,
                   json_object_get_double(json_object_object_get(o, "cpu_s")),
                   (long)json_object_get_int64(json_object_object_get(o, "peak_rss_mb")));
#undef U
        }
    }

    /* targets (reported, not enforced: they depend on the machine) */
    int ib = cfg_index('b'), ic = cfg_index('c'), idd = cfg_index('d'), ie = cfg_index('e'),
        iff = cfg_index('f'), ig = cfg_index('g');
    for (int rw = 0; rw < 2; rw++) {
        const char *dir = rw ? "write" : "read";
        double a_ = med(ia, DEV_EMU, rw), b_ = med(ib, DEV_EMU, rw);
        add_target(g_strdup_printf("e1000e %s: b - a (ns added by tracing)", dir), b_ - a_, "ns",
                   "<= 50", b_ - a_ <= 50);
        double va = med(ia, DEV_VFIO, rw), vb = med(ib, DEV_VFIO, rw);
        add_target(g_strdup_printf("vfio-user %s: b / a", dir), vb / va, "", "<= 1.02",
                   vb / va <= 1.02);
        double e_ = med(ie, DEV_EMU, rw);
        add_target(g_strdup_printf("e1000e %s: e / b (stock trace vs hvmmio)", dir), e_ / b_, "",
                   ">= 5", e_ / b_ >= 5);
        double f_ = med(iff, DEV_EMU, rw);
        add_target(g_strdup_printf("e1000e %s: f / b (guest mmiotrace vs hvmmio)", dir), f_ / b_,
                   "", ">= 50", f_ / b_ >= 50);
        double c_ = med(ic, DEV_EMU, rw);
        add_target(g_strdup_printf("e1000e %s: c - a (PC)", dir), c_ - a_, "ns", "<= 300",
                   c_ - a_ <= 300);
        double d_ = med(idd, DEV_EMU, rw);
        add_target(g_strdup_printf("e1000e %s: d - a (PC + instruction; stated)", dir), d_ - a_,
                   "ns", "(stated)", TRUE);
        double g1 = med(ig, DEV_BAR2, rw), g0 = med(cfg_index('G'), DEV_BAR2, rw);
        add_target(g_strdup_printf("BAR2 mmap page %s: g / (tracing off)", dir), g1 / g0, "",
                   "0.98-1.02", fabs(g1 / g0 - 1) <= 0.02);
    }
    {
        json_object *o, *v;
        if (json_object_object_get_ex(jh, "drop", &o)) {
            add_target("drop mode: Lost total = dropped, records + lost = accesses",
                       json_object_object_get_ex(o, "query_dropped", &v) ? json_object_get_uint64(v)
                                                                         : NAN,
                       "lost", "exact",
                       json_object_object_get_ex(o, "exact", &v) && json_object_get_boolean(v));
        }
        if (json_object_object_get_ex(jh, "lossless", &o)) {
            add_target("lossless mode: records = accesses",
                       json_object_object_get_ex(o, "records_in_file", &v)
                           ? json_object_get_uint64(v)
                           : NAN,
                       "records", "none lost",
                       json_object_object_get_ex(o, "exact", &v) && json_object_get_boolean(v));
        }
        for (size_t i = 0; i < json_object_array_length(jt); i++) {
            json_object *t = json_object_array_get_idx(jt, i);
            if (strcmp(json_object_get_string(json_object_object_get(t, "tool")), "compare")) {
                continue;
            }
            uint64_t n = json_object_get_uint64(json_object_object_get(t, "accesses"));
            double rate = json_object_get_double(json_object_object_get(t, "records_per_cpu_s"));
            long rss = (long)json_object_get_int64(json_object_object_get(t, "peak_rss_mb"));
            add_target(g_strdup_printf("compare %" PRIu64 ": records/s", n), rate / 1e6, "M/s",
                       ">= 1", rate >= 1e6);
            add_target(g_strdup_printf("compare %" PRIu64 ": peak RSS", n), (double)rss, "MB",
                       "< 256", rss < 256);
        }
    }
    printf("\ntargets:\n");
    json_object *jtg = json_object_new_array();
    for (guint i = 0; i < targets->len; i++) {
        struct target *t = &g_array_index(targets, struct target, i);
        if (!t->known) {
            continue;
        }
        printf("  %-58s %10.3f %-7s %-10s %s\n", t->what, t->value, t->unit, t->cond,
               t->pass ? "holds" : "MISSED");
        json_object *o = json_object_new_object();
        json_object_object_add(o, "what", json_object_new_string(t->what));
        json_object_object_add(o, "value", json_object_new_double(t->value));
        json_object_object_add(o, "unit", json_object_new_string(t->unit));
        json_object_object_add(o, "target", json_object_new_string(t->cond));
        json_object_object_add(o, "holds", json_object_new_boolean(t->pass));
        json_object_array_add(jtg, o);
    }
    json_object_object_add(jroot, "targets", jtg);
    json_object_object_add(jroot, "failures", json_object_new_int(failures));
    if (json_object_to_file_ext(json_path, jroot, JSON_C_TO_STRING_PRETTY) < 0) {
        fprintf(stderr, "hvmmio bench: cannot write %s\n", json_path);
        failures++;
    } else {
        printf("\nJSON report: %s\n", json_path);
    }
    json_object_put(jroot);
    if (failures) {
        fprintf(stderr,
                "hvmmio bench: %d failure(s) (failed boots or loss counts that do not "
                "add up)\n",
                failures);
    }
    return failures ? 1 : 0;
}
