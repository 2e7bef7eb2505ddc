/*
 * hvmmio: trace files. Events leave the vCPU through a bounded ring to a writer
 * thread that formats them with libmmiotrace and writes them out.
 *
 * Producers (vCPU threads, the main loop) serialise on a spinlock; the writer consumes
 * without it. Lossless mode makes a producer wait for room; drop mode counts what does
 * not fit and queues the kernel's "Lost N events" marker where the loss happened.
 * The writer flushes its buffer when it is full, when the writer has been idle a few ms
 * and at least every WRITER_FLUSH_NS, so at most the ring's content and one output buffer
 * are lost if QEMU itself crashes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/memalign.h"
#ifdef __linux__
#include <sched.h>
#include <sys/resource.h>
#endif
#include "qemu/timer.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include <poll.h>
#include "qapi/error.h"
#include "qemu/main-loop.h"
#include "block/aio.h"
#include "mmiotrace-int.h"

#define OUT_BUF_SIZE (512 * 1024)
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

static bool stamp_tsc;
static double stamp_ns_per_tick = 1.0;
static uint64_t wake_latency_stamps = WAKE_LATENCY_NS;

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

    /* ring (set at open) */
    MmioTraceEvent *ring;
    uint8_t *insn_ring;     /* MMIOTRACE_INSN_MAX bytes per ring slot */
    uint64_t mask;
    uint64_t wake_batch;    /* records that make a producer wake an idle writer */
    uint64_t min_batch;     /* records a polling writer takes at a time */
    bool poll;              /* the writer polls while records come */

    /*
     * The producers' fields (vCPUs, under the lock) and the writer's tail live on cache
     * lines of their own: the writer updating tail must not take the producers' line
     * away on every batch. Producers read tail only when the ring looks full or a wake-
     * up is due.
     */
    QEMU_ALIGNED(64) QemuSpin lock;
    uint64_t commit_head;   /* head once the reserved slot is filled */
    uint64_t tail_seen;     /* tail as the producers last read it (<= the real tail) */
    uint64_t lost_pending;  /* drop mode: lost since the last queued marker */
    uint64_t last_wake_ts;  /* ts of the last wake-up asked for */

    /* next slot to fill; apart from the lock, so that the writer reading it does not take
     * the lock's line from the producers */
    QEMU_ALIGNED(64) uint64_t head;

    QEMU_ALIGNED(64) uint64_t tail;   /* next slot to write (writer) */

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
    bool closed;            /* QEMU is exiting: the writer is gone */
    void *insn_cache;

    /* statistics */
    uint64_t bytes, dropped;
    char *buf;
    size_t buf_len;         /* formatted bytes in buf; buf[0] goes to file offset off */
    size_t buf_synced;      /* of those, already written (buffered) by a flush */
    off_t off;
    bool seekable;          /* a regular file: written with pwrite at off */
    int direct_fd;          /* the same file opened with O_DIRECT, or -1 */
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
    bool rotating;          /* a rotation's records wait for room even in drop mode */

    QLIST_ENTRY(MmioTraceFile) next;
};

static QLIST_HEAD(, MmioTraceFile) files = QLIST_HEAD_INITIALIZER(files);

static uint64_t stamp_now(void);
static uint64_t stamp_to_ns(MmioTraceFile *f, uint64_t stamp);

/* ---- write errors ---- */

typedef struct WriteStateEvent {
    char *path;
    int err;                /* 0: writing resumed */
    uint64_t lost;
} WriteStateEvent;

static void write_state_bh(void *opaque)
{
    WriteStateEvent *e = opaque;

    mmiotrace_qmp_write_state(e->path, e->err, e->lost);
    g_free(e->path);
    g_free(e);
}

static char *file_path_copy(MmioTraceFile *f)
{
    char *path;

    qemu_mutex_lock(&f->mutex);
    path = g_strdup(f->path);
    qemu_mutex_unlock(&f->mutex);
    return path;
}

/* Writer: tell the monitor (QMP event, in the main loop) and stderr. */
static void write_state_changed(MmioTraceFile *f, int err, uint64_t lost)
{
    WriteStateEvent *e = g_new0(WriteStateEvent, 1);

    e->path = file_path_copy(f);
    e->err = err;
    e->lost = lost;
    if (err) {
        error_report("mmiotrace: writing %s failed: %s; records are being lost "
                     "(counted, and marked where writing resumes)", e->path,
                     strerror(err));
    } else {
        error_report("mmiotrace: writing %s resumed; %" PRIu64 " records were lost",
                     e->path, lost);
    }
    aio_bh_schedule_oneshot(qemu_get_aio_context(), write_state_bh, e);
}

/* The count of a Lost line ("LOST T N ..." or "MARK 0.000000 Lost N events."), or -1. */
static int64_t lost_line_count(const char *p, size_t len)
{
    char tmp[96];
    uint64_t n;
    double t;

    if (len >= sizeof(tmp)) {
        len = sizeof(tmp) - 1;
    }
    memcpy(tmp, p, len);
    tmp[len] = 0;
    if (sscanf(tmp, "MARK 0.000000 Lost %" SCNu64 " events.", &n) == 1 ||
        (!strncmp(tmp, "LOST ", 5) && sscanf(tmp, "LOST %lf %" SCNu64, &t, &n) == 2)) {
        return n;
    }
    return -1;
}

