/*
 * hvmmio: the trace file's internals, shared by the files that implement it:
 *
 *   file.c         opening, rotating and closing a file; its counters
 *   file-ring.c    the producers' side: the bounded ring of events, waiting, waking
 *   file-writer.c  the writer thread: events to records to text
 *   file-out.c     the output: buffered and O_DIRECT writes, write errors, Lost markers
 *   file-io.c      the I/O thread that makes the direct writes while the writer formats
 *   file-clock.c   time stamps (TSC or CLOCK_MONOTONIC) and their conversion to ns
 *
 * Who owns which field is in the struct's comments and in docs/architecture.md.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MMIOTRACE_FILE_INT_H
#define HW_MMIOTRACE_FILE_INT_H

#include "qemu/timer.h"
#include "mmiotrace-int.h"

/*
 * The writer formats into a buffer of OUT_BUF_SIZE bytes. Each buffer is allocated twice
 * as large: after a failed direct write, the buffer that was in flight takes the one
 * formatted meanwhile after it (file-out.c: out_io_finish).
 */
#define OUT_BUF_SIZE (512 * 1024)
#define OUT_BUF_ALLOC (2 * OUT_BUF_SIZE)
#define OUT_DIRECT_ALIGN 4096   /* offsets, lengths and the buffer of direct writes */

/*
 * How the writer is woken. A futex wake-up from a vCPU costs the vCPU several µs here
 * (nested virtualization: the IPI to the idle core exits to the outer hypervisor), and
 * a writer that keeps up would chase the ring's head a few records at a time, taking
 * the lines of just-filled slots from the vCPU's core while the vCPU still writes next
 * to them. So while records come, the writer polls: it sleeps WRITER_POLL_ACTIVE_MS
 * between batches and takes at least WRITER_MIN_BATCH records at a time unless it has
 * just slept; vCPUs do not wake it unless the ring is more than half full. After
 * WRITER_IDLE_POLLS empty polls it is idle: it sleeps up to WRITER_POLL_MS, and a
 * producer wakes it once a batch has built up (a quarter of the ring, at most
 * WAKE_BATCH_MAX records), WAKE_LATENCY_NS after the last wake-up, or for another
 * event. A ring smaller than WRITER_POLL_MIN_RING fills between polls: its writer does
 * not poll, it is idle at once. A producer waiting for room (lossless), a loss (drop)
 * and mmiotrace_file_sync wake it in either state.
 */
#define WRITER_POLL_ACTIVE_MS 1
#define WRITER_MIN_BATCH 512
#define WRITER_POLL_MIN_RING 4096
#define WRITER_IDLE_POLLS 50

/*
 * The output buffer goes out when it is full, on mmiotrace_file_sync and at the end; and
 * once the ring has stayed empty for WRITER_FLUSH_POLLS polls or WRITER_FLUSH_NS have
 * passed since the last write. Not each time the writer catches up: a direct write is a
 * disk request, and with a small ring the writer catches up every few records.
 */
#define WRITER_FLUSH_POLLS 10
#define WRITER_FLUSH_NS 100000000
#define WRITER_POLL_MS 100
#define WAKE_BATCH_MAX 4096
#define WAKE_LATENCY_NS 1000000
/*
 * The merge's global barrier (membarrier) interrupts every CPU running a vCPU; on a
 * nested machine an IPI exits to the outer hypervisor (measured: about 14 ns of the
 * writer's CPU per record at one barrier a millisecond and 3.3 M records a second). It
 * is needed only while a vCPU's lane is empty (file-writer.c: writer_drain), so a
 * single busy vCPU needs none; then at most one per WATERMARK_INTERVAL_NS unless
 * someone waits for the writer, and the other lanes' events lag by up to that much.
 * Not longer: with 10 ms the writer's work landed in later, unrelated stretches of the
 * vCPUs' time, and a user's live trace lags more.
 */
#define WATERMARK_INTERVAL_NS 1000000

enum { WRITER_RUNNING, WRITER_POLLING, WRITER_IDLE };

