/*
 * hvmmio: mmiotrace-replay matches each guest access against the recording: reads
 * return the recorded values, writes are checked, recorded interrupts are raised at
 * their place; poll-tolerant mode absorbs extra and missing polls; a divergence is
 * reported (QMP event, stderr) and handled as on-divergence says.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qapi/qapi-events-mmiotrace.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "system/runstate.h"
#include "qemu/timer.h"
#include "replay-int.h"

char *replay_describe(const ReplayRec *r)
{
    if (r->type == MMIOTRACE_IRQ) {
        static const char *const kinds[] = { "INTx", "MSI", "MSI-X" };
        return g_strdup_printf("IRQ %s vector %" PRIu32 " data 0x%" PRIx32,
                               r->irq.kind < 3 ? kinds[r->irq.kind] : "?", r->irq.vector,
                               r->irq.data);
    }
    if (r->type == MMIOTRACE_DMA) {
        return replay_dma_describe(r);
    }
    return g_strdup_printf("%s %u bar=%u off=0x%" PRIx64 " 0x%" PRIx64,
                           r->type == MMIOTRACE_WRITE ? "W" : "R", r->rw.width, r->rw.bar,
                           r->rw.off, r->rw.value);
}

/* An interrupt record: raised (or, INTx, lowered) as recorded. */
static void fire_irq(MmioTraceReplay *s, const ReplayRec *r)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    switch (r->irq.kind) {
    case MMIOTRACE_IRQ_INTX:
        /* a recorded INTx of a device without an interrupt pin is not raised */
        if (pci_intx(pdev) >= 0 && pci_intx(pdev) < PCI_NUM_PINS) {
            pci_set_irq(pdev, r->irq.data & 1);
        }
        break;
    case MMIOTRACE_IRQ_MSI:
        if (msi_enabled(pdev) && r->irq.vector < msi_nr_vectors_allocated(pdev)) {
            msi_notify(pdev, r->irq.vector);
        }
        break;
    case MMIOTRACE_IRQ_MSIX:
        if (msix_enabled(pdev) && r->irq.vector < pdev->msix_entries_nr) {
            msix_notify(pdev, r->irq.vector);
        }
        break;
    }
}

/* An event (interrupt, DMA), not an access. */
static bool is_event(const ReplayRec *r)
{
    return r->type != MMIOTRACE_READ && r->type != MMIOTRACE_WRITE;
}

/*
 * The event r at index i. A raised interrupt makes the record after it the successor
 * (take_successor): the guest's next access is likely its handler's, which the recording
 * has after the interrupt, not an optional copy of it before (another recording's, where
 * the handler ran earlier).
 */
static void fire_event(MmioTraceReplay *s, const ReplayRec *r, size_t i)
{
    s->last_rec_ns = r->ns;
    s->last_virt_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    if (r->type == MMIOTRACE_DMA) {
        replay_dma_perform(s, r);   /* in order with the interrupts */
    } else {
        fire_irq(s, r);
        if (r->irq.kind != MMIOTRACE_IRQ_INTX || (r->irq.data & 1)) {
            s->resume = i + 1;
        }
    }
}

static void reorder_settle(MmioTraceReplay *s);

static void raise_irqs(MmioTraceReplay *s)
{
    const ReplayRec *r;

    while ((r = replay_rec_at(s, s->pos)) && (r->done || is_event(r))) {
        if (!r->done && replay_event_waits(s, r)) {
            return;
        }
        s->pos++;
        if (!r->done) {
            fire_event(s, r, s->pos - 1);
        }
    }
    if (r && (r->rw.opt || s->pos < s->frontier)) {
        reorder_settle(s);
    }
}

/* An event's time came, or no guest access came for REPLAY_IRQ_WAIT_NS. */
void replay_irq_timer(void *opaque)
{
    MmioTraceReplay *s = opaque;

    if (s->irq_wait_taken) {
        s->irq_untaken = false;
        s->irq_wait_taken = false;
    }
    raise_irqs(s);
    replay_window_trim(s);
}

static gpointer reg_key(unsigned bar, uint64_t off)
{
    return GSIZE_TO_POINTER(((uint64_t)bar << 56) | off);
}

