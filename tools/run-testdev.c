/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run --testdev: the lifecycle of hvmmio-testdev, the vfio-user server of hvmmio's
 * test device (docs/testdev.md): found, started on a socket before QEMU, watched while the
 * guest runs (QEMU is stopped if the server dies) and checked after QEMU left.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <sys/un.h>

#include "run-int.h"

/* hvmmio-testdev: $HVMMIO_TESTDEV, else beside this hvmmio (build/tools/ or the bindir). */
static char *find_testdev(GError **err)
{
    const char *env = g_getenv("HVMMIO_TESTDEV");
    if (env && *env) {
        if (!g_file_test(env, G_FILE_TEST_IS_EXECUTABLE)) {
            g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                        "$HVMMIO_TESTDEV=%s is not an executable", env);
            return NULL;
        }
        return g_strdup(env);
    }
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : g_strdup(".");
    char *path = g_build_filename(dir, "hvmmio-testdev", NULL);
    if (g_file_test(path, G_FILE_TEST_IS_EXECUTABLE)) {
        return path;
    }
    g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "hvmmio-testdev is not built (looked for %s; it needs meson's "
                "-Dqemu_build_dir for libvfio-user) and $HVMMIO_TESTDEV is not set",
                path);
    g_free(path);
    return NULL;
}

static void on_testdev_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    struct run_testdev *ts = data;
    g_subprocess_wait_finish(G_SUBPROCESS(source), res, NULL);
    ts->exited = TRUE;
    gboolean clean =
        g_subprocess_get_if_exited(ts->proc) && g_subprocess_get_exit_status(ts->proc) == 0;
    /* the device is gone: the guest cannot go on, stop QEMU instead of waiting for a timeout */
    if (!clean && ts->st && ts->st->qemu && !ts->st->exited) {
        g_subprocess_send_signal(ts->st->qemu, SIGTERM);
    }
}

/* Start hvmmio-testdev and wait (5 s at most) until its socket exists. */
gboolean run_testdev_start(struct run_testdev *ts, const char *outdir, gboolean witness,
                           GError **err)
{
    g_autofree char *bin = find_testdev(err);
    if (!bin) {
        return FALSE;
    }
    struct sockaddr_un sun;
    ts->sock = g_build_filename(outdir, "testdev.sock", NULL);
    if (strlen(ts->sock) >= sizeof(sun.sun_path)) {
        ts->tmpdir = g_dir_make_tmp("hvmmio-testdev-XXXXXX", err);
        if (!ts->tmpdir) {
            return FALSE;
        }
        g_free(ts->sock);
        ts->sock = g_build_filename(ts->tmpdir, "testdev.sock", NULL);
    }
    g_unlink(ts->sock);
    ts->log = g_build_filename(outdir, "testdev.log", NULL);
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE);
    g_subprocess_launcher_set_stdout_file_path(l, ts->log);
    g_autofree char *witness_log = g_build_filename(outdir, "witness.log", NULL);
    g_autofree char *witness_opt = g_strconcat("--witness=", witness_log, NULL);
    ts->proc = witness ? g_subprocess_launcher_spawn(l, err, bin, witness_opt, ts->sock, NULL)
                       : g_subprocess_launcher_spawn(l, err, bin, ts->sock, NULL);
    if (!ts->proc) {
        return FALSE;
    }
    g_subprocess_wait_async(ts->proc, NULL, on_testdev_exit, ts);
    gint64 deadline = g_get_monotonic_time() + 5 * G_USEC_PER_SEC;
    while (!g_file_test(ts->sock, G_FILE_TEST_EXISTS)) {
        while (g_main_context_iteration(NULL, FALSE)) {
        }
        if (ts->exited || g_get_monotonic_time() > deadline) {
            g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED, "hvmmio-testdev %s; its log (%s):",
                        ts->exited ? "exited before it listened" : "did not listen within 5 s",
                        ts->log);
            return FALSE;
        }
        g_usleep(10000);
    }
    return TRUE;
}

/*
 * After QEMU: the server exits by itself when QEMU disconnects; make sure it did, and
 * cleanly. Returns FALSE (having said why) if it failed.
 */
gboolean run_testdev_stop(struct run_testdev *ts)
{
    gboolean ok = TRUE;
    if (ts->proc) {
        /* give it 5 s to notice QEMU left; stop it at once if QEMU never ran */
        int term_at = ts->st ? 500 : 0;
        for (int i = 0; !ts->exited && i < term_at + 200; i++) {
            if (i == term_at) {
                g_subprocess_send_signal(ts->proc, SIGTERM);
            }
            while (g_main_context_iteration(NULL, FALSE)) {
            }
            if (!ts->exited) {
                g_usleep(10000);
            }
        }
        if (!ts->exited) {
            g_subprocess_force_exit(ts->proc);
            g_subprocess_wait(ts->proc, NULL, NULL);
            for (int i = 0; !ts->exited && i < 100; i++) {
                g_main_context_iteration(NULL, FALSE); /* on_testdev_exit uses *ts */
            }
            fprintf(stderr, "hvmmio run: hvmmio-testdev did not stop after QEMU left; killed it\n");
            ok = FALSE;
        } else if (!g_subprocess_get_if_exited(ts->proc) ||
                   g_subprocess_get_exit_status(ts->proc)) {
            gboolean sig = !g_subprocess_get_if_exited(ts->proc);
            fprintf(stderr,
                    "hvmmio run: the test device server hvmmio-testdev failed (%s %d); "
                    "its log (%s):\n",
                    sig ? "killed by signal" : "exit status",
                    sig ? g_subprocess_get_term_sig(ts->proc)
                        : g_subprocess_get_exit_status(ts->proc),
                    ts->log);
            run_print_tail(ts->log, 10);
            ok = FALSE;
        }
        g_clear_object(&ts->proc);
    }
    if (ts->sock) {
        g_unlink(ts->sock);
    }
    if (ts->tmpdir) {
        g_rmdir(ts->tmpdir);
    }
    g_free(ts->sock);
    g_free(ts->tmpdir);
    g_free(ts->log);
    return ok;
}
