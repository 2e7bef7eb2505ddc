/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run as a C function (run.h): boot a guest scenario under hvmmio's QEMU, with the
 * devices asked for, and collect what it produced into one output folder.
 *
 * The guest (kernel-guest/init) runs /scenarios/NAME.sh, prints "hvmmio: step ..." progress
 * lines on the console (first serial port) and sends its results folder as one checksummed
 * frame on the second serial port (run-results.c). QEMU runs with the output folder as its
 * working directory, so device trace files with relative paths land beside the guest's
 * results.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "accel.h"
#include "locate.h"
#include "run-int.h"

/* What a run finds before QEMU starts. */
struct run_ctx {
    const HvmmioRunOptions *o;
    char *qemu, *imgdir;
    const char *accel;
    char *outdir; /* as given (for messages) */
    char *absout; /* canonical: QEMU's working directory */
};

static const char *const removable[] = {"console.log", "results.bin", "results.tar", "status",
                                        "qemu.log",    "testdev.log", "witness.log"};

void hvmmio_run_options_init(HvmmioRunOptions *o)
{
    memset(o, 0, sizeof(*o));
    o->accel = "auto";
    o->machine = "q35";
    o->timeout_s = 300;
    o->memory_mb = 512;
    o->smp = 1;
}

/*
 * Follow the guest console: remember its last step, echo its "hvmmio: " lines (every line
 * with --verbose), pass each line to opts->on_console_line while QEMU runs.
 */
static void echo_console(struct run_state *st)
{
    FILE *f = fopen(st->console_path, "rb");
    if (!f) {
        return;
    }
    if (fseeko(f, st->console_pos, SEEK_SET) == 0) {
        int c;
        while ((c = fgetc(f)) != EOF) {
            st->console_pos++;
            if (c == '\r') {
                continue;
            }
            if (c != '\n') {
                g_string_append_c(st->console_line, (char)c);
                continue;
            }
            const char *line = st->console_line->str;
            if (g_str_has_prefix(line, "hvmmio: step ") &&
                !g_str_has_prefix(line, "hvmmio: step scenario-end")) {
                g_free(st->last_step);
                st->last_step = g_strdup(line + strlen("hvmmio: step "));
            }
            const HvmmioRunOptions *o = st->opts;
            if (o->verbose || (!o->quiet && g_str_has_prefix(line, "hvmmio: "))) {
                fprintf(stderr, "[%6.1f s] %s\n", (g_get_monotonic_time() - st->start_us) / 1e6,
                        line);
            }
            if (o->on_console_line && !st->exited) {
                o->on_console_line(line, st->console_line->len, o->opaque);
            }
            g_string_truncate(st->console_line, 0);
        }
    }
    fclose(f);
}

static gboolean on_tick(gpointer data)
{
    echo_console(data);
    return G_SOURCE_CONTINUE;
}

static gboolean on_timeout(gpointer data)
{
    struct run_state *st = data;
    st->timed_out = TRUE;
    g_subprocess_send_signal(st->qemu, SIGTERM);
    return G_SOURCE_REMOVE;
}

static void on_qemu_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    struct run_state *st = data;
    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    st->exited = TRUE;
    g_main_loop_quit(st->loop);
}

/* Options hvmmio run refuses before anything else: 0, or 2 having said why. */
static int check_options(const HvmmioRunOptions *o)
{
    if (!o->scenario) {
        fprintf(stderr, "hvmmio run: name a scenario (see --help)\n");
        return 2;
    }
    if (o->testdev_witness && !o->testdev) {
        fprintf(stderr, "hvmmio run: --testdev-witness needs --testdev (see --help)\n");
        return 2;
    }
    if (o->timeout_s <= 0 || o->memory_mb < 64 || o->smp < 1) {
        fprintf(stderr, "hvmmio run: --timeout must be > 0, --memory >= 64, --smp >= 1\n");
        return 2;
    }
    for (const char *c = o->scenario; *c; c++) {
        if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_') {
            fprintf(stderr, "hvmmio run: bad scenario name '%s'\n", o->scenario);
            return 2;
        }
    }
    if (o->scenario_args && strpbrk(o->scenario_args, " \t\n\"'")) {
        fprintf(stderr, "hvmmio run: --args takes comma-separated words without spaces\n");
        return 2;
    }
    return 0;
}

/* QEMU, the guest image, the scenario, the accelerator, a clean output folder: 0, 1 or 2. */
static int prepare(struct run_ctx *c)
{
    const HvmmioRunOptions *o = c->o;
    g_autoptr(GError) err = NULL;

    c->qemu = hvmmio_find_qemu(&err);
    if (!c->qemu) {
        fprintf(stderr, "hvmmio run: %s\n", err->message);
        return 1;
    }
    if (o->image) {
        g_setenv("HVMMIO_IMAGE", o->image, TRUE);
    }
    c->imgdir = hvmmio_find_image(&err);
    if (!c->imgdir) {
        fprintf(stderr, "hvmmio run: %s\n", err->message);
        return 1;
    }
    if (!run_scenario_known(c->imgdir, o->scenario)) {
        return 2;
    }
    c->accel = hvmmio_choose_accel(o->accel ? o->accel : "auto", o->quiet);
    if (!c->accel) {
        return 2;
    }
    c->outdir = o->outdir ? g_strdup(o->outdir) : g_build_filename("hvmmio-out", o->scenario, NULL);
    if (g_mkdir_with_parents(c->outdir, 0755) < 0) {
        fprintf(stderr, "hvmmio run: cannot create %s: %s\n", c->outdir, g_strerror(errno));
        return 1;
    }
    c->absout = g_canonicalize_filename(c->outdir, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(removable); i++) {
        g_autofree char *p = g_build_filename(c->absout, removable[i], NULL);
        g_unlink(p);
    }
    return 0;
}