/* Count a lost line: a record, or a Lost line (its count goes to the new marker). */
static void count_lost_line(MmioTraceFile *f, const char *line, size_t len,
                            uint64_t *records, uint64_t *marked)
{
    int64_t n = lost_line_count(line, len);

    if (n >= 0) {
        *marked += n;       /* counted when those records were dropped */
        return;
    }
    (*records)++;
    if (len > 2 && (line[0] == 'R' || line[0] == 'W') && line[1] == ' ') {
        /* an access: its device's record count goes down (by its dev= fact) */
        const char *dev = g_strstr_len(line, len, " dev=");
        g_autofree char *name = NULL;

        if (dev) {
            const char *v = dev + 5, *e = v;
            while (e < line + len && *e != ' ' && *e != '\n') {
                e++;
            }
            name = g_strndup(v, e - v);
        } else {
            /* kernel lines (mmiotrace-compat): the device of the mapping, by its id */
            char tmp[64];
            int map_id;

            memcpy(tmp, line, MIN(len, sizeof(tmp) - 1));
            tmp[MIN(len, sizeof(tmp) - 1)] = 0;
            if (sscanf(tmp, "%*s %*s %*s %d", &map_id) == 1) {
                name = g_strdup(g_hash_table_lookup(f->map_dev,
                                                    GINT_TO_POINTER(map_id)));
            }
        }
        qemu_mutex_lock(&f->mutex);
        gpointer old = g_hash_table_lookup(f->lost_by_dev, name ? name : "");
        g_hash_table_insert(f->lost_by_dev, g_strdup(name ? name : ""),
                            GSIZE_TO_POINTER(GPOINTER_TO_SIZE(old) + 1));
        qemu_mutex_unlock(&f->mutex);
    }
}

static void put_marker(MmioTraceFile *f)
{
    struct mmiotrace_record rec;
    int n;

    mmiotrace_record_init(&rec, MMIOTRACE_LOST);
    rec.lost.count = f->lost_unmarked;
    rec.ts_ns = stamp_to_ns(f, stamp_now());
    n = mmiotrace_format(f->buf + f->buf_len, OUT_BUF_SIZE - f->buf_len, &rec,
                         f->compat ? MMIOTRACE_FMT_KERNEL : MMIOTRACE_FMT_EXTENDED);
    if (n > 0) {
        f->buf_len += n;
        f->marker_end = f->off + f->buf_len;
    }
}

/*
 * A write failed (errno) after in_file bytes from buf[0] reached the file. Keep the whole
 * records that are in the file, cut off the rest (nothing is ever written at a stale
 * offset: the next write starts where the file now ends), count the records of the buffer
 * as lost and put a Lost marker for them first into the emptied buffer.
 */
static void out_fail(MmioTraceFile *f, size_t in_file)
{
    int err = errno ? errno : EIO;
    const char *nl = in_file ? memrchr(f->buf, '\n', in_file) : NULL;
    uint64_t records = 0, marked = 0;
    size_t from = 0;

    if (nl && f->off + (nl + 1 - f->buf) > f->good_off) {
        f->good_off = f->off + (nl + 1 - f->buf);
    }
    if (f->marker_end && f->good_off >= f->marker_end) {
        /* the last marker reached the file before this failure: its losses are marked */
        f->marker_end = 0;
        f->lost_unmarked = 0;
    }
    if (f->good_off > f->off) {
        from = f->good_off - f->off;
    } else if (f->good_off < f->off && f->seekable) {
        /* the record cut at off began in the file: read its head to know what it was */
        size_t head = f->off - f->good_off;
        g_autofree char *line = g_malloc(head + 2);
        const char *end = memchr(f->buf, '\n', f->buf_len);
        size_t tail = end ? end + 1 - f->buf : 0;
        ssize_t got = pread(f->fd, line, MIN(head, 2), f->good_off);
        ssize_t want = head;

        if (tail) {
            if (got == 2 && (line[0] == 'R' || line[0] == 'W') && line[1] == ' ' &&
                pread(f->fd, line, head, f->good_off) == want) {
                line = g_realloc(line, head + tail);
                memcpy(line + head, f->buf, tail);
                count_lost_line(f, line, head + tail, &records, &marked);
            } else {
                records++;
            }
            from = tail;
        }
    }
    for (size_t i = from; i < f->buf_len;) {
        const char *p = f->buf + i;
        const char *e = memchr(p, '\n', f->buf_len - i);
        size_t len = e ? e + 1 - p : f->buf_len - i;

        if (!(f->marker_end && f->off + i + len == f->marker_end)) {
            /* (the pending marker's count is in lost_unmarked already) */
            count_lost_line(f, p, len, &records, &marked);
        }
        i += len;
    }
    if (f->seekable) {
        if (ftruncate(f->fd, f->good_off) < 0) {
            /* the file may keep a partial record after the last whole one */
        }
    }
    f->lost_unmarked += records + marked;
    qatomic_set(&f->write_lost, f->write_lost + records);
    f->episode_lost += records;
    qatomic_set(&f->bytes, f->good_off);
    if (!f->failing) {
        qatomic_set(&f->failing, err);
        write_state_changed(f, err, f->episode_lost);
    }

    /* the buffer starts again at the end of the file: direct writes need whole blocks */
    f->buf_len = f->buf_synced = 0;
    f->marker_end = 0;
    if (!f->seekable) {
        if (in_file && f->buf[in_file - 1] != '\n') {
            f->buf[f->buf_len++] = '\n';    /* the stream had part of a line */
        }
        f->buf_synced = 0;
    } else if (f->direct_fd >= 0) {
        off_t start = QEMU_ALIGN_DOWN(f->good_off, OUT_DIRECT_ALIGN);
        size_t keep = f->good_off - start;

        if (keep && pread(f->fd, f->buf, keep, start) != (ssize_t)keep) {
            close(f->direct_fd);
            f->direct_fd = -1;
            start = f->good_off;
            keep = 0;
        }
        f->off = start;
        f->buf_len = f->buf_synced = keep;
    } else {
        f->off = f->good_off;
    }
    put_marker(f);
}

