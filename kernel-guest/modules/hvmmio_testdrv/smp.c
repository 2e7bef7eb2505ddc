// SPDX-License-Identifier: GPL-2.0-or-later
/* hvmmio_testdrv, seq=smp: every online CPU on the device at once (see testdrv_smp). */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/bitmap.h>
#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/io.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/module.h>
#include <linux/slab.h>

#include "testdrv.h"

static unsigned long smp_n = 1000;
module_param(smp_n, ulong, 0444);
MODULE_PARM_DESC(smp_n, "seq=smp: iterations per CPU in each phase");

static unsigned long smp_bench_n;
module_param(smp_bench_n, ulong, 0444);
MODULE_PARM_DESC(smp_bench_n, "seq=smp: timed e1000e STATUS reads per CPU (0: no bench phase)");

#define SMP_MAX_CPUS 64

static unsigned int smp_cpus;
module_param(smp_cpus, uint, 0444);
MODULE_PARM_DESC(smp_cpus, "seq=smp: CPUs that ran a thread");

static unsigned long smp_accesses[SMP_MAX_CPUS];
static int smp_accesses_n;
module_param_array(smp_accesses, ulong, &smp_accesses_n, 0444);
MODULE_PARM_DESC(smp_accesses, "seq=smp: test device BAR0 accesses made by each CPU's thread");

static unsigned long smp_e1000e_accesses[SMP_MAX_CPUS];
static int smp_e1000e_accesses_n;
module_param_array(smp_e1000e_accesses, ulong, &smp_e1000e_accesses_n, 0444);
MODULE_PARM_DESC(smp_e1000e_accesses, "seq=smp: e1000e BAR0 accesses made by each CPU's thread");

static unsigned long smp_bench_ps[SMP_MAX_CPUS];
static int smp_bench_ps_n;
module_param_array(smp_bench_ps, ulong, &smp_bench_ps_n, 0444);
MODULE_PARM_DESC(smp_bench_ps, "seq=smp: ps per e1000e read measured by each CPU's thread");

/*
 * seq=smp: one kernel thread bound to each online CPU, all hammering the device at once.
 * Every phase starts with a write of the phase number to MARKER (by this thread, while no
 * worker runs), so the host trace and the device's witness log show the phases, and a
 * mmiotrace/kernel-log marker. A value a worker writes carries its tag: CPU index k in the
 * top byte, the iteration below, so the device, the host trace and the checks can tell
 * whose access it was and in which order it came.
 *
 *   1 smp-distinct  each CPU its own 16 bytes of TAIL: writel/readl, writeq/readq, each
 *                   read must return what this CPU wrote
 *   2 smp-shared    all CPUs on SCRATCH32 (writel/readl), on one 8-byte word of SCRATCH
 *                   (writeq/readq: never torn) and reads of COUNTER: each CPU's values
 *                   strictly increase, and together they are exactly 0..total-1, each once
 *   3 smp-e1000e    if an e1000e (8086:10d3) is present, not bound to a driver: each CPU
 *                   its own descriptor base register (read back), all CPUs one shared one
 *   4 smp-bench     (smp_bench_n) each CPU times smp_bench_n reads of e1000e STATUS
 */
#define E1000E_VENDOR 0x8086
#define E1000E_DEVICE 0x10d3
#define E1000E_STATUS 0x00008
#define E1000E_TDBAL0 0x03800 /* shared by every CPU */
/* per-CPU registers: descriptor base address registers keep what is written (low 4 bits of
 * the ...BAL registers read as 0: the values written have them clear) */
static const u32 e1000e_own_regs[] = { 0x02800, 0x02804, 0x02900, 0x02904,
				       0x03804, 0x03900, 0x03904, 0x02808 };
#define SMP_PHASE_MARK(n) (0x534d5000 | (n)) /* "SMP" + phase number */

struct smp_worker {
	struct testdrv *td;
	void __iomem *e1k;
	unsigned int k, ncpu, cpu, phase;
	unsigned int checks, failures;
	unsigned long accesses, e1k_accesses, bench_ps;
	u32 *counts; /* phase 2: the COUNTER values this CPU read */
	struct completion done;
};

static void smp_check(struct smp_worker *w, const char *what, u64 got, u64 want)
{
	w->checks++;
	if (got == want)
		return;
	if (!w->failures++)
		pr_err("cpu %u: check failed: %s: got %#llx, expected %#llx\n", w->cpu, what,
		       got, want);
}

