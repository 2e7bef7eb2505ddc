/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run: boot a guest scenario under hvmmio's QEMU, with the devices asked for, and
 * collect what it produced into one output folder.
 *
 * The guest (kernel-guest/init) runs /scenarios/NAME.sh, prints "hvmmio: step ..." progress
 * lines on the console (first serial port) and sends its results folder as one checksummed
 * frame on the second serial port. QEMU runs with the output folder as its working
 * directory, so device trace files with relative paths land beside the guest's results.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-c/json.h>
#include <sys/un.h>
#include <zlib.h>

#include "accel.h"
#include "hvmmio.h"
#include "locate.h"

#define RESULTS_MAGIC "HVMMIO-RESULTS 1 "
#define RESULTS_END "HVMMIO-END\n"

struct run_state {
    GMainLoop *loop;
    GSubprocess *qemu;
    char *console_path;
    goffset console_pos;
    GString *console_line;
    char *last_step;
    gboolean verbose, quiet, timed_out, exited;
    gint64 start_us;
};

/*
 * --testdev: hvmmio-testdev (docs/testdev.md) serves the test device over vfio-user on a
 * socket in the output folder, for the whole run.
 */
struct testdev_server {
    GSubprocess *proc;
    char *sock;
    char *tmpdir; /* when the output folder's path is too long for a socket */
    char *log;
    gboolean exited;
    struct run_state *st;
};

static struct {
    gboolean on;
    char *props;
    gboolean witness; /* --testdev-witness: the server logs what it serves (hvmmio witness) */
} testdev_opt;

static gboolean parse_testdev_opt(const char *name, const char *value, gpointer data, GError **err)
{
    testdev_opt.on = TRUE;
    g_free(testdev_opt.props);
    testdev_opt.props = value && *value ? g_strdup(value) : NULL;
    return TRUE;
}

/*
 * The scenarios/NAME.sh files of the newc cpio archives in p (one after the other, zero
 * padding between them), added to names. false if p is not made of such archives.
 */
static bool cpio_scenarios(const uint8_t *p, size_t len, GPtrArray *names)
{
    size_t o = 0;

    while (o < len) {
        if (!p[o]) {
            o++;
            continue;
        }
        if (len - o < 110 || memcmp(p + o, "070701", 6)) {
            return false;
        }
        char field[9] = {0};
        memcpy(field, p + o + 54, 8);
        uint64_t filesize = strtoull(field, NULL, 16);
        memcpy(field, p + o + 94, 8);
        uint64_t namesize = strtoull(field, NULL, 16);
        if (!namesize || namesize > len - o - 110) {
            return false;
        }
        g_autofree char *name = g_strndup((const char *)p + o + 110, namesize - 1);
        o = (o + 110 + namesize + 3) & ~(size_t)3;
        if (strcmp(name, "TRAILER!!!")) {
            const char *base = g_str_has_prefix(name, "./") ? name + 2 : name;
            if (g_str_has_prefix(base, "scenarios/") && g_str_has_suffix(base, ".sh") &&
                strcmp(base, "scenarios/lib.sh")) {
                g_ptr_array_add(names, g_strndup(base + 10, strlen(base) - 13));
            }
            if (filesize > len - MIN(o, len)) {
                return false;
            }
            o = (o + filesize + 3) & ~(size_t)3;
        }
    }
    return true;
}

/*
 * The scenarios in the guest image: the scenarios/NAME.sh files of its initrd (newc cpio
 * archives, gzip'ed or not, one after the other, as the kernel reads them). NULL if the
 * initrd cannot be read that way (then only the guest can say).
 */