/* Writer: whole records up to file offset end are in the file. */
static void out_good(MmioTraceFile *f, off_t end)
{
    if (end <= f->good_off) {
        return;
    }
    f->good_off = end;
    qatomic_set(&f->bytes, end);
    if (f->marker_end && end >= f->marker_end) {
        f->marker_end = 0;
        f->lost_unmarked = 0;
    }
    if (f->failing && !f->marker_end) {
        qatomic_set(&f->failing, 0);
        write_state_changed(f, 0, f->episode_lost);
        f->episode_lost = 0;
    }
}

/*
 * All of p at off (or, for a pipe, at the current position); errno on failure. *done: the
 * bytes written.
 */
static bool out_put(MmioTraceFile *f, int fd, const char *p, size_t len, off_t off,
                    size_t *done)
{
    *done = 0;
    while (len) {
        ssize_t n = f->seekable ? pwrite(fd, p, len, off) : write(fd, p, len);

        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n < 0 && errno == EAGAIN && !f->seekable) {
            /* a FIFO opened non-blocking whose reader is slow: wait for room */
            struct pollfd pfd = { .fd = fd, .events = POLLOUT };
            poll(&pfd, 1, 100);
            continue;
        }
        if (n <= 0) {
            if (n == 0) {
                errno = EIO;
            }
            return false;
        }
        p += n;
        len -= n;
        off += n;
        *done += n;
    }
    return true;
}

/*
 * Write out the buffer: all of it with flush, else at least the whole direct blocks.
 *
 * A regular file is written with O_DIRECT where its file system allows it. A trace is
 * written once and read later, and through the page cache each new page costs the
 * writer a page allocation, a copy and later writeback: measured on these virtual
 * machines, 2.6 s of CPU per GB buffered against 0.17 s direct (dd, 512 KiB blocks).
 * Direct writes take whole blocks from the aligned buffer; what is left (less than a
 * block) stays at the head of the buffer. A flush also writes that rest through the
 * buffered descriptor at the same offset, so the file is complete whenever the writer
 * is idle; the next direct write covers the block again together with what follows.
 *
 * The buffer always ends with a whole record. On a failure see out_fail.
 */
static void out_write(MmioTraceFile *f, bool flush)
{
    size_t whole = f->direct_fd >= 0 ? QEMU_ALIGN_DOWN(f->buf_len, OUT_DIRECT_ALIGN) : 0;
    size_t done;

    if (whole && !out_put(f, f->direct_fd, f->buf, whole, f->off, &done)) {
        if (errno != EINVAL || done) {
            out_fail(f, MAX(done, f->buf_synced));
            return;
        }
        /* the file system refuses this direct write: buffered from here on */
        close(f->direct_fd);
        f->direct_fd = -1;
        whole = 0;
    }
    if (whole) {
        const char *nl = memrchr(f->buf, '\n', whole);

        if (nl) {
            out_good(f, f->off + (nl + 1 - f->buf));
        }
        f->off += whole;
        f->buf_len -= whole;
        if (f->marker_end && f->marker_end <= f->off) {
            f->marker_end = 0;
        }
        memmove(f->buf, f->buf + whole, f->buf_len);
        f->buf_synced = 0;
    }
    if (f->direct_fd >= 0 && !flush) {
        return;     /* the rest waits for its block to fill */
    }
    if (f->buf_len > f->buf_synced) {
        if (!out_put(f, f->fd, f->buf + f->buf_synced, f->buf_len - f->buf_synced,
                     f->off + f->buf_synced, &done)) {
            out_fail(f, f->buf_synced + done);
            return;
        }
        out_good(f, f->off + f->buf_len);
    }
    if (f->direct_fd >= 0) {
        /* written, and kept: the next direct write covers its block again */
        qatomic_set(&f->buf_synced, f->buf_len);
        return;
    }
    f->off += f->buf_len;
    qatomic_set(&f->buf_len, 0);
    qatomic_set(&f->buf_synced, 0);
}

/* Formatted bytes that are not in the file yet. */
static size_t out_pending(MmioTraceFile *f)
{
    return qatomic_read(&f->buf_len) - qatomic_read(&f->buf_synced);
}

static void format_out(MmioTraceFile *f, MmioTraceEvent *ev,
                       const struct mmiotrace_record *rec, unsigned mode);

static uint64_t stamp_now(void)
{
    return stamp_tsc ? (uint64_t)cpu_get_host_ticks() : (uint64_t)get_clock();
}

/* Once per process: is the TSC usable, and at what rate? */
static void stamp_init(void)
{
    static bool done;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;

    if (done) {
        return;
    }
    done = true;
    /* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every state */
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8))) {
        return;
    }
    uint64_t n0 = get_clock(), s0 = cpu_get_host_ticks(), n1, s1;
    do {
        n1 = get_clock();
        s1 = cpu_get_host_ticks();
    } while (n1 - n0 < STAMP_CALIBRATE_NS);
    if (s1 <= s0) {
        return;
    }
    stamp_ns_per_tick = (double)(n1 - n0) / (double)(s1 - s0);
    wake_latency_stamps = WAKE_LATENCY_NS / stamp_ns_per_tick;
    stamp_tsc = true;
#else
    done = true;
#endif
}

static uint64_t stamp_to_ns(MmioTraceFile *f, uint64_t stamp)
{
    double ns = f->seg_ns + (double)(int64_t)(stamp - f->seg_stamp) * f->ns_per_stamp;
    return ns > 0 ? (uint64_t)ns : 0;
}

/* Writer: correct the rate against the long baseline since open, without a jump. */
static void stamp_refine(MmioTraceFile *f)
{
    uint64_t now = get_clock();

    if (!stamp_tsc || now - f->refined_ns < STAMP_REFINE_NS) {
        return;
    }
    uint64_t s1 = cpu_get_host_ticks();
    uint64_t n = get_clock();
    uint64_t s2 = cpu_get_host_ticks();
    uint64_t s = s1 + (s2 - s1) / 2;

    f->refined_ns = now;
    f->seg_ns = stamp_to_ns(f, s);
    f->seg_stamp = s;
    f->ns_per_stamp = (double)(n - f->ns0) / (double)(s - f->stamp0);
}

