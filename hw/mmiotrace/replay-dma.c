/*
 * hvmmio: mmiotrace-replay performs the recorded device's DMA (DMA records of a
 * recording made with mmiotrace-dma=on), relocated to the addresses the driver gave in
 * this run.
 *
 * When the replay reaches a DMA record it is performed through the replay device's own
 * bus-master address space: a TO record (the device read guest memory) is read at the
 * relocated address and its bytes compared with the recorded ones; a FROM record (the
 * device wrote guest memory: descriptor write-backs, received data) writes the recorded
 * bytes at the relocated address.
 *
 * Relocations map a recorded address to this run's, with the difference applied to the
 * RELOC_SPAN bytes from it (the nearest relocation below an address wins). They are
 * learned from values the driver gives the device that are recorded DMA addresses
 * (their page is the page of some DMA record of the recording, scanned in advance):
 *   - register writes: the guest's value against the recorded one (a ring base in
 *     RDBAL/TDBAL, accepted by match=); equal values are the identity;
 *   - TO DMA: the 8-byte (else 4-byte) little-endian fields of the bytes read, against
 *     the recorded bytes (a descriptor's buffer address).
 * This run's value must be guest RAM. A DMA with no relocation is not performed (an
 * address of the recording may hold anything in this run), nor one whose target is not
 * RAM or that the bus refuses (bus mastering off), nor a FROM record that kept fewer
 * bytes than it moved (record with a larger mmiotrace-dma-bytes): each is counted and
 * reported with its first instance.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/bswap.h"
#include "qemu/rcu.h"
#include "system/memory.h"
#include "replay-int.h"

#define PAGE_BITS 12
#define RELOC_SPAN 0x10000      /* bytes a relocation covers from its recorded address */

typedef struct ReplayReloc {
    uint64_t rec, run;          /* the recorded address and this run's */
} ReplayReloc;

/* What a refused DMA was, for the report: its record and a count. */
typedef struct ReplayDmaRefusal {
    uint64_t count, line, addr;
} ReplayDmaRefusal;

struct ReplayDma {
    GHashTable *pages;          /* recorded DMA pages (address >> PAGE_BITS) */
    /* RELOC_SPAN-aligned bucket of rec -> GArray of ReplayReloc, sorted by rec */
    GHashTable *relocs;
    uint64_t nrelocs;
    uint64_t to, from, bytes_to, bytes_from;
    uint64_t to_differ;         /* TO reads whose bytes differ from the recorded ones */
    uint64_t moved;             /* performed at another address than recorded */
    uint64_t learned_reg, learned_desc;
    /* the last 4-byte register write: the low half of an address split in two */
    bool have_low;
    uint8_t low_bar;
    uint64_t low_off, low_rec, low_run;
    ReplayDmaRefusal unrelocated, not_ram, incomplete;
};

void replay_dma_rec_clear(gpointer p)
{
    ReplayRec *r = p;

    if (r->type == MMIOTRACE_DMA) {
        g_clear_pointer(&r->dma.data, g_free);
    }
}

void replay_dma_from_record(ReplayRec *r, const struct mmiotrace_record *rec)
{
    r->type = MMIOTRACE_DMA;
    r->dma.dir = rec->dma.dir;
    r->dma.addr = rec->dma.addr;
    r->dma.len = rec->dma.len;
    r->dma.nbytes = rec->dma.nbytes;
    r->dma.data = rec->dma.nbytes ? g_memdup2(rec->dma.data, rec->dma.nbytes) : NULL;
}

char *replay_dma_describe(const ReplayRec *r)
{
    return g_strdup_printf("DMA %s 0x%" PRIx64 " %" PRIu64,
                           r->dma.dir == MMIOTRACE_DMA_FROM_DEVICE ? "FROM" : "TO",
                           r->dma.addr, r->dma.len);
}

void replay_dma_init(MmioTraceReplay *s)
{
    s->dmastate = g_new0(ReplayDma, 1);
    s->dmastate->pages = g_hash_table_new(g_int64_hash, g_int64_equal);
    s->dmastate->relocs = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free,
                                                (GDestroyNotify)g_array_unref);
}

void replay_dma_free(MmioTraceReplay *s)
{
    if (s->dmastate) {
        g_hash_table_destroy(s->dmastate->pages);
        g_hash_table_destroy(s->dmastate->relocs);
        g_clear_pointer(&s->dmastate, g_free);
    }
}

/* The first pass: the pages the recording's DMA touches ("addresses used"). */
void replay_dma_scan(MmioTraceReplay *s, const ReplayRec *r)
{
    uint64_t first, last;

    if (r->type != MMIOTRACE_DMA || !r->dma.len) {
        return;
    }
    first = r->dma.addr >> PAGE_BITS;
    last = (r->dma.addr + r->dma.len - 1) >> PAGE_BITS;
    if (last < first || last - first > 16) {
        last = first;           /* wraps, or huge: its first page is enough */
    }
    for (uint64_t p = first; p <= last; p++) {
        if (!g_hash_table_contains(s->dmastate->pages, &p)) {
            uint64_t *key = g_new(uint64_t, 1);
            *key = p;
            g_hash_table_add(s->dmastate->pages, key);
        }
    }
}

