/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run's internals: the functions between run.c (the run itself), run-image.c (the
 * guest image's scenarios), run-qemu-args.c (QEMU's command line), run-testdev.c (the
 * hvmmio-testdev server) and run-results.c (the guest's results and the verdict).
 */
#ifndef HVMMIO_TOOLS_RUN_INT_H
#define HVMMIO_TOOLS_RUN_INT_H

#include <gio/gio.h>
#include <glib.h>

#include "run.h"

/* One boot while QEMU runs: the console being followed, how QEMU ended. */
struct run_state {
    const HvmmioRunOptions *opts;
    GMainLoop *loop;
    GSubprocess *qemu;
    char *console_path;
    goffset console_pos;
    GString *console_line;
    char *last_step; /* the guest's last "hvmmio: step NAME" */
    gboolean timed_out, exited;
    gint64 start_us;
};

/*
 * --testdev: hvmmio-testdev (docs/testdev.md) serves the test device over vfio-user on a
 * socket in the output folder, for the whole run.
 */
struct run_testdev {
    GSubprocess *proc;
    char *sock;
    char *tmpdir; /* when the output folder's path is too long for a socket */
    char *log;
    gboolean exited;
    struct run_state *st; /* once QEMU started: stopped if the server dies */
};

/* run-image.c: the scenarios/NAME.sh of the image's initrd; NULL if it cannot be read so. */
GPtrArray *run_image_scenarios(const char *imgdir);
gboolean run_scenario_known(const char *imgdir, const char *scenario);

/* run-testdev.c */
gboolean run_testdev_start(struct run_testdev *ts, const char *outdir, gboolean witness,
                           GError **err);
gboolean run_testdev_stop(struct run_testdev *ts);

/* run-qemu-args.c */
char *run_testdev_device_json(const char *qemu, const char *sock, const char *props, GError **err);
GPtrArray *run_qemu_argv(const HvmmioRunOptions *o, const char *qemu, const char *imgdir,
                         const char *accel, char *testdev_json);
void run_write_cmdline(const GPtrArray *argv, const char *outdir);

/* run-results.c */
void run_print_tail(const char *path, int lines);
int run_results(const struct run_state *st, const char *outdir, const char *qemu_log);

#endif
