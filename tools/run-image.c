/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run: the scenarios a guest image holds, read from its initrd, so that an unknown
 * scenario is refused before any guest boots (and for --list-scenarios).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#include <zlib.h>

#include "locate.h"
#include "run-int.h"

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
GPtrArray *run_image_scenarios(const char *imgdir)
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

/* hvmmio run --list-scenarios (also what shell completion offers) */
int hvmmio_run_list_scenarios(const char *image)
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
    g_autoptr(GPtrArray) known = run_image_scenarios(imgdir);
    if (!known) {
        fprintf(stderr, "hvmmio run: cannot read the scenarios of the guest image %s\n", imgdir);
        return 1;
    }
    for (guint i = 0; i < known->len; i++) {
        printf("%s\n", (char *)known->pdata[i]);
    }
    return 0;
}

/*
 * An unknown scenario is an error before any guest boots: FALSE (having said so) if the
 * image's initrd lists its scenarios and this is not one of them.
 */
gboolean run_scenario_known(const char *imgdir, const char *scenario)
{
    g_autoptr(GPtrArray) known = run_image_scenarios(imgdir);
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
            return FALSE;
        }
    }
    return TRUE;
}
