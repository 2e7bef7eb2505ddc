/*
 * hvmmio: the producers' side of a trace file: vCPU threads and the main loop queue
 * events into the bounded ring, waiting for room (lossless) or counting the loss
 * (drop), and wake the writer thread when a batch is ready.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "file-int.h"

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
           ev->ts - f->last_wake_ts >= mmiotrace_wake_latency_stamps;
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
           (mmiotrace_out_pending(f) && (!qatomic_read(&f->failing) ||
                               qatomic_read(&f->flushes) == flushes))) {
        qemu_cond_signal(&f->wake);
        qemu_cond_timedwait(&f->space, &f->mutex, 10);
    }
    qatomic_dec(&f->flush_req);
    f->waiters--;
    qemu_mutex_unlock(&f->mutex);
}
