/*
 * hvmmio: trace files. Events leave the vCPU through a bounded ring to a writer
 * thread that formats them with libmmiotrace and writes them out.
 *
 * Producers (vCPU threads, the main loop) serialise on a spinlock; the writer consumes
 * without it. Lossless mode makes a producer wait for room; drop mode counts what does
 * not fit and queues the kernel's "Lost N events" marker where the loss happened.
 * The writer flushes whenever the ring runs empty, so at most the ring's content and
 * one output buffer are lost if QEMU itself crashes.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/timer.h"
#include "qapi/error.h"
#include "mmiotrace-int.h"

#define OUT_BUF_SIZE (512 * 1024)

/*
 * Waking the writer is a futex system call (several µs on a virtual machine). Producers do
 * it only when a batch has built up (a quarter of the ring, at most WAKE_BATCH_MAX records),
 * when WAKE_LATENCY_NS have passed since the last wake-up, or for a non-access event; an
 * idle writer also looks at the ring every WRITER_POLL_MS. A record therefore reaches the
 * file at most WRITER_POLL_MS after it was made, and mmiotrace_file_sync (mmiotrace-stop,
 * query-mmiotrace, exit) still writes out everything at once.
 */
#define WAKE_BATCH_MAX 4096
#define WAKE_LATENCY_NS 1000000
#define WRITER_POLL_MS 100

struct MmioTraceFile {
    char *path;
    int fd;
    int refcnt;
    bool compat, drop;
    uint64_t t0;
    int32_t map_ids;

    /* ring */
    MmioTraceEvent *ring;
    uint64_t mask;
    uint64_t head;          /* next slot to fill (producers, under lock) */
    uint64_t tail;          /* next slot to write (writer) */
    QemuSpin lock;
    uint64_t lost_pending;  /* drop mode: lost since the last queued marker */
    uint64_t wake_batch;    /* records that make a producer wake an idle writer */
    uint64_t last_wake_ts;  /* producers, under lock: ts of the last wake-up asked for */

    /* writer thread */
    QemuThread thread;
    QemuMutex mutex;
    QemuCond wake;          /* writer waits for events */
    QemuCond space;         /* producers wait for room; sync waits for the writer */
    int writer_idle;
    int waiters;
    bool stopping;
    bool closed;            /* QEMU is exiting: the writer is gone */
    void *insn_cache;

    /* statistics */
    uint64_t records, bytes, dropped, write_errors;
    bool error_reported;
    char *buf;
    size_t buf_len;
    /* writer: the record R/W events are formatted from; fields they do not set stay zero */
    struct mmiotrace_record rw_rec;

    QLIST_ENTRY(MmioTraceFile) next;
};

static QLIST_HEAD(, MmioTraceFile) files = QLIST_HEAD_INITIALIZER(files);

static void out_write(MmioTraceFile *f)
{
    size_t done = 0;

    while (done < f->buf_len) {
        ssize_t n = write(f->fd, f->buf + done, f->buf_len - done);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            if (!f->error_reported) {
                error_report("mmiotrace: writing %s failed: %s; records are "
                             "being lost", f->path, n < 0 ? strerror(errno) : "short write");
                f->error_reported = true;
            }
            f->write_errors++;
            break;
        }
        done += n;
    }
    qatomic_add(&f->bytes, done);
    f->buf_len = 0;
}

static void format_out(MmioTraceFile *f, MmioTraceEvent *ev,
                       const struct mmiotrace_record *rec, unsigned mode);

