// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hvmmio_bench: time 4-byte MMIO reads and writes of one register of any PCI device.
 *
 * It does not bind as a driver: at load it finds the device with pci_get_device, enables
 * it, maps the BAR with pci_iomap, times n readl of roff and then n writel of wval to woff
 * with ktime_get_ns, and releases everything. The results stay readable as parameters until
 * the module is removed (docs/benchmarks.md; kernel-guest/scenarios/bench.sh uses it).
 *
 * Parameters:
 *   vendor=, device=     the PCI IDs (the first match is used)
 *   bar=                 the memory BAR (default 0)
 *   roff=, woff=         offsets of the register read and of the one written
 *   wval=                the value written (default 0)
 *   n=                   reads, and writes, to time (default 1000000)
 * Results (read-only):
 *   read_ns, write_ns    ns per access, as measured (in ps: read_ps, write_ps)
 *   accesses             BAR accesses made (2n + 1: the writes end with one read of roff,
 *                        which orders posted writes before the clock is read)
 *   result               0, or the negative errno of the failure
 */
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/ktime.h>
#include <linux/sched.h>

static uint vendor, device, wval;
static int bar;
static ulong roff, woff, n = 1000000;
static ulong read_ns, write_ns, read_ps, write_ps, accesses;
static int result = -ENODEV;

module_param(vendor, uint, 0444);
MODULE_PARM_DESC(vendor, "PCI vendor ID of the device");
module_param(device, uint, 0444);
MODULE_PARM_DESC(device, "PCI device ID of the device");
module_param(bar, int, 0444);
MODULE_PARM_DESC(bar, "Memory BAR to access (default 0)");
module_param(roff, ulong, 0444);
MODULE_PARM_DESC(roff, "Offset of the register read");
module_param(woff, ulong, 0444);
MODULE_PARM_DESC(woff, "Offset of the register written");
module_param(wval, uint, 0444);
MODULE_PARM_DESC(wval, "Value written");
module_param(n, ulong, 0444);
MODULE_PARM_DESC(n, "Reads, and writes, to time (default 1000000)");
module_param(read_ns, ulong, 0444);
MODULE_PARM_DESC(read_ns, "(result) ns per 4-byte read");
module_param(write_ns, ulong, 0444);
MODULE_PARM_DESC(write_ns, "(result) ns per 4-byte write");
module_param(read_ps, ulong, 0444);
MODULE_PARM_DESC(read_ps, "(result) ps per 4-byte read");
module_param(write_ps, ulong, 0444);
MODULE_PARM_DESC(write_ps, "(result) ps per 4-byte write");
module_param(accesses, ulong, 0444);
MODULE_PARM_DESC(accesses, "(result) BAR accesses made");
module_param(result, int, 0444);
MODULE_PARM_DESC(result, "(result) 0, or the negative errno of the failure");

#define CHUNK 4096 /* accesses between two chances to reschedule */

static u32 bench_reads(void __iomem *r, ulong count)
{
	ulong i, j, m;
	u32 sum = 0;

	for (i = 0; i < count; i += m) {
		m = min_t(ulong, CHUNK, count - i);
		for (j = 0; j < m; j++)
			sum += readl(r);
		cond_resched();
	}
	return sum;
}

static void bench_writes(void __iomem *w, ulong count, u32 val)
{
	ulong i, j, m;

	for (i = 0; i < count; i += m) {
		m = min_t(ulong, CHUNK, count - i);
		for (j = 0; j < m; j++)
			writel(val, w);
		cond_resched();
	}
}

static int __init hvmmio_bench_init(void)
{
	struct pci_dev *pdev;
	void __iomem *base;
	resource_size_t len;
	u64 t0, t1, t2;
	u32 sum;
	int ret;

	if (!n || bar < 0 || bar >= PCI_STD_NUM_BARS) {
		result = -EINVAL;
		return 0;
	}
	pdev = pci_get_device(vendor, device, NULL);
	if (!pdev) {
		pr_err("hvmmio_bench: no PCI device %04x:%04x\n", vendor, device);
		return 0;
	}
	len = pci_resource_len(pdev, bar);
	if (!(pci_resource_flags(pdev, bar) & IORESOURCE_MEM) || roff + 4 > len ||
	    woff + 4 > len) {
		pci_err(pdev, "hvmmio_bench: BAR%d is not a memory BAR of more than %#lx bytes\n",
			bar, max(roff, woff) + 3);
		result = -EINVAL;
		goto put;
	}
	ret = pci_enable_device(pdev);
	if (ret) {
		result = ret;
		goto put;
	}
	base = pci_iomap(pdev, bar, 0);
	if (!base) {
		result = -ENOMEM;
		goto disable;
	}

	t0 = ktime_get_ns();
	sum = bench_reads(base + roff, n);
	t1 = ktime_get_ns();
	bench_writes(base + woff, n, wval);
	/* posted writes: one read makes sure they all reached the device */
	sum += readl(base + roff);
	t2 = ktime_get_ns();

	accesses = 2 * n + 1;
	read_ps = div64_u64((t1 - t0) * 1000, n);
	write_ps = div64_u64((t2 - t1) * 1000, n);
	read_ns = read_ps / 1000;
	write_ns = write_ps / 1000;
	result = 0;
	pci_info(pdev, "hvmmio_bench: BAR%d: %lu reads of %#lx %lu ns each, %lu writes of %#lx %lu ns each (sum %#x)\n",
		 bar, n, roff, read_ns, n, woff, write_ns, sum);
	pci_iounmap(pdev, base);
disable:
	pci_disable_device(pdev);
put:
	pci_dev_put(pdev);
	return 0;
}

static void __exit hvmmio_bench_exit(void)
{
}

module_init(hvmmio_bench_init);
module_exit(hvmmio_bench_exit);
MODULE_DESCRIPTION("hvmmio: timed MMIO reads and writes of one register of a PCI device");
MODULE_LICENSE("GPL");
