/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: a tolerant streaming reader of mmiotrace text (and hvmmio's JSON Lines).
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
#include <string.h>
#include <unistd.h>

#include "internal.h"

#define READ_CHUNK (1024 * 1024)

struct mmiotrace_reader {
    char *name;
    int fd; /* -1: memory input */
    bool own_fd;
    const unsigned char *mem;
    size_t mem_len, mem_pos;
    struct mmiotrace_decomp *dz;
    enum mmiotrace_compression comp;
    bool started;      /* compression sniffed */
    bool format_known; /* text or JSON Lines decided */
    bool jsonl;
    bool eof;        /* no more (decompressed) input */
    bool failed;     /* a fatal error: err holds it */
    bool discarding; /* skipping the rest of an over-long line */
    enum mmiotrace_error_policy policy;
    mmiotrace_warn_fn warn;
    void *warn_opaque;
    uint64_t lineno;   /* lines consumed */
    uint64_t rec_line; /* first line of the last record returned */
    uint64_t skipped;
    uint64_t raw_bytes; /* bytes read from the file (compressed size if compressed) */
    size_t start, end;  /* unconsumed data: buf[start, end) */
    size_t scan;        /* buf[start, scan) has no newline */
    size_t next_start;  /* where the peeked line ends (after its newline) */
    size_t scratch_len; /* scratch bytes used by the current record */

    /* a MARK waiting for possible continuation lines */
    bool mark_pending;
    uint64_t mark_line;
    uint64_t mark_ts;
    size_t mark_len;

    char err[512];
    char mark_text[MMIOTRACE_TEXT_MAX];
    char scratch[MMIOTRACE_LINE_MAX];
    char buf[READ_CHUNK + MMIOTRACE_LINE_MAX];
};

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

/* A fatal error not tied to one line: "NAME: message". */
__attribute__((format(printf, 2, 3))) static int fatal(struct mmiotrace_reader *r, const char *fmt,
                                                       ...)
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

/* A malformed line: "NAME:LINE: message" (the policy decides what happens next). */
__attribute__((format(printf, 3, 4))) static int line_error(struct mmiotrace_reader *r,
                                                            uint64_t line, const char *fmt, ...)
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

/* Copy a token for a message: at most 40 bytes, non-printable bytes as \xHH. */
static const char *show(char *out, size_t size, const char *p, const char *end)
{
    size_t o = 0;

    for (; p < end && *p != ' ' && *p != '\t' && o + 5 < size; p++) {
        unsigned char c = *p;
        if (o >= 40) {
            memcpy(out + o, "...", 3);
            o += 3;
            break;
        }
        if (c < ' ' || c >= 0x7f || c == '\'') {
            o += snprintf(out + o, size - o, "\\x%02x", c);
        } else {
            out[o++] = c;
        }
    }
    out[o] = '\0';
    return out;
}

/* ---- Input ---- */

static ssize_t raw_read(void *opaque, void *buf, size_t len)
{
    struct mmiotrace_reader *r = opaque;
    ssize_t n;

    if (r->fd < 0) {
        n = r->mem_len - r->mem_pos;
        if ((size_t)n > len) {
            n = len;
        }
        memcpy(buf, r->mem + r->mem_pos, n);
        r->mem_pos += n;
    } else {
        do {
            n = read(r->fd, buf, len);
        } while (n < 0 && errno == EINTR);
    }
    if (n > 0 && !r->dz) {
        r->raw_bytes += n;
    }
    return n;
}

/* Sniff the magic bytes and set up decompression. */
static int reader_start(struct mmiotrace_reader *r)
{
    unsigned char magic[6];
    size_t n = 0;

    r->started = true;
    while (n < sizeof(magic)) {
        ssize_t got = raw_read(r, magic + n, sizeof(magic) - n);
        if (got < 0) {
            return fatal(r, "read error: %s", strerror(errno));
        }
        if (!got) {
            break;
        }
        n += got;
    }
    if (n >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        r->comp = MMIOTRACE_COMP_GZIP;
    } else if (n >= 6 && !memcmp(magic,
                                 "\xfd"
                                 "7zXZ\0",
                                 6)) {
        r->comp = MMIOTRACE_COMP_XZ;
    } else if (n >= 4 && !memcmp(magic, "\x28\xb5\x2f\xfd", 4)) {
        r->comp = MMIOTRACE_COMP_ZSTD;
    } else if (n >= 4 && !memcmp(magic, "BZh", 3) && magic[3] >= '1' && magic[3] <= '9') {
        return fatal(r, "bzip2-compressed input is not supported (use gzip, xz or zstd)");
    }
    if (r->comp == MMIOTRACE_COMP_NONE) {
        memcpy(r->buf, magic, n);
        r->end = n;
        return 0;
    }
    r->raw_bytes = n;
    r->dz = mmiotrace_decomp_new(r->comp, raw_read, r, magic, n);
    if (!r->dz) {
        return fatal(r, "cannot start decompression: %s", strerror(errno));
    }
    return 0;
}

/* Read more (decompressed) input into buf[end, ...). */
static int fill(struct mmiotrace_reader *r)
{
    size_t room = sizeof(r->buf) - r->end;
    ssize_t n;

    if (r->dz) {
        char msg[256];
        n = mmiotrace_decomp_read(r->dz, r->buf + r->end, room, msg, sizeof(msg));
        r->raw_bytes = mmiotrace_decomp_bytes_in(r->dz);
        if (n < 0) {
            return fatal(r, "%s (after line %llu)", msg, (unsigned long long)r->lineno);
        }
    } else {
        n = raw_read(r, r->buf + r->end, room);
        if (n < 0) {
            return fatal(r, "read error: %s", strerror(errno));
        }
    }
    if (!n) {
        r->eof = true;
    }
    r->end += n;
    return 0;
}

/*
 * A line longer than MMIOTRACE_LINE_MAX. A run of NUL bytes is what a file truncated while
 * it was being written leaves (logrotate's copytruncate: the writer goes on at its offset).
 */
static void long_line_error(struct mmiotrace_reader *r, uint64_t line, bool nul)
{
    if (nul) {
        line_error(r, line,
                   "NUL bytes (the file was truncated while being written? e.g. "
                   "logrotate's copytruncate; rotate with mmiotrace-rotate instead)");
    } else {
        line_error(r, line, "line is longer than %d bytes", MMIOTRACE_LINE_MAX);
    }
}

static void consume_line(struct mmiotrace_reader *r)
{
    r->start = r->scan = r->next_start;
    r->lineno++;
}

/*
 * The next line, without consuming it (see consume_line): 1 = the line is in *line and *len (the
 * newline and a '\r' before it removed), 0 = end of input, -1 = error (fatal, or an over-long line:
 * r->failed tells which).
 */
static int peek_line(struct mmiotrace_reader *r, const char **line, size_t *len)
{
    for (;;) {
        char *nl = memchr(r->buf + r->scan, '\n', r->end - r->scan);
        if (nl) {
            size_t l = nl - (r->buf + r->start);
            r->next_start = nl + 1 - r->buf;
            if (r->discarding) {
                /* the tail of an over-long line: drop it */
                r->discarding = false;
                r->start = r->scan = r->next_start;
                continue;
            }
            if (l >= MMIOTRACE_LINE_MAX) {
                bool nul = memchr(r->buf + r->start, '\0', l) != NULL;
                consume_line(r);
                long_line_error(r, r->lineno, nul);
                return -1;
            }
            *line = r->buf + r->start;
            if (l && nl[-1] == '\r') {
                l--;
            }
            *len = l;
            return 1;
        }
        if (r->eof) {
            if (r->start == r->end || r->discarding) {
                r->start = r->scan = r->end;
                return 0;
            }
            /* a last line without a newline */
            *line = r->buf + r->start;
            *len = r->end - r->start;
            r->next_start = r->end;
            return 1;
        }
        if (r->end - r->start >= MMIOTRACE_LINE_MAX - 1) {
            uint64_t line_no = r->lineno + 1;
            bool nul = memchr(r->buf + r->start, '\0', r->end - r->start) != NULL;
            r->start = r->scan = r->end = 0;
            if (!r->discarding) {
                r->discarding = true;
                r->lineno++;
                long_line_error(r, line_no, nul);
                return -1;
            }
        }
        if (r->start) {
            memmove(r->buf, r->buf + r->start, r->end - r->start);
            r->end -= r->start;
            r->start = 0;
        }
        r->scan = r->end;
        if (fill(r) < 0) {
            return -1;
        }
    }
}

static inline bool is_blank(char c)
{
    return c == ' ' || c == '\t';
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

/* ---- Field parsing ---- */

struct cur {
    const char *p, *end;
};

enum status { ST_OK = 0, ST_MISSING, ST_BAD, ST_OVERFLOW, ST_RANGE };

static const signed char hex_value[256] = {
    ['0'] = 1,  ['1'] = 2,  ['2'] = 3,  ['3'] = 4,  ['4'] = 5,  ['5'] = 6,  ['6'] = 7,  ['7'] = 8,
    ['8'] = 9,  ['9'] = 10, ['a'] = 11, ['b'] = 12, ['c'] = 13, ['d'] = 14, ['e'] = 15, ['f'] = 16,
    ['A'] = 11, ['B'] = 12, ['C'] = 13, ['D'] = 14, ['E'] = 15, ['F'] = 16,
};
/* hex_value[c] - 1 is the digit's value; 0 = not a hex digit */

/* Skip the blanks before a field; ST_MISSING at the end of the line, ST_BAD if no blank. */
static inline enum status sep(struct cur *c)
{
    const char *p = c->p;

    if (p == c->end) {
        return ST_MISSING;
    }
    if (!is_blank(*p)) {
        return ST_BAD;
    }
    do {
        p++;
    } while (p < c->end && is_blank(*p));
    c->p = p;
    return p == c->end ? ST_MISSING : ST_OK;
}

static inline bool at_field_end(const struct cur *c, const char *p)
{
    return p == c->end || is_blank(*p);
}

/* Hex with or without 0x; on error c->p stays at the token. */
static inline enum status get_hex(struct cur *c, uint64_t *out)
{
    const char *p = c->p;
    uint64_t v = 0;

    if (c->end - p >= 2 && p[0] == '0' && (p[1] | 0x20) == 'x') {
        p += 2;
    }
    const char *digits = p;
    int d;
    while (p < c->end && (d = hex_value[(unsigned char)*p])) {
        if (v >> 60) {
            return ST_OVERFLOW;
        }
        v = v << 4 | (d - 1);
        p++;
    }
    if (p == digits || !at_field_end(c, p)) {
        return ST_BAD;
    }
    c->p = p;
    *out = v;
    return ST_OK;
}

static inline enum status get_dec(struct cur *c, uint64_t *out)
{
    const char *p = c->p;
    uint64_t v = 0;

    while (p < c->end && (unsigned)(*p - '0') < 10) {
        unsigned d = *p - '0';
        if (v > (UINT64_MAX - d) / 10) {
            return ST_OVERFLOW;
        }
        v = v * 10 + d;
        p++;
    }
    if (p == c->p || !at_field_end(c, p)) {
        return ST_BAD;
    }
    c->p = p;
    *out = v;
    return ST_OK;
}

/* "%d" */
static inline enum status get_int(struct cur *c, int32_t *out)
{
    struct cur t = *c;
    bool neg = t.p < t.end && *t.p == '-';
    uint64_t v;

    if (neg) {
        t.p++;
    }
    enum status st = get_dec(&t, &v);
    if (st) {
        return st;
    }
    if (v > (neg ? 0x80000000u : 0x7fffffffu)) {
        return ST_OVERFLOW;
    }
    c->p = t.p;
    *out = neg ? (int32_t)(0 - v) : (int32_t)v;
    return ST_OK;
}

/* "SECONDS.FRACTION" with any number of fraction digits (beyond 9 ignored) -> ns */
static inline enum status get_time(struct cur *c, uint64_t *ns, int *frac_digits)
{
    const char *p = c->p;
    uint64_t secs = 0, frac = 0;
    int nfrac = 0;

    while (p < c->end && (unsigned)(*p - '0') < 10) {
        secs = secs * 10 + (*p - '0');
        if (secs > UINT32_MAX) { /* the kernel's "%u" */
            return ST_OVERFLOW;
        }
        p++;
    }
    if (p == c->p) {
        return ST_BAD;
    }
    if (p < c->end && *p == '.') {
        p++;
        while (p < c->end && (unsigned)(*p - '0') < 10) {
            if (nfrac < 9) {
                frac = frac * 10 + (*p - '0');
            }
            nfrac++;
            p++;
        }
    }
    if (!at_field_end(c, p)) {
        return ST_BAD;
    }
    static const uint32_t scale[10] = {1000000000, 100000000, 10000000, 1000000, 100000,
                                       10000,      1000,      100,      10,      1};
    uint64_t v = secs * 1000000000u;
    frac *= scale[nfrac < 9 ? nfrac : 9];
    if (v + frac > MMIOTRACE_TS_MAX_NS) {
        return ST_OVERFLOW;
    }
    *ns = v + frac;
    *frac_digits = nfrac;
    c->p = p;
    return ST_OK;
}

/* Describe a field error: "missing phys", "bad phys 'xyz'", "phys '0x1...' overflows 64 bits". */
static int field_error(struct mmiotrace_reader *r, const char *what, const char *field,
                       enum status st, const struct cur *c, const char *line, size_t len)
{
    char tok[200];
    const char *nul = memchr(line, '\0', len);

    if (nul) {
        return line_error(r, r->lineno, "NUL byte at column %zu (binary data?)",
                          (size_t)(nul - line) + 1);
    }
    show(tok, sizeof(tok), c->p, c->end);
    switch (st) {
    case ST_MISSING:
        return line_error(r, r->lineno, "%s record: missing %s", what, field);
    case ST_OVERFLOW:
        return line_error(r, r->lineno, "%s record: %s '%s' is too large", what, field, tok);
    default:
        if (c->p < c->end && !is_blank(*c->p) && c->p > line && !is_blank(c->p[-1])) {
            /* two fields run together */
            return line_error(r, r->lineno, "%s record: bad character '%s' before %s", what, tok,
                              field);
        }
        return line_error(r, r->lineno, "%s record: bad %s '%s'", what, field, tok);
    }
}

/* Expect blanks then a field parsed by getter; on failure report it by name. */
#define FIELD(getter, name, ...)                                                                   \
    do {                                                                                           \
        enum status st_ = sep(&c);                                                                 \
        if (!st_) {                                                                                \
            st_ = getter(&c, __VA_ARGS__);                                                         \
        }                                                                                          \
        if (st_) {                                                                                 \
            return field_error(r, what, name, st_, &c, line, len);                                 \
        }                                                                                          \
    } while (0)

/* ---- Extension tokens (hvmmio's " key=value" facts) ---- */

/* Decode a value (plain or quoted) into the scratch buffer; c->p is at its first byte. */
static int get_value(struct mmiotrace_reader *r, const char *what, int klen, const char *key,
                     struct cur *c, const char **val, size_t *vlen)
{
    const char *p = c->p;
    char *out = r->scratch + r->scratch_len;
    char *o = out;

    if (p == c->end || *p != '"') {
        const char *s = p;
        while (p < c->end && !is_blank(*p)) {
            if (!*p) {
                return line_error(r, r->lineno, "NUL byte at column %zu (binary data?)",
                                  (size_t)(p - c->p));
            }
            p++;
        }
        *val = s;
        *vlen = p - s;
        c->p = p;
        return 0;
    }
    for (p++;; p++) {
        if (p == c->end) {
            return line_error(r, r->lineno, "%s record: unterminated quoted value of %.*s=", what,
                              klen, key);
        }
        unsigned char ch = *p;
        if (ch == '"') {
            p++;
            break;
        }
        if (!ch) {
            return line_error(r, r->lineno, "NUL byte in the value of %.*s= (binary data?)", klen,
                              key);
        }
        if (ch == '\\') {
            if (++p == c->end) {
                return line_error(r, r->lineno,
                                  "%s record: unterminated quoted value of %.*s=", what, klen, key);
            }
            switch (*p) {
            case '\\':
            case '"':
                ch = *p;
                break;
            case 'n':
                ch = '\n';
                break;
            case 't':
                ch = '\t';
                break;
            case 'r':
                ch = '\r';
                break;
            case 'x':
                if (c->end - p < 3 || !hex_value[(unsigned char)p[1]] ||
                    !hex_value[(unsigned char)p[2]]) {
                    return line_error(r, r->lineno, "%s record: bad \\x escape in %.*s=", what,
                                      klen, key);
                }
                ch = (hex_value[(unsigned char)p[1]] - 1) << 4 |
                     (hex_value[(unsigned char)p[2]] - 1);
                p += 2;
                break;
            default:
                return line_error(r, r->lineno, "%s record: bad escape '\\%c' in %.*s=", what,
                                  *p >= ' ' && *p < 0x7f ? *p : '?', klen, key);
            }
        }
        *o++ = ch;
    }
    if (!at_field_end(c, p)) {
        return line_error(r, r->lineno, "%s record: text after the closing quote of %.*s=", what,
                          klen, key);
    }
    r->scratch_len += o - out;
    *val = out;
    *vlen = o - out;
    c->p = p;
    return 0;
}

static inline bool key_is(const char *k, size_t klen, const char *name)
{
    return strlen(name) == klen && !memcmp(k, name, klen);
}

/* Parse " key=value" tokens to the end of the line. For MARKX, *text receives text=. */
static int parse_ext(struct mmiotrace_reader *r, const char *what, struct cur c,
                     struct mmiotrace_record *rec, const char *line, size_t len, int frac_digits,
                     bool markx)
{
    bool have_off = false, have_text = false;
    bool is_rw = rec->type == MMIOTRACE_READ || rec->type == MMIOTRACE_WRITE;

    for (;;) {
        enum status st = sep(&c);
        if (st == ST_MISSING) {
            break;
        }
        if (st) {
            return field_error(r, what, "field separator", ST_BAD, &c, line, len);
        }
        const char *k = c.p;
        while (c.p < c.end &&
               ((*c.p >= 'a' && *c.p <= 'z') || (*c.p >= '0' && *c.p <= '9') || *c.p == '_')) {
            c.p++;
        }
        size_t klen = c.p - k;
        if (!klen || c.p == c.end || *c.p != '=') {
            char tok[200];
            struct cur t = {k, c.end};
            if (memchr(line, '\0', len)) {
                return field_error(r, what, "", ST_BAD, &t, line, len);
            }
            return line_error(r, r->lineno, "%s record: unexpected field '%s'", what,
                              show(tok, sizeof(tok), k, c.end));
        }
        c.p++;
        int kl = klen < 24 ? klen : 24; /* for messages */
        const char *v = NULL;
        size_t vlen = 0;
        if (get_value(r, what, kl, k, &c, &v, &vlen) < 0) {
            return -1;
        }
        struct cur vc = {v, v + vlen};
        uint64_t n = 0;
        enum status vst = ST_OK;
        if (key_is(k, klen, "ns")) {
            if (rec->type == MMIOTRACE_VERSION || rec->type == MMIOTRACE_PCIDEV) {
                return line_error(r, r->lineno, "%s record: ns= on a record without a time", what);
            }
            vst = get_dec(&vc, &n);
            if (!vst && n > MMIOTRACE_TS_MAX_NS) {
                vst = ST_OVERFLOW;
            }
            if (!vst) {
                if (frac_digits <= 6 && (n + 500) / 1000 != rec->ts_ns / 1000) {
                    return line_error(r, r->lineno,
                                      "%s record: ns=%llu does not round to the timestamp", what,
                                      (unsigned long long)n);
                }
                rec->ts_ns = n;
                rec->ext |= MMIOTRACE_EXT_NS;
            }
        } else if (key_is(k, klen, "vcpu")) {
            if (vlen == 4 && !memcmp(v, "none", 4)) {
                rec->vcpu = MMIOTRACE_VCPU_NONE;
            } else if (!(vst = get_dec(&vc, &n))) {
                if (n > INT32_MAX) {
                    vst = ST_OVERFLOW;
                }
                rec->vcpu = n;
            }
            rec->ext |= MMIOTRACE_EXT_VCPU;
        } else if (key_is(k, klen, "dev")) {
            if (!vlen || vlen > MMIOTRACE_DEV_MAX) {
                return line_error(r, r->lineno, "%s record: dev= must be 1 to %d bytes", what,
                                  MMIOTRACE_DEV_MAX);
            }
            rec->dev = v;
            rec->dev_len = vlen;
            rec->ext |= MMIOTRACE_EXT_DEV;
        } else if (key_is(k, klen, "bar")) {
            if (!(vst = get_dec(&vc, &n)) && n > 6) {
                return line_error(r, r->lineno, "%s record: bar=%llu is not 0-6", what,
                                  (unsigned long long)n);
            }
            rec->bar = n;
            rec->ext |= MMIOTRACE_EXT_BAR;
        } else if (key_is(k, klen, "off")) {
            vst = get_hex(&vc, &rec->bar_off);
            have_off = true;
        } else if (key_is(k, klen, "insn")) {
            if (!vlen || vlen % 2 || vlen > 2 * MMIOTRACE_INSN_MAX) {
                return line_error(r, r->lineno, "%s record: insn= must be 1 to %d bytes in hex",
                                  what, MMIOTRACE_INSN_MAX);
            }
            for (size_t i = 0; i < vlen; i += 2) {
                int hi = hex_value[(unsigned char)v[i]], lo = hex_value[(unsigned char)v[i + 1]];
                if (!hi || !lo) {
                    vst = ST_BAD;
                    break;
                }
                rec->insn[i / 2] = (hi - 1) << 4 | (lo - 1);
            }
            rec->insn_len = vlen / 2;
            rec->ext |= MMIOTRACE_EXT_INSN;
        } else if (key_is(k, klen, "asm")) {
            if (vlen > MMIOTRACE_ASM_MAX) {
                return line_error(r, r->lineno, "%s record: asm= is longer than %d bytes", what,
                                  MMIOTRACE_ASM_MAX);
            }
            rec->asm_text = v;
            rec->asm_len = vlen;
            rec->ext |= MMIOTRACE_EXT_ASM;
        } else if (key_is(k, klen, "pc") && is_rw) {
            if (vlen != 7 || memcmp(v, "unknown", 7)) {
                return line_error(r, r->lineno, "%s record: pc= must be 'unknown'", what);
            }
            rec->ext |= MMIOTRACE_EXT_PC_UNKNOWN;
        } else if (key_is(k, klen, "rejected") && is_rw) {
            if (vlen != 1 || *v != '1') {
                return line_error(r, r->lineno, "%s record: rejected= must be 1", what);
            }
            rec->ext |= MMIOTRACE_EXT_REJECTED;
        } else if (markx && key_is(k, klen, "text")) {
            if (vlen > MMIOTRACE_TEXT_MAX) {
                return line_error(r, r->lineno, "%s record: text is longer than %d bytes", what,
                                  MMIOTRACE_TEXT_MAX);
            }
            rec->mark.text = v;
            rec->mark.len = vlen;
            have_text = true;
        }
        /* other keys: facts of a newer hvmmio, ignored */
        if (vst) {
            char tok[200];
            show(tok, sizeof(tok), v, v + vlen);
            return line_error(r, r->lineno, "%s record: %s %.*s='%s'", what,
                              vst == ST_OVERFLOW ? "too large" : "bad", kl, k, tok);
        }
    }
    if (have_off && !(rec->ext & MMIOTRACE_EXT_BAR)) {
        return line_error(r, r->lineno, "%s record: off= without bar=", what);
    }
    if ((rec->ext & MMIOTRACE_EXT_BAR) && !have_off) {
        rec->bar_off = 0;
    }
    if (markx && !have_text) {
        return line_error(r, r->lineno, "%s record: missing text=", what);
    }
    if (is_rw && (rec->ext & MMIOTRACE_EXT_PC_UNKNOWN) && rec->rw.pc) {
        return line_error(r, r->lineno, "%s record: pc=unknown with a non-zero PC", what);
    }
    return 0;
}

/* ---- One parser per record type ---- */

static int parse_rw(struct mmiotrace_reader *r, const char *line, size_t len,
                    struct mmiotrace_record *rec)
{
    const char *what = line[0] == 'R' ? "R" : "W";
    struct cur c = {line + 1, line + len};
    uint64_t width, pid;
    int frac;

    rec->type = line[0] == 'R' ? MMIOTRACE_READ : MMIOTRACE_WRITE;
    FIELD(get_dec, "width", &width);
    if (width != 1 && width != 2 && width != 4 && width != 8) {
        return line_error(r, r->lineno, "%s record: width %llu is not 1, 2, 4 or 8", what,
                          (unsigned long long)width);
    }
    rec->rw.width = width;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->rw.map_id);
    FIELD(get_hex, "phys", &rec->rw.phys);
    FIELD(get_hex, "value", &rec->rw.value);
    FIELD(get_hex, "pc", &rec->rw.pc);
    FIELD(get_dec, "pid", &pid);
    if (c.p == c.end) {
        return 0;
    }
    return parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_version(struct mmiotrace_reader *r, const char *line, size_t len,
                         struct mmiotrace_record *rec)
{
    const char *what = "VERSION";
    struct cur c = {line + 7, line + len};
    enum status st = sep(&c);

    if (st) {
        return field_error(r, what, "version", st, &c, line, len);
    }
    const char *v = c.p;
    while (c.p < c.end && (unsigned char)*c.p > ' ' && *c.p != 0x7f) {
        c.p++;
    }
    if (c.p < c.end && !is_blank(*c.p)) {
        struct cur t = {v, c.end};
        return field_error(r, what, "version", ST_BAD, &t, line, len);
    }
    if (c.p - v > 64) {
        return line_error(r, r->lineno, "VERSION record: version is longer than 64 bytes");
    }
    rec->type = MMIOTRACE_VERSION;
    rec->version.text = v;
    rec->version.len = c.p - v;
    if (c.p == c.end) {
        return 0;
    }
    return parse_ext(r, what, c, rec, line, len, 0, false);
}

static enum status get_hex32(struct cur *c, uint32_t *out)
{
    const char *start = c->p;
    uint64_t v;
    enum status st = get_hex(c, &v);

    if (st) {
        return st;
    }
    if (v > UINT32_MAX) {
        c->p = start;
        return ST_OVERFLOW;
    }
    *out = v;
    return ST_OK;
}

static enum status get_hex16(struct cur *c, uint16_t *out)
{
    const char *start = c->p;
    uint64_t v;
    enum status st = get_hex(c, &v);

    if (st) {
        return st;
    }
    if (v > 0xffff) {
        c->p = start;
        return ST_OVERFLOW;
    }
    *out = v;
    return ST_OK;
}

static int parse_pcidev(struct mmiotrace_reader *r, const char *line, size_t len,
                        struct mmiotrace_record *rec)
{
    const char *what = "PCIDEV";
    struct cur c = {line + 6, line + len};
    struct mmiotrace_pcidev *d = &rec->pcidev;
    uint16_t busdevfn;
    uint32_t ids;

    rec->type = MMIOTRACE_PCIDEV;
    d->driver = "";
    d->driver_len = 0;
    FIELD(get_hex16, "bus/devfn", &busdevfn);
    d->bus = busdevfn >> 8;
    d->devfn = busdevfn & 0xff;
    FIELD(get_hex32, "vendor/device", &ids);
    d->vendor = ids >> 16;
    d->device = ids & 0xffff;
    FIELD(get_hex32, "irq", &d->irq);
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        FIELD(get_hex, "resource", &d->resource[i]);
    }
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        FIELD(get_hex, "resource size", &d->size[i]);
    }
    /* " %s\n": exactly one blank, then the driver (possibly empty), then facts */
    if (c.p < c.end && *c.p == ' ') {
        const char *drv = c.p + 1;
        const char *e = drv;
        while (e < c.end && !is_blank(*e)) {
            e++;
        }
        if (!memchr(drv, '=', e - drv)) {
            if (memchr(drv, '\0', e - drv)) {
                return line_error(r, r->lineno, "NUL byte in the driver name (binary data?)");
            }
            for (const char *p = drv; p < e; p++) {
                if ((unsigned char)*p < ' ' || *p == 0x7f) {
                    return line_error(r, r->lineno,
                                      "PCIDEV record: control character in the driver name");
                }
            }
            if (e - drv > 64) {
                return line_error(r, r->lineno,
                                  "PCIDEV record: driver name is longer than 64 bytes");
            }
            d->driver = drv;
            d->driver_len = e - drv;
            c.p = e;
        }
    }
    if (c.p == c.end) {
        return 0;
    }
    return parse_ext(r, what, c, rec, line, len, 0, false);
}

