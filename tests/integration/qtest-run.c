/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * qtest-run: drive QEMU through its qtest protocol from a script, checking the answers.
 *
 *   qtest-run [OPTIONS] SCRIPT -- QEMU-ARGS...
 *
 * QEMU runs with "-qtest stdio -accel qtest" added (and "-qmp unix:...,server=on,wait=off"
 * with --qmp); its stderr goes to --log (QEMU logs every qtest exchange there: a pipe would
 * fill and block it). SCRIPT is read line by line; see the "Script language" text in usage()
 * below, which is the reference. Exit status: 0 if every check passed, 1 if one failed or
 * QEMU died, 2 on bad usage or a script error.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <glib.h>

static const char usage_text[] =
    "Script language (one statement a line; '#' starts a comment line):\n"
    "  QTEST-COMMAND [CHECK]     send a qtest command (outl, readl, writeq, read, ...);\n"
    "                            the answer must start with OK unless CHECK says otherwise\n"
    "  CHECK is one of:\n"
    "    == EXPR                 the answer is 'OK VALUE' and VALUE equals EXPR\n"
    "    != EXPR                 the answer is 'OK VALUE' and VALUE differs from EXPR\n"
    "    -> NAME                 store VALUE of 'OK VALUE' in variable NAME\n"
    "    => TEXT                 the whole answer equals TEXT (e.g. '=> OK', '=> ERR ...')\n"
    "  set NAME EXPR             define a variable\n"
    "  echo TEXT                 print TEXT (variables expanded)\n"
    "  sleep MS                  wait (e.g. for an asynchronous effect)\n"
    "  include FILE              run FILE (relative to this script's folder)\n"
    "  pci-cfg-read{b,w,l} DEV OFF [CHECK]   read config space of bus 0, device DEV, fn 0\n"
    "  pci-cfg-write{b,w,l} DEV OFF VALUE    write config space\n"
    "  pci-map-bar DEV BAR ADDR  put 32-bit memory BAR number BAR at ADDR and turn on\n"
    "                            memory decoding and bus mastering\n"
    "  expect-irq raise|lower [NUM]  wait up to 2 s for an asynchronous 'IRQ raise NUM' line\n"
    "                            (after irq_intercept_in ...); NUM omitted: any\n"
    "  qmp JSON [=> return|error | =~ TEXT]  (with --qmp) send a QMP command; by default\n"
    "                            it must return; '=~ TEXT': the reply contains TEXT\n"
    "Expressions (no spaces): numbers (C syntax), $NAME, ( ), ~ and the C operators\n"
    "* + - << >> & ^ | with C precedence. In a qtest command every word after the first that\n"
    "starts with a digit, '$', '(' or '~' and parses as an expression is replaced by its\n"
    "value in hex. $NAME is also expanded in echo and qmp text. Variables come from set,\n"
    "'-> NAME', -D NAME=VALUE and the environment is not used.\n";

struct runner {
    pid_t qemu;
    FILE *to_qemu;
    int from_qemu;
    GString *inbuf;
    GHashTable *vars; /* name -> guint64 stored as a decimal string */
    GPtrArray *irqs;  /* async "IRQ ..." lines not yet consumed */
    const char *qmp_path;
    int qmp_fd;
    GString *qmp_buf;
    bool verbose;
    int timeout_ms;
    unsigned commands, checks, failures;
    const char *file;
    int line;
    bool fatal; /* QEMU died or protocol broke: stop */
};

