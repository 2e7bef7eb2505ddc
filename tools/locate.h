/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: finding the patched QEMU, its firmware and the guest image. */
#ifndef HVMMIO_TOOLS_LOCATE_H
#define HVMMIO_TOOLS_LOCATE_H

#include <glib.h>

/* $HVMMIO_CACHE_DIR, else $XDG_CACHE_HOME/hvmmio (~/.cache/hvmmio). */
char *hvmmio_cache_dir(void);

/*
 * The patched qemu-system-x86_64: $HVMMIO_QEMU, else the installed copy when hvmmio itself
 * runs from its install prefix, else the build in the cache. NULL and *err set if none.
 */
char *hvmmio_find_qemu(GError **err);

/* The guest image folder (vmlinuz, initrd.img): $HVMMIO_IMAGE, installed, or the cache. */
char *hvmmio_find_image(GError **err);

/* A file of the installed tree (dir: HVMMIO_LIBEXECDIR or HVMMIO_DATADIR), found relative to
 * this executable; NULL if hvmmio does not run from an installed tree or it is not there. */
char *hvmmio_installed_file(const char *dir, const char *name);

/* Append the firmware search path (-L ...) QEMU needs to argv. */
void hvmmio_add_firmware_args(GPtrArray *argv);

#endif
