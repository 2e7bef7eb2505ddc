/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: streaming decompression of .gz (zlib, multi-member), .xz (liblzma,
 * concatenated streams) and .zst (libzstd, several frames). The end of the raw input in the
 * middle of a stream is an error ("... is truncated"), never a silent end of file.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "internal.h"

#define DECOMP_IN_SIZE (128 * 1024)

struct mmiotrace_decomp {
    enum mmiotrace_compression comp;
    mmiotrace_raw_read_fn rd;
    void *opaque;
    bool raw_eof;
    bool done;     /* stream ended cleanly at raw EOF */
    bool in_frame; /* inside a gzip member / zstd frame (input seen since the last end) */
    uint64_t bytes_in;
    z_stream z;
    lzma_stream x;
    ZSTD_DStream *zs;
    ZSTD_inBuffer zin;
    size_t in_len, in_pos; /* unconsumed input is in[in_pos, in_len) */
    unsigned char in[DECOMP_IN_SIZE];
};

static const char *comp_name(enum mmiotrace_compression comp)
{
    switch (comp) {
    case MMIOTRACE_COMP_GZIP:
        return "gzip";
    case MMIOTRACE_COMP_XZ:
        return "xz";
    case MMIOTRACE_COMP_ZSTD:
        return "zstd";
    default:
        return "?";
    }
}

struct mmiotrace_decomp *mmiotrace_decomp_new(enum mmiotrace_compression comp,
                                              mmiotrace_raw_read_fn rd, void *opaque,
                                              const void *prefix, size_t prefix_len)
{
    struct mmiotrace_decomp *d = calloc(1, sizeof(*d));

    if (!d || prefix_len > DECOMP_IN_SIZE) {
        free(d);
        errno = ENOMEM;
        return NULL;
    }
    d->comp = comp;
    d->rd = rd;
    d->opaque = opaque;
    memcpy(d->in, prefix, prefix_len);
    d->in_len = prefix_len;
    d->bytes_in = prefix_len;
    switch (comp) {
    case MMIOTRACE_COMP_GZIP:
        /* 15 + 32: gzip or zlib header, detected automatically */
        if (inflateInit2(&d->z, 15 + 32) != Z_OK) {
            goto fail;
        }
        break;
    case MMIOTRACE_COMP_XZ: {
        lzma_stream init = LZMA_STREAM_INIT;
        d->x = init;
        if (lzma_stream_decoder(&d->x, UINT64_MAX, LZMA_CONCATENATED) != LZMA_OK) {
            goto fail;
        }
        break;
    }
    case MMIOTRACE_COMP_ZSTD:
        d->zs = ZSTD_createDStream();
        if (!d->zs) {
            goto fail;
        }
        /* Bounded memory whatever the input claims: at most a 128 MiB window. */
        ZSTD_DCtx_setParameter(d->zs, ZSTD_d_windowLogMax, 27);
        break;
    default:
        goto fail;
    }
    return d;
fail:
    free(d);
    errno = ENOMEM;
    return NULL;
}

/* Refill the input buffer when empty; false on a read error (err set). */
static bool refill(struct mmiotrace_decomp *d, char *err, size_t errlen)
{
    if (d->in_pos < d->in_len || d->raw_eof) {
        return true;
    }
    ssize_t n;
    do {
        n = d->rd(d->opaque, d->in, sizeof(d->in));
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        snprintf(err, errlen, "read error: %s", strerror(errno));
        return false;
    }
    d->in_pos = 0;
    d->in_len = n;
    d->bytes_in += n;
    if (!n) {
        d->raw_eof = true;
    }
    return true;
}

static ssize_t read_gzip(struct mmiotrace_decomp *d, void *buf, size_t len, char *err,
                         size_t errlen)
{
    for (;;) {
        if (!refill(d, err, errlen)) {
            return -1;
        }
        bool at_eof = d->in_pos == d->in_len; /* refill leaves it empty only at raw EOF */
        if (at_eof && !d->in_frame) {
            return 0;
        }
        if (!d->in_frame) {
            /* a new member must start with the gzip magic (gzip -d allows members to follow) */
            if (d->in[d->in_pos] != 0x1f) {
                snprintf(err, errlen, "data after the end of the gzip stream is not gzip");
                return -1;
            }
            d->in_frame = true;
        }
        d->z.next_in = d->in + d->in_pos;
        d->z.avail_in = d->in_len - d->in_pos;
        d->z.next_out = buf;
        d->z.avail_out = len > UINT32_MAX ? UINT32_MAX : len;
        int ret = inflate(&d->z, Z_NO_FLUSH);
        size_t produced = (unsigned char *)d->z.next_out - (unsigned char *)buf;
        d->in_pos = d->z.next_in - d->in;
        if (ret == Z_STREAM_END) {
            d->in_frame = false;
            inflateReset(&d->z);
        } else if (ret != Z_OK && ret != Z_BUF_ERROR) {
            snprintf(err, errlen, "gzip data is corrupt (%s)", d->z.msg ? d->z.msg : "zlib error");
            return -1;
        }
        if (produced) {
            return produced;
        }
        if (at_eof && d->in_frame) {
            snprintf(err, errlen, "gzip stream is truncated");
            return -1;
        }
    }
}