static void check_failed(struct runner *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void check_failed(struct runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: FAIL: ", r->file, r->line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    r->failures++;
}

/* QEMU while it runs: an early exit (a script error) must not leave it behind */
static pid_t running_qemu;

static void kill_running_qemu(void)
{
    if (running_qemu > 0) {
        kill(running_qemu, SIGKILL);
        waitpid(running_qemu, NULL, 0);
        running_qemu = 0;
    }
}

static void script_error(struct runner *r, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

static void script_error(struct runner *r, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s:%d: script error: ", r->file, r->line);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

/* ---- expressions ---- */

struct expr {
    struct runner *r;
    const char *p;
    bool ok;
};

static uint64_t expr_or(struct expr *e);

static uint64_t expr_primary(struct expr *e)
{
    if (*e->p == '(') {
        e->p++;
        uint64_t v = expr_or(e);
        if (*e->p != ')') {
            e->ok = false;
            return 0;
        }
        e->p++;
        return v;
    }
    if (*e->p == '~') {
        e->p++;
        return ~expr_primary(e);
    }
    if (*e->p == '-') {
        e->p++;
        return -expr_primary(e);
    }
    if (*e->p == '$') {
        const char *start = ++e->p;
        while (g_ascii_isalnum(*e->p) || *e->p == '_') {
            e->p++;
        }
        g_autofree char *name = g_strndup(start, (gsize)(e->p - start));
        const char *val = g_hash_table_lookup(e->r->vars, name);
        if (!val) {
            script_error(e->r, "undefined variable $%s", name);
        }
        return g_ascii_strtoull(val, NULL, 10);
    }
    if (!g_ascii_isdigit(*e->p)) {
        e->ok = false;
        return 0;
    }
    char *end;
    errno = 0;
    uint64_t v = strtoull(e->p, &end, 0);
    if (errno) {
        e->ok = false;
    }
    e->p = end;
    return v;
}

static uint64_t expr_mul(struct expr *e)
{
    uint64_t v = expr_primary(e);
    while (e->ok && *e->p == '*') {
        e->p++;
        v *= expr_primary(e);
    }
    return v;
}

static uint64_t expr_add(struct expr *e)
{
    uint64_t v = expr_mul(e);
    while (e->ok && (*e->p == '+' || *e->p == '-')) {
        char op = *e->p++;
        uint64_t w = expr_mul(e);
        v = op == '+' ? v + w : v - w;
    }
    return v;
}

static uint64_t expr_shift(struct expr *e)
{
    uint64_t v = expr_add(e);
    while (e->ok && (g_str_has_prefix(e->p, "<<") || g_str_has_prefix(e->p, ">>"))) {
        bool left = *e->p == '<';
        e->p += 2;
        uint64_t w = expr_add(e);
        v = w >= 64 ? 0 : left ? v << w : v >> w;
    }
    return v;
}

static uint64_t expr_and(struct expr *e)
{
    uint64_t v = expr_shift(e);
    while (e->ok && *e->p == '&') {
        e->p++;
        v &= expr_shift(e);
    }
    return v;
}

static uint64_t expr_xor(struct expr *e)
{
    uint64_t v = expr_and(e);
    while (e->ok && *e->p == '^') {
        e->p++;
        v ^= expr_and(e);
    }
    return v;
}

static uint64_t expr_or(struct expr *e)
{
    uint64_t v = expr_xor(e);
    while (e->ok && *e->p == '|') {
        e->p++;
        v |= expr_xor(e);
    }
    return v;
}

/* Evaluate a whole word; false if it is not an expression. */
static bool eval(struct runner *r, const char *s, uint64_t *out)
{
    struct expr e = {.r = r, .p = s, .ok = true};
    uint64_t v = expr_or(&e);
    if (!e.ok || *e.p) {
        return false;
    }
    *out = v;
    return true;
}

static uint64_t eval_or_die(struct runner *r, const char *s)
{
    uint64_t v;
    if (!eval(r, s, &v)) {
        script_error(r, "'%s' is not a valid expression", s);
    }
    return v;
}

static void set_var(struct runner *r, const char *name, uint64_t v)
{
    for (const char *c = name; *c; c++) {
        if (!g_ascii_isalnum(*c) && *c != '_') {
            script_error(r, "bad variable name '%s'", name);
        }
    }
    g_hash_table_insert(r->vars, g_strdup(name), g_strdup_printf("%" PRIu64, v));
}

/* Expand $NAME (not expressions) in free text. */
static char *expand_text(struct runner *r, const char *s)
{
    GString *out = g_string_new(NULL);
    while (*s) {
        if (*s == '$' && (g_ascii_isalpha(s[1]) || s[1] == '_')) {
            const char *start = ++s;
            while (g_ascii_isalnum(*s) || *s == '_') {
                s++;
            }
            g_autofree char *name = g_strndup(start, (gsize)(s - start));
            const char *val = g_hash_table_lookup(r->vars, name);
            if (!val) {
                script_error(r, "undefined variable $%s", name);
            }
            g_string_append_printf(out, "0x%" PRIx64, g_ascii_strtoull(val, NULL, 10));
        } else {
            g_string_append_c(out, *s++);
        }
    }
    return g_string_free(out, FALSE);
}

/* ---- talking to QEMU ---- */

/* One line from fd (without newline) into *line; false on EOF or timeout. */
static bool read_line(int fd, GString *buf, int timeout_ms, char **line)
{
    gint64 deadline = g_get_monotonic_time() + (gint64)timeout_ms * 1000;
    for (;;) {
        char *nl = memchr(buf->str, '\n', buf->len);
        if (nl) {
            *line = g_strndup(buf->str, (gsize)(nl - buf->str));
            g_string_erase(buf, 0, nl - buf->str + 1);
            return true;
        }
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0) {
            return false;
        }
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int n = poll(&pfd, 1, (int)left);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            return false;
        }
        char tmp[4096];
        ssize_t got = read(fd, tmp, sizeof(tmp));
        if (got <= 0) {
            return false;
        }
        g_string_append_len(buf, tmp, got);
    }
}

/* The next answer line from QEMU, setting aside async IRQ lines. NULL if QEMU is gone. */
static char *qemu_answer(struct runner *r, int timeout_ms)
{
    char *line;
    while (read_line(r->from_qemu, r->inbuf, timeout_ms, &line)) {
        if (g_str_has_prefix(line, "IRQ ")) {
            g_ptr_array_add(r->irqs, line);
            continue;
        }
        return line;
    }
    return NULL;
}

static char *qemu_command(struct runner *r, const char *cmd)
{
    r->commands++;
    if (r->verbose) {
        printf("> %s\n", cmd);
    }
    if (fprintf(r->to_qemu, "%s\n", cmd) < 0 || fflush(r->to_qemu) != 0) {
        fprintf(stderr, "%s:%d: QEMU is gone (cannot send '%s')\n", r->file, r->line, cmd);
        r->fatal = true;
        return NULL;
    }
    char *ans = qemu_answer(r, r->timeout_ms);
    if (!ans) {
        fprintf(stderr, "%s:%d: no answer from QEMU to '%s' (it exited or took over %d ms)\n",
                r->file, r->line, cmd, r->timeout_ms);
        r->fatal = true;
        return NULL;
    }
    if (r->verbose) {
        printf("< %s\n", ans);
    }
    return ans;
}

/* Apply CHECK (words[0] is the operator, words[1] the operand) to an answer. */
static void check_answer(struct runner *r, const char *cmd, const char *ans, char **check)
{
    const char *op = check ? check[0] : NULL;
    if (op && !strcmp(op, "=>")) {
        r->checks++;
        g_autofree char *want = g_strjoinv(" ", check + 1);
        if (strcmp(ans, want)) {
            check_failed(r, "%s: answer '%s', expected '%s'", cmd, ans, want);
        }
        return;
    }
    if (!g_str_has_prefix(ans, "OK")) {
        check_failed(r, "%s: answer '%s'", cmd, ans);
        return;
    }
    if (!op) {
        return;
    }
    if (!check[1] || check[2]) {
        script_error(r, "'%s' takes one operand", op);
    }
    uint64_t got;
    if (strncmp(ans, "OK ", 3) || !eval(r, ans + 3, &got)) {
        check_failed(r, "%s: answer '%s' has no value", cmd, ans);
        return;
    }
    if (!strcmp(op, "->")) {
        set_var(r, check[1], got);
        return;
    }
    uint64_t want = eval_or_die(r, check[1]);
    r->checks++;
    if (!strcmp(op, "==") && got != want) {
        check_failed(r, "%s: got 0x%" PRIx64 ", expected 0x%" PRIx64, cmd, got, want);
    } else if (!strcmp(op, "!=") && got == want) {
        check_failed(r, "%s: got 0x%" PRIx64 ", expected anything else", cmd, got);
    } else if (strcmp(op, "==") && strcmp(op, "!=")) {
        script_error(r, "unknown check '%s'", op);
    }
}

/* Split "cmd args... CHECK" at the first check operator. */
static char **split_check(char **words)
{
    for (char **w = words; *w; w++) {
        if (!strcmp(*w, "==") || !strcmp(*w, "!=") || !strcmp(*w, "->") || !strcmp(*w, "=>")) {
            return w;
        }
    }
    return NULL;
}

static void run_qtest(struct runner *r, char **words)
{
    char **check = split_check(words);
    GString *cmd = g_string_new(words[0]);
    for (char **w = words + 1; *w && w != check; w++) {
        uint64_t v;
        bool expr_like = g_ascii_isdigit(**w) || **w == '$' || **w == '(' || **w == '~';
        if (expr_like && eval(r, *w, &v)) {
            g_string_append_printf(cmd, " 0x%" PRIx64, v);
        } else if (**w == '$') {
            eval_or_die(r, *w); /* reports the error */
        } else {
            g_string_append_printf(cmd, " %s", *w);
        }
    }
    g_autofree char *ans = qemu_command(r, cmd->str);
    if (ans) {
        check_answer(r, cmd->str, ans, check);
    }
    g_string_free(cmd, TRUE);
}

static void pci_cfg(struct runner *r, char **words, char width, bool write)
{
    char **check = write ? NULL : split_check(words);
    int nargs = write ? 3 : 2;
    for (int i = 1; i <= nargs; i++) {
        if (!words[i] || (check && &words[i] == check)) {
            script_error(r, "%s takes DEV OFF%s", words[0], write ? " VALUE" : "");
        }
    }
    uint64_t dev = eval_or_die(r, words[1]), off = eval_or_die(r, words[2]);
    if (dev > 31 || off > 255) {
        script_error(r, "device %" PRIu64 " or offset %" PRIu64 " out of range", dev, off);
    }
    g_autofree char *sel =
        g_strdup_printf("outl 0xcf8 0x%" PRIx64, 0x80000000u | dev << 11 | (off & 0xfc));
    g_autofree char *a1 = qemu_command(r, sel);
    if (!a1) {
        return;
    }
    g_autofree char *io = NULL;
    if (write) {
        io = g_strdup_printf("out%c 0x%" PRIx64 " 0x%" PRIx64, width, 0xcfc + (off & 3),
                             eval_or_die(r, words[3]));
    } else {
        io = g_strdup_printf("in%c 0x%" PRIx64, width, 0xcfc + (off & 3));
    }
    g_autofree char *a2 = qemu_command(r, io);
    if (a2) {
        check_answer(r, io, a2, check);
    }
}

static void pci_map_bar(struct runner *r, char **words)
{
    if (g_strv_length(words) != 4) {
        script_error(r, "pci-map-bar takes DEV BAR ADDR");
    }
    uint64_t bar = eval_or_die(r, words[2]);
    if (bar > 5) {
        script_error(r, "BAR %" PRIu64 " out of range", bar);
    }
    g_autofree char *off = g_strdup_printf("%" PRIu64, 0x10 + 4 * bar);
    char *w1[] = {"pci-cfg-writel", words[1], off, words[3], NULL};
    pci_cfg(r, w1, 'l', true);
    /* memory space + bus master; I/O space stays off */
    char *w2[] = {"pci-cfg-writew", words[1], "4", "6", NULL};
    pci_cfg(r, w2, 'w', true);
}

static void expect_irq(struct runner *r, char **words)
{
    if (!words[1] || (strcmp(words[1], "raise") && strcmp(words[1], "lower"))) {
        script_error(r, "expect-irq takes raise|lower [NUM]");
    }
    g_autofree char *prefix = g_strdup_printf("IRQ %s ", words[1]);
    g_autofree char *exact =
        words[2] ? g_strdup_printf("IRQ %s %" PRIu64, words[1], eval_or_die(r, words[2])) : NULL;
    r->checks++;
    gint64 deadline = g_get_monotonic_time() + 2 * G_USEC_PER_SEC;
    for (;;) {
        for (guint i = 0; i < r->irqs->len; i++) {
            const char *l = r->irqs->pdata[i];
            if (exact ? !strcmp(l, exact) : g_str_has_prefix(l, prefix)) {
                if (r->verbose) {
                    printf("< %s\n", l);
                }
                g_ptr_array_remove_index(r->irqs, i);
                return;
            }
        }
        gint64 left = (deadline - g_get_monotonic_time()) / 1000;
        if (left <= 0) {
            break;
        }
        /* async lines arrive between answers; read what comes */
        char *line;
        if (read_line(r->from_qemu, r->inbuf, (int)MIN(left, 100), &line)) {
            if (g_str_has_prefix(line, "IRQ ")) {
                g_ptr_array_add(r->irqs, line);
            } else {
                g_free(line);
                script_error(r, "unexpected line from QEMU while waiting for an IRQ");
            }
        }
    }
    check_failed(r, "no '%s' from QEMU within 2 s", exact ? exact : prefix);
}

/* ---- QMP ---- */

static char *qmp_reply(struct runner *r)
{
    char *line;
    while (read_line(r->qmp_fd, r->qmp_buf, r->timeout_ms, &line)) {
        if (strstr(line, "\"return\"") || strstr(line, "\"error\"") || strstr(line, "\"QMP\"")) {
            return line;
        }
        g_free(line); /* an event */
    }
    return NULL;
}

static bool qmp_send(struct runner *r, const char *json, char **reply)
{
    g_autofree char *msg = g_strdup_printf("%s\n", json);
    if (write(r->qmp_fd, msg, strlen(msg)) != (ssize_t)strlen(msg)) {
        return false;
    }
    *reply = qmp_reply(r);
    return *reply != NULL;
}

static void qmp_connect(struct runner *r)
{
    struct sockaddr_un addr = {.sun_family = AF_UNIX};
    g_strlcpy(addr.sun_path, r->qmp_path, sizeof(addr.sun_path));
    gint64 deadline = g_get_monotonic_time() + (gint64)r->timeout_ms * 1000;
    r->qmp_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    while (connect(r->qmp_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
        if (g_get_monotonic_time() > deadline) {
            fprintf(stderr, "qtest-run: cannot connect to QMP at %s: %s\n", r->qmp_path,
                    g_strerror(errno));
            r->fatal = true;
            return;
        }
        g_usleep(20000);
    }
    g_autofree char *greeting = qmp_reply(r), *reply = NULL;
    if (!greeting || !qmp_send(r, "{\"execute\":\"qmp_capabilities\"}", &reply) ||
        !strstr(reply, "\"return\"")) {
        fprintf(stderr, "qtest-run: QMP handshake failed\n");
        r->fatal = true;
    }
}

static void run_qmp(struct runner *r, const char *rest)
{
    if (!r->qmp_path) {
        script_error(r, "qmp needs the --qmp option");
    }
    if (r->qmp_fd < 0) {
        qmp_connect(r);
        if (r->fatal) {
            return;
        }
    }
    g_autofree char *text = expand_text(r, rest);
    const char *want = "return", *contains = NULL;
    char *op;
    if ((op = strstr(text, " => "))) {
        *op = 0;
        want = g_strstrip(op + 4);
    } else if ((op = strstr(text, " =~ "))) {
        *op = 0;
        contains = g_strstrip(op + 4);
        want = NULL;
    }
    r->commands++;
    r->checks++;
    if (r->verbose) {
        printf("qmp> %s\n", text);
    }
    g_autofree char *reply = NULL;
    if (!qmp_send(r, text, &reply)) {
        fprintf(stderr, "%s:%d: no QMP reply to %s\n", r->file, r->line, text);
        r->fatal = true;
        return;
    }
    if (r->verbose) {
        printf("qmp< %s\n", reply);
    }
    g_autofree char *key = want ? g_strdup_printf("\"%s\"", want) : NULL;
    if (key ? !strstr(reply, key) : !strstr(reply, contains)) {
        check_failed(r, "qmp %s: reply %s", text, reply);
    }
}

/* ---- the script ---- */

static void run_file(struct runner *r, const char *path);

static void run_line(struct runner *r, const char *dir, char *line)
{
    g_strstrip(line);
    if (!*line || *line == '#') {
        return;
    }
    if (g_str_has_prefix(line, "qmp ")) {
        run_qmp(r, line + 4);
        return;
    }
    if (g_str_has_prefix(line, "echo ") || !strcmp(line, "echo")) {
        g_autofree char *t = expand_text(r, line + 4);
        printf("%s\n", g_strstrip(t));
        return;
    }
    g_auto(GStrv) words = g_strsplit_set(line, " \t", -1);
    /* drop empty words from repeated blanks */
    guint n = 0;
    for (guint i = 0; words[i]; i++) {
        if (*words[i]) {
            words[n++] = words[i];
        } else {
            g_free(words[i]);
        }
    }
    words[n] = NULL;
    const char *w0 = words[0];
    if (!strcmp(w0, "set")) {
        if (n != 3) {
            script_error(r, "set takes NAME EXPR");
        }
        set_var(r, words[1], eval_or_die(r, words[2]));
    } else if (!strcmp(w0, "sleep")) {
        if (n != 2) {
            script_error(r, "sleep takes MS");
        }
        g_usleep(eval_or_die(r, words[1]) * 1000);
    } else if (!strcmp(w0, "include")) {
        if (n != 2) {
            script_error(r, "include takes FILE");
        }
        g_autofree char *p = g_path_is_absolute(words[1]) ? g_strdup(words[1])
                                                          : g_build_filename(dir, words[1], NULL);
        const char *file = r->file;
        int lineno = r->line;
        run_file(r, p);
        r->file = file;
        r->line = lineno;
    } else if (g_str_has_prefix(w0, "pci-cfg-read") && strlen(w0) == 13 && strchr("bwl", w0[12])) {
        pci_cfg(r, words, w0[12], false);
    } else if (g_str_has_prefix(w0, "pci-cfg-write") && strlen(w0) == 14 && strchr("bwl", w0[13])) {
        if (n != 4) {
            script_error(r, "%s takes DEV OFF VALUE", w0);
        }
        pci_cfg(r, words, w0[13], true);
    } else if (!strcmp(w0, "pci-map-bar")) {
        pci_map_bar(r, words);
    } else if (!strcmp(w0, "expect-irq")) {
        expect_irq(r, words);
    } else {
        run_qtest(r, words);
    }
}

static void run_file(struct runner *r, const char *path)
{
    g_autofree char *data = NULL;
    g_autoptr(GError) err = NULL;
    if (!g_file_get_contents(path, &data, NULL, &err)) {
        fprintf(stderr, "qtest-run: %s\n", err->message);
        exit(2);
    }
    g_autofree char *dir = g_path_get_dirname(path);
    g_auto(GStrv) lines = g_strsplit(data, "\n", -1);
    r->file = path;
    for (int i = 0; lines[i] && !r->fatal; i++) {
        r->line = i + 1;
        run_line(r, dir, lines[i]);
    }
}

static char *default_qemu(void)
{
    const char *env = g_getenv("HVMMIO_QEMU");
    if (env && *env) {
        return g_strdup(env);
    }
    const char *cache = g_getenv("HVMMIO_CACHE_DIR");
    g_autofree char *c = cache && *cache ? g_strdup(cache)
                                         : g_build_filename(g_get_user_cache_dir(), "hvmmio", NULL);
    return g_build_filename(c, "qemu", "current", "src", "build", "qemu-system-x86_64", NULL);
}

static pid_t start_qemu(struct runner *r, const char *qemu, const char *log, char **args)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
        perror("qtest-run: pipe");
        exit(2);
    }
    g_autoptr(GPtrArray) argv = g_ptr_array_new_with_free_func(g_free);
    g_ptr_array_add(argv, g_strdup(qemu));
    for (char **a = args; *a; a++) {
        g_ptr_array_add(argv, g_strdup(*a));
    }
    const char *fixed[] = {"-qtest", "stdio", "-accel", "qtest"};
    for (size_t i = 0; i < G_N_ELEMENTS(fixed); i++) {
        g_ptr_array_add(argv, g_strdup(fixed[i]));
    }
    if (r->qmp_path) {
        g_ptr_array_add(argv, g_strdup("-qmp"));
        g_ptr_array_add(argv, g_strdup_printf("unix:%s,server=on,wait=off", r->qmp_path));
    }
    g_ptr_array_add(argv, NULL);
    int logfd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (logfd < 0) {
        fprintf(stderr, "qtest-run: cannot open %s: %s\n", log, g_strerror(errno));
        exit(2);
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        perror("qtest-run: fork");
        exit(2);
    }
    if (pid == 0) {
        dup2(in[0], 0);
        dup2(out[1], 1);
        dup2(logfd, 2);
        execv(qemu, (char **)argv->pdata);
        fprintf(stderr, "qtest-run: cannot run %s: %s\n", qemu, g_strerror(errno));
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(logfd);
    r->to_qemu = fdopen(in[1], "w");
    r->from_qemu = out[0];
    return pid;
}

/* Stop QEMU (SIGTERM after its input closes) and say whether it ended cleanly. */
static bool stop_qemu(struct runner *r, const char *log)
{
    fclose(r->to_qemu);
    int status = 0;
    pid_t done = 0;
    for (int i = 0; i < 100 && !done; i++) {
        if (i == 1) {
            kill(r->qemu, SIGTERM);
        }
        done = waitpid(r->qemu, &status, WNOHANG);
        if (!done) {
            g_usleep(50000);
        }
    }
    if (!done) {
        kill(r->qemu, SIGKILL);
        waitpid(r->qemu, &status, 0);
        fprintf(stderr, "qtest-run: QEMU did not stop on SIGTERM within 5 s; killed it\n");
        return false;
    }
    bool clean = (WIFEXITED(status) && WEXITSTATUS(status) == 0) ||
                 (WIFSIGNALED(status) && WTERMSIG(status) == SIGTERM);
    if (!clean) {
        fprintf(stderr, "qtest-run: QEMU %s %d; the end of %s:\n",
                WIFEXITED(status) ? "exited with status" : "was killed by signal",
                WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), log);
        g_autofree char *text = NULL;
        if (g_file_get_contents(log, &text, NULL, NULL)) {
            g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
            int n = (int)g_strv_length(lines), shown = 0;
            for (int i = n - 1; i >= 0 && shown < 10; i--) {
                if (*lines[i] && !g_str_has_prefix(lines[i], "[")) {
                    shown++;
                }
            }
            for (int i = 0, seen = 0; i < n; i++) {
                if (*lines[i] && !g_str_has_prefix(lines[i], "[") && ++seen > n - shown) {
                    fprintf(stderr, "    %s\n", lines[i]);
                }
            }
        }
    }
    return clean;
}