static enum status get_opcode(struct cur *c, uint8_t *op)
{
    const char *p = c->p;

    for (int i = 0; i < 3; i++) {
        int hi, lo;
        if (c->end - p < 2 || !(hi = hex_value[(unsigned char)p[0]]) ||
            !(lo = hex_value[(unsigned char)p[1]])) {
            return ST_BAD;
        }
        op[i] = (hi - 1) << 4 | (lo - 1);
        p += 2;
        if (i < 2) {
            if (p == c->end || *p != ',') {
                return ST_BAD;
            }
            p++;
        }
    }
    if (!at_field_end(c, p)) {
        return ST_BAD;
    }
    c->p = p;
    return ST_OK;
}

static int parse_unknown(struct mmiotrace_reader *r, const char *line, size_t len,
                         struct mmiotrace_record *rec)
{
    const char *what = "UNKNOWN";
    struct cur c = {line + 7, line + len};
    uint64_t pid;
    int frac;

    rec->type = MMIOTRACE_UNKNOWN;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->unknown.map_id);
    FIELD(get_hex, "phys", &rec->unknown.phys);
    FIELD(get_opcode, "opcode bytes", rec->unknown.opcode);
    FIELD(get_hex, "pc", &rec->unknown.pc);
    FIELD(get_dec, "pid", &pid);
    return parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_map(struct mmiotrace_reader *r, const char *line, size_t len,
                     struct mmiotrace_record *rec)
{
    const char *what = "MAP";
    struct cur c = {line + 3, line + len};
    uint64_t zero, pid;
    int frac;

