/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio compare (docs/compare.md): the state shared by its parts.
 *   compare-read.c    reading both logs into bounded rings; the pre-pass (anchors, host scope)
 *   compare-sync.c    placing the guest log in the host trace (first synchronisation)
 *   compare-match.c   the walk: matching, resynchronisation, host classification
 *   compare-report.c  discrepancies, the text and JSON reports
 *   compare-regs.c    --regs: register names and fields of the accesses printed
 *   cmd-compare.c     the command line
 */
#ifndef HVMMIO_COMPARE_H
#define HVMMIO_COMPARE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "regmap.h"
#include "warn.h"

#define HIST 8           /* records kept behind each position (context of reports) */
#define INIT_MAX_SKIP 16 /* guest accesses the first synchronisation may give up on */
#define MARKS_MAX 100000 /* markers remembered for anchoring */
#define WARN_MAX 5       /* malformed lines named per file with --skip-bad */
#define SCOPE_MAX 4096   /* host BAR ranges remembered */
#define OUTSIDE_MAX 1024 /* distinct ranges of guest accesses outside the host's devices */

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

extern const char *const cmp_dkind_text[D_COUNT];
extern const char *const cmp_dkind_id[D_COUNT];

/* One record in a ring: the record (text fields cleared, except a MARK's own copy). */
struct item {
    struct mmiotrace_record rec;
    uint64_t line;
    char *text;     /* MARK text (owned) */
    int32_t anchor; /* anchor pair number of a MARK, or -1 */
    uint8_t cls;    /* host R/W: enum hclass */
    bool gap;       /* guest: LOST, or VERSION after the first header (tracer restarted) */
    bool out;       /* guest access: outside every BAR of the host-traced devices */
    /* --regs: an access's device (dev=, interned; NULL: none) and BAR (-1: unknown) and
     * offset as they were known when it was read */
    const char *dev;
    int rbar;
    uint64_t roff;
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
    struct hvmmio_warn warn;
    uint64_t nmarks;     /* MARK records read so far */
    GArray *mark_anchor; /* int32 per MARK ordinal: anchor pair, or -1 (NULL: no anchors) */
    uint64_t n_rw, n_unknown, n_mark, n_map, n_unmap, n_lost, n_other;
    struct regmap_set *regs; /* --regs: the maps and this log's devices (NULL: no --regs) */
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

/* An address range [lo, lo + len). */
struct range {
    uint64_t lo, len;
};

/* Guest accesses outside the host-traced devices, by guest mapping (or page). */
struct outside {
    struct range r;
    uint64_t rw, unknown;
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
    bool strict_scope;
    bool synced; /* the walks are known to be at corresponding positions */
    bool stopped;
    bool error;
    struct run run;
    GArray *maps;       /* struct mapping: the guest's live traced mappings */
    GArray *maps_ahead; /* struct mapping: MAPs the guest view has passed (a search) */
    struct view gv, hv;

    GArray *scope;      /* struct range: the host-traced devices' memory BARs and mappings */
    bool scope_prepass; /* scope was collected from the whole host file */
    GArray *outside;    /* struct outside */
    uint64_t out_rw, out_unknown, out_other_ranges;