#define WCHECK(w, got, want) smp_check(w, #got, (u64)(got), (u64)(want))

static u32 smp_tag(struct smp_worker *w, unsigned long i)
{
	return (w->k << 24) | (i & 0xffffff);
}

static void smp_distinct(struct smp_worker *w)
{
	void __iomem *slot = w->td->bar0 + TAIL + 16 * w->k;
	unsigned long i;

	for (i = 0; i < smp_n; i++) {
		u32 t = smp_tag(w, i);
		u64 q = (u64)t << 32 | (u32)~t;

		writel(t, slot);
		WCHECK(w, readl(slot), t);
		writeq(q, slot + 8);
		WCHECK(w, readq(slot + 8), q);
		w->accesses += 4;
	}
}

static void smp_shared(struct smp_worker *w)
{
	void __iomem *bar0 = w->td->bar0;
	unsigned long i;

	for (i = 0; i < smp_n; i++) {
		u32 t = smp_tag(w, i), v;
		u64 q;

		writel(t, bar0 + REG_SCRATCH32);
		v = readl(bar0 + REG_SCRATCH32);
		WCHECK(w, v >> 24 < w->ncpu, 1); /* some CPU's tag */
		writeq((u64)t << 32 | (u32)~t, bar0 + SCRATCH);
		q = readq(bar0 + SCRATCH);
		WCHECK(w, (u32)(q >> 32) == (u32)~q, 1); /* one CPU's whole 8 bytes */
		w->counts[i] = readl(bar0 + REG_COUNTER);
		if (i)
			WCHECK(w, w->counts[i] > w->counts[i - 1], 1);
		w->accesses += 5;
	}
}

static void smp_e1000e(struct smp_worker *w)
{
	void __iomem *own = w->e1k + e1000e_own_regs[w->k % ARRAY_SIZE(e1000e_own_regs)];
	bool mine = w->k < ARRAY_SIZE(e1000e_own_regs);
	unsigned long i;

	for (i = 0; i < smp_n; i++) {
		u32 t = smp_tag(w, i) << 4 & 0xfffffff0;

		if (mine) {
			writel(t, own);
			WCHECK(w, readl(own), t);
			w->e1k_accesses += 2;
		}
		writel(t, w->e1k + E1000E_TDBAL0);
		WCHECK(w, readl(w->e1k + E1000E_TDBAL0) >> 28 < w->ncpu, 1);
		w->e1k_accesses += 2;
	}
}

static void smp_bench(struct smp_worker *w)
{
	void __iomem *reg = w->e1k + E1000E_STATUS;
	unsigned long i;
	u32 sum = 0;
	u64 t0;

	t0 = ktime_get_ns();
	for (i = 0; i < smp_bench_n; i++)
		sum += readl(reg);
	w->bench_ps = div64_u64((ktime_get_ns() - t0) * 1000, smp_bench_n);
	w->e1k_accesses += smp_bench_n;
	if (sum == 0xffffffff) /* keep the loop; STATUS never sums to that */
		pr_info("cpu %u: sum %#x\n", w->cpu, sum);
}

static int smp_thread(void *data)
{
	struct smp_worker *w = data;

	switch (w->phase) {
	case 1:
		smp_distinct(w);
		break;
	case 2:
		smp_shared(w);
		break;
	case 3:
		smp_e1000e(w);
		break;
	case 4:
		smp_bench(w);
		break;
	}
	kthread_complete_and_exit(&w->done, 0);
}

/* Run phase on every worker at once; false if a thread could not be started. */
static bool smp_phase(struct testdrv *td, struct smp_worker *ws, unsigned int ncpu, int phase,
		      const char *name)
{
	struct task_struct *tasks[SMP_MAX_CPUS];
	unsigned int k;

	testdrv_phase(phase, name);
	writel(SMP_PHASE_MARK(phase), td->bar0 + REG_MARKER);
	for (k = 0; k < ncpu; k++) {
		ws[k].phase = phase;
		init_completion(&ws[k].done);
		tasks[k] = kthread_create_on_cpu(smp_thread, &ws[k], ws[k].cpu, "hvmmio_smp/%u");
		if (IS_ERR(tasks[k])) {
			pci_err(td->pdev, "cannot start a thread on cpu %u\n", ws[k].cpu);
			while (k--)
				kthread_stop(tasks[k]);
			return false;
		}
	}
	for (k = 0; k < ncpu; k++)
		wake_up_process(tasks[k]);
	for (k = 0; k < ncpu; k++)
		wait_for_completion(&ws[k].done);
	return true;
}

