/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: the Linux mmiotrace record model, its text writer and a tolerant streaming
 * reader. The formats are specified in docs/trace-format.md.
 *
 * Files and what they need (QEMU compiles the first two into itself, so they are C11 + libc):
 *   record.c, writer*.c  the model and the text writer (libc only; with internal.h)
 *   jsonl-write.c        JSON Lines writer (libc only)
 *   reader*.c            the streaming reader (libc; calls decompress.c and jsonl-read.c)
 *   decompress.c         .gz/.xz/.zst input (zlib, liblzma, libzstd)
 *   compress.c           .gz/.xz/.zst output sinks (zlib, liblzma, libzstd)
 *   jsonl-read.c         JSON Lines parser (json-c)
 *
 * Conventions: functions return -1 and set errno on failure unless said otherwise; text fields of
 * a record point into a buffer owned by whoever filled the record (never allocated per record).
 */
#ifndef HVMMIO_TRACE_MMIOTRACE_H
#define HVMMIO_TRACE_MMIOTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* The kernel's header line: "VERSION 20070824". */
#define MMIOTRACE_VERSION_STRING "20070824"

/* Limits (a longer field is an error for both writer and reader). */
#define MMIOTRACE_LINE_MAX 65536  /* longest line the reader accepts, newline included */
#define MMIOTRACE_TEXT_MAX 4096   /* MARK text, continuation lines included */
#define MMIOTRACE_DEV_MAX 64      /* device identity (dev=) */
#define MMIOTRACE_ASM_MAX 256     /* instruction text (asm=) */
#define MMIOTRACE_INSN_MAX 16     /* instruction bytes (insn=) */
#define MMIOTRACE_CONFIG_MAX 4096 /* PCI config space bytes (PCICFG) */
#define MMIOTRACE_PCI_RESOURCES 7 /* BAR0-5 and the expansion ROM, as the kernel prints them */
/* The latest timestamp: the kernel prints seconds with "%u" (32 bits); 4294967295.999999 s,
 * and no later nanosecond that would round up past it. */
#define MMIOTRACE_TS_MAX_NS (4294967296ull * 1000000000ull - 501)

enum mmiotrace_type {
    MMIOTRACE_NONE = 0,
    MMIOTRACE_VERSION, /* VERSION 20070824 */
    MMIOTRACE_PCIDEV,  /* PCIDEV: one PCI device of the header */
    MMIOTRACE_READ,    /* R */
    MMIOTRACE_WRITE,   /* W */
    MMIOTRACE_UNKNOWN, /* UNKNOWN: an access the kernel's decoder could not decode */
    MMIOTRACE_MAP,     /* MAP: an ioremap() */
    MMIOTRACE_UNMAP,   /* UNMAP: an iounmap() */
    MMIOTRACE_MARK,    /* MARK: a trace_marker message */
    MMIOTRACE_LOST,    /* "MARK 0.000000 Lost N events." */
    MMIOTRACE_CONFIG,  /* PCICFG (hvmmio): a device's PCI config space */
    MMIOTRACE_IRQ,     /* IRQ (hvmmio): an interrupt */
    MMIOTRACE_DMA,     /* DMA (hvmmio): a DMA the device made through its bus-master space */
    MMIOTRACE_DMAMAP,  /* DMAMAP (hvmmio): an IOMMU mapping programmed for the device */
    MMIOTRACE_TYPE_COUNT
};

enum mmiotrace_irq_kind {
    MMIOTRACE_IRQ_INTX = 0, /* INTx line level change: vector = pin (0 = INTA), level */
    MMIOTRACE_IRQ_MSI,      /* MSI message: vector (index within the block), addr, data */
    MMIOTRACE_IRQ_MSIX,     /* MSI-X message: vector (table entry), addr, data */
};

/* A DMA record's direction (record.dma.dir). */
enum mmiotrace_dma_dir {
    MMIOTRACE_DMA_TO_DEVICE = 0,   /* "TO": the device read guest memory */
    MMIOTRACE_DMA_FROM_DEVICE = 1, /* "FROM": the device wrote guest memory */
};
#define MMIOTRACE_DMA_BYTES_MAX 4096 /* bytes of a DMA a record may carry (data=) */

