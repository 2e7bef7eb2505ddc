/*
 * hvmmio: QMP and HMP commands (schema: qapi/mmiotrace.json, added by the patches).
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-mmiotrace.h"
#include "qapi/qapi-events-mmiotrace.h"
#include "qobject/qdict.h"
#include "monitor/hmp.h"
#include "monitor/monitor.h"
#include "qemu/module.h"
#include "mmiotrace-int.h"

static bool for_devices(bool has_device, const char *device, bool active,
                        Error **errp)
{
    MmioTraceDevice *d;

    if (has_device) {
        d = mmiotrace_device_find(device, errp);
        if (!d) {
            return false;
        }
        d->active = active;
        if (!active && d->file) {
            mmiotrace_file_sync(d->file);
        }
        return true;
    }
    QTAILQ_FOREACH(d, &mmiotrace_devices, next) {
        d->active = active;
        if (!active && d->file) {
            mmiotrace_file_sync(d->file);
        }
    }
    return true;
}

void qmp_mmiotrace_start(const char *device, Error **errp)
{
    for_devices(device != NULL, device, true, errp);
}

void qmp_mmiotrace_stop(const char *device, Error **errp)
{
    for_devices(device != NULL, device, false, errp);
}

void qmp_mmiotrace_mark(const char *text, Error **errp)
{
    MmioTraceDevice *d, *e;

    if (strchr(text, '\n')) {
        error_setg(errp, "mmiotrace-mark: the text must be one line");
        return;
    }
    if (strlen(text) > MMIOTRACE_TEXT_MAX) {
        error_setg(errp, "mmiotrace-mark: the text has %zu bytes; at most %d fit "
                   "in a MARK record", strlen(text), MMIOTRACE_TEXT_MAX);
        return;
    }
    /* one MARK per file, however many active devices share it */
    QTAILQ_FOREACH(d, &mmiotrace_devices, next) {
        bool seen = false;
        if (!d->active || !d->file) {
            continue;
        }
        QTAILQ_FOREACH(e, &mmiotrace_devices, next) {
            if (e == d) {
                break;
            }
            seen |= e->active && e->file == d->file;
        }
        if (!seen) {
            mmiotrace_mark(d, text);
        }
    }
}

void qmp_mmiotrace_trap(const char *device, int64_t bar, uint64_t offset,
                        uint64_t length, bool enable, Error **errp)
{
    MmioTraceDevice *d = mmiotrace_device_find(device, errp);

    if (d) {
        if (bar < 0 || bar > 5) {
            error_setg(errp, "mmiotrace-trap: BAR %" PRId64 " is not 0-5", bar);
            return;
        }
        mmiotrace_device_trap(d, bar, offset, length, enable, errp);
    }
}

MmioTraceInfoList *qmp_query_mmiotrace(Error **errp)
{
    MmioTraceInfoList *head = NULL, **tail = &head;
    MmioTraceDevice *d;

    QTAILQ_FOREACH(d, &mmiotrace_devices, next) {
        MmioTraceInfo *info = g_new0(MmioTraceInfo, 1);
        MmioTraceRangeList **rtail = &info->trapped;
        intList **btail = &info->bars;

        info->device = g_strdup(d->name);
        info->state = d->active ? MMIO_TRACE_STATE_ACTIVE : MMIO_TRACE_STATE_STOPPED;
        if (d->file) {
            mmiotrace_file_sync(d->file);   /* its writer counts the records */
            info->file = g_strdup(mmiotrace_file_path(d->file));
            mmiotrace_file_stats(d->file, &info->bytes, &info->dropped);
            int err = mmiotrace_file_write_state(d->file, &info->write_lost);
            if (err) {
                info->write_error = g_strdup(strerror(err));
            }
        }
        info->records = qatomic_read(&d->records);
        if (d->file) {
            /* accesses formatted but lost to write errors are not records of the file */
            uint64_t lost = mmiotrace_file_lost_accesses(d->file, d->name);
            info->records -= MIN(lost, info->records);
        }
        for (guint i = 0; i < d->ranges->len; i++) {
            MmioTraceSpan *span = &g_array_index(d->ranges, MmioTraceSpan, i);
            if (span->bar < 0) {
                continue;
            }
            MmioTraceRange *r = g_new0(MmioTraceRange, 1);
            r->bar = span->bar;
            r->offset = span->off;
            r->length = span->len;
            QAPI_LIST_APPEND(rtail, r);
        }
        for (int b = 0; b < PCI_ROM_SLOT; b++) {
            if (d->bar_mask & (1u << b)) {
                QAPI_LIST_APPEND(btail, b);
            }
        }
        QAPI_LIST_APPEND(tail, info);
    }
    return head;
}

