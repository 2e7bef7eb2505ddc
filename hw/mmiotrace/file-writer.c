/*
 * hvmmio: a trace file's writer thread. It takes events from the ring in batches,
 * turns them into libmmiotrace records, formats them into the output buffer
 * (file-out.c) and decides when to sleep, poll and flush.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#ifdef __linux__
#include <sched.h>
#include <sys/resource.h>
#endif
#include "qemu/error-report.h"
#include "file-int.h"

static void format_out(MmioTraceFile *f, MmioTraceEvent *ev,
                       const struct mmiotrace_record *rec, unsigned mode)
{
    /* the buffer always has MMIOTRACE_FORMAT_MAX bytes free; R/W records are valid */
    int n = ev->type == MMIOTRACE_READ || ev->type == MMIOTRACE_WRITE
        ? mmiotrace_format_valid(f->buf + f->buf_len, rec, mode)
        : mmiotrace_format(f->buf + f->buf_len, OUT_BUF_SIZE - f->buf_len, rec, mode);

    if (n < 0) {
        /* not expected (the producers check what they queue): a lost record, counted */
        g_autofree char *path = mmiotrace_file_path_copy(f);
        error_report("mmiotrace: %s: cannot format a %s record: %s", path,
                     mmiotrace_type_name(ev->type), strerror(errno));
        qatomic_set(&f->write_lost, f->write_lost + 1);
        return;
    }
    f->buf_len += n;
    f->written++;
    if (f->buf_len > OUT_BUF_SIZE - MMIOTRACE_FORMAT_MAX) {
        mmiotrace_out_write(f, false);
    }
}

/* The record of an event other than R/W; false if it has none. */
static bool other_record(MmioTraceFile *f, MmioTraceEvent *ev,
                         struct mmiotrace_record *rec)
{
    switch (ev->type) {
    case MMIOTRACE_MAP:
        if (ev->dev) {
            g_hash_table_insert(f->map_dev, GINT_TO_POINTER(ev->map.map_id),
                                g_strdup(ev->dev->name));
        }
        rec->map.map_id = ev->map.map_id;
        rec->map.phys = ev->map.phys;
        rec->map.virt = 0;
        rec->map.len = ev->map.len;
        rec->ext |= MMIOTRACE_EXT_BAR;
        rec->bar = ev->bar;
        rec->bar_off = 0;
        return true;
    case MMIOTRACE_UNMAP:
        rec->unmap.map_id = ev->map.map_id;
        rec->ext |= MMIOTRACE_EXT_BAR;
        rec->bar = ev->bar;
        rec->bar_off = 0;
        return true;
    case MMIOTRACE_MARK:
        rec->mark.text = ev->mark.text;
        rec->mark.len = strlen(ev->mark.text);
        rec->ext = 0;
        return true;
    case MMIOTRACE_LOST:
        rec->lost.count = ev->lost.count;
        rec->ext = 0;
        return true;
    case MMIOTRACE_VERSION:
        rec->version.text = MMIOTRACE_VERSION_STRING;
        rec->version.len = strlen(MMIOTRACE_VERSION_STRING);
        rec->ext = 0;
        return true;
    case MMIOTRACE_PCIDEV:
        rec->pcidev = *ev->pcidev.pcidev;
        rec->ext &= MMIOTRACE_EXT_DEV;
        return true;
    case MMIOTRACE_CONFIG:
        rec->config.bus = ev->config.bus;
        rec->config.devfn = ev->config.devfn;
        rec->config.len = ev->config.len;
        rec->config.data = ev->config.data;
        rec->ext &= MMIOTRACE_EXT_DEV;
        return true;
    case MMIOTRACE_DMA:
        rec->dma.dir = ev->dma.dir;
        rec->dma.addr = ev->dma.addr;
        rec->dma.len = ev->dma.len;
        rec->dma.crc = ev->dma.crc;
        rec->dma.nbytes = ev->dma.nbytes;
        rec->dma.data = ev->dma.data;
        break;
    case MMIOTRACE_DMAMAP:
        rec->dmamap.map = ev->dmamap.map;
        rec->dmamap.readonly = ev->dmamap.readonly;
        rec->dmamap.iova = ev->dmamap.iova;
        rec->dmamap.len = ev->dmamap.len;
        break;
    case MMIOTRACE_IRQ:
        rec->irq.kind = ev->irq.kind;
        rec->irq.vector = ev->irq.vector;
        rec->irq.data = ev->irq.data;
        rec->irq.addr = ev->irq.addr;
        break;
    default:
        return false;
    }
    /* DMA, DMAMAP, IRQ: made by a vCPU's access, or by QEMU itself (vcpu=none) */
    rec->ext |= MMIOTRACE_EXT_VCPU;
    rec->vcpu = ev->vcpu;
    return true;
}

