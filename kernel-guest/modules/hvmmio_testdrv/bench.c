// SPDX-License-Identifier: GPL-2.0-or-later
/* hvmmio_testdrv, seq=bench: the cost of a traced access, as the guest sees it. */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>

#include "testdrv.h"

static unsigned long bench_n = 1000000;
module_param(bench_n, ulong, 0444);
MODULE_PARM_DESC(bench_n, "Reads, then writes, of SCRATCH32 timed by seq=bench");

static unsigned long bench_read_ns, bench_write_ns;
module_param(bench_read_ns, ulong, 0444);
MODULE_PARM_DESC(bench_read_ns, "ns per 4-byte read measured by seq=bench");
module_param(bench_write_ns, ulong, 0444);
MODULE_PARM_DESC(bench_write_ns, "ns per 4-byte write measured by seq=bench");

/* seq=bench: timed 4-byte reads, then writes, of SCRATCH32. */
void testdrv_bench(struct testdrv *td)
{
	void __iomem *reg = td->bar0 + REG_SCRATCH32;
	unsigned long i;
	u64 t0, t1, t2;
	u32 sum = 0;

	if (!bench_n)
		return;
	testdrv_phase(1, "bench-read");
	t0 = ktime_get_ns();
	for (i = 0; i < bench_n; i++)
		sum += readl(reg);
	t1 = ktime_get_ns();
	testdrv_phase(2, "bench-write");
	for (i = 0; i < bench_n; i++)
		writel(i, reg);
	/* posted writes: one read makes sure they all reached the device */
	CHECK(td, readl(reg), (u32)(bench_n - 1));
	t2 = ktime_get_ns();
	bench_read_ns = div64_u64(t1 - t0, bench_n);
	bench_write_ns = div64_u64(t2 - t1, bench_n);
	pr_info("bench: %lu reads %lu ns each, %lu writes %lu ns each (sum %#x)\n", bench_n,
		bench_read_ns, bench_n, bench_write_ns, sum);
}