    rec->type = MMIOTRACE_MAP;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->map.map_id);
    FIELD(get_hex, "phys", &rec->map.phys);
    FIELD(get_hex, "virt", &rec->map.virt);
    FIELD(get_hex, "len", &rec->map.len);
    FIELD(get_hex, "flags", &zero);
    FIELD(get_dec, "pid", &pid);
    return parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_unmap(struct mmiotrace_reader *r, const char *line, size_t len,
                       struct mmiotrace_record *rec)
{
    const char *what = "UNMAP";
    struct cur c = {line + 5, line + len};
    uint64_t zero, pid;
    int frac;

    rec->type = MMIOTRACE_UNMAP;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_int, "map id", &rec->unmap.map_id);
    FIELD(get_hex, "flags", &zero);
    FIELD(get_dec, "pid", &pid);
    return parse_ext(r, what, c, rec, line, len, frac, false);
}

/* "MARK T text": the text runs to the end of the line (MARK continuation lines follow). */
static int parse_mark(struct mmiotrace_reader *r, const char *line, size_t len,
                      struct mmiotrace_record *rec)
{
    const char *what = "MARK";
    struct cur c = {line + 4, line + len};
    int frac;

    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    /* "%s" after exactly one blank; a missing text (no blank) is an empty text */
    const char *text = c.p < c.end ? c.p + 1 : c.p;
    size_t tlen = c.end - text;
    if (memchr(text, '\0', tlen)) {
        return line_error(r, r->lineno, "NUL byte in MARK text (binary data?)");
    }
    if (tlen > MMIOTRACE_TEXT_MAX) {
        return line_error(r, r->lineno, "MARK record: text is longer than %d bytes",
                          MMIOTRACE_TEXT_MAX);
    }
    /* The kernel's lost-events report: "MARK 0.000000 Lost %lu events." */
    if (rec->ts_ns == 0 && mmiotrace_lost_text(text, tlen, &rec->lost.count)) {
        rec->type = MMIOTRACE_LOST;
        return 0;
    }
    rec->type = MMIOTRACE_MARK;
    memcpy(r->mark_text, text, tlen);
    r->mark_len = tlen;
    rec->mark.text = r->mark_text;
    rec->mark.len = tlen;
    return 0;
}

