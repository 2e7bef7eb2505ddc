// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hvmmio_testdrv: guest driver for hvmmio's vfio-user test device (PCI 1234:4d4d). This file
 * is the module (parameters, probe, the checks); testdrv.h lists the other parts.
 *
 * On probe it maps BAR0 and BAR2 and runs a sequence of accesses whose results the device's
 * contract (docs/testdev.md) fixes exactly, checking each one. Between phases it writes
 * mmiotrace markers (mmiotrace_printk), so the guest's mmiotrace log and the host's trace can
 * be lined up phase by phase.
 *
 * Parameters:
 *   seq=all|basic|bench|smp   which sequence probe runs (default all)
 *   bench_n=N             accesses per direction for seq=bench (default 1000000)
 *   smp_n=N               seq=smp: iterations per CPU and phase (default 1000)
 *   smp_bench_n=N         seq=smp: timed e1000e reads per CPU in the last phase (default 0)
 *   smp_cpus, smp_accesses, smp_e1000e_accesses, smp_bench_ps   (read-only) seq=smp's
 *                         results; see testdrv_smp()
 *   result                (read-only) -1 before a device was probed, else the number of
 *                         failed checks: 0 means PASS
 *   checks                (read-only) checks made
 *   bench_read_ns, bench_write_ns   (read-only) ns per access measured by seq=bench
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/mmiotrace.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/trace.h>

#include "testdrv.h"

static char *seq = "all";
module_param(seq, charp, 0444);
MODULE_PARM_DESC(seq, "Sequence run at probe: all (default), basic, bench or smp");

static int result = -1;
module_param(result, int, 0444);
MODULE_PARM_DESC(result, "Failed checks of the last probe (0: PASS; -1: no device probed)");

static unsigned int checks;
module_param(checks, uint, 0444);
MODULE_PARM_DESC(checks, "Checks made by the last probe");

void testdrv_check(struct testdrv *td, const char *what, u64 got, u64 want)
{
	td->checks++;
	if (got == want)
		return;
	td->failures++;
	pci_err(td->pdev, "check failed: %s: got %#llx, expected %#llx\n", what, got, want);
}

void testdrv_phase(int n, const char *name)
{
	mmiotrace_printk("hvmmio_testdrv: phase %d %s\n", n, name);
	pr_info("phase %d %s\n", n, name);
}

static int testdrv_run(struct testdrv *td)
{
	bool all = !strcmp(seq, "all");

	if (!all && strcmp(seq, "basic") && strcmp(seq, "bench") && strcmp(seq, "smp")) {
		pci_err(td->pdev, "unknown seq=%s (all, basic, bench or smp)\n", seq);
		return -EINVAL;
	}
	testdrv_phase(0, "reset");
	writel(RESET_MAGIC, td->bar0 + REG_RESET);
	if (!strcmp(seq, "bench")) {
		testdrv_bench(td);
		return 0;
	}
	if (!strcmp(seq, "smp")) {
		testdrv_smp(td);
		return 0;
	}
	testdrv_basic(td, all);
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