int main(int argc, char **argv)
{
    g_autofree char *qemu = NULL, *log = NULL, *qmp = NULL;
    g_auto(GStrv) defines = NULL;
    gboolean verbose = FALSE;
    int timeout_s = 30;
    GOptionEntry entries[] = {
        {"qemu", 0, 0, G_OPTION_ARG_FILENAME, &qemu,
         "QEMU binary (default: $HVMMIO_QEMU, else hvmmio's cached build)", "PATH"},
        {"log", 'l', 0, G_OPTION_ARG_FILENAME, &log,
         "Where QEMU's stderr goes (default: /dev/null)", "FILE"},
        {"qmp", 0, 0, G_OPTION_ARG_FILENAME, &qmp,
         "Give QEMU a QMP socket at PATH, for the script's qmp statements", "PATH"},
        {"define", 'D', 0, G_OPTION_ARG_STRING_ARRAY, &defines,
         "Define a script variable (repeatable)", "NAME=EXPR"},
        {"timeout", 't', 0, G_OPTION_ARG_INT, &timeout_s,
         "Fail if QEMU takes longer than this to answer one command (default 30)", "SECONDS"},
        {"verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose, "Print every exchange", NULL},
        {NULL},
    };
    int qemu_at = argc;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--")) {
            qemu_at = i;
            break;
        }
    }
    g_autoptr(GOptionContext) ctx = g_option_context_new("SCRIPT -- QEMU-ARGS...");
    g_option_context_set_summary(
        ctx, "Run QEMU under qtest (adding -qtest stdio -accel qtest to QEMU-ARGS), send it the\n"
             "commands in SCRIPT and check its answers. Exit status: 0 if all checks passed,\n"
             "1 if one failed or QEMU died or failed, 2 on bad usage or a script error.");
    g_option_context_set_description(ctx, usage_text);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_autoptr(GError) err = NULL;
    int pargc = qemu_at;
    if (!g_option_context_parse(ctx, &pargc, &argv, &err)) {
        fprintf(stderr, "qtest-run: %s (see --help)\n", err->message);
        return 2;
    }
    if (pargc != 2 || qemu_at == argc || timeout_s <= 0) {
        fprintf(stderr, "qtest-run: usage: qtest-run [OPTIONS] SCRIPT -- QEMU-ARGS... "
                        "(see --help)\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    struct runner r = {
        .inbuf = g_string_new(NULL),
        .vars = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free),
        .irqs = g_ptr_array_new_with_free_func(g_free),
        .qmp_path = qmp,
        .qmp_fd = -1,
        .qmp_buf = g_string_new(NULL),
        .verbose = verbose,
        .timeout_ms = timeout_s * 1000,
        .file = "(command line)",
    };
    for (char **d = defines; d && *d; d++) {
        char *eq = strchr(*d, '=');
        if (!eq) {
            fprintf(stderr, "qtest-run: -D takes NAME=EXPR, not '%s'\n", *d);
            return 2;
        }
        *eq = 0;
        set_var(&r, *d, eval_or_die(&r, eq + 1));
    }
    if (!qemu) {
        qemu = default_qemu();
    }
    if (!log) {
        log = g_strdup("/dev/null");
    }
    if (qmp) {
        unlink(qmp);
    }
    const char *script = argv[1];
    if (!g_file_test(script, G_FILE_TEST_IS_REGULAR)) {
        fprintf(stderr, "qtest-run: no script %s\n", script);
        return 2;
    }
    r.qemu = start_qemu(&r, qemu, log, argv + qemu_at + 1);
    running_qemu = r.qemu;
    atexit(kill_running_qemu);
    run_file(&r, script);
    bool clean = stop_qemu(&r, log);
    running_qemu = 0;
    if (r.qmp_fd >= 0) {
        close(r.qmp_fd);
    }
    if (qmp) {
        unlink(qmp);
    }
    printf("qtest-run: %s: %u commands, %u checks, %u failed%s\n", script, r.commands, r.checks,
           r.failures, r.fatal ? "; stopped early" : "");
    return r.failures || r.fatal || !clean ? 1 : 0;
}
