/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: the mmiotrace text writer's line formatting, mmiotrace_format (libc only: QEMU
 * compiles this file). The buffered stream writer is writer-stream.c; the number formatters
 * writer-put.h.
 *
 * One small function per record type, each quoting the kernel's printf format from
 * kernel/trace/trace_mmiotrace.c that it reproduces byte for byte. Numbers are formatted by
 * hand (no printf on the hot path). In MMIOTRACE_FMT_EXTENDED mode hvmmio's facts follow the
 * kernel's fields as " key=value" tokens (see put_ext and docs/trace-format.md).
 */
#include <errno.h>

#include "internal.h"
#include "writer-put.h"

/* The replay annotations of an R/W record: match= rel= poll= opt= */
static char *put_annotations(char *p, const struct mmiotrace_record *r)
{
    if (r->ext & MMIOTRACE_EXT_MATCH) {
        p = PUT(p, " match=");
        p = put_0x(p, r->match_mask);
    }
    if (r->ext & MMIOTRACE_EXT_REL) {
        p = PUT(p, " rel=");
        *p++ = '0' + r->rel_bar;
        *p++ = ':';
        p = put_0x(p, r->rel_off);
    }
    if (r->ext & MMIOTRACE_EXT_POLL) {
        p = PUT(p, " poll=tolerant");
    }
    if (r->ext & MMIOTRACE_EXT_OPT) {
        p = PUT(p, " opt=1");
    }
    return p;
}

/*
 * hvmmio's facts, in this fixed order: ns vcpu dev bar off insn asm pc rejected, then the
 * replay annotations match rel poll opt.
 */
static char *put_ext(char *p, const struct mmiotrace_record *r)
{
    unsigned ext = r->ext;

    if (r->type == MMIOTRACE_PCIDEV) {
        ext &= ~MMIOTRACE_EXT_NS; /* the header has no time */
    }
    if (!ext) {
        return p;
    }
    if (ext & MMIOTRACE_EXT_NS) {
        p = PUT(p, " ns=");
        p = put_u64(p, r->ts_ns);
    }
    if (ext & MMIOTRACE_EXT_VCPU) {
        p = PUT(p, " vcpu=");
        if (r->vcpu == MMIOTRACE_VCPU_NONE) {
            p = PUT(p, "none");
        } else {
            p = put_u64(p, (uint32_t)r->vcpu);
        }
    }
    if (ext & MMIOTRACE_EXT_DEV) {
        p = PUT(p, " dev=");
        p = put_value(p, r->dev, r->dev_len);
    }
    if (ext & MMIOTRACE_EXT_BAR) {
        p = PUT(p, " bar=");
        *p++ = '0' + r->bar;
        p = PUT(p, " off=");
        p = put_0x(p, r->bar_off);
    }
    if (ext & MMIOTRACE_EXT_INSN) {
        p = PUT(p, " insn=");
        for (unsigned i = 0; i < r->insn_len; i++) {
            p = put_hex_fixed(p, r->insn[i], 2);
        }
    }
    if (ext & MMIOTRACE_EXT_ASM) {
        p = PUT(p, " asm=");
        p = put_value(p, r->asm_text, r->asm_len);
    }
    if (ext & MMIOTRACE_EXT_PC_UNKNOWN) {
        p = PUT(p, " pc=unknown");
    }
    if (ext & MMIOTRACE_EXT_REJECTED) {
        p = PUT(p, " rejected=1");
    }
    if (ext & MMIOTRACE_EXT_ANNOT) {
        p = put_annotations(p, r);
    }
    return p;
}

/* ---- One function per record type; each returns the end of its line (newline excluded). ---- */

/* "VERSION 20070824\n" (mmio_pipe_open) */
static char *fmt_version(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "VERSION ");
    return put_lit(p, r->version.text, r->version.len);
}

/*
 * "PCIDEV %02x%02x %04x%04x %x" bus, devfn, vendor, device, irq; 7 x " %llx" start | flags;
 * 7 x " %llx" size; " %s\n" driver name, or " \n" (mmio_print_pcidev)
 */
static char *fmt_pcidev(char *p, const struct mmiotrace_record *r)
{
    const struct mmiotrace_pcidev *d = &r->pcidev;

    p = PUT(p, "PCIDEV ");
    p = put_hex_fixed(p, d->bus, 2);
    p = put_hex_fixed(p, d->devfn, 2);
    *p++ = ' ';
    p = put_hex_fixed(p, d->vendor, 4);
    p = put_hex_fixed(p, d->device, 4);
    *p++ = ' ';
    p = put_hex(p, d->irq);
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        *p++ = ' ';
        p = put_hex(p, d->resource[i]);
    }
    for (int i = 0; i < MMIOTRACE_PCI_RESOURCES; i++) {
        *p++ = ' ';
        p = put_hex(p, d->size[i]);
    }
    *p++ = ' ';
    if (d->driver_len) {
        p = put_lit(p, d->driver, d->driver_len);
    }
    return p;
}

