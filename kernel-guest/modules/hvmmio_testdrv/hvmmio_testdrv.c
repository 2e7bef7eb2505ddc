// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hvmmio_testdrv: guest driver for hvmmio's vfio-user test device (PCI 1234:4d4d).
 *
 * On probe it maps BAR0 and BAR2 and runs a sequence of accesses whose results the device's
 * contract (docs/testdev.md) fixes exactly, checking each one. Between phases it writes
 * mmiotrace markers (mmiotrace_printk), so the guest's mmiotrace log and the host's trace can
 * be lined up phase by phase.
 *
 * Parameters:
 *   seq=all|basic|bench   which sequence probe runs (default all)
 *   bench_n=N             accesses per direction for seq=bench (default 1000000)
 *   result                (read-only) -1 before a device was probed, else the number of
 *                         failed checks: 0 means PASS
 *   checks                (read-only) checks made
 *   bench_read_ns, bench_write_ns   (read-only) ns per access measured by seq=bench
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/mmiotrace.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/string.h>
#include <linux/trace.h>

#define TESTDEV_VENDOR 0x1234
#define TESTDEV_DEVICE 0x4d4d

/* BAR0 registers (docs/testdev.md) */
#define REG_ID 0x000
#define REG_INVERT 0x004
#define REG_SCRATCH32 0x008
#define REG_REG64 0x010
#define REG_COUNTER 0x020
#define REG_DOORBELL 0x024
#define REG_STATUS 0x028
#define REG_RESET 0x03c
#define SCRATCH 0x040
#define SCRATCH_SIZE 0x40
#define TAIL 0x800
#define BAR0_SIZE 0x1000
#define BAR2_SIZE 0x10000

#define ID_VALUE 0x4d4d0001
#define REG64_RESET 0x0123456789abcdefULL
#define RESET_MAGIC 0x52535421
#define STATUS_DONE BIT(0)
#define STATUS_BUSY BIT(1)
#define DOORBELL_POLLS 3
#define BAR2_PATTERN 0xb0000000

static char *seq = "all";
module_param(seq, charp, 0444);
MODULE_PARM_DESC(seq, "Sequence run at probe: all (default), basic or bench");

static unsigned long bench_n = 1000000;
module_param(bench_n, ulong, 0444);
MODULE_PARM_DESC(bench_n, "Reads, then writes, of SCRATCH32 timed by seq=bench");

static int result = -1;
module_param(result, int, 0444);
MODULE_PARM_DESC(result, "Failed checks of the last probe (0: PASS; -1: no device probed)");

static unsigned int checks;
module_param(checks, uint, 0444);
MODULE_PARM_DESC(checks, "Checks made by the last probe");

static unsigned long bench_read_ns, bench_write_ns;
module_param(bench_read_ns, ulong, 0444);
MODULE_PARM_DESC(bench_read_ns, "ns per 4-byte read measured by seq=bench");
module_param(bench_write_ns, ulong, 0444);
MODULE_PARM_DESC(bench_write_ns, "ns per 4-byte write measured by seq=bench");

struct testdrv {
	struct pci_dev *pdev;
	void __iomem *bar0;
	void __iomem *bar2;
	unsigned int checks;
	unsigned int failures;
};

static void testdrv_check(struct testdrv *td, const char *what, u64 got, u64 want)
{
	td->checks++;
	if (got == want)
		return;
	td->failures++;
	pci_err(td->pdev, "check failed: %s: got %#llx, expected %#llx\n", what, got, want);
}

/* what: the expression checked, so a failure names it */
#define CHECK(td, got, want) testdrv_check(td, #got, (u64)(got), (u64)(want))

static void testdrv_phase(int n, const char *name)
{
	mmiotrace_printk("hvmmio_testdrv: phase %d %s\n", n, name);
	pr_info("phase %d %s\n", n, name);
}