/* Every other event: rare, from a record of its own. */
static void __attribute__((noinline)) format_other(MmioTraceFile *f, MmioTraceEvent *ev,
                                                   unsigned mode)
{
    struct mmiotrace_record rec;

    if (ev->type == MMIOTRACE_EV_ROTATE) {
        mmiotrace_out_switch(f, ev->rotate.to);
        return;
    }
    mmiotrace_record_init(&rec, ev->type);
    rec.ts_ns = mmiotrace_stamp_to_ns(f, ev->ts);
    rec.ext = MMIOTRACE_EXT_NS;
    if (ev->dev) {
        rec.ext |= MMIOTRACE_EXT_DEV;
        rec.dev = ev->dev->name;
        rec.dev_len = ev->dev->name_len;
    }
    if (!other_record(f, ev, &rec)) {
        return;
    }
    format_out(f, ev, &rec, mode);
    if (ev->type == MMIOTRACE_VERSION && f->lost_unmarked && !f->marker_end) {
        /* losses before a rotation whose marker did not reach the old file */
        mmiotrace_out_marker(f);
    }
}

void mmiotrace_writer_format(MmioTraceFile *f, MmioTraceEvent *ev, const uint8_t *insn)
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
        r->ts_ns = mmiotrace_stamp_to_ns(f, ev->ts);
        if (ev->dev) {
            /* counted here, by the one thread that writes the device's file */
            qatomic_set(&ev->dev->records, ev->dev->records + 1);
        }
        r->ext = MMIOTRACE_EXT_NS | MMIOTRACE_EXT_VCPU | MMIOTRACE_EXT_BAR | ev->rw.flags;
        r->dev = NULL;
        r->dev_len = 0;
        if (ev->dev) {
            r->ext |= MMIOTRACE_EXT_DEV;
            r->dev = ev->dev->name;
            r->dev_len = ev->dev->name_len;
        }
        r->rw.width = ev->rw.width;
        r->rw.map_id = ev->rw.map_id;
        r->rw.phys = ev->rw.phys;
        r->rw.value = ev->rw.value;
        r->rw.pc = ev->rw.pc;
        r->vcpu = ev->vcpu;
        r->bar = ev->bar;
        r->bar_off = ev->rw.off;
        r->asm_text = NULL;
        r->asm_len = 0;
        r->insn_len = 0;
        if (ev->rw.insn_len) {
            /* first: disassembly trims the bytes to the one instruction */
            r->asm_text = mmiotrace_insn_text(&f->insn_cache, ev, insn, &r->asm_len);
            if (r->asm_text) {
                r->ext |= MMIOTRACE_EXT_ASM;
            }
            r->ext |= MMIOTRACE_EXT_INSN;
            r->insn_len = ev->rw.insn_len;
            memcpy(r->insn, insn, ev->rw.insn_len);
        }
        format_out(f, ev, r, mode);
        return;
    }
    format_other(f, ev, mode);
}

