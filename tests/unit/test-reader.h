/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace reader tests: the helpers that test-reader.c defines and its compressed-input
 * tests (test-reader-compressed.c) use too.
 */
#ifndef HVMMIO_TEST_READER_H
#define HVMMIO_TEST_READER_H

#include <stddef.h>
#include <stdint.h>

#include <glib.h>

#include "mmiotrace.h"

struct result {
    GString *out;    /* records re-formatted (extended mode) */
    GPtrArray *warn; /* warnings of skipped lines */
    char *error;     /* the error that stopped reading, or NULL */
    uint64_t skipped, records;
};

/* A small kernel trace: VERSION, PCIDEV, MARK, MAP, R, W. */
extern const char reader_sample[];

void result_free(struct result *r);
/* Read rd to its end (and free it) with policy p. */
struct result read_reader(struct mmiotrace_reader *rd, enum mmiotrace_error_policy p);
struct result read_mem(const void *data, size_t len, const char *name,
                       enum mmiotrace_error_policy p);
/* From a string, as "t.txt". */
struct result read_str(const char *text, enum mmiotrace_error_policy p);
/* Input must come back as want (re-formatted in extended mode), without errors. */
void expect_ok(const char *in, const char *want);
/* Input must stop with exactly this message; with the skip policy it is a warning. */
void expect_error(const char *in, const char *msg);

/* test-reader-compressed.c: /reader/compressed... */
void reader_add_compressed_tests(void);
/* test-reader-dma.c: /reader/dma/... (DMA, DMAMAP, replay annotations) */
void reader_add_dma_tests(void);

#endif
