/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: the buffered stream writer (mmiotrace_writer_*) and its sinks (a file
 * descriptor, a stdio stream). It formats each record with its line formatter (writer.c's
 * mmiotrace_format by default) into a buffer handed to the sink in chunks. libc only.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "mmiotrace.h"

#define WRITER_CHUNK (256 * 1024)

struct mmiotrace_writer {
    mmiotrace_sink_fn sink;
    void *opaque;
    mmiotrace_format_fn format;
    unsigned mode;
    int error; /* sticky errno of a failed sink write */
    size_t len;
    uint64_t records, bytes;
    char buf[]; /* WRITER_CHUNK + MMIOTRACE_FORMAT_MAX */
};

struct mmiotrace_writer *mmiotrace_writer_new(mmiotrace_sink_fn sink, void *opaque,
                                              mmiotrace_format_fn format, unsigned mode)
{
    struct mmiotrace_writer *w = malloc(sizeof(*w) + WRITER_CHUNK + MMIOTRACE_FORMAT_MAX);

    if (!w) {
        return NULL;
    }
    w->sink = sink;
    w->opaque = opaque;
    w->format = format ? format : mmiotrace_format;
    w->mode = mode;
    w->error = 0;
    w->len = 0;
    w->records = 0;
    w->bytes = 0;
    return w;
}

static int fd_sink(void *opaque, const void *buf, size_t len)
{
    int fd = (int)(intptr_t)opaque;
    const char *p = buf;

    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

struct mmiotrace_writer *mmiotrace_writer_new_fd(int fd, unsigned mode)
{
    return mmiotrace_writer_new(fd_sink, (void *)(intptr_t)fd, NULL, mode);
}

static int stdio_sink(void *opaque, const void *buf, size_t len)
{
    FILE *f = opaque;

    if (fwrite(buf, 1, len, f) != len) {
        if (!errno) {
            errno = EIO;
        }
        return -1;
    }
    return 0;
}

struct mmiotrace_writer *mmiotrace_writer_new_stdio(FILE *f, unsigned mode)
{
    return mmiotrace_writer_new(stdio_sink, f, NULL, mode);
}

static int writer_drain(struct mmiotrace_writer *w)
{
    if (w->error) {
        errno = w->error;
        return -1;
    }
    if (w->len && w->sink(w->opaque, w->buf, w->len) < 0) {
        w->error = errno ? errno : EIO;
        return -1;
    }
    w->bytes += w->len;
    w->len = 0;
    return 0;
}

int mmiotrace_writer_write(struct mmiotrace_writer *w, const struct mmiotrace_record *rec)
{
    if (w->len >= WRITER_CHUNK && writer_drain(w) < 0) {
        return -1;
    }
    int n = w->format(w->buf + w->len, MMIOTRACE_FORMAT_MAX, rec, w->mode);
    if (n < 0) {
        return -1;
    }
    if (n) {
        w->len += n;
        w->records++;
    }
    return 0;
}

int mmiotrace_writer_flush(struct mmiotrace_writer *w)
{
    if (writer_drain(w) < 0) {
        return -1;
    }
    if (w->sink == stdio_sink && fflush(w->opaque)) {
        return -1;
    }
    return 0;
}

uint64_t mmiotrace_writer_records(const struct mmiotrace_writer *w)
{
    return w->records;
}

uint64_t mmiotrace_writer_bytes(const struct mmiotrace_writer *w)
{
    return w->bytes + w->len;
}

int mmiotrace_writer_free(struct mmiotrace_writer *w)
{
    int ret = 0;

    if (!w) {
        return 0;
    }
    ret = mmiotrace_writer_flush(w);
    free(w);
    return ret;
}
