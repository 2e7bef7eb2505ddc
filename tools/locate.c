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

/*
 * A file of the installed tree, found relative to this executable (ROOT/bin/hvmmio), so that
 * an install works wherever it was put (DESTDIR staging, a moved prefix): dir is
 * HVMMIO_LIBEXECDIR or HVMMIO_DATADIR, taken relative to HVMMIO_PREFIX. NULL when this
 * hvmmio does not run from an installed tree (a build folder).
 */
char *hvmmio_installed_file(const char *dir, const char *name)
{
    g_autofree char *self = g_file_read_link("/proc/self/exe", NULL);
    g_autofree char *bin = self ? g_path_get_dirname(self) : NULL;
    g_autofree char *bin_name = bin ? g_path_get_basename(bin) : NULL;
    size_t plen = strlen(HVMMIO_PREFIX);

    if (!bin || strcmp(bin_name, "bin") || strncmp(dir, HVMMIO_PREFIX, plen)) {
        return NULL;
    }
    g_autofree char *root = g_path_get_dirname(bin);
    char *path = g_build_filename(root, dir + plen, name, NULL);
    if (!g_file_test(path, G_FILE_TEST_EXISTS)) {
        g_free(path);
        return NULL;
    }
    return path;
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
    g_autofree char *installed = hvmmio_installed_file(HVMMIO_LIBEXECDIR, "qemu-system-x86_64");
    if (installed && g_file_test(installed, G_FILE_TEST_IS_EXECUTABLE)) {
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
    g_autofree char *installed = hvmmio_installed_file(HVMMIO_DATADIR, "guest");
    const char *candidates[] = {
        env && *env ? env : NULL,
        installed,
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
