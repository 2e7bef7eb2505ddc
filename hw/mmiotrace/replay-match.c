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
#include "replay-int.h"

char *replay_describe(const ReplayRec *r)
{
    if (r->type == MMIOTRACE_IRQ) {
        static const char *const kinds[] = { "INTx", "MSI", "MSI-X" };
        return g_strdup_printf("IRQ %s vector %" PRIu32 " data 0x%" PRIx32,
                               r->irq.kind < 3 ? kinds[r->irq.kind] : "?", r->irq.vector,
                               r->irq.data);
    }
    return g_strdup_printf("%s %u bar=%u off=0x%" PRIx64 " 0x%" PRIx64,
                           r->type == MMIOTRACE_WRITE ? "W" : "R", r->rw.width, r->rw.bar,
                           r->rw.off, r->rw.value);
}

static void raise_irqs(MmioTraceReplay *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    const ReplayRec *r;

    while ((r = replay_rec_at(s, s->pos)) && r->type == MMIOTRACE_IRQ) {
        s->pos++;
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

static void divergence(MmioTraceReplay *s, const char *actual)
{
    s->divergences++;
    if (!s->diverged) {
        s->diverged = true;
        const ReplayRec *cur = replay_rec_at(s, s->pos);
        s->div_index = s->pos;
        s->div_line = cur ? cur->line : 0;
        s->div_expected = cur ? replay_describe(cur) : g_strdup("");
        s->div_actual = g_strdup(actual);
        s->div_context = g_string_new(NULL);
        for (size_t i = s->pos > CONTEXT ? s->pos - CONTEXT : 0;
             i < s->pos + CONTEXT + 1; i++) {
            const ReplayRec *r = replay_rec_at(s, i);
            if (!r) {
                continue;
            }
            g_autofree char *d = replay_describe(r);
            g_string_append_printf(s->div_context, "    %s #%zu %s:%" PRIu64 " %s\n",
                                   i == s->pos ? ">" : " ", i, s->trace, r->line, d);
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
        const ReplayRec *cur = replay_rec_at(s, s->pos);
        g_autofree char *exp = cur ? replay_describe(cur)
                                   : g_strdup("(end of the recording)");
        error_report("mmiotrace-replay: divergence at record %zu (%s:%" PRIu64 "): "
                     "expected %s, got %s", s->pos, s->trace, cur ? cur->line : 0, exp,
                     actual);
    }
    if (s->on_divergence == MMIO_TRACE_REPLAY_ON_DIVERGENCE_STOP && !s->ended) {
        s->ended = true;
        replay_write_report(s, stderr);
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR);
    }
}

static uint64_t replay_access(MmioTraceReplay *s, int bar, hwaddr off, unsigned size,
                              bool write, uint64_t value)
{
    const ReplayRec *r;

    raise_irqs(s);
    r = replay_rec_at(s, s->pos);
    if (r && matches(s, r, bar, off, size, write, value)) {
        goto consume;
    }
    {
        bool tolerant = s->mode == MMIO_TRACE_REPLAY_MODE_POLL_TOLERANT;

        /* an extra poll: the register last read, read again */
        if (!write && s->have_last_read && (tolerant || s->last_read.rw.tolerant) &&
            matches(s, &s->last_read, bar, off, size, false, 0)) {
            s->extra_polls++;
            return rec_value(s, &s->last_read);
        }
        /* recorded polls the guest did not make (at most LOOKAHEAD_MAX at once) */
        size_t j = s->pos;
        uint64_t skipped = 0;
        while ((r = replay_rec_at(s, j)) && j - s->pos < LOOKAHEAD_MAX &&
               (r->type == MMIOTRACE_IRQ ||
                (tolerant ? r->rw.poll : r->rw.tolerant)) &&
               !matches(s, r, bar, off, size, write, value)) {
            skipped += r->type != MMIOTRACE_IRQ;
            j++;
        }
        r = replay_rec_at(s, j);
        if (r && j > s->pos && matches(s, r, bar, off, size, write, value)) {
            s->skipped_polls += skipped;
            s->pos = j;
            goto consume;
        }
    }
    {
        g_autofree char *actual = g_strdup_printf("%s %u bar=%d off=0x%" PRIx64
                                                  " 0x%" PRIx64, write ? "W" : "R",
                                                  size, bar, (uint64_t)off, value);
        divergence(s, actual);
    }
    if (s->on_divergence != MMIO_TRACE_REPLAY_ON_DIVERGENCE_STOP) {
        /* the expected access with another value: counted, and taken as that record */
        r = replay_rec_at(s, s->pos);
        if (r && matches(s, r, bar, off, size, write, rec_value(s, r))) {
            goto consume;
        }
        /* resynchronise on the next matching record, if close enough */
        for (size_t j = s->pos;
             j < s->pos + RESYNC_WINDOW && (r = replay_rec_at(s, j)); j++) {
            if (matches(s, r, bar, off, size, write, value)) {
                s->pos = j;
                goto consume;
            }
        }
    }
    return 0;

consume:
    {
        ReplayRec c = *replay_rec_at(s, s->pos);
        uint64_t v = rec_value(s, &c);

        s->pos++;
        if (!write) {
            s->last_read = c;
            s->have_last_read = true;
            s->related_reads += c.rw.rel && v != c.rw.value;
        } else {
            s->tolerated_writes += value != c.rw.value && ((v ^ value) & c.rw.mask) == 0;
        }
        raise_irqs(s);
        replay_window_trim(s);
        return write ? 0 : v;
    }
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
