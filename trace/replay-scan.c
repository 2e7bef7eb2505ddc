/* SPDX-License-Identifier: GPL-2.0-or-later */
/* libmmiotrace: recordings as untrusted input for a replay device (see replay-scan.h). */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "replay-scan.h"

/* PCI config space (the few registers the identity uses) */
#define CFG_STATUS 0x06
#define CFG_STATUS_CAP_LIST 0x10
#define CFG_CAP_PTR 0x34
#define CFG_INTERRUPT_PIN 0x3d
#define CFG_HEADER 0x40
#define CFG_SIZE 0x100
#define CAP_ID_MSI 0x05
#define CAP_ID_VNDR 0x09
#define CAP_ID_MSIX 0x11
#define MSI_FLAGS_QMASK 0x000e
#define MSI_FLAGS_QSIZE 0x0070
#define MSI_FLAGS_64BIT 0x0080
#define MSI_FLAGS_MASKBIT 0x0100
#define MSIX_FLAGS_QSIZE 0x07ff
#define MSIX_BIR_MASK 0x7
#define MSIX_SIZEOF 12
#define MSIX_ENTRY_SIZE 16
#define MAX_CAPS 48 /* (256 - 64) / 4 */

#define BAR_IO 0x1
#define BAR_MEM_TYPE_MASK 0x6
#define BAR_MEM_TYPE_32 0x0
#define BAR_MEM_TYPE_64 0x4

#define IO_BAR_MAX 256ull          /* the PCI rule for I/O BARs */
#define MEM32_BAR_MAX (1ull << 31) /* a 32-bit memory BAR below 4 GiB */
#define MEM64_BAR_MAX (1ull << 40) /* what a replay machine can map */

