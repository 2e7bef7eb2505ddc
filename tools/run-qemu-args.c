/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio run: QEMU's command line for a scenario (machine, guest kernel and initrd, the
 * devices asked for, the test device's vfio-user-pci -device as JSON), and qemu.cmdline,
 * the copy of it kept in the output folder.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <gio/gio.h>
#include <glib.h>
#include <json-c/json.h>

#include "locate.h"
#include "run-int.h"

/* QEMU's option ROMs are not in the +ds source; PCI devices get romfile= unless set. */
static char *device_arg(const char *spec)
{
    if (spec[0] == '{' || strstr(spec, "romfile=")) {
        return g_strdup(spec);
    }
    return g_strdup_printf("%s,romfile=", spec);
}

/* vfio-user-pci's property types (name -> "bool", "uint32", "str", ...), as QEMU lists them. */
static GHashTable *vfio_user_pci_prop_types(const char *qemu, GError **err)
{
    const char *argv[] = {qemu, "-device", "vfio-user-pci,help", NULL};
    g_autofree char *out = NULL;
    int status;
    if (!g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &out, NULL,
                      &status, err)) {
        return NULL;
    }
    GHashTable *types = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    g_auto(GStrv) lines = g_strsplit(out, "\n", -1);
    for (char **l = lines; *l; l++) {
        const char *p = *l + strspn(*l, " ");
        const char *eq = strstr(p, "=<");
        const char *gt = eq ? strchr(eq, '>') : NULL;
        if (p != *l && eq && gt) {
            g_hash_table_insert(types, g_strndup(p, (gsize)(eq - p)),
                                g_strndup(eq + 2, (gsize)(gt - eq - 2)));
        }
    }
    if (!g_hash_table_size(types)) {
        g_set_error(err, G_IO_ERROR, G_IO_ERROR_FAILED,
                    "%s -device vfio-user-pci,help listed no properties", qemu);
        g_hash_table_unref(types);
        return NULL;
    }
    return types;
}

/*
 * A key=value property as the JSON value QEMU's JSON -device wants: it takes no strings for
 * bool or integer properties (unlike the key=value syntax), so convert by the listed type.
 */
static json_object *prop_value(const char *key, const char *value, const char *type, GError **err)
{
    if (!strcmp(type, "bool")) {
        const char *yes[] = {"on", "true", "yes"}, *no[] = {"off", "false", "no"};
        for (size_t i = 0; i < G_N_ELEMENTS(yes); i++) {
            if (!g_ascii_strcasecmp(value, yes[i]) || !g_ascii_strcasecmp(value, no[i])) {
                return json_object_new_boolean(!g_ascii_strcasecmp(value, yes[i]));
            }
        }
        g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--testdev: %s takes on or off, not '%s'", key, value);
        return NULL;
    }
    if (g_str_has_prefix(type, "int") || g_str_has_prefix(type, "uint") || !strcmp(type, "size")) {
        char *end;
        errno = 0;
        if (type[0] == 'i') {
            long long v = strtoll(value, &end, 0);
            if (!errno && *value && !*end) {
                return json_object_new_int64(v);
            }
        } else if (value[0] != '-') {
            unsigned long long v = strtoull(value, &end, 0);
            if (!errno && *value && !*end) {
                return json_object_new_uint64(v);
            }
        }
        g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                    "--testdev: %s takes a number (%s), not '%s'", key, type, value);
        return NULL;
    }
    return json_object_new_string(value);
}

/*
 * The vfio-user-pci -device JSON. PROPS is either JSON members ("x-msg-timeout":5000), used
 * as they are, or key=value pairs (mmiotrace=on,mmiotrace-file=host.txt), converted to the
 * types QEMU lists for vfio-user-pci.
 */
