/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare GUEST HOST: check the guest kernel's own mmiotrace log against the host trace
 * of the same run. Every guest R/W must be in the host trace with the same direction, width,
 * address and value, in the same order; every guest UNKNOWN must match the run of host accesses
 * made by that instruction; every host access that has no guest partner must be explained
 * (the guest tracer was off, it does not trace that address, or QEMU made the access itself).
 *
 * The algorithm and its limits are described in docs/compare.md. In short: both logs are read
 * once through libmmiotrace's streaming reader into bounded rings; the walk follows the guest
 * log, matching each access with the next host access inside a guest-traced mapping; on a
 * mismatch it looks for the cheapest resynchronisation (fewest skipped records) within the
 * look-ahead window that is confirmed by the following K accesses, and reports every skipped
 * record. Markers (MARK) present in both logs are anchors that both walks must pass together.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <glib.h>
#include <json-c/json.h>

#include "hvmmio.h"
#include "mmiotrace.h"

#define HIST 8            /* records kept behind each position (context of reports) */
#define INIT_MAX_SKIP 16  /* guest accesses the first synchronisation may give up on */
#define MARKS_MAX 100000  /* markers remembered for anchoring */
#define WARN_MAX 5        /* malformed lines named per file with --skip-bad */

/* What became of a host R/W record. */
enum hclass {
    HC_PENDING = 0,
    HC_MATCHED,   /* the partner of a guest R/W */
    HC_RUN,       /* one of the accesses of a guest UNKNOWN's instruction */
    HC_OFF,       /* made while the guest tracer was off */
    HC_OUTSIDE,   /* outside every mapping the guest tracer traced at that point */
    HC_QEMU,      /* made by QEMU itself (vcpu=none) */
    HC_HOST_ONLY, /* inside a traced mapping while the tracer was on, but not in the guest log */
    HC_PAIRED,    /* the host side of a value/width/direction mismatch or a reordering */
    HC_COUNT
};

/* Kinds of discrepancies (every one is fatal). */
enum dkind { D_VALUE, D_WIDTH, D_DIR, D_ORDER, D_GUEST_ONLY, D_HOST_ONLY, D_COUNT };

static const char *const dkind_text[D_COUNT] = {
    "value mismatch",     "width mismatch", "direction mismatch",
    "out of order",       "guest-only",     "host-only inside a guest-traced mapping",
};
static const char *const dkind_id[D_COUNT] = {
    "value_mismatch", "width_mismatch", "direction_mismatch",
    "out_of_order",   "guest_only",     "host_only_traced",
};

/* One record in a ring: the record (text fields cleared, except a MARK's own copy). */
struct item {
    struct mmiotrace_record rec;
    uint64_t line;
    char *text;     /* MARK text (owned) */
    int32_t anchor; /* anchor pair number of a MARK, or -1 */
    uint8_t cls;    /* host R/W: enum hclass */
    bool gap;       /* guest: LOST, or VERSION after the first header (tracer restarted) */
};

/* One log: its reader and a ring of the records around the current position. */
struct side {
    const char *path, *role; /* role: "guest" or "host" */
    struct mmiotrace_reader *r;
    struct item *ring;
    uint64_t mask;
    uint64_t pos;  /* absolute index of the next record to process */
    uint64_t tail; /* absolute index one past the last record read */
    bool eof, header_done;
    unsigned warned;
    uint64_t nmarks;       /* MARK records read so far */
    GArray *mark_anchor;   /* int32 per MARK ordinal: anchor pair, or -1 (NULL: no anchors) */
    uint64_t n_rw, n_unknown, n_mark, n_map, n_unmap, n_lost, n_other;
};

/* A look-ahead view: absolute indices of the next accesses that take part in matching. */
enum vend { V_OPEN, V_WINDOW, V_EOF, V_ANCHOR, V_GAP };
struct view {
    uint64_t *idx;
    size_t n, limit;
    uint64_t scan; /* next absolute index to examine */
    enum vend end;
};

/* The host accesses of the last matched UNKNOWN instruction (guest continuations match it). */
struct run {
    bool valid;
    uint8_t opcode[3];
    uint64_t first, last; /* lowest and highest address accessed */
    int64_t stride;       /* constant stride, or 0 if not arithmetic */
};

struct mapping {
    int32_t id;
    uint64_t phys, len;
};

/* A reported discrepancy (only the first --show are kept). */
struct report {
    enum dkind kind;
    uint64_t gline, hline; /* 0 = none */
    char *grec, *hrec, *note;
    char *gctx, *hctx; /* context lines, '\n'-separated */
};

struct cmp {
    struct side g, h;
    size_t window;
    unsigned confirm, show, context;
    uint64_t max_disc;
    bool synced; /* the walks are known to be at corresponding positions */
    bool stopped;
    bool error;
    struct run run;
    GArray *maps; /* struct mapping: the guest's live traced mappings */
    struct view gv, hv;

    uint64_t g_rw_matched, g_unk_matched, g_unk_continued, anchors, anchors_used, gaps;
    uint64_t hcls[HC_COUNT];
    uint64_t disc[D_COUNT], ndisc;
    GPtrArray *reports; /* struct report * */
};

/* ---- Records ---- */

static inline bool is_rw(const struct mmiotrace_record *r)
{
    return r->type == MMIOTRACE_READ || r->type == MMIOTRACE_WRITE;
}

static inline bool is_access(const struct mmiotrace_record *r)
{
    return is_rw(r) || r->type == MMIOTRACE_UNKNOWN;
}

static inline uint64_t width_mask(unsigned w)
{
    return w >= 8 ? UINT64_MAX : (1ull << (8 * w)) - 1;
}

static inline uint64_t access_phys(const struct mmiotrace_record *r)
{
    return r->type == MMIOTRACE_UNKNOWN ? r->unknown.phys : r->rw.phys;
}

/* Same direction, width, address and value (reads: masked to the width, see movsx). */
static inline bool rw_equal(const struct mmiotrace_record *a, const struct mmiotrace_record *b)
{
    return a->type == b->type && a->rw.width == b->rw.width && a->rw.phys == b->rw.phys &&
           !((a->rw.value ^ b->rw.value) & width_mask(a->rw.width));
}