static void format_other(MmioTraceFile *f, MmioTraceEvent *ev, unsigned mode);

/* The new file of mmiotrace-rotate, for the writer in an MMIOTRACE_EV_ROTATE event. */
typedef struct MmioTraceRotate {
    int fd, direct_fd;
    bool seekable;
} MmioTraceRotate;

/* Writer: at a record boundary, finish the old file and go on in the new one. */
static void file_switch(MmioTraceFile *f, MmioTraceRotate *r)
{
    out_write(f, true);
    if (f->direct_fd >= 0) {
        close(f->direct_fd);
    }
    if (qemu_fdatasync(f->fd) < 0) {
        /* a pipe or a failing disk: what failed was counted by out_write */
    }
    close(f->fd);
    f->fd = r->fd;
    f->direct_fd = r->direct_fd;
    f->seekable = r->seekable;
    f->off = f->good_off = 0;
    f->buf_len = f->buf_synced = 0;
    f->marker_end = 0;
    qatomic_set(&f->bytes, 0);
}

static void format_event(MmioTraceFile *f, MmioTraceEvent *ev, const uint8_t *insn)
{
    unsigned mode = f->compat ? MMIOTRACE_FMT_KERNEL : MMIOTRACE_FMT_EXTENDED;

    if (ev->type == MMIOTRACE_READ || ev->type == MMIOTRACE_WRITE) {
        /*
         * The hot path: no record on the stack (QEMU builds with
         * -ftrivial-auto-var-init=zero, which would clear it on every call); every
         * field R/W uses is set in the per-file one.
         */
        struct mmiotrace_record *r = &f->rw_rec;

        r->type = ev->type;
        r->ts_ns = stamp_to_ns(f, ev->ts);
        if (ev->dev) {
            /* counted here, by the one thread that writes the device's file */
            qatomic_set(&ev->dev->records, ev->dev->records + 1);
        }
        r->ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_VCPU | MMIOTRACE_EXT_BAR | ev->flags;
        r->dev = NULL;
        r->dev_len = 0;
        if (ev->dev) {
            r->ext |= MMIOTRACE_EXT_DEV;
            r->dev = ev->dev->name;
            r->dev_len = ev->dev->name_len;
        }
        r->rw.width = ev->width;
        r->rw.map_id = ev->map_id;
        r->rw.phys = ev->phys;
        r->rw.value = ev->value;
        r->rw.pc = ev->pc;
        r->vcpu = ev->vcpu;
        r->bar = ev->bar;
        r->bar_off = ev->off;
        r->asm_text = NULL;
        r->asm_len = 0;
        r->insn_len = 0;
        if (ev->insn_len) {
            /* first: disassembly trims the bytes to the one instruction */
            r->asm_text = mmiotrace_insn_text(&f->insn_cache, ev, insn, &r->asm_len);
            if (r->asm_text) {
                r->ext |= MMIOTRACE_EXT_ASM;
            }
            r->ext |= MMIOTRACE_EXT_INSN;
            r->insn_len = ev->insn_len;
            memcpy(r->insn, insn, ev->insn_len);
        }
        format_out(f, ev, r, mode);
        return;
    }
    format_other(f, ev, mode);
}

/* Every other event: rare, from a record of its own. */
static void __attribute__((noinline)) format_other(MmioTraceFile *f, MmioTraceEvent *ev,
                                                   unsigned mode)
{
    struct mmiotrace_record rec;

    if (ev->type == MMIOTRACE_EV_ROTATE) {
        file_switch(f, ev->payload);
        return;
    }
    mmiotrace_record_init(&rec, ev->type);
    rec.ts_ns = stamp_to_ns(f, ev->ts);
    rec.ext = MMIOTRACE_EXT_NS;
    if (ev->dev) {
        rec.ext |= MMIOTRACE_EXT_DEV;
        rec.dev = ev->dev->name;
        rec.dev_len = ev->dev->name_len;
    }
    switch (ev->type) {
    case MMIOTRACE_MAP:
        if (ev->dev) {
            g_hash_table_insert(f->map_dev, GINT_TO_POINTER(ev->map_id),
                                g_strdup(ev->dev->name));
        }
        rec.map.map_id = ev->map_id;
        rec.map.phys = ev->phys;
        rec.map.virt = 0;
        rec.map.len = ev->off;
        rec.ext |= MMIOTRACE_EXT_BAR;
        rec.bar = ev->bar;
        rec.bar_off = 0;
        break;
    case MMIOTRACE_UNMAP:
        rec.unmap.map_id = ev->map_id;
        rec.ext |= MMIOTRACE_EXT_BAR;
        rec.bar = ev->bar;
        rec.bar_off = 0;
        break;
    case MMIOTRACE_MARK:
        rec.mark.text = ev->payload;
        rec.mark.len = strlen(ev->payload);
        rec.ext = 0;
        break;
    case MMIOTRACE_LOST:
        rec.lost.count = ev->value;
        rec.ext = 0;
        break;
    case MMIOTRACE_VERSION:
        rec.version.text = MMIOTRACE_VERSION_STRING;
        rec.version.len = strlen(MMIOTRACE_VERSION_STRING);
        rec.ext = 0;
        break;
    case MMIOTRACE_PCIDEV:
        rec.pcidev = *(struct mmiotrace_pcidev *)ev->payload;
        rec.ext &= MMIOTRACE_EXT_DEV;
        break;
    case MMIOTRACE_CONFIG:
        rec.config.bus = ev->phys >> 8;
        rec.config.devfn = ev->phys & 0xff;
        rec.config.len = ev->off;
        rec.config.data = ev->payload;
        rec.ext &= MMIOTRACE_EXT_DEV;
        break;
    case MMIOTRACE_IRQ:
        rec.irq.kind = ev->width;
        rec.irq.vector = ev->off;
        rec.irq.data = ev->value;
        rec.irq.addr = ev->phys;
        rec.ext |= MMIOTRACE_EXT_VCPU;
        rec.vcpu = ev->vcpu;
        break;
    default:
        return;
    }
    format_out(f, ev, &rec, mode);
    if (ev->type == MMIOTRACE_VERSION && f->lost_unmarked && !f->marker_end) {
        /* losses before a rotation whose marker did not reach the old file */
        put_marker(f);
    }
}