/* Which of a record's optional host-side facts are set (record.ext). */
#define MMIOTRACE_EXT_NS (1u << 0)   /* ts_ns is exact to the nanosecond (ns=) */
#define MMIOTRACE_EXT_VCPU (1u << 1) /* vcpu is set (vcpu=N or vcpu=none) */
#define MMIOTRACE_EXT_DEV (1u << 2)  /* dev/dev_len is set (dev=) */
#define MMIOTRACE_EXT_BAR (1u << 3)  /* bar and bar_off are set (bar=, off=) */
#define MMIOTRACE_EXT_INSN (1u << 4) /* insn/insn_len are set (insn=) */
#define MMIOTRACE_EXT_ASM (1u << 5)  /* asm_text/asm_len are set (asm=) */
/* R/W: the PC of the instruction could not be determined; pc is 0 (pc=unknown) */
#define MMIOTRACE_EXT_PC_UNKNOWN (1u << 6)
/* R/W: the device refused the access (a size or alignment it does not accept); a read
 * returned what QEMU returns for unassigned memory, a write was dropped (rejected=1) */
#define MMIOTRACE_EXT_REJECTED (1u << 7)
/* Replay annotations (R/W only; written by hvmmio replay --learn, honoured by the replay
 * device): */
/* W: only the bits of match_mask are checked against the written value (match=0xMASK) */
#define MMIOTRACE_EXT_MATCH (1u << 8)
/* R: the replay returns what the guest last wrote to BAR rel_bar offset rel_off in this run;
 * W: the guest is expected to write that value (rel=BAR:0xOFF) */
#define MMIOTRACE_EXT_REL (1u << 9)
/* R: the read may be repeated more or fewer times in a replay (poll=tolerant) */
#define MMIOTRACE_EXT_POLL (1u << 10)
/* R/W: the access may be absent from a replay, or made out of order within the replay's
 * reorder window (opt=1: it was missing from some of the recordings learned from) */
#define MMIOTRACE_EXT_OPT (1u << 11)
#define MMIOTRACE_EXT_ANNOT                                                                        \
    (MMIOTRACE_EXT_MATCH | MMIOTRACE_EXT_REL | MMIOTRACE_EXT_POLL | MMIOTRACE_EXT_OPT)
#define MMIOTRACE_EXT_FACTS 0x3fu /* the facts with a value: ns vcpu dev bar/off insn asm */
#define MMIOTRACE_EXT_ALL 0xfffu

#define MMIOTRACE_VCPU_NONE (-1) /* the access was made by QEMU itself, not by a vCPU */

struct mmiotrace_pcidev {
    uint8_t bus, devfn; /* devfn = dev << 3 | fn */
    uint16_t vendor, device;
    uint32_t irq;
    uint64_t resource[MMIOTRACE_PCI_RESOURCES]; /* start | (flags & 0xf) */
    uint64_t size[MMIOTRACE_PCI_RESOURCES];
    const char *driver; /* not NUL-terminated; driver_len 0 = no driver */
    size_t driver_len;
};

struct mmiotrace_record {
    enum mmiotrace_type type;
    unsigned ext;   /* MMIOTRACE_EXT_* */
    uint64_t ts_ns; /* timestamp; to the microsecond unless ext & MMIOTRACE_EXT_NS */

    /* Optional host-side facts, valid according to ext. */
    int32_t vcpu;     /* vCPU index, or MMIOTRACE_VCPU_NONE */
    uint8_t bar;      /* BAR index 0-6 (6 = ROM) */
    uint8_t insn_len; /* 1..MMIOTRACE_INSN_MAX */
    uint64_t bar_off; /* offset within the BAR */
    const char *dev;  /* device identity, not NUL-terminated */
    size_t dev_len;
    const char *asm_text; /* disassembly, not NUL-terminated */
    size_t asm_len;
    uint8_t insn[MMIOTRACE_INSN_MAX];

    /* Replay annotations of R/W records, valid according to ext (MMIOTRACE_EXT_MATCH, _REL). */
    uint64_t match_mask; /* W: the bits of the value that are checked (0: any value) */
    uint8_t rel_bar;     /* 0-5 */
    uint64_t rel_off;

