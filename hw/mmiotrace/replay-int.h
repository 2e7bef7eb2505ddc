/*
 * hvmmio: the mmiotrace-replay device's internals, shared by
 *
 *   replay.c           the device: properties, realize, report, QMP
 *   replay-stream.c    the recording, read as a stream of records to replay
 *   replay-identity.c  the recorded device's PCI identity, BARs and interrupts
 *   replay-match.c     matching the guest's accesses against the recording
 *   replay-timing.c    when the recording's events are delivered
 *   replay-dma.c       the recorded DMA, performed at this run's addresses
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MMIOTRACE_REPLAY_INT_H
#define HW_MMIOTRACE_REPLAY_INT_H

#include "hw/pci/pci_device.h"
#include "qapi/qapi-types-mmiotrace.h"
#include "qom/object.h"
#include "mmiotrace-int.h"
#include "hw/mmiotrace/libmmiotrace/replay-scan.h"

#define TYPE_MMIOTRACE_REPLAY "mmiotrace-replay"
OBJECT_DECLARE_SIMPLE_TYPE(MmioTraceReplay, MMIOTRACE_REPLAY)

#define RESYNC_WINDOW 4096
#define LOOKAHEAD_MAX 65536     /* recorded polls skipped at once (poll-tolerant) */
#define CONTEXT 3
#define REORDER_WINDOW_MAX 4096 /* reorder-window=N: at most this many */
#define REORDER_WINDOW_ANNOTATED 32 /* its default for a recording with annotations */
#define REORDER_TWIN_REACH 64   /* records between an optional write and its twin */

/* A record to replay: an access of the replayed device, or one of its interrupts. */
typedef struct ReplayRec {
    uint8_t type;           /* MMIOTRACE_READ, _WRITE, _IRQ, _DMA */
    uint64_t line;          /* in the trace file */
    uint64_t ns;            /* its recorded time */
    bool done;              /* consumed out of order, skipped, or (an event) performed */
    union {
        struct {            /* MMIOTRACE_READ, MMIOTRACE_WRITE */
            uint8_t width;
            uint8_t bar;
            bool poll;      /* a read repeating the previous access's register */
            bool tolerant;  /* poll=tolerant: may be repeated more or fewer times */
            bool rel;       /* rel=: the value is the last one written to rel_bar/off */
            bool opt;       /* opt=1: may be absent, or made out of order */
            uint8_t rel_bar;
            int32_t vcpu;   /* MMIOTRACE_VCPU_NONE: an access QEMU made itself */
            uint64_t off, value;
            uint64_t mask;  /* W: the bits of the value checked (match=; else all) */
            uint64_t rel_off;
        } rw;
        struct {            /* MMIOTRACE_IRQ */
            uint8_t kind;   /* enum mmiotrace_irq_kind */
            uint32_t vector;
            uint32_t data;  /* INTx: level */
        } irq;
        struct {            /* MMIOTRACE_DMA */
            uint8_t dir;    /* enum mmiotrace_dma_dir */
            uint32_t nbytes;
            uint64_t addr, len;
            uint8_t *data;  /* nbytes recorded bytes, owned (replay_dma_rec_clear) */
        } dma;
    };
} ReplayRec;

typedef struct ReplayDma ReplayDma;

typedef struct ReplayBar {
    struct MmioTraceReplay *s;
    int nr;
} ReplayBar;

struct MmioTraceReplay {
    PCIDevice parent_obj;

    /* properties */
    char *trace;
    MmioTraceReplayMode mode;
    MmioTraceReplayOnDivergence on_divergence;
    char *device;
    char *report;