static int parse_markx(struct mmiotrace_reader *r, const char *line, size_t len,
                       struct mmiotrace_record *rec)
{
    const char *what = "MARKX";
    struct cur c = {line + 5, line + len};
    int frac;

    rec->type = MMIOTRACE_MARK;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    return parse_ext(r, what, c, rec, line, len, frac, true);
}

static int parse_lost(struct mmiotrace_reader *r, const char *line, size_t len,
                      struct mmiotrace_record *rec)
{
    const char *what = "LOST";
    struct cur c = {line + 4, line + len};
    int frac;

    rec->type = MMIOTRACE_LOST;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_dec, "count", &rec->lost.count);
    return parse_ext(r, what, c, rec, line, len, frac, false);
}

static int parse_pcicfg(struct mmiotrace_reader *r, const char *line, size_t len,
                        struct mmiotrace_record *rec)
{
    const char *what = "PCICFG";
    struct cur c = {line + 6, line + len};
    uint16_t busdevfn;
    int frac;

    rec->type = MMIOTRACE_CONFIG;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_hex16, "bus/devfn", &busdevfn);
    rec->config.bus = busdevfn >> 8;
    rec->config.devfn = busdevfn & 0xff;
    enum status st = sep(&c);
    if (st) {
        return field_error(r, what, "config bytes", st, &c, line, len);
    }
    const char *h = c.p;
    while (c.p < c.end && !is_blank(*c.p)) {
        c.p++;
    }
    size_t n = c.p - h;
    if (n % 2 || n > 2 * MMIOTRACE_CONFIG_MAX) {
        return line_error(r, r->lineno,
                          "PCICFG record: config space must be 1 to %d bytes in hex, not %zu "
                          "digits",
                          MMIOTRACE_CONFIG_MAX, n);
    }
    uint8_t *data = (uint8_t *)r->scratch + r->scratch_len;
    for (size_t i = 0; i < n; i += 2) {
        int hi = hex_value[(unsigned char)h[i]], lo = hex_value[(unsigned char)h[i + 1]];
        if (!hi || !lo) {
            struct cur t = {h, c.end};
            return field_error(r, what, "config bytes", ST_BAD, &t, line, len);
        }
        data[i / 2] = (hi - 1) << 4 | (lo - 1);
    }
    r->scratch_len += n / 2;
    rec->config.data = data;
    rec->config.len = n / 2;
    return parse_ext(r, what, c, rec, line, len, frac, false);
}