static void format_out(MmioTraceFile *f, MmioTraceEvent *ev,
                       const struct mmiotrace_record *rec, unsigned mode)
{
    /* the buffer always has MMIOTRACE_FORMAT_MAX bytes free; R/W records are valid */
    int n = ev->type == MMIOTRACE_READ || ev->type == MMIOTRACE_WRITE
        ? mmiotrace_format_valid(f->buf + f->buf_len, rec, mode)
        : mmiotrace_format(f->buf + f->buf_len, OUT_BUF_SIZE - f->buf_len, rec, mode);

    if (n < 0) {
        /* not expected (the producers check what they queue): a lost record, counted */
        g_autofree char *path = file_path_copy(f);
        error_report("mmiotrace: %s: cannot format a %s record: %s", path,
                     mmiotrace_type_name(ev->type), strerror(errno));
        qatomic_set(&f->write_lost, f->write_lost + 1);
        return;
    }
    f->buf_len += n;
    if (f->buf_len > OUT_BUF_SIZE - MMIOTRACE_FORMAT_MAX) {
        out_write(f, false);
    }
}

static void *writer_thread(void *opaque)
{
    MmioTraceFile *f = opaque;

#ifdef __linux__
    /*
     * The writer must not take the CPU from a vCPU: woken, it would otherwise often
     * preempt the vCPU on the vCPU's own core (measured: +170 ns per access in half the
     * runs). SCHED_BATCH is not preempting on wake-up; a lower priority lets vCPUs go
     * first. In lossless mode a full ring makes the vCPU wait, which lets the writer
     * run.
     */
    struct sched_param sp = { 0 };
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
    if (setpriority(PRIO_PROCESS, qemu_get_thread_id(), 10) < 0) {
        /* not fatal: the writer keeps the default priority */
    }
#endif

    unsigned empty_polls = 0;
    bool slept = false;
    uint64_t seen_dropped = 0, flushed_ns = get_clock();

    for (;;) {
        uint64_t tail = f->tail;
        uint64_t head = qatomic_load_acquire(&f->head);
        uint64_t dropped = qatomic_read(&f->dropped);

        /* with losses going on (drop mode), the writer does not wait for a batch */
        if (head != tail && (head - tail >= f->min_batch || slept ||
                             dropped != seen_dropped ||
                             qatomic_read(&f->waiters) || qatomic_read(&f->stopping))) {
            slept = false;
            seen_dropped = dropped;
            empty_polls = 0;
            stamp_refine(f);
            for (; tail != head; tail++) {
                MmioTraceEvent *ev = &f->ring[tail & f->mask];
                format_event(f, ev, f->insn_ring + (tail & f->mask) * MMIOTRACE_INSN_MAX);
                if (mmiotrace_event_has_payload(ev)) {
                    g_free(ev->payload);
                    ev->payload = NULL;
                }
            }
            qatomic_store_release(&f->tail, tail);
            if (qatomic_read(&f->waiters)) {
                qemu_mutex_lock(&f->mutex);
                qemu_cond_broadcast(&f->space);
                qemu_mutex_unlock(&f->mutex);
            }
            continue;
        }
        if (head == tail && f->buf_len > f->buf_synced) {
            uint64_t now = get_clock();

            bool asked = qatomic_read(&f->flush_req);

            if (asked || empty_polls >= WRITER_FLUSH_POLLS ||
                now - flushed_ns >= WRITER_FLUSH_NS) {
                out_write(f, true);
                flushed_ns = now;
                if (asked) {
                    qatomic_inc(&f->flushes);
                }
            }
        }
        qemu_mutex_lock(&f->mutex);
        if (f->waiters) {
            qemu_cond_broadcast(&f->space);
        }
        if (f->stopping && qatomic_load_acquire(&f->head) == f->tail) {
            qemu_mutex_unlock(&f->mutex);
            break;
        }
        if (head == tail && (++empty_polls > WRITER_IDLE_POLLS || !f->poll)) {
            qatomic_set(&f->writer_idle, WRITER_IDLE);
            /*
             * Pairs with wake_writer's barrier: the idle state is visible before head
             * is read again, so a producer either sees the writer idle or its record is
             * seen.
             */
            smp_mb();
            /* a producer that saw the writer running before this did not wake it */
            if (qatomic_load_acquire(&f->head) == tail) {
                qemu_cond_timedwait(&f->wake, &f->mutex, WRITER_POLL_MS);
            }
        } else {
            qatomic_set(&f->writer_idle, WRITER_POLLING);
            /* a producer waiting for room may have signalled before we slept */
            if (!f->waiters || qatomic_load_acquire(&f->head) == f->tail) {
                qemu_cond_timedwait(&f->wake, &f->mutex, WRITER_POLL_ACTIVE_MS);
            }
            slept = true;
        }
        qatomic_set(&f->writer_idle, WRITER_RUNNING);
        qemu_mutex_unlock(&f->mutex);
    }
    return NULL;
}

