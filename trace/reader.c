/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: a tolerant streaming reader of mmiotrace text (and hvmmio's JSON Lines). This
 * file: the public API (opening, the error policy, accessors) and the record loop, which joins
 * a MARK's continuation lines and hands every other line to its parser. The rest is in
 * reader-input.c, reader-lex.c, reader-facts.c and reader-records.c (see reader-int.h).
 *
 * Memory is constant: one input buffer of READ_CHUNK + MMIOTRACE_LINE_MAX bytes; a longer line
 * is an error. Compression is detected from the magic bytes. The tolerance rules (repeated
 * headers, comment lines, MARK continuation lines, ...) are listed in docs/trace-format.md.
 * Numbers are parsed by hand: R and W lines are the hot path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <unistd.h>

#include "reader-int.h"

/* ---- Opening ---- */

static struct mmiotrace_reader *reader_new(const char *name)
{
    struct mmiotrace_reader *r = malloc(sizeof(*r));

    if (!r) {
        return NULL;
    }
    memset(r, 0, offsetof(struct mmiotrace_reader, err));
    r->err[0] = '\0';
    r->fd = -1;
    r->name = strdup(name ? name : "(input)");
    if (!r->name) {
        free(r);
        return NULL;
    }
    return r;
}

struct mmiotrace_reader *mmiotrace_reader_open_fd(int fd, const char *name, bool own_fd)
{
    struct mmiotrace_reader *r = reader_new(name);

    if (!r) {
        return NULL;
    }
    r->fd = fd;
    r->own_fd = own_fd;
    return r;
}

struct mmiotrace_reader *mmiotrace_reader_open(const char *path)
{
    if (!strcmp(path, "-")) {
        return mmiotrace_reader_open_fd(0, "(stdin)", false);
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return NULL;
    }
    struct mmiotrace_reader *r = mmiotrace_reader_open_fd(fd, path, true);
    if (!r) {
        int e = errno;
        close(fd);
        errno = e;
    }
    return r;
}

struct mmiotrace_reader *mmiotrace_reader_open_mem(const void *data, size_t len, const char *name)
{
    struct mmiotrace_reader *r = reader_new(name);

    if (!r) {
        return NULL;
    }
    r->mem = data;
    r->mem_len = len;
    return r;
}

void mmiotrace_reader_set_policy(struct mmiotrace_reader *r, enum mmiotrace_error_policy policy,
                                 mmiotrace_warn_fn warn, void *opaque)
{
    r->policy = policy;
    r->warn = warn;
    r->warn_opaque = opaque;
}

void mmiotrace_reader_free(struct mmiotrace_reader *r)
{
    if (!r) {
        return;
    }
    mmiotrace_decomp_free(r->dz);
    if (r->own_fd && r->fd >= 0) {
        close(r->fd);
    }
    free(r->name);
    free(r);
}

const char *mmiotrace_reader_error(const struct mmiotrace_reader *r)
{
    return r->err;
}

uint64_t mmiotrace_reader_skipped(const struct mmiotrace_reader *r)
{
    return r->skipped;
}

uint64_t mmiotrace_reader_line(const struct mmiotrace_reader *r)
{
    return r->rec_line;
}

uint64_t mmiotrace_reader_bytes(const struct mmiotrace_reader *r)
{
    return r->raw_bytes;
}

enum mmiotrace_compression mmiotrace_reader_compression(const struct mmiotrace_reader *r)
{
    return r->comp;
}

bool mmiotrace_reader_is_jsonl(const struct mmiotrace_reader *r)
{
    return r->jsonl;
}

/* ---- Errors ---- */

/* See reader-int.h. */
int mmiotrace_rd_fatal(struct mmiotrace_reader *r, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->err, sizeof(r->err), "%s: ", r->name);

    if (n < 0 || (size_t)n >= sizeof(r->err)) {
        n = 0;
    }
    va_start(ap, fmt);
    vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
    va_end(ap);
    r->failed = true;
    return -1;
}

/* See reader-int.h. */
int mmiotrace_rd_line_error(struct mmiotrace_reader *r, uint64_t line, const char *fmt, ...)
{
    va_list ap;
    int n = snprintf(r->err, sizeof(r->err), "%s:%llu: ", r->name, (unsigned long long)line);

    if (n < 0 || (size_t)n >= sizeof(r->err)) {
        n = 0;
    }
    va_start(ap, fmt);
    vsnprintf(r->err + n, sizeof(r->err) - n, fmt, ap);
    va_end(ap);
    return -1;
}

/* The hot path's shortcut before the full classification (record.c). */
static inline enum keyword classify(const char *line, size_t len)
{
    if (len >= 2 && line[1] == ' ') {
        if (line[0] == 'R') {
            return KW_R;
        }
        if (line[0] == 'W') {
            return KW_W;
        }
    }
    return mmiotrace_classify_line(line, len);
}