static enum status get_irq_kind(struct cur *c, enum mmiotrace_irq_kind *kind)
{
    const char *p = c->p;
    size_t n = 0;

    while (p + n < c->end && !is_blank(p[n])) {
        n++;
    }
    if (n == 4 && !memcmp(p, "INTX", 4)) {
        *kind = MMIOTRACE_IRQ_INTX;
    } else if (n == 3 && !memcmp(p, "MSI", 3)) {
        *kind = MMIOTRACE_IRQ_MSI;
    } else if (n == 4 && !memcmp(p, "MSIX", 4)) {
        *kind = MMIOTRACE_IRQ_MSIX;
    } else {
        return ST_BAD;
    }
    c->p = p + n;
    return ST_OK;
}

static enum status get_dec32(struct cur *c, uint32_t *out)
{
    const char *start = c->p;
    uint64_t v;
    enum status st = get_dec(c, &v);

    if (st) {
        return st;
    }
    if (v > UINT32_MAX) {
        c->p = start;
        return ST_OVERFLOW;
    }
    *out = v;
    return ST_OK;
}

static int parse_irq(struct mmiotrace_reader *r, const char *line, size_t len,
                     struct mmiotrace_record *rec)
{
    const char *what = "IRQ";
    struct cur c = {line + 3, line + len};
    int frac;

