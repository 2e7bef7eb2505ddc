/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat: summarise mmiotrace files: records by type, devices, BARs/mappings, the busiest
 * registers, time span and rate, lost events and undecoded (UNKNOWN) accesses. The command line;
 * the statistics are in stat-*.c (stat.h).
 */
#include <stdio.h>

#include <glib.h>
#include <json-c/json.h>

#include "hvmmio.h"
#include "stat.h"
#include "stat-workbench.h" /* --regs, --top-functions, --symbols */

int hvmmio_cmd_stat(int argc, char **argv)
{
    gboolean json = FALSE, strict = FALSE;
    gint top = 10;
    GOptionEntry entries[] = {
        {"top", 'n', 0, G_OPTION_ARG_INT, &top, "Show the N busiest registers (default 10)", "N"},
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of text", NULL},
        {"strict", 's', 0, G_OPTION_ARG_NONE, &strict,
         "Stop at the first malformed line (default: skip it with a warning)", NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("FILE...");
    g_autoptr(GError) error = NULL;
    int ret = 0;

    g_option_context_set_summary(
        ctx, "Summarise mmiotrace files (text or JSON Lines, plain, .gz, .xz or .zst; '-' is\n"
             "stdin): records by type, devices, BARs and mappings, the busiest registers,\n"
             "time span and rate, lost events and UNKNOWN (undecoded) accesses.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_add_main_entries(ctx, stat_wb_entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (stat_wb_init(argv[0])) {
        stat_wb_free();
        return 2;
    }
    if (argc < 2) {
        fprintf(stderr, "%s: no FILE given (see --help)\n", argv[0]);
        return 2;
    }
    if (top < 0) {
        fprintf(stderr, "%s: --top must not be negative\n", argv[0]);
        return 2;
    }
    stat_intern_init();

    struct stats total;
    stats_init(&total, "total");
    json_object *jfiles = json ? json_object_new_array() : NULL;
    for (int i = 1; i < argc; i++) {
        struct stats s;
        stats_init(&s, argv[i]);
        if (stat_file(argv[0], argv[i], &s, strict) < 0) {
            ret = 1;
        }
        if (json) {
            json_object_array_add(jfiles, stat_json(&s, top));
        } else {
            stat_print_text(&s, top);
        }
        stats_merge(&total, &s);
        stats_clear(&s);
    }
    if (json) {
        json_object *o = json_object_new_object();
        json_object_object_add(o, "files", jfiles);
        json_object_object_add(o, "total", stat_json(&total, top));
        stat_wb_json(o, top);
        printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                             JSON_C_TO_STRING_NOSLASHESCAPE));
        json_object_put(o);
    } else if (argc > 2) {
        stat_print_text(&total, top);
    }
    if (!json) {
        stat_wb_print(top);
    }
    stat_wb_free();
    stats_clear(&total);
    stat_intern_free();
    return ret;
}
