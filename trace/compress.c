/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libmmiotrace: compressed output sinks (.gz with zlib, .xz with liblzma, .zst with libzstd). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "mmiotrace.h"

#define CSINK_OUT_SIZE (256 * 1024)

struct mmiotrace_csink {
    enum mmiotrace_compression comp;
    int fd;
    int error;
    z_stream z;
    lzma_stream x;
    ZSTD_CStream *zs;
    unsigned char out[CSINK_OUT_SIZE];
};

enum mmiotrace_compression mmiotrace_compression_from_name(const char *path)
{
    size_t n = strlen(path);

    if (n >= 3 && !strcmp(path + n - 3, ".gz")) {
        return MMIOTRACE_COMP_GZIP;
    }
    if (n >= 3 && !strcmp(path + n - 3, ".xz")) {
        return MMIOTRACE_COMP_XZ;
    }
    if (n >= 4 && !strcmp(path + n - 4, ".zst")) {
        return MMIOTRACE_COMP_ZSTD;
    }
    return MMIOTRACE_COMP_NONE;
}

static int write_all(struct mmiotrace_csink *cs, const void *buf, size_t len)
{
    const char *p = buf;

    while (len) {
        ssize_t n = write(cs->fd, p, len);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            cs->error = errno;
            return -1;
        }
        p += n;
        len -= n;
    }
    return 0;
}

struct mmiotrace_csink *mmiotrace_csink_new(int fd, enum mmiotrace_compression comp)
{
    struct mmiotrace_csink *cs = calloc(1, sizeof(*cs));

    if (!cs) {
        return NULL;
    }
    cs->comp = comp;
    cs->fd = fd;
    switch (comp) {
    case MMIOTRACE_COMP_NONE:
        break;
    case MMIOTRACE_COMP_GZIP:
        /* 15 + 16: a gzip header, as gzip(1) writes */
        if (deflateInit2(&cs->z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
            goto fail;
        }
        break;
    case MMIOTRACE_COMP_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        cs->x = init;
        if (lzma_easy_encoder(&cs->x, 6, LZMA_CHECK_CRC64) != LZMA_OK) {
            goto fail;
        }
        break;
    }
    case MMIOTRACE_COMP_ZSTD:
        cs->zs = ZSTD_createCStream();
        if (!cs->zs || ZSTD_isError(ZSTD_initCStream(cs->zs, 3))) {
            ZSTD_freeCStream(cs->zs);
            goto fail;
        }
        break;
    default:
        goto fail;
    }
    return cs;
fail:
    free(cs);
    errno = ENOMEM;
    return NULL;
}

/* Compress len bytes (finish: end the stream). */
static int csink_run(struct mmiotrace_csink *cs, const void *buf, size_t len, bool finish)
{
    if (cs->error) {
        errno = cs->error;
        return -1;
    }
    switch (cs->comp) {
    case MMIOTRACE_COMP_NONE:
        return write_all(cs, buf, len);
    case MMIOTRACE_COMP_GZIP:
        cs->z.next_in = (unsigned char *)buf;
        cs->z.avail_in = len;
        for (;;) {
            cs->z.next_out = cs->out;
            cs->z.avail_out = sizeof(cs->out);
            int ret = deflate(&cs->z, finish ? Z_FINISH : Z_NO_FLUSH);
            if (ret == Z_STREAM_ERROR) {
                cs->error = EIO;
                errno = EIO;
                return -1;
            }
            if (write_all(cs, cs->out, sizeof(cs->out) - cs->z.avail_out) < 0) {
                return -1;
            }
            if (finish ? ret == Z_STREAM_END : cs->z.avail_in == 0 && cs->z.avail_out != 0) {
                return 0;
            }
        }
    case MMIOTRACE_COMP_XZ:
        cs->x.next_in = buf;
        cs->x.avail_in = len;
        for (;;) {
            cs->x.next_out = cs->out;
            cs->x.avail_out = sizeof(cs->out);
            lzma_ret ret = lzma_code(&cs->x, finish ? LZMA_FINISH : LZMA_RUN);
            if (ret != LZMA_OK && ret != LZMA_STREAM_END) {
                cs->error = ret == LZMA_MEM_ERROR ? ENOMEM : EIO;
                errno = cs->error;
                return -1;
            }
            if (write_all(cs, cs->out, sizeof(cs->out) - cs->x.avail_out) < 0) {
                return -1;
            }
            if (finish ? ret == LZMA_STREAM_END : cs->x.avail_in == 0 && cs->x.avail_out != 0) {
                return 0;
            }
        }
    case MMIOTRACE_COMP_ZSTD: {
        ZSTD_inBuffer in = {buf, len, 0};
        for (;;) {
            ZSTD_outBuffer out = {cs->out, sizeof(cs->out), 0};
            size_t ret =
                finish ? ZSTD_endStream(cs->zs, &out) : ZSTD_compressStream(cs->zs, &out, &in);
            if (ZSTD_isError(ret)) {
                cs->error = EIO;
                errno = EIO;
                return -1;
            }
            if (write_all(cs, cs->out, out.pos) < 0) {
                return -1;
            }
            if (finish ? ret == 0 : in.pos == in.size) {
                return 0;
            }
        }
    }
    default:
        errno = EINVAL;
        return -1;
    }
}

int mmiotrace_csink_write(void *opaque, const void *buf, size_t len)
{
    return csink_run(opaque, buf, len, false);
}

int mmiotrace_csink_finish(struct mmiotrace_csink *cs)
{
    int ret = csink_run(cs, NULL, 0, true);

    switch (cs->comp) {
    case MMIOTRACE_COMP_GZIP:
        deflateEnd(&cs->z);
        break;
    case MMIOTRACE_COMP_XZ:
        lzma_end(&cs->x);
        break;
    case MMIOTRACE_COMP_ZSTD:
        ZSTD_freeCStream(cs->zs);
        break;
    default:
        break;
    }
    free(cs);
    return ret;
}