/* Phase 1: every width on SCRATCH and REG64, each write read back. */
static void testdrv_widths(struct testdrv *td)
{
	void __iomem *s = td->bar0 + SCRATCH;
	void __iomem *r64 = td->bar0 + REG_REG64;

	writeb(0x11, s + 0);
	CHECK(td, readb(s + 0), 0x11);
	writew(0x2233, s + 2);
	CHECK(td, readw(s + 2), 0x2233);
	writel(0x44556677, s + 4);
	CHECK(td, readl(s + 4), 0x44556677);
	writeq(0x8899aabbccddeeffULL, s + 8);
	CHECK(td, readq(s + 8), 0x8899aabbccddeeffULL);
	/* the same bytes seen at other widths: little-endian memory */
	CHECK(td, readl(s + 0), 0x22330011);
	CHECK(td, readq(s + 0), 0x4455667722330011ULL);
	CHECK(td, readb(s + 15), 0x88);
	CHECK(td, readw(s + 12), 0xaabb);
	writeq(0x0102030405060708ULL, s + SCRATCH_SIZE - 8);
	CHECK(td, readb(s + SCRATCH_SIZE - 1), 0x01);

	CHECK(td, readq(r64), REG64_RESET);
	CHECK(td, readl(r64), lower_32_bits(REG64_RESET));
	CHECK(td, readl(r64 + 4), upper_32_bits(REG64_RESET));
	writeq(0xfedcba9876543210ULL, r64);
	CHECK(td, readq(r64), 0xfedcba9876543210ULL);
	writel(0x11111111, r64 + 4);
	CHECK(td, readq(r64), 0x1111111176543210ULL);
	writel(0x22222222, r64);
	CHECK(td, readl(r64), 0x22222222);
	/* a width REG64 does not take reads 0 */
	CHECK(td, readb(r64), 0);

	writel(0xdeadbeef, td->bar0 + REG_SCRATCH32);
	CHECK(td, readl(td->bar0 + REG_SCRATCH32), 0xdeadbeef);
}

/* Phase 2: ID is constant, INVERT returns the complement of what was written. */
static void testdrv_id_invert(struct testdrv *td)
{
	CHECK(td, readl(td->bar0 + REG_ID), ID_VALUE);
	writel(0x12345678, td->bar0 + REG_ID);
	CHECK(td, readl(td->bar0 + REG_ID), ID_VALUE);
	CHECK(td, readl(td->bar0 + REG_INVERT), 0xffffffff);
	writel(0x12345678, td->bar0 + REG_INVERT);
	CHECK(td, readl(td->bar0 + REG_INVERT), 0xedcba987);
	writel(0xffffffff, td->bar0 + REG_INVERT);
	CHECK(td, readl(td->bar0 + REG_INVERT), 0);
}

/* Phase 3: COUNTER reads return consecutive values. */
static void testdrv_counter(struct testdrv *td)
{
	u32 first = readl(td->bar0 + REG_COUNTER);
	int i;

	CHECK(td, first, 0); /* the device was reset at the start */
	for (i = 1; i < 16; i++)
		CHECK(td, readl(td->bar0 + REG_COUNTER), first + i);
	writel(1000, td->bar0 + REG_COUNTER);
	CHECK(td, readl(td->bar0 + REG_COUNTER), 1000);
	CHECK(td, readl(td->bar0 + REG_COUNTER), 1001);
}

/* Phase 4: a doorbell job: STATUS shows DONE again on exactly the 3rd poll. */
static void testdrv_polling(struct testdrv *td)
{
	unsigned int polls = 0;
	u32 first = 0, status;

	CHECK(td, readl(td->bar0 + REG_STATUS), STATUS_DONE);
	writel(1, td->bar0 + REG_DOORBELL);
	do {
		status = readl(td->bar0 + REG_STATUS);
		if (!polls++)
			first = status;
	} while (!(status & STATUS_DONE) && polls < 100);
	CHECK(td, first, STATUS_BUSY);
	CHECK(td, polls, DOORBELL_POLLS);
	CHECK(td, status, STATUS_DONE);
}

/*
 * Phase 5: string accesses. The guest's mmiotrace cannot decode rep movs (memcpy_toio,
 * memcpy_fromio) and logs them as UNKNOWN; the host sees every access.
 */
