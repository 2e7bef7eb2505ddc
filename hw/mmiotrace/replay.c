/*
 * hvmmio: mmiotrace-replay, a PCI device that stands in for a recorded one.
 *
 * It realizes with the recorded device's identity (its PCICFG config space record,
 * else its PCIDEV line): IDs, class, BAR sizes and types, capabilities with MSI and
 * MSI-X. Reads return the recorded values; writes are checked against the recorded
 * ones; recorded interrupts are raised at their place in the stream.
 *
 *   mode=strict          accesses must follow the recording's order exactly
 *   mode=poll-tolerant   an extra read of the register last read repeats its last
 *                        recorded value; recorded repeated reads (polls) the guest does
 *                        not make are skipped up to the next matching access
 *   on-divergence=stop   report and end QEMU (the default: for CI)
 *   on-divergence=log    report every divergence, resynchronise and go on
 *   on-divergence=continue  count divergences silently and go on
 *
 * A recording is untrusted input. libmmiotrace's replay-scan.c reads it once first and
 * keeps only each device's identity and bounds; the identity is checked against the PCI
 * rules before QEMU's PCI code sees it, and every bad recording fails realize with
 * FILE:LINE. The records are then counted and finally replayed in streams: memory stays
 * bounded whatever the recording's size (a window of at most LOOKAHEAD_MAX records).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-mmiotrace.h"
#include "qapi/qapi-events-mmiotrace.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "system/runstate.h"
#include "system/system.h"
#include "qom/object.h"
#include "mmiotrace-int.h"
#include "hw/mmiotrace/libmmiotrace/replay-scan.h"

#define TYPE_MMIOTRACE_REPLAY "mmiotrace-replay"
OBJECT_DECLARE_SIMPLE_TYPE(MmioTraceReplay, MMIOTRACE_REPLAY)

#define RESYNC_WINDOW 4096
#define LOOKAHEAD_MAX 65536     /* recorded polls skipped at once (poll-tolerant) */
#define CONTEXT 3

enum { ON_DIV_STOP, ON_DIV_LOG, ON_DIV_CONTINUE };

typedef struct ReplayRec {
    uint8_t type;       /* MMIOTRACE_READ, _WRITE, _IRQ */
    uint8_t width;      /* IRQ: kind */
    uint8_t bar;
    bool poll;          /* a read repeating the previous access's register */
    int32_t vcpu;       /* MMIOTRACE_VCPU_NONE: an access QEMU made itself */
    uint64_t off;       /* IRQ: vector */
    uint64_t value;     /* IRQ: data (INTx: level) */
    uint64_t line;
} ReplayRec;

typedef struct ReplayBar {
    struct MmioTraceReplay *s;
    int nr;
} ReplayBar;

struct MmioTraceReplay {
    PCIDevice parent_obj;

    /* properties */
    char *trace;
    char *mode;
    char *on_divergence;
    char *device;
    char *report;

    bool poll_tolerant;
    int on_div;
    char *dev_name;             /* the recorded device replayed */
    MemoryRegion bar[PCI_NUM_REGIONS];
    ReplayBar barctx[PCI_NUM_REGIONS];
    /* the stream of records to replay: [win_base, win_base + win->len) are in win */
    struct mmiotrace_reader *reader;
    bool replay_guest_only;     /* QEMU's own accesses are not replayed */
    struct mmiotrace_pcidev cur_pcidev;     /* the device's PCIDEV line in effect */
    bool have_pcidev;
    ReplayRec prev;             /* the last access streamed (for poll) */
    bool have_prev;
    GArray *win;
    size_t win_base;
    size_t n, pos;
    ReplayRec last_read;
    bool have_last_read;
    uint64_t divergences, extra_polls, skipped_polls;
    bool diverged;
    uint64_t div_index, div_line;
    char *div_expected, *div_actual;
    GString *div_context;
    bool ended;
    /* MSI-X table and PBA: QEMU's MSI-X emulation serves them, not the recording */
    int msix_bar[2];
    uint64_t msix_off[2], msix_len[2];
    Notifier exit_notifier;
    QTAILQ_ENTRY(MmioTraceReplay) next;
};