/*
 * The writer must not take the CPU from a vCPU: woken, it would otherwise often preempt
 * the vCPU on the vCPU's own core (measured: +170 ns per access in half the runs).
 * SCHED_BATCH is not preempting on wake-up. Its nice value stays the process's: a lower
 * priority (it was nice 10) starved it behind any busy process on the other core (a CPU
 * hog gets ten times its share), the ring filled and, lossless, the vCPU waited for it:
 * traced accesses cost 2.7-5 times untraced ones then. At the same priority it takes
 * what it needs (about an eighth of a core at a million records a second). The I/O
 * thread (file-io.c) runs the same way.
 */
void mmiotrace_thread_set_batch(void)
{
#ifdef __linux__
    struct sched_param sp = { 0 };

    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
#endif
}

/* Add the CPU time the calling thread has used (ns) to cpu[0] (user), cpu[1] (system). */
void mmiotrace_thread_cpu_ns(uint64_t cpu[2])
{
#ifdef RUSAGE_THREAD
    struct rusage ru;

    if (getrusage(RUSAGE_THREAD, &ru) == 0) {
        cpu[0] += ru.ru_utime.tv_sec * NANOSECONDS_PER_SECOND +
                  ru.ru_utime.tv_usec * 1000;
        cpu[1] += ru.ru_stime.tv_sec * NANOSECONDS_PER_SECOND +
                  ru.ru_stime.tv_usec * 1000;
    }
#endif
}

/* Events queued and not written yet, in every lane. */
static uint64_t writer_pending(MmioTraceFile *f)
{
    unsigned n = qatomic_read(&f->nlanes);
    uint64_t pending = 0;

    for (unsigned i = 0; i < n; i++) {
        MmioTraceLane *l = qatomic_load_acquire(&f->lanes[i]);

        if (l) {
            pending += qatomic_load_acquire(&l->head) - l->tail;
        }
    }
    return pending;
}

/*
 * Bounds of the merge: stamps before which a lane can queue no event any more
 * (file-ring.c). The writer's own stamp, then a barrier, then the lanes' claims: a lane
 * claiming a stamp bounds it at that stamp, a lane taking one (LANE_STAMPING, 0) at 0.
 * This is the last step: w lowered to the claims of lanes[0..n).
 */
static uint64_t writer_claims(MmioTraceFile *f, unsigned n, uint64_t w)
{
    for (unsigned i = 0; i < n; i++) {
        MmioTraceLane *l = qatomic_load_acquire(&f->lanes[i]);
        uint64_t claim = l ? qatomic_load_acquire(&l->claim) : LANE_IDLE;

        if (claim != LANE_IDLE) {
            w = MIN(w, claim);
        }
    }
    return w;
}

/*
 * The local bound takes a plain fence: it bounds the lanes whose producers fence their
 * stamps (the shared lane; every lane where the kernel has no membarrier) and every
 * lane made after it (mmiotrace_lane_make fences). Made at every drain.
 */
static uint64_t writer_local_bound(MmioTraceFile *f, bool fenced_all)
{
    uint64_t w = mmiotrace_stamp_before_loads(false);
    unsigned n = fenced_all ? qatomic_read(&f->nlanes) : MMIOTRACE_LANE_MISC + 1;

    return writer_claims(f, n, w);
}

/*
 * The global bound (f->wm) takes the global barrier (membarrier, whose IPIs exit to the
 * outer hypervisor on a nested machine: about 14 ns of the writer's CPU per record at
 * one a millisecond), and bounds every lane. It is needed only while a vCPU's lane is
 * empty, and taken at most once per WATERMARK_INTERVAL_NS (file-int.h) unless someone
 * waits for the writer. A bound stays true: events stamped before it were all
 * published when it was taken.
 */
static bool writer_may_barrier(MmioTraceFile *f)
{
    return mmiotrace_stamp_now() - f->wm_taken >= f->wm_interval ||
           qatomic_read(&f->waiters) || qatomic_read(&f->stopping) ||
           qatomic_read(&f->flush_req);
}

