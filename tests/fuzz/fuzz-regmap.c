/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the register-map parser (tools/regmap-yaml.c, docs/regmap.md): any input
 * either loads or fails with a "FILE:LINE: ..." message; a loaded map answers lookups and
 * formats values at every offset the input could name without crashing or leaking.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "regmap.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    GError *e = NULL;
    struct regmap *m = regmap_load_yaml_mem((const char *)data, size, "fuzz.yaml", &e);
    if (!m) {
        if (!e || strncmp(e->message, "fuzz.yaml:", 10)) {
            abort(); /* a failure always says where */
        }
        g_error_free(e);
        return 0;
    }
    GString *s = g_string_new(NULL);
    static const uint64_t offs[] = {
        0, 1, 2, 4, 6, 8, 0x10, 0x40, 0x100, 0x1000, 0x5400, 0xffffffffull, UINT64_MAX - 7};
    for (unsigned bar = 0; bar < REGMAP_BARS; bar++) {
        for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
            for (unsigned w = 1; w <= 8; w *= 2) {
                const struct regmap_hit *h = regmap_lookup(m, bar, offs[i]);
                if (h->reg) {
                    g_string_truncate(s, 0);
                    regmap_format(s, h, 0x5a5a5a5a5a5a5a5aull, w);
                    regmap_format(s, h, UINT64_MAX, w);
                }
            }
        }
    }
    g_string_free(s, TRUE);
    regmap_free(m);
    return 0;
}