/* Wake the writer if it sleeps (urgent) or if it is idle (not polling). */
static void wake_writer(MmioTraceFile *f, bool urgent)
{
    /* pairs with the writer's barrier before it sleeps: head is published first */
    smp_mb();
    if (qatomic_read(&f->writer_idle) >= (urgent ? WRITER_POLLING : WRITER_IDLE)) {
        qemu_mutex_lock(&f->mutex);
        qemu_cond_signal(&f->wake);
        qemu_mutex_unlock(&f->mutex);
    }
}

static void wait_for_room(MmioTraceFile *f, uint64_t need)
{
    qemu_mutex_lock(&f->mutex);
    f->waiters++;
    qemu_cond_signal(&f->wake);
    while (qatomic_read(&f->head) - qatomic_load_acquire(&f->tail) + need >
           f->mask + 1 && !f->closed) {
        qemu_cond_wait(&f->space, &f->mutex);
    }
    f->waiters--;
    qemu_mutex_unlock(&f->mutex);
}

/*
 * A slot's line was last read by the writer, on another core: the producer's stores to it
 * need the line back (a miss of 100-300 ns between these cores), and the next lock's
 * atomic waits for those stores. So producers ask for the line of a slot PREFETCH_AHEAD
 * records ahead, for writing (PREFETCHW; __builtin_prefetch gives a read prefetch on
 * baseline x86-64, which brings a shared copy that a store must still upgrade).
 */
#define PREFETCH_AHEAD 4

static inline void prefetch_for_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    /* 0F 0D /1: a hint NOP on processors without PRFCHW */
    asm volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1);
#endif
}

/*
 * The next slot, with the producers' lock held: fill it and mmiotrace_file_commit it.
 * NULL if the event is lost (drop mode with a full ring, or the file is closed):
 * counted.
 */
MmioTraceEvent *mmiotrace_file_reserve(MmioTraceFile *f, uint64_t ts)
{
    uint64_t head, need;

    qemu_spin_lock(&f->lock);
    if (f->closed) {
        goto lost;
    }
    for (;;) {
        head = f->head;
        need = 1 + (f->lost_pending ? 1 : 0);
        if (head - f->tail_seen + need <= f->mask + 1) {
            break;
        }
        f->tail_seen = qatomic_load_acquire(&f->tail);
        if (head - f->tail_seen + need <= f->mask + 1) {
            break;
        }
        if (f->drop && !f->rotating) {
            f->lost_pending++;
            qatomic_inc(&f->dropped);
            qemu_spin_unlock(&f->lock);
            wake_writer(f, true);
            return NULL;
        }
        qemu_spin_unlock(&f->lock);
        wait_for_room(f, need);
        qemu_spin_lock(&f->lock);
        if (f->closed) {
            goto lost;
        }
    }
    if (f->lost_pending) {
        /* the kernel's "Lost N events" marker, where the loss happened */
        MmioTraceEvent *lost = &f->ring[head++ & f->mask];
        memset(lost, 0, sizeof(*lost));
        lost->type = MMIOTRACE_LOST;
        lost->value = f->lost_pending;
        lost->ts = ts;
        f->lost_pending = 0;
    }
    f->commit_head = head + 1;
    return &f->ring[head & f->mask];

lost:
    qatomic_inc(&f->dropped);
    qemu_spin_unlock(&f->lock);
    return NULL;
}

void mmiotrace_file_commit(MmioTraceFile *f, MmioTraceEvent *ev)
{
    uint64_t head = f->commit_head;
    bool wake, urgent = false;

    qatomic_store_release(&f->head, head);
    if (head + PREFETCH_AHEAD - f->tail_seen <= f->mask) {
        /* not a slot the writer has yet to read (a small ring that is nearly full) */
        prefetch_for_write(&f->ring[(head + PREFETCH_AHEAD) & f->mask]);
    }
    wake = (ev->type != MMIOTRACE_READ && ev->type != MMIOTRACE_WRITE) ||
           ev->ts - f->last_wake_ts >= wake_latency_stamps;
    if (head - f->tail_seen >= f->wake_batch) {
        f->tail_seen = qatomic_read(&f->tail);
        wake |= head - f->tail_seen >= f->wake_batch;
        /* over half full: even a polling writer (a small ring fills between polls) */
        urgent = head - f->tail_seen > (f->mask + 1) / 2;
    }
    if (wake) {
        f->last_wake_ts = ev->ts;
    }
    qemu_spin_unlock(&f->lock);
    if (wake || urgent) {
        wake_writer(f, urgent);
    }
}

void mmiotrace_file_push_insn(MmioTraceFile *f, MmioTraceEvent *ev, const uint8_t *insn)
{
    MmioTraceEvent *slot = mmiotrace_file_reserve(f, ev->ts);

    if (!slot) {
        if (mmiotrace_event_has_payload(ev)) {
            g_free(ev->payload);
        }
        return;
    }
    *slot = *ev;
    if (ev->insn_len) {
        memcpy(f->insn_ring + (slot - f->ring) * MMIOTRACE_INSN_MAX, insn, ev->insn_len);
    }
    mmiotrace_file_commit(f, slot);
}

void mmiotrace_file_push(MmioTraceFile *f, MmioTraceEvent *ev)
{
    ev->insn_len = 0;
    mmiotrace_file_push_insn(f, ev, NULL);
}

