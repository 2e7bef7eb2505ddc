/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio witness: the check itself. The device's witness log is read a line at a time into a
 * window of served accesses; each host record is matched in the window against one served
 * access or a run of consecutive pieces that cover it, by direction, offset, width and
 * value, and the per-register, per-vCPU and order counters are kept (see cmd-witness.c).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "testdev-regs.h"
#include "witness.h"

const char *witness_reg_name(uint32_t off, char *buf, size_t len)
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

void witness_discrepancy(struct check *c, const char *fmt, ...)
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

struct reg_stat *witness_reg_stat(struct check *c, uint32_t off)
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

void witness_vcpu_name(int32_t vcpu, char *buf, size_t len)
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
int witness_next(struct check *c, struct served *s)
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

struct served *witness_win_at(struct check *c, guint i)
{
    return &g_array_index(c->win, struct served, i);
}

void witness_set_matched(struct check *c, struct served *s)
{
    s->matched = true;
    c->win_unmatched--;
}

/* Drop matched accesses from the window's head, and compact the array now and then. */
static void win_trim(struct check *c)
{
    while (c->win_head < c->win->len && witness_win_at(c, c->win_head)->matched) {
        c->win_head++;
    }
    if (c->win_head > 4096 && c->win_head * 2 > c->win->len) {
        g_array_remove_range(c->win, 0, c->win_head);
        c->win_head = 0;
    }
}

void witness_report_missing(struct check *c, struct served *s)
{
    char nb[32];
    c->missing++;
    witness_reg_stat(c, s->off)->bad++;
    witness_discrepancy(c,
                        "%s:%" PRIu64 ": served access #%" PRIu64 " %c %u 0x%03" PRIx32
                        " (%s) 0x%" PRIx64 " is not in the host trace",
                        c->w.path, s->line, s->seq, s->dir, s->width, s->off,
                        witness_reg_name(s->off, nb, sizeof(nb)), s->value);
}

/*
 * Keep --window unmatched accesses in the window; an access that has stayed unmatched while
 * --window host records were matched after it entered is missing from the host trace.
 */
bool witness_win_fill(struct check *c)
{
    win_trim(c);
    while (c->win_head < c->win->len) {
        struct served *s = witness_win_at(c, c->win_head);
        if (c->host_records - s->entered <= c->window) {
            break;
        }
        witness_report_missing(c, s);
        witness_set_matched(c, s);
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
        witness_reg_stat(c, s.off)->served[s.dir == 'W']++;
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
        struct served *s = witness_win_at(c, i);
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
void witness_check_record(struct check *c, const struct mmiotrace_record *rec, uint64_t line)
{
    char dir = rec->type == MMIOTRACE_READ ? 'R' : 'W';
    uint32_t off = (uint32_t)rec->bar_off;
    unsigned width = rec->rw.width;
    uint64_t value = width < 8 ? rec->rw.value & ((1ull << (8 * width)) - 1) : rec->rw.value;
    int32_t vcpu = rec->ext & MMIOTRACE_EXT_VCPU ? rec->vcpu : MMIOTRACE_VCPU_NONE;
    struct vcpu_stat *vs = vcpu_stat(c, vcpu);
    struct reg_stat *rs = witness_reg_stat(c, off);
    char nb[32], vb[16];

    c->host_records++;
    vs->records++;
    rs->host[dir == 'W']++;
    witness_vcpu_name(vcpu, vb, sizeof(vb));

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
        witness_discrepancy(c,
                            "%s:%" PRIu64 ": %c %u 0x%03" PRIx32 " (%s) 0x%" PRIx64
                            " vcpu=%s: the device "
                            "served no such access (within --window %zu of its place)",
                            c->host_path, line, dir, width, off,
                            witness_reg_name(off, nb, sizeof(nb)), value, vb, c->window);
        return;
    }
    if (!found_n) {
        found = near;
        found_n = near_n;
        c->value_bad++;
        rs->bad++;
        struct served *s = witness_win_at(c, found);
        witness_discrepancy(
            c,
            "%s:%" PRIu64 ": %c %u 0x%03" PRIx32 " (%s) vcpu=%s recorded 0x%" PRIx64
            ", but the device %s 0x%" PRIx64 " (%s:%" PRIu64 ", access #%" PRIu64 ")",
            c->host_path, line, dir, width, off, witness_reg_name(off, nb, sizeof(nb)), vb, value,
            dir == 'R' ? "returned" : "was written", near_value, c->w.path, s->line, s->seq);
    } else {
        c->matched++;
    }
    struct served *first = witness_win_at(c, found);
    struct served *last = witness_win_at(c, found + found_n - 1);
    if (found_n > 1) {
        c->joined++;
    }
    for (guint i = 0; i < found_n; i++) {
        witness_set_matched(c, witness_win_at(c, found + i));
    }
    if (first->seq < vs->last_seq) {
        vs->order_bad++;
        c->order_bad++;
        witness_discrepancy(
            c,
            "%s:%" PRIu64 ": vcpu=%s's %c 0x%03" PRIx32 " reached the device (access #%" PRIu64
            ") before the vCPU's previous record (access #%" PRIu64 "): program order lost",
            c->host_path, line, vb, dir, off, first->seq, vs->last_seq);
    }
    vs->last_seq = last->seq;
    if (first->seq < c->max_seq) {
        c->global_bad++;
    }
    c->max_seq = MAX(c->max_seq, last->seq);
}
