/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The replay-learn unit test's synthetic recordings, shared by its two files. */
#ifndef HVMMIO_TEST_REPLAY_LEARN_H
#define HVMMIO_TEST_REPLAY_LEARN_H

#include <stddef.h>
#include <stdint.h>

extern char *tmpdir;

/* One access of a synthetic recording: 'R' or 'W', BAR 0 offset, value (width 4). */
struct acc {
    char type;
    uint64_t off, value;
};

/* Write a recording of device nic0 (a PCIDEV header, then the accesses) with the trace writer. */
char *write_rec(const char *name, const struct acc *a, size_t n, const char *dev);

/* An R/W line of the annotated copy: type, time digits, BAR offset (4 hex digits in the
 * address, without leading zeros in off=), value, annotations. */
#define L(t, i, addr, off, v, facts)                                                               \
    t " 4 1.0000" i " 1 0xfeba" addr " " v " 0x0 0 dev=nic0 bar=0 off=0x" off facts "\n"

/* test-replay-learn-opt.c: /replay-learn/optional, /replay-learn/repeated */
void learn_add_opt_tests(void);

#endif
