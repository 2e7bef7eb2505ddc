/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Generated guest and host logs of the same N accesses, for the throughput figures of
 * `hvmmio bench` and the scale test of `hvmmio compare` (tests/compare/compare-scale.c).
 */
#ifndef HVMMIO_TRACE_GEN_H
#define HVMMIO_TRACE_GEN_H

#include <stdbool.h>
#include <stdint.h>

#define TRACE_GEN_BASE 0xfe000000ull /* the BAR the accesses go to */
#define TRACE_GEN_PRE 1000           /* with extras: host accesses before and after the guest's */

/*
 * Write one log to path (opened for writing: typically a FIFO) and _exit: 0 when done or when
 * the reader went away, 3 on an error. host: the host's view (extended lines with PC and
 * vCPU) instead of the guest kernel's. extras: what a real pair has besides the shared
 * accesses: the host log starts earlier and ends later than the guest's, has accesses outside
 * the guest's mapping and by QEMU itself (vcpu=none), and every 10000th guest access is an
 * UNKNOWN rep movsl that the host saw as 8 writes with one PC.
 */
void trace_gen_write(const char *path, bool host, uint64_t n, bool extras)
    __attribute__((noreturn));

#endif
