/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run: the results channel and the verdict. The guest sends its results folder as one
 * checksummed frame on the second serial port (results.bin): checked, unpacked into the output
 * folder, and its status file says whether the scenario passed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "run-int.h"

#define RESULTS_MAGIC "HVMMIO-RESULTS 1 "
#define RESULTS_END "HVMMIO-END\n"

/* Check and unpack the results frame the guest sent on the second serial port. */
static gboolean unpack_results(const char *outdir, GError **err)
{
    g_autofree char *bin = g_build_filename(outdir, "results.bin", NULL);
    g_autofree char *data = NULL;
    gsize len = 0;
    if (!g_file_get_contents(bin, &data, &len, err)) {
        return FALSE;
    }
    if (len == 0) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "the guest sent no results (results.bin is empty)");
        return FALSE;
    }
    const char *hdr = g_strstr_len(data, (gssize)len, RESULTS_MAGIC);
    const char *nl = hdr ? memchr(hdr, '\n', len - (size_t)(hdr - data)) : NULL;
    guint64 size = 0;
    char sum[65] = "";
    if (!nl || sscanf(hdr + strlen(RESULTS_MAGIC), "%" G_GUINT64_FORMAT " %64s", &size, sum) != 2) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "results.bin has no valid '%s' header", RESULTS_MAGIC);
        return FALSE;
    }
    const char *payload = nl + 1;
    gsize avail = len - (gsize)(payload - data);
    if (avail < size + strlen(RESULTS_END)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_PARTIAL_INPUT,
                    "results truncated: %" G_GSIZE_FORMAT " of %" G_GUINT64_FORMAT " bytes arrived",
                    avail < size ? avail : (gsize)size, size);
        return FALSE;
    }
    g_autofree char *got =
        g_compute_checksum_for_data(G_CHECKSUM_SHA256, (const guchar *)payload, size);
    if (strcmp(got, sum) || memcmp(payload + size, RESULTS_END, strlen(RESULTS_END))) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    "results corrupted in transfer: sha256 %s, the guest sent %s", got, sum);
        return FALSE;
    }
    g_autofree char *tar = g_build_filename(outdir, "results.tar", NULL);
    if (!g_file_set_contents(tar, payload, (gssize)size, err)) {
        return FALSE;
    }
    const char *tar_argv[] = {"tar", "-xf", "results.tar", "--no-same-owner", NULL};
    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_NONE);
    g_subprocess_launcher_set_cwd(l, outdir);
    g_autoptr(GSubprocess) p = g_subprocess_launcher_spawnv(l, tar_argv, err);
    if (!p || !g_subprocess_wait_check(p, NULL, err)) {
        return FALSE;
    }
    g_unlink(tar);
    g_unlink(bin);
    return TRUE;
}

/* The last lines of a log, indented, on stderr. */
void run_print_tail(const char *path, int lines)
{
    g_autofree char *data = NULL;
    if (!g_file_get_contents(path, &data, NULL, NULL)) {
        return;
    }
    g_auto(GStrv) v = g_strsplit(data, "\n", -1);
    int n = (int)g_strv_length(v);
    for (int i = MAX(0, n - lines - 1); i < n; i++) {
        if (*v[i]) {
            fprintf(stderr, "    %s\n", g_strchomp(v[i]));
        }
    }
}

/* The scenario's own verdict from the unpacked results: 0 if it passed. */
static int scenario_verdict(const struct run_state *st, const char *outdir)
{
    g_autofree char *status_path = g_build_filename(outdir, "status", NULL);
    g_autofree char *status = NULL;
    int rc = -1;
    if (g_file_get_contents(status_path, &status, NULL, NULL)) {
        rc = atoi(status);
    }
    g_autofree char *log = g_build_filename(outdir, "scenario.log", NULL);
    g_autofree char *error = g_build_filename(outdir, "error", NULL);
    g_autofree char *errtext = NULL;
    if (g_file_get_contents(error, &errtext, NULL, NULL)) {
        fprintf(stderr, "hvmmio run: %s", errtext);
    }
    if (rc != 0) {
        fprintf(stderr, "hvmmio run: scenario %s FAILED (exit %d) after step %s; its log:\n",
                st->opts->scenario, rc, st->last_step ? st->last_step : "(none)");
        run_print_tail(log, 20);
        return 1;
    }
    return 0;
}

/* After QEMU ended: 0 if the scenario passed, else 1 having said why (with the logs' tails). */
int run_results(const struct run_state *st, const char *outdir, const char *qemu_log)
{
    g_autoptr(GError) err = NULL;

    if (st->timed_out) {
        fprintf(stderr, "hvmmio run: scenario %s timed out after %d s; last step: %s\n",
                st->opts->scenario, st->opts->timeout_s,
                st->last_step ? st->last_step : "(the guest printed none)");
        fprintf(stderr, "  last console lines (%s):\n", st->console_path);
        run_print_tail(st->console_path, 15);
        return 1;
    }
    if (!g_subprocess_get_if_exited(st->qemu) || g_subprocess_get_exit_status(st->qemu)) {
        fprintf(stderr, "hvmmio run: QEMU failed (%s); its output (%s):\n",
                g_subprocess_get_if_exited(st->qemu) ? "non-zero exit" : "killed by a signal",
                qemu_log);
        run_print_tail(qemu_log, 15);
        return 1;
    }
    if (!unpack_results(outdir, &err)) {
        fprintf(stderr, "hvmmio run: %s; last step: %s\n", err->message,
                st->last_step ? st->last_step : "(none)");
        run_print_tail(st->console_path, 15);
        return 1;
    }
    return scenario_verdict(st, outdir);
}