/* Phase 2's COUNTER values: together exactly 0 .. total-1, each once. */
static void smp_check_counts(struct testdrv *td, struct smp_worker *ws, unsigned int ncpu)
{
	unsigned long total = ncpu * smp_n, i, seen = 0;
	unsigned long *bits = bitmap_zalloc(total, GFP_KERNEL);
	unsigned int k, bad = 0;

	if (!bits) {
		CHECK(td, bits != NULL, 1);
		return;
	}
	for (k = 0; k < ncpu; k++) {
		for (i = 0; i < smp_n; i++) {
			u32 v = ws[k].counts[i];

			if (v >= total || test_and_set_bit(v, bits))
				bad++;
			else
				seen++;
		}
	}
	CHECK(td, bad, 0);
	CHECK(td, seen, total);
	bitmap_free(bits);
}

void testdrv_smp(struct testdrv *td)
{
	unsigned int ncpu = 0, k, cpu;
	struct pci_dev *e1k_dev;
	void __iomem *e1k = NULL;
	struct smp_worker *ws;

	ws = kcalloc(SMP_MAX_CPUS, sizeof(*ws), GFP_KERNEL);
	if (!ws) {
		CHECK(td, ws != NULL, 1);
		return;
	}
	e1k_dev = pci_get_device(E1000E_VENDOR, E1000E_DEVICE, NULL);
	if (e1k_dev && !e1k_dev->driver && !pci_enable_device_mem(e1k_dev)) {
		e1k = pci_iomap(e1k_dev, 0, 0);
		if (!e1k)
			pci_disable_device(e1k_dev);
	}
	pr_info("smp: %u CPUs online, %s\n", num_online_cpus(),
		e1k ? "an e1000e to use" : "no free e1000e");
	for_each_online_cpu(cpu) {
		if (ncpu == SMP_MAX_CPUS)
			break;
		ws[ncpu] = (struct smp_worker){ .td = td, .e1k = e1k, .k = ncpu, .cpu = cpu };
		ws[ncpu].counts = kvmalloc_array(smp_n ?: 1, sizeof(u32), GFP_KERNEL);
		if (!ws[ncpu].counts)
			break;
		ncpu++;
	}
	for (k = 0; k < ncpu; k++)
		ws[k].ncpu = ncpu;

	writel(0, td->bar0 + REG_COUNTER);
	if (smp_phase(td, ws, ncpu, 1, "smp-distinct") &&
	    smp_phase(td, ws, ncpu, 2, "smp-shared")) {
		smp_check_counts(td, ws, ncpu);
		if (e1k)
			smp_phase(td, ws, ncpu, 3, "smp-e1000e");
		if (e1k && smp_bench_n)
			smp_phase(td, ws, ncpu, 4, "smp-bench");
	}
	testdrv_phase(5, "smp-end");
	writel(SMP_PHASE_MARK(5), td->bar0 + REG_MARKER);

	smp_cpus = ncpu;
	smp_accesses_n = smp_e1000e_accesses_n = smp_bench_ps_n = 0;
	for (k = 0; k < ncpu; k++) {
		td->checks += ws[k].checks;
		td->failures += ws[k].failures;
		smp_accesses[k] = ws[k].accesses;
		smp_e1000e_accesses[k] = ws[k].e1k_accesses;
		smp_bench_ps[k] = ws[k].bench_ps;
		pr_info("smp: cpu %u: %lu test device accesses, %lu e1000e accesses, %lu ps per e1000e read, %u of %u checks failed\n",
			ws[k].cpu, ws[k].accesses, ws[k].e1k_accesses, ws[k].bench_ps,
			ws[k].failures, ws[k].checks);
		kvfree(ws[k].counts);
	}
	smp_accesses_n = smp_e1000e_accesses_n = smp_bench_ps_n = ncpu;
	if (e1k) {
		pci_iounmap(e1k_dev, e1k);
		pci_disable_device(e1k_dev);
	}
	pci_dev_put(e1k_dev);
	kfree(ws);
}