    uint64_t start_gline, start_hline; /* where the first synchronisation placed the guest log */
    uint64_t start_off;                /* host R/W before that point (the tracer off) */
    uint64_t g_rw_matched, g_unk_matched, g_unk_continued, anchors, anchors_used, gaps;
    uint64_t hcls[HC_COUNT];
    uint64_t disc[D_COUNT], ndisc;
    GPtrArray *reports;    /* struct report * */
    GHashTable *disc_regs; /* --regs: register name -> discrepancies (NULL: none yet) */
};

/* ---- Records ---- */

static inline struct item *at(struct side *s, uint64_t i)
{
    return &s->ring[i & s->mask];
}

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

static inline bool by_qemu(const struct mmiotrace_record *r)
{
    return (r->ext & MMIOTRACE_EXT_VCPU) && r->vcpu == MMIOTRACE_VCPU_NONE;
}

static inline bool in_range(const struct range *r, uint64_t phys)
{
    return phys >= r->lo && phys - r->lo < r->len;
}

/* ---- compare-read.c ---- */
bool cmp_side_open(struct side *s, const char *path, const char *role, size_t window,
                   bool skip_bad);
void cmp_side_close(struct side *s);
/* 1: record idx of s is in the ring; 0: end of input (or read error: c->error); -2: beyond
 * the look-ahead window. */
int cmp_side_fill(struct cmp *c, struct side *s, uint64_t idx);
/* Pre-pass over regular files: the anchors (unless no_anchors) and the host's scope. */
void cmp_prepass(struct cmp *c, bool no_anchors, bool skip_bad);
bool cmp_in_scope(const struct cmp *c, uint64_t phys);

/* ---- compare-step.c ---- */
bool cmp_in_guest_maps(struct cmp *c, uint64_t phys);
/* A host record that takes part in matching: a vCPU's access inside a traced mapping. */
bool cmp_host_candidate(struct cmp *c, const struct item *it);
/* Are guest view gk.. and host view hk.. matched for the next k accesses (or to both ends)? */
bool cmp_confirm(struct cmp *c, size_t gk, size_t hk, unsigned k, bool strict_window);

/* ---- compare-match.c ---- */
void cmp_walk(struct cmp *c);
bool cmp_gview_get(struct cmp *c, size_t k);
bool cmp_hview_get(struct cmp *c, size_t k);
/* Restart both views at the current positions (and forget the guest's mappings ahead). */
void cmp_views_reset(struct cmp *c);
long cmp_match_step(struct cmp *c, size_t gk, size_t hk, struct run *run);
void cmp_host_pass(struct cmp *c, bool free);
void cmp_commit_skips(struct cmp *c, size_t a, size_t b, bool free, size_t pair_extra);
void cmp_commit_match(struct cmp *c, size_t a, size_t b);

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

/* ---- compare-sync.c ---- */
void cmp_first_sync(struct cmp *c);

/* ---- compare-regs.c ---- */
/* Load --regs (NULL: none) into both sides; false having said why. */
bool cmp_regs_open(struct cmp *c, char **regs);
void cmp_regs_close(struct cmp *c);
/* A host header record (PCIDEV) read by the pre-pass: it places the guest's accesses too. */
void cmp_regs_header(struct cmp *c, const struct mmiotrace_record *rec);
/* A record just read into s's ring (its dev= still set): track it, note an access's BAR. */
void cmp_regs_take(struct cmp *c, struct side *s, struct item *it);
/* Append "  BARb+0xOFF NAME = 0xVALUE {FIELDS}" to buf for an access a map covers. */
void cmp_regs_append(struct side *s, const struct item *it, char *buf, size_t size);
/* Count a discrepancy against the register of its record it (in s). */
void cmp_regs_count(struct cmp *c, struct side *s, const struct item *it);
/* The registers of the discrepancies, the most first (names owned by c->disc_regs). */
GPtrArray *cmp_regs_ranked(const struct cmp *c);

/* ---- compare-report.c ---- */
#define CMP_RECORD_MAX 1024 /* a formatted record, with its register (--regs) */
void cmp_format_record(struct side *s, const struct item *it, char *buf, size_t size);
void cmp_report(struct cmp *c, enum dkind kind, uint64_t gi, uint64_t hi, const char *note);
void cmp_report_free(gpointer p);
/* Guest accesses that took part in the comparison (in the host-traced devices' scope). */
uint64_t cmp_guest_compared(const struct cmp *c);
/* Whether the comparison fails, and why (a sentence in buf). */
bool cmp_failure(const struct cmp *c, char *buf, size_t size);
void cmp_print_text(struct cmp *c);
void cmp_print_json(struct cmp *c);

#endif