/* The value r stands for in this run: rel= takes what the guest last wrote there. */
static uint64_t rec_value(MmioTraceReplay *s, const ReplayRec *r)
{
    gpointer v;

    if (r->rw.rel && s->written &&
        g_hash_table_lookup_extended(s->written, reg_key(r->rw.rel_bar, r->rw.rel_off),
                                     NULL, &v)) {
        uint64_t val = GPOINTER_TO_SIZE(v);
        return r->rw.width < 8 ? val & ((1ull << (r->rw.width * 8)) - 1) : val;
    }
    return r->rw.value;
}

static bool matches(MmioTraceReplay *s, const ReplayRec *r, int bar, hwaddr off,
                    unsigned size, bool write, uint64_t value)
{
    if (r->type != (write ? MMIOTRACE_WRITE : MMIOTRACE_READ) || r->rw.bar != bar ||
        r->rw.off != off || r->rw.width != size) {
        return false;
    }
    return !write || ((rec_value(s, r) ^ value) & r->rw.mask) == 0;
}

/*
 * Reordering and optional records. Records from pos on are pending unless done
 * (consumed out of order, skipped, or an event performed); pos is the first pending one
 * and frontier follows the furthest consumed. An access that does not match the next
 * record may take a later pending one that it matches, passing at most window pending
 * required records (records without opt=1); optional records are passed freely. The
 * skipped records stay pending: a required one must still be made (it bounds the
 * window), an optional one is skipped once window required records after it have been
 * consumed (one with window 0), or at the end of the replay.
 */
static ReplayRec *rec_mut(MmioTraceReplay *s, size_t i)
{
    return (ReplayRec *)replay_rec_at(s, i);
}

static bool required(const ReplayRec *r)
{
    return !is_event(r) && !r->rw.opt;
}

/* The first pending record at or after pos that the access matches, within the window. */
static bool reorder_find(MmioTraceReplay *s, int bar, hwaddr off, unsigned size,
                         bool write, uint64_t value, size_t *at, bool *passed)
{
    unsigned budget = s->window;

    *passed = false;
    for (size_t i = s->pos; i < s->pos + LOOKAHEAD_MAX; i++) {
        const ReplayRec *r = replay_rec_at(s, i);

        if (!r) {
            return false;
        }
        if (r->done || is_event(r)) {
            continue;
        }
        if (matches(s, r, bar, off, size, write, value)) {
            *at = i;
            return true;
        }
        if (!r->rw.opt) {
            if (!budget--) {
                return false;
            }
            *passed = true;
        }
    }
    return false;
}

/*
 * Out of order, the record after the one consumed last, if the access matches it and
 * it is within the window: the guest goes on along the path it took (a read of a
 * register that several pending records hold gets the value of the one in that path).
 */
static bool take_successor(MmioTraceReplay *s, int bar, hwaddr off, unsigned size,
                           bool write, uint64_t value, size_t *at, bool *passed)
{
    const ReplayRec *r;
    unsigned pending = 0;
    size_t i = s->resume;

    if (i <= s->pos) {
        return false;   /* in order: the next record is the successor */
    }
    while ((r = replay_rec_at(s, i)) && (r->done || is_event(r)) &&
           i < s->resume + LOOKAHEAD_MAX) {
        i++;
    }
    if (!r || r->done || is_event(r) || !matches(s, r, bar, off, size, write, value)) {
        return false;
    }
    for (size_t j = s->pos; j < i; j++) {
        r = replay_rec_at(s, j);
        pending += r && !r->done && required(r);
    }
    if (pending > s->window) {
        return false;
    }
    *at = i;
    *passed = pending > 0;
    return true;
}

/*
 * After an access out of order, or with an optional record at pos: the events the guest
 * has passed (before the frontier, or after only optional records) are performed,
 * optional records the guest has left window required records behind are skipped, and
 * pos moves to the first pending record. Left behind: before the successor (resume) too,
 * not ahead on the guest's path (records after it made early, out of order, or the
 * handler's accesses right after an interrupt just raised).
 *
 * An event whose last required access before it is still pending waits for it, and the
 * events and records after it wait too, though the guest took records after it: the guest
 * has not reached the place where the device made it. The access before an interrupt is
 * often its cause (e1000e's watchdog writes ICS, the device raises the receive
 * interrupt); a guest that made a block from after it early (a receive-mode update before
 * the watchdog, as a loaded host schedules the two) must not get it before.
 */
