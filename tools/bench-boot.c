/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio bench: one guest boot of the bench scenario (kernel-guest/scenarios/bench.sh) through
 * hvmmio_run, a QMP query while the guest holds, and what the boot left: the guest's timings
 * (bench.txt) and the records and losses of a trace.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>

#include "bench.h"
#include "run.h"

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

/* While the guest runs: at "step bench-done" (the guest then holds), ask query-mmiotrace. */
struct watch {
    const char *qmpsock;
    struct boot *b;
    gboolean queried;
    GError *err;
};

static void on_console_line(const char *line, size_t len, void *opaque)
{
    struct watch *w = opaque;
    const char *done = "hvmmio: step bench-done";
    /* (the console may hold NUL bytes) */
    if (w->queried || !memmem(line, len, done, strlen(done))) {
        return;
    }
    w->b->query = qmp_command(w->qmpsock, "{\"execute\":\"query-mmiotrace\"}\n", &w->err);
    w->queried = TRUE;
}

/*
 * stderr (fd 2) to path until stderr_restore: what hvmmio run says goes to the boot's
 * run.log, as when it was a process of its own. Returns the saved stderr.
 */
static int stderr_to(const char *path)
{
    fflush(stderr);
    int saved = fcntl(2, F_DUPFD_CLOEXEC, 0);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        dup2(fd, 2);
        close(fd);
    }
    return saved;
}

static void stderr_restore(int saved)
{
    fflush(stderr);
    if (saved >= 0) {
        dup2(saved, 2);
        close(saved);
    }
}

/* After a boot: its accelerator (the first boot's, for the report); its log if it failed. */
static void read_run_log(struct bench *B, const char *outdir, const char *runlog, gboolean ok)
{
    g_autofree char *log = NULL;
    if (g_file_get_contents(runlog, &log, NULL, NULL)) {
        const char *acc = strstr(log, "hvmmio: accelerator ");
        if (acc && !B->accel_used) {
            acc += strlen("hvmmio: accelerator ");
            B->accel_used = g_strndup(acc, strcspn(acc, "\n"));
        }
    }
    if (!ok) {
        fprintf(stderr, "hvmmio bench: the boot in %s failed; its log (%s):\n%s", outdir, runlog,
                log ? log : "");
    }
}

/*
 * Boot once: hvmmio run bench with the devices and arguments of spec, its messages in
 * OUTDIR/run.log. With spec->qmp_query, QEMU gets a QMP socket; when the guest prints "step
 * bench-done" (then waits), query-mmiotrace is asked and kept in b->query.
 */
gboolean bench_boot(struct bench *B, const char *outdir, const struct boot_spec *spec,
                    struct boot *b)
{
    g_autofree char *qmpdir = NULL, *qmpsock = NULL, *qmparg = NULL, *emu = NULL;
    g_autoptr(GPtrArray) extra = g_ptr_array_new();
    if (spec->qmp_query) {
        qmpdir = g_dir_make_tmp("hvmmio-bench-XXXXXX", NULL);
        qmpsock = g_build_filename(qmpdir, "qmp.sock", NULL);
        qmparg = g_strdup_printf("unix:%s,server=on,wait=off", qmpsock);
        g_ptr_array_add(extra, "-qmp");
        g_ptr_array_add(extra, qmparg);
    }
    for (const char *const *q = spec->qemu_extra; q && *q; q++) {
        g_ptr_array_add(extra, (char *)*q);
    }
    g_ptr_array_add(extra, NULL);
    if (spec->emu_props) {
        emu = *spec->emu_props ? g_strdup_printf("e1000e,%s", spec->emu_props) : g_strdup("e1000e");
    }
    const char *devices[] = {emu, NULL};
    struct watch w = {.qmpsock = qmpsock, .b = b};
    HvmmioRunOptions o;
    hvmmio_run_options_init(&o);
    o.scenario = "bench";
    o.scenario_args = spec->args;
    o.accel = B->P.accel;
    o.timeout_s = 600;
    o.outdir = outdir;
    o.devices = emu ? devices : NULL;
    o.testdev = spec->vfio_props != NULL;
    o.testdev_props = spec->vfio_props && *spec->vfio_props ? spec->vfio_props : NULL;
    o.qemu_extra = (const char *const *)extra->pdata;
    if (spec->qmp_query) {
        o.on_console_line = on_console_line;
        o.opaque = &w;
    }

    g_mkdir_with_parents(outdir, 0755);
    g_autofree char *runlog = g_build_filename(outdir, "run.log", NULL);
    double t0 = bench_now();
    int saved = stderr_to(runlog);
    gboolean ok = hvmmio_run(&o, NULL) == 0;
    stderr_restore(saved);
    b->wall = bench_now() - t0;
    if (w.queried && !b->query) {
        fprintf(stderr, "hvmmio bench: query-mmiotrace: %s\n",
                w.err ? w.err->message : "no answer");
    }
    g_clear_error(&w.err);
    if (qmpsock) {
        g_unlink(qmpsock);
        g_rmdir(qmpdir);
    }
    read_run_log(B, outdir, runlog, ok);
    b->ok = ok;
    return ok;
}

/* The median of n <= 3 values. */
static double median3(const double *v, int n)
{
    if (n < 3) {
        return n == 2 ? (v[0] + v[1]) / 2 : v[0];
    }
    double lo = MIN(v[0], v[1]), hi = MAX(v[0], v[1]);
    return v[2] < lo ? lo : v[2] > hi ? hi : v[2];
}

/* bench.txt: NAME N READ_PS WRITE_PS ACCESSES RESULT */
void bench_parse_results(const char *outdir, struct meas m[DEV_COUNT])
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
            if (!strcmp(name, bench_dev_key[d])) {
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

goffset bench_file_size(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    GStatBuf st;
    return g_stat(p, &st) == 0 ? (goffset)st.st_size : -1;
}

void bench_remove_file(const char *dir, const char *name)
{
    g_autofree char *p = g_build_filename(dir, name, NULL);
    g_unlink(p);
}

/* R/W records and the total of the "Lost N events" markers in an mmiotrace file. */
gboolean bench_count_trace(const char *path, uint64_t *rw, uint64_t *lost, uint64_t *markers)
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
