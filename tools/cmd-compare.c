/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare GUEST HOST: check the guest kernel's own mmiotrace log against the host trace
 * of the same run. Every guest R/W must be in the host trace with the same direction, width,
 * address and value, in the same order; every guest UNKNOWN must match the run of host accesses
 * made by that instruction; every host access that has no guest partner must be explained
 * (the guest tracer was off, it does not trace that address, or QEMU made the access itself).
 * Guest accesses outside every BAR of the host-traced devices are counted, not compared.
 *
 * The algorithm and its limits are described in docs/compare.md; its parts are listed in
 * compare.h. This file is the command line.
 */
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "compare.h"
#include "hvmmio.h"

struct options {
    gboolean json, skip_bad, no_anchors, strict_scope;
    gint window, confirm, show, context;
    gint64 max_report;
    char **regs;
};

static bool parse_options(int *argc, char ***argv, struct options *o)
{
    GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &o->json, "Print JSON instead of text", NULL},
        {"window", 'w', 0, G_OPTION_ARG_INT, &o->window,
         "Look-ahead window in records per log for resynchronisation (default 4096)", "N"},
        {"confirm", 'k', 0, G_OPTION_ARG_INT, &o->confirm,
         "Accesses that must agree after a resynchronisation point (default 4)", "K"},
        {"show", 'n', 0, G_OPTION_ARG_INT, &o->show, "Show the first N discrepancies (default 10)",
         "N"},
        {"context", 'C', 0, G_OPTION_ARG_INT, &o->context,
         "Records of context before and after each (default 3)", "N"},
        {"max-report", 0, 0, G_OPTION_ARG_INT64, &o->max_report,
         "Stop comparing after N discrepancies (default 1000)", "N"},
        {"max-discrepancies", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_INT64, &o->max_report,
         "Same as --max-report", "N"},
        {"strict-scope", 0, 0, G_OPTION_ARG_NONE, &o->strict_scope,
         "Fail on guest accesses outside every BAR of the host-traced devices (default: "
         "count and list them)",
         NULL},
        {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &o->skip_bad,
         "Skip malformed lines with a warning (default: stop with FILE:LINE: message)", NULL},
        {"no-anchors", 0, 0, G_OPTION_ARG_NONE, &o->no_anchors,
         "Do not use markers found in both logs as anchors", NULL},
        {"regs", 'r', 0, G_OPTION_ARG_FILENAME_ARRAY, &o->regs,
         "Name the register and decode the fields of every access printed, as hvmmio decode "
         "does, for the devices a map covers (docs/regmap.md: YAML, or rules-ng-ng XML as "
         "FILE.xml[#DOMAIN][@VARIANT]); DEV=MAP binds it to the device named DEV; repeat for "
         "several",
         "[DEV=]MAP"},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("GUEST HOST");
    g_autoptr(GError) error = NULL;

    g_option_context_set_summary(
        ctx, "Check a guest kernel's mmiotrace log (GUEST) against hvmmio's host trace of the\n"
             "same run (HOST): every guest access must be in the host trace with the same\n"
             "direction, width, address and value, in the same order, and every other host\n"
             "access must be explained. Guest accesses outside the host-traced devices' BARs\n"
             "are counted and listed, not compared. One of GUEST and HOST may be '-' (stdin).\n"
             "Exit status: 0 the logs agree, 1 discrepancies (or nothing compared), 2 usage or\n"
             "read error. See docs/compare.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "%s: %s\n", (*argv)[0], error->message);
        return false;
    }
    if (*argc != 3) {
        fprintf(stderr, "%s: expected GUEST and HOST files (see --help)\n", (*argv)[0]);
        return false;
    }
    if (!strcmp((*argv)[1], "-") && !strcmp((*argv)[2], "-")) {
        fprintf(stderr, "%s: GUEST and HOST cannot both be '-' (standard input)\n", (*argv)[0]);
        return false;
    }
    if (o->window < 16 || o->window > (1 << 24) || o->confirm < 1 || o->confirm > 64 ||
        o->show < 0 || o->context < 0 || o->context > HIST || o->max_report < 1) {
        fprintf(stderr,
                "%s: --window must be 16..16777216, --confirm 1..64, --context 0..%d, "
                "--show >= 0, --max-report >= 1\n",
                (*argv)[0], HIST);
        return false;
    }
    return true;
}

static void warn_skipped(const struct cmp *c)
{
    const struct side *sides[2] = {&c->g, &c->h};

    for (int i = 0; i < 2; i++) {
        if (sides[i]->warn.count > WARN_MAX) {
            fprintf(stderr, "hvmmio compare: warning: %s: %u more malformed lines skipped\n",
                    sides[i]->path, sides[i]->warn.count - WARN_MAX);
        }
    }
}

int hvmmio_cmd_compare(int argc, char **argv)
{
    struct options o = {.window = 4096, .confirm = 4, .show = 10, .context = 3, .max_report = 1000};
    if (!parse_options(&argc, &argv, &o)) {
        g_strfreev(o.regs);
        return 2;
    }

    struct cmp c = {0};
    c.window = (size_t)o.window;
    c.confirm = (unsigned)o.confirm;
    c.show = (unsigned)o.show;
    c.context = (unsigned)o.context;
    c.max_disc = (uint64_t)o.max_report;
    c.strict_scope = o.strict_scope;
    c.maps = g_array_new(FALSE, FALSE, sizeof(struct mapping));
    c.maps_ahead = g_array_new(FALSE, FALSE, sizeof(struct mapping));
    c.scope = g_array_new(FALSE, FALSE, sizeof(struct range));
    c.outside = g_array_new(FALSE, TRUE, sizeof(struct outside));
    c.reports = g_ptr_array_new_with_free_func(cmp_report_free);
    int ret = 2;
    if (!cmp_regs_open(&c, o.regs) ||
        !cmp_side_open(&c.g, argv[1], "guest", c.window, o.skip_bad) ||
        !cmp_side_open(&c.h, argv[2], "host", c.window, o.skip_bad)) {
        goto out;
    }
    c.gv.idx = g_new(uint64_t, c.window + 1);
    c.gv.limit = c.window;
    c.hv.idx = g_new(uint64_t, c.window + 1);
    c.hv.limit = c.window;
    cmp_prepass(&c, o.no_anchors, o.skip_bad);
    if (!c.error) {
        cmp_walk(&c);
    }
    if (c.error) {
        goto out;
    }
    warn_skipped(&c);
    if (o.json) {
        cmp_print_json(&c);
    } else {
        cmp_print_text(&c);
    }
    char why[512];
    ret = cmp_failure(&c, why, sizeof(why)) ? 1 : 0;
out:
    cmp_side_close(&c.g);
    cmp_side_close(&c.h);
    g_free(c.gv.idx);
    g_free(c.hv.idx);
    g_array_free(c.maps, TRUE);
    g_array_free(c.maps_ahead, TRUE);
    g_array_free(c.scope, TRUE);
    g_array_free(c.outside, TRUE);
    g_ptr_array_free(c.reports, TRUE);
    cmp_regs_close(&c);
    g_strfreev(o.regs);
    return ret;
}