static GPtrArray *image_scenarios(const char *imgdir)
{
    g_autofree char *path = g_build_filename(imgdir, "initrd.img", NULL);
    g_autofree char *data = NULL;
    g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func(g_free);
    gsize len, o = 0;

    if (!g_file_get_contents(path, &data, &len, NULL)) {
        return NULL;
    }
    const uint8_t *p = (const uint8_t *)data;
    while (o < len) {
        if (!p[o]) {
            o++;
        } else if (len - o >= 2 && p[o] == 0x1f && p[o + 1] == 0x8b) {
            /* one gzip member: its archives, then what follows it */
            z_stream z = {0};
            g_autoptr(GByteArray) out = g_byte_array_new();
            uint8_t chunk[65536];
            int ret = Z_OK;

            if (inflateInit2(&z, 16 + MAX_WBITS) != Z_OK) {
                return NULL;
            }
            z.next_in = (Bytef *)p + o;
            z.avail_in = MIN(len - o, (gsize)UINT_MAX);
            while (ret == Z_OK) {
                z.next_out = chunk;
                z.avail_out = sizeof(chunk);
                ret = inflate(&z, Z_NO_FLUSH);
                g_byte_array_append(out, chunk, sizeof(chunk) - z.avail_out);
            }
            o += z.total_in;
            inflateEnd(&z);
            if (ret != Z_STREAM_END || !cpio_scenarios(out->data, out->len, names)) {
                return NULL;
            }
        } else {
            /* uncompressed archives up to the end */
            if (!cpio_scenarios(p + o, len - o, names)) {
                return NULL;
            }
            o = len;
        }
    }
    return g_steal_pointer(&names);
}

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
            if (st->verbose || (!st->quiet && g_str_has_prefix(line, "hvmmio: "))) {
                fprintf(stderr, "[%6.1f s] %s\n", (g_get_monotonic_time() - st->start_us) / 1e6,
                        line);
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

static void print_tail(const char *path, int lines)
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

/* QEMU's option ROMs are not in the +ds source; PCI devices get romfile= unless set. */
static char *device_arg(const char *spec)
{
    if (spec[0] == '{' || strstr(spec, "romfile=")) {
        return g_strdup(spec);
    }
    return g_strdup_printf("%s,romfile=", spec);
}

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

/* vfio-user-pci's property types (name -> "bool", "uint32", "str", ...), as QEMU lists them. */
static GHashTable *vfio_user_pci_prop_types(const char *qemu, GError **err)
{
    const char *argv[] = {qemu, "-device", "vfio-user-pci,help", NULL};
    g_autofree char *out = NULL;
    int status;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      &status, err)) {
        return NULL;
    }
    GHashTable *types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *p = *l + strspn(*l, " ");
        const char *eq = strstr(p, "=<");
        const char *gt = eq ? strchr(eq, '>') : NULL;
        if (p != *l && eq && gt) {
            g_hash_table_insert(types, g_strndup(p, (gsize)(eq - p)),
                                g_strndup(eq + 2, (gsize)(gt - eq - 2)));
        }
    }
    if (!g_hash_table_size(types)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s -device vfio-user-pci,help listed no properties", qemu);
        g_hash_table_unref(types);
        return NULL;
    }
    return types;
}

/*
 * A key=value property as the JSON value QEMU's JSON -device wants: it takes no strings for
 * bool or integer properties (unlike the key=value syntax), so convert by the listed type.
 */
static json_object *prop_value(const char *key, const char *value, const char *type, GError **err)
{
    if (!strcmp(type, "bool")) {
        const char *yes[] = {"on", "true", "yes"}, *no[] = {"off", "false", "no"};
        for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
            if (!g_ascii_strcasecmp(value, yes[i]) || !g_ascii_strcasecmp(value, no[i])) {
                return json_object_new_boolean(!g_ascii_strcasecmp(value, yes[i]));
            }
        }
        g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--testdev: %s takes on or off, not '%s'", key, value);
        return NULL;
    }
    if (g_str_has_prefix(type, "int") || g_str_has_prefix(type, "uint") || !strcmp(type, "size")) {
        char *end;
        errno = 0;
        if (type[0] == 'i') {
            long long v = strtoll(value, &end, 0);
            if (!errno && *value && !*end) {
                return json_object_new_int64(v);
            }
        } else if (value[0] != '-') {
            unsigned long long v = strtoull(value, &end, 0);
            if (!errno && *value && !*end) {
                return json_object_new_uint64(v);
            }
        }
        g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--testdev: %s takes a number (%s), not '%s'", key, type, value);
        return NULL;
    }
    return json_object_new_string(value);
}

