/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare: the discrepancies (each with its records and their context in both logs)
 * and the final report, as text or JSON (docs/compare.md).
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

#include "compare.h"

const char *const cmp_dkind_text[D_COUNT] = {
    "value mismatch", "width mismatch", "direction mismatch",
    "out of order",   "guest-only",     "host-only inside a guest-traced mapping",
};
const char *const cmp_dkind_id[D_COUNT] = {
    "value_mismatch", "width_mismatch", "direction_mismatch",
    "out_of_order",   "guest_only",     "host_only_traced",
};

void cmp_format_record(struct side *s, const struct item *it, char *buf, size_t size)
{
    static char line[MMIOTRACE_FORMAT_MAX];
    int n = mmiotrace_format(line, sizeof(line), &it->rec, MMIOTRACE_FMT_KERNEL);

    if (n <= 0) {
        snprintf(buf, size, "%s record", mmiotrace_type_name(it->rec.type));
        return;
    }
    while (n > 0 && line[n - 1] == '\n') {
        line[--n] = '\0';
    }
    if (by_qemu(&it->rec)) {
        snprintf(buf, size, "%.400s vcpu=none", line);
    } else {
        snprintf(buf, size, "%.400s", line);
    }
    cmp_regs_append(s, it, buf, size);
}

static char *context_text(struct cmp *c, struct side *s, uint64_t center, bool mark)
{
    GString *out = g_string_new(NULL);
    uint64_t keep = s->pos > HIST ? s->pos - HIST : 0;
    uint64_t from = center > c->context ? center - c->context : 0;
    char rec[CMP_RECORD_MAX];

    if (from < keep) {
        from = keep;
    }
    if (s->tail > (s->mask + 1) && from < s->tail - (s->mask + 1)) {
        from = s->tail - (s->mask + 1);
    }
    for (uint64_t i = from; i <= center + c->context; i++) {
        if (cmp_side_fill(c, s, i) != 1) {
            if (i == center) {
                g_string_append_printf(out, "  %s %10s  (end of %s)\n", mark ? ">" : " ", "",
                                       s->eof ? "file" : "look-ahead window");
            }
            break;
        }
        struct item *it = at(s, i);
        cmp_format_record(s, it, rec, sizeof(rec));
        g_string_append_printf(out, "  %s %10" PRIu64 "  %s\n", mark && i == center ? ">" : " ",
                               it->line, rec);
    }
    return g_string_free(out, FALSE);
}

/* Record a discrepancy; gi/hi are absolute indices or UINT64_MAX (context at the position). */
void cmp_report(struct cmp *c, enum dkind kind, uint64_t gi, uint64_t hi, const char *note)
{
    char buf[CMP_RECORD_MAX];

    if (c->ndisc >= c->max_disc) {
        c->stopped = true; /* --max-report: the rest is neither counted nor listed */
        return;
    }
    c->disc[kind]++;
    if (gi != UINT64_MAX) { /* --regs: the register it concerns */
        cmp_regs_count(c, &c->g, at(&c->g, gi));
    } else if (hi != UINT64_MAX) {
        cmp_regs_count(c, &c->h, at(&c->h, hi));
    }
    if (++c->ndisc >= c->max_disc) {
        c->stopped = true;
    }
    if (c->reports->len >= c->show) {
        return;
    }
    struct report *r = g_new0(struct report, 1);
    r->kind = kind;
    if (gi != UINT64_MAX) {
        cmp_format_record(&c->g, at(&c->g, gi), buf, sizeof(buf));
        r->grec = g_strdup(buf);
        r->gline = at(&c->g, gi)->line;
    }
    if (hi != UINT64_MAX) {
        cmp_format_record(&c->h, at(&c->h, hi), buf, sizeof(buf));
        r->hrec = g_strdup(buf);
        r->hline = at(&c->h, hi)->line;
    }
    r->note = g_strdup(note);
    r->gctx = context_text(c, &c->g, gi != UINT64_MAX ? gi : c->g.pos, gi != UINT64_MAX);
    r->hctx = context_text(c, &c->h, hi != UINT64_MAX ? hi : c->h.pos, hi != UINT64_MAX);
    g_ptr_array_add(c->reports, r);
}

