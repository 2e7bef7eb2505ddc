/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio-testdev: a deterministic PCI test device served over vfio-user (libvfio-user), for
 * QEMU's vfio-user-pci client. Its register map is the contract in docs/testdev.md, which the
 * guest driver (kernel-guest/modules/hvmmio_testdrv) and the tests check against.
 *
 * BAR0 (4 KiB) is served by a callback: every guest access is a vfio-user message, so QEMU
 * traps it. BAR2 (64 KiB) is a memfd that QEMU maps: the fast path, plain memory.
 *
 * The server is single-threaded: a GLib main loop watches the vfio-user socket (the library
 * runs non-blocking) and SIGINT/SIGTERM. It exits 0 when QEMU disconnects or on a signal,
 * and removes its socket either way. This file is the server; the device's registers are in
 * testdev-device.c (testdev.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include <glib-unix.h>
#include <glib.h>

#include <linux/pci_regs.h>

#include <libvfio-user.h>

#include "testdev.h"

/* A --verbose message on stderr. */
void testdev_note(struct testdev *dev, const char *fmt, ...)
{
    if (!dev->verbose) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("hvmmio-testdev: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static void vfu_log_hook(vfu_ctx_t *vfu, int level, const char *msg)
{
    fprintf(stderr, "hvmmio-testdev: libvfio-user: %s\n", msg);
}

static gboolean on_signal(gpointer data)
{
    struct testdev *dev = data;
    testdev_note(dev, "signal received, shutting down");
    g_main_loop_quit(dev->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean on_client_ready(gint fd, GIOCondition cond, gpointer data);

static void watch_fd(struct testdev *dev)
{
    if (dev->fd_watch) {
        g_source_remove(dev->fd_watch);
    }
    dev->fd_watch = g_unix_fd_add(vfu_get_poll_fd(dev->vfu), G_IO_IN | G_IO_HUP | G_IO_ERR,
                                  on_client_ready, dev);
}

/* The listening socket is readable: QEMU is connecting. */
static gboolean on_listen_ready(gint fd, GIOCondition cond, gpointer data)
{
    struct testdev *dev = data;
    if (vfu_attach_ctx(dev->vfu) < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK) {
            return G_SOURCE_CONTINUE;
        }
        /* e.g. another server probing whether the socket is in use: keep listening */
        fprintf(stderr, "hvmmio-testdev: a client connected but did not set up vfio-user: %s\n",
                g_strerror(errno));
        return G_SOURCE_CONTINUE;
    }
    testdev_note(dev, "client connected");
    dev->fd_watch = 0;
    watch_fd(dev); /* the poll fd is now the connection */
    return G_SOURCE_REMOVE;
}

/* Messages from QEMU: handle all that are queued. */
static gboolean on_client_ready(gint fd, GIOCondition cond, gpointer data)
{
    struct testdev *dev = data;
    for (;;) {
        int n = vfu_run_ctx(dev->vfu);
        if (n > 0) {
            continue;
        }
        if (n == 0) {
            return G_SOURCE_CONTINUE;
        }
        if (errno == ENOTCONN) {
            testdev_note(dev, "client disconnected");
        } else {
            fprintf(stderr, "hvmmio-testdev: serving the client failed: %s\n", g_strerror(errno));
            dev->exit_code = 1;
        }
        dev->fd_watch = 0;
        g_main_loop_quit(dev->loop);
        return G_SOURCE_REMOVE;
    }
}

/*
 * Refuse socket paths that cannot work, with a message that says why; a stale socket left by
 * a killed server (nobody listening) is replaced.
 */
static bool check_socket_path(const char *path)
{
    struct sockaddr_un addr;
    if (strlen(path) >= sizeof(addr.sun_path)) {
        fprintf(stderr,
                "hvmmio-testdev: socket path is too long (%zu bytes; a Unix socket path has at "
                "most %zu): %s\n",
                strlen(path), sizeof(addr.sun_path) - 1, path);
        return false;
    }
    if (!*path) {
        fprintf(stderr, "hvmmio-testdev: empty socket path\n");
        return false;
    }
    g_autofree char *dir = g_path_get_dirname(path);
    if (!g_file_test(dir, G_FILE_TEST_IS_DIR)) {
        fprintf(stderr, "hvmmio-testdev: cannot create socket %s: directory %s does not exist\n",
                path, dir);
        return false;
    }
    struct stat st;
    if (lstat(path, &st) < 0) {
        return true;
    }
    if (!S_ISSOCK(st.st_mode)) {
        fprintf(stderr, "hvmmio-testdev: %s exists and is not a socket; refusing to replace it\n",
                path);
        return false;
    }
    int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0) {
        fprintf(stderr, "hvmmio-testdev: socket: %s\n", g_strerror(errno));
        return false;
    }
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    memcpy(addr.sun_path, path, strlen(path) + 1);
    int rc = connect(s, (struct sockaddr *)&addr, sizeof(addr));
    int err = errno;
    close(s);
    if (rc == 0 || err != ECONNREFUSED) {
        fprintf(stderr, "hvmmio-testdev: socket %s is in use by another server\n", path);
        return false;
    }
    if (unlink(path) < 0) {
        fprintf(stderr, "hvmmio-testdev: cannot remove stale socket %s: %s\n", path,
                g_strerror(errno));
        return false;
    }
    return true;
}

static bool create_bar2(struct testdev *dev)
{
    dev->bar2_fd = memfd_create("hvmmio-testdev-bar2", MFD_CLOEXEC);
    if (dev->bar2_fd < 0 || ftruncate(dev->bar2_fd, BAR2_SIZE) < 0) {
        fprintf(stderr, "hvmmio-testdev: cannot create BAR2's memfd: %s\n", g_strerror(errno));
        return false;
    }
    void *p = mmap(NULL, BAR2_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, dev->bar2_fd, 0);
    if (p == MAP_FAILED) {
        fprintf(stderr, "hvmmio-testdev: cannot map BAR2's memfd: %s\n", g_strerror(errno));
        return false;
    }
    dev->bar2 = p;
    return true;
}

/* Set up the libvfio-user context: identity, BARs, INTx, reset; then realize. */
static bool create_device(struct testdev *dev)
{
    dev->vfu = vfu_create_ctx(VFU_TRANS_SOCK, dev->socket_path, LIBVFIO_USER_FLAG_ATTACH_NB, dev,
                              VFU_DEV_TYPE_PCI);
    if (!dev->vfu) {
        fprintf(stderr, "hvmmio-testdev: cannot listen on %s: %s\n", dev->socket_path,
                g_strerror(errno));
        return false;
    }
    const char *what = NULL;
    struct iovec bar2_area = {.iov_base = 0, .iov_len = BAR2_SIZE};
    if (vfu_setup_log(dev->vfu, vfu_log_hook, dev->verbose ? LOG_INFO : LOG_ERR) < 0) {
        what = "vfu_setup_log";
    } else if (vfu_pci_init(dev->vfu, VFU_PCI_TYPE_CONVENTIONAL, PCI_HEADER_TYPE_NORMAL, 0) < 0) {
        what = "vfu_pci_init";
    } else {
        vfu_pci_set_id(dev->vfu, TESTDEV_VENDOR, TESTDEV_DEVICE, TESTDEV_SUBVENDOR,
                       TESTDEV_SUBDEVICE);
        vfu_pci_set_class(dev->vfu, TESTDEV_CLASS, 0, 0);
        vfu_pci_get_config_space(dev->vfu)->hdr.rid = TESTDEV_REVISION;
        if (vfu_setup_region(dev->vfu, VFU_PCI_DEV_BAR0_REGION_IDX, BAR0_SIZE, testdev_bar0_access,
                             VFU_REGION_FLAG_RW | VFU_REGION_FLAG_MEM, NULL, 0, -1, 0) < 0) {
            what = "vfu_setup_region(BAR0)";
        } else if (vfu_setup_region(dev->vfu, VFU_PCI_DEV_BAR2_REGION_IDX, BAR2_SIZE,
                                    testdev_bar2_access, VFU_REGION_FLAG_RW | VFU_REGION_FLAG_MEM,
                                    &bar2_area, 1, dev->bar2_fd, 0) < 0) {
            what = "vfu_setup_region(BAR2)";
        } else if (vfu_setup_device_nr_irqs(dev->vfu, VFU_DEV_INTX_IRQ, 1) < 0) {
            what = "vfu_setup_device_nr_irqs";
        } else if (vfu_setup_device_reset_cb(dev->vfu, testdev_device_reset) < 0) {
            what = "vfu_setup_device_reset_cb";
        } else if (vfu_realize_ctx(dev->vfu) < 0) {
            what = "vfu_realize_ctx";
        }
    }
    if (what) {
        fprintf(stderr, "hvmmio-testdev: %s failed: %s\n", what, g_strerror(errno));
        return false;
    }
    return true;
}

static struct {
    gboolean verbose;
    char *witness_path;
} cli;

static const GOptionEntry entries[] = {
    {"verbose", 'v', 0, G_OPTION_ARG_NONE, &cli.verbose,
     "Log every BAR access, connections and libvfio-user's messages on stderr", NULL},
    {"witness", 'w', 0, G_OPTION_ARG_FILENAME, &cli.witness_path,
     "Log every BAR0 access served (sequence number, offset, width, value written or "
     "returned) to FILE, for 'hvmmio witness'",
     "FILE"},
    {NULL},
};

/* The command line into cli; the socket path. NULL after printing why (exit 2). */
static const char *parse_args(int *argc, char ***argv)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("SOCKET_PATH");
    g_option_context_set_summary(
        ctx, "Serve hvmmio's deterministic PCI test device (1234:4d4d) over vfio-user on the\n"
             "Unix socket SOCKET_PATH, for QEMU's vfio-user-pci device. BAR0 (4 KiB) is\n"
             "register-like and every access to it is a message to this server; BAR2 (64 KiB)\n"
             "is memory that QEMU maps. The register map is in docs/testdev.md.");
    g_option_context_set_description(
        ctx, "The server exits 0 when QEMU disconnects or on SIGINT/SIGTERM, and removes its\n"
             "socket. It exits 1 if the socket cannot be created (missing directory, an\n"
             "existing file that is not a socket, a path longer than 107 bytes, a socket\n"
             "another server listens on) or serving fails, and 2 on bad usage.\n\n"
             "Example:\n"
             "  hvmmio-testdev /tmp/testdev.sock &\n"
             "  qemu-system-x86_64 ... \\\n"
             "    -object memory-backend-memfd,id=mem,size=512M,share=on \\\n"
             "    -machine memory-backend=mem -m 512M \\\n"
             "    -device '{\"driver\":\"vfio-user-pci\",\"socket\":{\"type\":\"unix\",\n"
             "              \"path\":\"/tmp/testdev.sock\"}}'");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "hvmmio-testdev: %s (see --help)\n", err->message);
        return NULL;
    }
    if (*argc != 2) {
        fprintf(stderr, "hvmmio-testdev: %s (see --help)\n",
                *argc < 2 ? "name the socket path" : "only one socket path");
        return NULL;
    }
    return (*argv)[1];
}

