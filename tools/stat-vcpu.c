/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio stat's per-vCPU counts (the vcpu= fact): R/W records per vCPU, "none" for QEMU's
 * own. Kept apart from the rest of stat: one table in struct stats and one call at each of its
 * stages (account, merge, text, JSON).
 */
#include <inttypes.h>
#include <stdio.h>

#include <glib.h>
#include <json-c/json.h>

#include "stat.h"

struct vcpu_count {
    int32_t vcpu; /* MMIOTRACE_VCPU_NONE: QEMU itself */
    uint64_t reads, writes;
};

static struct vcpu_count *vcpu_count_get(GHashTable *t, int32_t vcpu)
{
    gpointer key = GINT_TO_POINTER(vcpu + 2); /* MMIOTRACE_VCPU_NONE is -1; 0 is no key */
    struct vcpu_count *c = g_hash_table_lookup(t, key);
    if (!c) {
        c = g_new0(struct vcpu_count, 1);
        c->vcpu = vcpu;
        g_hash_table_insert(t, key, c);
    }
    return c;
}

void stat_vcpu_account(struct stats *s, const struct mmiotrace_record *rec)
{
    if ((rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE) &&
        (rec->ext & MMIOTRACE_EXT_VCPU)) {
        struct vcpu_count *c = vcpu_count_get(s->vcpus, rec->vcpu);
        *(rec->type == MMIOTRACE_READ ? &c->reads : &c->writes) += 1;
    }
}

void stat_vcpu_merge(struct stats *to, struct stats *from)
{
    GHashTableIter it;
    gpointer v;
    g_hash_table_iter_init(&it, from->vcpus);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct vcpu_count *f = v, *t = vcpu_count_get(to->vcpus, f->vcpu);
        t->reads += f->reads;
        t->writes += f->writes;
    }
}

static gint vcpu_order(gconstpointer a, gconstpointer b)
{
    const struct vcpu_count *x = *(struct vcpu_count *const *)a;
    const struct vcpu_count *y = *(struct vcpu_count *const *)b;
    /* vCPUs by index, QEMU's own ("none") last */
    uint32_t xi = (uint32_t)x->vcpu, yi = (uint32_t)y->vcpu;
    return xi < yi ? -1 : xi > yi;
}

void stat_vcpu_print(const struct stats *s)
{
    g_autoptr(GPtrArray) a = hvmmio_sorted_values(s->vcpus, vcpu_order);
    if (!a->len) {
        return;
    }
    printf("vcpus (R/W records by the vcpu= fact):\n");
    for (guint i = 0; i < a->len; i++) {
        struct vcpu_count *c = a->pdata[i];
        char name[32];
        if (c->vcpu == MMIOTRACE_VCPU_NONE) {
            snprintf(name, sizeof(name), "none (QEMU itself)");
        } else {
            snprintf(name, sizeof(name), "vcpu %" PRId32, c->vcpu);
        }
        printf("  %-28s reads %-10" PRIu64 " writes %" PRIu64 "\n", name, c->reads, c->writes);
    }
}

void stat_vcpu_json(json_object *o, const struct stats *s)
{
    g_autoptr(GPtrArray) a = hvmmio_sorted_values(s->vcpus, vcpu_order);
    json_object *arr = json_object_new_array();
    for (guint i = 0; i < a->len; i++) {
        struct vcpu_count *c = a->pdata[i];
        json_object *d = json_object_new_object();
        json_object_object_add(
            d, "vcpu", c->vcpu == MMIOTRACE_VCPU_NONE ? NULL : json_object_new_int(c->vcpu));
        json_object_object_add(d, "reads", json_object_new_uint64(c->reads));
        json_object_object_add(d, "writes", json_object_new_uint64(c->writes));
        json_object_array_add(arr, d);
    }
    json_object_object_add(o, "vcpus", arr);
}