static inline bool host_has_pc(const struct mmiotrace_record *r)
{
    return r->rw.pc != 0 || (r->ext & MMIOTRACE_EXT_INSN);
}

static inline bool same_insn(const struct mmiotrace_record *a, const struct mmiotrace_record *b)
{
    if (a->rw.pc || b->rw.pc) {
        return a->rw.pc == b->rw.pc;
    }
    return a->insn_len == b->insn_len && !memcmp(a->insn, b->insn, a->insn_len);
}

/* x86 string instructions behind an UNKNOWN: its opcode after prefixes (66 67 f2 f3 REX). */
static int string_opcode(const uint8_t op[3])
{
    for (int i = 0; i < 3; i++) {
        uint8_t b = op[i];
        if (b == 0x66 || b == 0x67 || b == 0xf2 || b == 0xf3 || (b >= 0x40 && b <= 0x4f)) {
            continue;
        }
        switch (b) {
        case 0xa4: case 0xa5: /* movs */
        case 0xa6: case 0xa7: /* cmps */
        case 0xaa: case 0xab: /* stos */
        case 0xac: case 0xad: /* lods */
        case 0xae: case 0xaf: /* scas */
            return b;
        default:
            return 0;
        }
    }
    return 0;
}

static void format_record(const struct item *it, char *buf, size_t size)
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
    if ((it->rec.ext & MMIOTRACE_EXT_VCPU) && it->rec.vcpu == MMIOTRACE_VCPU_NONE) {
        snprintf(buf, size, "%.400s vcpu=none", line);
    } else {
        snprintf(buf, size, "%.400s", line);
    }
}

/* ---- Reading ---- */

static inline struct item *at(struct side *s, uint64_t i)
{
    return &s->ring[i & s->mask];
}

static void warn_line(void *opaque, const char *message)
{
    struct side *s = opaque;

    if (++s->warned <= WARN_MAX) {
        fprintf(stderr, "hvmmio compare: warning: %s (line skipped)\n", message);
    }
}

/*
 * Make record idx of s available: 1 = it is, 0 = end of input (or read error, c->error set),
 * -2 = not before the ring is full (idx is beyond the look-ahead window).
 */
static int side_fill(struct cmp *c, struct side *s, uint64_t idx)
{
    while (s->tail <= idx) {
        if (s->eof) {
            return 0;
        }
        uint64_t keep = s->pos > HIST ? s->pos - HIST : 0;
        if (s->tail - keep >= s->mask) {
            return -2;
        }
        struct item *it = at(s, s->tail);
        g_free(it->text);
        it->text = NULL;
        int got = mmiotrace_reader_next(s->r, &it->rec);
        if (got <= 0) {
            s->eof = true;
            if (got < 0) {
                fprintf(stderr, "hvmmio compare: %s\n", mmiotrace_reader_error(s->r));
                c->error = true;
                c->stopped = true;
            }
            return 0;
        }
        struct mmiotrace_record *rec = &it->rec;
        it->line = mmiotrace_reader_line(s->r);
        it->anchor = -1;
        it->cls = HC_PENDING;
        it->gap = false;
        rec->ext &= ~(MMIOTRACE_EXT_DEV | MMIOTRACE_EXT_ASM);
        rec->dev = rec->asm_text = NULL;
        rec->dev_len = rec->asm_len = 0;
        switch (rec->type) {
        case MMIOTRACE_READ:
        case MMIOTRACE_WRITE:
            s->n_rw++;
            break;
        case MMIOTRACE_UNKNOWN:
            s->n_unknown++;
            break;
        case MMIOTRACE_MAP:
            s->n_map++;
            break;
        case MMIOTRACE_UNMAP:
            s->n_unmap++;
            break;
        case MMIOTRACE_MARK:
            it->text = g_strndup(rec->mark.text, rec->mark.len);
            rec->mark.text = it->text;
            if (s->mark_anchor && s->nmarks < s->mark_anchor->len) {
                it->anchor = g_array_index(s->mark_anchor, int32_t, s->nmarks);
            }
            s->nmarks++;
            s->n_mark++;
            break;
        case MMIOTRACE_LOST:
            s->n_lost++;
            it->gap = true;
            break;
        case MMIOTRACE_VERSION:
            if (!s->header_done) {
                continue; /* the header itself */
            }
            it->gap = true; /* a new trace session: see docs/compare.md */
            break;
        default: /* PCIDEV, PCICFG, IRQ: not compared */
            s->n_other++;
            continue;
        }
        s->header_done = true;
        s->tail++;
    }
    return 1;
}

static bool side_open(struct side *s, const char *path, const char *role, size_t window,
                      bool skip_bad)
{
    s->path = path;
    s->role = role;
    s->r = mmiotrace_reader_open(path);
    if (!s->r) {
        fprintf(stderr, "hvmmio compare: %s: %s\n", path, strerror(errno));
        return false;
    }
    if (skip_bad) {
        mmiotrace_reader_set_policy(s->r, MMIOTRACE_ON_ERROR_SKIP, warn_line, s);
    }
    uint64_t cap = 16;
    while (cap < window + HIST + 2) {
        cap <<= 1;
    }
    s->ring = g_new0(struct item, cap);
    s->mask = cap - 1;
    return true;
}

static void side_close(struct side *s)
{
    if (s->ring) {
        for (uint64_t i = 0; i <= s->mask; i++) {
            g_free(s->ring[i].text);
        }
        g_free(s->ring);
    }
    if (s->r) {
        mmiotrace_reader_free(s->r);
    }
    if (s->mark_anchor) {
        g_array_free(s->mark_anchor, TRUE);
    }
}

/*
 * Anchors: a pre-pass over both files (regular files only) collects their MARK texts; the
 * guest's markers are paired in order with the host's first unused marker of the same text.
 */
