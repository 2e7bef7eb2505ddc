/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for the JSON Lines reader. The input is read as JSON Lines (a '{' is put
 * in front when missing, so the reader picks the JSONL path). Whatever records come out must
 * survive JSONL -> text -> JSONL unchanged.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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

static struct buf read_all(const void *data, size_t size, mmiotrace_format_fn fmt, unsigned mode,
                           uint64_t *skipped)
{
    struct buf out = {0};
    struct mmiotrace_reader *r = mmiotrace_reader_open_mem(data, size, "fuzz");
    struct mmiotrace_record rec;

    mmiotrace_reader_set_policy(r, MMIOTRACE_ON_ERROR_SKIP, NULL, NULL);
    while (mmiotrace_reader_next(r, &rec) > 0) {
        int n = fmt(line, sizeof(line), &rec, mode);
        if (n < 0) {
            abort();
        }
        append(&out, line, n);
    }
    *skipped = mmiotrace_reader_skipped(r);
    mmiotrace_reader_free(r);
    return out;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf in = {0};
    uint64_t skipped;

    if (!size || data[0] != '{') {
        append(&in, "{", 1);
    }
    append(&in, (const char *)data, size);
    struct buf jsonl = read_all(in.p, in.len, mmiotrace_jsonl_format, 0, &skipped);
    struct buf text = read_all(jsonl.p ? jsonl.p : "", jsonl.len, mmiotrace_format,
                               MMIOTRACE_FMT_EXTENDED, &skipped);
    if (skipped) {
        abort();
    }
    struct buf back = read_all(text.p ? text.p : "", text.len, mmiotrace_jsonl_format, 0, &skipped);
    if (skipped || back.len != jsonl.len || (jsonl.len && memcmp(back.p, jsonl.p, jsonl.len))) {
        abort(); /* JSONL -> text -> JSONL changed something */
    }
    free(in.p);
    free(jsonl.p);
    free(text.p);
    free(back.p);
    return 0;
}
