/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio witness HOST WITNESS: check a host trace of hvmmio's test device against the log
 * the device itself kept of what it served (hvmmio-testdev --witness, docs/testdev.md).
 *
 * The device is an independent witness: it sees each BAR0 access once, in the order it
 * serves them (one thread), with the value written or the value it returned. The check:
 *  - every host BAR0 record of the device is an access the device served, and every access
 *    it served is in the trace (the same multiset of accesses, register by register);
 *  - every value the trace recorded is the value written or returned at the device;
 *  - each vCPU's records reach the device in the order the trace has them;
 *  - the trace's order is the device's order (docs/trace-format.md: under TCG a record's
 *    place in the file is taken under the lock that serialises the device);
 *  - nothing was lost (no LOST record).
 * One guest access the device serves in pieces (an 8-byte access as two 4-byte messages) is
 * one host record: a host record matches one witness access or a run of consecutive pieces
 * that cover it.
 *
 * Both inputs are streamed: the memory is the window of unmatched witness accesses
 * (--window) and a counter per register and vCPU.
 *
 * This file: the command line, the host trace's records, the summary and the verdict; the
 * witness log and the matching: witness-match.c.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "sorted.h"
#include "testdev-regs.h"
#include "witness.h"

static gint cmp_reg(gconstpointer a, gconstpointer b)
{
    const struct reg_stat *x = *(struct reg_stat *const *)a, *y = *(struct reg_stat *const *)b;
    return x->off < y->off ? -1 : x->off > y->off;
}

static gint cmp_vcpu(gconstpointer a, gconstpointer b)
{
    const struct vcpu_stat *x = *(struct vcpu_stat *const *)a;
    const struct vcpu_stat *y = *(struct vcpu_stat *const *)b;
    return x->vcpu < y->vcpu ? -1 : x->vcpu > y->vcpu;
}

static void print_summary(struct check *c, guint max_regs)
{
    if (c->shown > c->show) {
        printf("  ... %u more discrepancies (--show)\n", c->shown - c->show);
    }
    printf("device %s, BAR0: %" PRIu64 " host records, %" PRIu64 " accesses served (%" PRIu64
           " device resets)\n",
           c->dev, c->host_records, c->w.accesses, c->w.resets);

    g_autoptr(GPtrArray) vs = hvmmio_sorted_values(c->vcpus, cmp_vcpu);
    printf("records per vCPU:");
    for (guint i = 0; i < vs->len; i++) {
        struct vcpu_stat *v = vs->pdata[i];
        char vb[16];
        witness_vcpu_name(v->vcpu, vb, sizeof(vb));
        printf(" vcpu=%s %" PRIu64 "%s", vb, v->records, i + 1 < vs->len ? "," : "\n");
    }
    if (!vs->len) {
        printf(" none\n");
    }

    g_autoptr(GPtrArray) rs = hvmmio_sorted_values(c->regs, cmp_reg);
    printf("%-22s %9s %9s %9s %9s  %s\n", "per register:", "host R", "served R", "host W",
           "served W", "multiset");
    guint shown = 0, hidden = 0;
    for (guint i = 0; i < rs->len; i++) {
        struct reg_stat *r = rs->pdata[i];
        char nb[32];
        if (shown >= max_regs && !r->bad) {
            hidden++;
            continue;
        }
        shown++;
        printf("  0x%03" PRIx32 " %-14s %9" PRIu64 " %9" PRIu64 " %9" PRIu64 " %9" PRIu64 "  %s\n",
               r->off, witness_reg_name(r->off, nb, sizeof(nb)), r->host[0], r->served[0],
               r->host[1], r->served[1], r->bad ? "DIFFERS" : "equal");
    }
    if (hidden) {
        printf("  (%u more registers, all equal; --registers N shows more)\n", hidden);
    }
    printf("matched: %" PRIu64 " records (%" PRIu64 " of them joined from the device's pieces)\n",
           c->matched, c->joined);
    if (c->value_bad) {
        printf("values: %" PRIu64 " records with a value the device did not see\n", c->value_bad);
    } else {
        printf("values: every recorded value is the one the device saw\n");
    }
    printf("missing from the host trace: %" PRIu64 "; not served by the device: %" PRIu64 "\n",
           c->missing, c->extra);
    if (c->order_bad) {
        printf("per-vCPU order: %" PRIu64
               " records reached the device before their vCPU's previous one\n",
               c->order_bad);
    } else {
        printf("per-vCPU order: kept (each vCPU's records in the order the device served "
               "them)\n");
    }
    printf("global order: %" PRIu64 " records out of the device's order%s\n", c->global_bad,
           c->global_bad ? "" : " (the trace's order is the device's)");
    printf("lost: %" PRIu64 " events (LOST records)\n", c->lost);
    if (c->rejected || c->other_bar) {
        printf("not compared: %" PRIu64 " records the device refused (rejected=1), %" PRIu64
               " of other BARs\n",
               c->rejected, c->other_bar);
    }
}