static GPtrArray *collect_marks(const char *path, bool skip_bad, bool *ok)
{
    struct stat st;
    *ok = false;
    if (!strcmp(path, "-") || stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
        return NULL;
    }
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    if (!r) {
        return NULL;
    }
    if (skip_bad) {
        mmiotrace_reader_set_policy(r, MMIOTRACE_ON_ERROR_SKIP, NULL, NULL);
    }
    GPtrArray *marks = g_ptr_array_new_with_free_func(g_free);
    struct mmiotrace_record rec;
    int got;
    while ((got = mmiotrace_reader_next(r, &rec)) > 0) {
        if (rec.type == MMIOTRACE_MARK) {
            if (marks->len >= MARKS_MAX) {
                got = -1;
                break;
            }
            g_ptr_array_add(marks, g_strndup(rec.mark.text, rec.mark.len));
        }
    }
    mmiotrace_reader_free(r);
    if (got < 0) { /* the main pass reports read errors */
        g_ptr_array_free(marks, TRUE);
        return NULL;
    }
    *ok = true;
    return marks;
}

static void setup_anchors(struct cmp *c, bool skip_bad)
{
    bool gok, hok;
    GPtrArray *gm = collect_marks(c->g.path, skip_bad, &gok);
    GPtrArray *hm = gok ? collect_marks(c->h.path, skip_bad, &hok) : NULL;

    if (gm && hm) {
        c->g.mark_anchor = g_array_sized_new(FALSE, FALSE, sizeof(int32_t), gm->len);
        c->h.mark_anchor = g_array_sized_new(FALSE, FALSE, sizeof(int32_t), hm->len);
        int32_t none = -1;
        for (guint j = 0; j < hm->len; j++) {
            g_array_append_val(c->h.mark_anchor, none);
        }
        guint next = 0;
        for (guint i = 0; i < gm->len; i++) {
            int32_t pair = -1;
            for (guint j = next; j < hm->len; j++) {
                if (!strcmp(gm->pdata[i], hm->pdata[j])) {
                    pair = (int32_t)c->anchors++;
                    g_array_index(c->h.mark_anchor, int32_t, j) = pair;
                    next = j + 1;
                    break;
                }
            }
            g_array_append_val(c->g.mark_anchor, pair);
        }
    }
    if (gm) {
        g_ptr_array_free(gm, TRUE);
    }
    if (hm) {
        g_ptr_array_free(hm, TRUE);
    }
}

/* ---- Guest mappings ---- */

static bool in_guest_maps(struct cmp *c, uint64_t phys)
{
    for (guint i = 0; i < c->maps->len; i++) {
        struct mapping *m = &g_array_index(c->maps, struct mapping, i);
        if (phys >= m->phys && phys - m->phys < m->len) {
            return true;
        }
    }
    return false;
}

static void guest_map_record(struct cmp *c, const struct mmiotrace_record *rec)
{
    if (rec->type == MMIOTRACE_MAP) {
        struct mapping m = {rec->map.map_id, rec->map.phys, rec->map.len};
        g_array_append_val(c->maps, m);
    } else if (rec->type == MMIOTRACE_UNMAP) {
        for (guint i = 0; i < c->maps->len; i++) {
            if (g_array_index(c->maps, struct mapping, i).id == rec->unmap.map_id) {
                g_array_remove_index(c->maps, i);
                break;
            }
        }
    }
}

/* A host record that takes part in matching: a vCPU's access inside a traced mapping. */
static inline bool host_candidate(struct cmp *c, const struct item *it)
{
    return is_rw(&it->rec) && it->cls == HC_PENDING &&
           !((it->rec.ext & MMIOTRACE_EXT_VCPU) && it->rec.vcpu == MMIOTRACE_VCPU_NONE) &&
           in_guest_maps(c, it->rec.rw.phys);
}

/* ---- Reports ---- */

static char *context_text(struct cmp *c, struct side *s, uint64_t center, bool mark)
{
    GString *out = g_string_new(NULL);
    uint64_t keep = s->pos > HIST ? s->pos - HIST : 0;
    uint64_t from = center > c->context ? center - c->context : 0;
    char rec[512];

    if (from < keep) {
        from = keep;
    }
    if (s->tail > (s->mask + 1) && from < s->tail - (s->mask + 1)) {
        from = s->tail - (s->mask + 1);
    }
    for (uint64_t i = from; i <= center + c->context; i++) {
        if (side_fill(c, s, i) != 1) {
            if (i == center) {
                g_string_append_printf(out, "  %s %10s  (end of %s)\n", mark ? ">" : " ", "",
                                       s->eof ? "file" : "look-ahead window");
            }
            break;
        }
        struct item *it = at(s, i);
        format_record(it, rec, sizeof(rec));
        g_string_append_printf(out, "  %s %10" PRIu64 "  %s\n", mark && i == center ? ">" : " ",
                               it->line, rec);
    }
    return g_string_free(out, FALSE);
}

/* Record a discrepancy; gi/hi are absolute indices or UINT64_MAX (context at the position). */
static void report(struct cmp *c, enum dkind kind, uint64_t gi, uint64_t hi, const char *note)
{
    char buf[512];

    c->disc[kind]++;
    c->ndisc++;
    if (c->ndisc >= c->max_disc) {
        c->stopped = true;
    }
    if (c->reports->len >= c->show) {
        return;
    }
    struct report *r = g_new0(struct report, 1);
    r->kind = kind;
    if (gi != UINT64_MAX) {
        format_record(at(&c->g, gi), buf, sizeof(buf));
        r->grec = g_strdup(buf);
        r->gline = at(&c->g, gi)->line;
    }
    if (hi != UINT64_MAX) {
        format_record(at(&c->h, hi), buf, sizeof(buf));
        r->hrec = g_strdup(buf);
        r->hline = at(&c->h, hi)->line;
    }
    r->note = g_strdup(note);
    r->gctx = context_text(c, &c->g, gi != UINT64_MAX ? gi : c->g.pos, gi != UINT64_MAX);
    r->hctx = context_text(c, &c->h, hi != UINT64_MAX ? hi : c->h.pos, hi != UINT64_MAX);
    g_ptr_array_add(c->reports, r);
}

static void report_free(gpointer p)
{
    struct report *r = p;
    g_free(r->grec);
    g_free(r->hrec);
    g_free(r->note);
    g_free(r->gctx);
    g_free(r->hctx);
    g_free(r);
}

/* ---- Host classification ---- */