static int fail(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fail(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
    return -1;
}

struct mmiotrace_replay_dev *mmiotrace_replay_find(struct mmiotrace_replay_scan *s,
                                                   const char *name, size_t len)
{
    for (unsigned i = 0; i < s->n; i++) {
        if (strlen(s->devs[i].name) == len && !memcmp(s->devs[i].name, name, len)) {
            return &s->devs[i];
        }
    }
    return NULL;
}

int mmiotrace_replay_access(const struct mmiotrace_record *rec,
                            const struct mmiotrace_pcidev *pcidev, const char *path, uint64_t line,
                            uint8_t *bar, uint64_t *off, char *err, size_t errlen)
{
    uint64_t phys = rec->rw.phys;

    if (rec->ext & MMIOTRACE_EXT_BAR) {
        *bar = rec->bar;
        *off = rec->bar_off;
    } else {
        *bar = MMIOTRACE_PCI_RESOURCES;
        for (int i = 0; pcidev && i < MMIOTRACE_REPLAY_BARS; i++) {
            uint64_t start = pcidev->resource[i] & ~0xfull;
            if (pcidev->size[i] && !(pcidev->resource[i] & BAR_IO) && phys >= start &&
                phys - start < pcidev->size[i]) {
                *bar = i;
                *off = phys - start;
                break;
            }
        }
        if (*bar == MMIOTRACE_PCI_RESOURCES) {
            return fail(err, errlen,
                        "%s:%" PRIu64 ": access at 0x%" PRIx64 " is in no memory BAR of "
                        "the recorded device's PCIDEV line",
                        path, line, phys);
        }
    }
    if (*bar >= MMIOTRACE_REPLAY_BARS) {
        return fail(err, errlen, "%s:%" PRIu64 ": access to BAR %u: only BARs 0-5 are replayed",
                    path, line, *bar);
    }
    if (*off > UINT64_MAX - rec->rw.width) {
        return fail(err, errlen,
                    "%s:%" PRIu64 ": access at BAR %u offset 0x%" PRIx64 " wraps around", path,
                    line, *bar, *off);
    }
    return 0;
}

static struct mmiotrace_replay_dev *scan_dev(struct mmiotrace_replay_scan *s,
                                             const struct mmiotrace_record *rec, const char *path,
                                             uint64_t line, char *err, size_t errlen)
{
    const char *name = rec->ext & MMIOTRACE_EXT_DEV ? rec->dev : "";
    size_t len = rec->ext & MMIOTRACE_EXT_DEV ? rec->dev_len : 0;
    struct mmiotrace_replay_dev *d = mmiotrace_replay_find(s, name, len);

    if (d) {
        return d;
    }
    if (s->n == MMIOTRACE_REPLAY_MAX_DEVICES) {
        fail(err, errlen, "%s:%" PRIu64 ": the recording names more than %d devices", path, line,
             MMIOTRACE_REPLAY_MAX_DEVICES);
        return NULL;
    }
    if (len > MMIOTRACE_DEV_MAX) {
        fail(err, errlen, "%s:%" PRIu64 ": device name longer than %d bytes", path, line,
             MMIOTRACE_DEV_MAX);
        return NULL;
    }
    d = &s->devs[s->n++];
    memset(d, 0, sizeof(*d));
    memcpy(d->name, name, len);
    d->name[len] = 0;
    return d;
}

int mmiotrace_replay_scan(struct mmiotrace_reader *r, const char *path,
                          struct mmiotrace_replay_scan *s, char *err, size_t errlen)
{
    struct mmiotrace_record rec;
    int ret;

    s->n = 0;
    while ((ret = mmiotrace_reader_next(r, &rec)) == 1) {
        uint64_t line = mmiotrace_reader_line(r);
        struct mmiotrace_replay_dev *d;
        uint8_t bar;
        uint64_t off;

        switch (rec.type) {
        case MMIOTRACE_PCIDEV:
        case MMIOTRACE_CONFIG:
        case MMIOTRACE_READ:
        case MMIOTRACE_WRITE:
        case MMIOTRACE_IRQ:
            break;
        default:
            continue;
        }
        d = scan_dev(s, &rec, path, line, err, errlen);
        if (!d) {
            return -1;
        }
        switch (rec.type) {
        case MMIOTRACE_PCIDEV:
            d->pcidev = rec.pcidev;
            d->pcidev.driver = NULL;
            d->pcidev.driver_len = 0;
            d->have_pcidev = true;
            d->pcidev_line = line;
            break;
        case MMIOTRACE_CONFIG:
            d->config_len =
                rec.config.len < MMIOTRACE_CONFIG_MAX ? rec.config.len : MMIOTRACE_CONFIG_MAX;
            memcpy(d->config, rec.config.data, d->config_len);
            d->config_line = line;
            break;
        case MMIOTRACE_READ:
        case MMIOTRACE_WRITE:
            if (mmiotrace_replay_access(&rec, d->have_pcidev ? &d->pcidev : NULL, path, line, &bar,
                                        &off, err, errlen) < 0) {
                return -1;
            }
            if (off + rec.rw.width > d->bar_end[bar]) {
                d->bar_end[bar] = off + rec.rw.width;
                d->bar_end_line[bar] = line;
            }
            d->accesses++;
            if (!(rec.ext & MMIOTRACE_EXT_VCPU) || rec.vcpu != MMIOTRACE_VCPU_NONE) {
                d->guest_accesses++;
            }
            break;
        default:
            d->irqs++;
            break;
        }
    }
    if (ret < 0) {
        return fail(err, errlen, "%s", mmiotrace_reader_error(r));
    }
    return 0;
}

static unsigned cfg16(const uint8_t *c, unsigned off)
{
    return c[off] | c[off + 1] << 8;
}

static uint32_t cfg32(const uint8_t *c, unsigned off)
{
    return (uint32_t)cfg16(c, off) | (uint32_t)cfg16(c, off + 2) << 16;
}

static unsigned msi_size(unsigned flags)
{
    if (flags & MSI_FLAGS_64BIT) {
        return flags & MSI_FLAGS_MASKBIT ? 0x18 : 0x0e;
    }
    return flags & MSI_FLAGS_MASKBIT ? 0x14 : 0x0a;
}

static int check_bars(const struct mmiotrace_replay_dev *dev, const char *path,
                      struct mmiotrace_pci_identity *id, char *err, size_t errlen)
{
    uint64_t line = dev->pcidev_line;

    for (int i = 0; i < MMIOTRACE_REPLAY_BARS; i++) {
        uint64_t size = dev->pcidev.size[i];
        uint8_t type = dev->pcidev.resource[i] & 0xf;
        uint64_t min, max;
        const char *what;

        if (!size) {
            continue;
        }
        if (type & BAR_IO) {
            if (type != BAR_IO) {
                return fail(err, errlen,
                            "%s:%" PRIu64 ": BAR %d has I/O flags 0x%x (bit 1 is reserved)", path,
                            line, i, type);
            }
            min = 4, max = IO_BAR_MAX, what = "an I/O BAR";
        } else if ((type & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_32) {
            min = 16, max = MEM32_BAR_MAX, what = "a 32-bit memory BAR";
        } else if ((type & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64) {
            min = 16, max = MEM64_BAR_MAX, what = "a 64-bit memory BAR";
            if (i == MMIOTRACE_REPLAY_BARS - 1) {
                return fail(err, errlen, "%s:%" PRIu64 ": BAR 5 cannot be 64-bit", path, line);
            }
            if (dev->pcidev.size[i + 1]) {
                return fail(err, errlen,
                            "%s:%" PRIu64 ": BAR %d is 64-bit, so BAR %d is its upper half, "
                            "yet it has a size",
                            path, line, i, i + 1);
            }
        } else {
            return fail(err, errlen,
                        "%s:%" PRIu64 ": BAR %d has a reserved memory type (flags 0x%x)", path,
                        line, i, type);
        }
        if (size & (size - 1) || size < min || size > max) {
            return fail(err, errlen,
                        "%s:%" PRIu64 ": BAR %d size 0x%" PRIx64 " is impossible for %s (a "
                        "power of two from 0x%" PRIx64 " to 0x%" PRIx64 ")",
                        path, line, i, size, what, min, max);
        }
        id->bar_size[i] = size;
        id->bar_type[i] = type;
        if (!(type & BAR_IO) && (type & BAR_MEM_TYPE_MASK) == BAR_MEM_TYPE_64) {
            i++; /* the upper half */
        }
    }
    for (int i = 0; i < MMIOTRACE_REPLAY_BARS; i++) {
        if (dev->bar_end[i] > id->bar_size[i]) {
            return fail(err, errlen,
                        "%s:%" PRIu64 ": access at BAR %d ends at offset 0x%" PRIx64
                        ", outside the recorded BARs (BAR %d size 0x%" PRIx64 ")",
                        path, dev->bar_end_line[i], i, dev->bar_end[i], i, id->bar_size[i]);
        }
    }
    return 0;
}

struct cap_extent {
    unsigned pos, len, cap_id;
};

/* A walk over a recorded config space's capability list. */
struct cap_walk {
    const uint8_t *c; /* the config space */
    unsigned end;     /* its recorded length, at most CFG_SIZE */
    const char *path;
    uint64_t line; /* of the PCICFG record */
    struct mmiotrace_pci_identity *id;
    char *err;
    size_t errlen;
    struct cap_extent caps[MAX_CAPS];
    unsigned n;
};

/* MSI: its length from its flags; the first only */
static int cap_msi(struct cap_walk *w, struct cap_extent *e)
{
    unsigned pos = e->pos;
    unsigned flags = pos + 4 <= w->end ? cfg16(w->c, pos + 2) : 0;
    unsigned qmask = (flags & MSI_FLAGS_QMASK) >> 1;
    unsigned qsize = (flags & MSI_FLAGS_QSIZE) >> 4;

    if (w->id->msi_pos) {
        return fail(w->err, w->errlen, "%s:%" PRIu64 ": a second MSI capability at 0x%x", w->path,
                    w->line, pos);
    }
    e->len = msi_size(flags);
    if (qmask > 5) {
        return fail(w->err, w->errlen,
                    "%s:%" PRIu64 ": MSI capability at 0x%x: Multiple Message "
                    "Capable field %u is reserved (at most 5: 32 vectors)",
                    w->path, w->line, pos, qmask);
    }
    if (qsize > qmask) {
        return fail(w->err, w->errlen,
                    "%s:%" PRIu64 ": MSI capability at 0x%x: Multiple Message "
                    "Enable %u exceeds Multiple Message Capable %u",
                    w->path, w->line, pos, qsize, qmask);
    }
    w->id->msi_pos = pos;
    w->id->msi_vectors = 1u << qmask;
    w->id->msi_64bit = flags & MSI_FLAGS_64BIT;
    w->id->msi_maskbit = flags & MSI_FLAGS_MASKBIT;
    return 0;
}

/* MSI-X: the first only (its table and PBA are checked by check_msix) */
static int cap_msix(struct cap_walk *w, struct cap_extent *e)
{
    if (w->id->msix_pos) {
        return fail(w->err, w->errlen, "%s:%" PRIu64 ": a second MSI-X capability at 0x%x", w->path,
                    w->line, e->pos);
    }
    e->len = MSIX_SIZEOF;
    w->id->msix_pos = e->pos;
    return 0;
}

/* vendor-specific: its length byte covers the whole capability */
static int cap_vndr(struct cap_walk *w, struct cap_extent *e)
{
    unsigned pos = e->pos;

    e->len = pos + 3 <= w->end && w->c[pos + 2] >= 3 ? w->c[pos + 2] : 3;
    return 0;
}

/* The capability at pos: where it is, how long; it must fit in the recorded config space. */
static int walk_one(struct cap_walk *w, unsigned pos, uint8_t *seen)
{
    if (pos < CFG_HEADER || pos + 2 > w->end) {
        return fail(w->err, w->errlen,
                    "%s:%" PRIu64 ": capability at 0x%x is outside the recorded "
                    "capability area (0x40-0x%x)",
                    w->path, w->line, pos, w->end - 1);
    }
    if (seen[pos]) {
        return fail(w->err, w->errlen, "%s:%" PRIu64 ": the capability list loops at 0x%x", w->path,
                    w->line, pos);
    }
    seen[pos] = 1;
    if (w->n == MAX_CAPS) {
        return fail(w->err, w->errlen, "%s:%" PRIu64 ": more than %d capabilities", w->path,
                    w->line, MAX_CAPS);
    }
    struct cap_extent *e = &w->caps[w->n++];
    e->pos = pos;
    e->cap_id = w->c[pos];
    e->len = 2;
    int ret = 0;
    switch (e->cap_id) {
    case CAP_ID_MSI:
        ret = cap_msi(w, e);
        break;
    case CAP_ID_MSIX:
        ret = cap_msix(w, e);
        break;
    case CAP_ID_VNDR:
        ret = cap_vndr(w, e);
        break;
    }
    if (ret < 0) {
        return -1;
    }
    if (pos + e->len > w->end) {
        return fail(w->err, w->errlen,
                    "%s:%" PRIu64 ": capability 0x%02x at 0x%x is %u bytes long and "
                    "ends past the config space (0x%x)",
                    w->path, w->line, e->cap_id, pos, e->len, w->end);
    }
    return 0;
}

static int check_overlaps(const struct cap_walk *w)
{
    const struct cap_extent *caps = w->caps;

    for (unsigned i = 0; i < w->n; i++) {
        for (unsigned j = 0; j < w->n; j++) {
            if (i != j && caps[j].pos > caps[i].pos && caps[j].pos < caps[i].pos + caps[i].len) {
                return fail(w->err, w->errlen,
                            "%s:%" PRIu64 ": capability 0x%02x at 0x%x (%u bytes) overlaps "
                            "capability 0x%02x at 0x%x",
                            w->path, w->line, caps[i].cap_id, caps[i].pos, caps[i].len,
                            caps[j].cap_id, caps[j].pos);
            }
        }
    }
    return 0;
}

/* The MSI-X table and PBA: in memory BARs the recording has, inside them, apart. */
static int check_msix(const struct cap_walk *w)
{
    struct mmiotrace_pci_identity *id = w->id;
    const uint8_t *c = w->c;
    unsigned pos = id->msix_pos;
    uint32_t table = cfg32(c, pos + 4), pba = cfg32(c, pos + 8);
    uint64_t nvec = (cfg16(c, pos + 2) & MSIX_FLAGS_QSIZE) + 1;
    uint64_t table_len = nvec * MSIX_ENTRY_SIZE, pba_len = (nvec + 63) / 64 * 8;
    unsigned tbir = table & MSIX_BIR_MASK, pbir = pba & MSIX_BIR_MASK;
    uint64_t toff = table & ~MSIX_BIR_MASK, poff = pba & ~MSIX_BIR_MASK;

    if (tbir >= MMIOTRACE_REPLAY_BARS || pbir >= MMIOTRACE_REPLAY_BARS || !id->bar_size[tbir] ||
        !id->bar_size[pbir]) {
        return fail(w->err, w->errlen,
                    "%s:%" PRIu64 ": MSI-X table or PBA in a BAR the recording does "
                    "not have (BIR %u, %u)",
                    w->path, w->line, tbir, pbir);
    }
    if ((id->bar_type[tbir] & BAR_IO) || (id->bar_type[pbir] & BAR_IO)) {
        return fail(w->err, w->errlen, "%s:%" PRIu64 ": MSI-X table or PBA in an I/O BAR", w->path,
                    w->line);
    }
    if (toff + table_len > id->bar_size[tbir] || poff + pba_len > id->bar_size[pbir]) {
        return fail(w->err, w->errlen,
                    "%s:%" PRIu64 ": MSI-X table (BAR %u 0x%" PRIx64 "+0x%" PRIx64
                    ") or PBA (BAR %u 0x%" PRIx64 "+0x%" PRIx64 ") is outside its BAR",
                    w->path, w->line, tbir, toff, table_len, pbir, poff, pba_len);
    }
    if (tbir == pbir && toff < poff + pba_len && poff < toff + table_len) {
        return fail(w->err, w->errlen, "%s:%" PRIu64 ": MSI-X table and PBA overlap", w->path,
                    w->line);
    }
    id->msix_vectors = nvec;
    id->msix_table_bar = tbir;
    id->msix_pba_bar = pbir;
    id->msix_table_off = toff;
    id->msix_pba_off = poff;
    return 0;
}

static int check_caps(const struct mmiotrace_replay_dev *dev, const char *path,
                      struct mmiotrace_pci_identity *id, char *err, size_t errlen)
{
    const uint8_t *c = dev->config;
    unsigned len = dev->config_len;
    struct cap_walk w = {.c = c,
                         .end = len < CFG_SIZE ? len : CFG_SIZE,
                         .path = path,
                         .line = dev->config_line,
                         .id = id,
                         .err = err,
                         .errlen = errlen};
    uint8_t seen[CFG_SIZE] = {0};

    if (len < CFG_HEADER) {
        return fail(err, errlen,
                    "%s:%" PRIu64 ": PCICFG has %u bytes; a config space header "
                    "has 64",
                    path, w.line, len);
    }
    if (c[CFG_INTERRUPT_PIN] > 4) {
        return fail(err, errlen, "%s:%" PRIu64 ": Interrupt Pin %u is not 0-4 (none, INTA-INTD)",
                    path, w.line, c[CFG_INTERRUPT_PIN]);
    }
    if (!(cfg16(c, CFG_STATUS) & CFG_STATUS_CAP_LIST)) {
        return 0;
    }
    for (unsigned pos = c[CFG_CAP_PTR] & ~3u; pos; pos = c[pos + 1] & ~3u) {
        if (walk_one(&w, pos, seen) < 0) {
            return -1;
        }
    }
    if (check_overlaps(&w) < 0) {
        return -1;
    }
    id->caps = true;
    return id->msix_pos ? check_msix(&w) : 0;
}

int mmiotrace_pci_identity_check(const struct mmiotrace_replay_dev *dev, const char *path,
                                 struct mmiotrace_pci_identity *id, char *err, size_t errlen)
{
    memset(id, 0, sizeof(*id));
    if (!dev->have_pcidev) {
        return fail(err, errlen, "%s: the recording of '%s' has no PCIDEV line (BAR sizes unknown)",
                    path, dev->name);
    }
    if (check_bars(dev, path, id, err, errlen) < 0) {
        return -1;
    }
    if (dev->config_len && check_caps(dev, path, id, err, errlen) < 0) {
        return -1;
    }
    return 0;
}