static uint64_t writer_barrier(MmioTraceFile *f)
{
    uint64_t w;

    f->wm_taken = mmiotrace_stamp_now();
    w = mmiotrace_stamp_before_loads(true);
    /* lanes made after the barrier can only queue events stamped after w */
    f->wm = writer_claims(f, qatomic_read(&f->nlanes), w);
    return f->wm;
}

/* slots the writer asks for ahead (their lines are in the producer's core) */
#define WRITER_PREFETCH_AHEAD 8

static void writer_event(MmioTraceFile *f, MmioTraceLane *l, uint64_t i)
{
    MmioTraceEvent *ev = &l->ring[i & l->mask];

    __builtin_prefetch(&l->ring[(i + WRITER_PREFETCH_AHEAD) & l->mask]);

    mmiotrace_writer_format(f, ev, l->insn_ring + (i & l->mask) * MMIOTRACE_INSN_MAX);
    mmiotrace_event_free(ev);
}

/* The lanes' pending events, from their tails to their heads, read after the bounds. */
typedef struct WriterMerge {
    unsigned n;
    MmioTraceLane *lane[MMIOTRACE_LANES];
    uint64_t head[MMIOTRACE_LANES], tail[MMIOTRACE_LANES];
} WriterMerge;

static void writer_heads(MmioTraceFile *f, WriterMerge *m)
{
    unsigned n = qatomic_read(&f->nlanes);

    for (unsigned i = 0; i < n; i++) {
        if (i >= m->n || !m->lane[i]) {
            /* a lane seen for the first time (the merge keeps the others' tails) */
            m->lane[i] = qatomic_load_acquire(&f->lanes[i]);
            m->tail[i] = m->lane[i] ? m->lane[i]->tail : 0;
        }
        m->head[i] = m->lane[i] ? qatomic_load_acquire(&m->lane[i]->head) : m->tail[i];
        if (unlikely(f->test_merge_delay_us)) {
            /* a writer preempted between two lanes' heads (tests/integration/smp.sh) */
            g_usleep(f->test_merge_delay_us);
        }
    }
    m->n = n;
}

/*
 * Write out the lanes' pending events in stamp order (a lane's own events are in order
 * already; ties go to the lower lane), and give their slots back. An event is written
 * once no other lane can queue an earlier one: a lane with a pending event queues later
 * ones; an empty lane is bounded by the local bound or, if it is a vCPU's without
 * fences, by the global one. Returns how many were written.
 */
static uint64_t writer_drain(MmioTraceFile *f)
{
    bool fenced_all = !qatomic_read(&mmiotrace_stamp_asymmetric);
    uint64_t local = writer_local_bound(f, fenced_all), done = 0;
    bool barrier_taken = false;
    WriterMerge m = { .n = 0 };

    mmiotrace_stamp_refine(f);
    writer_heads(f, &m);
    for (;;) {
        int best = -1;
        uint64_t best_ts = UINT64_MAX, bound = local;

        for (unsigned i = 0; i < m.n; i++) {
            MmioTraceLane *l = m.lane[i];

            if (m.tail[i] != m.head[i]) {
                if (l->ring[m.tail[i] & l->mask].ts < best_ts) {
                    best = i;
                    best_ts = l->ring[m.tail[i] & l->mask].ts;
                }
            } else if (l && i != MMIOTRACE_LANE_MISC && !fenced_all) {
                bound = MIN(bound, f->wm);
            }
        }
        if (best < 0) {
            break;
        }
        if (best_ts >= bound) {
            if (best_ts >= local || barrier_taken || !writer_may_barrier(f)) {
                break;
            }
            /* a vCPU's empty lane holds it back: bound every lane, and look again */
            local = MAX(local, writer_barrier(f));
            barrier_taken = true;
            writer_heads(f, &m);
            continue;
        }
        writer_event(f, m.lane[best], m.tail[best]++);
        done++;
    }
    for (unsigned i = 0; i < m.n; i++) {
        if (m.lane[i] && m.tail[i] != m.lane[i]->tail) {
            qatomic_store_release(&m.lane[i]->tail, m.tail[i]);
        }
    }
    if (done && qatomic_read(&f->waiters)) {
        qemu_mutex_lock(&f->mutex);
        qemu_cond_broadcast(&f->space);
        qemu_mutex_unlock(&f->mutex);
    }
    return done;
}