/* Pass host record idx (== h.pos): classify it if it is a R/W; free = the guest tracer is off. */
static void host_pass(struct cmp *c, bool free)
{
    struct item *it = at(&c->h, c->h.pos);

    if (is_rw(&it->rec)) {
        if (it->cls == HC_PENDING) {
            if ((it->rec.ext & MMIOTRACE_EXT_VCPU) && it->rec.vcpu == MMIOTRACE_VCPU_NONE) {
                it->cls = HC_QEMU;
            } else if (free) {
                it->cls = HC_OFF;
            } else if (!in_guest_maps(c, it->rec.rw.phys)) {
                it->cls = HC_OUTSIDE;
            } else {
                it->cls = HC_HOST_ONLY;
                report(c, D_HOST_ONLY, UINT64_MAX, c->h.pos,
                       "the host made this access through a mapping the guest tracer traced, "
                       "while it was on, but the guest log does not have it here");
            }
        }
        c->hcls[it->cls]++;
    }
    c->h.pos++;
}

/* Advance the host to its next candidate (passing others): true if h.pos is one. */
static bool host_next_candidate(struct cmp *c)
{
    for (;;) {
        if (side_fill(c, &c->h, c->h.pos) != 1) {
            return false;
        }
        struct item *it = at(&c->h, c->h.pos);
        if (it->anchor >= 0) {
            return false;
        }
        if (host_candidate(c, it)) {
            return true;
        }
        host_pass(c, false);
    }
}

/* Pass every host record up to the host side of anchor pair `anchor` (then past it). */
static void host_to_anchor(struct cmp *c, int32_t anchor)
{
    while (!c->stopped && side_fill(c, &c->h, c->h.pos) == 1) {
        struct item *it = at(&c->h, c->h.pos);
        if (it->anchor == anchor) {
            c->h.pos++;
            c->anchors_used++;
            return;
        }
        host_pass(c, !c->synced);
    }
}

/* ---- Look-ahead views ---- */

static void view_reset(struct view *v, uint64_t from)
{
    v->n = 0;
    v->scan = from;
    v->end = V_OPEN;
}

static void view_push(struct view *v, uint64_t idx)
{
    v->idx[v->n++] = idx;
    if (v->n == v->limit) {
        v->end = V_WINDOW;
    }
}

/* Guest accesses: true if gv.idx[k] exists. */
static bool gview_get(struct cmp *c, size_t k)
{
    struct view *v = &c->gv;
    while (v->n <= k && v->end == V_OPEN) {
        int f = side_fill(c, &c->g, v->scan);
        if (f != 1) {
            v->end = f == -2 ? V_WINDOW : V_EOF;
            break;
        }
        struct item *it = at(&c->g, v->scan);
        if (it->gap) {
            v->end = V_GAP;
            break;
        }
        if (it->anchor >= 0) {
            v->end = V_ANCHOR;
            break;
        }
        v->scan++;
        if (is_access(&it->rec)) {
            view_push(v, v->scan - 1);
        }
    }
    return v->n > k;
}

/* Host candidates: true if hv.idx[k] exists. */
static bool hview_get(struct cmp *c, size_t k)
{
    struct view *v = &c->hv;
    while (v->n <= k && v->end == V_OPEN) {
        int f = side_fill(c, &c->h, v->scan);
        if (f != 1) {
            v->end = f == -2 ? V_WINDOW : V_EOF;
            break;
        }
        struct item *it = at(&c->h, v->scan);
        if (it->anchor >= 0) {
            v->end = V_ANCHOR;
            break;
        }
        v->scan++;
        if (host_candidate(c, it)) {
            view_push(v, v->scan - 1);
        }
    }
    return v->n > k;
}

static inline struct item *gv_item(struct cmp *c, size_t k)
{
    return at(&c->g, c->gv.idx[k]);
}

static inline struct item *hv_item(struct cmp *c, size_t k)
{
    return at(&c->h, c->hv.idx[k]);
}

/* The guest end is free when nothing after it can be compared (end of file or a gap). */
static inline bool gend_free(const struct view *v)
{
    return v->end == V_EOF || v->end == V_GAP;
}

/* ---- Matching ---- */

/*
 * Length of the host run of the UNKNOWN instruction at guest view index gk starting at host
 * view index hk (whose address is the UNKNOWN's). With PCs: the consecutive accesses with the
 * same PC. Without: a string instruction's accesses go one way with a constant stride, and a
 * read-modify-write is a read then a write of the same address; the run stops before an access
 * that is exactly the guest's next R/W.
 */
static size_t unknown_run(struct cmp *c, size_t gk, size_t hk, struct run *run)
{
    const struct mmiotrace_record *u = &gv_item(c, gk)->rec;
    const struct mmiotrace_record *h0 = &hv_item(c, hk)->rec;
    const struct mmiotrace_record *next = gview_get(c, gk + 1) ? &gv_item(c, gk + 1)->rec : NULL;
    size_t n = 1;
    uint64_t lo = h0->rw.phys, hi = h0->rw.phys, prev = h0->rw.phys;
    int64_t stride = 0;

    if (next && !is_rw(next)) {
        next = NULL;
    }
    if (host_has_pc(h0)) {
        while (hview_get(c, hk + n) && same_insn(&hv_item(c, hk + n)->rec, h0)) {
            uint64_t p = hv_item(c, hk + n)->rec.rw.phys;
            int64_t d = (int64_t)(p - prev);
            stride = n == 1 ? d : (stride == d ? stride : 0);
            lo = p < lo ? p : lo;
            hi = p > hi ? p : hi;
            prev = p;
            n++;
        }
    } else {
        bool string = string_opcode(u->unknown.opcode) != 0;
        unsigned bytes = h0->rw.width;
        while (hview_get(c, hk + n)) {
            const struct mmiotrace_record *h = &hv_item(c, hk + n)->rec;
            if (next && rw_equal(h, next)) {
                break;
            }
            if (!string && n == 1 && h->type != h0->type && h->rw.phys == h0->rw.phys &&
                h->type == MMIOTRACE_WRITE) {
                n++; /* read-modify-write, xchg, cmpxchg */
                break;
            }
            int64_t d = (int64_t)(h->rw.phys - prev);
            if (h->type != h0->type || h->rw.width != h0->rw.width ||
                (d != h0->rw.width && d != -(int64_t)h0->rw.width) || (n > 1 && d != stride) ||
                (!string && (d < 0 || bytes + h->rw.width > 64))) {
                break;
            }
            stride = d;
            bytes += h->rw.width;
            lo = h->rw.phys < lo ? h->rw.phys : lo;
            hi = h->rw.phys > hi ? h->rw.phys : hi;
            prev = h->rw.phys;
            n++;
        }
    }
    if (run) {
        run->valid = true;
        memcpy(run->opcode, u->unknown.opcode, 3);
        run->first = lo;
        run->last = hi;
        run->stride = stride < 0 ? -stride : stride;
    }
    return n;
}