void mmiotrace_file_sync(MmioTraceFile *f)
{
    if (qatomic_read(&f->closed)) {
        return;
    }
    uint64_t target = qatomic_load_acquire(&f->head);

    qemu_mutex_lock(&f->mutex);
    f->waiters++;
    uint64_t flushes = qatomic_read(&f->flushes);
    qatomic_inc(&f->flush_req);
    qemu_cond_signal(&f->wake);
    /*
     * While writing fails, one more attempt is enough: what it could not write is lost
     * (counted) rather than waited for.
     */
    while (qatomic_load_acquire(&f->tail) < target ||
           (out_pending(f) && (!qatomic_read(&f->failing) ||
                               qatomic_read(&f->flushes) == flushes))) {
        qemu_cond_signal(&f->wake);
        qemu_cond_timedwait(&f->space, &f->mutex, 10);
    }
    qatomic_dec(&f->flush_req);
    f->waiters--;
    qemu_mutex_unlock(&f->mutex);
}

uint64_t mmiotrace_file_now(MmioTraceFile *f)
{
    return stamp_now();
}

int32_t mmiotrace_file_next_map_id(MmioTraceFile *f)
{
    return qatomic_fetch_inc(&f->map_ids);
}

const char *mmiotrace_file_path(MmioTraceFile *f)
{
    return f->path;
}

bool mmiotrace_file_compat(MmioTraceFile *f)
{
    return f->compat;
}

void mmiotrace_file_stats(MmioTraceFile *f, uint64_t *bytes, uint64_t *dropped)
{
    *bytes = qatomic_read(&f->bytes);
    *dropped = qatomic_read(&f->dropped) + qatomic_read(&f->write_lost);
}

int mmiotrace_file_write_state(MmioTraceFile *f, uint64_t *write_lost)
{
    *write_lost = qatomic_read(&f->write_lost);
    return qatomic_read(&f->failing);
}

uint64_t mmiotrace_file_lost_accesses(MmioTraceFile *f, const char *dev)
{
    uint64_t n;

    qemu_mutex_lock(&f->mutex);
    n = GPOINTER_TO_SIZE(g_hash_table_lookup(f->lost_by_dev, dev));
    qemu_mutex_unlock(&f->mutex);
    return n;
}

/*
 * Open a trace file for writing: a regular file is truncated (and also opened with
 * O_DIRECT when asked and allowed); a FIFO without a reader is an error, not a hang.
 */
static int open_trace(const char *canon, const char *path, bool direct, int *direct_fd,
                      bool *seekable, Error **errp)
{
    struct stat st;
    int fd;

    *direct_fd = -1;
    fd = qemu_open_old(canon, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NONBLOCK,
                       0644);
    if (fd < 0) {
        if (errno == ENXIO) {
            error_setg(errp, "mmiotrace-file '%s' is a FIFO with no reader (start "
                       "its reader first)", path);
        } else {
            error_setg_errno(errp, errno, "cannot open mmiotrace-file '%s'", path);
        }
        return -1;
    }
    /* a FIFO's writer may wait for its reader from here on (the writer thread does) */
    if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0) {
        error_setg_errno(errp, errno, "mmiotrace-file '%s'", path);
        close(fd);
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        error_setg_errno(errp, errno, "mmiotrace-file '%s'", path);
        close(fd);
        return -1;
    }
    if (S_ISDIR(st.st_mode)) {
        error_setg(errp, "mmiotrace-file '%s' is a directory", path);
        close(fd);
        return -1;
    }
    *seekable = S_ISREG(st.st_mode);
#ifdef O_DIRECT
    if (*seekable && direct) {
        /* refused by some file systems (tmpfs before Linux 6.6): then buffered only */
        g_autofree char *self = g_strdup_printf("/proc/self/fd/%d", fd);
        *direct_fd = qemu_open_old(self, O_WRONLY | O_DIRECT | O_CLOEXEC);
    }
#endif
    return fd;
}

MmioTraceFile *mmiotrace_file_open(const char *path, bool compat, bool drop,
                                   uint32_t ring_size, bool direct, Error **errp)
{
    MmioTraceFile *f;
    g_autofree char *canon = g_canonicalize_filename(path, NULL);

    QLIST_FOREACH(f, &files, next) {
        if (!strcmp(f->path, canon)) {
            if (f->compat != compat || f->drop != drop) {
                error_setg(errp, "mmiotrace-file %s is shared by devices with "
                           "different mmiotrace-compat or mmiotrace-mode", path);
                return NULL;
            }
            f->refcnt++;
            return f;
        }
    }
    if (ring_size < 16 || ring_size > (1u << 24) || !is_power_of_2(ring_size)) {
        error_setg(errp, "mmiotrace-ring=%u must be a power of two between 16 "
                   "and 16777216", ring_size);
        return NULL;
    }
    int direct_fd;
    bool seekable;
    int fd = open_trace(canon, path, direct, &direct_fd, &seekable, errp);
    if (fd < 0) {
        return NULL;
    }
    f = qemu_memalign(64, sizeof(*f));   /* its cache-line aligned members */
    memset(f, 0, sizeof(*f));
    f->path = g_steal_pointer(&canon);
    f->fd = fd;
    f->refcnt = 1;
    f->compat = compat;
    f->drop = drop;
    stamp_init();
    f->ns0 = f->refined_ns = get_clock();
    f->stamp0 = f->seg_stamp = stamp_now();
    f->ns_per_stamp = stamp_tsc ? stamp_ns_per_tick : 1.0;
    f->map_ids = 1;
    f->ring = qemu_memalign(sizeof(MmioTraceEvent), ring_size * sizeof(MmioTraceEvent));
    memset(f->ring, 0, ring_size * sizeof(MmioTraceEvent));
    f->insn_ring = g_malloc0((size_t)ring_size * MMIOTRACE_INSN_MAX);
    f->mask = ring_size - 1;
    f->wake_batch = MIN(ring_size / 4, WAKE_BATCH_MAX);
    f->poll = ring_size >= WRITER_POLL_MIN_RING;
    f->min_batch = f->poll ? WRITER_MIN_BATCH : 1;
    f->buf = qemu_memalign(OUT_DIRECT_ALIGN, OUT_BUF_SIZE);
    f->direct_fd = direct_fd;
    f->seekable = seekable;
    f->want_direct = direct;
    f->lost_by_dev = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->map_dev = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    mmiotrace_record_init(&f->rw_rec, MMIOTRACE_READ);
    qemu_spin_init(&f->lock);
    qemu_mutex_init(&f->mutex);
    qemu_cond_init(&f->wake);
    qemu_cond_init(&f->space);
    qemu_thread_create(&f->thread, "mmiotrace", writer_thread, f,
                       QEMU_THREAD_JOINABLE);
    QLIST_INSERT_HEAD(&files, f, next);

    MmioTraceEvent ev = { .type = MMIOTRACE_VERSION, .ts = f->stamp0 };
    mmiotrace_file_push(f, &ev);
    return f;
}

