/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * What the workbench commands share (workbench.h): options, maps and symbols, the output
 * file, opening a trace; register keys; JSON strings.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include "mmiotrace.h"
#include "regmap.h"
#include "symbols.h"
#include "warn.h"
#include "workbench.h"

void wb_opts_free(struct wb_opts *o)
{
    g_strfreev(o->regs);
    g_strfreev(o->symbols);
    g_free(o->output);
    memset(o, 0, sizeof(*o));
}

bool wb_parse(int *argc, char ***argv, const char *params, const char *summary,
              const GOptionEntry *entries)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);
    g_autoptr(GError) error = NULL;
    if (summary) {
        g_option_context_set_summary(ctx, summary);
    }
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, &error)) {
        fprintf(stderr, "%s: %s\n", (*argv)[0], error->message);
        return false;
    }
    return true;
}

bool wb_load(const char *prog, const struct wb_opts *o, struct regmap_set *maps,
             struct symtab **syms)
{
    g_autoptr(GError) error = NULL;
    if (!regmap_set_add_all(maps, o->regs, &error) ||
        (o->symbols && !(*syms = symtab_load(o->symbols, &error)))) {
        fprintf(stderr, "%s: %s\n", prog, error->message);
        return false;
    }
    return true;
}

FILE *wb_output_open(const char *prog, const char *path)
{
    static char obuf[1 << 16];
    FILE *out = path ? fopen(path, "w") : stdout;
    if (!out) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return NULL;
    }
    setvbuf(out, obuf, _IOFBF, sizeof(obuf));
    return out;
}

int wb_output_close(const char *prog, const char *name, FILE *out)
{
    if (fflush(out) || (out != stdout && fclose(out))) {
        fprintf(stderr, "%s: %s: %s\n", prog, name, strerror(errno));
        return -1;
    }
    return 0;
}

struct mmiotrace_reader *wb_reader_open(const char *prog, const char *path, bool skip_bad,
                                        struct hvmmio_warn *warned)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open(path);
    if (!r) {
        fprintf(stderr, "%s: %s: %s\n", prog, path, strerror(errno));
        return NULL;
    }
    mmiotrace_reader_set_policy(r, skip_bad ? MMIOTRACE_ON_ERROR_SKIP : MMIOTRACE_ON_ERROR_STOP,
                                warned ? hvmmio_warn_line : NULL, warned);
    return r;
}

guint wb_reg_key_hash(gconstpointer key)
{
    const struct wb_reg_key *k = key;
    return g_direct_hash(k->dev) ^ (guint)k->bar * 16777619u ^
           (guint)(k->off ^ k->off >> 32) * 2654435761u;
}

gboolean wb_reg_key_equal(gconstpointer a, gconstpointer b)
{
    const struct wb_reg_key *x = a, *y = b;
    return x->dev == y->dev && x->bar == y->bar && x->off == y->off;
}

int wb_reg_key_cmp(const struct wb_reg_key *a, const struct wb_reg_key *b)
{
    int c = strcmp(a->dev, b->dev);

    if (c || a->bar != b->bar) {
        return c ? c : a->bar - b->bar;
    }
    return a->off < b->off ? -1 : a->off > b->off;
}

/* A byte written as it is. */
static bool json_plain(unsigned char c, bool html)
{
    return c >= 0x20 && c < 0x7f && c != '"' && c != '\\' &&
           !(html && (c == '<' || c == '>' || c == '&'));
}

void wb_json_string(GString *o, const char *s, size_t len, bool html)
{
    size_t i = 0;
    while (i < len && json_plain((unsigned char)s[i], html)) {
        i++;
    }
    if (i == len) { /* nothing to escape: as is */
        gsize at = o->len;
        g_string_set_size(o, at + len + 2);
        o->str[at] = '"';
        memcpy(o->str + at + 1, s, len);
        o->str[at + len + 1] = '"';
        return;
    }
    bool utf8 = !html && g_utf8_validate(s, (gssize)len, NULL);
    g_string_append_c(o, '"');
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            g_string_append_c(o, '\\');
            g_string_append_c(o, (char)c);
        } else if (json_plain(c, html) || (c >= 0x80 && utf8)) {
            g_string_append_c(o, (char)c);
        } else {
            g_string_append_printf(o, "\\u%04x", c); /* html: also keeps </script> out */
        }
    }
    g_string_append_c(o, '"');
}