/* A guest UNKNOWN that is another iteration of the instruction of the last matched run. */
static bool unknown_continues(const struct run *run, const struct mmiotrace_record *u)
{
    uint64_t p = u->unknown.phys;
    if (!run->valid || memcmp(run->opcode, u->unknown.opcode, 3) || p < run->first ||
        p > run->last) {
        return false;
    }
    return !run->stride || (p - run->first) % (uint64_t)run->stride == 0;
}

/*
 * Does guest view access gk match at host view index hk? Returns the number of host accesses it
 * takes (0 for an UNKNOWN continuing the last run), or -1. Updates *run.
 */
static long match_step(struct cmp *c, size_t gk, size_t hk, struct run *run)
{
    const struct mmiotrace_record *g = &gv_item(c, gk)->rec;

    if (is_rw(g)) {
        if (!hview_get(c, hk) || !rw_equal(g, &hv_item(c, hk)->rec)) {
            return -1;
        }
        run->valid = false;
        return 1;
    }
    if (hview_get(c, hk)) {
        const struct mmiotrace_record *h = &hv_item(c, hk)->rec;
        if (h->rw.phys == g->unknown.phys &&
            !(g->unknown.pc && h->rw.pc && g->unknown.pc != h->rw.pc)) {
            return (long)unknown_run(c, gk, hk, run);
        }
    }
    return unknown_continues(run, g) ? 0 : -1;
}

/* Are guest gk.. and host hk.. matched for the next k accesses (or to both ends)? */
static bool confirm(struct cmp *c, size_t gk, size_t hk, unsigned k, bool strict_window)
{
    struct run run = c->run;

    for (unsigned t = 0; t < k; t++) {
        if (!gview_get(c, gk)) {
            if (gend_free(&c->gv)) {
                return true;
            }
            if (c->gv.end == V_ANCHOR) {
                return !hview_get(c, hk) && c->hv.end == V_ANCHOR;
            }
            return !strict_window;
        }
        if (!hview_get(c, hk) && c->hv.end == V_WINDOW) {
            return !strict_window;
        }
        long took = match_step(c, gk, hk, &run);
        if (took < 0) {
            return false;
        }
        gk++;
        hk += (size_t)took;
    }
    return true;
}

/*
 * The first synchronisation's confirmation: the next k guest accesses are found in order in the
 * host, each within `slack` host candidates of the previous one, with at most one missing. This
 * finds the start even when a discrepancy lies among the first accesses (the walk then reports
 * it), while a chance match of a few records before the guest log's start is not enough.
 */
static bool confirm_loose(struct cmp *c, size_t gk, size_t hk, unsigned k, size_t slack)
{
    struct run run = c->run;
    unsigned misses = 0;

    for (unsigned t = 0; t < k; t++) {
        if (!gview_get(c, gk)) {
            return c->gv.end != V_WINDOW;
        }
        long took = -1;
        size_t s;
        for (s = 0; s <= slack; s++) {
            if (!hview_get(c, hk + s)) {
                if (c->hv.end == V_WINDOW) {
                    return false;
                }
                break;
            }
            struct run r2 = run;
            took = match_step(c, gk, hk + s, &r2);
            if (took >= 0) {
                run = r2;
                break;
            }
        }
        if (took >= 0) {
            hk += s + (size_t)took;
        } else if (++misses > 1) {
            return false;
        }
        gk++;
    }
    return true;
}

/* ---- Committing a resynchronisation ---- */

static void mismatch_note(char *buf, size_t size, enum dkind kind)
{
    switch (kind) {
    case D_VALUE:
        snprintf(buf, size, "same access (direction, width, address) with a different value");
        break;
    case D_WIDTH:
        snprintf(buf, size, "same address and direction, different width");
        break;
    case D_DIR:
        snprintf(buf, size, "same address, one log reads where the other writes");
        break;
    default:
        buf[0] = '\0';
    }
}

/*
 * Skip guest view accesses [0, a) and host view candidates [0, b): report them (pairing those
 * that are the same access elsewhere: out of order; or the same address: mismatch). free: the
 * host records are while the guest tracer was off; pair_extra: host candidates after b that
 * skipped guest records may pair with (at a free guest end).
 */