void cmp_report_free(gpointer p)
{
    struct report *r = p;
    g_free(r->grec);
    g_free(r->hrec);
    g_free(r->note);
    g_free(r->gctx);
    g_free(r->hctx);
    g_free(r);
}

/* ---- Output ---- */

uint64_t cmp_guest_compared(const struct cmp *c)
{
    return c->g.n_rw + c->g.n_unknown - c->out_rw - c->out_unknown;
}

bool cmp_failure(const struct cmp *c, char *buf, size_t size)
{
    uint64_t out = c->out_rw + c->out_unknown;

    if (c->ndisc) {
        snprintf(buf, size, "%" PRIu64 " discrepanc%s between the guest and host logs%s", c->ndisc,
                 c->ndisc == 1 ? "y" : "ies",
                 c->reports->len ? " (the first are listed above)" : "");
    } else if (!c->g.n_rw && !c->g.n_unknown) {
        snprintf(buf, size,
                 "the guest log %s has no R/W or UNKNOWN record: nothing was compared (was the "
                 "guest's mmiotrace on while the driver ran?)",
                 c->g.path);
    } else if (!cmp_guest_compared(c)) {
        snprintf(buf, size,
                 "every guest access is outside the host-traced devices: nothing was compared");
    } else if (c->strict_scope && out) {
        snprintf(buf, size,
                 "%" PRIu64 " guest access%s outside the host-traced devices "
                 "(--strict-scope)",
                 out, out == 1 ? "" : "es");
    } else {
        return false;
    }
    return true;
}

static void print_discrepancies(struct cmp *c)
{
    struct side *g = &c->g, *h = &c->h;

    for (guint i = 0; i < c->reports->len; i++) {
        struct report *r = c->reports->pdata[i];
        printf("\n#%u %s", i + 1, cmp_dkind_text[r->kind]);
        if (r->gline) {
            printf(" at guest %s:%" PRIu64, g->path, r->gline);
        }
        if (r->hline) {
            printf("%s host %s:%" PRIu64, r->gline ? " /" : " at", h->path, r->hline);
        }
        printf("\n  %s\n", r->note);
        if (r->grec) {
            printf("  guest %s:%" PRIu64 ": %s\n", g->path, r->gline, r->grec);
        }
        if (r->hrec) {
            printf("  host  %s:%" PRIu64 ": %s\n", h->path, r->hline, r->hrec);
        }
        printf("  guest log %s:\n%s", r->gline ? "around it" : "at this point", r->gctx);
        printf("  host log %s:\n%s", r->hline ? "around it" : "at this point", r->hctx);
    }
    if (c->ndisc > c->reports->len) {
        printf("\n(%" PRIu64 " more discrepancies not shown; see --show)\n",
               c->ndisc - c->reports->len);
    }
    if (c->reports->len) {
        printf("\n");
    }
}

/* Guest accesses outside the host-traced devices, by range (at most `max` ranges listed). */
static void print_outside(const struct cmp *c, unsigned max)
{
    printf("  %-24s %8" PRIu64 " R/W, %" PRIu64 " UNKNOWN", "outside host devices", c->out_rw,
           c->out_unknown);
    if (!c->out_rw && !c->out_unknown) {
        printf("%s\n", c->scope->len ? "" : " (the host trace names no device: all compared)");
        return;
    }
    uint64_t nranges = c->outside->len + c->out_other_ranges;
    printf(" in %" PRIu64 " range%s, not compared%s\n", nranges, nranges == 1 ? "" : "s",
           c->strict_scope ? " (--strict-scope: a failure)" : "");
    for (guint i = 0; i < c->outside->len && i < max; i++) {
        const struct outside *o = &g_array_index(c->outside, struct outside, i);
        printf("    0x%" PRIx64 "-0x%" PRIx64 "  %" PRIu64 " R/W, %" PRIu64 " UNKNOWN\n", o->r.lo,
               o->r.lo + o->r.len - 1, o->rw, o->unknown);
    }
    if (nranges > max) {
        printf("    (%" PRIu64 " more ranges)\n", nranges - max);
    }
}

