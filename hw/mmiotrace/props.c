/*
 * hvmmio: the enum properties of the tracer and of the replay device, whose values are
 * QAPI enums (qapi/mmiotrace.json). Built into every target: the mmiotrace*
 * properties exist on every PCI device, with or without the tracer.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/qapi-types-mmiotrace.h"
#include "hw/qdev-properties.h"
#include "hw/core/qdev-prop-internal.h"
#include "hw/mmiotrace/mmiotrace.h"
#include "qapi/error.h"
#include "qapi/util.h"
#include "qapi/visitor.h"

/*
 * Set an enum property; a value it does not have is refused with the values it has
 * ("mmiotrace-mode: 'fast' is not lossless or drop"), which QEMU's own enum
 * properties do not say.
 */
static void set_enum(Object *obj, Visitor *v, const char *name, void *opaque,
                     Error **errp)
{
    const Property *prop = opaque;
    int *ptr = object_field_prop_ptr(obj, prop);
    g_autofree char *str = NULL;
    int val;

    if (!visit_type_str(v, name, &str, errp)) {
        return;
    }
    val = qapi_enum_parse(prop->info->enum_table, str, -1, NULL);
    if (val < 0) {
        error_setg(errp, "%s: '%s' is not %s", name, str, prop->info->description);
        return;
    }
    *ptr = val;
}

const PropertyInfo mmiotrace_prop_mode = {
    .type = "MmioTraceMode",
    .description = "lossless or drop",
    .enum_table = &MmioTraceMode_lookup,
    .get = qdev_propinfo_get_enum,
    .set = set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

const PropertyInfo mmiotrace_prop_replay_mode = {
    .type = "MmioTraceReplayMode",
    .description = "strict or poll-tolerant",
    .enum_table = &MmioTraceReplayMode_lookup,
    .get = qdev_propinfo_get_enum,
    .set = set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};

const PropertyInfo mmiotrace_prop_replay_on_divergence = {
    .type = "MmioTraceReplayOnDivergence",
    .description = "stop, log or continue",
    .enum_table = &MmioTraceReplayOnDivergence_lookup,
    .get = qdev_propinfo_get_enum,
    .set = set_enum,
    .set_default_value = qdev_propinfo_set_default_value_enum,
};