/* The device to check: --device, else the first PCIDEV 1234:4d4d with a dev= name. */
static bool pick_device(struct check *c, const struct mmiotrace_record *rec)
{
    if (c->dev || rec->type != MMIOTRACE_PCIDEV || !(rec->ext & MMIOTRACE_EXT_DEV) ||
        rec->pcidev.vendor != TESTDEV_VENDOR || rec->pcidev.device != TESTDEV_DEVICE) {
        return false;
    }
    c->dev = g_strndup(rec->dev, rec->dev_len);
    return true;
}

/* The options (file scope: the option table points into it). */
static struct {
    char *device;
    gint window, show, registers;
} opt;

static const GOptionEntry entries[] = {
    {"device", 'd', 0, G_OPTION_ARG_STRING, &opt.device,
     "The host trace's device (its dev= name; default: the one whose PCIDEV is the test "
     "device, 1234:4d4d)",
     "NAME"},
    {"window", 'w', 0, G_OPTION_ARG_INT, &opt.window,
     "How far (in accesses) a record may be from its place in the device's order and "
     "still match (default 4096)",
     "N"},
    {"show", 'n', 0, G_OPTION_ARG_INT, &opt.show, "Show the first N discrepancies (default 10)",
     "N"},
    {"registers", 'r', 0, G_OPTION_ARG_INT, &opt.registers,
     "Rows of the per-register table (default 24; registers that differ are always shown)", "N"},
    {NULL},
};

/* Parse argv into opt: 0, or 2 having said why. */
static int parse_args(int *argc, char ***argv)
{
    opt.window = 4096;
    opt.show = 10;
    opt.registers = 24;
    g_autoptr(GOptionContext) ctx = g_option_context_new("HOST_TRACE WITNESS_LOG");
    g_option_context_set_summary(
        ctx, "Check hvmmio's host trace of the test device (HOST_TRACE) against the log the\n"
             "device kept of every BAR0 access it served (WITNESS_LOG: hvmmio-testdev\n"
             "--witness, or hvmmio run --testdev --testdev-witness): the same accesses\n"
             "register by register, every recorded value the one written or returned, each\n"
             "vCPU's records in the order the device served them, the trace's order the\n"
             "device's, nothing lost. An access the device served in pieces (an 8-byte\n"
             "access as two 4-byte ones) matches the one record of the guest's access.\n"
             "Exit status: 0 the trace agrees with the witness, 1 it does not (or there was\n"
             "nothing to compare), 2 usage or read error. See docs/testdev.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    if (!g_option_context_parse(ctx, argc, argv, &err)) {
        fprintf(stderr, "hvmmio witness: %s (see --help)\n", err->message);
        return 2;
    }
    if (*argc != 3) {
        fprintf(stderr, "hvmmio witness: expected HOST_TRACE and WITNESS_LOG (see --help)\n");
        return 2;
    }
    if (opt.window < 1 || opt.window > (1 << 24) || opt.show < 0 || opt.registers < 0) {
        fprintf(stderr,
                "hvmmio witness: --window must be 1..16777216, --show and --registers >= 0\n");
        return 2;
    }
    if (!strcmp((*argv)[1], "-") && !strcmp((*argv)[2], "-")) {
        fprintf(stderr, "hvmmio witness: HOST_TRACE and WITNESS_LOG cannot both be '-'\n");
        return 2;
    }
    return 0;
}

/*
 * Check every host record of the device's BAR0 against the witness. *bar_facts: whether the
 * trace has R/W records with dev= and bar= at all. false on a read error (said).
 */
