/*
 * hvmmio: mmiotrace-replay delivers the recording's events (interrupts, DMA) when the
 * recorded device made them, relative to the guest's accesses (issue 18).
 *
 * An event recorded REPLAY_EVENT_SLACK_NS or more after the record before it (the
 * device's own timers: a received frame, autonegotiation done, an interrupt re-raised by
 * its throttling) waits as long after that record was replayed (at most
 * REPLAY_EVENT_DELAY_MAX_NS), unless the guest makes an access first: then it is
 * delivered before that access is matched.
 *
 * A recorded MSI/MSI-X message again on the vector raised last, with no guest access
 * since: raised at once, the two edges merge into one interrupt. That is right when the
 * recorded driver ran its handler once (the guest had not taken the first yet); when the
 * recording shows the handler twice (the first access after the message made again, by a
 * record without opt=1, before the next interrupt), the message and the events after it
 * wait for the guest's next access (its handler has begun), or for REPLAY_IRQ_WAIT_NS.
 * An optional record is no evidence of a second run: hvmmio replay --learn inserts
 * the access where another recording made it (e1000e's IMS write, before or after the
 * watchdog's descriptor flush), and a second run made in some recordings only is optional
 * as a whole, so a replay that merges the messages takes a path they allow.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/timer.h"
#include "replay-int.h"

#define REPLAY_EVENT_SLACK_NS 50000
#define REPLAY_EVENT_DELAY_MAX_NS 10000000000LL
/*
 * A held second message waits this long at most for the guest's next access (which
 * ends the wait at once). Long: under TCG the virtual clock runs on while a loaded host
 * keeps the vCPU thread from running; with 1 ms, e1000e's link-change interrupt,
 * handled twice in every recording, was merged in replays beside a busy host.
 */
#define REPLAY_IRQ_WAIT_NS 100000000
#define REPLAY_IRQ_LOOKAHEAD 64

/* The same access: a read of the same register, a write of the same value to it. */
static bool same_access(const ReplayRec *a, const ReplayRec *b)
{
    return a->type == b->type && a->rw.bar == b->rw.bar && a->rw.off == b->rw.off &&
           a->rw.width == b->rw.width &&
           (a->type == MMIOTRACE_READ || a->rw.value == b->rw.value);
}

/*
 * The recorded handler of the interrupt at index i ran twice (1: the first access after
 * it is made again, by a required record, before the next interrupt), once (0), or the
 * recording cannot tell (-1: another interrupt comes first).
 */
static int handled_twice(MmioTraceReplay *s, size_t i)
{
    const ReplayRec *r;
    ReplayRec first;
    size_t j = i + 1;

    while ((r = replay_rec_at(s, j)) && r->type == MMIOTRACE_DMA) {
        j++;
    }
    if (!r || r->type == MMIOTRACE_IRQ) {
        return r ? -1 : 0;
    }
    first = *r;
    for (j++; j < i + REPLAY_IRQ_LOOKAHEAD && (r = replay_rec_at(s, j)) &&
         r->type != MMIOTRACE_IRQ; j++) {
        if (r->type != MMIOTRACE_DMA && !r->rw.opt && same_access(r, &first)) {
            return 1;
        }
    }
    return 0;
}

/*
 * The recorded delay before r (at index i) has not passed since the record before it was
 * replayed. A guest access delivers the events at pos at once, not those after records
 * still pending (optional ones the access may match).
 */
static bool event_waits(MmioTraceReplay *s, const ReplayRec *r, size_t i)
{
    int64_t now, due;

    if ((s->events_now && i == s->pos) || !s->last_virt_ns ||
        r->ns <= s->last_rec_ns + REPLAY_EVENT_SLACK_NS) {
        return false;
    }
    now = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    due = s->last_virt_ns + MIN(r->ns - s->last_rec_ns, REPLAY_EVENT_DELAY_MAX_NS);
    if (now >= due) {
        return false;
    }
    timer_mod(s->irq_timer, due);
    return true;
}

/* The event r is not to be delivered yet: it waits (a timer is set), see above. */
bool replay_event_waits(MmioTraceReplay *s, const ReplayRec *r)
{
    bool msi = r->type == MMIOTRACE_IRQ && r->irq.kind != MMIOTRACE_IRQ_INTX;
    size_t i = s->win_base + (r - &g_array_index(s->win, ReplayRec, 0));
    int twice = -1;     /* not a second message: its recorded delay */

    if (msi && s->irq_untaken && s->irq_last_kind == r->irq.kind &&
        s->irq_last_vector == r->irq.vector) {
        twice = handled_twice(s, i);
        if (twice == 1) {
            s->irq_wait_taken = true;
            timer_mod(s->irq_timer, qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL) +
                      REPLAY_IRQ_WAIT_NS);
            return true;
        }
    }
    if (twice < 0 && event_waits(s, r, i)) {
        return true;
    }
    if (msi) {
        s->irq_untaken = true;
        s->irq_last_kind = r->irq.kind;
        s->irq_last_vector = r->irq.vector;
    }
    return false;
}
