/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio_testdrv's parts: main.c the module (parameters, probe, the checks), basic.c the
 * checked sequences seq=basic and seq=all, bench.c seq=bench, smp.c seq=smp.
 */
#ifndef HVMMIO_TESTDRV_H
#define HVMMIO_TESTDRV_H

#include <linux/pci.h>
#include <linux/types.h>

/* the device's register map, shared with the server (tools/testdev-regs.h) */
#include "testdev-regs.h"

#define SCRATCH SCRATCH_START
#define TAIL TAIL_START

struct testdrv {
	struct pci_dev *pdev;
	void __iomem *bar0;
	void __iomem *bar2;
	unsigned int checks;
	unsigned int failures;
};

void testdrv_check(struct testdrv *td, const char *what, u64 got, u64 want);

/* what: the expression checked, so a failure names it */
#define CHECK(td, got, want) testdrv_check(td, #got, (u64)(got), (u64)(want))

/* a phase marker in the guest's mmiotrace log and the kernel log */
void testdrv_phase(int n, const char *name);

void testdrv_basic(struct testdrv *td, bool all);
void testdrv_bench(struct testdrv *td);
void testdrv_smp(struct testdrv *td);

#endif
