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
 *   reorder-window=N     an access may take a later record, passing up to N required
 *                        ones (default: 32 if the recording has replay annotations,
 *                        else 0); records marked opt=1 may be left out (replay-match.c)
 *   dma=on               perform the recorded DMA, relocated (replay-dma.c)
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
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "system/system.h"
#include "qemu/timer.h"
#include "replay-int.h"

static QTAILQ_HEAD(, MmioTraceReplay) replays = QTAILQ_HEAD_INITIALIZER(replays);

static bool replay_passed(MmioTraceReplay *s)
{
    return !s->divergences && replay_reorder_complete(s);
}

void replay_write_report(MmioTraceReplay *s, FILE *out)
{
    bool passed = replay_passed(s);     /* first: unmade optional records are skipped */

    fprintf(out, "RESULT %s consumed=%zu total=%zu divergences=%" PRIu64
            " extra-polls=%" PRIu64 " skipped-polls=%" PRIu64 " dma-refused=%" PRIu64
            "\n", passed ? "PASS" : "FAIL", s->pos, s->n, s->divergences,
            s->extra_polls, s->skipped_polls, replay_dma_refused(s));
    fprintf(out, "mmiotrace-replay %s: %s (device %s), mode %s\n",
            DEVICE(s)->id ? DEVICE(s)->id : "", s->trace, s->dev_name,
            MmioTraceReplayMode_str(s->mode));
    fprintf(out, "  consumed %zu of %zu recorded records (%.1f%%), %" PRIu64
            " divergences, %" PRIu64 " extra polls, %" PRIu64 " skipped polls\n",
            s->pos, s->n, s->n ? 100.0 * s->pos / s->n : 100.0, s->divergences,
            s->extra_polls, s->skipped_polls);
    fprintf(out, "  tolerated (annotations): %" PRIu64 " written values other than "
            "recorded (match=, rel=), %" PRIu64 " reads answered with a value the "
            "guest wrote (rel=)\n", s->tolerated_writes, s->related_reads);
    replay_reorder_report(s, out);
    replay_dma_report(s, out);
    if (s->diverged) {
        fprintf(out, "  first divergence at record %" PRIu64 " (%s:%" PRIu64 "):\n"
                "    expected %s\n    got      %s\n  records around it:\n%s",
                s->div_index, s->trace, s->div_line,
                *s->div_expected ? s->div_expected : "(end of the recording)",
                s->div_actual, s->div_context->str);
    } else if (s->pos < s->n && replay_rec_at(s, s->pos)) {
        uint64_t missing;
        const ReplayRec *r = replay_rec_at(s, replay_reorder_missing(s, &missing));
        g_autofree char *next = replay_describe(r);
        fprintf(out, "  the guest stopped before the end of the recording; next "
                "expected: %s (%s:%" PRIu64 "), %" PRIu64 " required records not "
                "made\n", next, s->trace, r->line, missing);
    }
}

static void replay_exit_notify(Notifier *n, void *data)
{
    MmioTraceReplay *s = container_of(n, MmioTraceReplay, exit_notifier);

    if (s->report) {
        FILE *f = fopen(s->report, "w");
        if (f) {
            replay_write_report(s, f);
            fclose(f);
        } else {
            error_report("mmiotrace-replay: cannot write report '%s': %s", s->report,
                         strerror(errno));
        }
    }
    if (!s->ended) {
        replay_write_report(s, stderr);
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
        i->mode = s->mode;
        i->position = s->pos;
        i->total = s->n;
        i->divergences = s->divergences;
        i->extra_polls = s->extra_polls;
        i->skipped_polls = s->skipped_polls;
        i->reorder_window = s->window;
        i->reordered = s->reordered;
        i->optional_made = s->opt_matched;
        i->optional_skipped = s->opt_skipped;
        i->tolerated_writes = s->tolerated_writes;
        i->related_reads = s->related_reads;
        i->dma_refused = replay_dma_refused(s);
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

/* The recorded device to replay: device=NAME, else the only one with an identity. */
static struct mmiotrace_replay_dev *choose_device(MmioTraceReplay *s,
                                                  struct mmiotrace_replay_scan *scan,
                                                  Error **errp)
{
    struct mmiotrace_replay_dev *d = NULL;

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
            return NULL;
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
                return NULL;
            }
            d = c;
        }
        if (!d) {
            error_setg(errp, "mmiotrace-replay: %s has no PCIDEV line or PCICFG record: "
                       "nothing says what device to replay", s->trace);
            return NULL;
        }
    }
    return d;
}