/* --regs: the registers of the discrepancies, the most first (at most 10 named). */
static void print_registers(const struct cmp *c)
{
    g_autoptr(GPtrArray) names = cmp_regs_ranked(c);
    if (!names->len) {
        return;
    }
    printf("  %-24s ", "unexplained by register");
    for (guint i = 0; i < names->len && i < 10; i++) {
        printf("%s%s %u", i ? ", " : "", (char *)names->pdata[i],
               GPOINTER_TO_UINT(g_hash_table_lookup(c->disc_regs, names->pdata[i])));
    }
    printf("%s\n", names->len > 10 ? ", ..." : "");
}

static void print_counts(struct cmp *c)
{
    uint64_t explained = c->hcls[HC_OFF] + c->hcls[HC_OUTSIDE] + c->hcls[HC_QEMU];
    uint64_t grw = c->g.n_rw - c->out_rw, gunk = c->g.n_unknown - c->out_unknown;

    printf("  %-24s %8" PRIu64 " / %-8" PRIu64 " %5.1f%%\n", "guest R/W matched", c->g_rw_matched,
           grw, grw ? 100.0 * c->g_rw_matched / grw : 0.0);
    printf("  %-24s %8" PRIu64 " / %-8" PRIu64, "guest UNKNOWN matched", c->g_unk_matched, gunk);
    if (c->hcls[HC_RUN] || c->g_unk_continued) {
        printf(" (to %" PRIu64 " host accesses; %" PRIu64 " continue the previous UNKNOWN's run)",
               c->hcls[HC_RUN], c->g_unk_continued);
    }
    printf("\n");
    print_outside(c, 20);
    printf("  %-24s %8" PRIu64 ": %" PRIu64 " to guest R/W, %" PRIu64 " in UNKNOWN runs\n",
           "host R/W matched", c->hcls[HC_MATCHED] + c->hcls[HC_RUN], c->hcls[HC_MATCHED],
           c->hcls[HC_RUN]);
    printf("  %-24s %8" PRIu64 ": %" PRIu64 " while the guest tracer was off, %" PRIu64
           " outside guest mappings, %" PRIu64 " by QEMU itself\n",
           "host records explained", explained, c->hcls[HC_OFF], c->hcls[HC_OUTSIDE],
           c->hcls[HC_QEMU]);
    if (c->start_hline) {
        printf("  %-24s %8" PRIu64 ": guest line %" PRIu64 " starts at host line %" PRIu64
               " (the host R/W before it: the guest tracer was off)\n",
               "host R/W before the start", c->start_off, c->start_gline, c->start_hline);
    }
    printf("  %-24s %8" PRIu64, "unexplained", c->ndisc);
    const char *sep = ": ";
    for (int k = 0; k < D_COUNT; k++) {
        if (c->disc[k]) {
            printf("%s%" PRIu64 " %s", sep, c->disc[k], cmp_dkind_text[k]);
            sep = ", ";
        }
    }
    printf("\n");
    print_registers(c);
}

