// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hvmmio_fuzztarget: a TEST-ONLY guest driver for hvmmio's test device (PCI 1234:4d4d,
 * docs/testdev.md) with a deliberately planted bug, the target of `hvmmio replay --fuzz`
 * in its CI test (tests/integration/fuzz-driver.sh, docs/replay-fuzz.md). Never load it
 * anywhere else.
 *
 * Probe, on BAR0:
 *   1. reset the device (RESET);
 *   2. read ID and refuse a device whose upper half is not 0x4d4d (a checked read);
 *   3. write SCRATCH32 and read it back (checked);
 *   4. ring DOORBELL and poll STATUS until DONE (bounded; a timeout fails the probe);
 *   5. read COUNTER as the device's "operating mode" and look the mode up in a table of
 *      two modes WITHOUT checking the value (THE PLANTED BUG: the recorded value is 0; any
 *      other value but 1 indexes past the table and the pointer found there is
 *      dereferenced);
 *   6. write the mode's FIFO depth to MARKER and read INVERT (checked).
 * The result is in the read-only parameter `result`: -1 before a probe, 0 if the probe
 * passed, else the (positive) errno of the failed step.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/pci.h>

#include "testdev-regs.h"

#define FT_SCRATCH_PATTERN 0x5a5a1234u
#define FT_POLL_MAX 1000

static int result = -1;
module_param(result, int, 0444);
MODULE_PARM_DESC(result,
		 "-1: no device probed; 0: the probe passed; else the errno of the failed step");

struct ft_mode {
	const char *name;
	u32 fifo_depth;
};

static const struct ft_mode ft_mode_fifo = { .name = "fifo", .fifo_depth = 16 };
static const struct ft_mode ft_mode_ring = { .name = "ring", .fifo_depth = 64 };

/* indexed by COUNTER's value: 0 or 1 on a working device */
static const struct ft_mode *const ft_modes[2] = { &ft_mode_fifo, &ft_mode_ring };

static int ft_wait_done(void __iomem *bar0)
{
	int i;

	for (i = 0; i < FT_POLL_MAX; i++) {
		if (readl(bar0 + REG_STATUS) & STATUS_DONE)
			return 0;
		udelay(10);
	}
	return -ETIMEDOUT;
}

static int ft_bring_up(struct pci_dev *pdev, void __iomem *bar0)
{
	const struct ft_mode *mode;
	u32 id, val, idx;
	int err;

	writel(RESET_MAGIC, bar0 + REG_RESET);
	id = readl(bar0 + REG_ID);
	if (id >> 16 != ID_VALUE >> 16) {
		pci_err(pdev, "unknown device id %#x\n", id);
		return -ENODEV;
	}
	writel(FT_SCRATCH_PATTERN, bar0 + REG_SCRATCH32);
	val = readl(bar0 + REG_SCRATCH32);
	if (val != FT_SCRATCH_PATTERN) {
		pci_err(pdev, "SCRATCH32 reads %#x, wrote %#x\n", val, FT_SCRATCH_PATTERN);
		return -EIO;
	}
	writel(1, bar0 + REG_DOORBELL);
	err = ft_wait_done(bar0);
	if (err) {
		pci_err(pdev, "the job did not complete\n");
		return err;
	}
	/* THE PLANTED BUG: idx is not checked against ARRAY_SIZE(ft_modes) */
	idx = readl(bar0 + REG_COUNTER);
	mode = ft_modes[idx];
	writel(mode->fifo_depth, bar0 + REG_MARKER);
	val = readl(bar0 + REG_INVERT);
	if (val != 0xffffffff) {
		pci_err(pdev, "INVERT reads %#x after reset\n", val);
		return -EIO;
	}
	pci_info(pdev, "mode %s, FIFO depth %u\n", mode->name, mode->fifo_depth);
	return 0;
}

static int ft_probe(struct pci_dev *pdev, const struct pci_device_id *id)
{
	void __iomem *bar0;
	int err;

	err = pci_enable_device_mem(pdev);
	if (err)
		return err;
	err = pci_request_region(pdev, 0, KBUILD_MODNAME);
	if (err)
		goto err_disable;
	bar0 = pci_iomap(pdev, 0, BAR0_SIZE);
	if (!bar0) {
		err = -ENOMEM;
		goto err_release;
	}
	err = ft_bring_up(pdev, bar0);
	result = -err;
	if (err)
		goto err_unmap;
	pci_set_drvdata(pdev, bar0);
	return 0;

err_unmap:
	pci_iounmap(pdev, bar0);
err_release:
	pci_release_region(pdev, 0);
err_disable:
	pci_disable_device(pdev);
	return err;
}

static void ft_remove(struct pci_dev *pdev)
{
	pci_iounmap(pdev, pci_get_drvdata(pdev));
	pci_release_region(pdev, 0);
	pci_disable_device(pdev);
}

static const struct pci_device_id ft_ids[] = {
	{ PCI_DEVICE(TESTDEV_VENDOR, TESTDEV_DEVICE) },
	{ }
};
MODULE_DEVICE_TABLE(pci, ft_ids);

static struct pci_driver ft_driver = {
	.name = KBUILD_MODNAME,
	.id_table = ft_ids,
	.probe = ft_probe,
	.remove = ft_remove,
};
module_pci_driver(ft_driver);

MODULE_DESCRIPTION("TEST ONLY: hvmmio's test device with a planted bug (a fuzzing target)");
MODULE_LICENSE("GPL");