void qmp_mmiotrace_rotate(const char *device, const char *file, Error **errp)
{
    MmioTraceDevice *d = mmiotrace_device_find(device, errp), *e;

    if (!d) {
        return;
    }
    if (!d->file) {
        error_setg(errp, "mmiotrace-rotate: '%s' has no trace file", device);
        return;
    }
    if (!mmiotrace_file_rotate(d->file, file, errp)) {
        return;
    }
    /* the new file starts with the header of every device writing to it */
    QTAILQ_FOREACH(e, &mmiotrace_devices, next) {
        if (e->file == d->file) {
            mmiotrace_device_header_rotated(e);
        }
    }
    mmiotrace_file_rotate_done(d->file);
}

/* The devices writing to the file at path (the events name them). */
static strList *devices_of(const char *path)
{
    strList *head = NULL, **tail = &head;
    MmioTraceDevice *d;

    QTAILQ_FOREACH(d, &mmiotrace_devices, next) {
        if (d->file && !strcmp(mmiotrace_file_path(d->file), path)) {
            QAPI_LIST_APPEND(tail, g_strdup(d->name));
        }
    }
    return head;
}

void mmiotrace_qmp_write_state(const char *path, int err, uint64_t lost)
{
    g_autoptr(strList) devs = devices_of(path);

    if (err) {
        qapi_event_send_mmiotrace_write_error(path, devs, strerror(err), lost);
    } else {
        qapi_event_send_mmiotrace_write_resumed(path, devs, lost);
    }
}

/* ---- HMP ---- */

static void hmp_mmiotrace_start(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_mmiotrace_start(qdict_get_try_str(qdict, "device"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_mmiotrace_stop(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_mmiotrace_stop(qdict_get_try_str(qdict, "device"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_mmiotrace_mark(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_mmiotrace_mark(qdict_get_str(qdict, "text"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_mmiotrace_trap(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_mmiotrace_trap(qdict_get_str(qdict, "device"),
                       qdict_get_int(qdict, "bar"),
                       qdict_get_int(qdict, "offset"),
                       qdict_get_int(qdict, "length"),
                       qdict_get_bool(qdict, "enable"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_mmiotrace_rotate(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;

    qmp_mmiotrace_rotate(qdict_get_str(qdict, "device"),
                         qdict_get_str(qdict, "file"), &err);
    hmp_handle_error(mon, err);
}

static void hmp_info_mmiotrace(Monitor *mon, const QDict *qdict)
{
    Error *err = NULL;
    g_autoptr(MmioTraceInfoList) list = qmp_query_mmiotrace(&err);

    if (hmp_handle_error(mon, err)) {
        return;
    }
    if (!list) {
        monitor_printf(mon, "no traced device (use -device ...,mmiotrace=on)\n");
        return;
    }
    for (MmioTraceInfoList *l = list; l; l = l->next) {
        MmioTraceInfo *i = l->value;
        monitor_printf(mon, "%s: %s, file %s, %" PRIu64 " records, %" PRIu64
                       " bytes, %" PRIu64 " dropped\n", i->device,
                       MmioTraceState_str(i->state), i->file ? i->file : "(none)",
                       i->records, i->bytes, i->dropped);
        if (i->write_error || i->write_lost) {
            monitor_printf(mon, "  write errors: %" PRIu64 " records lost%s%s\n",
                           i->write_lost, i->write_error ? "; failing now: " : "",
                           i->write_error ? i->write_error : "");
        }
        monitor_printf(mon, "  BARs:");
        for (intList *b = i->bars; b; b = b->next) {
            monitor_printf(mon, " %" PRId64, b->value);
        }
        monitor_printf(mon, "; trapped: %s", i->trapped ? "" : "whole BARs");
        for (MmioTraceRangeList *r = i->trapped; r; r = r->next) {
            monitor_printf(mon, " %" PRId64 ":0x%" PRIx64 "+0x%" PRIx64,
                           r->value->bar, r->value->offset, r->value->length);
        }
        monitor_printf(mon, "\n");
    }
}

static void mmiotrace_register_hmp(void)
{
    monitor_register_hmp("mmiotrace_start", false, hmp_mmiotrace_start);
    monitor_register_hmp("mmiotrace_stop", false, hmp_mmiotrace_stop);
    monitor_register_hmp("mmiotrace_mark", false, hmp_mmiotrace_mark);
    monitor_register_hmp("mmiotrace_trap", false, hmp_mmiotrace_trap);
    monitor_register_hmp("mmiotrace_rotate", false, hmp_mmiotrace_rotate);
    monitor_register_hmp("mmiotrace", true, hmp_info_mmiotrace);
}
type_init(mmiotrace_register_hmp);
