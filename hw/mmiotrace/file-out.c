/*
 * hvmmio: a trace file's output. The writer thread's buffer goes to the file with
 * O_DIRECT where allowed, else buffered; a failed write is cut back to the last whole
 * record, its records are counted as lost and a Lost marker goes where writing resumes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <poll.h>
#include "qapi/error.h"
#include "qemu/error-report.h"
#include "qemu/main-loop.h"
#include "qemu/memalign.h"
#include "block/aio.h"
#include "file-int.h"

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

char *mmiotrace_file_path_copy(MmioTraceFile *f)
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

    e->path = mmiotrace_file_path_copy(f);
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

void mmiotrace_out_marker(MmioTraceFile *f)
{
    struct mmiotrace_record rec;
    int n;

    mmiotrace_record_init(&rec, MMIOTRACE_LOST);
    rec.lost.count = f->lost_unmarked;
    rec.ts_ns = mmiotrace_stamp_to_ns(f, mmiotrace_stamp_now());
    n = mmiotrace_format(f->buf + f->buf_len, OUT_BUF_SIZE - f->buf_len, &rec,
                         f->compat ? MMIOTRACE_FMT_KERNEL : MMIOTRACE_FMT_EXTENDED);
    if (n > 0) {
        f->buf_len += n;
        f->written++;
        f->marker_end = f->off + f->buf_len;
    }
}

/*
 * Count the records of the buffer that did not reach the file (good_off is where the
 * file's whole records end): *records lost, *marked already counted by Lost lines.
 */
static void out_count_lost(MmioTraceFile *f, uint64_t *records, uint64_t *marked)
{
    size_t from = 0;

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
                count_lost_line(f, line, head + tail, records, marked);
            } else {
                (*records)++;
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
            count_lost_line(f, p, len, records, marked);
        }
        i += len;
    }
}

