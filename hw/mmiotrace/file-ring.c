/*
 * hvmmio: the producers' side of a trace file. Each vCPU thread queues its events into
 * a ring of its own (a lane: no lock, no cache line shared with another vCPU); every
 * other producer (the main loop, I/O threads) into one more lane, under a spinlock. A
 * producer waits for room (lossless) or counts the loss (drop), and wakes the writer
 * thread when a batch is ready.
 *
 * Order across lanes. Every event is stamped when it is queued, and the writer merges
 * the lanes by stamp. A stamp is the TSC (the same clock on every host core: only an
 * invariant TSC is used) or CLOCK_MONOTONIC. Under TCG a device access is recorded
 * while its vCPU holds the BQL, in the same critical section in which the device served
 * it, so the stamps of accesses to BQL-serialised devices are in the devices' order.
 *
 * The writer must not write a record while another lane may still queue one with an
 * earlier stamp. So a producer announces itself in its lane's claim before it takes
 * the stamp (claim = LANE_STAMPING, then the stamp, ordered after the announcement by
 * mmiotrace_stamp_after_stores), then claims the stamp, and goes back to LANE_IDLE
 * once the event is published. The writer takes its own stamp first, then a global
 * barrier (membarrier: the producers pay no fence), then reads every lane's claim: a
 * lane in LANE_IDLE can only queue events stamped later than the writer's stamp, a
 * lane claiming a stamp nothing later, a lane stamping nothing at all yet (see
 * writer_watermark in file-writer.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/memalign.h"
#include "hw/core/cpu.h"
#include "qemu/main-loop.h"
#include "file-int.h"

MmioTraceLane *mmiotrace_lane_new(uint32_t size)
{
    MmioTraceLane *l = qemu_memalign(64, sizeof(*l));

    memset(l, 0, sizeof(*l));
    l->claim = LANE_IDLE;
    l->ring = qemu_memalign(sizeof(MmioTraceEvent), size * sizeof(MmioTraceEvent));
    memset(l->ring, 0, size * sizeof(MmioTraceEvent));
    l->insn_ring = g_malloc0((size_t)size * MMIOTRACE_INSN_MAX);
    l->mask = size - 1;
    return l;
}

void mmiotrace_lane_free(MmioTraceLane *l)
{
    if (l) {
        qemu_vfree(l->ring);
        g_free(l->insn_ring);
        qemu_vfree(l);
    }
}

/* The calling thread's lane, made at its first event; NULL: the shared one. */
static MmioTraceLane *own_lane(MmioTraceFile *f)
{
    CPUState *cpu = current_cpu;
    MmioTraceLane *l;
    unsigned i;

    if (!cpu || cpu->cpu_index < 0 || cpu->cpu_index + 1 >= MMIOTRACE_LANES) {
        return NULL;
    }
    i = cpu->cpu_index + 1;
    l = f->lanes[i];    /* only this thread stores lanes[i] */
    if (unlikely(!l)) {
        l = mmiotrace_lane_new(f->ring_size);
        qemu_mutex_lock(&f->mutex);
        qatomic_store_release(&f->lanes[i], l);
        if (f->nlanes <= i) {
            qatomic_set(&f->nlanes, i + 1);
        }
        qemu_mutex_unlock(&f->mutex);
    }
    return l;
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

static void wait_for_room(MmioTraceFile *f, MmioTraceLane *l, uint64_t need)
{
    qemu_mutex_lock(&f->mutex);
    f->waiters++;
    qemu_cond_signal(&f->wake);
    while (qatomic_read(&l->head) - qatomic_load_acquire(&l->tail) + need >
           l->mask + 1 && !qatomic_read(&f->closed)) {
        qemu_cond_wait(&f->space, &f->mutex);
    }
    f->waiters--;
    qemu_mutex_unlock(&f->mutex);
}

/*
 * A slot's line was last read by the writer, on another core: the producer's stores to it
 * need the line back (a miss of 100-300 ns between these cores). So producers ask for the
 * line of a slot PREFETCH_AHEAD records ahead, for writing (PREFETCHW; __builtin_prefetch
 * gives a read prefetch on baseline x86-64, which brings a shared copy that a store must
 * still upgrade).
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

/* Room for need slots in l: true, or false if the event is lost (counted). */
static bool lane_room(MmioTraceFile *f, MmioTraceLane *l, bool misc, uint64_t need)
{
    for (;;) {
        uint64_t head = l->head;

        if (head - l->tail_seen + need <= l->mask + 1) {
            return true;
        }
        l->tail_seen = qatomic_load_acquire(&l->tail);
        if (head - l->tail_seen + need <= l->mask + 1) {
            return true;
        }
        if (f->drop && !qatomic_read(&f->rotating)) {
            l->lost_pending++;
            qatomic_inc(&f->dropped);
            wake_writer(f, true);
            return false;
        }
        if (misc) {
            qemu_spin_unlock(&f->misc_lock);
        }
        wait_for_room(f, l, need);
        if (misc) {
            qemu_spin_lock(&f->misc_lock);
        }
        if (qatomic_read(&f->closed)) {
            qatomic_inc(&f->dropped);
            return false;
        }
    }
}

/*
 * The stamp of the BQL's holder's last event, in any lane: only read and written with
 * the BQL held.
 */
static uint64_t bql_last_stamp;

/*
 * Stamps in the order of the events: a lane's own, and those of events queued under the
 * BQL (accesses to devices that the BQL serialises). The TSC read needs no fence for
 * that: an event's stamp is made later than the last one where the TSC read ran ahead.
 */
static inline uint64_t stamp_ordered(MmioTraceLane *l, uint64_t ts)
{
    if (unlikely(ts <= l->last_stamp)) {
        ts = l->last_stamp + 1;
    }
    if (bql_locked()) {
        if (unlikely(ts <= bql_last_stamp)) {
            ts = bql_last_stamp + 1;
        }
        bql_last_stamp = ts;
    }
    l->last_stamp = ts;
    return ts;
}

/*
 * The lane of the slot this thread has reserved and not committed yet (reserve and
 * commit are on one thread, with nothing queued in between).
 */
static __thread MmioTraceLane *reserved;

/* The shared lane 0 (under misc_lock from reserve to commit)? */
static inline bool lane_is_misc(MmioTraceFile *f, MmioTraceLane *l)
{
    return l == f->lanes[MMIOTRACE_LANE_MISC];
}

/*
 * The next slot of the calling thread's lane, stamped (ev->ts): fill it and
 * mmiotrace_file_commit it. NULL if the event is lost (drop mode with a full ring, or
 * the file is closed): counted.
 */
MmioTraceEvent *mmiotrace_file_reserve(MmioTraceFile *f)
{
    MmioTraceLane *l = own_lane(f);
    bool misc = !l;
    uint64_t head, ts;

    if (misc) {
        l = f->lanes[MMIOTRACE_LANE_MISC];
        qemu_spin_lock(&f->misc_lock);
    }
    if (!lane_room(f, l, misc, 1 + (l->lost_pending ? 1 : 0))) {
        goto lost;
    }
    /* announce, then stamp (see the top of this file) */
    qatomic_set(&l->claim, LANE_STAMPING);
    ts = stamp_ordered(l, mmiotrace_stamp_after_stores());
    if (qatomic_read(&f->closed)) {
        qatomic_set(&l->claim, LANE_IDLE);
        qatomic_inc(&f->dropped);
        goto lost;
    }
    qatomic_set(&l->claim, ts);
    head = l->head;
    if (l->lost_pending) {
        /* the kernel's "Lost N events" marker, where the loss happened */
        MmioTraceEvent *lost = &l->ring[head++ & l->mask];
        memset(lost, 0, sizeof(*lost));
        lost->type = MMIOTRACE_LOST;
        lost->bar = -1;
        lost->lost.count = l->lost_pending;
        lost->ts = ts;
        l->lost_pending = 0;
        qatomic_store_release(&l->head, head);
    }
    l->ring[head & l->mask].ts = ts;
    reserved = l;
    return &l->ring[head & l->mask];

lost:
    if (misc) {
        qemu_spin_unlock(&f->misc_lock);
    }
    return NULL;
}

void mmiotrace_file_commit(MmioTraceFile *f, MmioTraceEvent *ev)
{
    MmioTraceLane *l = reserved;
    bool wake, urgent = false;
    uint64_t head = l->head + 1;

    qatomic_store_release(&l->head, head);
    qatomic_store_release(&l->claim, LANE_IDLE);
    if (head + PREFETCH_AHEAD - l->tail_seen <= l->mask) {
        /* not a slot the writer has yet to read (a small ring that is nearly full) */
        prefetch_for_write(&l->ring[(head + PREFETCH_AHEAD) & l->mask]);
    }
    wake = (ev->type != MMIOTRACE_READ && ev->type != MMIOTRACE_WRITE) ||
           ev->ts - l->last_wake_ts >= mmiotrace_wake_latency_stamps;
    if (head - l->tail_seen >= f->wake_batch && head >= l->backlog_check) {
        uint64_t backlog;

        l->tail_seen = qatomic_read(&l->tail);
        backlog = head - l->tail_seen;
        wake |= backlog >= f->wake_batch;
        /* over half full: even a polling writer (a small ring fills between polls) */
        urgent = backlog > (l->mask + 1) / 2;
        /*
         * A writer that lags by a batch is awake or being woken: look again a sixteenth
         * of a batch later, not at every record (the tail's line is the writer's, and
         * each wake-up costs a full barrier).
         */
        l->backlog_check = head + MAX(f->wake_batch / 16, 1);
    }
    if (wake) {
        l->last_wake_ts = ev->ts;
    }
    if (lane_is_misc(f, l)) {
        qemu_spin_unlock(&f->misc_lock);
    }
    if (wake || urgent) {
        wake_writer(f, urgent);
    }
}

uint8_t *mmiotrace_file_reserved_insn(MmioTraceEvent *slot)
{
    return reserved->insn_ring + (slot - reserved->ring) * MMIOTRACE_INSN_MAX;
}

void mmiotrace_file_push(MmioTraceFile *f, MmioTraceEvent *ev)
{
    MmioTraceEvent *slot = mmiotrace_file_reserve(f);
    uint64_t ts;

    if (!slot) {
        mmiotrace_event_free(ev);
        return;
    }
    ts = slot->ts;
    *slot = *ev;
    slot->ts = ts;
    if (ev->type == MMIOTRACE_READ || ev->type == MMIOTRACE_WRITE) {
        slot->rw.insn_len = 0;  /* no instruction (the hot path fills its own slot) */
    }
    mmiotrace_file_commit(f, slot);
}

/* Every lane's events up to its head now are written (tail has passed them). */
static bool lanes_written(MmioTraceFile *f, const uint64_t *target)
{
    unsigned n = qatomic_read(&f->nlanes);

    for (unsigned i = 0; i < n; i++) {
        MmioTraceLane *l = qatomic_load_acquire(&f->lanes[i]);

        if (l && qatomic_load_acquire(&l->tail) < target[i]) {
            return false;
        }
    }
    return true;
}

void mmiotrace_file_sync(MmioTraceFile *f)
{
    uint64_t target[MMIOTRACE_LANES] = { 0 };
    unsigned n = qatomic_read(&f->nlanes);

    if (qatomic_read(&f->closed)) {
        return;
    }
    for (unsigned i = 0; i < n; i++) {
        MmioTraceLane *l = qatomic_load_acquire(&f->lanes[i]);

        target[i] = l ? qatomic_load_acquire(&l->head) : 0;
    }
    qemu_mutex_lock(&f->mutex);
    f->waiters++;
    uint64_t flushes = qatomic_read(&f->flushes);
    qatomic_inc(&f->flush_req);
    qemu_cond_signal(&f->wake);
    /*
     * While writing fails, one more attempt is enough: what it could not write is lost
     * (counted) rather than waited for.
     */
    while (!lanes_written(f, target) ||
           (mmiotrace_out_pending(f) && (!qatomic_read(&f->failing) ||
                                         qatomic_read(&f->flushes) == flushes))) {
        qemu_cond_signal(&f->wake);
        qemu_cond_timedwait(&f->space, &f->mutex, 10);
    }
    qatomic_dec(&f->flush_req);
    f->waiters--;
    qemu_mutex_unlock(&f->mutex);
}

void mmiotrace_ring_close(MmioTraceFile *f)
{
    unsigned n;

    qatomic_set(&f->closed, true);
    /* pairs with the producers' barrier after their claim: one sees the other */
    smp_mb();
    /* a producer that did not see closed is queueing: wait until it has published */
    n = qatomic_read(&f->nlanes);
    for (unsigned i = 0; i < n; i++) {
        MmioTraceLane *l = qatomic_load_acquire(&f->lanes[i]);

        while (l && qatomic_load_acquire(&l->claim) != LANE_IDLE) {
            cpu_relax();
        }
    }
}