static void reorder_settle(MmioTraceReplay *s)
{
    unsigned behind = 0, limit = MAX(s->window, 1);
    bool before_pending = false;    /* the last required access seen is pending */
    ReplayRec *r;
    size_t i;

    for (i = s->pos; i < s->frontier && (r = rec_mut(s, i)); i++) {
        behind += r->done && required(r);
    }
    for (i = s->pos; i < s->pos + LOOKAHEAD_MAX && (r = rec_mut(s, i)); i++) {
        if (r->done) {
            behind -= i < s->frontier && required(r);
            before_pending &= !required(r);
        } else if (is_event(r)) {
            if (before_pending || replay_event_waits(s, r)) {
                break;
            }
            r->done = true;
            fire_event(s, r, i);
        } else if (r->rw.opt && behind >= limit && i < s->resume) {
            r->done = true;
            s->opt_skipped++;
        } else if (!r->rw.opt && i >= s->frontier) {
            break;
        } else if (i >= s->frontier + REORDER_WINDOW_MAX) {
            break;
        } else {
            before_pending |= !r->rw.opt;
        }
    }
    while ((r = rec_mut(s, s->pos)) && r->done) {
        s->pos++;
    }
}

/* The next record the guest must make: the first pending required one (else pos). */
static size_t expected_at(MmioTraceReplay *s)
{
    for (size_t i = s->pos; i < s->pos + LOOKAHEAD_MAX; i++) {
        const ReplayRec *r = replay_rec_at(s, i);
        if (!r) {
            break;
        }
        if (!r->done && required(r)) {
            return i;
        }
    }
    return s->pos;
}

void replay_reorder_count(MmioTraceReplay *s, const ReplayRec *r, size_t n)
{
    /* replay annotations (match=, rel=, poll=, opt=) make the default window apply */
    s->annotated |= !is_event(r) && (r->rw.mask != UINT64_MAX || r->rw.rel ||
                                     r->rw.tolerant || r->rw.opt);
    if (!is_event(r) && r->rw.opt) {
        s->n_opt++;
    } else if (!is_event(r)) {
        s->last_required = n + 1;
    }
}

bool replay_reorder_setup(MmioTraceReplay *s, Error **errp)
{
    if (s->reorder_window < -1 || s->reorder_window > REORDER_WINDOW_MAX) {
        error_setg(errp, "mmiotrace-replay: reorder-window=%" PRId32 " is not 0 to %d "
                   "(or -1: %d for a recording with replay annotations, else 0)",
                   s->reorder_window, REORDER_WINDOW_MAX, REORDER_WINDOW_ANNOTATED);
        return false;
    }
    s->window = s->reorder_window >= 0 ? s->reorder_window
                : s->annotated ? REORDER_WINDOW_ANNOTATED : 0;
    return true;
}

bool replay_reorder_complete(MmioTraceReplay *s)
{
    if (s->last_required > s->pos + LOOKAHEAD_MAX) {
        return false;
    }
    for (size_t i = s->pos; i < s->last_required; i++) {
        const ReplayRec *r = replay_rec_at(s, i);
        if (!r || (!r->done && required(r))) {
            return false;
        }
    }
    /* the rest: optional records the guest did not make, events */
    s->opt_skipped = s->n_opt - s->opt_matched;
    s->pos = s->n;
    return true;
}

size_t replay_reorder_missing(MmioTraceReplay *s, uint64_t *missing)
{
    size_t at = expected_at(s), end = MIN(s->last_required, s->pos + LOOKAHEAD_MAX);

    *missing = s->last_required > end ? s->last_required - end : 0;
    for (size_t i = s->pos; i < end; i++) {
        const ReplayRec *r = replay_rec_at(s, i);
        *missing += r && !r->done && required(r);
    }
    return at;
}