static void format_event(MmioTraceFile *f, MmioTraceEvent *ev)
{
    struct mmiotrace_record rec;
    unsigned mode = f->compat ? MMIOTRACE_FMT_KERNEL : MMIOTRACE_FMT_EXTENDED;

    if (ev->type == MMIOTRACE_READ || ev->type == MMIOTRACE_WRITE) {
        /* the hot path: no memset of the whole record, every field R/W uses is set here */
        struct mmiotrace_record *r = &f->rw_rec;

        r->type = ev->type;
        r->ts_ns = ev->ts;
        r->ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_VCPU | MMIOTRACE_EXT_BAR;
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
            r->asm_text = mmiotrace_insn_text(&f->insn_cache, ev, &r->asm_len);
            if (r->asm_text) {
                r->ext |= MMIOTRACE_EXT_ASM;
            }
            r->ext |= MMIOTRACE_EXT_INSN;
            r->insn_len = ev->insn_len;
            memcpy(r->insn, ev->insn, ev->insn_len);
        }
        format_out(f, ev, r, mode);
        return;
    }
    mmiotrace_record_init(&rec, ev->type);
    rec.ts_ns = ev->ts;
    rec.ext = MMIOTRACE_EXT_NS;
    if (ev->dev) {
        rec.ext |= MMIOTRACE_EXT_DEV;
        rec.dev = ev->dev->name;
        rec.dev_len = ev->dev->name_len;
    }
    switch (ev->type) {
    case MMIOTRACE_MAP:
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
}

static void format_out(MmioTraceFile *f, MmioTraceEvent *ev,
                       const struct mmiotrace_record *rec, unsigned mode)
{
    int n = mmiotrace_format(f->buf + f->buf_len, OUT_BUF_SIZE - f->buf_len, rec,
                             mode);

    if (n < 0) {
        error_report("mmiotrace: %s: cannot format a %s record: %s", f->path,
                     mmiotrace_type_name(ev->type), strerror(errno));
        return;
    }
    f->buf_len += n;
    if (n > 0) {
        qatomic_inc(&f->records);
    }
    if (f->buf_len > OUT_BUF_SIZE - MMIOTRACE_FORMAT_MAX) {
        out_write(f);
    }
}

static void *writer_thread(void *opaque)
{
    MmioTraceFile *f = opaque;

    for (;;) {
        uint64_t tail = f->tail;
        uint64_t head = qatomic_load_acquire(&f->head);

        if (tail == head) {
            if (f->buf_len) {
                out_write(f);
            }
            qemu_mutex_lock(&f->mutex);
            if (f->waiters) {
                qemu_cond_broadcast(&f->space);
            }
            qatomic_set(&f->writer_idle, 1);
            smp_mb();
            if (qatomic_load_acquire(&f->head) == tail) {
                if (f->stopping) {
                    qatomic_set(&f->writer_idle, 0);
                    qemu_mutex_unlock(&f->mutex);
                    break;
                }
                qemu_cond_timedwait(&f->wake, &f->mutex, WRITER_POLL_MS);
            }
            qatomic_set(&f->writer_idle, 0);
            qemu_mutex_unlock(&f->mutex);
            continue;
        }
        for (; tail != head; tail++) {
            MmioTraceEvent *ev = &f->ring[tail & f->mask];
            format_event(f, ev);
            g_free(ev->payload);
            ev->payload = NULL;
        }
        qatomic_store_release(&f->tail, tail);
        if (qatomic_read(&f->waiters)) {
            qemu_mutex_lock(&f->mutex);
            qemu_cond_broadcast(&f->space);
            qemu_mutex_unlock(&f->mutex);
        }
    }
    return NULL;
}

