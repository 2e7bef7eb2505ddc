/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader: its input. Bytes from a file descriptor or from memory, handed to
 * decompress.c when the magic bytes say so, assembled into lines in one buffer of
 * READ_CHUNK + MMIOTRACE_LINE_MAX bytes (a longer line is an error).
 */
#include <errno.h>
#include <unistd.h>

#include "reader-int.h"

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
int mmiotrace_rd_start(struct mmiotrace_reader *r)
{
    unsigned char magic[6];
    size_t n = 0;

    r->started = true;
    while (n < sizeof(magic)) {
        ssize_t got = raw_read(r, magic + n, sizeof(magic) - n);
        if (got < 0) {
            return mmiotrace_rd_fatal(r, "read error: %s", strerror(errno));
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
        return mmiotrace_rd_fatal(r,
                                  "bzip2-compressed input is not supported (use gzip, xz or zstd)");
    }
    if (r->comp == MMIOTRACE_COMP_NONE) {
        memcpy(r->buf, magic, n);
        r->end = n;
        return 0;
    }
    r->raw_bytes = n;
    r->dz = mmiotrace_decomp_new(r->comp, raw_read, r, magic, n);
    if (!r->dz) {
        return mmiotrace_rd_fatal(r, "cannot start decompression: %s", strerror(errno));
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
            return mmiotrace_rd_fatal(r, "%s (after line %llu)", msg,
                                      (unsigned long long)r->lineno);
        }
    } else {
        n = raw_read(r, r->buf + r->end, room);
        if (n < 0) {
            return mmiotrace_rd_fatal(r, "read error: %s", strerror(errno));
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
void mmiotrace_rd_long_line_error(struct mmiotrace_reader *r, uint64_t line, bool nul)
{
    if (nul) {
        mmiotrace_rd_line_error(r, line,
                                "NUL bytes (the file was truncated while being written? e.g. "
                                "logrotate's copytruncate; rotate with mmiotrace-rotate instead)");
    } else {
        mmiotrace_rd_line_error(r, line, "line is longer than %d bytes", MMIOTRACE_LINE_MAX);
    }
}

/* See reader-int.h. */
int mmiotrace_rd_peek_line_slow(struct mmiotrace_reader *r, const char **line, size_t *len)
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
                mmiotrace_rd_consume_line(r);
                mmiotrace_rd_long_line_error(r, r->lineno, nul);
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
                mmiotrace_rd_long_line_error(r, line_no, nul);
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