/* --witness: the log, with its header line. false after printing why. */
static bool open_witness(struct testdev *dev, const char *path)
{
    dev->witness = fopen(path, "w");
    if (!dev->witness) {
        fprintf(stderr, "hvmmio-testdev: cannot create the witness log %s: %s\n", path,
                g_strerror(errno));
        return false;
    }
    /* a large buffer: one write per 1 MiB of log, not per access */
    setvbuf(dev->witness, NULL, _IOFBF, 1 << 20);
    fprintf(dev->witness, "# hvmmio-testdev witness 1: SEQ BAR DIR WIDTH OFFSET VALUE\n");
    return true;
}

/* Listen and serve until QEMU disconnects or a signal; then remove the socket. */
static void serve(struct testdev *dev)
{
    /* Signal handlers first: whoever waits for the socket may signal us right after it. */
    dev->loop = g_main_loop_new(NULL, FALSE);
    guint sigint = g_unix_signal_add(SIGINT, on_signal, dev);
    guint sigterm = g_unix_signal_add(SIGTERM, on_signal, dev);
    if (create_device(dev)) {
        dev->fd_watch = g_unix_fd_add(vfu_get_poll_fd(dev->vfu), G_IO_IN, on_listen_ready, dev);
        testdev_note(dev, "listening on %s", dev->socket_path);
        g_main_loop_run(dev->loop);
        if (dev->fd_watch) {
            g_source_remove(dev->fd_watch);
        }
    } else {
        dev->exit_code = 1;
    }
    g_source_remove(sigint);
    g_source_remove(sigterm);
    g_main_loop_unref(dev->loop);
    /* vfu_create_ctx bound the socket; a later step may have failed */
    bool listening = dev->vfu != NULL;
    if (dev->vfu) {
        vfu_destroy_ctx(dev->vfu);
    }
    if (listening && unlink(dev->socket_path) < 0 && errno != ENOENT) {
        fprintf(stderr, "hvmmio-testdev: cannot remove %s: %s\n", dev->socket_path,
                g_strerror(errno));
    }
}

int main(int argc, char **argv)
{
    struct testdev dev = {.bar2_fd = -1};
    dev.socket_path = parse_args(&argc, &argv);
    if (!dev.socket_path) {
        return 2;
    }
    dev.verbose = cli.verbose;
    if (!check_socket_path(dev.socket_path) || !create_bar2(&dev)) {
        return 1;
    }
    if (cli.witness_path && !open_witness(&dev, cli.witness_path)) {
        return 1;
    }
    testdev_reset(&dev);
    serve(&dev);
    munmap(dev.bar2, BAR2_SIZE);
    close(dev.bar2_fd);
    if (dev.witness && (ferror(dev.witness) | fclose(dev.witness)) != 0) {
        fprintf(stderr, "hvmmio-testdev: writing the witness log %s failed: %s\n", cli.witness_path,
                g_strerror(errno));
        dev.exit_code = 1;
    }
    g_free(cli.witness_path);
    return dev.exit_code;
}
