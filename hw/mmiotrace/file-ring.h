/*
 * hvmmio: the producers' fast path into a trace file's lanes (file-ring.c says how the
 * lanes, the claims and the stamps work), inline in the per-access hook: a traced access
 * costs a few hundred instructions, and the calls and their register saves were a good
 * part of them. The slow paths (making a lane, waiting for room, waking the writer) are
 * functions of file-ring.c.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#ifndef HW_MMIOTRACE_FILE_RING_H
#define HW_MMIOTRACE_FILE_RING_H

#include "hw/core/cpu.h"
#include "qemu/main-loop.h"
#include "file-int.h"

MmioTraceLane *mmiotrace_lane_make(MmioTraceFile *f, unsigned i);
bool mmiotrace_lane_room(MmioTraceFile *f, MmioTraceLane *l, bool misc, uint64_t need);
void mmiotrace_wake_writer(MmioTraceFile *f, bool urgent);

/* The calling thread's lane (made at its first event); NULL: the shared one. */
static inline MmioTraceLane *ring_own_lane(MmioTraceFile *f)
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
        l = mmiotrace_lane_make(f, i);
    }
    return l;
}

/*
 * A slot's line was last read by the writer, on another core: the producer's stores to it
 * need the line back (a miss of 100-300 ns between these cores). So producers ask for the
 * line of a slot PREFETCH_AHEAD records ahead, for writing (PREFETCHW; __builtin_prefetch
 * gives a read prefetch on baseline x86-64, which brings a shared copy that a store must
 * still upgrade).
 */
#define PREFETCH_AHEAD 4

static inline void ring_prefetch_for_write(const void *p)
{
#if defined(__x86_64__) || defined(__i386__)
    /* 0F 0D /1: a hint NOP on processors without PRFCHW */
    asm volatile("prefetchw %0" : : "m"(*(const char *)p));
#else
    __builtin_prefetch(p, 1);
#endif
}

/*
 * The stamp of the BQL's holder's last event, in any lane: only read and written with
 * the BQL held.
 */
extern uint64_t mmiotrace_bql_last_stamp;

/*
 * Stamps in the order of the events: a lane's own, and those of events queued under the
 * BQL (accesses to devices that the BQL serialises). The TSC read needs no fence for
 * that: an event's stamp is made later than the last one where the TSC read ran ahead.
 */
static inline uint64_t ring_stamp_ordered(MmioTraceLane *l, uint64_t ts)
{
    if (unlikely(ts <= l->last_stamp)) {
        ts = l->last_stamp + 1;
    }
    if (bql_locked()) {
        if (unlikely(ts <= mmiotrace_bql_last_stamp)) {
            ts = mmiotrace_bql_last_stamp + 1;
        }
        mmiotrace_bql_last_stamp = ts;
    }
    l->last_stamp = ts;
    return ts;
}

/*
 * The lane of the slot this thread has reserved and not committed yet (reserve and
 * commit are on one thread, with nothing queued in between).
 */
extern __thread MmioTraceLane *mmiotrace_reserved;

/* The shared lane 0 (under misc_lock from reserve to commit)? */
static inline bool ring_lane_is_misc(MmioTraceFile *f, MmioTraceLane *l)
{
    return l == f->lanes[MMIOTRACE_LANE_MISC];
}

/*
 * The next slot of the calling thread's lane, stamped (ev->ts): fill it and
 * mmiotrace_file_commit it. NULL if the event is lost (drop mode with a full ring, or
 * the file is closed): counted.
 */
static inline QEMU_ALWAYS_INLINE
MmioTraceEvent *mmiotrace_file_reserve(MmioTraceFile *f)
{
    MmioTraceLane *l = ring_own_lane(f);
    bool misc = !l;
    uint64_t head, ts;

    if (misc) {
        l = f->lanes[MMIOTRACE_LANE_MISC];
        qemu_spin_lock(&f->misc_lock);
    }
    if (unlikely(l->head - l->tail_seen + 1 + (l->lost_pending ? 1 : 0) > l->mask + 1) &&
        !mmiotrace_lane_room(f, l, misc, 1 + (l->lost_pending ? 1 : 0))) {
        goto lost;
    }
    /* announce, then stamp (see the top of file-ring.c); the shared lane fences */
    qatomic_set(&l->claim, LANE_STAMPING);
    ts = ring_stamp_ordered(l, misc ? mmiotrace_stamp_fenced()
                                    : mmiotrace_stamp_after_stores());
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
    mmiotrace_reserved = l;
    return &l->ring[head & l->mask];

lost:
    if (misc) {
        qemu_spin_unlock(&f->misc_lock);
    }
    return NULL;
}

static inline QEMU_ALWAYS_INLINE
void mmiotrace_file_commit(MmioTraceFile *f, MmioTraceEvent *ev)
{
    MmioTraceLane *l = mmiotrace_reserved;
    bool wake, urgent = false;
    uint64_t head = l->head + 1;

    qatomic_store_release(&l->head, head);
    qatomic_store_release(&l->claim, LANE_IDLE);
    if (head + PREFETCH_AHEAD - l->tail_seen <= l->mask) {
        /* not a slot the writer has yet to read (a small ring that is nearly full) */
        ring_prefetch_for_write(&l->ring[(head + PREFETCH_AHEAD) & l->mask]);
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
    if (ring_lane_is_misc(f, l)) {
        qemu_spin_unlock(&f->misc_lock);
    }
    if (wake || urgent) {
        mmiotrace_wake_writer(f, urgent);
    }
}

/* The instruction bytes of the slot reserved, not yet committed (MMIOTRACE_INSN_MAX) */
static inline uint8_t *mmiotrace_file_reserved_insn(MmioTraceEvent *slot)
{
    MmioTraceLane *l = mmiotrace_reserved;

    return l->insn_ring + (slot - l->ring) * MMIOTRACE_INSN_MAX;
}

#endif