    rec->type = MMIOTRACE_IRQ;
    FIELD(get_time, "timestamp", &rec->ts_ns, &frac);
    FIELD(get_irq_kind, "kind (INTX, MSI or MSIX)", &rec->irq.kind);
    if (rec->irq.kind == MMIOTRACE_IRQ_INTX) {
        FIELD(get_dec32, "pin", &rec->irq.vector);
        FIELD(get_dec32, "level", &rec->irq.data);
        if (rec->irq.vector > 3 || rec->irq.data > 1) {
            return line_error(r, r->lineno, "IRQ record: INTX pin must be 0-3 and level 0 or 1");
        }
    } else {
        FIELD(get_dec32, "vector", &rec->irq.vector);
        FIELD(get_hex, "address", &rec->irq.addr);
        FIELD(get_hex32, "data", &rec->irq.data);
    }
    return parse_ext(r, what, c, rec, line, len, frac, false);
}

/* Parse a line of a known kind; 0 = *rec filled, -1 = malformed (message in r->err). */
static int parse_line(struct mmiotrace_reader *r, enum keyword kw, const char *line, size_t len,
                      struct mmiotrace_record *rec)
{
    switch (kw) {
    case KW_R:
    case KW_W:
        return parse_rw(r, line, len, rec);
    case KW_VERSION:
        return parse_version(r, line, len, rec);
    case KW_PCIDEV:
        return parse_pcidev(r, line, len, rec);
    case KW_UNKNOWN:
        return parse_unknown(r, line, len, rec);
    case KW_MAP:
        return parse_map(r, line, len, rec);
    case KW_UNMAP:
        return parse_unmap(r, line, len, rec);
    case KW_MARK:
        return parse_mark(r, line, len, rec);
    case KW_MARKX:
        return parse_markx(r, line, len, rec);
    case KW_LOST:
        return parse_lost(r, line, len, rec);
    case KW_PCICFG:
        return parse_pcicfg(r, line, len, rec);
    case KW_IRQ:
        return parse_irq(r, line, len, rec);
    default: {
        char tok[200];
        if (len && !line[0]) {
            /* a line starting with NUL bytes: the hole copytruncate leaves */
            long_line_error(r, r->lineno, true);
            return -1;
        }
        if (memchr(line, '\0', len)) {
            return line_error(r, r->lineno, "NUL byte at column %zu (binary data?)",
                              (size_t)((const char *)memchr(line, '\0', len) - line) + 1);
        }
        return line_error(r, r->lineno, "unknown record type '%s'",
                          show(tok, sizeof(tok), line, line + len));
    }
    }
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

int mmiotrace_reader_next(struct mmiotrace_reader *r, struct mmiotrace_record *rec)
{
    const char *line;
    size_t len;

    if (r->failed) {
        return -1;
    }
    if (!r->started && reader_start(r) < 0) {
        return -1;
    }
    for (;;) {
        int got = peek_line(r, &line, &len);
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
            if (kw == KW_OTHER || kw == KW_BLANK) {
                /* a continuation line of the MARK's text */
                consume_line(r);
                if (memchr(line, '\0', len)) {
                    r->mark_pending = false;
                    line_error(r, r->lineno, "NUL byte in MARK text (binary data?)");
                    if (malformed(r) < 0) {
                        return -1;
                    }
                    continue;
                }
                if (r->mark_len + 1 + len > MMIOTRACE_TEXT_MAX) {
                    r->mark_pending = false;
                    line_error(r, r->mark_line, "MARK record: text is longer than %d bytes",
                               MMIOTRACE_TEXT_MAX);
                    if (malformed(r) < 0) {
                        return -1;
                    }
                    continue;
                }
                r->mark_text[r->mark_len++] = '\n';
                memcpy(r->mark_text + r->mark_len, line, len);
                r->mark_len += len;
                continue;
            }
            return emit_mark(r, rec);
        }
        consume_line(r);
        if (kw == KW_BLANK || kw == KW_SKIP) {
            continue;
        }
        if (!r->format_known) {
            r->format_known = true;
            r->jsonl = len && line[0] == '{';
        }
        rec->type = MMIOTRACE_NONE;
        rec->ext = 0;
        rec->ts_ns = 0;
        r->scratch_len = 0;
        int ret;
        if (r->jsonl) {
            char msg[300];
            ret = mmiotrace_jsonl_parse(line, len, rec, r->scratch, sizeof(r->scratch), msg,
                                        sizeof(msg));
            if (ret < 0) {
                line_error(r, r->lineno, "%s", msg);
            }
        } else {
            ret = parse_line(r, kw, line, len, rec);
        }
        if (ret < 0) {
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