/*
 * Time stamps. Taking the time is on every traced access: with an invariant TSC the vCPU
 * reads it (rdtsc, ~10 ns here against ~26 ns for clock_gettime) and the writer converts
 * to nanoseconds since the file was opened. The rate is calibrated once over
 * STAMP_CALIBRATE_NS, then refined by the writer against CLOCK_MONOTONIC every
 * STAMP_REFINE_NS; the mapping stays continuous (and monotonic) across refinements.
 * Without an invariant TSC, stamps are CLOCK_MONOTONIC nanoseconds.
 */
#define STAMP_CALIBRATE_NS 10000000
#define STAMP_REFINE_NS 500000000

/*
 * One producer's ring. Its producer's fields and the writer's tail are on cache lines of
 * their own: the writer updating tail must not take the producer's line away on every
 * batch; the producer reads tail only when the ring looks full or a wake-up is due.
 */
#define MMIOTRACE_LANES 64                  /* lanes[0] and 63 vCPUs of their own */
#define MMIOTRACE_LANE_MISC 0               /* the other producers' lane */
#define LANE_IDLE UINT64_MAX                /* claim: no record in progress */
#define LANE_STAMPING 0                     /* claim: taking a record's stamp */

typedef struct MmioTraceLane {
    QEMU_ALIGNED(64) uint64_t head;         /* next slot to fill (producer) */
    uint64_t claim;         /* LANE_IDLE, LANE_STAMPING or the stamp being queued */
    uint64_t tail_seen;     /* tail as the producer last read it (<= the real tail) */
    uint64_t lost_pending;  /* drop mode: lost since the last queued marker */
    uint64_t last_wake_ts;  /* stamp of the last wake-up asked for */
    uint64_t backlog_check; /* head at which to look at the writer's progress next */
    uint64_t last_stamp;    /* of the lane's last event */
    QEMU_ALIGNED(64) uint64_t tail;         /* next slot to write (writer) */
    MmioTraceEvent *ring;
    uint8_t *insn_ring;     /* MMIOTRACE_INSN_MAX bytes per ring slot */
    uint64_t mask;
} MmioTraceLane;

typedef struct MmioTraceZip MmioTraceZip;

/* A trace file. Who may touch which field: docs/architecture.md. */
struct MmioTraceFile {
    char *path;
    int fd;
    int refcnt;
    bool compat, drop;
    int32_t map_ids;

    /* time: stamps (TSC ticks or ns) -> ns since the file was opened (writer only) */
    uint64_t stamp0, ns0;       /* at open */
    uint64_t seg_stamp;         /* the current piece of the mapping starts here... */
    double seg_ns;              /* ...at this many ns */
    double ns_per_stamp;
    uint64_t refined_ns;        /* CLOCK_MONOTONIC of the last refinement */

    /* writer: the merge's last global bound, and when its barrier was made (stamps) */
    uint64_t wm, wm_taken, wm_interval;

    /*
     * The rings: one per vCPU (a lane, filled by that vCPU's thread alone, without a
     * lock) and one for every other producer (the main loop, I/O threads: under
     * misc_lock). The writer merges them in time stamp order (file-ring.c says why that
     * order is the devices' order).
     */
    uint32_t ring_size;     /* slots per lane */
    uint64_t wake_batch;    /* records that make a producer wake an idle writer */
    uint64_t min_batch;     /* records a polling writer takes at a time */
    bool poll;              /* the writer polls while records come */
    bool rotating;          /* a rotation's records wait for room even in drop mode */
    bool closed;            /* QEMU is exiting: the writer is gone (read per record) */
    MmioTraceLane *lanes[MMIOTRACE_LANES];  /* [i]: vCPU i; made at its first record */
    unsigned nlanes;        /* lanes[] in use: the highest made + 1 */
    QemuSpin misc_lock;     /* the producers of lanes[MMIOTRACE_LANE_MISC] */

    /* writer thread */
    QEMU_ALIGNED(64) QemuThread thread;
    QemuMutex mutex;
    QemuCond wake;          /* writer waits for events */
    QemuCond space;         /* producers wait for room; sync waits for the writer */
    int writer_idle;        /* WRITER_RUNNING, _POLLING or _IDLE */
    int waiters;
    int flush_req;          /* mmiotrace_file_sync callers waiting for the file */
    uint64_t flushes;       /* flushes asked by flush_req done (or failed) so far */
    bool stopping;
    void *insn_cache;
    /* tests: $HVMMIO_TEST_MERGE_DELAY_US, a sleep between lanes in the merge (writer) */
    unsigned test_merge_delay_us;
    /* WRITER_FLUSH_NS; tests: $HVMMIO_TEST_FLUSH_MS, so that the buffer fills first */
    uint64_t flush_ns;

