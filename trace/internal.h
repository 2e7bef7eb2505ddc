/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libmmiotrace: interfaces between the library's own files (not installed, not public). */
#ifndef HVMMIO_TRACE_INTERNAL_H
#define HVMMIO_TRACE_INTERNAL_H

#include "mmiotrace.h"

/* What a text line is, from its first word. */
enum keyword {
    KW_OTHER = 0, /* not a keyword: a continuation line after a MARK, else an error */
    KW_BLANK,     /* empty or blank line: skipped */
    KW_SKIP,      /* '#' comments, LSPCI lines, "rw what?", "map what?": skipped */
    KW_R,
    KW_W,
    KW_VERSION,
    KW_PCIDEV,
    KW_UNKNOWN,
    KW_MAP,
    KW_UNMAP,
    KW_MARK,
    KW_MARKX,
    KW_LOST,
    KW_PCICFG,
    KW_IRQ,
    KW_DMA,
    KW_DMAMAP,
};
enum keyword mmiotrace_classify_line(const char *line, size_t len);

/* Whether a MARK's text is the kernel's "Lost %lu events." (N without leading zeros). */
bool mmiotrace_lost_text(const char *text, size_t len, uint64_t *count);

/* Raw input for a decompressor: like read(2); -1 with errno on error, 0 at end of input. */
typedef ssize_t (*mmiotrace_raw_read_fn)(void *opaque, void *buf, size_t len);

struct mmiotrace_decomp;

/*
 * A decompressor for comp reading its input from rd; the first prefix_len bytes of the input
 * were already read (to sniff the magic bytes) and are passed in prefix.
 */
struct mmiotrace_decomp *mmiotrace_decomp_new(enum mmiotrace_compression comp,
                                              mmiotrace_raw_read_fn rd, void *opaque,
                                              const void *prefix, size_t prefix_len);
/* Up to len decompressed bytes; 0 at the end of the stream; -1 with a message in err. */
ssize_t mmiotrace_decomp_read(struct mmiotrace_decomp *d, void *buf, size_t len, char *err,
                              size_t errlen);
/* Compressed bytes consumed so far. */
uint64_t mmiotrace_decomp_bytes_in(const struct mmiotrace_decomp *d);
void mmiotrace_decomp_free(struct mmiotrace_decomp *d);

/*
 * Parse one JSON Lines object (jsonl-read.c). Text fields are copied into scratch (at least
 * MMIOTRACE_LINE_MAX bytes). Returns 0, or -1 with "what is wrong" in err.
 */
int mmiotrace_jsonl_parse(const char *line, size_t len, struct mmiotrace_record *rec, char *scratch,
                          size_t scratch_size, char *err, size_t errlen);

#endif