static ssize_t read_xz(struct mmiotrace_decomp *d, void *buf, size_t len, char *err, size_t errlen)
{
    for (;;) {
        if (d->done) {
            return 0;
        }
        if (!refill(d, err, errlen)) {
            return -1;
        }
        d->x.next_in = d->in + d->in_pos;
        d->x.avail_in = d->in_len - d->in_pos;
        d->x.next_out = buf;
        d->x.avail_out = len;
        lzma_ret ret = lzma_code(&d->x, d->raw_eof ? LZMA_FINISH : LZMA_RUN);
        size_t produced = (unsigned char *)d->x.next_out - (unsigned char *)buf;
        d->in_pos = d->x.next_in - d->in;
        switch (ret) {
        case LZMA_OK:
            break;
        case LZMA_STREAM_END:
            d->done = true;
            break;
        case LZMA_BUF_ERROR:
            if (produced) {
                break;
            }
            snprintf(err, errlen, "xz stream is truncated");
            return -1;
        case LZMA_MEM_ERROR:
        case LZMA_MEMLIMIT_ERROR:
            snprintf(err, errlen, "xz stream needs too much memory");
            return -1;
        case LZMA_FORMAT_ERROR:
            snprintf(err, errlen, "xz data is not in the .xz format");
            return -1;
        case LZMA_OPTIONS_ERROR:
            snprintf(err, errlen, "xz stream uses unsupported options");
            return -1;
        default:
            snprintf(err, errlen, "xz data is corrupt");
            return -1;
        }
        if (produced) {
            return produced;
        }
    }
}

static ssize_t read_zstd(struct mmiotrace_decomp *d, void *buf, size_t len, char *err,
                         size_t errlen)
{
    for (;;) {
        if (!refill(d, err, errlen)) {
            return -1;
        }
        bool have_input = d->in_pos < d->in_len;
        if (!have_input && d->raw_eof && !d->in_frame) {
            return 0;
        }
        ZSTD_inBuffer in = {d->in, d->in_len, d->in_pos};
        ZSTD_outBuffer out = {buf, len, 0};
        size_t ret = ZSTD_decompressStream(d->zs, &out, &in);
        d->in_pos = in.pos;
        if (ZSTD_isError(ret)) {
            snprintf(err, errlen, "zstd data is corrupt (%s)", ZSTD_getErrorName(ret));
            return -1;
        }
        /* ret == 0: a frame ended and everything was flushed */
        d->in_frame = ret != 0;
        if (out.pos) {
            return out.pos;
        }
        if (!have_input && d->raw_eof) {
            snprintf(err, errlen, "zstd stream is truncated");
            return -1;
        }
    }
}

ssize_t mmiotrace_decomp_read(struct mmiotrace_decomp *d, void *buf, size_t len, char *err,
                              size_t errlen)
{
    switch (d->comp) {
    case MMIOTRACE_COMP_GZIP:
        return read_gzip(d, buf, len, err, errlen);
    case MMIOTRACE_COMP_XZ:
        return read_xz(d, buf, len, err, errlen);
    case MMIOTRACE_COMP_ZSTD:
        return read_zstd(d, buf, len, err, errlen);
    default:
        snprintf(err, errlen, "%s: unsupported compression", comp_name(d->comp));
        return -1;
    }
}

uint64_t mmiotrace_decomp_bytes_in(const struct mmiotrace_decomp *d)
{
    return d->bytes_in;
}

void mmiotrace_decomp_free(struct mmiotrace_decomp *d)
{
    if (!d) {
        return;
    }
    switch (d->comp) {
    case MMIOTRACE_COMP_GZIP:
        inflateEnd(&d->z);
        break;
    case MMIOTRACE_COMP_XZ:
        lzma_end(&d->x);
        break;
    case MMIOTRACE_COMP_ZSTD:
        ZSTD_freeDStream(d->zs);
        break;
    default:
        break;
    }
    free(d);
}