    /* statistics */
    uint64_t bytes, dropped;
    uint64_t written;       /* writer: records it formatted (Lost markers too) */
    /* CPU time (user, system) the writer and I/O threads used, added as each ends */
    uint64_t writer_cpu_ns[2], io_cpu_ns[2];
    /* lossless mode: producers that waited for room in a full ring, and for how long */
    uint64_t room_waits, room_wait_ns;      /* under mutex */
    char *buf;
    size_t buf_len;         /* formatted bytes in buf; buf[0] goes to file offset off */
    size_t buf_synced;      /* of those, already written (buffered) by a flush */
    off_t off;
    bool seekable;          /* a regular file: written with pwrite at off */
    int direct_fd;          /* the same file opened with O_DIRECT, or -1 */
    MmioTraceZip *zip;      /* a compressed file (by its name): the writer's compressor */
    /* writer: the record R/W events are formatted from (fields they do not set stay 0) */
    struct mmiotrace_record rw_rec;

    /*
     * Write errors (writer; see out_fail). The file always ends with a whole record: a
     * failed write is cut back to good_off, its records are counted as lost, and a Lost
     * marker for them goes first into the buffer, so it lands where writing resumes.
     */
    off_t good_off;         /* the file holds whole records up to here */
    off_t marker_end;       /* the pending Lost marker ends here in the file, 0: none */
    uint64_t lost_unmarked; /* records lost since the last marker that reached the file */
    uint64_t write_lost;    /* records lost to write errors (read by the monitor) */
    uint64_t episode_lost;  /* of those, since writing last failed */
    int failing;            /* errno of the failure in progress, 0 while writing works */
    GHashTable *lost_by_dev;    /* dev= name -> accesses lost to write errors (mutex) */
    GHashTable *map_dev;        /* writer: MAP id -> device name (lines without dev=) */
    bool want_direct;       /* mmiotrace-direct, for the files of mmiotrace-rotate */

    /*
     * Direct writes, made by the I/O thread (file-io.c) from the buffer the writer has
     * just filled, while it formats into the other (buf_spare). The writer owns
     * buf_spare and io_pending; io_busy and io_quit are under io_lock; the job's fields
     * are the I/O thread's while io_busy.
     */
    char *buf_spare;        /* the other buffer: in flight while io_pending */
    size_t io_pending;      /* bytes handed to the I/O thread, not accounted yet */
    bool io_started;        /* the I/O thread exists */
    QemuThread io_thread;
    QemuMutex io_lock;
    QemuCond io_cond;
    bool io_busy, io_quit;
    int io_fd, io_err;
    char *io_buf;
    size_t io_len, io_done;
    off_t io_off;

    QLIST_ENTRY(MmioTraceFile) next;
};

struct MmioTraceRotate {
    int fd, direct_fd;
    bool seekable;
    MmioTraceZip *zip;      /* the new file's compressor, NULL: plain */
};

/* file-zip.c: a compressor of whole frames (NULL for MMIOTRACE_COMP_NONE) */
MmioTraceZip *mmiotrace_zip_new(enum mmiotrace_compression comp);
void mmiotrace_zip_free(MmioTraceZip *z);
const char *mmiotrace_zip_name(MmioTraceZip *z);
const void *mmiotrace_zip_frame(MmioTraceZip *z, const void *in, size_t len,
                                size_t *out_len);

/* file-clock.c */
extern bool mmiotrace_stamp_tsc;
extern double mmiotrace_stamp_ns_per_tick;
extern uint64_t mmiotrace_wake_latency_stamps;

static inline uint64_t mmiotrace_stamp_now(void)
{
    return mmiotrace_stamp_tsc ? (uint64_t)cpu_get_host_ticks() : (uint64_t)get_clock();
}