/* The ring is empty: flush the buffer if asked, or idle long enough. */
static void writer_flush_idle(MmioTraceFile *f, unsigned empty_polls,
                              uint64_t *flushed_ns)
{
    uint64_t now = get_clock();
    bool asked = qatomic_read(&f->flush_req);

    if (!mmiotrace_out_pending(f)) {
        return;
    }
    if (asked || empty_polls >= WRITER_FLUSH_POLLS ||
        now - *flushed_ns >= f->flush_ns) {
        mmiotrace_out_write(f, true);
        *flushed_ns = now;
        if (asked) {
            qatomic_inc(&f->flushes);
        }
    }
}

/*
 * Sleep until woken or for a poll interval (idle: longer); with f->mutex held. false:
 * the file is stopping and everything is written.
 */
static bool writer_wait(MmioTraceFile *f, bool idle, bool *slept)
{
    if (f->waiters) {
        qemu_cond_broadcast(&f->space);
    }
    if (f->stopping && !writer_pending(f)) {
        return false;
    }
    if (idle) {
        qatomic_set(&f->writer_idle, WRITER_IDLE);
        /*
         * Pairs with wake_writer's barrier: the idle state is visible before the heads
         * are read again, so a producer either sees the writer idle or its record is
         * seen.
         */
        smp_mb();
        /* a producer that saw the writer running before this did not wake it */
        if (!writer_pending(f)) {
            qemu_cond_timedwait(&f->wake, &f->mutex, WRITER_POLL_MS);
        }
    } else {
        qatomic_set(&f->writer_idle, WRITER_POLLING);
        /* a producer waiting for room may have signalled before we slept */
        if (!f->waiters || !writer_pending(f)) {
            qemu_cond_timedwait(&f->wake, &f->mutex, WRITER_POLL_ACTIVE_MS);
        }
        *slept = true;
    }
    qatomic_set(&f->writer_idle, WRITER_RUNNING);
    return true;
}

void *mmiotrace_writer_thread(void *opaque)
{
    MmioTraceFile *f = opaque;
    unsigned empty_polls = 0;
    bool slept = false, more = true;
    uint64_t seen_dropped = 0, flushed_ns = get_clock();

    mmiotrace_thread_set_batch();
    f->test_merge_delay_us =
        g_ascii_strtoull(g_getenv("HVMMIO_TEST_MERGE_DELAY_US") ?: "0", NULL, 10);
    f->flush_ns = g_ascii_strtoull(g_getenv("HVMMIO_TEST_FLUSH_MS") ?: "0", NULL, 10) *
                  SCALE_MS ?: WRITER_FLUSH_NS;
    while (more) {
        uint64_t pending = writer_pending(f);
        uint64_t dropped = qatomic_read(&f->dropped);

        /* with losses going on (drop mode), the writer does not wait for a batch */
        if (pending && (pending >= f->min_batch || slept || dropped != seen_dropped ||
                        qatomic_read(&f->waiters) || qatomic_read(&f->stopping))) {
            slept = false;
            seen_dropped = dropped;
            empty_polls = 0;
            if (writer_drain(f)) {
                continue;
            }
            /* all of them queued after the watermark: poll again */
        }
        if (!pending) {
            writer_flush_idle(f, empty_polls, &flushed_ns);
        }
        qemu_mutex_lock(&f->mutex);
        more = writer_wait(f, !pending && (++empty_polls > WRITER_IDLE_POLLS || !f->poll),
                           &slept);
        qemu_mutex_unlock(&f->mutex);
    }
    mmiotrace_thread_cpu_ns(f->writer_cpu_ns);
    return NULL;
}