/*
 * mmiotrace-rotate: the records queued from here on go to a new file. The caller queues
 * the devices' headers next and then calls mmiotrace_file_rotate_done.
 */
bool mmiotrace_file_rotate(MmioTraceFile *f, const char *path, Error **errp)
{
    g_autofree char *canon = g_canonicalize_filename(path, NULL);
    MmioTraceFile *o;
    struct stat st_new, st_cur;
    MmioTraceRotate *r;
    int fd, direct_fd;
    bool seekable;

    if (qatomic_read(&f->closed)) {
        error_setg(errp, "mmiotrace-rotate: %s is closed", f->path);
        return false;
    }
    QLIST_FOREACH(o, &files, next) {
        if (o != f && !strcmp(o->path, canon)) {
            error_setg(errp, "mmiotrace-rotate: '%s' is the trace file of other "
                       "devices", path);
            return false;
        }
    }
    if (!stat(canon, &st_new) && !fstat(f->fd, &st_cur) && S_ISREG(st_new.st_mode) &&
        st_new.st_dev == st_cur.st_dev && st_new.st_ino == st_cur.st_ino) {
        error_setg(errp, "mmiotrace-rotate: '%s' is the file being written (rename "
                   "it first, then rotate to its name)", path);
        return false;
    }
    fd = open_trace(canon, path, f->want_direct, &direct_fd, &seekable, errp);
    if (fd < 0) {
        return false;
    }
    r = g_new0(MmioTraceRotate, 1);
    r->fd = fd;
    r->direct_fd = direct_fd;
    r->seekable = seekable;

    qemu_spin_lock(&f->lock);
    f->rotating = true;
    qemu_spin_unlock(&f->lock);
    MmioTraceEvent ev = { .type = MMIOTRACE_EV_ROTATE, .payload = r, .bar = -1,
                          .ts = stamp_now() };
    mmiotrace_file_push(f, &ev);
    MmioTraceEvent ver = { .type = MMIOTRACE_VERSION, .bar = -1, .ts = stamp_now() };
    mmiotrace_file_push(f, &ver);
    qemu_mutex_lock(&f->mutex);
    g_free(f->path);
    f->path = g_steal_pointer(&canon);
    qemu_mutex_unlock(&f->mutex);
    return true;
}

void mmiotrace_file_rotate_done(MmioTraceFile *f)
{
    qemu_spin_lock(&f->lock);
    f->rotating = false;
    qemu_spin_unlock(&f->lock);
    mmiotrace_file_sync(f);
}

/* Stop the writer once it has written everything, and close the file. */
static void file_finish(MmioTraceFile *f)
{
    /* from here on pushes are counted as dropped; the writer drains the ring */
    qemu_spin_lock(&f->lock);
    qatomic_set(&f->closed, true);
    qemu_spin_unlock(&f->lock);
    qemu_mutex_lock(&f->mutex);
    f->stopping = true;
    qemu_cond_broadcast(&f->wake);
    qemu_cond_broadcast(&f->space);
    qemu_mutex_unlock(&f->mutex);
    qemu_thread_join(&f->thread);
    if (f->lost_pending) {
        /* losses at the very end still get their marker */
        MmioTraceEvent lost = { .type = MMIOTRACE_LOST, .value = f->lost_pending };
        format_event(f, &lost, NULL);
        f->lost_pending = 0;
    }
    out_write(f, true);
    if (f->failing) {
        /* no marker can follow them: say it here */
        error_report("mmiotrace: %s: the last %" PRIu64 " records could not be written "
                     "(%s); the file ends before them", f->path, f->lost_unmarked,
                     strerror(f->failing));
    }
    if (f->direct_fd >= 0) {
        close(f->direct_fd);
        f->direct_fd = -1;
    }
    if (qemu_fdatasync(f->fd) < 0 && errno != EINVAL && errno != EROFS) {
        warn_report("mmiotrace: %s: %s", f->path, strerror(errno));
    }
    close(f->fd);
    f->fd = -1;
}

static void file_free(MmioTraceFile *f)
{
    QLIST_REMOVE(f, next);
    g_hash_table_destroy(f->lost_by_dev);
    g_hash_table_destroy(f->map_dev);
    mmiotrace_insn_cache_free(f->insn_cache);
    qemu_cond_destroy(&f->wake);
    qemu_cond_destroy(&f->space);
    qemu_mutex_destroy(&f->mutex);
    qemu_vfree(f->ring);
    g_free(f->insn_ring);
    qemu_vfree(f->buf);
    g_free(f->path);
    qemu_vfree(f);
}

void mmiotrace_file_unref(MmioTraceFile *f)
{
    if (--f->refcnt == 0) {
        if (!f->closed) {
            file_finish(f);
        }
        file_free(f);
    }
}

/* At exit: write out and close every file; devices keep their (closed) file. */
void mmiotrace_files_close_all(void)
{
    MmioTraceFile *f;

    QLIST_FOREACH(f, &files, next) {
        if (!f->closed) {
            file_finish(f);
        }
    }
}