/* "R %d %u.%06lu %d 0x%llx 0x%lx 0x%lx %d\n" width, time, map_id, phys, value, pc, 0 */
static char *fmt_rw(char *p, const struct mmiotrace_record *r)
{
    p[0] = r->type == MMIOTRACE_READ ? 'R' : 'W';
    p[1] = ' ';
    p[2] = '0' + r->rw.width;
    p[3] = ' ';
    p = put_time(p + 4, r->ts_ns);
    *p++ = ' ';
    p = put_i32(p, r->rw.map_id);
    *p++ = ' ';
    p = put_0x(p, r->rw.phys);
    *p++ = ' ';
    p = put_0x(p, r->rw.value);
    *p++ = ' ';
    p = put_0x(p, r->rw.pc);
    return PUT(p, " 0");
}

/* "UNKNOWN %u.%06lu %d 0x%llx %02lx,%02lx,%02lx 0x%lx %d\n" time, map_id, phys, opcode, pc, 0 */
static char *fmt_unknown(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "UNKNOWN ");
    p = put_time(p, r->ts_ns);
    *p++ = ' ';
    p = put_i32(p, r->unknown.map_id);
    *p++ = ' ';
    p = put_0x(p, r->unknown.phys);
    *p++ = ' ';
    p = put_hex_fixed(p, r->unknown.opcode[0], 2);
    *p++ = ',';
    p = put_hex_fixed(p, r->unknown.opcode[1], 2);
    *p++ = ',';
    p = put_hex_fixed(p, r->unknown.opcode[2], 2);
    *p++ = ' ';
    p = put_0x(p, r->unknown.pc);
    return PUT(p, " 0");
}

/* "MAP %u.%06lu %d 0x%llx 0x%lx 0x%lx 0x%lx %d\n" time, map_id, phys, virt, len, 0UL, 0 */
static char *fmt_map(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "MAP ");
    p = put_time(p, r->ts_ns);
    *p++ = ' ';
    p = put_i32(p, r->map.map_id);
    *p++ = ' ';
    p = put_0x(p, r->map.phys);
    *p++ = ' ';
    p = put_0x(p, r->map.virt);
    *p++ = ' ';
    p = put_0x(p, r->map.len);
    return PUT(p, " 0x0 0");
}

/* "UNMAP %u.%06lu %d 0x%lx %d\n" time, map_id, 0UL, 0 */
static char *fmt_unmap(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "UNMAP ");
    p = put_time(p, r->ts_ns);
    *p++ = ' ';
    p = put_i32(p, r->unmap.map_id);
    return PUT(p, " 0x0 0");
}

/* A line of a MARK's text after a newline that every reader keeps as text (no keyword). */
static bool mark_line_is_text(const char *line, size_t len)
{
    enum keyword kw = mmiotrace_classify_line(line, len);
    return kw == KW_OTHER || kw == KW_BLANK;
}

/* Whether the MARK's first line would read as the kernel's lost-events report. */
static bool mark_reads_as_lost(const struct mmiotrace_record *r)
{
    const char *nl = memchr(r->mark.text, '\n', r->mark.len);
    size_t len = nl ? (size_t)(nl - r->mark.text) : r->mark.len;
    uint64_t count;

    return (r->ts_ns + 500) / 1000 == 0 && mmiotrace_lost_text(r->mark.text, len, &count);
}

/*
 * "MARK %u.%06lu %s" (the message carries its newline). The text is written as the kernel
 * writes it, except what would let a reader take a part of it for a record
 * (docs/trace-format.md): a newline stays a newline only when the line after it is plain
 * text (no keyword of the format), else it is written as the two characters "\n"; a CR as
 * "\r"; any other control byte but tab as "\xHH"; and a first line that would read as the
 * kernel's lost-events report (time 0) has its 'L' written as "\x4c".
 */
static char *fmt_mark(char *p, const struct mmiotrace_record *r)
{
    const char *t = r->mark.text, *end = t + r->mark.len;

    p = PUT(p, "MARK ");
    p = put_time(p, r->ts_ns);
    *p++ = ' ';
    if (r->mark.len && mark_reads_as_lost(r)) {
        p = PUT(p, "\\x4c");
        t++;
    }
    for (; t < end; t++) {
        unsigned char ch = (unsigned char)*t;
        if (ch == '\n') {
            const char *next_end = memchr(t + 1, '\n', end - t - 1);
            if (mark_line_is_text(t + 1, (next_end ? next_end : end) - (t + 1))) {
                *p++ = '\n';
            } else {
                p = PUT(p, "\\n");
            }
        } else if (ch == '\r') {
            p = PUT(p, "\\r");
        } else if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            p = PUT(p, "\\x");
            p = put_hex_fixed(p, ch, 2);
        } else {
            *p++ = (char)ch;
        }
    }
    return p;
}