static void commit_skips(struct cmp *c, size_t a, size_t b, bool free, size_t pair_extra)
{
    size_t nh = b + pair_extra;
    /* before the first synchronisation only the last host records may be the partners */
    size_t h0 = free && b > a ? b - a : 0;
    g_autofree bool *used = g_new0(bool, nh + 1);
    g_autofree int8_t *gkind = g_new0(int8_t, a + 1);
    g_autofree size_t *gpair = g_new0(size_t, a + 1);
    char note[256];

    while (nh > b && !hview_get(c, nh - 1)) {
        nh--;
    }
    for (size_t i = 0; i < a; i++) {
        gkind[i] = D_GUEST_ONLY;
        const struct mmiotrace_record *g = &gv_item(c, i)->rec;
        if (!is_rw(g)) {
            continue;
        }
        for (size_t j = h0; j < nh; j++) {
            if (!used[j] && rw_equal(g, &hv_item(c, j)->rec)) {
                used[j] = true;
                gkind[i] = D_ORDER;
                gpair[i] = j;
                break;
            }
        }
    }
    size_t from = h0;
    for (size_t i = 0; i < a; i++) {
        const struct mmiotrace_record *g = &gv_item(c, i)->rec;
        if (gkind[i] != D_GUEST_ONLY || !is_rw(g)) {
            continue;
        }
        for (size_t j = from; j < nh; j++) {
            const struct mmiotrace_record *h = &hv_item(c, j)->rec;
            if (!used[j] && h->rw.phys == g->rw.phys) {
                used[j] = true;
                gkind[i] = h->type != g->type ? D_DIR
                           : h->rw.width != g->rw.width ? D_WIDTH
                                                        : D_VALUE;
                gpair[i] = j;
                from = j + 1;
                break;
            }
        }
    }
    for (size_t i = 0; i < a; i++) {
        uint64_t hi = UINT64_MAX;
        if (gkind[i] != D_GUEST_ONLY) {
            hi = c->hv.idx[gpair[i]];
            at(&c->h, hi)->cls = HC_PAIRED;
        }
        if (gkind[i] == D_ORDER) {
            snprintf(note, sizeof(note), "this access is in both logs, but in a different order");
        } else if (gkind[i] == D_GUEST_ONLY) {
            const struct mmiotrace_record *g = &gv_item(c, i)->rec;
            snprintf(note, sizeof(note), "%s",
                     g->type == MMIOTRACE_UNKNOWN
                         ? "no run of host accesses by one instruction starts at this address here"
                         : "the host trace has no such access here");
            /* the nearest host access to the same address, as a hint */
            for (size_t j = 0; hview_get(c, j) && j < 64; j++) {
                if (hv_item(c, j)->rec.rw.phys == access_phys(g)) {
                    hi = c->hv.idx[j];
                    snprintf(note, sizeof(note),
                             "the host trace has no such access here (the marked host record "
                             "is the nearest access to the same address)");
                    break;
                }
            }
        } else {
            mismatch_note(note, sizeof(note), gkind[i]);
        }
        report(c, gkind[i], c->gv.idx[i], hi, note);
    }
    /* host side first: the guest's skipped MAP/UNMAP must not change the host's candidates */
    uint64_t htarget = b < c->hv.n ? c->hv.idx[b] : (b ? c->hv.idx[b - 1] + 1 : c->h.pos);
    size_t j = 0;
    while (c->h.pos < htarget) {
        struct item *it = at(&c->h, c->h.pos);
        if (j < b && c->hv.idx[j] == c->h.pos) {
            j++;
            if (it->cls == HC_PENDING && free) {
                it->cls = HC_OFF;
            }
        }
        host_pass(c, free);
    }
    uint64_t gtarget = a < c->gv.n ? c->gv.idx[a] : (a ? c->gv.idx[a - 1] + 1 : c->g.pos);
    while (c->g.pos < gtarget) {
        guest_map_record(c, &at(&c->g, c->g.pos)->rec);
        c->g.pos++;
    }
}

/* Match guest access at g.pos (view index a) with the host at view index b and advance. */
static void commit_match(struct cmp *c, size_t a, size_t b)
{
    long took = match_step(c, a, b, &c->run);
    struct item *g = at(&c->g, c->g.pos);

    g_assert(took >= 0);
    if (is_rw(&g->rec)) {
        c->g_rw_matched++;
    } else {
        c->g_unk_matched++;
        c->g_unk_continued += took == 0;
    }
    if (took > 0) {
        uint64_t last = c->hv.idx[b + (size_t)took - 1];
        size_t j = b;
        while (c->h.pos <= last) {
            struct item *it = at(&c->h, c->h.pos);
            if (j < b + (size_t)took && c->hv.idx[j] == c->h.pos) {
                it->cls = is_rw(&g->rec) ? HC_MATCHED : HC_RUN;
                j++;
            }
            host_pass(c, false);
        }
    }
    c->g.pos++;
}

/*
 * The walks disagree at the guest access g.pos: find the cheapest (a, b) = (guest accesses,
 * host candidates skipped) after which the next accesses agree, report the skipped records
 * and go on. free: the host records before the match are while the guest tracer was off (first
 * synchronisation): then the fewest guest records are skipped, however many host records.
 */
static void resync(struct cmp *c, bool free)
{
    view_reset(&c->gv, c->g.pos);
    view_reset(&c->hv, c->h.pos);

    for (;;) {
        size_t best = SIZE_MAX, ba = 0, bb = 0;
        bool found = false;
        size_t amax = free ? INIT_MAX_SKIP : c->window;
        unsigned k = free ? 2 * c->confirm : c->confirm;

        for (size_t a = 0; a <= amax && (free || a < best); a++) {
            bool gend = !gview_get(c, a);
            if (gend && c->gv.end == V_WINDOW) {
                break;
            }
            for (size_t b = 0; free || a + b < best; b++) {
                if (!free && a + b > c->window) {
                    break;
                }
                if (gend) {
                    if (gend_free(&c->gv) || free) {
                        b = 0;
                    } else if (hview_get(c, b)) { /* anchor: the host must be at its anchor */
                        continue;
                    }
                    if (gend_free(&c->gv) || c->hv.end == V_ANCHOR || c->hv.end == V_EOF) {
                        best = gend_free(&c->gv) || free ? a : a + b;
                        ba = a;
                        bb = b;
                        found = true;
                    }
                    break;
                }
                if (!hview_get(c, b)) {
                    break;
                }
                struct run run = c->run;
                if (match_step(c, a, b, &run) < 0) {
                    continue;
                }
                if (free ? confirm_loose(c, a, b, k, k) : confirm(c, a, b, k, false)) {
                    best = a + b;
                    ba = a;
                    bb = b;
                    found = true;
                    break;
                }
            }
            if (found && free) {
                break;
            }
            if (gend) {
                break;
            }
        }
        if (!found && free && c->hv.end == V_WINDOW && c->hv.n > 0) {
            /* slide: the host records examined so far are before the guest log's start */
            size_t keep = c->hv.n > k ? c->hv.n - k : 0;
            uint64_t target = keep ? c->hv.idx[keep] : c->hv.idx[0];
            if (target == c->h.pos) {
                target = c->hv.scan;
            }
            while (c->h.pos < target) {
                host_pass(c, true);
            }
            view_reset(&c->gv, c->g.pos);
            view_reset(&c->hv, c->h.pos);
            continue;
        }
        if (!found && free && c->hv.end == V_WINDOW && c->hv.n == 0) {
            while (c->h.pos < c->hv.scan) {
                host_pass(c, true);
            }
            view_reset(&c->gv, c->g.pos);
            view_reset(&c->hv, c->h.pos);
            continue;
        }
        if (!found) {
            ba = 1;
            bb = 0; /* nothing agrees within the window: give up on this guest record */
        }
        bool at_free_end = !gview_get(c, ba) && gend_free(&c->gv);
        commit_skips(c, ba, bb, free, at_free_end ? ba : 0);
        if (gview_get(c, ba) && found) {
            commit_match(c, ba, bb);
            if (free) {
                c->synced = true;
            }
        }
        return;
    }
}

