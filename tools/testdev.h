/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio-testdev: the state shared by its parts.
 *   testdev-device.c  the device: BAR0's registers (docs/testdev.md), BAR2, reset, the witness log
 *   hvmmio-testdev.c  the vfio-user server: the socket, the main loop, the command line
 */
#ifndef HVMMIO_TOOLS_TESTDEV_H
#define HVMMIO_TOOLS_TESTDEV_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include <glib.h>

#include <libvfio-user.h>

#include "testdev-regs.h"

struct testdev {
    vfu_ctx_t *vfu;
    GMainLoop *loop;
    const char *socket_path;
    gboolean verbose;
    FILE *witness; /* --witness: every BAR0 access served, in order */
    uint64_t witness_seq;
    guint fd_watch;
    int exit_code;

    /* BAR0 state: everything testdev_reset() sets */
    uint32_t invert_written;
    uint32_t scratch32;
    uint64_t reg64;
    uint32_t counter;
    bool done;
    unsigned polls_since_doorbell;
    bool irq_pending;
    uint8_t scratch[SCRATCH_SIZE];
    uint8_t tail[TAIL_SIZE];

    /* BAR2: a shared memfd mapping, also mapped by QEMU */
    int bar2_fd;
    uint8_t *bar2;
};

/* A --verbose message on stderr (hvmmio-testdev.c). */
void testdev_note(struct testdev *dev, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* testdev-device.c: the registers' power-on state; libvfio-user's callbacks. */
void testdev_reset(struct testdev *dev);
ssize_t testdev_bar0_access(vfu_ctx_t *vfu, char *buf, size_t count, loff_t offset, bool is_write);
ssize_t testdev_bar2_access(vfu_ctx_t *vfu, char *buf, size_t count, loff_t offset, bool is_write);
int testdev_device_reset(vfu_ctx_t *vfu, vfu_reset_type_t type);

#endif
