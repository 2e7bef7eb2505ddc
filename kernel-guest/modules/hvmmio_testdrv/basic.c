// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * hvmmio_testdrv, seq=basic and seq=all: accesses whose results docs/testdev.md fixes
 * exactly, each checked, in phases the host trace can be lined up with.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/io.h>
#include <linux/kernel.h>
#include <linux/string.h>

#include "testdrv.h"

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

/* seq=basic: phases 1, 2 and 6; seq=all (all): every phase. */
void testdrv_basic(struct testdrv *td, bool all)
{
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
}