/* --testdev: the server started and its -device JSON in *json; else 1 or 2 having said why. */
static int start_testdev(struct run_ctx *c, struct run_testdev *ts, char **json)
{
    g_autoptr(GError) err = NULL;

    if (!run_testdev_start(ts, c->absout, c->o->testdev_witness, &err)) {
        fprintf(stderr, "hvmmio run: --testdev: %s\n", err->message);
        if (ts->log) {
            run_print_tail(ts->log, 10);
        }
        run_testdev_stop(ts);
        return 1;
    }
    *json = run_testdev_device_json(c->qemu, ts->sock, c->o->testdev_props, &err);
    if (!*json) {
        fprintf(stderr, "hvmmio run: %s\n", err->message);
        run_testdev_stop(ts);
        return 2;
    }
    return 0;
}

/* Run the main loop until QEMU exits, following the console, stopping QEMU at the timeout. */
static void wait_for_qemu(struct run_state *st)
{
    g_subprocess_wait_async(st->qemu, NULL, on_qemu_exit, st);
    guint tick = g_timeout_add(200, on_tick, st);
    guint timer = g_timeout_add_seconds((guint)st->opts->timeout_s, on_timeout, st);
    g_main_loop_run(st->loop);
    g_source_remove(tick);
    if (!st->timed_out) {
        g_source_remove(timer);
    }
    echo_console(st);
}

/* Start QEMU (and the test device server first), wait for it, say how the scenario went. */
static int run_guest(struct run_ctx *c, HvmmioRunResult *res)
{
    const HvmmioRunOptions *o = c->o;
    g_autoptr(GError) err = NULL;
    struct run_testdev ts = {0};
    char *json = NULL;

    if (o->testdev) {
        int r = start_testdev(c, &ts, &json);
        if (r) {
            return r;
        }
    }
    g_autoptr(GPtrArray) a = run_qemu_argv(o, c->qemu, c->imgdir, c->accel, json);
    run_write_cmdline(a, c->absout);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE |
                                                                 G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_subprocess_launcher_set_cwd(l, c->absout);
    g_autofree char *qlog = g_build_filename(c->absout, "qemu.log", NULL);
    g_subprocess_launcher_set_stdout_file_path(l, qlog);
    if (!o->quiet) {
        fprintf(stderr, "hvmmio: booting scenario %s (output in %s, timeout %d s)\n", o->scenario,
                c->outdir, o->timeout_s);
    }
    struct run_state st = {
        .opts = o,
        .console_path = g_build_filename(c->absout, "console.log", NULL),
        .console_line = g_string_new(NULL),
        .start_us = g_get_monotonic_time(),
    };
    int ret = 1;
    st.qemu = g_subprocess_launcher_spawnv(l, (const char *const *)a->pdata, &err);
    if (!st.qemu) {
        fprintf(stderr, "hvmmio run: cannot start %s: %s\n", c->qemu, err->message);
        run_testdev_stop(&ts);
        goto out;
    }
    ts.st = &st;
    st.loop = g_main_loop_new(NULL, FALSE);
    wait_for_qemu(&st);
    res->seconds = (g_get_monotonic_time() - st.start_us) / 1e6;
    res->timed_out = st.timed_out;
    ret = run_results(&st, c->absout, qlog);
    if (o->testdev && !run_testdev_stop(&ts)) {
        ret = 1;
    }
    if (!o->quiet || ret) {
        fprintf(stderr, "hvmmio: scenario %s %s in %.1f s; results in %s\n", o->scenario,
                ret ? "failed" : "passed", res->seconds, c->outdir);
    }
    g_main_loop_unref(st.loop);
    g_object_unref(st.qemu);
out:
    g_free(st.console_path);
    g_string_free(st.console_line, TRUE);
    g_free(st.last_step);
    return ret;
}

int hvmmio_run(const HvmmioRunOptions *opts, HvmmioRunResult *res)
{
    HvmmioRunResult ignored;
    struct run_ctx c = {.o = opts};

    res = res ? res : &ignored;
    memset(res, 0, sizeof(*res));
    int ret = check_options(opts);
    if (!ret) {
        ret = prepare(&c);
        res->accel = c.accel;
    }
    if (!ret) {
        ret = run_guest(&c, res);
    }
    g_free(c.qemu);
    g_free(c.imgdir);
    g_free(c.outdir);
    g_free(c.absout);
    return ret;
}
