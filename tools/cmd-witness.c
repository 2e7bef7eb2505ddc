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
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "hvmmio.h"
#include "mmiotrace.h"
#include "testdev-regs.h"

/* One access the device served (a witness line). */
struct served {
    uint64_t seq, line;
    uint64_t value;
    uint64_t entered; /* host records matched when it entered the window */
    uint32_t off;
    uint8_t width;
    char dir; /* 'R' or 'W' */
    bool matched;
    bool ignored; /* no register decoded it */
};

/* The witness log, read a line at a time. */
struct witness {
    const char *path;
    FILE *f;
    char *buf;
    size_t cap;
    uint64_t line, last_seq, accesses, resets;
    bool eof;
};

/* Per register (BAR0 offset): host records and served accesses, by direction. */
struct reg_stat {
    uint32_t off;
    uint64_t host[2], served[2], bad; /* [0] R, [1] W; bad: discrepancies */
};

struct vcpu_stat {
    int32_t vcpu;
    uint64_t records, last_seq, order_bad;
};

struct check {
    const char *host_path;
    struct witness w;
    char *dev; /* the device checked (dev=) */
    bool dev_from_user;
    GArray *win;         /* struct served: the window, in witness order */
    guint win_head;      /* first live element of win */
    guint win_unmatched; /* unmatched accesses in win */
    size_t window;
    uint64_t host_records, matched, joined, value_bad, extra, missing, order_bad, global_bad;
    uint64_t lost, rejected, other_bar, max_seq;
    GHashTable *regs;  /* off -> struct reg_stat* */
    GHashTable *vcpus; /* vcpu + 1 -> struct vcpu_stat* */
    guint show, shown;
    bool error;
};

static const char *reg_name(uint32_t off, char *buf, size_t len)
{
    static const struct {
        uint32_t off;
        const char *name;
    } regs[] = {
        {REG_ID, "ID"},
        {REG_INVERT, "INVERT"},
        {REG_SCRATCH32, "SCRATCH32"},
        {REG_REG64, "REG64"},
        {REG_REG64 + 4, "REG64.hi"},
        {REG_COUNTER, "COUNTER"},
        {REG_DOORBELL, "DOORBELL"},
        {REG_STATUS, "STATUS"},
        {REG_IRQ_RAISE, "IRQ_RAISE"},
        {REG_IRQ_ACK, "IRQ_ACK"},
        {REG_MARKER, "MARKER"},
        {REG_RESET, "RESET"},
    };
    for (size_t i = 0; i < G_N_ELEMENTS(regs); i++) {
        if (regs[i].off == off) {
            return regs[i].name;
        }
    }
    if (off >= SCRATCH_START && off < SCRATCH_START + SCRATCH_SIZE) {
        snprintf(buf, len, "SCRATCH+0x%02x", off - SCRATCH_START);
    } else if (off >= TAIL_START && off < TAIL_START + TAIL_SIZE) {
        snprintf(buf, len, "TAIL+0x%03x", off - TAIL_START);
    } else {
        snprintf(buf, len, "-");
    }
    return buf;
}

