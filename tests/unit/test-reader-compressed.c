/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader tests: compressed input, made here with zlib, liblzma and libzstd;
 * from memory and from a file descriptor, truncated, corrupt, concatenated streams.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>
#include <lzma.h>
#include <zlib.h>
#include <zstd.h>

#include "mmiotrace.h"
#include "test-reader.h"

static GString *big_trace(void)
{
    GString *s = g_string_new(reader_sample);
    for (int i = 0; i < 50000; i++) {
        g_string_append_printf(s, "%c 4 %d.%06d 2 0x%x 0x%x 0x0 0\n", i % 3 ? 'R' : 'W',
                               3 + i / 1000000, i % 1000000, 0xfebf0000 + 4 * (i % 64),
                               i * 2654435761u);
    }
    return s;
}

static GByteArray *gzip(const GString *s)
{
    z_stream z = {0};
    GByteArray *out = g_byte_array_sized_new(s->len / 2 + 1024);
    g_assert_cmpint(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), ==, Z_OK);
    g_byte_array_set_size(out, deflateBound(&z, s->len));
    z.next_in = (unsigned char *)s->str;
    z.avail_in = s->len;
    z.next_out = out->data;
    z.avail_out = out->len;
    g_assert_cmpint(deflate(&z, Z_FINISH), ==, Z_STREAM_END);
    g_byte_array_set_size(out, z.total_out);
    deflateEnd(&z);
    return out;
}

static GByteArray *xz(const GString *s)
{
    GByteArray *out = g_byte_array_new();
    size_t pos = 0;
    g_byte_array_set_size(out, lzma_stream_buffer_bound(s->len));
    g_assert_cmpint(lzma_easy_buffer_encode(6, LZMA_CHECK_CRC64, NULL, (uint8_t *)s->str, s->len,
                                            out->data, &pos, out->len),
                    ==, LZMA_OK);
    g_byte_array_set_size(out, pos);
    return out;
}

static GByteArray *zst(const GString *s)
{
    GByteArray *out = g_byte_array_new();
    g_byte_array_set_size(out, ZSTD_compressBound(s->len));
    size_t n = ZSTD_compress(out->data, out->len, s->str, s->len, 3);
    g_assert_false(ZSTD_isError(n));
    g_byte_array_set_size(out, n);
    return out;
}

static GByteArray *(*const compressors[3])(const GString *) = {gzip, xz, zst};

/* One format: read from memory and from a file descriptor, truncated, corrupt. */
static void check_format(int c, const GString *plain, const struct result *want)
{
    const char *names[3] = {"c.gz", "c.xz", "c.zst"};
    const char *truncated[3] = {"gzip stream is truncated", "xz stream is truncated",
                                "zstd stream is truncated"};
    GByteArray *z = compressors[c](plain);
    struct mmiotrace_reader *rd = mmiotrace_reader_open_mem(z->data, z->len, names[c]);
    struct mmiotrace_record rec;
    g_assert_cmpint(mmiotrace_reader_next(rd, &rec), ==, 1);
    g_assert_cmpint(mmiotrace_reader_compression(rd), ==, c + 1);
    mmiotrace_reader_free(rd);
    struct result r = read_mem(z->data, z->len, names[c], MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==, NULL);
    g_assert_cmpstr(r.out->str, ==, want->out->str);
    result_free(&r);

    /* through a file descriptor too */
    char path[] = "/tmp/hvmmio-test-XXXXXX";
    int fd = g_mkstemp(path);
    g_assert_cmpint(write(fd, z->data, z->len), ==, (ssize_t)z->len);
    lseek(fd, 0, SEEK_SET);
    r = read_reader(mmiotrace_reader_open_fd(fd, names[c], true), MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==, NULL);
    g_assert_cmpint(r.records, ==, 50006);
    result_free(&r);
    unlink(path);

    /* truncated anywhere: a clear error, never a silent end of file */
    size_t cuts[] = {z->len - 1, z->len - 4, z->len / 2, 20, 10};
    for (size_t k = 0; k < G_N_ELEMENTS(cuts); k++) {
        r = read_mem(z->data, cuts[k], names[c], MMIOTRACE_ON_ERROR_SKIP);
        g_assert_nonnull(r.error);
        g_assert_true(g_str_has_prefix(r.error, names[c]));
        g_assert_nonnull(strstr(r.error, truncated[c]));
        result_free(&r);
    }
    /* corrupt: an error (or skipped lines), no crash */
    for (size_t k = 10; k < z->len; k += z->len / 7) {
        GByteArray *bad = g_byte_array_new();
        g_byte_array_append(bad, z->data, z->len);
        bad->data[k] ^= 0x55;
        r = read_mem(bad->data, bad->len, names[c], MMIOTRACE_ON_ERROR_STOP);
        if (c == 0 || c == 1) {
            /* gzip and xz carry checksums */
            g_assert_nonnull(r.error);
        }
        result_free(&r);
        g_byte_array_free(bad, TRUE);
    }
    g_byte_array_free(z, TRUE);
}

static void test_compressed(void)
{
    GString *plain = big_trace();
    struct result want = read_mem(plain->str, plain->len, "p.txt", MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(want.error, ==, NULL);
    g_assert_cmpint(want.records, ==, 50006);
    /* a kernel trace comes back byte for byte */
    g_assert_cmpstr(want.out->str, ==, plain->str);
    for (int c = 0; c < 3; c++) {
        check_format(c, plain, &want);
    }
    result_free(&want);
    g_string_free(plain, TRUE);
}

/* concatenated gzip members and zstd frames, as cat a.gz b.gz makes */
static void test_concatenated(void)
{
    GString *half = g_string_new("R 4 1.0 1 0x1 0x1 0x0 0\n");
    const char *names2[3] = {"m.gz", "m.xz", "m.zst"};
    for (int c = 0; c < 3; c++) {
        GByteArray *a = compressors[c](half), *b = compressors[c](half);
        g_byte_array_append(a, b->data, b->len);
        struct result r = read_mem(a->data, a->len, names2[c], MMIOTRACE_ON_ERROR_STOP);
        g_assert_cmpstr(r.error, ==, NULL);
        g_assert_cmpstr(r.out->str, ==,
                        "R 4 1.000000 1 0x1 0x1 0x0 0\nR 4 1.000000 1 0x1 0x1 0x0 0\n");
        result_free(&r);
        /* trailing garbage after the stream */
        g_byte_array_append(a, (const guint8 *)"junk", 4);
        r = read_mem(a->data, a->len, names2[c], MMIOTRACE_ON_ERROR_STOP);
        g_assert_nonnull(r.error);
        result_free(&r);
        g_byte_array_free(a, TRUE);
        g_byte_array_free(b, TRUE);
    }
    g_string_free(half, TRUE);
}

static void test_bzip2(void)
{
    /* bzip2 is recognised and refused clearly */
    struct result r = read_str("BZh91AY&SY", MMIOTRACE_ON_ERROR_STOP);
    g_assert_cmpstr(r.error, ==,
                    "t.txt: bzip2-compressed input is not supported (use gzip, xz or zstd)");
    result_free(&r);
}

void reader_add_compressed_tests(void)
{
    g_test_add_func("/reader/compressed", test_compressed);
    g_test_add_func("/reader/compressed/concatenated", test_concatenated);
    g_test_add_func("/reader/compressed/bzip2", test_bzip2);
}