static QTAILQ_HEAD(, MmioTraceReplay) replays = QTAILQ_HEAD_INITIALIZER(replays);
static const MemoryRegionOps replay_ops;

/* ---- the recording ---- */

static bool in_msix(MmioTraceReplay *s, const ReplayRec *r)
{
    for (int i = 0; i < 2; i++) {
        if (s->msix_len[i] && r->bar == s->msix_bar[i] && r->off >= s->msix_off[i] &&
            r->off < s->msix_off[i] + s->msix_len[i]) {
            return true;
        }
    }
    return false;
}

static bool stream_open(MmioTraceReplay *s, Error **errp)
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
static int stream_next(MmioTraceReplay *s, ReplayRec *out, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    struct mmiotrace_record rec;
    char err[512];
    int ret;

    while ((ret = mmiotrace_reader_next(s->reader, &rec)) == 1) {
        uint64_t line = mmiotrace_reader_line(s->reader);
        const char *name = rec.ext & MMIOTRACE_EXT_DEV ? rec.dev : "";
        size_t name_len = rec.ext & MMIOTRACE_EXT_DEV ? rec.dev_len : 0;
        ReplayRec r = { .line = line };

        if ((rec.type != MMIOTRACE_PCIDEV && rec.type != MMIOTRACE_READ &&
             rec.type != MMIOTRACE_WRITE && rec.type != MMIOTRACE_IRQ) ||
            name_len != strlen(s->dev_name) || memcmp(name, s->dev_name, name_len)) {
            continue;
        }
        if (rec.type == MMIOTRACE_PCIDEV) {
            s->cur_pcidev = rec.pcidev;
            s->have_pcidev = true;
            continue;
        }
        if (rec.type == MMIOTRACE_IRQ) {
            r.type = MMIOTRACE_IRQ;
            r.width = rec.irq.kind;
            r.off = rec.irq.vector;
            r.value = rec.irq.data;
            r.vcpu = MMIOTRACE_VCPU_NONE;
            *out = r;
            return 1;
        }
        if (mmiotrace_replay_access(&rec, s->have_pcidev ? &s->cur_pcidev : NULL,
                                    s->trace, line, &r.bar, &r.off, err,
                                    sizeof(err)) < 0) {
            error_setg(errp, "mmiotrace-replay: %s", err);
            return -1;
        }
        r.type = rec.type;
        r.width = rec.rw.width;
        r.value = rec.rw.value;
        r.vcpu = rec.ext & MMIOTRACE_EXT_VCPU ? rec.vcpu : 0;
        if (r.vcpu == MMIOTRACE_VCPU_NONE && s->replay_guest_only) {
            continue;
        }
        /* checked by the first pass: a file changed since is caught here */
        if (!pdev->io_regions[r.bar].size || r.off >= pdev->io_regions[r.bar].size ||
            r.width > pdev->io_regions[r.bar].size - r.off) {
            error_setg(errp, "%s:%" PRIu64 ": access at BAR %u offset 0x%" PRIx64
                       " is outside the recorded BARs", s->trace, line, r.bar, r.off);
            return -1;
        }
        if (in_msix(s, &r)) {
            continue;
        }
        r.poll = r.type == MMIOTRACE_READ && s->have_prev &&
                 s->prev.type == MMIOTRACE_READ && s->prev.bar == r.bar &&
                 s->prev.off == r.off && s->prev.width == r.width;
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

/* Record i of the replay (NULL past the end), read from the stream as needed. */
static const ReplayRec *rec_at(MmioTraceReplay *s, size_t i)
{
    if (i >= s->n || i < s->win_base) {
        return NULL;
    }
    while (i >= s->win_base + s->win->len) {
        Error *err = NULL;
        ReplayRec r;
        int ret = stream_next(s, &r, &err);

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
static void window_trim(MmioTraceReplay *s)
{
    size_t keep_from = s->pos > CONTEXT ? s->pos - CONTEXT : 0;
    size_t drop = keep_from > s->win_base ? keep_from - s->win_base : 0;

    drop = MIN(drop, s->win->len);
    if (drop > 1024 && drop > s->win->len / 2) {
        g_array_remove_range(s->win, 0, drop);
        s->win_base += drop;
    }
}

/* ---- the recorded identity ---- */

static bool setup_identity(MmioTraceReplay *s, const struct mmiotrace_replay_dev *d,
                           Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    const uint8_t *c = d->config;
    unsigned len = d->config_len;
    uint64_t src_line = d->config_len ? d->config_line : d->pcidev_line;
    struct mmiotrace_pci_identity id;
    char err[512];

    if (mmiotrace_pci_identity_check(d, s->trace, &id, err, sizeof(err)) < 0) {
        error_setg(errp, "mmiotrace-replay: %s", err);
        return false;
    }

    /* identity: from the config space when recorded, else the PCIDEV IDs */
    pci_config_set_vendor_id(pdev->config, d->pcidev.vendor);
    pci_config_set_device_id(pdev->config, d->pcidev.device);
    if (len) {
        pci_config_set_vendor_id(pdev->config, pci_get_word(c + PCI_VENDOR_ID));
        pci_config_set_device_id(pdev->config, pci_get_word(c + PCI_DEVICE_ID));
        pci_config_set_revision(pdev->config, c[PCI_REVISION_ID]);
        pci_config_set_class(pdev->config, pci_get_word(c + PCI_CLASS_DEVICE));
        pdev->config[PCI_CLASS_PROG] = c[PCI_CLASS_PROG];
        pci_set_word(pdev->config + PCI_SUBSYSTEM_VENDOR_ID,
                     pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID));
        pci_set_word(pdev->config + PCI_SUBSYSTEM_ID, pci_get_word(c + PCI_SUBSYSTEM_ID));
        pdev->config[PCI_INTERRUPT_PIN] = c[PCI_INTERRUPT_PIN];
    } else {
        pci_config_set_class(pdev->config, PCI_CLASS_OTHERS);
        pdev->config[PCI_INTERRUPT_PIN] = 1;
    }

    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        if (!id.bar_size[i]) {
            continue;
        }
        g_autofree char *name = g_strdup_printf("mmiotrace-replay-bar%d", i);
        s->barctx[i].s = s;
        s->barctx[i].nr = i;
        memory_region_init_io(&s->bar[i], OBJECT(s), &replay_ops, &s->barctx[i], name,
                              id.bar_size[i]);
    }

    /* MSI and MSI-X as recorded (QEMU emulates them, as it did for the original) */
    if (id.msi_pos && msi_init(pdev, id.msi_pos, id.msi_vectors, id.msi_64bit,
                               id.msi_maskbit, errp) < 0) {
        error_prepend(errp, "%s:%" PRIu64 ": recorded MSI capability: ", s->trace,
                      src_line);
        return false;
    }
    if (id.msix_pos) {
        if (msix_init(pdev, id.msix_vectors, &s->bar[id.msix_table_bar],
                      id.msix_table_bar, id.msix_table_off, &s->bar[id.msix_pba_bar],
                      id.msix_pba_bar, id.msix_pba_off, id.msix_pos, errp) < 0) {
            error_prepend(errp, "%s:%" PRIu64 ": recorded MSI-X capability: ", s->trace,
                          src_line);
            return false;
        }
        for (unsigned v = 0; v < id.msix_vectors; v++) {
            msix_vector_use(pdev, v);
        }
        s->msix_bar[0] = id.msix_table_bar;
        s->msix_off[0] = id.msix_table_off;
        s->msix_len[0] = (uint64_t)id.msix_vectors * PCI_MSIX_ENTRY_SIZE;
        s->msix_bar[1] = id.msix_pba_bar;
        s->msix_off[1] = id.msix_pba_off;
        s->msix_len[1] = QEMU_ALIGN_UP(id.msix_vectors, 64) / 8;
    }
    /* the other capabilities, and the recorded chain, read-only as recorded */
    if (id.caps) {
        memcpy(pdev->config + 0x40, c + 0x40, MIN(len, PCI_CONFIG_SPACE_SIZE) - 0x40);
        pdev->config[PCI_CAPABILITY_LIST] = c[PCI_CAPABILITY_LIST];
        pci_set_word(pdev->config + PCI_STATUS,
                     pci_get_word(pdev->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
        /* interrupts start disabled, as QEMU's MSI and MSI-X emulation set them up */
        if (id.msi_pos) {
            pdev->config[id.msi_pos + PCI_MSI_FLAGS] &= ~PCI_MSI_FLAGS_ENABLE;
        }
        if (id.msix_pos) {
            pdev->config[id.msix_pos + PCI_MSIX_FLAGS + 1] &=
                ~((PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
        }
    }
    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        if (id.bar_size[i]) {
            pci_register_bar(pdev, i, id.bar_type[i], &s->bar[i]);
        }
    }
    return true;
}

/* ---- replaying ---- */

static char *describe(const ReplayRec *r)
{
    if (r->type == MMIOTRACE_IRQ) {
        static const char *const kinds[] = { "INTx", "MSI", "MSI-X" };
        return g_strdup_printf("IRQ %s vector %" PRIu64 " data 0x%" PRIx64,
                               r->width < 3 ? kinds[r->width] : "?", r->off, r->value);
    }
    return g_strdup_printf("%s %u bar=%u off=0x%" PRIx64 " 0x%" PRIx64,
                           r->type == MMIOTRACE_WRITE ? "W" : "R", r->width, r->bar,
                           r->off, r->value);
}

static void raise_irqs(MmioTraceReplay *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    const ReplayRec *r;

    while ((r = rec_at(s, s->pos)) && r->type == MMIOTRACE_IRQ) {
        s->pos++;
        switch (r->width) {
        case MMIOTRACE_IRQ_INTX:
            /* a recorded INTx of a device without an interrupt pin is not raised */
            if (pci_intx(pdev) >= 0 && pci_intx(pdev) < PCI_NUM_PINS) {
                pci_set_irq(pdev, r->value & 1);
            }
            break;
        case MMIOTRACE_IRQ_MSI:
            if (msi_enabled(pdev) && r->off < msi_nr_vectors_allocated(pdev)) {
                msi_notify(pdev, r->off);
            }
            break;
        case MMIOTRACE_IRQ_MSIX:
            if (msix_enabled(pdev) && r->off < pdev->msix_entries_nr) {
                msix_notify(pdev, r->off);
            }
            break;
        }
    }
}

static bool matches(const ReplayRec *r, int bar, hwaddr off, unsigned size, bool write,
                    uint64_t value)
{
    return r->type == (write ? MMIOTRACE_WRITE : MMIOTRACE_READ) && r->bar == bar &&
           r->off == off && r->width == size && (!write || r->value == value);
}

static void write_report(MmioTraceReplay *s, FILE *out);

static void divergence(MmioTraceReplay *s, const char *actual)
{
    s->divergences++;
    if (!s->diverged) {
        s->diverged = true;
        const ReplayRec *cur = rec_at(s, s->pos);
        s->div_index = s->pos;
        s->div_line = cur ? cur->line : 0;
        s->div_expected = cur ? describe(cur) : g_strdup("");
        s->div_actual = g_strdup(actual);
        s->div_context = g_string_new(NULL);
        for (size_t i = s->pos > CONTEXT ? s->pos - CONTEXT : 0;
             i < s->pos + CONTEXT + 1; i++) {
            const ReplayRec *r = rec_at(s, i);
            if (!r) {
                continue;
            }
            g_autofree char *d = describe(r);
            g_string_append_printf(s->div_context, "    %s #%zu %s:%" PRIu64 " %s\n",
                                   i == s->pos ? ">" : " ", i, s->trace, r->line, d);
        }
        MmioTraceReplayDivergence div = {
            .index = s->div_index, .line = s->div_line,
            .expected = s->div_expected, .actual = s->div_actual,
        };
        qapi_event_send_mmiotrace_replay_divergence(s->dev_name, &div);
    }
    if (s->on_div == ON_DIV_LOG || (s->on_div == ON_DIV_STOP && s->divergences == 1)) {
        const ReplayRec *cur = rec_at(s, s->pos);
        g_autofree char *exp = cur ? describe(cur) : g_strdup("(end of the recording)");
        error_report("mmiotrace-replay: divergence at record %zu (%s:%" PRIu64 "): "
                     "expected %s, got %s", s->pos, s->trace, cur ? cur->line : 0, exp,
                     actual);
    }
    if (s->on_div == ON_DIV_STOP && !s->ended) {
        s->ended = true;
        write_report(s, stderr);
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR);
    }
}

static uint64_t replay_access(MmioTraceReplay *s, int bar, hwaddr off, unsigned size,
                              bool write, uint64_t value)
{
    const ReplayRec *r;

    raise_irqs(s);
    r = rec_at(s, s->pos);
    if (r && matches(r, bar, off, size, write, value)) {
        goto consume;
    }
    if (s->poll_tolerant) {
        /* an extra poll: the register last read, read again */
        if (!write && s->have_last_read &&
            matches(&s->last_read, bar, off, size, false, 0)) {
            s->extra_polls++;
            return s->last_read.value;
        }
        /* recorded polls the guest did not make (at most LOOKAHEAD_MAX at once) */
        size_t j = s->pos;
        uint64_t skipped = 0;
        while ((r = rec_at(s, j)) && j - s->pos < LOOKAHEAD_MAX &&
               (r->poll || r->type == MMIOTRACE_IRQ) &&
               !matches(r, bar, off, size, write, value)) {
            skipped += r->type != MMIOTRACE_IRQ;
            j++;
        }
        r = rec_at(s, j);
        if (r && j > s->pos && matches(r, bar, off, size, write, value)) {
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
    if (s->on_div != ON_DIV_STOP) {
        /* the expected access with another value: counted, and taken as that record */
        r = rec_at(s, s->pos);
        if (r && matches(r, bar, off, size, write, r->value)) {
            goto consume;
        }
        /* resynchronise on the next matching record, if close enough */
        for (size_t j = s->pos; j < s->pos + RESYNC_WINDOW && (r = rec_at(s, j)); j++) {
            if (matches(r, bar, off, size, write, value)) {
                s->pos = j;
                goto consume;
            }
        }
    }
    return 0;

consume:
    {
        ReplayRec c = *rec_at(s, s->pos);
        s->pos++;
        if (!write) {
            s->last_read = c;
            s->have_last_read = true;
        }
        raise_irqs(s);
        window_trim(s);
        return write ? 0 : c.value;
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
}

static const MemoryRegionOps replay_ops = {
    .read = replay_read,
    .write = replay_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};

/* ---- report ---- */

static bool replay_passed(MmioTraceReplay *s)
{
    return !s->divergences && s->pos == s->n;
}

static void write_report(MmioTraceReplay *s, FILE *out)
{
    fprintf(out, "RESULT %s consumed=%zu total=%zu divergences=%" PRIu64
            " extra-polls=%" PRIu64 " skipped-polls=%" PRIu64 "\n",
            replay_passed(s) ? "PASS" : "FAIL", s->pos, s->n, s->divergences,
            s->extra_polls, s->skipped_polls);
    fprintf(out, "mmiotrace-replay %s: %s (device %s), mode %s\n",
            DEVICE(s)->id ? DEVICE(s)->id : "", s->trace, s->dev_name,
            s->poll_tolerant ? "poll-tolerant" : "strict");
    fprintf(out, "  consumed %zu of %zu recorded records (%.1f%%), %" PRIu64
            " divergences, %" PRIu64 " extra polls, %" PRIu64 " skipped polls\n",
            s->pos, s->n, s->n ? 100.0 * s->pos / s->n : 100.0, s->divergences,
            s->extra_polls, s->skipped_polls);
    if (s->diverged) {
        fprintf(out, "  first divergence at record %" PRIu64 " (%s:%" PRIu64 "):\n"
                "    expected %s\n    got      %s\n  records around it:\n%s",
                s->div_index, s->trace, s->div_line,
                *s->div_expected ? s->div_expected : "(end of the recording)",
                s->div_actual, s->div_context->str);
    } else if (s->pos < s->n && rec_at(s, s->pos)) {
        const ReplayRec *r = rec_at(s, s->pos);
        g_autofree char *next = describe(r);
        fprintf(out, "  the guest stopped before the end of the recording; next "
                "expected: %s (%s:%" PRIu64 ")\n", next, s->trace, r->line);
    }
}

static void replay_exit_notify(Notifier *n, void *data)
{
    MmioTraceReplay *s = container_of(n, MmioTraceReplay, exit_notifier);

    if (s->report) {
        FILE *f = fopen(s->report, "w");
        if (f) {
            write_report(s, f);
            fclose(f);
        } else {
            error_report("mmiotrace-replay: cannot write report '%s': %s", s->report,
                         strerror(errno));
        }
    }
    if (!s->ended) {
        write_report(s, stderr);
    }
}

MmioTraceReplayInfoList *qmp_query_mmiotrace_replay(Error **errp)
{
    MmioTraceReplayInfoList *head = NULL, **tail = &head;
    MmioTraceReplay *s;

    QTAILQ_FOREACH(s, &replays, next) {
        MmioTraceReplayInfo *i = g_new0(MmioTraceReplayInfo, 1);
        i->device = DEVICE(s)->id ? g_strdup(DEVICE(s)->id)
                                  : object_get_canonical_path(OBJECT(s));
        i->trace = g_strdup(s->trace);
        i->mode = g_strdup(s->poll_tolerant ? "poll-tolerant" : "strict");
        i->position = s->pos;
        i->total = s->n;
        i->divergences = s->divergences;
        i->extra_polls = s->extra_polls;
        i->skipped_polls = s->skipped_polls;
        if (s->diverged) {
            i->first_divergence = g_new0(MmioTraceReplayDivergence, 1);
            i->first_divergence->index = s->div_index;
            i->first_divergence->line = s->div_line;
            i->first_divergence->expected = g_strdup(s->div_expected);
            i->first_divergence->actual = g_strdup(s->div_actual);
        }
        QAPI_LIST_APPEND(tail, i);
    }
    return head;
}

/* ---- device ---- */

static void replay_realize(PCIDevice *pdev, Error **errp)
{
    MmioTraceReplay *s = MMIOTRACE_REPLAY(pdev);
    g_autofree struct mmiotrace_replay_scan *scan =
        g_new0(struct mmiotrace_replay_scan, 1);
    struct mmiotrace_replay_dev *d = NULL;
    struct mmiotrace_reader *reader;
    char err[512];
    ReplayRec r;
    int ret;

    if (!s->trace || !*s->trace) {
        error_setg(errp, "mmiotrace-replay: trace=FILE is required");
        return;
    }
    if (!s->mode || !strcmp(s->mode, "strict")) {
        s->poll_tolerant = false;
    } else if (!strcmp(s->mode, "poll-tolerant")) {
        s->poll_tolerant = true;
    } else {
        error_setg(errp, "mmiotrace-replay: mode '%s' is not strict or poll-tolerant",
                   s->mode);
        return;
    }
    if (!s->on_divergence || !strcmp(s->on_divergence, "stop")) {
        s->on_div = ON_DIV_STOP;
    } else if (!strcmp(s->on_divergence, "log")) {
        s->on_div = ON_DIV_LOG;
    } else if (!strcmp(s->on_divergence, "continue")) {
        s->on_div = ON_DIV_CONTINUE;
    } else {
        error_setg(errp, "mmiotrace-replay: on-divergence '%s' is not stop, log or "
                   "continue", s->on_divergence);
        return;
    }

    /* first pass: the devices' identities and bounds, in constant memory */
    reader = mmiotrace_reader_open(s->trace);
    if (!reader) {
        error_setg_errno(errp, errno, "mmiotrace-replay: cannot read trace '%s'",
                         s->trace);
        return;
    }
    ret = mmiotrace_replay_scan(reader, s->trace, scan, err, sizeof(err));
    mmiotrace_reader_free(reader);
    if (ret < 0) {
        error_setg(errp, "mmiotrace-replay: %s", err);
        return;
    }
    if (s->device) {
        d = mmiotrace_replay_find(scan, s->device, strlen(s->device));
        if (!d) {
            g_autoptr(GString) names = g_string_new(NULL);
            for (unsigned i = 0; i < scan->n; i++) {
                g_string_append_printf(names, "%s'%s'", i ? ", " : "",
                                       scan->devs[i].name);
            }
            error_setg(errp, "mmiotrace-replay: %s has no device '%s' (it records: %s)",
                       s->trace, s->device, names->str);
            return;
        }
    } else {
        for (unsigned i = 0; i < scan->n; i++) {
            struct mmiotrace_replay_dev *c = &scan->devs[i];
            if (!c->have_pcidev && !c->config_len) {
                continue;
            }
            if (d) {
                error_setg(errp, "mmiotrace-replay: %s records several devices ('%s', "
                           "'%s', ...): choose one with device=NAME", s->trace, d->name,
                           c->name);
                return;
            }
            d = c;
        }
        if (!d) {
            error_setg(errp, "mmiotrace-replay: %s has no PCIDEV line or PCICFG record: "
                       "nothing says what device to replay", s->trace);
            return;
        }
    }
    if (!setup_identity(s, d, errp)) {
        return;
    }
    s->dev_name = g_strdup(d->name);
    /* QEMU's own accesses are replayed only when there is nothing else */
    s->replay_guest_only = d->guest_accesses > 0;

    /* second pass: count (and check) the records to replay; the third replays them */
    if (!stream_open(s, errp)) {
        goto fail;
    }
    s->n = 0;
    while ((ret = stream_next(s, &r, errp)) == 1) {
        s->n++;
    }
    if (ret < 0 || !stream_open(s, errp)) {
        goto fail;
    }
    s->win = g_array_new(false, false, sizeof(ReplayRec));
    s->win_base = 0;
    s->exit_notifier.notify = replay_exit_notify;
    qemu_add_exit_notifier(&s->exit_notifier);
    QTAILQ_INSERT_TAIL(&replays, s, next);
    return;

fail:
    if (s->reader) {
        mmiotrace_reader_free(s->reader);
        s->reader = NULL;
    }
    msix_uninit(pdev, &s->bar[s->msix_bar[0]], &s->bar[s->msix_bar[1]]);
    msi_uninit(pdev);
    g_clear_pointer(&s->dev_name, g_free);
}

static void replay_exit(PCIDevice *pdev)
{
    MmioTraceReplay *s = MMIOTRACE_REPLAY(pdev);

    if (s->exit_notifier.notify) {
        qemu_remove_exit_notifier(&s->exit_notifier);
        QTAILQ_REMOVE(&replays, s, next);
    }
    msix_uninit_exclusive_bar(pdev);
    msi_uninit(pdev);
    if (s->reader) {
        mmiotrace_reader_free(s->reader);
        s->reader = NULL;
    }
    if (s->win) {
        g_array_free(s->win, true);
        s->win = NULL;
    }
    g_free(s->dev_name);
    g_free(s->div_expected);
    g_free(s->div_actual);
    if (s->div_context) {
        g_string_free(s->div_context, true);
    }
}

static const Property replay_props[] = {
    DEFINE_PROP_STRING("trace", MmioTraceReplay, trace),
    DEFINE_PROP_STRING("mode", MmioTraceReplay, mode),
    DEFINE_PROP_STRING("on-divergence", MmioTraceReplay, on_divergence),
    DEFINE_PROP_STRING("device", MmioTraceReplay, device),
    DEFINE_PROP_STRING("report", MmioTraceReplay, report),
};

static void replay_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = replay_realize;
    k->exit = replay_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x4d52;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "hvmmio: replays a recorded mmiotrace in place of the device";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, replay_props);
    object_class_property_set_description(klass, "trace", "the recording (mmiotrace "
                                          "text, .gz/.xz/.zst or JSON Lines)");
    object_class_property_set_description(klass, "mode", "strict (default: the "
                                          "recording's order) or poll-tolerant");
    object_class_property_set_description(klass, "on-divergence", "stop (default: "
                                          "report and end QEMU), log or continue");
    object_class_property_set_description(klass, "device", "the recorded device to "
                                          "replay, when the trace holds several");
    object_class_property_set_description(klass, "report", "write the final report "
                                          "to this file");
}

static const TypeInfo replay_types[] = {
    {
        .name = TYPE_MMIOTRACE_REPLAY,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(MmioTraceReplay),
        .class_init = replay_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(replay_types)