static bool recorded_dma_address(ReplayDma *d, uint64_t v)
{
    uint64_t page = v >> PAGE_BITS;

    return page && g_hash_table_contains(d->pages, &page);
}

/* [addr, addr + len) is guest RAM in the device's bus-master space. */
static bool dma_is_ram(MmioTraceReplay *s, uint64_t addr, uint64_t len)
{
    AddressSpace *as = pci_get_address_space(PCI_DEVICE(s));

    if (!len || addr + len < addr) {
        return false;
    }
    RCU_READ_LOCK_GUARD();
    while (len) {
        hwaddr xlat, l = len;
        MemoryRegion *mr = address_space_translate(as, addr, &xlat, &l, false,
                                                   MEMTXATTRS_UNSPECIFIED);
        if (!memory_region_is_ram(mr) || memory_region_is_rom(mr) || !l) {
            return false;
        }
        addr += MIN(l, len);
        len -= MIN(l, len);
    }
    return true;
}

/*
 * Relocations are kept by RELOC_SPAN-aligned buckets of their recorded address, so that
 * the nearest one at or below an address is in its bucket or the one before, and a
 * recording with many buffer addresses costs no more per DMA than one with few.
 */
static GArray *reloc_bucket(ReplayDma *d, uint64_t addr, bool create)
{
    uint64_t key = addr / RELOC_SPAN;
    GArray *b = g_hash_table_lookup(d->relocs, &key);

    if (!b && create) {
        b = g_array_new(false, false, sizeof(ReplayReloc));
        g_hash_table_insert(d->relocs, g_memdup2(&key, sizeof(key)), b);
    }
    return b;
}

/* The index in b of the last relocation whose recorded address is <= addr, or -1. */
static int reloc_floor(GArray *b, uint64_t addr)
{
    int lo = 0, hi = (int)b->len - 1, found = -1;

    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        if (g_array_index(b, ReplayReloc, mid).rec <= addr) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    return found;
}

static void learn(ReplayDma *d, uint64_t rec, uint64_t run)
{
    GArray *b = reloc_bucket(d, rec, true);
    int i = reloc_floor(b, rec);
    ReplayReloc r = { .rec = rec, .run = run };

    if (i >= 0 && g_array_index(b, ReplayReloc, i).rec == rec) {
        g_array_index(b, ReplayReloc, i).run = run;
    } else {
        g_array_insert_val(b, i + 1, r);
        d->nrelocs++;
    }
}

/* The relocation nearest at or below addr (its bucket's, else the bucket before's). */
static const ReplayReloc *reloc_below(ReplayDma *d, uint64_t addr)
{
    GArray *b = reloc_bucket(d, addr, false);
    int i = b ? reloc_floor(b, addr) : -1;

    if (i < 0 && addr >= RELOC_SPAN) {
        b = reloc_bucket(d, addr - RELOC_SPAN, false);
        i = b ? (int)b->len - 1 : -1;
    }
    return i >= 0 ? &g_array_index(b, ReplayReloc, i) : NULL;
}

/* This run's address for the recorded [addr, addr + len): false if none is known. */
static bool relocate(ReplayDma *d, uint64_t addr, uint64_t len, uint64_t *out)
{
    const ReplayReloc *r = reloc_below(d, addr);

    if (!r || addr - r->rec >= RELOC_SPAN || len > RELOC_SPAN - (addr - r->rec)) {
        return false;
    }
    *out = addr - r->rec + r->run;
    return true;
}

/* A value the driver gave the device: rec recorded, run in this run. */
static bool learn_value(MmioTraceReplay *s, uint64_t rec, uint64_t run)
{
    if (!recorded_dma_address(s->dmastate, rec) || !dma_is_ram(s, run, 1)) {
        return false;
    }
    learn(s->dmastate, rec, run);
    return true;
}

/*
 * A register write: the guest's value against the recorded one. A 4-byte write right
 * after one to the register 4 bytes below is also the high half of a 64-bit address
 * (RDBAL then RDBAH, an NVMe queue base written in two halves).
 */
void replay_dma_learn_write(MmioTraceReplay *s, const ReplayRec *c, uint64_t value)
{
    ReplayDma *d = s->dmastate;
    bool low;

    if (!d || (c->rw.width != 4 && c->rw.width != 8)) {
        return;
    }
    d->learned_reg += learn_value(s, c->rw.value, value);
    low = d->have_low && c->rw.width == 4 && d->low_bar == c->rw.bar &&
          d->low_off + 4 == c->rw.off;
    if (low && (c->rw.value || value)) {
        d->learned_reg += learn_value(s, c->rw.value << 32 | d->low_rec,
                                      value << 32 | d->low_run);
    }
    d->have_low = c->rw.width == 4 && !low;
    d->low_bar = c->rw.bar;
    d->low_off = c->rw.off;
    d->low_rec = c->rw.value;
    d->low_run = value;
}