/* ---- The record loop ---- */

/* Apply the error policy to the malformed line whose message is in r->err. */
static int malformed(struct mmiotrace_reader *r)
{
    if (r->policy == MMIOTRACE_ON_ERROR_STOP) {
        r->failed = true;
        return -1;
    }
    r->skipped++;
    if (r->warn) {
        r->warn(r->warn_opaque, r->err);
    }
    return 0;
}

static int emit_mark(struct mmiotrace_reader *r, struct mmiotrace_record *rec)
{
    mmiotrace_record_init(rec, MMIOTRACE_MARK);
    rec->ts_ns = r->mark_ts;
    rec->mark.text = r->mark_text;
    rec->mark.len = r->mark_len;
    r->rec_line = r->mark_line;
    r->mark_pending = false;
    return 1;
}

/*
 * A line after a pending MARK: a continuation line of its text is appended (1), or it ends
 * the MARK (0, the line not consumed); -1: a malformed MARK that ends reading.
 */
static int mark_continue(struct mmiotrace_reader *r, enum keyword kw, const char *line, size_t len)
{
    if (kw != KW_OTHER && kw != KW_BLANK) {
        return 0;
    }
    mmiotrace_rd_consume_line(r);
    if (memchr(line, '\0', len)) {
        r->mark_pending = false;
        mmiotrace_rd_line_error(r, r->lineno, "NUL byte in MARK text (binary data?)");
        return malformed(r) < 0 ? -1 : 1;
    }
    if (r->mark_len + 1 + len > MMIOTRACE_TEXT_MAX) {
        r->mark_pending = false;
        mmiotrace_rd_line_error(r, r->mark_line, "MARK record: text is longer than %d bytes",
                                MMIOTRACE_TEXT_MAX);
        return malformed(r) < 0 ? -1 : 1;
    }
    r->mark_text[r->mark_len++] = '\n';
    memcpy(r->mark_text + r->mark_len, line, len);
    r->mark_len += len;
    return 1;
}

/* Parse a consumed JSON Lines line: 0 = *rec filled, -1 = malformed. */
static int parse_jsonl(struct mmiotrace_reader *r, const char *line, size_t len,
                       struct mmiotrace_record *rec)
{
    char msg[300];
    int ret =
        mmiotrace_jsonl_parse(line, len, rec, r->scratch, sizeof(r->scratch), msg, sizeof(msg));

    if (ret < 0) {
        mmiotrace_rd_line_error(r, r->lineno, "%s", msg);
    }
    return ret;
}

/* Parse a consumed line (text or JSON Lines): 0 = *rec filled, -1 = malformed. */
static inline int parse_record(struct mmiotrace_reader *r, enum keyword kw, const char *line,
                               size_t len, struct mmiotrace_record *rec)
{
    if (!r->format_known) {
        r->format_known = true;
        r->jsonl = len && line[0] == '{';
    }
    rec->type = MMIOTRACE_NONE;
    rec->ext = 0;
    rec->ts_ns = 0;
    r->scratch_len = 0;
    if (r->jsonl) {
        return parse_jsonl(r, line, len, rec);
    }
    return mmiotrace_rd_parse_line(r, kw, line, len, rec);
}

int mmiotrace_reader_next(struct mmiotrace_reader *r, struct mmiotrace_record *rec)
{
    const char *line;
    size_t len;

    if (r->failed) {
        return -1;
    }
    if (!r->started && mmiotrace_rd_start(r) < 0) {
        return -1;
    }
    for (;;) {
        int got = mmiotrace_rd_peek_line(r, &line, &len);
        if (got < 0) {
            if (r->failed || malformed(r) < 0) {
                r->failed = true;
                return -1;
            }
            continue;
        }
        if (!got) {
            return r->mark_pending ? emit_mark(r, rec) : 0;
        }
        enum keyword kw = classify(line, len);
        if (r->mark_pending) {
            int more = mark_continue(r, kw, line, len);
            if (more < 0) {
                return -1;
            }
            if (more) {
                continue;
            }
            return emit_mark(r, rec);
        }
        mmiotrace_rd_consume_line(r);
        if (kw == KW_BLANK || kw == KW_SKIP) {
            continue;
        }
        if (parse_record(r, kw, line, len, rec) < 0) {
            if (malformed(r) < 0) {
                return -1;
            }
            continue;
        }
        if (rec->type == MMIOTRACE_MARK && kw == KW_MARK) {
            /* wait for continuation lines */
            r->mark_pending = true;
            r->mark_line = r->lineno;
            r->mark_ts = rec->ts_ns;
            continue;
        }
        r->rec_line = r->lineno;
        return 1;
    }
}