    union {
        struct {
            const char *text; /* "20070824" */
            size_t len;
        } version;
        struct mmiotrace_pcidev pcidev;
        struct {           /* MMIOTRACE_READ, MMIOTRACE_WRITE */
            uint8_t width; /* 1, 2, 4 or 8 bytes */
            int32_t map_id;
            uint64_t phys, value, pc;
        } rw;
        struct {
            int32_t map_id;
            uint8_t opcode[3];
            uint64_t phys, pc;
        } unknown;
        struct {
            int32_t map_id;
            uint64_t phys, virt, len;
        } map;
        struct {
            int32_t map_id; /* -1 if the mapping was never seen */
        } unmap;
        struct {
            const char *text; /* without the final newline; may contain '\n' */
            size_t len;
        } mark;
        struct {
            uint64_t count;
        } lost;
        struct {
            uint8_t bus, devfn;
            uint16_t len; /* 1..MMIOTRACE_CONFIG_MAX */
            const uint8_t *data;
        } config;
        struct {
            enum mmiotrace_irq_kind kind;
            uint32_t vector; /* INTx: pin (0 = INTA) */
            uint32_t data;   /* MSI/MSI-X data; INTx: level (0 or 1) */
            uint64_t addr;   /* MSI/MSI-X address */
        } irq;
        struct {
            uint8_t dir;         /* MMIOTRACE_DMA_TO_DEVICE (device reads guest memory) or
                                    MMIOTRACE_DMA_FROM_DEVICE (device writes guest memory) */
            uint64_t addr, len;  /* bus address (the guest physical address without an IOMMU) */
            uint32_t crc;        /* zlib crc32 of all len bytes */
            uint32_t nbytes;     /* bytes in data: nbytes <= len, <= MMIOTRACE_DMA_BYTES_MAX */
            const uint8_t *data; /* the first nbytes bytes */
        } dma;
        struct {
            bool map; /* true: MAP, false: UNMAP */
            uint64_t iova, len;
            bool readonly; /* the device may only read the range (ro=1) */
        } dmamap;
    };
};

/* Name of a record type as used in JSON Lines and by hvmmio stat ("R", "PCIDEV", ...). */
const char *mmiotrace_type_name(enum mmiotrace_type type);
/* Reverse of mmiotrace_type_name; MMIOTRACE_NONE if unknown. */
enum mmiotrace_type mmiotrace_type_from_name(const char *name, size_t len);
/* Zero a record and set its type (cheap: the caller may also fill the fields directly). */
void mmiotrace_record_init(struct mmiotrace_record *rec, enum mmiotrace_type type);
/* Check a record's fields against the format's rules; returns NULL or a static message. */
const char *mmiotrace_record_check(const struct mmiotrace_record *rec);

/* ---- Writer (writer.c, writer-stream.c: libc only) ---- */

/* Output modes. */
#define MMIOTRACE_FMT_KERNEL                                                                       \
    0u /* byte for byte the kernel's lines; drops hvmmio's records/facts                           \
        */
#define MMIOTRACE_FMT_EXTENDED                                                                     \
    1u /* kernel fields first, then " key=value" facts; PCICFG, IRQ, DMA, DMAMAP */

/* Upper bound of one formatted line (any record, any mode), terminating NUL included. */
#define MMIOTRACE_FORMAT_MAX (6 * MMIOTRACE_TEXT_MAX + 2 * MMIOTRACE_CONFIG_MAX + 4096)

/*
 * Format one record as a line (newline included) into buf and NUL-terminate it. Returns the
 * line's length, 0 if the record has no representation in this mode (e.g. IRQ in kernel mode),
 * or -1 with errno EINVAL (invalid record, see mmiotrace_record_check) or ENOSPC (buf too small;
 * size >= MMIOTRACE_FORMAT_MAX always suffices). Thread-safe, no allocation.
 */
int mmiotrace_format(char *buf, size_t size, const struct mmiotrace_record *rec, unsigned mode);

/*
 * mmiotrace_format without its checks, for a producer whose records are valid by
 * construction (mmiotrace_record_check returns NULL) and whose buf has MMIOTRACE_FORMAT_MAX
 * bytes: the same line and length, or 0. For hot loops (QEMU's trace writer).
 */
int mmiotrace_format_valid(char *buf, const struct mmiotrace_record *rec, unsigned mode);

/* Any line formatter: mmiotrace_format, or mmiotrace_jsonl_format (jsonl-write.c). */
typedef int (*mmiotrace_format_fn)(char *buf, size_t size, const struct mmiotrace_record *rec,
                                   unsigned mode);
/* Where a stream writer's bytes go: write all of len bytes or return -1 with errno. */
typedef int (*mmiotrace_sink_fn)(void *opaque, const void *buf, size_t len);

struct mmiotrace_writer;

/* A buffered stream writer. format NULL = mmiotrace_format. NULL + errno on failure. */
struct mmiotrace_writer *mmiotrace_writer_new(mmiotrace_sink_fn sink, void *opaque,
                                              mmiotrace_format_fn format, unsigned mode);
