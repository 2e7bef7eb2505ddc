/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio replay --fuzz: crash reports on a guest console log (replay-fuzz.h). A report
 * starts at the first line that matches one of the kernel's report headers below; its key
 * (what makes two crashes the same) is its first stack frame without offsets
 * ("ft_bring_up [hvmmio_fuzztarget]", from RIP, else the first reliable Call Trace line),
 * else its header with the numbers taken out.
 */
#include <string.h>

#include "replay-fuzz.h"

#define REPORT_LINES 40

/* The kernel's report headers (substrings of a console line, time stamp removed). */
static const char *const headers[] = {
    "BUG: ",                      /* oopses, KASAN, soft lockups, sleeping in atomic, ... */
    "kernel BUG at ",             /* BUG(), BUG_ON() */
    "general protection fault",   /* non-canonical or protected addresses */
    "WARNING: CPU: ",             /* WARN(), WARN_ON() */
    "UBSAN: ",                    /* undefined behaviour */
    "Kernel panic - not syncing", /* panic() */
    "divide error: ",             /* division by zero */
    "invalid opcode: ",           /* ud2 outside BUG() */
    "INFO: task ",                /* hung tasks */
    "detected stalls on CPUs",    /* RCU stalls */
    "Unable to handle kernel",    /* other architectures' oopses */
    "double fault: ",
};

/* A console line without its carriage return and "[   12.345678] " time stamp. */
static const char *strip_line(char *line)
{
    char *cr = strchr(line, '\r');
    if (cr) {
        *cr = '\0';
    }
    if (line[0] == '[') {
        char *end = strstr(line, "] ");
        if (end && end - line < 20) {
            return end + 2;
        }
    }
    return line;
}

static bool is_header(const char *line)
{
    for (size_t i = 0; i < G_N_ELEMENTS(headers); i++) {
        if (strstr(line, headers[i])) {
            return true;
        }
    }
    return false;
}

/* "ft_bring_up+0x7a/0x1f0 [hvmmio_fuzztarget]" -> "ft_bring_up [hvmmio_fuzztarget]"; NULL
 * for a bare address ("0x0"). */
static char *frame_name(const char *s)
{
    while (*s == ' ') {
        s++;
    }
    if (g_str_has_prefix(s, "0x") || !*s || *s == '?') {
        return NULL;
    }
    size_t fn = strcspn(s, "+ ");
    const char *mod = strchr(s, '[');
    const char *mod_end = mod ? strchr(mod, ']') : NULL;
    if (mod && mod_end) {
        return g_strdup_printf("%.*s %.*s", (int)fn, s, (int)(mod_end - mod + 1), mod);
    }
    return g_strndup(s, fn);
}

/* The first stack frame of the report in lines (RIP, else the first reliable Call Trace
 * entry), NULL if none. */
static char *first_frame(const char *const *lines, size_t n)
{
    bool in_trace = false;
    for (size_t i = 0; i < n; i++) {
        const char *l = lines[i];
        const char *rip = strstr(l, "RIP: ");
        if (rip && !in_trace) {
            const char *colon = strchr(rip + 5, ':');
            char *f = frame_name(colon ? colon + 1 : rip + 5);
            if (f) {
                return f;
            }
        } else if (strstr(l, "Call Trace:")) {
            in_trace = true;
        } else if (in_trace && !strchr(l, '<')) {
            char *f = frame_name(l);
            if (f) {
                return f;
            }
        }
    }
    return NULL;
}

/* A header with hex and decimal numbers replaced, for a key. */
static char *normalize(const char *s)
{
    GString *out = g_string_new(NULL);
    while (*s) {
        if (g_ascii_isxdigit(*s) && (g_ascii_isdigit(*s) || g_str_has_prefix(s, "0x") ||
                                     strspn(s, "0123456789abcdef") >= 8)) {
            size_t len = g_str_has_prefix(s, "0x") ? 2 + strspn(s + 2, "0123456789abcdef")
                                                   : strspn(s, "0123456789abcdef");
            g_string_append_c(out, 'N');
            s += len;
        } else {
            g_string_append_c(out, *s++);
        }
    }
    return g_string_free(out, FALSE);
}

bool fz_console_crash(const char *console_path, struct fz_crash *out)
{
    g_autofree char *text = NULL;
    memset(out, 0, sizeof(*out));
    if (!g_file_get_contents(console_path, &text, NULL, NULL)) {
        return false;
    }
    g_auto(GStrv) raw = g_strsplit(text, "\n", -1);
    size_t start = 0, n = 0;
    for (; raw[start] && !is_header(strip_line(raw[start])); start++) {
    }
    if (!raw[start]) {
        return false;
    }
    const char *report[REPORT_LINES];
    GString *msg = g_string_new(NULL);
    for (; n < REPORT_LINES && raw[start + n]; n++) {
        report[n] = strip_line(raw[start + n]);
        g_string_append_printf(msg, "%s\n", report[n]);
    }
    g_autofree char *frame = first_frame(report, n);
    out->message = g_string_free(msg, FALSE);
    out->key = frame ? g_strdup(frame) : normalize(report[0]);
    out->title = frame ? g_strdup_printf("%s in %s", report[0], frame) : g_strdup(report[0]);
    return true;
}

void fz_console_hang(const char *console_path, int timeout_s, struct fz_crash *out)
{
    g_autofree char *text = NULL;
    g_autofree char *step = NULL;
    if (g_file_get_contents(console_path, &text, NULL, NULL)) {
        g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
        for (size_t i = 0; lines[i]; i++) {
            const char *s = strstr(strip_line(lines[i]), "hvmmio: step ");
            if (s) {
                g_free(step);
                step = g_strdup(s + strlen("hvmmio: step "));
            }
        }
    }
    out->key = g_strdup_printf("hang after step %s", step ? step : "(none: before the scenario)");
    out->title = g_strdup_printf("hang: no progress in %d s after step %s", timeout_s,
                                 step ? step : "(none)");
    out->message = g_strdup_printf("the run timed out after %d s; the last step on the console "
                                   "was %s\n",
                                   timeout_s, step ? step : "(none)");
}

void fz_crash_clear(struct fz_crash *c)
{
    g_free(c->key);
    g_free(c->title);
    g_free(c->message);
    memset(c, 0, sizeof(*c));
}
