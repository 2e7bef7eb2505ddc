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
#ifdef CONFIG_LINUX
#include <sys/syscall.h>
#include <linux/membarrier.h>
#endif
#include "file-int.h"

bool mmiotrace_stamp_tsc;
double mmiotrace_stamp_ns_per_tick = 1.0;
uint64_t mmiotrace_wake_latency_stamps = WAKE_LATENCY_NS;
bool mmiotrace_stamp_asymmetric;

/* Can the writer make every thread of the process execute a barrier? */
static void stamp_barrier_init(void)
{
#if defined(CONFIG_LINUX) && defined(__NR_membarrier)
    long cmds = syscall(__NR_membarrier, MEMBARRIER_CMD_QUERY, 0, 0);

    if (cmds > 0 && (cmds & MEMBARRIER_CMD_PRIVATE_EXPEDITED) &&
        syscall(__NR_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0) {
        mmiotrace_stamp_asymmetric = true;
    }
#endif
}

/*
 * The writer's side of mmiotrace_stamp_after_stores: once this returns, every store a
 * producer made before its stamp is visible, or the producer takes its stamp after
 * this began (an interrupt separates the two: what the CPU had not retired runs again
 * after it). A thread that was not running passed a context switch, a full barrier.
 */
void mmiotrace_stamp_barrier_global(void)
{
#if defined(CONFIG_LINUX) && defined(__NR_membarrier)
    if (mmiotrace_stamp_asymmetric &&
        syscall(__NR_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0) != 0) {
        /*
         * Not seen once registered. Should it happen, producers fence from now on; one
         * that is between its claim and its stamp is a few instructions from done.
         */
        qatomic_set(&mmiotrace_stamp_asymmetric, false);
        smp_mb();   /* the switch is visible before the claims are read below */
        g_usleep(1000);
    }
#endif
    smp_mb();   /* the caller's stamp was taken before the loads that follow */
}

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
    stamp_barrier_init();
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
    if (!done) {
        done = true;
        stamp_barrier_init();
    }
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