/*
 * The vfio-user-pci -device JSON. PROPS is either JSON members ("x-msg-timeout":5000), used
 * as they are, or key=value pairs (mmiotrace=on,mmiotrace-file=host.txt), converted to the
 * types QEMU lists for vfio-user-pci.
 */
static char *testdev_device_json(const char *qemu, const char *sock, const char *props,
                                 GError **err)
{
    json_object *dev = json_object_new_object();
    json_object *socket = json_object_new_object();
    json_object_object_add(dev, "driver", json_object_new_string("vfio-user-pci"));
    json_object_object_add(dev, "id", json_object_new_string("testdev"));
    json_object_object_add(socket, "type", json_object_new_string("unix"));
    json_object_object_add(socket, "path", json_object_new_string(sock));
    json_object_object_add(dev, "socket", socket);
    json_object *extra = NULL;
    if (props && props[0] == '"') {
        g_autofree char *text = g_strdup_printf("{%s}", props);
        extra = json_tokener_parse(text);
        if (!extra || !json_object_is_type(extra, json_type_object)) {
            g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--testdev=%s: not valid JSON members", props);
            json_object_put(extra);
            json_object_put(dev);
            return NULL;
        }
    } else if (props && *props) {
        g_autoptr(GHashTable) types = vfio_user_pci_prop_types(qemu, err);
        if (!types) {
            json_object_put(dev);
            return NULL;
        }
        extra = json_object_new_object();
        g_auto(GStrv) pairs = g_strsplit(props, ",", -1);
        for (char **p = pairs; *p; p++) {
            char *eq = strchr(*p, '=');
            if (!eq || eq == *p) {
                g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--testdev=%s: '%s' is not key=value", props, *p);
                json_object_put(extra);
                json_object_put(dev);
                return NULL;
            }
            *eq = 0;
            const char *type = g_hash_table_lookup(types, *p);
            json_object *val = NULL;
            if (!type) {
                g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--testdev: vfio-user-pci has no property '%s' (see "
                            "'hvmmio qemu -device vfio-user-pci,help')",
                            *p);
            } else {
                val = prop_value(*p, eq + 1, type, err);
            }
            if (!val) {
                json_object_put(extra);
                json_object_put(dev);
                return NULL;
            }
            json_object_object_add(extra, *p, val);
        }
    }
    if (extra) {
        json_object_object_foreach(extra, key, val)
        {
            if (!strcmp(key, "driver") || !strcmp(key, "socket")) {
                g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--testdev: '%s' is set by hvmmio run", key);
                json_object_put(extra);
                json_object_put(dev);
                return NULL;
            }
            json_object_object_add(dev, key, json_object_get(val));
        }
        json_object_put(extra);
    }
    char *json = g_strdup(json_object_to_json_string_ext(dev, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(dev);
    return json;
}

static void on_testdev_exit(GObject *source, GAsyncResult *res, gpointer data)
{
    struct testdev_server *ts = data;
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
static gboolean testdev_start(struct testdev_server *ts, const char *outdir, GError **err)
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
    g_autofree char *witness = g_build_filename(outdir, "witness.log", NULL);
    g_autofree char *witness_opt = g_strconcat("--witness=", witness, NULL);
    ts->proc = testdev_opt.witness
                   ? g_subprocess_launcher_spawn(l, err, bin, witness_opt, ts->sock, NULL)
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
static gboolean testdev_stop(struct testdev_server *ts)
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
            print_tail(ts->log, 10);
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

static const char *const removable[] = {"console.log", "results.bin", "results.tar", "status",
                                        "qemu.log",    "testdev.log", "witness.log"};

/* hvmmio run --list-scenarios (also what shell completion offers) */
static int list_image_scenarios(const char *image)
{
    g_autoptr(GError) err = NULL;

    if (image) {
        g_setenv("HVMMIO_IMAGE", image, TRUE);
    }
    g_autofree char *imgdir = hvmmio_find_image(&err);
    if (!imgdir) {
        fprintf(stderr, "hvmmio run: %s\n", err->message);
        return 1;
    }
    g_autoptr(GPtrArray) known = image_scenarios(imgdir);
    if (!known) {
        fprintf(stderr, "hvmmio run: cannot read the scenarios of the guest image %s\n", imgdir);
        return 1;
    }
    for (guint i = 0; i < known->len; i++) {
        printf("%s\n", (char *)known->pdata[i]);
    }
    return 0;
}

int hvmmio_cmd_run(int argc, char **argv)
{
    g_autofree char *outdir = NULL, *accel_opt = NULL, *scenario_args = NULL, *image = NULL;
    g_autofree char *machine = NULL, *extra_append = NULL;
    g_auto(GStrv) devices = NULL;
    int timeout_s = 300, memory_mb = 512, smp = 1;
    gboolean verbose = FALSE, quiet = FALSE, list_scenarios = FALSE;
    GOptionEntry entries[] = {
        {"device", 'd', 0, G_OPTION_ARG_STRING_ARRAY, &devices,
         "Add a device, in QEMU's -device syntax (repeatable), e.g. e1000e,mmiotrace=on", "SPEC"},
        {"testdev", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, parse_testdev_opt,
         "Add hvmmio's vfio-user test device (docs/testdev.md), served by hvmmio-testdev; "
         "optional PROPS after '=': more vfio-user-pci properties, as key=value,... or JSON "
         "members",
         "PROPS"},
        {"list-scenarios", 0, 0, G_OPTION_ARG_NONE, &list_scenarios,
         "Print the guest image's scenarios, one a line, and exit", NULL},
        {"testdev-witness", 0, 0, G_OPTION_ARG_NONE, &testdev_opt.witness,
         "With --testdev: the server logs every BAR0 access it serves to witness.log in the "
         "output folder, for 'hvmmio witness'",
         NULL},
        {"output", 'o', 0, G_OPTION_ARG_FILENAME, &outdir,
         "Folder for the console log, the guest's results and the host traces "
         "(default: hvmmio-out/SCENARIO)",
         "DIR"},
        {"accel", 'a', 0, G_OPTION_ARG_STRING, &accel_opt,
         "auto (default: KVM if a calibration shows it is fast, else TCG), kvm or tcg", "ACCEL"},
        {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s,
         "Stop the guest after this many seconds (default 300)", "SECONDS"},
        {"memory", 'm', 0, G_OPTION_ARG_INT, &memory_mb, "Guest memory (default 512)", "MB"},
        {"smp", 0, 0, G_OPTION_ARG_INT, &smp,
         "vCPUs (default 1; the guest's own mmiotrace offlines all but one)", "N"},
        {"machine", 0, 0, G_OPTION_ARG_STRING, &machine, "QEMU machine (default q35)", "TYPE"},
        {"append", 0, 0, G_OPTION_ARG_STRING, &extra_append,
         "More guest kernel command-line arguments, e.g. 'intel_iommu=on iommu=pt'", "ARGS"},
        {"args", 0, 0, G_OPTION_ARG_STRING, &scenario_args,
         "Comma-separated arguments passed to the scenario script", "A,B,..."},
        {"image", 0, 0, G_OPTION_ARG_FILENAME, &image,
         "Guest image folder with vmlinuz and initrd.img (default: $HVMMIO_IMAGE or the cache)",
         "DIR"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Echo the whole guest console", NULL},
        {"quiet", 'q', 0, G_OPTION_ARG_NONE, &quiet, "Print only errors and the verdict", NULL},
        {NULL},
    };

    testdev_opt.on = FALSE;
    testdev_opt.witness = FALSE;
    g_clear_pointer(&testdev_opt.props, g_free);
    /* everything after "--" goes to QEMU untouched */
    int qemu_extra_at = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            qemu_extra_at = i;
            break;
        }
        /* a bare --testdev has no PROPS: GLib would take the next word (the scenario) */
        if (!strcmp(argv[i], "--testdev")) {
            argv[i] = (char *)"--testdev=";
        }
    }
    g_autoptr(GOptionContext) ctx = g_option_context_new("SCENARIO [-- QEMU-ARGS...]");
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
    g_autoptr(GError) err = NULL;
    int pargc = qemu_extra_at;
    char **pargv = argv;
    if (!g_option_context_parse(ctx, &pargc, &pargv, &err)) {
        fprintf(stderr, "hvmmio run: %s (see --help)\n", err->message);
        return 2;
    }
    if (list_scenarios) {
        return list_image_scenarios(image);
    }
    if (pargc != 2) {
        fprintf(stderr, "hvmmio run: %s (see --help)\n",
                pargc < 2 ? "name a scenario" : "only one scenario at a time");
        return 2;
    }
    const char *scenario = pargv[1];
    if (testdev_opt.witness && !testdev_opt.on) {
        fprintf(stderr, "hvmmio run: --testdev-witness needs --testdev (see --help)\n");
        return 2;
    }
    if (timeout_s <= 0 || memory_mb < 64 || smp < 1) {
        fprintf(stderr, "hvmmio run: --timeout must be > 0, --memory >= 64, --smp >= 1\n");
        return 2;
    }
    for (const char *c = scenario; *c; c++) {
        if (!g_ascii_isalnum(*c) && *c != '-' && *c != '_') {
            fprintf(stderr, "hvmmio run: bad scenario name '%s'\n", scenario);
            return 2;
        }
    }
    if (scenario_args && strpbrk(scenario_args, " \t\n\"'")) {
        fprintf(stderr, "hvmmio run: --args takes comma-separated words without spaces\n");
        return 2;
    }

    g_autofree char *qemu = hvmmio_find_qemu(&err);
    if (!qemu) {
        fprintf(stderr, "hvmmio run: %s\n", err->message);
        return 1;
    }
    if (image) {
        g_setenv("HVMMIO_IMAGE", image, TRUE);
    }
    g_autofree char *imgdir = hvmmio_find_image(&err);
    if (!imgdir) {
        fprintf(stderr, "hvmmio run: %s\n", err->message);
        return 1;
    }
    /* an unknown scenario is an error before any guest boots */
    g_autoptr(GPtrArray) known = image_scenarios(imgdir);
    if (known) {
        bool found = false;
        g_autoptr(GString) list = g_string_new(NULL);
        for (guint i = 0; i < known->len; i++) {
            found |= !strcmp(known->pdata[i], scenario);
            g_string_append_printf(list, "%s%s", i ? ", " : "", (char *)known->pdata[i]);
        }
        if (!found) {
            fprintf(stderr, "hvmmio run: the guest image %s has no scenario '%s' (it has: %s)\n",
                    imgdir, scenario, list->str);
            return 2;
        }
    }
    const char *accel = hvmmio_choose_accel(accel_opt ? accel_opt : "auto", quiet);
    if (!accel) {
        return 2;
    }
    if (!outdir) {
        outdir = g_build_filename("hvmmio-out", scenario, NULL);
    }
    if (g_mkdir_with_parents(outdir, 0755) < 0) {
        fprintf(stderr, "hvmmio run: cannot create %s: %s\n", outdir, g_strerror(errno));
        return 1;
    }
    g_autofree char *absout = g_canonicalize_filename(outdir, NULL);
    for (size_t i = 0; i < G_N_ELEMENTS(removable); i++) {
        g_autofree char *p = g_build_filename(absout, removable[i], NULL);
        g_unlink(p);
    }

    g_autoptr(GPtrArray) a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup(qemu));
    hvmmio_add_firmware_args(a);
    g_autofree char *append =
        g_strdup_printf("console=ttyS0 panic=-1 edd=off quiet hvmmio.scenario=%s%s%s%s%s", scenario,
                        scenario_args ? " hvmmio.args=" : "", scenario_args ? scenario_args : "",
                        extra_append ? " " : "", extra_append ? extra_append : "");
    const char *fixed[] = {
        "-machine",    machine ? machine : "q35",
        "-accel",      accel,
        "-nodefaults", "-display",
        "none",        "-no-reboot",
        "-serial",     "file:console.log",
        "-serial",     "file:results.bin",
        "-append",     append,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(a, g_strdup(fixed[i]));
    }
    g_ptr_array_add(a, g_strdup("-m"));
    g_ptr_array_add(a, g_strdup_printf("%d", memory_mb));
    g_ptr_array_add(a, g_strdup("-smp"));
    g_ptr_array_add(a, g_strdup_printf("%d", smp));
    g_ptr_array_add(a, g_strdup("-kernel"));
    g_ptr_array_add(a, g_build_filename(imgdir, "vmlinuz", NULL));
    g_ptr_array_add(a, g_strdup("-initrd"));
    g_ptr_array_add(a, g_build_filename(imgdir, "initrd.img", NULL));
    for (char **d = devices; d && *d; d++) {
        g_ptr_array_add(a, g_strdup("-device"));
        g_ptr_array_add(a, device_arg(*d));
    }
    struct testdev_server ts = {0};
    if (testdev_opt.on) {
        /* vfio-user needs guest RAM the server can map: shared memfd memory */
        g_ptr_array_add(a, g_strdup("-object"));
        g_ptr_array_add(
            a, g_strdup_printf("memory-backend-memfd,id=mem,size=%dM,share=on", memory_mb));
        g_ptr_array_add(a, g_strdup("-machine"));
        g_ptr_array_add(a, g_strdup("memory-backend=mem"));
        if (!testdev_start(&ts, absout, &err)) {
            fprintf(stderr, "hvmmio run: --testdev: %s\n", err->message);
            if (ts.log) {
                print_tail(ts.log, 10);
            }
            testdev_stop(&ts);
            return 1;
        }
        g_autofree char *json = testdev_device_json(qemu, ts.sock, testdev_opt.props, &err);
        if (!json) {
            fprintf(stderr, "hvmmio run: %s\n", err->message);
            testdev_stop(&ts);
            return 2;
        }
        g_ptr_array_add(a, g_strdup("-device"));
        g_ptr_array_add(a, g_steal_pointer(&json));
    }
    for (int i = qemu_extra_at + 1; i < argc; i++) {
        g_ptr_array_add(a, g_strdup(argv[i]));
    }
    g_ptr_array_add(a, NULL);

    g_autoptr(GString) cmdline = g_string_new(NULL);
    for (guint i = 0; a->pdata[i]; i++) {
        g_autofree char *q = g_shell_quote(a->pdata[i]);
        g_string_append_printf(cmdline, "%s%s", i ? " " : "", q);
    }
    g_autofree char *cmdfile = g_build_filename(absout, "qemu.cmdline", NULL);
    g_string_append_c(cmdline, '\n');
    g_file_set_contents(cmdfile, cmdline->str, -1, NULL);

    g_autoptr(GSubprocessLauncher) l = g_subprocess_launcher_new(G_SUBPROCESS_FLAGS_STDERR_MERGE |
                                                                 G_SUBPROCESS_FLAGS_STDIN_INHERIT);
    g_subprocess_launcher_set_cwd(l, absout);
    g_autofree char *qlog = g_build_filename(absout, "qemu.log", NULL);
    g_subprocess_launcher_set_stdout_file_path(l, qlog);
    if (!quiet) {
        fprintf(stderr, "hvmmio: booting scenario %s (output in %s, timeout %d s)\n", scenario,
                outdir, timeout_s);
    }
    struct run_state st = {
        .loop = g_main_loop_new(NULL, FALSE),
        .console_path = g_build_filename(absout, "console.log", NULL),
        .console_line = g_string_new(NULL),
        .verbose = verbose,
        .quiet = quiet,
        .start_us = g_get_monotonic_time(),
    };
    st.qemu = g_subprocess_launcher_spawnv(l, (const char *const *)a->pdata, &err);
    if (!st.qemu) {
        fprintf(stderr, "hvmmio run: cannot start %s: %s\n", qemu, err->message);
        testdev_stop(&ts);
        return 1;
    }
    ts.st = &st;
    g_subprocess_wait_async(st.qemu, NULL, on_qemu_exit, &st);
    guint tick = g_timeout_add(200, on_tick, &st);
    guint timer = g_timeout_add_seconds((guint)timeout_s, on_timeout, &st);
    g_main_loop_run(st.loop);
    g_source_remove(tick);
    if (!st.timed_out) {
        g_source_remove(timer);
    }
    echo_console(&st);
    double secs = (g_get_monotonic_time() - st.start_us) / 1e6;

    int ret = 0;
    if (st.timed_out) {
        fprintf(stderr, "hvmmio run: scenario %s timed out after %d s; last step: %s\n", scenario,
                timeout_s, st.last_step ? st.last_step : "(the guest printed none)");
        fprintf(stderr, "  last console lines (%s):\n", st.console_path);
        print_tail(st.console_path, 15);
        ret = 1;
    } else if (!g_subprocess_get_if_exited(st.qemu) || g_subprocess_get_exit_status(st.qemu)) {
        fprintf(stderr, "hvmmio run: QEMU failed (%s); its output (%s):\n",
                g_subprocess_get_if_exited(st.qemu) ? "non-zero exit" : "killed by a signal", qlog);
        print_tail(qlog, 15);
        ret = 1;
    } else if (!unpack_results(absout, &err)) {
        fprintf(stderr, "hvmmio run: %s; last step: %s\n", err->message,
                st.last_step ? st.last_step : "(none)");
        print_tail(st.console_path, 15);
        ret = 1;
    } else {
        g_autofree char *status_path = g_build_filename(absout, "status", NULL);
        g_autofree char *status = NULL;
        int rc = -1;
        if (g_file_get_contents(status_path, &status, NULL, NULL)) {
            rc = atoi(status);
        }
        g_autofree char *log = g_build_filename(absout, "scenario.log", NULL);
        g_autofree char *error = g_build_filename(absout, "error", NULL);
        g_autofree char *errtext = NULL;
        if (g_file_get_contents(error, &errtext, NULL, NULL)) {
            fprintf(stderr, "hvmmio run: %s", errtext);
        }
        if (rc != 0) {
            fprintf(stderr, "hvmmio run: scenario %s FAILED (exit %d) after step %s; its log:\n",
                    scenario, rc, st.last_step ? st.last_step : "(none)");
            print_tail(log, 20);
            ret = 1;
        }
    }
    if (testdev_opt.on && !testdev_stop(&ts)) {
        ret = 1;
    }
    if (!quiet || ret) {
        fprintf(stderr, "hvmmio: scenario %s %s in %.1f s; results in %s\n", scenario,
                ret ? "failed" : "passed", secs, outdir);
    }
    g_main_loop_unref(st.loop);
    g_object_unref(st.qemu);
    g_free(st.console_path);
    g_string_free(st.console_line, TRUE);
    g_free(st.last_step);
    return ret;
}