/*
 * Ordered stamps (file-ring.c): taken after every earlier store is visible to other
 * threads, or before any later load. The producers' side is the hot one: where the
 * kernel offers membarrier(MEMBARRIER_CMD_PRIVATE_EXPEDITED), the writer pays for the
 * barrier (mmiotrace_stamp_barrier_global: every running thread of the process is
 * interrupted and executes a full barrier) and a producer needs none, as QEMU's RCU
 * does with smp_mb_global. Otherwise MFENCE; LFENCE; RDTSC (Intel's SDM), and RDTSC;
 * LFENCE; MFENCE on the writer's side.
 */
extern bool mmiotrace_stamp_asymmetric;

/*
 * A stamp taken after every earlier store of the caller is visible, with fences of its
 * own: the producers of the shared lane (rare, and under a spinlock already), a vCPU
 * making its lane, and every producer where the kernel has no membarrier. The writer
 * needs no global barrier to bound them (file-writer.c: writer_local_bound).
 */
static inline void mmiotrace_stamp_fence(void)
{
    smp_mb();   /* the caller's stores are visible before a stamp is taken */
#if defined(__x86_64__) || defined(__i386__)
    asm volatile("lfence" : : : "memory");  /* RDTSC does not run ahead of them */
#endif
}

static inline uint64_t mmiotrace_stamp_fenced(void)
{
    mmiotrace_stamp_fence();
    return mmiotrace_stamp_now();
}

static inline uint64_t mmiotrace_stamp_after_stores(void)
{
    if (likely(mmiotrace_stamp_asymmetric)) {
        /*
         * The writer's global barrier orders the caller's stores, and no fence is
         * needed before RDTSC either: the barrier interrupts the producer, and what
         * had not retired by then (the RDTSC among it) executes again after it. The
         * stamps' order within a lane and under the BQL is kept by the producer
         * (file-ring.h: ring_stamp_ordered).
         */
        barrier();
        return mmiotrace_stamp_now();
    }
    return mmiotrace_stamp_fenced();
}

void mmiotrace_stamp_barrier_global(void);

/*
 * The writer's side: a stamp taken before the caller's later loads. global: with the
 * global barrier, for producers that do not fence (mmiotrace_stamp_after_stores); else
 * with a full barrier of the writer's own, for those that do (mmiotrace_stamp_fenced):
 * a producer whose store these loads do not see takes a later stamp.
 */
static inline uint64_t mmiotrace_stamp_before_loads(bool global)
{
    uint64_t s = mmiotrace_stamp_now();

#if defined(__x86_64__) || defined(__i386__)
    asm volatile("lfence" : : : "memory");
#endif
    if (global) {
        mmiotrace_stamp_barrier_global();   /* ends with a full barrier too */
    } else {
        smp_mb();   /* the stamp is taken before the caller's loads */
    }
    return s;
}

void mmiotrace_stamp_init(void);
uint64_t mmiotrace_stamp_to_ns(MmioTraceFile *f, uint64_t stamp);
void mmiotrace_stamp_refine(MmioTraceFile *f);

/* file-out.c (the writer thread, and file.c once the writer is gone) */
char *mmiotrace_file_path_copy(MmioTraceFile *f);
void mmiotrace_out_marker(MmioTraceFile *f);
void mmiotrace_out_write(MmioTraceFile *f, bool flush);
size_t mmiotrace_out_pending(MmioTraceFile *f);
void mmiotrace_out_switch(MmioTraceFile *f, MmioTraceRotate *r);
int mmiotrace_out_open(const char *canon, const char *path, bool direct, int *direct_fd,
                       bool *seekable, Error **errp);

/* file-io.c (the writer thread) */
void mmiotrace_io_submit(MmioTraceFile *f, int fd, char *buf, size_t len, off_t off);
int mmiotrace_io_wait(MmioTraceFile *f, size_t *done);
void mmiotrace_io_stop(MmioTraceFile *f);

/* file-ring.c */
MmioTraceLane *mmiotrace_lane_new(uint32_t size);
void mmiotrace_lane_free(MmioTraceLane *l);
/* Tell the producers the file is closed; wait for those that are queueing a record. */
void mmiotrace_ring_close(MmioTraceFile *f);

/* file-writer.c */
void mmiotrace_writer_format(MmioTraceFile *f, MmioTraceEvent *ev, const uint8_t *insn);
void *mmiotrace_writer_thread(void *opaque);
void mmiotrace_thread_set_batch(void);
void mmiotrace_thread_cpu_ns(uint64_t cpu[2]);

#endif