void replay_reorder_report(MmioTraceReplay *s, FILE *out)
{
    fprintf(out, "  tolerated (order): %" PRIu64 " accesses made out of order (reorder-"
            "window %u), %" PRIu64 " of %" PRIu64 " optional records (opt=1) made, %"
            PRIu64 " skipped\n", s->reordered, s->window, s->opt_matched, s->n_opt,
            s->opt_skipped);
}

static void divergence(MmioTraceReplay *s, const char *actual)
{
    size_t at = expected_at(s);

    s->divergences++;
    if (!s->diverged) {
        s->diverged = true;
        const ReplayRec *cur = replay_rec_at(s, at);
        s->div_index = at;
        s->div_line = cur ? cur->line : 0;
        s->div_expected = cur ? replay_describe(cur) : g_strdup("");
        s->div_actual = g_strdup(actual);
        s->div_context = g_string_new(NULL);
        for (size_t i = at > CONTEXT ? at - CONTEXT : 0; i < at + CONTEXT + 1; i++) {
            const ReplayRec *r = replay_rec_at(s, i);
            if (!r) {
                continue;
            }
            g_autofree char *d = replay_describe(r);
            g_string_append_printf(s->div_context, "    %s #%zu %s:%" PRIu64 " %s\n",
                                   i == at ? ">" : " ", i, s->trace, r->line, d);
        }
        MmioTraceReplayDivergence div = {
            .index = s->div_index, .line = s->div_line,
            .expected = s->div_expected, .actual = s->div_actual,
        };
        qapi_event_send_mmiotrace_replay_divergence(s->dev_name, &div);
    }
    if (s->on_divergence == MMIO_TRACE_REPLAY_ON_DIVERGENCE_LOG ||
        (s->on_divergence == MMIO_TRACE_REPLAY_ON_DIVERGENCE_STOP &&
         s->divergences == 1)) {
        const ReplayRec *cur = replay_rec_at(s, at);
        g_autofree char *exp = cur ? replay_describe(cur)
                                   : g_strdup("(end of the recording)");
        error_report("mmiotrace-replay: divergence at record %zu (%s:%" PRIu64 "): "
                     "expected %s, got %s", at, s->trace, cur ? cur->line : 0, exp,
                     actual);
    }
    if (s->on_divergence == MMIO_TRACE_REPLAY_ON_DIVERGENCE_STOP && !s->ended) {
        s->ended = true;
        replay_write_report(s, stderr);
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR);
    }
}

/*
 * An optional write at idx that the guest's write matches: the next required record, if
 * only optional records (or consumed ones, events) come between and the write matches it
 * too. Both stand for the same write (another recording's, inserted beside the first's):
 * the one the recordings agree on is made, else its events would wait for it.
 */
static size_t required_twin(MmioTraceReplay *s, size_t idx, uint64_t value)
{
    const ReplayRec *o = replay_rec_at(s, idx), *r;

    for (size_t i = idx + 1; i < idx + REORDER_TWIN_REACH && (r = replay_rec_at(s, i));
         i++) {
        if (r->done || is_event(r) || r->rw.opt) {
            continue;
        }
        return matches(s, r, o->rw.bar, o->rw.off, o->rw.width, true, value) ? i : idx;
    }
    return idx;
}

/* The guest's access takes record idx (passed: required records before it pending). */
static uint64_t consume(MmioTraceReplay *s, size_t idx, bool passed, bool write,
                        uint64_t value)
{
    ReplayRec *cr = rec_mut(s, idx);

    if (write && cr->rw.opt) {
        idx = required_twin(s, idx, value);
        cr = rec_mut(s, idx);
    }
    ReplayRec c = *cr;
    uint64_t v = rec_value(s, &c);

    if (idx == s->pos) {
        s->pos++;
    } else {
        cr->done = true;
        s->reordered += passed;
    }
    s->frontier = MAX(s->frontier, idx + 1);
    s->resume = idx + 1;
    s->opt_matched += c.rw.opt;
    s->last_rec_ns = c.ns;      /* the events after it wait as recorded */
    s->last_virt_ns = qemu_clock_get_ns(QEMU_CLOCK_VIRTUAL);
    if (!write) {
        s->last_read = c;
        s->have_last_read = true;
        s->related_reads += c.rw.rel && v != c.rw.value;
    } else {
        s->tolerated_writes += value != c.rw.value && ((v ^ value) & c.rw.mask) == 0;
        replay_dma_learn_write(s, &c, value);   /* a DMA address given? */
    }
    raise_irqs(s);
    replay_window_trim(s);
    return write ? 0 : v;
}