static void testdrv_strings(struct testdrv *td)
{
	u8 out[SCRATCH_SIZE], in[SCRATCH_SIZE];
	u32 words[8], vals[4] = { 0xa0a0a0a0, 0xb1b1b1b1, 0xc2c2c2c2, 0xd3d3d3d3 };
	int i, mismatch = -1;

	for (i = 0; i < SCRATCH_SIZE; i++)
		out[i] = 0x40 + i;
	memcpy_toio(td->bar0 + SCRATCH, out, sizeof(out));
	memset(in, 0, sizeof(in));
	memcpy_fromio(in, td->bar0 + SCRATCH, sizeof(in));
	for (i = 0; i < SCRATCH_SIZE && mismatch < 0; i++)
		if (in[i] != out[i])
			mismatch = i;
	CHECK(td, mismatch, -1);
	CHECK(td, readl(td->bar0 + SCRATCH), 0x43424140);

	writel(0, td->bar0 + REG_COUNTER);
	ioread32_rep(td->bar0 + REG_COUNTER, words, ARRAY_SIZE(words));
	for (i = 0; i < ARRAY_SIZE(words); i++)
		CHECK(td, words[i], i);
	iowrite32_rep(td->bar0 + REG_SCRATCH32, vals, ARRAY_SIZE(vals));
	CHECK(td, readl(td->bar0 + REG_SCRATCH32), vals[ARRAY_SIZE(vals) - 1]);
}

/* Phase 6: the first and last bytes of each BAR. */
static void testdrv_edges(struct testdrv *td)
{
	void __iomem *end0 = td->bar0 + BAR0_SIZE;
	void __iomem *end2 = td->bar2 + BAR2_SIZE;

	CHECK(td, readl(td->bar0), ID_VALUE);
	CHECK(td, readl(end0 - 4), 0);
	writel(0xcafef00d, end0 - 4);
	CHECK(td, readl(end0 - 4), 0xcafef00d);
	writeb(0x5a, end0 - 1);
	CHECK(td, readb(end0 - 1), 0x5a);
	CHECK(td, readl(end0 - 4), 0x5afef00d);
	CHECK(td, readw(end0 - 2), 0x5afe);
	CHECK(td, readq(end0 - 8), 0x5afef00d00000000ULL);

	CHECK(td, readl(td->bar2), BAR2_PATTERN);
	CHECK(td, readb(td->bar2 + 3), BAR2_PATTERN >> 24);
	CHECK(td, readl(end2 - 4), BAR2_PATTERN | (BAR2_SIZE - 4));
	writel(0x600dcafe, end2 - 4);
	CHECK(td, readl(end2 - 4), 0x600dcafe);
	CHECK(td, readb(end2 - 1), 0x60);
}

/* Phase 7: BAR2, memory the host may leave untrapped: the pattern, then read-after-write. */
static void testdrv_bar2(struct testdrv *td)
{
	u32 off;

	for (off = 0; off < BAR2_SIZE - 4; off += 0x1000)
		CHECK(td, readl(td->bar2 + off), BAR2_PATTERN | off);
	CHECK(td, readq(td->bar2 + 0x2008), ((u64)(BAR2_PATTERN | 0x200c) << 32) |
					     (BAR2_PATTERN | 0x2008));
	for (off = 0x100; off < 0x140; off += 8)
		writeq(0x1000000000000000ULL * (off >> 3 & 0xf) + off, td->bar2 + off);
	for (off = 0x100; off < 0x140; off += 8)
		CHECK(td, readq(td->bar2 + off), 0x1000000000000000ULL * (off >> 3 & 0xf) + off);
	writew(0xbeef, td->bar2 + 0x202);
	CHECK(td, readl(td->bar2 + 0x200), 0xbeef0200);
}

/* seq=bench: timed 4-byte reads, then writes, of SCRATCH32. */
static void testdrv_bench(struct testdrv *td)
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