/* ---- The walk ---- */

static void walk(struct cmp *c)
{
    while (!c->stopped) {
        if (side_fill(c, &c->g, c->g.pos) != 1) {
            break;
        }
        struct item *g = at(&c->g, c->g.pos);
        if (g->gap) {
            c->synced = false; /* the guest log may miss records here */
            c->run.valid = false;
            c->gaps++;
            if (g->rec.type == MMIOTRACE_VERSION) {
                g_array_set_size(c->maps, 0); /* a restarted tracer traces new mappings only */
            }
            c->g.pos++;
            continue;
        }
        if (g->anchor >= 0) {
            host_to_anchor(c, g->anchor);
            c->synced = true;
            c->run.valid = false;
            c->g.pos++;
            continue;
        }
        if (!is_access(&g->rec)) {
            guest_map_record(c, &g->rec);
            c->g.pos++;
            continue;
        }
        if (!c->synced) {
            resync(c, true);
            continue;
        }
        if (is_rw(&g->rec) && host_next_candidate(c) && rw_equal(&g->rec, &at(&c->h, c->h.pos)->rec)) {
            struct item *h = at(&c->h, c->h.pos);
            h->cls = HC_MATCHED;
            c->hcls[HC_MATCHED]++;
            c->h.pos++;
            c->g.pos++;
            c->g_rw_matched++;
            c->run.valid = false;
            continue;
        }
        resync(c, false);
    }
    /* after the guest log's last record: the guest tracer was off */
    while (!c->stopped && side_fill(c, &c->h, c->h.pos) == 1) {
        host_pass(c, true);
    }
}

/* ---- Output ---- */