static uint64_t replay_access(MmioTraceReplay *s, int bar, hwaddr off, unsigned size,
                              bool write, uint64_t value)
{
    bool tolerant = s->mode == MMIO_TRACE_REPLAY_MODE_POLL_TOLERANT, passed;
    const ReplayRec *r;
    size_t j, at;

    s->irq_untaken = false;     /* the guest is running: it took the interrupts */
    s->irq_wait_taken = false;
    timer_del(s->irq_timer);
    s->events_now = true;       /* the events before this access, at once */
    raise_irqs(s);
    s->events_now = false;
    if (take_successor(s, bar, off, size, write, value, &at, &passed)) {
        return consume(s, at, passed, write, value);
    }
    r = replay_rec_at(s, s->pos);
    if (r && matches(s, r, bar, off, size, write, value)) {
        return consume(s, s->pos, false, write, value);
    }
    /* an extra poll: the register last read, read again */
    if (!write && s->have_last_read && (tolerant || s->last_read.rw.tolerant) &&
        matches(s, &s->last_read, bar, off, size, false, 0)) {
        s->extra_polls++;
        return rec_value(s, &s->last_read);
    }
    /* recorded polls the guest did not make (at most LOOKAHEAD_MAX at once) */
    uint64_t skipped = 0;
    for (j = s->pos; (r = replay_rec_at(s, j)) && j - s->pos < LOOKAHEAD_MAX &&
         (r->done || ((is_event(r) || (tolerant ? r->rw.poll : r->rw.tolerant)) &&
                      !matches(s, r, bar, off, size, write, value))); j++) {
        skipped += !r->done && !is_event(r);
    }
    if (r && j > s->pos && !r->done && matches(s, r, bar, off, size, write, value)) {
        s->skipped_polls += skipped;
        replay_dma_range(s, s->pos, j);     /* the DMA between the polls */
        s->pos = j;
        return consume(s, j, false, write, value);
    }
    /* a later record, within the reorder window */
    if (reorder_find(s, bar, off, size, write, value, &at, &passed)) {
        return consume(s, at, passed, write, value);
    }
    {
        g_autofree char *actual = g_strdup_printf("%s %u bar=%d off=0x%" PRIx64
                                                  " 0x%" PRIx64, write ? "W" : "R",
                                                  size, bar, (uint64_t)off, value);
        divergence(s, actual);
    }
    if (s->on_divergence != MMIO_TRACE_REPLAY_ON_DIVERGENCE_STOP) {
        /* the expected access with another value: counted, and taken as that record */
        at = expected_at(s);
        r = replay_rec_at(s, at);
        if (r && matches(s, r, bar, off, size, write, rec_value(s, r))) {
            return consume(s, at, false, write, value);
        }
        /* resynchronise on the next matching record, if close enough */
        for (j = s->pos; j < s->pos + RESYNC_WINDOW && (r = replay_rec_at(s, j)); j++) {
            if (!r->done && matches(s, r, bar, off, size, write, value)) {
                s->pos = j;
                return consume(s, j, false, write, value);
            }
        }
    }
    return 0;
}

static uint64_t replay_read(void *opaque, hwaddr addr, unsigned size)
{
    ReplayBar *b = opaque;
    return replay_access(b->s, b->nr, addr, size, false, 0);
}

static void replay_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    ReplayBar *b = opaque;

    replay_access(b->s, b->nr, addr, size, true, val);
    /* after the match: rel= names an earlier write */
    g_hash_table_insert(b->s->written, reg_key(b->nr, addr), GSIZE_TO_POINTER(val));
}

const MemoryRegionOps replay_ops = {
    .read = replay_read,
    .write = replay_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};
