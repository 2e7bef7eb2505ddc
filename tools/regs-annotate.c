/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Register names for compare's and replay's access lines (regs-annotate.h), through the maps'
 * own lookup (regmap_set_resolve) and formatting (regmap_format).
 */
#include <inttypes.h>
#include <string.h>

#include <glib.h>

#include "fastfmt.h"
#include "mmiotrace.h"
#include "regmap.h"
#include "regs-annotate.h"

void regs_annotate_access(GString *out, const struct regmap_hit *hit, int bar, uint64_t off,
                          const struct mmiotrace_record *rec, bool value_known)
{
    if (bar >= 0) {
        g_string_append_printf(out, "BAR%d+0x%" PRIx64 " ", bar, off);
    }
    bool named = hit && hit->reg;
    if (rec->type == MMIOTRACE_UNKNOWN || !value_known) {
        g_string_append(out, named ? hit->name : "?");
    } else if (named) {
        regmap_format(out, hit, rec->rw.value, rec->rw.width);
    } else {
        unsigned w = rec->rw.width;
        g_string_append(out, "? = ");
        ff_0x(out, rec->rw.value & (w >= 8 ? UINT64_MAX : (1ull << (8 * w)) - 1), 2 * (int)w);
    }
}

/* The report's "(device NAME)" (empty: none). */
static void report_device(const char *report, char *dev, size_t size)
{
    const char *p = strstr(report, "(device ");
    const char *end = p ? strchr(p, ')') : NULL;
    *dev = 0;
    if (end && !memchr(p, '\n', (size_t)(end - p))) {
        p += strlen("(device ");
        g_strlcpy(dev, p, MIN(size, (size_t)(end - p) + 1));
    }
}

/* Append the annotation of the access matched by m (R|W WIDTH BAR OFF VALUE) in line. */
static void annotate_match(GString *out, GMatchInfo *m, struct regmap_set *maps, const char *dev,
                           const char *line)
{
    g_autofree char *type = g_match_info_fetch(m, 1), *width = g_match_info_fetch(m, 2);
    g_autofree char *bar = g_match_info_fetch(m, 3), *off = g_match_info_fetch(m, 4);
    g_autofree char *value = g_match_info_fetch(m, 5);
    struct mmiotrace_record rec = {.type = *type == 'W' ? MMIOTRACE_WRITE : MMIOTRACE_READ};
    rec.rw.width = (unsigned)g_ascii_strtoull(width, NULL, 10);
    rec.rw.value = g_ascii_strtoull(value, NULL, 16);
    rec.ext = MMIOTRACE_EXT_BAR;
    rec.bar = (uint8_t)g_ascii_strtoull(bar, NULL, 10);
    rec.bar_off = g_ascii_strtoull(off, NULL, 16);
    if (*dev) {
        rec.ext |= MMIOTRACE_EXT_DEV;
        rec.dev = dev;
        rec.dev_len = strlen(dev);
    }
    int b = -1;
    uint64_t o = 0;
    const struct regmap_hit *hit = regmap_set_resolve(maps, &rec, &b, &o);
    if (!hit || rec.rw.width < 1 || rec.rw.width > 8) {
        return; /* no map for the device */
    }
    gint start;
    g_match_info_fetch_pos(m, 0, &start, NULL);
    /* the driver's read in "got R ...": the value is the device's to give, not known */
    bool got_read =
        rec.type == MMIOTRACE_READ && strstr(line, "got ") && strstr(line, "got ") < line + start;
    g_string_append(out, "  ");
    regs_annotate_access(out, hit, -1, 0, &rec, !got_read);
}

char *regs_annotate_replay(const char *report, struct regmap_set *maps)
{
    g_autoptr(GRegex) re = g_regex_new(
        "\\b([RW]) ([0-9]+) bar=([0-9]+) off=0x([0-9a-fA-F]+) 0x([0-9a-fA-F]+)\\b", 0, 0, NULL);
    char dev[MMIOTRACE_DEV_MAX + 1];
    report_device(report, dev, sizeof(dev));
    GString *out = g_string_sized_new(strlen(report) * 2);
    g_auto(GStrv) lines = g_strsplit(report, "\n", -1);
    for (char **l = lines; *l; l++) {
        g_autoptr(GMatchInfo) m = NULL;
        g_string_append(out, *l);
        if (g_regex_match(re, *l, 0, &m)) {
            annotate_match(out, m, maps, dev, *l);
        }
        if (l[1]) {
            g_string_append_c(out, '\n');
        }
    }
    return g_string_free(out, FALSE);
}