    char *dev_name;             /* the recorded device replayed */
    MemoryRegion bar[PCI_NUM_REGIONS];
    ReplayBar barctx[PCI_NUM_REGIONS];
    /* the stream of records to replay: [win_base, win_base + win->len) are in win */
    struct mmiotrace_reader *reader;
    bool replay_guest_only;     /* QEMU's own accesses are not replayed */
    struct mmiotrace_pcidev cur_pcidev;     /* the device's PCIDEV line in effect */
    bool have_pcidev;
    ReplayRec prev;             /* the last access streamed (for poll) */
    bool have_prev;
    GArray *win;
    size_t win_base;
    size_t n, pos;
    ReplayRec last_read;
    bool have_last_read;
    uint64_t divergences, extra_polls, skipped_polls;
    /* annotations honoured: writes accepted by match=/rel=, reads answered by rel= */
    uint64_t tolerated_writes, related_reads;
    GHashTable *written;        /* (bar << 56 | off) -> the value the guest last wrote */
    bool diverged;
    uint64_t div_index, div_line;
    char *div_expected, *div_actual;
    GString *div_context;
    bool ended;
    /* MSI-X table and PBA: QEMU's MSI-X emulation serves them, not the recording */
    int msix_bar[2];
    uint64_t msix_off[2], msix_len[2];
    /* reordering and optional records (replay-match.c) */
    int32_t reorder_window;     /* property: -1 automatic */
    unsigned window;            /* in effect: required records an access may pass */
    size_t frontier;            /* 1 + the furthest record consumed */
    size_t resume;              /* 1 + the record consumed last */
    size_t last_required;       /* 1 + the last access without opt=1 (0: none) */
    bool annotated;             /* the recording has replay annotations */
    uint64_t n_opt, reordered, opt_matched, opt_skipped;
    Notifier exit_notifier;
    QTAILQ_ENTRY(MmioTraceReplay) next;
    bool dma;                   /* dma=on: perform the recorded DMA (replay-dma.c) */
    ReplayDma *dmastate;
    /* event timing (replay-match.c): the last MSI/MSI-X raised, not yet taken by the
     * guest; the recorded time of the last record replayed and the virtual time then */
    bool irq_untaken, irq_wait_taken, events_now;
    uint64_t last_rec_ns;
    int64_t last_virt_ns;
    uint8_t irq_last_kind;
    uint32_t irq_last_vector;
    QEMUTimer *irq_timer;
};

extern const MemoryRegionOps replay_ops;

/* replay-stream.c */
bool replay_stream_open(MmioTraceReplay *s, Error **errp);
/* The next record to replay: 1, 0 at the end, -1 with errp set. */
int replay_stream_next(MmioTraceReplay *s, ReplayRec *out, Error **errp);
/* Record i of the replay (NULL past the end), read from the stream as needed. */
const ReplayRec *replay_rec_at(MmioTraceReplay *s, size_t i);
void replay_window_trim(MmioTraceReplay *s);

/* replay-identity.c */
bool replay_setup_identity(MmioTraceReplay *s, const struct mmiotrace_replay_dev *d,
                           Error **errp);

/* replay-match.c */
char *replay_describe(const ReplayRec *r);
void replay_irq_timer(void *opaque);
/* The counting pass's view of record r (the n-th); then the window in effect. */
void replay_reorder_count(MmioTraceReplay *s, const ReplayRec *r, size_t n);
bool replay_reorder_setup(MmioTraceReplay *s, Error **errp);
/* Whether every record the guest had to make was made (the rest: skipped). */
bool replay_reorder_complete(MmioTraceReplay *s);
void replay_reorder_report(MmioTraceReplay *s, FILE *out);
/* The next record the guest had to make, and how many required ones it did not make. */
size_t replay_reorder_missing(MmioTraceReplay *s, uint64_t *missing);

/* replay-timing.c: whether the event r waits (a timer then calls replay_irq_timer) */
bool replay_event_waits(MmioTraceReplay *s, const ReplayRec *r);

/* replay-dma.c */
void replay_dma_init(MmioTraceReplay *s);
void replay_dma_free(MmioTraceReplay *s);
void replay_dma_from_record(ReplayRec *r, const struct mmiotrace_record *rec);
void replay_dma_rec_clear(gpointer r);
char *replay_dma_describe(const ReplayRec *r);
void replay_dma_scan(MmioTraceReplay *s, const ReplayRec *r);
void replay_dma_learn_write(MmioTraceReplay *s, const ReplayRec *c, uint64_t value);
void replay_dma_perform(MmioTraceReplay *s, const ReplayRec *r);
void replay_dma_range(MmioTraceReplay *s, size_t from, size_t to);
void replay_dma_report(MmioTraceReplay *s, FILE *out);
uint64_t replay_dma_refused(MmioTraceReplay *s);

/* replay.c */
void replay_write_report(MmioTraceReplay *s, FILE *out);

#endif