static void print_text(struct cmp *c)
{
    struct side *g = &c->g, *h = &c->h;
    uint64_t explained = c->hcls[HC_OFF] + c->hcls[HC_OUTSIDE] + c->hcls[HC_QEMU];

    printf("hvmmio compare: guest %s (%" PRIu64 " R/W, %" PRIu64 " UNKNOWN, %" PRIu64
           " MARK) vs host %s (%" PRIu64 " R/W)\n",
           g->path, g->n_rw, g->n_unknown, g->n_mark, h->path, h->n_rw);
    for (guint i = 0; i < c->reports->len; i++) {
        struct report *r = c->reports->pdata[i];
        printf("\n#%u %s", i + 1, dkind_text[r->kind]);
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
    uint64_t grw = g->n_rw;
    printf("  %-24s %8" PRIu64 " / %-8" PRIu64 " %5.1f%%\n", "guest R/W matched", c->g_rw_matched,
           grw, grw ? 100.0 * c->g_rw_matched / grw : 100.0);
    printf("  %-24s %8" PRIu64 " / %-8" PRIu64, "guest UNKNOWN matched", c->g_unk_matched,
           g->n_unknown);
    if (c->hcls[HC_RUN] || c->g_unk_continued) {
        printf(" (to %" PRIu64 " host accesses; %" PRIu64 " continue the previous UNKNOWN's run)",
               c->hcls[HC_RUN], c->g_unk_continued);
    }
    printf("\n");
    printf("  %-24s %8" PRIu64 ": %" PRIu64 " to guest R/W, %" PRIu64 " in UNKNOWN runs\n",
           "host R/W matched", c->hcls[HC_MATCHED] + c->hcls[HC_RUN], c->hcls[HC_MATCHED],
           c->hcls[HC_RUN]);
    printf("  %-24s %8" PRIu64 ": %" PRIu64 " while the guest tracer was off, %" PRIu64
           " outside guest mappings, %" PRIu64 " by QEMU itself\n",
           "host records explained", explained, c->hcls[HC_OFF], c->hcls[HC_OUTSIDE],
           c->hcls[HC_QEMU]);
    printf("  %-24s %8" PRIu64, "unexplained", c->ndisc);
    const char *sep = ": ";
    for (int k = 0; k < D_COUNT; k++) {
        if (c->disc[k]) {
            printf("%s%" PRIu64 " %s", sep, c->disc[k], dkind_text[k]);
            sep = ", ";
        }
    }
    printf("\n");
    printf("  %-24s %8" PRIu64 " marker%s in both logs%s", "anchors", c->anchors_used,
           c->anchors_used == 1 ? "" : "s", g->mark_anchor ? "" : " (not looked for: an input is not a regular file)");
    if (c->gaps) {
        printf("; %" PRIu64 " gap%s in the guest log (lost events or tracer restart)", c->gaps,
               c->gaps == 1 ? "" : "s");
    }
    printf("\n");
    if (c->stopped && !c->error) {
        printf("  comparison STOPPED after %" PRIu64 " discrepancies (--max-discrepancies) at "
               "guest line %" PRIu64 ", host line %" PRIu64 "\n",
               c->ndisc, mmiotrace_reader_line(g->r), mmiotrace_reader_line(h->r));
    }
    if (!c->ndisc) {
        printf("RESULT: PASS — every guest access is in the host trace with the same address, "
               "width and value\n");
    } else {
        printf("RESULT: FAIL — %" PRIu64 " discrepanc%s between the guest and host logs%s\n",
               c->ndisc, c->ndisc == 1 ? "y" : "ies",
               c->reports->len ? " (the first are listed above)" : "");
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

static void print_json(struct cmp *c)
{
    json_object *o = json_object_new_object();
    struct side *sides[2] = {&c->g, &c->h};

    for (int i = 0; i < 2; i++) {
        struct side *s = sides[i];
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
        json_object_object_add(o, s->role, f);
    }
    json_object_object_add(o, "guest_rw_matched", json_object_new_uint64(c->g_rw_matched));
    json_object_object_add(o, "guest_unknown_matched", json_object_new_uint64(c->g_unk_matched));
    json_object_object_add(o, "guest_unknown_continuations",
                           json_object_new_uint64(c->g_unk_continued));
    json_object *hc = json_object_new_object();
    json_object_object_add(hc, "matched", json_object_new_uint64(c->hcls[HC_MATCHED]));
    json_object_object_add(hc, "unknown_run", json_object_new_uint64(c->hcls[HC_RUN]));
    json_object_object_add(hc, "tracer_off", json_object_new_uint64(c->hcls[HC_OFF]));
    json_object_object_add(hc, "outside_guest_mappings",
                           json_object_new_uint64(c->hcls[HC_OUTSIDE]));
    json_object_object_add(hc, "qemu", json_object_new_uint64(c->hcls[HC_QEMU]));
    json_object_object_add(hc, "host_only_traced", json_object_new_uint64(c->hcls[HC_HOST_ONLY]));
    json_object_object_add(hc, "mismatched", json_object_new_uint64(c->hcls[HC_PAIRED]));
    json_object_object_add(o, "host_rw", hc);
    json_object_object_add(o, "anchors", json_object_new_uint64(c->anchors_used));
    json_object_object_add(o, "guest_gaps", json_object_new_uint64(c->gaps));
    json_object *d = json_object_new_object();
    for (int k = 0; k < D_COUNT; k++) {
        json_object_object_add(d, dkind_id[k], json_object_new_uint64(c->disc[k]));
    }
    json_object_object_add(o, "discrepancies", d);
    json_object_object_add(o, "unexplained", json_object_new_uint64(c->ndisc));
    json_object *list = json_object_new_array();
    for (guint i = 0; i < c->reports->len; i++) {
        struct report *r = c->reports->pdata[i];
        json_object *e = json_object_new_object();
        json_object_object_add(e, "kind", json_object_new_string(dkind_id[r->kind]));
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
    json_object_object_add(o, "first_discrepancies", list);
    json_object_object_add(o, "stopped", json_object_new_boolean(c->stopped && !c->error));
    json_object_object_add(o, "result", json_object_new_string(c->ndisc ? "FAIL" : "PASS"));
    printf("%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY |
                                                         JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(o);
}

int hvmmio_cmd_compare(int argc, char **argv)
{
    gboolean json = FALSE, skip_bad = FALSE, no_anchors = FALSE;
    gint window = 4096, confirm_n = 4, show = 10, context = 3;
    gint64 max_disc = 1000;
    GOptionEntry entries[] = {
        {"json", 'j', 0, G_OPTION_ARG_NONE, &json, "Print JSON instead of text", NULL},
        {"window", 'w', 0, G_OPTION_ARG_INT, &window,
         "Look-ahead window in records per log for resynchronisation (default 4096)", "N"},
        {"confirm", 'k', 0, G_OPTION_ARG_INT, &confirm_n,
         "Accesses that must agree after a resynchronisation point (default 4)", "K"},
        {"show", 'n', 0, G_OPTION_ARG_INT, &show, "Show the first N discrepancies (default 10)",
         "N"},
        {"context", 'C', 0, G_OPTION_ARG_INT, &context,
         "Records of context before and after each (default 3)", "N"},
        {"max-discrepancies", 0, 0, G_OPTION_ARG_INT64, &max_disc,
         "Stop comparing after N discrepancies (default 1000)", "N"},
        {"skip-bad", 0, 0, G_OPTION_ARG_NONE, &skip_bad,
         "Skip malformed lines with a warning (default: stop with FILE:LINE: message)", NULL},
        {"no-anchors", 0, 0, G_OPTION_ARG_NONE, &no_anchors,
         "Do not use markers found in both logs as anchors (saves a pre-pass over both files)",
         NULL},
        {NULL},
    };
    g_autoptr(GOptionContext) ctx = g_option_context_new("GUEST HOST");
    g_autoptr(GError) error = NULL;

    g_option_context_set_summary(
        ctx, "Check a guest kernel's mmiotrace log (GUEST) against hvmmio's host trace of the\n"
             "same run (HOST): every guest access must be in the host trace with the same\n"
             "direction, width, address and value, in the same order, and every other host\n"
             "access must be explained. Exit status: 0 the logs agree, 1 discrepancies,\n"
             "2 usage or read error. See docs/compare.md.");
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, &argc, &argv, &error)) {
        fprintf(stderr, "%s: %s\n", argv[0], error->message);
        return 2;
    }
    if (argc != 3) {
        fprintf(stderr, "%s: expected GUEST and HOST files (see --help)\n", argv[0]);
        return 2;
    }
    if (window < 16 || window > (1 << 24) || confirm_n < 1 || confirm_n > 64 || show < 0 ||
        context < 0 || context > HIST || max_disc < 1) {
        fprintf(stderr,
                "%s: --window must be 16..16777216, --confirm 1..64, --context 0..%d, "
                "--show >= 0, --max-discrepancies >= 1\n",
                argv[0], HIST);
        return 2;
    }

    struct cmp c = {0};
    c.window = (size_t)window;
    c.confirm = (unsigned)confirm_n;
    c.show = (unsigned)show;
    c.context = (unsigned)context;
    c.max_disc = (uint64_t)max_disc;
    c.maps = g_array_new(FALSE, FALSE, sizeof(struct mapping));
    c.reports = g_ptr_array_new_with_free_func(report_free);
    int ret = 2;
    if (!side_open(&c.g, argv[1], "guest", c.window, skip_bad) ||
        !side_open(&c.h, argv[2], "host", c.window, skip_bad)) {
        goto out;
    }
    c.gv.idx = g_new(uint64_t, c.window + 1);
    c.gv.limit = c.window;
    c.hv.idx = g_new(uint64_t, c.window + 1);
    c.hv.limit = c.window;
    if (!no_anchors) {
        setup_anchors(&c, skip_bad);
    }
    walk(&c);
    if (c.error) {
        goto out;
    }
    for (int i = 0; i < 2; i++) {
        struct side *s = i ? &c.h : &c.g;
        if (s->warned > WARN_MAX) {
            fprintf(stderr, "hvmmio compare: warning: %s: %u more malformed lines skipped\n",
                    s->path, s->warned - WARN_MAX);
        }
    }
    if (json) {
        print_json(&c);
    } else {
        print_text(&c);
    }
    ret = c.ndisc ? 1 : 0;
out:
    side_close(&c.g);
    side_close(&c.h);
    g_free(c.gv.idx);
    g_free(c.hv.idx);
    g_array_free(c.maps, TRUE);
    g_ptr_array_free(c.reports, TRUE);
    return ret;
}