/* After a failure: the buffer starts again at the end of the file's whole records. */
static void out_restart(MmioTraceFile *f, size_t in_file)
{
    /* direct writes need whole blocks */
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

    if (nl && f->off + (nl + 1 - f->buf) > f->good_off) {
        f->good_off = f->off + (nl + 1 - f->buf);
    }
    if (f->marker_end && f->good_off >= f->marker_end) {
        /* the last marker reached the file before this failure: its losses are marked */
        f->marker_end = 0;
        f->lost_unmarked = 0;
    }
    out_count_lost(f, &records, &marked);
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
    out_restart(f, in_file);
    mmiotrace_out_marker(f);
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

/* Whole blocks p[0, len) are in the file at at. */
static void out_blocks_written(MmioTraceFile *f, const char *p, size_t len, off_t at)
{
    const char *nl = memrchr(p, '\n', len);

    if (nl) {
        out_good(f, at + (nl + 1 - p));
    }
    if (f->marker_end && f->marker_end <= at + len) {
        f->marker_end = 0;
    }
}

/*
 * Hand buf[0, whole) to the I/O thread: the rest (part of a block) starts the other
 * buffer, which the writer fills meanwhile. Nothing may be in flight.
 */
static void out_io_start(MmioTraceFile *f, size_t whole)
{
    char *next = f->buf_spare;

    if (!next) {
        next = qemu_memalign(OUT_DIRECT_ALIGN, OUT_BUF_ALLOC);
    }
    memcpy(next, f->buf + whole, f->buf_len - whole);
    mmiotrace_io_submit(f, f->direct_fd, f->buf, whole, f->off);
    qatomic_set(&f->io_pending, whole);
    smp_wmb();  /* counted in flight before it leaves buf_len: out_pending reads both */
    f->buf_spare = f->buf;
    f->buf = next;
    f->off += whole;
    f->buf_synced = 0;
    qatomic_set(&f->buf_len, f->buf_len - whole);
}

/*
 * Wait for the direct write in flight, if any, and account for it. false: it failed;
 * the buffer formatted meanwhile follows it in the one that was in flight (whose size
 * allows both), and out_fail cuts that back as for a write of all of it at once.
 */
static bool out_io_finish(MmioTraceFile *f)
{
    size_t len = f->io_pending, done;
    char *sent = f->buf_spare;
    off_t at = f->off - len;
    int err;

    if (!len) {
        return true;
    }
    err = mmiotrace_io_wait(f, &done);
    qatomic_set(&f->io_pending, 0);
    if (err == EINVAL && !done) {
        /* the file system refuses this direct write: buffered from here on */
        close(f->direct_fd);
        f->direct_fd = -1;
        err = out_put(f, f->fd, sent, len, at, &done) ? 0 : errno;
    }
    if (!err) {
        out_blocks_written(f, sent, len, at);
        return true;
    }
    memcpy(sent + len, f->buf, f->buf_len);
    f->buf_spare = f->buf;
    f->buf = sent;
    f->buf_len += len;
    f->buf_synced = 0;
    f->off = at;
    errno = err;
    out_fail(f, done);
    return false;
}

/*
 * A compressed file: the whole buffer as one frame (file-zip.c). A failed write is cut
 * back to the end of the last whole frame, and every record of the buffer is lost.
 */
static void out_write_frame(MmioTraceFile *f)
{
    size_t clen, done;
    const void *frame;

    if (!f->buf_len) {
        return;
    }
    frame = mmiotrace_zip_frame(f->zip, f->buf, f->buf_len, &clen);
    if (!frame || !out_put(f, f->fd, frame, clen, f->off, &done)) {
        out_fail(f, 0);
        return;
    }
    if (f->marker_end) {
        /* the pending Lost marker was in this frame: it is in the file */
        f->marker_end = 0;
        f->lost_unmarked = 0;
    }
    f->off += clen;
    out_good(f, f->off);
    qatomic_set(&f->buf_len, 0);
    qatomic_set(&f->buf_synced, 0);
}

/*
 * Write out the buffer: all of it with flush, else at least the whole direct blocks.
 *
 * A regular file is written through the page cache, or with O_DIRECT
 * (mmiotrace-direct=on) where its file system allows it. Through the page cache each
 * new page costs the writer a page allocation and a copy, the kernel's flusher threads
 * write it back, and the trace takes page cache until the kernel evicts it (measured on
 * these virtual machines: 2.6 s of CPU per GB buffered against 0.17 s direct, dd, 512
 * KiB blocks). A direct write returns only once the disk has it: the I/O thread
 * (file-io.c) makes it, from the buffer just filled, while the writer formats into the
 * other one (out_io_start); a flush waits for it and writes directly.
 * Direct writes take whole blocks from the aligned buffer; what is left (less than a
 * block) starts the next buffer. A flush also writes that rest through the
 * buffered descriptor at the same offset, so the file is complete whenever the writer
 * is idle; the next direct write covers the block again together with what follows.
 *
 * The buffer always ends with a whole record. On a failure see out_fail.
 */
void mmiotrace_out_write(MmioTraceFile *f, bool flush)
{
    size_t whole, done;

    if (f->zip) {
        out_write_frame(f);
        return;
    }
    if (!out_io_finish(f)) {
        return;
    }
    whole = f->direct_fd >= 0 ? QEMU_ALIGN_DOWN(f->buf_len, OUT_DIRECT_ALIGN) : 0;
    if (whole && !flush) {
        out_io_start(f, whole);
        return;
    }
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
        out_blocks_written(f, f->buf, whole, f->off);
        f->off += whole;
        f->buf_len -= whole;
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
size_t mmiotrace_out_pending(MmioTraceFile *f)
{
    size_t in_flight = qatomic_read(&f->io_pending);

    smp_rmb();  /* pairs with out_io_start's: in flight before out of buf_len */
    return in_flight + qatomic_read(&f->buf_len) - qatomic_read(&f->buf_synced);
}

/* Writer: at a record boundary, finish the old file and go on in the new one. */
void mmiotrace_out_switch(MmioTraceFile *f, MmioTraceRotate *r)
{
    mmiotrace_out_write(f, true);
    if (f->direct_fd >= 0) {
        close(f->direct_fd);
    }
    if (qemu_fdatasync(f->fd) < 0) {
        /* a pipe or a failing disk: what failed was counted by mmiotrace_out_write */
    }
    close(f->fd);
    f->fd = r->fd;
    f->direct_fd = r->direct_fd;
    f->seekable = r->seekable;
    mmiotrace_zip_free(f->zip);
    f->zip = g_steal_pointer(&r->zip);
    f->off = f->good_off = 0;
    f->buf_len = f->buf_synced = 0;
    f->marker_end = 0;
    qatomic_set(&f->bytes, 0);
}

/*
 * Open a trace file for writing: a regular file is truncated (and also opened with
 * O_DIRECT when asked and allowed); a FIFO without a reader is an error, not a hang.
 */
int mmiotrace_out_open(const char *canon, const char *path, bool direct, int *direct_fd,
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