/* Write to a file descriptor (not closed by the writer). */
struct mmiotrace_writer *mmiotrace_writer_new_fd(int fd, unsigned mode);
/* Write to a stdio stream (not closed by the writer; flushed by mmiotrace_writer_flush). */
struct mmiotrace_writer *mmiotrace_writer_new_stdio(FILE *f, unsigned mode);
/* Append one record (buffered). 0, or -1 with errno (EINVAL: invalid record; I/O errors). */
int mmiotrace_writer_write(struct mmiotrace_writer *w, const struct mmiotrace_record *rec);
/* Write out the buffer. */
int mmiotrace_writer_flush(struct mmiotrace_writer *w);
/* Records written (not counting those the mode dropped) and bytes handed to the sink so far. */
uint64_t mmiotrace_writer_records(const struct mmiotrace_writer *w);
uint64_t mmiotrace_writer_bytes(const struct mmiotrace_writer *w);
/* Flush and free; returns -1 if the final flush failed. */
int mmiotrace_writer_free(struct mmiotrace_writer *w);

/* ---- JSON Lines writer (jsonl-write.c: libc only) ---- */

/* Format one record as a JSON object line (mode is ignored: every field is written). */
int mmiotrace_jsonl_format(char *buf, size_t size, const struct mmiotrace_record *rec,
                           unsigned mode);

/* ---- Compressed output (compress.c: zlib, liblzma, libzstd) ---- */

enum mmiotrace_compression {
    MMIOTRACE_COMP_NONE = 0,
    MMIOTRACE_COMP_GZIP,
    MMIOTRACE_COMP_XZ,
    MMIOTRACE_COMP_ZSTD,
};

/* Compression implied by a file name's extension (.gz, .xz, .zst). */
enum mmiotrace_compression mmiotrace_compression_from_name(const char *path);
/* A sink that compresses into fd. mmiotrace_csink_finish ends the stream and frees it. */
struct mmiotrace_csink;
struct mmiotrace_csink *mmiotrace_csink_new(int fd, enum mmiotrace_compression comp);
int mmiotrace_csink_write(void *csink, const void *buf, size_t len); /* a mmiotrace_sink_fn */
int mmiotrace_csink_finish(struct mmiotrace_csink *cs);

/* ---- Reader (reader*.c) ---- */

enum mmiotrace_error_policy {
    MMIOTRACE_ON_ERROR_STOP = 0, /* a malformed line ends reading with an error */
    MMIOTRACE_ON_ERROR_SKIP,     /* a malformed line is reported, counted and skipped */
};

/* Called with "FILE:LINE: what is wrong" for every skipped line. */
typedef void (*mmiotrace_warn_fn)(void *opaque, const char *message);

struct mmiotrace_reader;

/* Open a file ("-" = stdin). Compression (.gz/.xz/.zst) and JSON Lines are detected from the
 * content, not the name. NULL + errno on failure. */
struct mmiotrace_reader *mmiotrace_reader_open(const char *path);
/* Read from fd; name is used in messages; the fd is closed by mmiotrace_reader_free if own_fd. */
struct mmiotrace_reader *mmiotrace_reader_open_fd(int fd, const char *name, bool own_fd);
/* Read from memory (not copied: must outlive the reader). */
struct mmiotrace_reader *mmiotrace_reader_open_mem(const void *data, size_t len, const char *name);
void mmiotrace_reader_set_policy(struct mmiotrace_reader *r, enum mmiotrace_error_policy policy,
                                 mmiotrace_warn_fn warn, void *opaque);
/*
 * Next record: 1 = *rec filled (its text fields are valid until the next call), 0 = end of
 * input, -1 = error (mmiotrace_reader_error says what; reading cannot continue).
 */
int mmiotrace_reader_next(struct mmiotrace_reader *r, struct mmiotrace_record *rec);
/* The last error ("FILE:LINE: what is wrong" or "FILE: what is wrong"), or "" if none. */
const char *mmiotrace_reader_error(const struct mmiotrace_reader *r);
/* Malformed lines skipped so far (policy MMIOTRACE_ON_ERROR_SKIP). */
uint64_t mmiotrace_reader_skipped(const struct mmiotrace_reader *r);
/* Line number (1-based) of the last record returned; lines read so far; input bytes read. */
uint64_t mmiotrace_reader_line(const struct mmiotrace_reader *r);
uint64_t mmiotrace_reader_bytes(const struct mmiotrace_reader *r);
/* What the input turned out to be (valid after the first mmiotrace_reader_next). */
enum mmiotrace_compression mmiotrace_reader_compression(const struct mmiotrace_reader *r);
bool mmiotrace_reader_is_jsonl(const struct mmiotrace_reader *r);
void mmiotrace_reader_free(struct mmiotrace_reader *r);

#endif