void cmp_print_text(struct cmp *c)
{
    struct side *g = &c->g, *h = &c->h;
    char why[512];

    printf("hvmmio compare: guest %s (%" PRIu64 " R/W, %" PRIu64 " UNKNOWN, %" PRIu64
           " MARK) vs host %s (%" PRIu64 " R/W)\n",
           g->path, g->n_rw, g->n_unknown, g->n_mark, h->path, h->n_rw);
    print_discrepancies(c);
    print_counts(c);
    printf("  %-24s %8" PRIu64 " marker%s in both logs%s", "anchors", c->anchors_used,
           c->anchors_used == 1 ? "" : "s",
           g->mark_anchor ? "" : " (not used: --no-anchors, or an input is not a regular file)");
    if (c->gaps) {
        printf("; %" PRIu64 " gap%s in the guest log (lost events or tracer restart)", c->gaps,
               c->gaps == 1 ? "" : "s");
    }
    printf("\n");
    if (c->stopped && !c->error) {
        printf("  comparison STOPPED after %" PRIu64 " discrepancies (--max-report) at "
               "guest line %" PRIu64 ", host line %" PRIu64 "\n",
               c->ndisc, mmiotrace_reader_line(g->r), mmiotrace_reader_line(h->r));
    }
    if (!cmp_failure(c, why, sizeof(why))) {
        printf("RESULT: PASS — every guest access is in the host trace with the same address, "
               "width and value\n");
    } else {
        printf("RESULT: FAIL — %s\n", why);
    }
}

static json_object *jrec(const char *file, uint64_t line, const char *rec)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "file", json_object_new_string(file));
    json_object_object_add(o, "line", json_object_new_uint64(line));
    json_object_object_add(o, "record", json_object_new_string(rec));
    return o;
}

static json_object *jlines(const char *text)
{
    json_object *a = json_object_new_array();
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    for (int i = 0; lines[i]; i++) {
        if (*lines[i]) {
            json_object_array_add(a, json_object_new_string(lines[i]));
        }
    }
    return a;
}

static json_object *json_side(struct side *s)
{
    json_object *f = json_object_new_object();

    json_object_object_add(f, "file", json_object_new_string(s->path));
    json_object_object_add(f, "rw", json_object_new_uint64(s->n_rw));
    json_object_object_add(f, "unknown", json_object_new_uint64(s->n_unknown));
    json_object_object_add(f, "mark", json_object_new_uint64(s->n_mark));
    json_object_object_add(f, "map", json_object_new_uint64(s->n_map));
    json_object_object_add(f, "unmap", json_object_new_uint64(s->n_unmap));
    json_object_object_add(f, "lost", json_object_new_uint64(s->n_lost));
    json_object_object_add(f, "malformed_lines_skipped",
                           json_object_new_uint64(mmiotrace_reader_skipped(s->r)));
    return f;
}

static json_object *json_hex(uint64_t v)
{
    char buf[24];
    snprintf(buf, sizeof(buf), "0x%" PRIx64, v);
    return json_object_new_string(buf);
}

static json_object *json_outside(const struct cmp *c)
{
    json_object *o = json_object_new_object();
    json_object *list = json_object_new_array();

    json_object_object_add(o, "rw", json_object_new_uint64(c->out_rw));
    json_object_object_add(o, "unknown", json_object_new_uint64(c->out_unknown));
    for (guint i = 0; i < c->outside->len; i++) {
        const struct outside *e = &g_array_index(c->outside, struct outside, i);
        json_object *r = json_object_new_object();
        json_object_object_add(r, "first", json_hex(e->r.lo));
        json_object_object_add(r, "last", json_hex(e->r.lo + e->r.len - 1));
        json_object_object_add(r, "rw", json_object_new_uint64(e->rw));
        json_object_object_add(r, "unknown", json_object_new_uint64(e->unknown));
        json_object_array_add(list, r);
    }
    json_object_object_add(o, "ranges", list);
    json_object_object_add(o, "ranges_not_listed", json_object_new_uint64(c->out_other_ranges));
    json_object_object_add(o, "host_devices_known", json_object_new_boolean(c->scope->len > 0));
    return o;
}

static json_object *json_host_classes(const struct cmp *c)
{
    json_object *hc = json_object_new_object();

    json_object_object_add(hc, "matched", json_object_new_uint64(c->hcls[HC_MATCHED]));
    json_object_object_add(hc, "unknown_run", json_object_new_uint64(c->hcls[HC_RUN]));
    json_object_object_add(hc, "tracer_off", json_object_new_uint64(c->hcls[HC_OFF]));
    json_object_object_add(hc, "outside_guest_mappings",
                           json_object_new_uint64(c->hcls[HC_OUTSIDE]));
    json_object_object_add(hc, "qemu", json_object_new_uint64(c->hcls[HC_QEMU]));
    json_object_object_add(hc, "host_only_traced", json_object_new_uint64(c->hcls[HC_HOST_ONLY]));
    json_object_object_add(hc, "mismatched", json_object_new_uint64(c->hcls[HC_PAIRED]));
    return hc;
}

