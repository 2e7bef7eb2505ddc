/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the reader: text, and the compressed paths. The first byte chooses:
 * 0/1 the rest as is (raw mutations of .gz/.xz/.zst seeds reach the decompressors), 2 the rest
 * gzip-compressed, 3 zstd-compressed (valid streams around mutated text).
 * Property checked beyond "no crash": whatever records come out, written in extended mode and
 * read again, give the same text (the writer's output is always readable and stable).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#include <zstd.h>

#include "mmiotrace.h"

static char line[MMIOTRACE_FORMAT_MAX];

struct buf {
    char *p;
    size_t len, cap;
};

static void append(struct buf *b, const char *s, size_t n)
{
    if (b->len + n > b->cap) {
        b->cap = (b->len + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p) {
            abort();
        }
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
}

/* Read everything (skipping bad lines); return the records in extended text. */
static struct buf read_all(const void *data, size_t size, uint64_t *skipped)
{
    struct buf out = {0};
    struct mmiotrace_reader *r = mmiotrace_reader_open_mem(data, size, "fuzz");
    struct mmiotrace_record rec;

    mmiotrace_reader_set_policy(r, MMIOTRACE_ON_ERROR_SKIP, NULL, NULL);
    while (mmiotrace_reader_next(r, &rec) > 0) {
        int n = mmiotrace_format(line, sizeof(line), &rec, MMIOTRACE_FMT_EXTENDED);
        if (n < 0) {
            abort(); /* the reader returned a record the writer rejects */
        }
        append(&out, line, n);
        if (mmiotrace_format(line, sizeof(line), &rec, MMIOTRACE_FMT_KERNEL) < 0 ||
            mmiotrace_jsonl_format(line, sizeof(line), &rec, 0) < 0) {
            abort();
        }
    }
    *skipped = mmiotrace_reader_skipped(r);
    mmiotrace_reader_free(r);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *packed = NULL;
    size_t packed_len = 0;
    uint64_t skipped;

    if (!size) {
        return 0;
    }
    uint8_t mode = data[0] & 3;
    data++;
    size--;
    if (mode == 2) {
        uLongf n = compressBound(size) + 32;
        z_stream z = {0};
        packed = malloc(n);
        deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
        z.next_in = (uint8_t *)data;
        z.avail_in = size;
        z.next_out = packed;
        z.avail_out = n;
        deflate(&z, Z_FINISH);
        packed_len = z.total_out;
        deflateEnd(&z);
    } else if (mode == 3) {
        size_t n = ZSTD_compressBound(size);
        packed = malloc(n);
        packed_len = ZSTD_compress(packed, n, data, size, 1);
        if (ZSTD_isError(packed_len)) {
            abort();
        }
    }
    struct buf first =
        packed ? read_all(packed, packed_len, &skipped) : read_all(data, size, &skipped);
    struct buf again = read_all(first.p ? first.p : "", first.len, &skipped);
    if (skipped || again.len != first.len || (first.len && memcmp(first.p, again.p, first.len))) {
        abort(); /* written output did not read back identically */
    }
    free(first.p);
    free(again.p);
    free(packed);
    return 0;
}