static bool check_host(struct check *c, struct mmiotrace_reader *r, bool *bar_facts)
{
    struct mmiotrace_record rec;
    int n;
    while ((n = mmiotrace_reader_next(r, &rec)) > 0) {
        if (pick_device(c, &rec)) {
            continue;
        }
        if (rec.type == MMIOTRACE_LOST) {
            c->lost += rec.lost.count;
            witness_discrepancy(c, "%s:%" PRIu64 ": %" PRIu64 " events lost", c->host_path,
                                mmiotrace_reader_line(r), rec.lost.count);
            continue;
        }
        if (rec.type != MMIOTRACE_READ && rec.type != MMIOTRACE_WRITE) {
            continue;
        }
        if (!(rec.ext & MMIOTRACE_EXT_DEV) || !(rec.ext & MMIOTRACE_EXT_BAR)) {
            continue; /* not an access hvmmio attributed to a device (a kernel trace line) */
        }
        *bar_facts = true;
        if (!c->dev || rec.dev_len != strlen(c->dev) || memcmp(rec.dev, c->dev, rec.dev_len)) {
            continue;
        }
        if (rec.bar != 0) {
            c->other_bar++;
            continue;
        }
        if (rec.ext & MMIOTRACE_EXT_REJECTED) {
            c->rejected++;
            continue;
        }
        if (!witness_win_fill(c)) {
            return false;
        }
        witness_check_record(c, &rec, mmiotrace_reader_line(r));
    }
    if (n < 0) {
        fprintf(stderr, "hvmmio witness: %s\n", mmiotrace_reader_error(r));
        return false;
    }
    return true;
}

/* Every access left in the window or still unread is missing from the trace. */
static bool drain_witness(struct check *c)
{
    for (;;) {
        for (guint i = c->win_head; i < c->win->len; i++) {
            struct served *s = witness_win_at(c, i);
            if (!s->matched) {
                witness_report_missing(c, s);
                witness_set_matched(c, s);
            }
        }
        g_array_set_size(c->win, 0);
        c->win_head = 0;
        struct served s;
        int wr = witness_next(c, &s);
        if (wr < 0) {
            return false;
        }
        if (wr == 0) {
            return true;
        }
        witness_reg_stat(c, s.off)->served[s.dir == 'W']++;
        g_array_append_val(c->win, s);
        c->win_unmatched++;
    }
}

/* The summary and the verdict: the exit status. */
static int verdict(struct check *c)
{
    print_summary(c, (guint)opt.registers);
    bool bad = c->extra || c->missing || c->value_bad || c->order_bad || c->global_bad || c->lost;
    if (!c->host_records && !c->w.accesses) {
        printf("RESULT: nothing to compare (no access of %s in either log)\n", c->dev);
        return 1;
    }
    if (bad) {
        printf("RESULT: the host trace DISAGREES with the device's witness log\n");
        return 1;
    }
    printf("RESULT: the host trace agrees with the device's witness log (%" PRIu64 " accesses)\n",
           c->matched);
    return 0;
}

/* Both inputs read and checked: the exit status (2 after a read error or nothing to tell). */
static int run_check(struct check *c, struct mmiotrace_reader *r)
{
    bool bar_facts = false;
    printf("hvmmio witness: %s against the device's own log %s\n", c->host_path, c->w.path);
    if (!check_host(c, r, &bar_facts)) {
        return 2;
    }
    if (!bar_facts) {
        fprintf(stderr,
                "hvmmio witness: %s has no R/W records with dev= and bar= facts (a kernel or "
                "mmiotrace-compat trace?): it cannot tell the test device's accesses\n",
                c->host_path);
        return 2;
    }
    if (!c->dev) {
        fprintf(stderr,
                "hvmmio witness: %s has no PCIDEV line of the test device (1234:4d4d) with a "
                "dev= name; name the device with --device\n",
                c->host_path);
        return 2;
    }
    if (!drain_witness(c)) {
        return 2;
    }
    return verdict(c);
}

int hvmmio_cmd_witness(int argc, char **argv)
{
    int ret = parse_args(&argc, &argv);
    if (ret) {
        return ret;
    }
    struct check c = {
        .host_path = argv[1],
        .w = {.path = argv[2]},
        .dev = g_steal_pointer(&opt.device),
        .win = g_array_new(FALSE, FALSE, sizeof(struct served)),
        .window = (size_t)opt.window,
        .regs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free),
        .vcpus = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free),
        .show = (guint)opt.show,
    };
    ret = 2;
    struct mmiotrace_reader *r = mmiotrace_reader_open(c.host_path);
    if (!r) {
        fprintf(stderr, "hvmmio witness: cannot open %s: %s\n", c.host_path, g_strerror(errno));
        goto out;
    }
    c.w.f = strcmp(c.w.path, "-") ? fopen(c.w.path, "r") : stdin;
    if (!c.w.f) {
        fprintf(stderr, "hvmmio witness: cannot open %s: %s\n", c.w.path, g_strerror(errno));
        goto out;
    }
    ret = run_check(&c, r);
out:
    if (r) {
        mmiotrace_reader_free(r);
    }
    if (c.w.f && c.w.f != stdin) {
        fclose(c.w.f);
    }
    free(c.w.buf);
    g_free(c.dev);
    g_array_free(c.win, TRUE);
    g_hash_table_destroy(c.regs);
    g_hash_table_destroy(c.vcpus);
    return ret;
}