static int testdrv_run(struct testdrv *td)
{
	bool all = !strcmp(seq, "all");

	if (!all && strcmp(seq, "basic") && strcmp(seq, "bench")) {
		pci_err(td->pdev, "unknown seq=%s (all, basic or bench)\n", seq);
		return -EINVAL;
	}
	testdrv_phase(0, "reset");
	writel(RESET_MAGIC, td->bar0 + REG_RESET);
	if (!strcmp(seq, "bench")) {
		testdrv_bench(td);
		return 0;
	}
	testdrv_phase(1, "widths");
	testdrv_widths(td);
	testdrv_phase(2, "id-invert");
	testdrv_id_invert(td);
	if (all) {
		testdrv_phase(3, "counter");
		testdrv_counter(td);
		testdrv_phase(4, "polling");
		testdrv_polling(td);
		testdrv_phase(5, "strings");
		testdrv_strings(td);
	}
	testdrv_phase(6, "edges");
	testdrv_edges(td);
	if (all) {
		testdrv_phase(7, "bar2");
		testdrv_bar2(td);
	}
	return 0;
}

static int testdrv_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	struct testdrv *td;
	int err;

	td = kzalloc(sizeof(*td), GFP_KERNEL);
	if (!td)
		return -ENOMEM;
	td->pdev = pdev;

	err = pci_enable_device_mem(pdev);
	if (err)
		goto err_free;
	err = pci_request_regions(pdev, KBUILD_MODNAME);
	if (err)
		goto err_disable;
	if (pci_resource_len(pdev, 0) < BAR0_SIZE || pci_resource_len(pdev, 2) < BAR2_SIZE) {
		pci_err(pdev, "BAR0 or BAR2 is smaller than docs/testdev.md says\n");
		err = -ENODEV;
		goto err_release;
	}
	td->bar0 = pci_iomap(pdev, 0, 0);
	td->bar2 = pci_iomap(pdev, 2, 0);
	if (!td->bar0 || !td->bar2) {
		err = -ENOMEM;
		goto err_unmap;
	}
	pci_set_drvdata(pdev, td);

	err = testdrv_run(td);
	if (err)
		goto err_unmap;
	checks = td->checks;
	result = td->failures;
	if (td->failures)
		pr_info("FAIL %u checks (of %u, seq=%s)\n", td->failures, td->checks, seq);
	else
		pr_info("PASS (%u checks, seq=%s)\n", td->checks, seq);
	mmiotrace_printk("hvmmio_testdrv: done %s\n", td->failures ? "FAIL" : "PASS");
	return 0;

err_unmap:
	if (td->bar2)
		pci_iounmap(pdev, td->bar2);
	if (td->bar0)
		pci_iounmap(pdev, td->bar0);
err_release:
	pci_release_regions(pdev);
err_disable:
	pci_disable_device(pdev);
err_free:
	kfree(td);
	return err;
}

static void testdrv_remove(struct pci_dev *pdev)
{
	struct testdrv *td = pci_get_drvdata(pdev);

	pci_iounmap(pdev, td->bar2);
	pci_iounmap(pdev, td->bar0);
	pci_release_regions(pdev);
	pci_disable_device(pdev);
	kfree(td);
}

static const struct pci_device_id testdrv_ids[] = {
	{ PCI_DEVICE(TESTDEV_VENDOR, TESTDEV_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, testdrv_ids);

static struct pci_driver testdrv_driver = {
	.name = KBUILD_MODNAME,
	.id_table = testdrv_ids,
	.probe = testdrv_probe,
	.remove = testdrv_remove,
};

/*
 * mmiotrace_printk() writes through the trace_printk buffers, which the kernel allocates only
 * once something uses trace_printk; until then markers vanish silently. A trace instance may
 * ask for those buffers (trace_array_init_printk); they stay after the instance is gone.
 */
static void testdrv_enable_markers(void)
{
	struct trace_array *tr = trace_array_get_by_name(KBUILD_MODNAME);

	if (!tr) {
		pr_warn("no trace instance: mmiotrace markers will be missing\n");
		return;
	}
	if (trace_array_init_printk(tr))
		pr_warn("no trace_printk buffers: mmiotrace markers will be missing\n");
	trace_array_put(tr);
	trace_array_destroy(tr);
}

static int __init testdrv_init(void)
{
	testdrv_enable_markers();
	return pci_register_driver(&testdrv_driver);
}
module_init(testdrv_init);

static void __exit testdrv_exit(void)
{
	pci_unregister_driver(&testdrv_driver);
}
module_exit(testdrv_exit);

MODULE_DESCRIPTION("Checks hvmmio's vfio-user test device (1234:4d4d) register by register");
MODULE_LICENSE("GPL");
