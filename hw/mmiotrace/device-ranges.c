/*
 * hvmmio: a traced device's trapped ranges: mmiotrace-ranges at realize, the
 * mmiotrace-trap command at run time (kept merged and sorted), and the test of an
 * access against them.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/cutils.h"
#include "qapi/error.h"
#include "system/memory.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "mmiotrace-int.h"
#include "trace.h"

static bool check_range(MmioTraceDevice *d, int bar, uint64_t off, uint64_t len,
                        const char *what, Error **errp)
{
    PCIDevice *pdev = d->pdev;

    if (bar < 0 || bar >= PCI_ROM_SLOT || !pdev->io_regions[bar].size) {
        error_setg(errp, "%s: BAR %d is not implemented by this device", what, bar);
        return false;
    }
    if (!mmiotrace_bar_is_memory(pdev, bar)) {
        error_setg(errp, "%s: BAR %d is an I/O port BAR", what, bar);
        return false;
    }
    if (!(d->bar_mask & (1u << bar))) {
        error_setg(errp, "%s: BAR %d is not traced (see mmiotrace-bars)", what, bar);
        return false;
    }
    if (!len || off >= pdev->io_regions[bar].size ||
        len > pdev->io_regions[bar].size - off) {
        error_setg(errp, "%s: range 0x%" PRIx64 "+0x%" PRIx64 " is empty or "
                   "outside BAR %d (size 0x%" PRIx64 ")", what, off, len, bar,
                   (uint64_t)pdev->io_regions[bar].size);
        return false;
    }
    return true;
}

/* BAR:OFFSET+LENGTH[;BAR:OFFSET+LENGTH...] (or ',' between them, as QMP allows) */
bool mmiotrace_device_parse_ranges(MmioTraceDevice *d, const char *spec, Error **errp)
{
    if (!spec || !*spec) {
        return true;
    }
    g_auto(GStrv) parts = g_strsplit_set(spec, ",;", -1);
    for (char **p = parts; *p; p++) {
        const char *s = *p, *end;
        uint64_t bar, off, len;
        if (qemu_strtou64(s, &end, 0, &bar) < 0 || *end != ':' ||
            qemu_strtou64(end + 1, &end, 0, &off) < 0 || *end != '+' ||
            qemu_strtou64(end + 1, &end, 0, &len) < 0 || *end) {
            error_setg(errp, "mmiotrace-ranges: '%s' is not BAR:OFFSET+LENGTH "
                       "(e.g. 2:0x1000+0x100)", s);
            return false;
        }
        if (bar >= PCI_ROM_SLOT) {
            error_setg(errp, "mmiotrace-ranges: '%s': BAR %" PRIu64 " is not 0-5", s,
                       bar);
            return false;
        }
        if (!check_range(d, bar, off, len, "mmiotrace-ranges", errp)) {
            return false;
        }
        MmioTraceSpan r = { .bar = bar, .off = off, .len = len };
        g_array_append_val(d->ranges, r);
    }
    return true;
}

bool mmiotrace_device_in_ranges(MmioTraceDevice *d, int bar, uint64_t off,
                                unsigned size)
{
    for (guint i = 0; i < d->ranges->len; i++) {
        MmioTraceSpan *r = &g_array_index(d->ranges, MmioTraceSpan, i);
        if (r->bar == bar && off + size > r->off && off < r->off + r->len) {
            return true;
        }
    }
    return false;
}

static gint span_cmp(gconstpointer a, gconstpointer b)
{
    const MmioTraceSpan *x = a, *y = b;

    if (x->bar != y->bar) {
        return x->bar < y->bar ? -1 : 1;
    }
    return x->off < y->off ? -1 : x->off > y->off;
}

/* Sort the spans and merge those that overlap or touch: repeated traps cost nothing. */
static void merge_spans(GArray *ranges)
{
    guint n = 0;

    g_array_sort(ranges, span_cmp);
    for (guint i = 0; i < ranges->len; i++) {
        MmioTraceSpan *r = &g_array_index(ranges, MmioTraceSpan, i);
        MmioTraceSpan *last = n ? &g_array_index(ranges, MmioTraceSpan, n - 1) : NULL;

        if (last && last->bar == r->bar && r->off <= last->off + last->len) {
            last->len = MAX(last->off + last->len, r->off + r->len) - last->off;
            continue;
        }
        g_array_index(ranges, MmioTraceSpan, n++) = *r;
    }
    g_array_set_size(ranges, n);
}

static bool spans_equal(GArray *a, GArray *b)
{
    return a->len == b->len &&
           !memcmp(a->data, b->data, (size_t)a->len * sizeof(MmioTraceSpan));
}

/* Add or remove [off, off+len) of a BAR from the trapped ranges, at run time. */
bool mmiotrace_device_trap(MmioTraceDevice *d, int bar, uint64_t off,
                           uint64_t len, bool enable, Error **errp)
{
    g_autoptr(GArray) before = NULL;

    if (!check_range(d, bar, off, len, "mmiotrace-trap", errp)) {
        return false;
    }
    before = g_array_copy(d->ranges);
    if (!d->ranges->len) {
        if (enable) {
            return true; /* everything is trapped already */
        }
        for (int i = 0; i < PCI_ROM_SLOT; i++) {
            if (d->bar_mask & (1u << i)) {
                MmioTraceSpan all = { .bar = i, .off = 0,
                                       .len = d->pdev->io_regions[i].size };
                g_array_append_val(d->ranges, all);
            }
        }
    }
    if (enable) {
        MmioTraceSpan r = { .bar = bar, .off = off, .len = len };
        g_array_append_val(d->ranges, r);
    } else {
        g_autoptr(GArray) out = g_array_new(false, false, sizeof(MmioTraceSpan));
        for (guint i = 0; i < d->ranges->len; i++) {
            MmioTraceSpan r = g_array_index(d->ranges, MmioTraceSpan, i);
            if (r.bar != bar || r.off + r.len <= off || r.off >= off + len) {
                g_array_append_val(out, r);
                continue;
            }
            if (r.off < off) {
                MmioTraceSpan lo = { .bar = bar, .off = r.off, .len = off - r.off };
                g_array_append_val(out, lo);
            }
            if (r.off + r.len > off + len) {
                MmioTraceSpan hi = { .bar = bar, .off = off + len,
                                      .len = r.off + r.len - (off + len) };
                g_array_append_val(out, hi);
            }
        }
        g_array_set_size(d->ranges, 0);
        g_array_append_vals(d->ranges, out->data, out->len);
        if (!d->ranges->len) {
            /* nothing trapped: an impossible range keeps "ranges set" meaning */
            MmioTraceSpan none = { .bar = -1, .off = 0, .len = 0 };
            g_array_append_val(d->ranges, none);
        }
    }
    merge_spans(d->ranges);
    if (!spans_equal(before, d->ranges)) {
        mmiotrace_device_rebuild_overlays(d);
    }
    return true;
}
