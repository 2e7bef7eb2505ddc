/* SPDX-License-Identifier: GPL-2.0-or-later */
/* hvmmio: a hash table's values as an array sorted by cmp (GLib 2.74, Debian 12's, has no
 * g_hash_table_get_values_as_ptr_array). */
#ifndef HVMMIO_TOOLS_SORTED_H
#define HVMMIO_TOOLS_SORTED_H

#include <glib.h>

static inline GPtrArray *hvmmio_sorted_values(GHashTable *t, GCompareFunc cmp)
{
    GPtrArray *a = g_ptr_array_sized_new(g_hash_table_size(t));
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, t);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        g_ptr_array_add(a, v);
    }
    g_ptr_array_sort(a, cmp);
    return a;
}

#endif
