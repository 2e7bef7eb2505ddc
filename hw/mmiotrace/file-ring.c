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
 * once the event is published. The writer takes its own stamp first, then a barrier,
 * then reads the lanes' claims: a lane in LANE_IDLE can only queue events stamped
 * later than the writer's stamp, a lane claiming a stamp nothing earlier, a lane
 * stamping nothing at all yet. A vCPU's lane pays no fence for its stamp: the barrier
 * that bounds it is global (membarrier), and the writer needs it only while that lane
 * is empty (a lane's next event is stamped after its pending ones). The shared lane,
 * and a lane's making, fence on the producer's side: a local barrier bounds them, and
 * a single vCPU's events need no global barrier at all (writer_drain in
 * file-writer.c).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/memalign.h"
#include "hw/core/cpu.h"
#include "qemu/main-loop.h"
#include "file-ring.h"

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

/* Make the lane of vCPU i - 1, at its first event (file-ring.h: ring_own_lane). */
MmioTraceLane *mmiotrace_lane_make(MmioTraceFile *f, unsigned i)
{
    MmioTraceLane *l = mmiotrace_lane_new(f->ring_size);

    qemu_mutex_lock(&f->mutex);
    qatomic_store_release(&f->lanes[i], l);
    if (f->nlanes <= i) {
        qatomic_set(&f->nlanes, i + 1);
    }
    qemu_mutex_unlock(&f->mutex);
    /* the lane is visible before this thread takes its first stamp (writer_drain) */
    mmiotrace_stamp_fence();
    return l;
}

uint64_t mmiotrace_bql_last_stamp;
__thread MmioTraceLane *mmiotrace_reserved;

/* Wake the writer if it sleeps (urgent) or if it is idle (not polling). */
void mmiotrace_wake_writer(MmioTraceFile *f, bool urgent)
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
    uint64_t start = get_clock();

    qemu_mutex_lock(&f->mutex);
    f->waiters++;
    qemu_cond_signal(&f->wake);
    while (qatomic_read(&l->head) - qatomic_load_acquire(&l->tail) + need >
           l->mask + 1 && !qatomic_read(&f->closed)) {
        qemu_cond_wait(&f->space, &f->mutex);
    }
    f->waiters--;
    f->room_waits++;
    f->room_wait_ns += get_clock() - start;
    qemu_mutex_unlock(&f->mutex);
}

/*
 * Room for need slots in l: true, or false if the event is lost (counted). The producers'
 * fast path (file-ring.h) comes here when the tail it last saw leaves too little room.
 */
bool mmiotrace_lane_room(MmioTraceFile *f, MmioTraceLane *l, bool misc, uint64_t need)
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
            mmiotrace_wake_writer(f, true);
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