/*
 * Whether "MARK T text" reads back as this very MARK: no control byte but newline and tab,
 * every line after the first a continuation line (not starting with a keyword), and not the
 * kernel's lost-events report; fmt_mark then writes the text unchanged. Otherwise extended
 * mode writes MARKX.
 */
static bool mark_reads_back(const struct mmiotrace_record *r)
{
    const char *t = r->mark.text, *end = t + r->mark.len;

    for (const char *c = t; c < end; c++) {
        unsigned char ch = (unsigned char)*c;
        if ((ch < 0x20 && ch != '\t' && ch != '\n') || ch == 0x7f) {
            return false;
        }
    }
    if (r->mark.len && mark_reads_as_lost(r)) {
        return false;
    }
    for (const char *nl = memchr(t, '\n', end - t); nl; nl = memchr(nl + 1, '\n', end - nl - 1)) {
        const char *next_end = memchr(nl + 1, '\n', end - nl - 1);
        if (!mark_line_is_text(nl + 1, (next_end ? next_end : end) - (nl + 1))) {
            return false;
        }
    }
    return true;
}

/* hvmmio: "MARKX %u.%06lu" + facts + " text=" quoted text: a MARK that carries facts. */
static char *fmt_markx(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "MARKX ");
    p = put_time(p, r->ts_ns);
    p = put_ext(p, r);
    p = PUT(p, " text=");
    if (!r->mark.len) {
        return PUT(p, "\"\"");
    }
    return put_value(p, r->mark.text, r->mark.len);
}

/* "MARK 0.000000 Lost %lu events.\n" (mmio_print_line's lost-events report) */
static char *fmt_lost(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "MARK 0.000000 Lost ");
    p = put_u64(p, r->lost.count);
    return PUT(p, " events.");
}

/* hvmmio: "LOST %u.%06lu %llu" + facts: lost events with the time and device they were seen. */
static char *fmt_lostx(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "LOST ");
    p = put_time(p, r->ts_ns);
    *p++ = ' ';
    return put_u64(p, r->lost.count);
}

/* hvmmio: "PCICFG %u.%06lu %02x%02x " + the config space bytes in hex ("%02x" each). */
static char *fmt_config(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "PCICFG ");
    p = put_time(p, r->ts_ns);
    *p++ = ' ';
    p = put_hex_fixed(p, r->config.bus, 2);
    p = put_hex_fixed(p, r->config.devfn, 2);
    *p++ = ' ';
    for (unsigned i = 0; i < r->config.len; i++) {
        p = put_hex_fixed(p, r->config.data[i], 2);
    }
    return p;
}

/*
 * hvmmio: "IRQ %u.%06lu INTX %u %u" pin, level;
 *         "IRQ %u.%06lu MSI %u 0x%llx 0x%x" / "... MSIX ..." vector, address, data.
 */
static char *fmt_irq(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "IRQ ");
    p = put_time(p, r->ts_ns);
    if (r->irq.kind == MMIOTRACE_IRQ_INTX) {
        p = PUT(p, " INTX ");
        p = put_u64(p, r->irq.vector);
        *p++ = ' ';
        return put_u64(p, r->irq.data);
    }
    p = r->irq.kind == MMIOTRACE_IRQ_MSI ? PUT(p, " MSI ") : PUT(p, " MSIX ");
    p = put_u64(p, r->irq.vector);
    *p++ = ' ';
    p = put_0x(p, r->irq.addr);
    *p++ = ' ';
    return put_0x(p, r->irq.data);
}

/*
 * hvmmio: "DMA %u.%06lu TO|FROM 0x%llx %llu 0x%x" direction, bus address, length, crc32; then
 * the facts and " data=" with the first nbytes bytes in hex ("%02x" each), if any.
 */
static char *fmt_dma(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "DMA ");
    p = put_time(p, r->ts_ns);
    p = r->dma.dir == MMIOTRACE_DMA_TO_DEVICE ? PUT(p, " TO ") : PUT(p, " FROM ");
    p = put_0x(p, r->dma.addr);
    *p++ = ' ';
    p = put_u64(p, r->dma.len);
    *p++ = ' ';
    p = put_0x(p, r->dma.crc);
    p = put_ext(p, r);
    if (r->dma.nbytes) {
        p = PUT(p, " data=");
        for (uint32_t i = 0; i < r->dma.nbytes; i++) {
            p = put_hex_fixed(p, r->dma.data[i], 2);
        }
    }
    return p;
}

