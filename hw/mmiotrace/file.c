/*
 * hvmmio: trace files. Events leave the vCPU through a bounded ring (file-ring.c) to a
 * writer thread (file-writer.c) that formats them with libmmiotrace and writes them
 * out (file-out.c). This file opens, rotates and closes files, shared by the devices
 * that name the same path.
 *
 * Each vCPU thread queues into a ring of its own; the main loop and I/O threads share
 * one more under a spinlock; the writer merges them in stamp order. Lossless mode
 * makes a producer wait for room; drop mode counts what does not fit and queues the
 * kernel's "Lost N events" marker where the loss happened. The writer flushes its
 * buffer when it is full, when the writer has been idle a few ms and at least every
 * WRITER_FLUSH_NS, so at most the rings' content and one output buffer are lost if
 * QEMU itself crashes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/memalign.h"
#include "qapi/error.h"
#include "file-int.h"
#include "trace.h"

static QLIST_HEAD(, MmioTraceFile) files = QLIST_HEAD_INITIALIZER(files);

/*
 * The compressor a file's name asks for (.zst, .gz, .xz; NULL: plain) in *zip; false
 * if it cannot be made. A compressed file is not written with O_DIRECT.
 */
static bool open_zip(const char *canon, const char *path, MmioTraceZip **zip,
                     Error **errp)
{
    enum mmiotrace_compression comp = mmiotrace_compression_from_name(canon);

    *zip = mmiotrace_zip_new(comp);
    if (comp != MMIOTRACE_COMP_NONE && !*zip) {
        error_setg(errp, "mmiotrace-file '%s': cannot set up its compression", path);
        return false;
    }
    return true;
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
    MmioTraceZip *zip;
    if (!open_zip(canon, path, &zip, errp)) {
        return NULL;
    }
    int fd = mmiotrace_out_open(canon, path, direct && !zip, &direct_fd, &seekable,
                                errp);
    if (fd < 0) {
        mmiotrace_zip_free(zip);
        return NULL;
    }
    f = qemu_memalign(64, sizeof(*f));   /* its cache-line aligned members */
    memset(f, 0, sizeof(*f));
    f->path = g_steal_pointer(&canon);
    f->fd = fd;
    f->refcnt = 1;
    f->compat = compat;
    f->drop = drop;
    mmiotrace_stamp_init();
    f->ns0 = f->refined_ns = get_clock();
    f->stamp0 = f->seg_stamp = mmiotrace_stamp_now();
    f->ns_per_stamp = mmiotrace_stamp_tsc ? mmiotrace_stamp_ns_per_tick : 1.0;
    f->wm_interval = WATERMARK_INTERVAL_NS / f->ns_per_stamp;
    f->map_ids = 1;
    f->ring_size = ring_size;
    f->lanes[MMIOTRACE_LANE_MISC] = mmiotrace_lane_new(ring_size);
    f->nlanes = 1;
    f->wake_batch = MIN(ring_size / 4, WAKE_BATCH_MAX);
    f->poll = ring_size >= WRITER_POLL_MIN_RING;
    f->min_batch = f->poll ? WRITER_MIN_BATCH : 1;
    f->buf = qemu_memalign(OUT_DIRECT_ALIGN, OUT_BUF_ALLOC);
    f->direct_fd = direct_fd;
    f->seekable = seekable;
    f->zip = zip;
    f->want_direct = direct;
    f->lost_by_dev = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    f->map_dev = g_hash_table_new_full(NULL, NULL, NULL, g_free);
    mmiotrace_record_init(&f->rw_rec, MMIOTRACE_READ);
    qemu_spin_init(&f->misc_lock);
    qemu_mutex_init(&f->mutex);
    qemu_cond_init(&f->wake);
    qemu_cond_init(&f->space);
    qemu_thread_create(&f->thread, "mmiotrace", mmiotrace_writer_thread, f,
                       QEMU_THREAD_JOINABLE);
    QLIST_INSERT_HEAD(&files, f, next);

    MmioTraceEvent ev = { .type = MMIOTRACE_VERSION, .bar = -1 };
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
    MmioTraceZip *zip;

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
    if (!open_zip(canon, path, &zip, errp)) {
        return false;
    }
    fd = mmiotrace_out_open(canon, path, f->want_direct && !zip, &direct_fd, &seekable,
                            errp);
    if (fd < 0) {
        mmiotrace_zip_free(zip);
        return false;
    }
    r = g_new0(MmioTraceRotate, 1);
    r->fd = fd;
    r->direct_fd = direct_fd;
    r->seekable = seekable;
    r->zip = zip;

    qatomic_set(&f->rotating, true);
    MmioTraceEvent ev = { .type = MMIOTRACE_EV_ROTATE, .rotate.to = r, .bar = -1 };
    mmiotrace_file_push(f, &ev);
    MmioTraceEvent ver = { .type = MMIOTRACE_VERSION, .bar = -1 };
    mmiotrace_file_push(f, &ver);
    qemu_mutex_lock(&f->mutex);
    g_free(f->path);
    f->path = g_steal_pointer(&canon);
    qemu_mutex_unlock(&f->mutex);
    return true;
}

void mmiotrace_file_rotate_done(MmioTraceFile *f)
{
    qatomic_set(&f->rotating, false);
    mmiotrace_file_sync(f);
}

/* Stop the writer once it has written everything, and close the file. */
static void file_finish(MmioTraceFile *f)
{
    /* from here on pushes are counted as dropped; the writer drains the rings */
    mmiotrace_ring_close(f);
    qemu_mutex_lock(&f->mutex);
    f->stopping = true;
    qemu_cond_broadcast(&f->wake);
    qemu_cond_broadcast(&f->space);
    qemu_mutex_unlock(&f->mutex);
    qemu_thread_join(&f->thread);
    for (unsigned i = 0; i < f->nlanes; i++) {
        MmioTraceLane *l = f->lanes[i];

        if (l && l->lost_pending) {
            /* losses at the very end still get their marker */
            MmioTraceEvent lost = { .type = MMIOTRACE_LOST, .bar = -1,
                                    .lost.count = l->lost_pending };
            mmiotrace_writer_format(f, &lost, NULL);
            l->lost_pending = 0;
        }
    }
    mmiotrace_out_write(f, true);
    mmiotrace_io_stop(f);
    trace_mmiotrace_file_close(f->path, f->written, qatomic_read(&f->bytes),
                               f->writer_cpu_ns[0], f->writer_cpu_ns[1],
                               f->io_cpu_ns[0] + f->io_cpu_ns[1],
                               f->room_waits, f->room_wait_ns);
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
    for (unsigned i = 0; i < f->nlanes; i++) {
        mmiotrace_lane_free(f->lanes[i]);
    }
    mmiotrace_zip_free(f->zip);
    qemu_vfree(f->buf);
    qemu_vfree(f->buf_spare);
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

