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

#include <linux/bitmap.h>
#include <linux/cpumask.h>
#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/mmiotrace.h>
#include <linux/module.h>
#include <linux/pci.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/trace.h>

/* the device's register map, shared with the server (tools/testdev-regs.h) */
#include "testdev-regs.h"

#define SCRATCH SCRATCH_START
#define TAIL TAIL_START

static char *seq = "all";
module_param(seq, charp, 0444);
MODULE_PARM_DESC(seq, "Sequence run at probe: all (default), basic, bench or smp");

static unsigned long bench_n = 1000000;
module_param(bench_n, ulong, 0444);
MODULE_PARM_DESC(bench_n, "Reads, then writes, of SCRATCH32 timed by seq=bench");

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

static void testdrv_smp(struct testdrv *td)
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
