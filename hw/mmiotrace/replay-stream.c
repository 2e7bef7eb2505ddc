/*
 * hvmmio: mmiotrace-replay's recording, read as a stream: only the replayed device's
 * accesses and interrupts, checked against its recorded BARs, in a bounded window
 * (records before the context kept for reports are forgotten).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qapi/error.h"
#include "replay-int.h"

static bool in_msix(MmioTraceReplay *s, const ReplayRec *r)
{
    for (int i = 0; i < 2; i++) {
        if (s->msix_len[i] && r->rw.bar == s->msix_bar[i] &&
            r->rw.off >= s->msix_off[i] && r->rw.off < s->msix_off[i] + s->msix_len[i]) {
            return true;
        }
    }
    return false;
}

/* The replay annotations of an access (match=, rel=, poll=, opt=) */
static void take_annotations(ReplayRec *r, const struct mmiotrace_record *rec)
{
    r->rw.mask = rec->ext & MMIOTRACE_EXT_MATCH ? rec->match_mask : UINT64_MAX;
    r->rw.rel = rec->ext & MMIOTRACE_EXT_REL;
    r->rw.rel_bar = rec->rel_bar;
    r->rw.rel_off = rec->rel_off;
    r->rw.tolerant = r->type == MMIOTRACE_READ && (rec->ext & MMIOTRACE_EXT_POLL);
    r->rw.opt = rec->ext & MMIOTRACE_EXT_OPT;
}

bool replay_stream_open(MmioTraceReplay *s, Error **errp)
{
    if (s->reader) {
        mmiotrace_reader_free(s->reader);
    }
    s->reader = mmiotrace_reader_open(s->trace);
    if (!s->reader) {
        error_setg_errno(errp, errno, "mmiotrace-replay: cannot read trace '%s'",
                         s->trace);
        return false;
    }
    s->have_pcidev = false;
    s->have_prev = false;
    return true;
}

/*
 * The next record to replay from the stream: 1, 0 at its end, -1 with errp set. Only the
 * replayed device's accesses and interrupts, minus QEMU's own accesses (when the guest's
 * are there) and the MSI-X table and PBA (QEMU's MSI-X emulation serves them).
 */
int replay_stream_next(MmioTraceReplay *s, ReplayRec *out, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    struct mmiotrace_record rec;
    char err[512];
    int ret;

    while ((ret = mmiotrace_reader_next(s->reader, &rec)) == 1) {
        uint64_t line = mmiotrace_reader_line(s->reader);
        const char *name = rec.ext & MMIOTRACE_EXT_DEV ? rec.dev : "";
        size_t name_len = rec.ext & MMIOTRACE_EXT_DEV ? rec.dev_len : 0;
        ReplayRec r = { .line = line, .ns = rec.ts_ns };

        if ((rec.type != MMIOTRACE_PCIDEV && rec.type != MMIOTRACE_READ &&
             rec.type != MMIOTRACE_WRITE && rec.type != MMIOTRACE_IRQ &&
             (rec.type != MMIOTRACE_DMA || !s->dma)) ||
            name_len != strlen(s->dev_name) || memcmp(name, s->dev_name, name_len)) {
            continue;
        }
        if (rec.type == MMIOTRACE_DMA) {
            replay_dma_from_record(&r, &rec);   /* replay-dma.c performs it */
            *out = r;
            return 1;
        }
        if (rec.type == MMIOTRACE_PCIDEV) {
            s->cur_pcidev = rec.pcidev;
            s->have_pcidev = true;
            continue;
        }
        if (rec.type == MMIOTRACE_IRQ) {
            r.type = MMIOTRACE_IRQ;
            r.irq.kind = rec.irq.kind;
            r.irq.vector = rec.irq.vector;
            r.irq.data = rec.irq.data;
            *out = r;
            return 1;
        }
        if (mmiotrace_replay_access(&rec, s->have_pcidev ? &s->cur_pcidev : NULL,
                                    s->trace, line, &r.rw.bar, &r.rw.off, err,
                                    sizeof(err)) < 0) {
            error_setg(errp, "mmiotrace-replay: %s", err);
            return -1;
        }
        r.type = rec.type;
        r.rw.width = rec.rw.width;
        r.rw.value = rec.rw.value;
        r.rw.vcpu = rec.ext & MMIOTRACE_EXT_VCPU ? rec.vcpu : 0;
        if (r.rw.vcpu == MMIOTRACE_VCPU_NONE && s->replay_guest_only) {
            continue;
        }
        /* checked by the first pass: a file changed since is caught here */
        uint64_t size = pdev->io_regions[r.rw.bar].size;
        if (!size || r.rw.off >= size || r.rw.width > size - r.rw.off) {
            error_setg(errp, "%s:%" PRIu64 ": access at BAR %u offset 0x%" PRIx64
                       " is outside the recorded BARs", s->trace, line, r.rw.bar,
                       r.rw.off);
            return -1;
        }
        if (in_msix(s, &r)) {
            continue;
        }
        take_annotations(&r, &rec);
        r.rw.poll = r.type == MMIOTRACE_READ && s->have_prev &&
                    s->prev.type == MMIOTRACE_READ && s->prev.rw.bar == r.rw.bar &&
                    s->prev.rw.off == r.rw.off && s->prev.rw.width == r.rw.width;
        s->prev = r;
        s->have_prev = true;
        *out = r;
        return 1;
    }
    if (ret < 0) {
        error_setg(errp, "mmiotrace-replay: %s", mmiotrace_reader_error(s->reader));
        return -1;
    }
    return 0;
}

const ReplayRec *replay_rec_at(MmioTraceReplay *s, size_t i)
{
    if (i >= s->n || i < s->win_base) {
        return NULL;
    }
    while (i >= s->win_base + s->win->len) {
        Error *err = NULL;
        ReplayRec r;
        int ret = replay_stream_next(s, &r, &err);

        if (ret <= 0) {
            /* the file changed since it was counted: the replay ends here */
            if (err) {
                error_report_err(err);
            } else {
                error_report("mmiotrace-replay: %s ended after %zu of %zu records "
                             "(changed while replayed?)", s->trace,
                             s->win_base + s->win->len, s->n);
            }
            s->n = s->win_base + s->win->len;
            return NULL;
        }
        g_array_append_val(s->win, r);
    }
    return &g_array_index(s->win, ReplayRec, i - s->win_base);
}

/* Forget the records before the context kept for reports. */
void replay_window_trim(MmioTraceReplay *s)
{
    size_t keep_from = s->pos > CONTEXT ? s->pos - CONTEXT : 0;
    size_t drop = keep_from > s->win_base ? keep_from - s->win_base : 0;

    drop = MIN(drop, s->win->len);
    if (drop > 1024 && drop > s->win->len / 2) {
        g_array_remove_range(s->win, 0, drop);
        s->win_base += drop;
    }
}
