/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio qemu ARGS...: run the patched QEMU for users who bring their own VM. */
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "hvmmio.h"
#include "locate.h"

int hvmmio_cmd_qemu(int argc, char **argv)
{
    if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("Usage: hvmmio qemu [QEMU-ARGS...]\n\n"
               "Runs hvmmio's patched qemu-system-x86_64 with the given arguments, adding the\n"
               "firmware search path (-L) for Debian's seabios and qemu-system-data.\n"
               "Use it with your own VM and any guest OS, e.g.\n"
               "  hvmmio qemu -m 4G -drive file=disk.qcow2 -device "
               "vfio-pci,host=01:00.0,mmiotrace=on\n"
               "QEMU's own help: hvmmio qemu -help; a device's properties: "
               "hvmmio qemu -device e1000e,help\n"
               "The binary used: $HVMMIO_QEMU, else the installed or cached build.\n");
        return 0;
    }
    g_autoptr(GError) err = NULL;
    g_autofree char *qemu = hvmmio_find_qemu(&err);
    if (!qemu) {
        fprintf(stderr, "hvmmio qemu: %s\n", err->message);
        return 1;
    }
    g_autoptr(GPtrArray) args = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(args, g_strdup(qemu));
    hvmmio_add_firmware_args(args);
    for (int i = 1; i < argc; i++) {
        g_ptr_array_add(args, g_strdup(argv[i]));
    }
    g_ptr_array_add(args, NULL);
    execv(qemu, (char **)args->pdata);
    fprintf(stderr, "hvmmio qemu: cannot run %s: %s\n", qemu, g_strerror(errno));
    return 1;
}