/* The fields of a TO DMA's bytes: recorded (rec) against this run's (run). */
static void learn_fields(MmioTraceReplay *s, uint64_t addr, const uint8_t *rec,
                         const uint8_t *run, uint32_t n)
{
    for (uint32_t i = -addr & 7; i + 8 <= n; i += 8) {
        if (learn_value(s, ldq_le_p(rec + i), ldq_le_p(run + i))) {
            s->dmastate->learned_desc++;
            continue;
        }
        for (uint32_t j = i; j < i + 8; j += 4) {
            if (learn_value(s, ldl_le_p(rec + j), ldl_le_p(run + j))) {
                s->dmastate->learned_desc++;
            }
        }
    }
}

static void refuse(ReplayDmaRefusal *what, const ReplayRec *r)
{
    if (!what->count++) {
        what->line = r->line;
        what->addr = r->dma.addr;
    }
}

void replay_dma_perform(MmioTraceReplay *s, const ReplayRec *r)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    ReplayDma *d = s->dmastate;
    bool from = r->dma.dir == MMIOTRACE_DMA_FROM_DEVICE;
    uint64_t len = from ? r->dma.len : r->dma.nbytes;
    uint64_t addr;

    if (!d || !len) {
        return;
    }
    if (from && r->dma.nbytes < r->dma.len) {
        refuse(&d->incomplete, r);
        return;
    }
    if (!relocate(d, r->dma.addr, len, &addr)) {
        refuse(&d->unrelocated, r);
        return;
    }
    if (!dma_is_ram(s, addr, len)) {
        refuse(&d->not_ram, r);
        return;
    }
    if (from) {
        if (pci_dma_write(pdev, addr, r->dma.data, len) != MEMTX_OK) {
            refuse(&d->not_ram, r);
            return;
        }
        d->from++;
        d->bytes_from += len;
    } else {
        g_autofree uint8_t *buf = g_malloc(len);

        if (pci_dma_read(pdev, addr, buf, len) != MEMTX_OK) {
            refuse(&d->not_ram, r);
            return;
        }
        d->to++;
        d->bytes_to += len;
        d->to_differ += memcmp(buf, r->dma.data, len) != 0;
        learn_fields(s, r->dma.addr, r->dma.data, buf, len);
    }
    d->moved += addr != r->dma.addr;
}

/* The DMA records in [from, to) not yet performed (passed over with skipped polls). */
void replay_dma_range(MmioTraceReplay *s, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        ReplayRec *r = (ReplayRec *)replay_rec_at(s, i);

        if (r && r->type == MMIOTRACE_DMA && !r->done) {
            r->done = true;
            replay_dma_perform(s, r);
        }
    }
}

static void report_refusal(MmioTraceReplay *s, FILE *out, const char *what,
                           const ReplayDmaRefusal *r)
{
    if (r->count) {
        fprintf(out, "    %" PRIu64 " %s, the first at %s:%" PRIu64 " (0x%" PRIx64 ")\n",
                r->count, what, s->trace, r->line, r->addr);
    }
}

void replay_dma_report(MmioTraceReplay *s, FILE *out)
{
    ReplayDma *d = s->dmastate;

    if (!d || !g_hash_table_size(d->pages)) {
        return;
    }
    fprintf(out, "  DMA: %" PRIu64 " FROM the device performed (%" PRIu64 " bytes "
            "written), %" PRIu64 " TO it (%" PRIu64 " bytes read, %" PRIu64 " differing "
            "from the recording), %" PRIu64 " at a relocated address\n", d->from,
            d->bytes_from, d->to, d->bytes_to, d->to_differ, d->moved);
    fprintf(out, "  DMA relocations: %" PRIu64 " (learned %" PRIu64 " times from "
            "register writes, %" PRIu64 " from descriptor fields)\n", d->nrelocs,
            d->learned_reg, d->learned_desc);
    fprintf(out, "  DMA not performed: %" PRIu64 "\n",
            d->unrelocated.count + d->not_ram.count + d->incomplete.count);
    report_refusal(s, out, "with no known relocation", &d->unrelocated);
    report_refusal(s, out, "not to guest RAM, or refused by the bus", &d->not_ram);
    report_refusal(s, out, "FROM records that kept fewer bytes than they moved "
                   "(mmiotrace-dma-bytes)", &d->incomplete);
}

uint64_t replay_dma_refused(MmioTraceReplay *s)
{
    ReplayDma *d = s->dmastate;

    return d ? d->unrelocated.count + d->not_ram.count + d->incomplete.count : 0;
}