static void replay_realize(PCIDevice *pdev, Error **errp)
{
    MmioTraceReplay *s = MMIOTRACE_REPLAY(pdev);
    g_autofree struct mmiotrace_replay_scan *scan =
        g_new0(struct mmiotrace_replay_scan, 1);
    struct mmiotrace_replay_dev *d;
    struct mmiotrace_reader *reader;
    char err[512];
    ReplayRec r;
    int ret;

    if (!s->trace || !*s->trace) {
        error_setg(errp, "mmiotrace-replay: trace=FILE is required");
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
    d = choose_device(s, scan, errp);
    if (!d) {
        return;
    }
    if (!replay_setup_identity(s, d, errp)) {
        return;
    }
    s->dev_name = g_strdup(d->name);
    /* QEMU's own accesses are replayed only when there is nothing else */
    s->replay_guest_only = d->guest_accesses > 0;

    /* second pass: count (and check) the records to replay; the third replays them */
    if (!replay_stream_open(s, errp)) {
        goto fail;
    }
    s->n = 0;
    replay_dma_init(s);
    while ((ret = replay_stream_next(s, &r, errp)) == 1) {
        replay_reorder_count(s, &r, s->n);
        s->n++;
        replay_dma_scan(s, &r);     /* the recorded DMA addresses */
        replay_dma_rec_clear(&r);
    }
    if (ret < 0 || !replay_reorder_setup(s, errp) || !replay_stream_open(s, errp)) {
        goto fail;
    }
    s->win = g_array_new(false, false, sizeof(ReplayRec));
    g_array_set_clear_func(s->win, replay_dma_rec_clear);
    s->win_base = 0;
    s->written = g_hash_table_new(NULL, NULL);
    s->irq_timer = timer_new_ns(QEMU_CLOCK_VIRTUAL, replay_irq_timer, s);
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
    replay_dma_free(s);
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
    if (s->written) {
        g_hash_table_destroy(s->written);
        s->written = NULL;
    }
    replay_dma_free(s);
    if (s->irq_timer) {
        timer_free(s->irq_timer);
        s->irq_timer = NULL;
    }
}

static const Property replay_props[] = {
    DEFINE_PROP_STRING("trace", MmioTraceReplay, trace),
    DEFINE_PROP_SIGNED("mode", MmioTraceReplay, mode, MMIO_TRACE_REPLAY_MODE_STRICT,
                       mmiotrace_prop_replay_mode, MmioTraceReplayMode),
    DEFINE_PROP_SIGNED("on-divergence", MmioTraceReplay, on_divergence,
                       MMIO_TRACE_REPLAY_ON_DIVERGENCE_STOP,
                       mmiotrace_prop_replay_on_divergence, MmioTraceReplayOnDivergence),
    DEFINE_PROP_STRING("device", MmioTraceReplay, device),
    DEFINE_PROP_STRING("report", MmioTraceReplay, report),
    DEFINE_PROP_INT32("reorder-window", MmioTraceReplay, reorder_window, -1),
    DEFINE_PROP_BOOL("dma", MmioTraceReplay, dma, true),
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
    object_class_property_set_description(klass, "reorder-window", "required records "
                                          "an access may be made ahead of (0-4096; "
                                          "default -1: 32 for a recording with replay "
                                          "annotations, else 0)");
    object_class_property_set_description(klass, "dma", "perform the recorded DMA at "
                                          "the addresses the driver gave (default on)");
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