static void discrepancy(struct check *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void discrepancy(struct check *c, const char *fmt, ...)
{
    if (c->shown++ >= c->show) {
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    fputs("  ", stdout);
    vprintf(fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
}

static struct reg_stat *reg_stat(struct check *c, uint32_t off)
{
    struct reg_stat *r = g_hash_table_lookup(c->regs, GUINT_TO_POINTER(off + 1));
    if (!r) {
        r = g_new0(struct reg_stat, 1);
        r->off = off;
        g_hash_table_insert(c->regs, GUINT_TO_POINTER(off + 1), r);
    }
    return r;
}

static struct vcpu_stat *vcpu_stat(struct check *c, int32_t vcpu)
{
    gpointer key = GINT_TO_POINTER(vcpu + 2); /* MMIOTRACE_VCPU_NONE is -1 */
    struct vcpu_stat *v = g_hash_table_lookup(c->vcpus, key);
    if (!v) {
        v = g_new0(struct vcpu_stat, 1);
        v->vcpu = vcpu;
        g_hash_table_insert(c->vcpus, key, v);
    }
    return v;
}

static void vcpu_name(int32_t vcpu, char *buf, size_t len)
{
    if (vcpu == MMIOTRACE_VCPU_NONE) {
        snprintf(buf, len, "none");
    } else {
        snprintf(buf, len, "%" PRId32, vcpu);
    }
}

/*
 * The next access of the witness log into *s: 1, 0 at its end, -1 on a malformed line
 * (said on stderr). Reset lines are counted and skipped.
 */
static int witness_next(struct check *c, struct served *s)
{
    struct witness *w = &c->w;
    for (;;) {
        ssize_t n = getline(&w->buf, &w->cap, w->f);
        if (n < 0) {
            if (ferror(w->f)) {
                fprintf(stderr, "hvmmio witness: %s: read error: %s\n", w->path, g_strerror(errno));
                return -1;
            }
            w->eof = true;
            return 0;
        }
        w->line++;
        if (n > 0 && w->buf[n - 1] == '\n') {
            w->buf[--n] = 0;
        }
        if (strlen(w->buf) != (size_t)n) {
            fprintf(stderr, "hvmmio witness: %s:%" PRIu64 ": NUL byte in the line\n", w->path,
                    w->line);
            return -1;
        }
        if (!n || w->buf[0] == '#') {
            continue;
        }
        uint64_t seq, off, value;
        unsigned bar, width;
        char dir, rest[16] = "";
        int used = 0;
        if (sscanf(w->buf, "%" SCNu64 " reset%n", &seq, &used) == 1 && used == n) {
            *s = (struct served){.seq = seq, .line = w->line}; /* width 0: a reset */
            w->resets++;
        } else if (sscanf(w->buf, "%" SCNu64 " %u %c %u 0x%" SCNx64 " 0x%" SCNx64 " %15s", &seq,
                          &bar, &dir, &width, &off, &value, rest) < 6 ||
                   (dir != 'R' && dir != 'W') || bar != 0 ||
                   (width != 1 && width != 2 && width != 4 && width != 8) ||
                   off + width > BAR0_SIZE || (*rest && strcmp(rest, "ignored"))) {
            fprintf(stderr,
                    "hvmmio witness: %s:%" PRIu64 ": not a witness line (SEQ 0 R|W WIDTH "
                    "0xOFFSET 0xVALUE [ignored], or SEQ reset): '%.80s'\n",
                    w->path, w->line, w->buf);
            return -1;
        } else {
            *s = (struct served){.seq = seq,
                                 .line = w->line,
                                 .value = value,
                                 .off = (uint32_t)off,
                                 .width = (uint8_t)width,
                                 .dir = dir,
                                 .ignored = *rest != 0};
        }
        if (seq != w->last_seq + 1) {
            fprintf(stderr,
                    "hvmmio witness: %s:%" PRIu64 ": sequence number %" PRIu64 " follows %" PRIu64
                    " (the log is incomplete or not a witness log)\n",
                    w->path, w->line, seq, w->last_seq);
            return -1;
        }
        w->last_seq = seq;
        if (!s->width) {
            continue; /* a reset */
        }
        w->accesses++;
        return 1;
    }
}

static struct served *win_at(struct check *c, guint i)
{
    return &g_array_index(c->win, struct served, i);
}

static void set_matched(struct check *c, struct served *s)
{
    s->matched = true;
    c->win_unmatched--;
}

/* Drop matched accesses from the window's head, and compact the array now and then. */
static void win_trim(struct check *c)
{
    while (c->win_head < c->win->len && win_at(c, c->win_head)->matched) {
        c->win_head++;
    }
    if (c->win_head > 4096 && c->win_head * 2 > c->win->len) {
        g_array_remove_range(c->win, 0, c->win_head);
        c->win_head = 0;
    }
}

static void report_missing(struct check *c, struct served *s)
{
    char nb[32];
    c->missing++;
    reg_stat(c, s->off)->bad++;
    discrepancy(c,
                "%s:%" PRIu64 ": served access #%" PRIu64 " %c %u 0x%03" PRIx32 " (%s) 0x%" PRIx64
                " is not in the host trace",
                c->w.path, s->line, s->seq, s->dir, s->width, s->off,
                reg_name(s->off, nb, sizeof(nb)), s->value);
}

/*
 * Keep --window unmatched accesses in the window; an access that has stayed unmatched while
 * --window host records were matched after it entered is missing from the host trace.
 */
static bool win_fill(struct check *c)
{
    win_trim(c);
    while (c->win_head < c->win->len) {
        struct served *s = win_at(c, c->win_head);
        if (c->host_records - s->entered <= c->window) {
            break;
        }
        report_missing(c, s);
        set_matched(c, s);
        win_trim(c);
    }
    while (c->win_unmatched < c->window && !c->w.eof) {
        struct served s;
        int r = witness_next(c, &s);
        if (r < 0) {
            return false;
        }
        if (r == 0) {
            break;
        }
        s.entered = c->host_records;
        reg_stat(c, s.off)->served[s.dir == 'W']++;
        g_array_append_val(c->win, s);
        c->win_unmatched++;
    }
    return true;
}

/*
 * Starting at window index i, the run of consecutive served pieces that makes one access of
 * width bytes at off: returns the pieces' count (0: none) and their value in *value.
 */
static guint pieces(struct check *c, guint i, char dir, uint32_t off, unsigned width,
                    uint64_t *value)
{
    unsigned got = 0;
    uint64_t v = 0, seq = 0;
    guint n = 0;
    for (; i < c->win->len && got < width; i++, n++) {
        struct served *s = win_at(c, i);
        if (s->matched || s->dir != dir || s->off != off + got || got + s->width > width ||
            (n && s->seq != seq + 1)) {
            return 0;
        }
        v |= s->width < 8 ? (s->value & ((1ull << (8 * s->width)) - 1)) << (8 * got) : s->value;
        got += s->width;
        seq = s->seq;
    }
    if (got != width) {
        return 0;
    }
    *value = v;
    return n;
}

/* One host R/W record of the device's BAR0. */
static void check_record(struct check *c, const struct mmiotrace_record *rec, uint64_t line)
{
    char dir = rec->type == MMIOTRACE_READ ? 'R' : 'W';
    uint32_t off = (uint32_t)rec->bar_off;
    unsigned width = rec->rw.width;
    uint64_t value = width < 8 ? rec->rw.value & ((1ull << (8 * width)) - 1) : rec->rw.value;
    int32_t vcpu = rec->ext & MMIOTRACE_EXT_VCPU ? rec->vcpu : MMIOTRACE_VCPU_NONE;
    struct vcpu_stat *vs = vcpu_stat(c, vcpu);
    struct reg_stat *rs = reg_stat(c, off);
    char nb[32], vb[16];

    c->host_records++;
    vs->records++;
    rs->host[dir == 'W']++;
    vcpu_name(vcpu, vb, sizeof(vb));

    /* the first exact match in the window, else the first that differs only in value */
    guint found = 0, near = 0, found_n = 0, near_n = 0;
    uint64_t near_value = 0;
    for (guint i = c->win_head; i < c->win->len && !found_n; i++) {
        uint64_t v;
        guint n = pieces(c, i, dir, off, width, &v);
        if (n && v == value) {
            found = i;
            found_n = n;
        } else if (n && !near_n) {
            near = i;
            near_n = n;
            near_value = v;
        }
    }
    if (!found_n && !near_n) {
        c->extra++;
        rs->bad++;
        discrepancy(c,
                    "%s:%" PRIu64 ": %c %u 0x%03" PRIx32 " (%s) 0x%" PRIx64 " vcpu=%s: the device "
                    "served no such access (within --window %zu of its place)",
                    c->host_path, line, dir, width, off, reg_name(off, nb, sizeof(nb)), value, vb,
                    c->window);
        return;
    }
    if (!found_n) {
        found = near;
        found_n = near_n;
        c->value_bad++;
        rs->bad++;
        struct served *s = win_at(c, found);
        discrepancy(c,
                    "%s:%" PRIu64 ": %c %u 0x%03" PRIx32 " (%s) vcpu=%s recorded 0x%" PRIx64
                    ", but the device %s 0x%" PRIx64 " (%s:%" PRIu64 ", access #%" PRIu64 ")",
                    c->host_path, line, dir, width, off, reg_name(off, nb, sizeof(nb)), vb, value,
                    dir == 'R' ? "returned" : "was written", near_value, c->w.path, s->line,
                    s->seq);
    } else {
        c->matched++;
    }
    struct served *first = win_at(c, found);
    struct served *last = win_at(c, found + found_n - 1);
    if (found_n > 1) {
        c->joined++;
    }
    for (guint i = 0; i < found_n; i++) {
        set_matched(c, win_at(c, found + i));
    }
    if (first->seq < vs->last_seq) {
        vs->order_bad++;
        c->order_bad++;
        discrepancy(c,
                    "%s:%" PRIu64 ": vcpu=%s's %c 0x%03" PRIx32
                    " reached the device (access #%" PRIu64
                    ") before the vCPU's previous record (access #%" PRIu64 "): program order lost",
                    c->host_path, line, vb, dir, off, first->seq, vs->last_seq);
    }
    vs->last_seq = last->seq;
    if (first->seq < c->max_seq) {
        c->global_bad++;
    }
    c->max_seq = MAX(c->max_seq, last->seq);
}

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

/* The table's values, sorted (GLib 2.74 has no g_hash_table_get_values_as_ptr_array). */
static GPtrArray *sorted_values(GHashTable *t, GCompareFunc cmp)
{
    GPtrArray *a = g_ptr_array_sized_new(g_hash_table_size(t));
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(a, v);
    }
    g_ptr_array_sort(a, cmp);
    return a;
}

static void print_summary(struct check *c, guint max_regs)
{
    if (c->shown > c->show) {
        printf("  ... %u more discrepancies (--show)\n", c->shown - c->show);
    }
    printf("device %s, BAR0: %" PRIu64 " host records, %" PRIu64 " accesses served (%" PRIu64
           " device resets)\n",
           c->dev, c->host_records, c->w.accesses, c->w.resets);

    g_autoptr(GPtrArray) vs = sorted_values(c->vcpus, cmp_vcpu);
    printf("records per vCPU:");
    for (guint i = 0; i < vs->len; i++) {
        struct vcpu_stat *v = vs->pdata[i];
        char vb[16];
        vcpu_name(v->vcpu, vb, sizeof(vb));
        printf(" vcpu=%s %" PRIu64 "%s", vb, v->records, i + 1 < vs->len ? "," : "\n");
    }
    if (!vs->len) {
        printf(" none\n");
    }

    g_autoptr(GPtrArray) rs = sorted_values(c->regs, cmp_reg);
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
               r->off, reg_name(r->off, nb, sizeof(nb)), r->host[0], r->served[0], r->host[1],
               r->served[1], r->bad ? "DIFFERS" : "equal");
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

int hvmmio_cmd_witness(int argc, char **argv)
{
    g_autofree char *device = NULL;
    gint window = 4096, show = 10, registers = 24;
    GOptionEntry entries[] = {
        {"device", 'd', 0, G_OPTION_ARG_STRING, &device,
         "The host trace's device (its dev= name; default: the one whose PCIDEV is the test "
         "device, 1234:4d4d)",
         "NAME"},
        {"window", 'w', 0, G_OPTION_ARG_INT, &window,
         "How far (in accesses) a record may be from its place in the device's order and "
         "still match (default 4096)",
         "N"},
        {"show", 'n', 0, G_OPTION_ARG_INT, &show, "Show the first N discrepancies (default 10)",
         "N"},
        {"registers", 'r', 0, G_OPTION_ARG_INT, &registers,
         "Rows of the per-register table (default 24; registers that differ are always shown)",
         "N"},
        {NULL},
    };
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
    if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
        fprintf(stderr, "hvmmio witness: %s (see --help)\n", err->message);
        return 2;
    }
    if (argc != 3) {
        fprintf(stderr, "hvmmio witness: expected HOST_TRACE and WITNESS_LOG (see --help)\n");
        return 2;
    }
    if (window < 1 || window > (1 << 24) || show < 0 || registers < 0) {
        fprintf(stderr,
                "hvmmio witness: --window must be 1..16777216, --show and --registers >= 0\n");
        return 2;
    }
    if (!strcmp(argv[1], "-") && !strcmp(argv[2], "-")) {
        fprintf(stderr, "hvmmio witness: HOST_TRACE and WITNESS_LOG cannot both be '-'\n");
        return 2;
    }

    struct check c = {
        .host_path = argv[1],
        .w = {.path = argv[2]},
        .dev = g_steal_pointer(&device),
        .win = g_array_new(FALSE, FALSE, sizeof(struct served)),
        .window = (size_t)window,
        .regs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free),
        .vcpus = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, g_free),
        .show = (guint)show,
    };
    int ret = 2;
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
    printf("hvmmio witness: %s against the device's own log %s\n", c.host_path, c.w.path);
    struct mmiotrace_record rec;
    int n;
    bool bar_facts = false;
    while ((n = mmiotrace_reader_next(r, &rec)) > 0) {
        if (pick_device(&c, &rec)) {
            continue;
        }
        if (rec.type == MMIOTRACE_LOST) {
            c.lost += rec.lost.count;
            discrepancy(&c, "%s:%" PRIu64 ": %" PRIu64 " events lost", c.host_path,
                        mmiotrace_reader_line(r), rec.lost.count);
            continue;
        }
        if (rec.type != MMIOTRACE_READ && rec.type != MMIOTRACE_WRITE) {
            continue;
        }
        if (!(rec.ext & MMIOTRACE_EXT_DEV) || !(rec.ext & MMIOTRACE_EXT_BAR)) {
            continue; /* not an access hvmmio attributed to a device (a kernel trace line) */
        }
        bar_facts = true;
        if (!c.dev || rec.dev_len != strlen(c.dev) || memcmp(rec.dev, c.dev, rec.dev_len)) {
            continue;
        }
        if (rec.bar != 0) {
            c.other_bar++;
            continue;
        }
        if (rec.ext & MMIOTRACE_EXT_REJECTED) {
            c.rejected++;
            continue;
        }
        if (!win_fill(&c)) {
            goto out;
        }
        check_record(&c, &rec, mmiotrace_reader_line(r));
    }
    if (n < 0) {
        fprintf(stderr, "hvmmio witness: %s\n", mmiotrace_reader_error(r));
        goto out;
    }
    if (!bar_facts) {
        fprintf(stderr,
                "hvmmio witness: %s has no R/W records with dev= and bar= facts (a kernel or "
                "mmiotrace-compat trace?): it cannot tell the test device's accesses\n",
                c.host_path);
        goto out;
    }
    if (!c.dev) {
        fprintf(stderr,
                "hvmmio witness: %s has no PCIDEV line of the test device (1234:4d4d) with a "
                "dev= name; name the device with --device\n",
                c.host_path);
        goto out;
    }
    /* every access left in the window or still unread is missing from the trace */
    for (;;) {
        for (guint i = c.win_head; i < c.win->len; i++) {
            struct served *s = win_at(&c, i);
            if (!s->matched) {
                report_missing(&c, s);
                set_matched(&c, s);
            }
        }
        g_array_set_size(c.win, 0);
        c.win_head = 0;
        struct served s;
        int wr = witness_next(&c, &s);
        if (wr < 0) {
            goto out;
        }
        if (wr == 0) {
            break;
        }
        reg_stat(&c, s.off)->served[s.dir == 'W']++;
        g_array_append_val(c.win, s);
        c.win_unmatched++;
    }

    print_summary(&c, (guint)registers);
    bool bad = c.extra || c.missing || c.value_bad || c.order_bad || c.global_bad || c.lost;
    if (!c.host_records && !c.w.accesses) {
        printf("RESULT: nothing to compare (no access of %s in either log)\n", c.dev);
        ret = 1;
    } else if (bad) {
        printf("RESULT: the host trace DISAGREES with the device's witness log\n");
        ret = 1;
    } else {
        printf("RESULT: the host trace agrees with the device's witness log (%" PRIu64
               " accesses)\n",
               c.matched);
        ret = 0;
    }
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