static void wake_writer(MmioTraceFile *f)
{
    smp_mb();
    if (qatomic_read(&f->writer_idle)) {
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

void mmiotrace_file_push(MmioTraceFile *f, MmioTraceEvent *ev)
{
    uint64_t head, need;
    bool wake;

    qemu_spin_lock(&f->lock);
    if (f->closed) {
        qatomic_inc(&f->dropped);
        qemu_spin_unlock(&f->lock);
        g_free(ev->payload);
        return;
    }
    for (;;) {
        head = f->head;
        need = 1 + (f->lost_pending ? 1 : 0);
        if (head - qatomic_load_acquire(&f->tail) + need <= f->mask + 1) {
            break;
        }
        if (f->drop) {
            f->lost_pending++;
            qatomic_inc(&f->dropped);
            qemu_spin_unlock(&f->lock);
            g_free(ev->payload);
            wake_writer(f);
            return;
        }
        qemu_spin_unlock(&f->lock);
        wait_for_room(f, need);
        qemu_spin_lock(&f->lock);
        if (f->closed) {
            qatomic_inc(&f->dropped);
            qemu_spin_unlock(&f->lock);
            g_free(ev->payload);
            return;
        }
    }
    if (f->lost_pending) {
        MmioTraceEvent *lost = &f->ring[head++ & f->mask];
        memset(lost, 0, sizeof(*lost));
        lost->type = MMIOTRACE_LOST;
        lost->value = f->lost_pending;
        lost->ts = ev->ts;
        f->lost_pending = 0;
    }
    /* without an instruction, its bytes are not copied (insn_len 0: they are unused) */
    memcpy(&f->ring[head & f->mask], ev,
           ev->insn_len ? sizeof(*ev) : offsetof(MmioTraceEvent, insn));
    qatomic_store_release(&f->head, head + 1);
    wake = (ev->type != MMIOTRACE_READ && ev->type != MMIOTRACE_WRITE) ||
           head + 1 - qatomic_read(&f->tail) >= f->wake_batch ||
           ev->ts - f->last_wake_ts >= WAKE_LATENCY_NS;
    if (wake) {
        f->last_wake_ts = ev->ts;
    }
    qemu_spin_unlock(&f->lock);
    if (wake) {
        wake_writer(f);
    }
}

void mmiotrace_file_sync(MmioTraceFile *f)
{
    if (qatomic_read(&f->closed)) {
        return;
    }
    uint64_t target = qatomic_load_acquire(&f->head);

    qemu_mutex_lock(&f->mutex);
    f->waiters++;
    qemu_cond_signal(&f->wake);
    while (qatomic_load_acquire(&f->tail) < target || f->buf_len) {
        qemu_cond_signal(&f->wake);
        qemu_cond_timedwait(&f->space, &f->mutex, 10);
    }
    f->waiters--;
    qemu_mutex_unlock(&f->mutex);
}

uint64_t mmiotrace_file_now(MmioTraceFile *f)
{
    return get_clock() - f->t0;
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

bool mmiotrace_file_drop_mode(MmioTraceFile *f)
{
    return f->drop;
}

void mmiotrace_file_stats(MmioTraceFile *f, uint64_t *records, uint64_t *bytes,
                          uint64_t *dropped)
{
    *records = qatomic_read(&f->records);
    *bytes = qatomic_read(&f->bytes);
    *dropped = qatomic_read(&f->dropped) + qatomic_read(&f->write_errors);
}

MmioTraceFile *mmiotrace_file_open(const char *path, bool compat, bool drop,
                                   uint32_t ring_size, Error **errp)
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
    int fd = qemu_open_old(canon, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        error_setg_errno(errp, errno, "cannot open mmiotrace-file '%s'", path);
        return NULL;
    }
    f = g_new0(MmioTraceFile, 1);
    f->path = g_steal_pointer(&canon);
    f->fd = fd;
    f->refcnt = 1;
    f->compat = compat;
    f->drop = drop;
    f->t0 = get_clock();
    f->map_ids = 1;
    f->ring = g_new0(MmioTraceEvent, ring_size);
    f->mask = ring_size - 1;
    f->wake_batch = MIN(ring_size / 4, WAKE_BATCH_MAX);
    f->buf = g_malloc(OUT_BUF_SIZE);
    mmiotrace_record_init(&f->rw_rec, MMIOTRACE_READ);
    qemu_spin_init(&f->lock);
    qemu_mutex_init(&f->mutex);
    qemu_cond_init(&f->wake);
    qemu_cond_init(&f->space);
    qemu_thread_create(&f->thread, "mmiotrace", writer_thread, f,
                       QEMU_THREAD_JOINABLE);
    QLIST_INSERT_HEAD(&files, f, next);

    MmioTraceEvent ev = { .type = MMIOTRACE_VERSION, .ts = 0 };
    mmiotrace_file_push(f, &ev);
    return f;
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
        format_event(f, &lost);
        f->lost_pending = 0;
    }
    if (f->buf_len) {
        out_write(f);
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
    mmiotrace_insn_cache_free(f->insn_cache);
    qemu_cond_destroy(&f->wake);
    qemu_cond_destroy(&f->space);
    qemu_mutex_destroy(&f->mutex);
    g_free(f->ring);
    g_free(f->buf);
    g_free(f->path);
    g_free(f);
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