/* hvmmio: "DMAMAP %u.%06lu MAP|UNMAP 0x%llx %llu" IOVA, length; " ro=1" if read-only. */
static char *fmt_dmamap(char *p, const struct mmiotrace_record *r)
{
    p = PUT(p, "DMAMAP ");
    p = put_time(p, r->ts_ns);
    p = r->dmamap.map ? PUT(p, " MAP ") : PUT(p, " UNMAP ");
    p = put_0x(p, r->dmamap.iova);
    *p++ = ' ';
    p = put_u64(p, r->dmamap.len);
    if (r->dmamap.readonly) {
        p = PUT(p, " ro=1");
    }
    return p;
}

/* Upper bound of the line for this record (valid records only). */
static size_t line_bound(const struct mmiotrace_record *r)
{
    size_t n = 512;

    if (r->ext & MMIOTRACE_EXT_DEV) {
        n += 4 * r->dev_len;
    }
    if (r->ext & MMIOTRACE_EXT_ASM) {
        n += 4 * r->asm_len;
    }
    switch (r->type) {
    case MMIOTRACE_VERSION:
        n += r->version.len;
        break;
    case MMIOTRACE_PCIDEV:
        n += 14 * 17 + r->pcidev.driver_len;
        break;
    case MMIOTRACE_MARK:
        n += 4 * r->mark.len;
        break;
    case MMIOTRACE_CONFIG:
        n += 2 * r->config.len;
        break;
    case MMIOTRACE_DMA:
        n += 2 * r->dma.nbytes;
        break;
    default:
        break;
    }
    return n;
}

static int format_line(char *buf, const struct mmiotrace_record *r, unsigned mode)
{
    bool ext = mode == MMIOTRACE_FMT_EXTENDED;
    char *p;

    switch (r->type) {
    case MMIOTRACE_READ:
    case MMIOTRACE_WRITE:
        p = fmt_rw(buf, r);
        break;
    case MMIOTRACE_VERSION:
        p = fmt_version(buf, r);
        ext = false;
        break;
    case MMIOTRACE_PCIDEV:
        p = fmt_pcidev(buf, r);
        break;
    case MMIOTRACE_UNKNOWN:
        p = fmt_unknown(buf, r);
        break;
    case MMIOTRACE_MAP:
        p = fmt_map(buf, r);
        break;
    case MMIOTRACE_UNMAP:
        p = fmt_unmap(buf, r);
        break;
    case MMIOTRACE_MARK:
        if (ext && (r->ext || !mark_reads_back(r))) {
            p = fmt_markx(buf, r);
            ext = false; /* already written, before the text */
        } else {
            p = fmt_mark(buf, r);
        }
        break;
    case MMIOTRACE_LOST:
        /* the kernel's report has no time: keep a time (or facts) in hvmmio's LOST line */
        p = ext && (r->ext || (r->ts_ns + 500) / 1000) ? fmt_lostx(buf, r) : fmt_lost(buf, r);
        break;
    case MMIOTRACE_CONFIG:
        if (!ext) {
            return 0;
        }
        p = fmt_config(buf, r);
        break;
    case MMIOTRACE_IRQ:
        if (!ext) {
            return 0;
        }
        p = fmt_irq(buf, r);
        break;
    case MMIOTRACE_DMA:
        if (!ext) {
            return 0;
        }
        p = fmt_dma(buf, r);
        ext = false; /* the facts are written before data= */
        break;
    case MMIOTRACE_DMAMAP:
        if (!ext) {
            return 0;
        }
        p = fmt_dmamap(buf, r);
        break;
    default:
        errno = EINVAL;
        return -1;
    }
    if (ext) {
        p = put_ext(p, r);
    }
    *p++ = '\n';
    *p = '\0';
    return p - buf;
}

int mmiotrace_format_valid(char *buf, const struct mmiotrace_record *rec, unsigned mode)
{
    return format_line(buf, rec, mode == MMIOTRACE_FMT_EXTENDED ? mode : MMIOTRACE_FMT_KERNEL);
}

int mmiotrace_format(char *buf, size_t size, const struct mmiotrace_record *rec, unsigned mode)
{
    if (mmiotrace_record_check(rec) || mode > MMIOTRACE_FMT_EXTENDED) {
        errno = EINVAL;
        return -1;
    }
    if (size >= line_bound(rec)) {
        return format_line(buf, rec, mode);
    }
    char tmp[MMIOTRACE_FORMAT_MAX];
    int n = format_line(tmp, rec, mode);
    if (n >= 0 && (size_t)n >= size) {
        errno = ENOSPC;
        return -1;
    }
    if (n >= 0) {
        memcpy(buf, tmp, n + 1);
    }
    return n;
}
