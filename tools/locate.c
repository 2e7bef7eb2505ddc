/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: finding the patched QEMU, its firmware and the guest image. */
#include <string.h>
#include <unistd.h>

#include "locate.h"

/* Debian's seabios and qemu-system-data: the +ds QEMU source ships no firmware. */
static const char *const firmware_dirs[] = {"/usr/share/seabios", "/usr/share/qemu"};

char *hvmmio_cache_dir(void)
{
    const char *env = g_getenv("HVMMIO_CACHE_DIR");
    if (env && *env) {
        return g_strdup(env);
    }
    return g_build_filename(g_get_user_cache_dir(), "hvmmio", NULL);
}

/* True when this executable is <prefix>/bin/hvmmio of the configured install prefix. */
static gboolean running_installed(void)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *dir = self ? g_path_get_dirname(self) : NULL;
    g_autofree char *prefix_bin = g_build_filename(HVMMIO_LIBEXECDIR, "..", "..", "bin", NULL);
    g_autofree char *canon = g_canonicalize_filename(prefix_bin, "/");
    return dir && !strcmp(dir, canon);
}

char *hvmmio_find_qemu(GError **err)
{
    const char *env = g_getenv("HVMMIO_QEMU");
    if (env && *env) {
        if (!g_file_test(env, G_FILE_TEST_IS_EXECUTABLE)) {
            g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                        "$HVMMIO_QEMU=%s is not an executable", env);
            return NULL;
        }
        return g_strdup(env);
    }
    g_autofree char *installed = g_build_filename(HVMMIO_LIBEXECDIR, "qemu-system-x86_64", NULL);
    if (running_installed() && g_file_test(installed, G_FILE_TEST_IS_EXECUTABLE)) {
        return g_steal_pointer(&installed);
    }
    g_autofree char *cache = hvmmio_cache_dir();
    char *built =
        g_build_filename(cache, "qemu", "current", "src", "build", "qemu-system-x86_64", NULL);
    if (g_file_test(built, G_FILE_TEST_IS_EXECUTABLE)) {
        return built;
    }
    g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "hvmmio's QEMU is not built (looked for %s); run scripts/build-qemu.sh "
                "or set HVMMIO_QEMU",
                built);
    g_free(built);
    return NULL;
}

char *hvmmio_find_image(GError **err)
{
    const char *env = g_getenv("HVMMIO_IMAGE");
    g_autofree char *cache = hvmmio_cache_dir();
    g_autofree char *installed = g_build_filename(HVMMIO_DATADIR, "guest", NULL);
    const char *candidates[] = {
        env && *env ? env : NULL,
        running_installed() ? installed : NULL,
        NULL,
    };
    g_autofree char *cached = g_build_filename(cache, "guest", "current", NULL);
    candidates[2] = cached;
    for (size_t i = 0; i < G_N_ELEMENTS(candidates); i++) {
        if (!candidates[i]) {
            continue;
        }
        g_autofree char *initrd = g_build_filename(candidates[i], "initrd.img", NULL);
        if (g_file_test(initrd, G_FILE_TEST_IS_REGULAR)) {
            return g_strdup(candidates[i]);
        }
        if (i == 0) {
            g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                        "$HVMMIO_IMAGE=%s holds no initrd.img", env);
            return NULL;
        }
    }
    g_set_error(err, G_FILE_ERROR, G_FILE_ERROR_NOENT,
                "the guest image is not built (looked in %s); run kernel-guest/build-image.sh",
                cached);
    return NULL;
}

void hvmmio_add_firmware_args(GPtrArray *argv)
{
    for (size_t i = 0; i < G_N_ELEMENTS(firmware_dirs); i++) {
        if (g_file_test(firmware_dirs[i], G_FILE_TEST_IS_DIR)) {
            g_ptr_array_add(argv, g_strdup("-L"));
            g_ptr_array_add(argv, g_strdup(firmware_dirs[i]));
        }
    }
}