char *run_testdev_device_json(const char *qemu, const char *sock, const char *props, GError **err)
{
    json_object *dev = json_object_new_object();
    json_object *socket = json_object_new_object();
    json_object_object_add(dev, "driver", json_object_new_string("vfio-user-pci"));
    json_object_object_add(dev, "id", json_object_new_string("testdev"));
    json_object_object_add(socket, "type", json_object_new_string("unix"));
    json_object_object_add(socket, "path", json_object_new_string(sock));
    json_object_object_add(dev, "socket", socket);
    json_object *extra = NULL;
    if (props && props[0] == '"') {
        g_autofree char *text = g_strdup_printf("{%s}", props);
        extra = json_tokener_parse(text);
        if (!extra || !json_object_is_type(extra, json_type_object)) {
            g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                        "--testdev=%s: not valid JSON members", props);
            json_object_put(extra);
            json_object_put(dev);
            return NULL;
        }
    } else if (props && *props) {
        g_autoptr(GHashTable) types = vfio_user_pci_prop_types(qemu, err);
        if (!types) {
            json_object_put(dev);
            return NULL;
        }
        extra = json_object_new_object();
        g_auto(GStrv) pairs = g_strsplit(props, ",", -1);
        for (char **p = pairs; *p; p++) {
            char *eq = strchr(*p, '=');
            if (!eq || eq == *p) {
                g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--testdev=%s: '%s' is not key=value", props, *p);
                json_object_put(extra);
                json_object_put(dev);
                return NULL;
            }
            *eq = 0;
            const char *type = g_hash_table_lookup(types, *p);
            json_object *val = NULL;
            if (!type) {
                g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--testdev: vfio-user-pci has no property '%s' (see "
                            "'hvmmio qemu -device vfio-user-pci,help')",
                            *p);
            } else {
                val = prop_value(*p, eq + 1, type, err);
            }
            if (!val) {
                json_object_put(extra);
                json_object_put(dev);
                return NULL;
            }
            json_object_object_add(extra, *p, val);
        }
    }
    if (extra) {
        json_object_object_foreach(extra, key, val)
        {
            if (!strcmp(key, "driver") || !strcmp(key, "socket")) {
                g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                            "--testdev: '%s' is set by hvmmio run", key);
                json_object_put(extra);
                json_object_put(dev);
                return NULL;
            }
            json_object_object_add(dev, key, json_object_get(val));
        }
        json_object_put(extra);
    }
    char *json = g_strdup(json_object_to_json_string_ext(dev, JSON_C_TO_STRING_PLAIN |
                                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(dev);
    return json;
}

/*
 * QEMU's argv (NULL-terminated) for the scenario: QEMU, its firmware path, the machine, the
 * guest kernel and its command line, the console and results serial ports, the devices; with
 * the test device (testdev_json, taken) shared memfd guest RAM; then opts->qemu_extra.
 */
GPtrArray *run_qemu_argv(const HvmmioRunOptions *o, const char *qemu, const char *imgdir,
                         const char *accel, char *testdev_json)
{
    GPtrArray *a = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(a, g_strdup(qemu));
    hvmmio_add_firmware_args(a);
    g_autofree char *append = g_strdup_printf(
        "console=ttyS0 panic=-1 edd=off quiet hvmmio.scenario=%s%s%s%s%s", o->scenario,
        o->scenario_args ? " hvmmio.args=" : "", o->scenario_args ? o->scenario_args : "",
        o->append ? " " : "", o->append ? o->append : "");
    const char *fixed[] = {
        "-machine",    o->machine ? o->machine : "q35",
        "-accel",      accel,
        "-nodefaults", "-display",
        "none",        "-no-reboot",
        "-serial",     "file:console.log",
        "-serial",     "file:results.bin",
        "-append",     append,
    };
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(a, g_strdup(fixed[i]));
    }
    g_ptr_array_add(a, g_strdup("-m"));
    g_ptr_array_add(a, g_strdup_printf("%d", o->memory_mb));
    g_ptr_array_add(a, g_strdup("-smp"));
    g_ptr_array_add(a, g_strdup_printf("%d", o->smp));
    g_ptr_array_add(a, g_strdup("-kernel"));
    g_ptr_array_add(a, g_build_filename(imgdir, "vmlinuz", NULL));
    g_ptr_array_add(a, g_strdup("-initrd"));
    g_ptr_array_add(a, g_build_filename(imgdir, "initrd.img", NULL));
    for (const char *const *d = o->devices; d && *d; d++) {
        g_ptr_array_add(a, g_strdup("-device"));
        g_ptr_array_add(a, device_arg(*d));
    }
    if (testdev_json) {
        /* vfio-user needs guest RAM the server can map: shared memfd memory */
        g_ptr_array_add(a, g_strdup("-object"));
        g_ptr_array_add(
            a, g_strdup_printf("memory-backend-memfd,id=mem,size=%dM,share=on", o->memory_mb));
        g_ptr_array_add(a, g_strdup("-machine"));
        g_ptr_array_add(a, g_strdup("memory-backend=mem"));
        g_ptr_array_add(a, g_strdup("-device"));
        g_ptr_array_add(a, testdev_json);
    }
    for (const char *const *q = o->qemu_extra; q && *q; q++) {
        g_ptr_array_add(a, g_strdup(*q));
    }
    g_ptr_array_add(a, NULL);
    return a;
}

/* qemu.cmdline: the command line, shell-quoted, for the user to rerun or read. */
void run_write_cmdline(const GPtrArray *a, const char *outdir)
{
    g_autoptr(GString) cmdline = g_string_new(NULL);
    for (guint i = 0; a->pdata[i]; i++) {
        g_autofree char *q = g_shell_quote(a->pdata[i]);
        g_string_append_printf(cmdline, "%s%s", i ? " " : "", q);
    }
    g_autofree char *cmdfile = g_build_filename(outdir, "qemu.cmdline", NULL);
    g_string_append_c(cmdline, '\n');
    g_file_set_contents(cmdfile, cmdline->str, -1, NULL);
}
