/*
 * hvmmio: time stamps. Taking the time is on every traced access: with an invariant TSC
 * the vCPU reads it and the writer converts it to nanoseconds since the file was opened
 * (see STAMP_CALIBRATE_NS in file-int.h); without one, stamps are CLOCK_MONOTONIC ns.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif
#include "file-int.h"

bool mmiotrace_stamp_tsc;
double mmiotrace_stamp_ns_per_tick = 1.0;
uint64_t mmiotrace_wake_latency_stamps = WAKE_LATENCY_NS;

/* Once per process: is the TSC usable, and at what rate? */
void mmiotrace_stamp_init(void)
{
    static bool done;
#if defined(__x86_64__) || defined(__i386__)
    unsigned a, b, c, d;

    if (done) {
        return;
    }
    done = true;
    /* CPUID 0x80000007 EDX bit 8: the TSC runs at a constant rate in every state */
    if (!__get_cpuid(0x80000007, &a, &b, &c, &d) || !(d & (1u << 8))) {
        return;
    }
    uint64_t n0 = get_clock(), s0 = cpu_get_host_ticks(), n1, s1;
    do {
        n1 = get_clock();
        s1 = cpu_get_host_ticks();
    } while (n1 - n0 < STAMP_CALIBRATE_NS);
    if (s1 <= s0) {
        return;
    }
    mmiotrace_stamp_ns_per_tick = (double)(n1 - n0) / (double)(s1 - s0);
    mmiotrace_wake_latency_stamps = WAKE_LATENCY_NS / mmiotrace_stamp_ns_per_tick;
    mmiotrace_stamp_tsc = true;
#else
    done = true;
#endif
}

uint64_t mmiotrace_stamp_to_ns(MmioTraceFile *f, uint64_t stamp)
{
    double ns = f->seg_ns + (double)(int64_t)(stamp - f->seg_stamp) * f->ns_per_stamp;
    return ns > 0 ? (uint64_t)ns : 0;
}

/* Writer: correct the rate against the long baseline since open, without a jump. */
void mmiotrace_stamp_refine(MmioTraceFile *f)
{
    uint64_t now = get_clock();

    if (!mmiotrace_stamp_tsc || now - f->refined_ns < STAMP_REFINE_NS) {
        return;
    }
    uint64_t s1 = cpu_get_host_ticks();
    uint64_t n = get_clock();
    uint64_t s2 = cpu_get_host_ticks();
    uint64_t s = s1 + (s2 - s1) / 2;

    f->refined_ns = now;
    f->seg_ns = mmiotrace_stamp_to_ns(f, s);
    f->seg_stamp = s;
    f->ns_per_stamp = (double)(n - f->ns0) / (double)(s - f->stamp0);
}