static json_object *json_reports(struct cmp *c)
{
    json_object *list = json_object_new_array();

    for (guint i = 0; i < c->reports->len; i++) {
        struct report *r = c->reports->pdata[i];
        json_object *e = json_object_new_object();
        json_object_object_add(e, "kind", json_object_new_string(cmp_dkind_id[r->kind]));
        json_object_object_add(e, "note", json_object_new_string(r->note));
        if (r->grec) {
            json_object_object_add(e, "guest", jrec(c->g.path, r->gline, r->grec));
        }
        if (r->hrec) {
            json_object_object_add(e, "host", jrec(c->h.path, r->hline, r->hrec));
        }
        json_object_object_add(e, "guest_context", jlines(r->gctx));
        json_object_object_add(e, "host_context", jlines(r->hctx));
        json_object_array_add(list, e);
    }
    return list;
}

void cmp_print_json(struct cmp *c)
{
    json_object *o = json_object_new_object();
    char why[512];
    bool failed = cmp_failure(c, why, sizeof(why));

    json_object_object_add(o, "guest", json_side(&c->g));
    json_object_object_add(o, "host", json_side(&c->h));
    json_object_object_add(o, "guest_compared", json_object_new_uint64(cmp_guest_compared(c)));
    json_object_object_add(o, "guest_rw_matched", json_object_new_uint64(c->g_rw_matched));
    json_object_object_add(o, "guest_unknown_matched", json_object_new_uint64(c->g_unk_matched));
    json_object_object_add(o, "guest_unknown_continuations",
                           json_object_new_uint64(c->g_unk_continued));
    json_object_object_add(o, "guest_outside_host_devices", json_outside(c));
    json_object_object_add(o, "host_rw", json_host_classes(c));
    if (c->start_hline) {
        json_object *st = json_object_new_object();
        json_object_object_add(st, "guest_line", json_object_new_uint64(c->start_gline));
        json_object_object_add(st, "host_line", json_object_new_uint64(c->start_hline));
        json_object_object_add(st, "host_rw_before", json_object_new_uint64(c->start_off));
        json_object_object_add(o, "start", st);
    }
    json_object_object_add(o, "anchors", json_object_new_uint64(c->anchors_used));
    json_object_object_add(o, "guest_gaps", json_object_new_uint64(c->gaps));
    json_object *d = json_object_new_object();
    for (int k = 0; k < D_COUNT; k++) {
        json_object_object_add(d, cmp_dkind_id[k], json_object_new_uint64(c->disc[k]));
    }
    json_object_object_add(o, "discrepancies", d);
    if (c->disc_regs) {
        g_autoptr(GPtrArray) names = cmp_regs_ranked(c);
        json_object *regs = json_object_new_object();
        for (guint i = 0; i < names->len; i++) {
            json_object_object_add(regs, names->pdata[i],
                                   json_object_new_uint64(GPOINTER_TO_UINT(
                                       g_hash_table_lookup(c->disc_regs, names->pdata[i]))));
        }
        json_object_object_add(o, "unexplained_by_register", regs);
    }
    json_object_object_add(o, "unexplained", json_object_new_uint64(c->ndisc));
    json_object_object_add(o, "first_discrepancies", json_reports(c));
    json_object_object_add(o, "stopped", json_object_new_boolean(c->stopped && !c->error));
    json_object_object_add(o, "result", json_object_new_string(failed ? "FAIL" : "PASS"));
    if (failed) {
        json_object_object_add(o, "failure", json_object_new_string(why));
    }
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}
