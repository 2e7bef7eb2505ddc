/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libmmiotrace: recordings as untrusted input for a replay device (QEMU's mmiotrace-replay,
 * hw/mmiotrace/replay.c). A first pass over the recording (mmiotrace_replay_scan) keeps
 * only each recorded device's identity and bounds, in constant memory; the identity is then
 * checked against the PCI rules (mmiotrace_pci_identity_check) before any of it reaches
 * QEMU's PCI code. The accesses themselves are streamed in a second pass
 * (mmiotrace_replay_access turns a record into its BAR and offset).
 *
 * libc only (QEMU compiles it). Errors are "FILE:LINE: what is wrong" in err.
 */
#ifndef HVMMIO_TRACE_REPLAY_SCAN_H
#define HVMMIO_TRACE_REPLAY_SCAN_H

#include "mmiotrace.h"

#define MMIOTRACE_REPLAY_MAX_DEVICES 64 /* distinct dev= names a recording may hold */
#define MMIOTRACE_REPLAY_BARS 6         /* BAR0-5 (the expansion ROM is not replayed) */

/* What the first pass keeps of one recorded device. */
struct mmiotrace_replay_dev {
    char name[MMIOTRACE_DEV_MAX + 1]; /* "" for records without dev= */
    uint8_t config[MMIOTRACE_CONFIG_MAX];
    unsigned config_len; /* 0: no PCICFG record */
    uint64_t config_line;
    struct mmiotrace_pcidev pcidev; /* the last PCIDEV line (driver dropped) */
    bool have_pcidev;
    uint64_t pcidev_line;
    uint64_t accesses, guest_accesses, irqs;
    /* per BAR: the end of the access reaching furthest, and its line */
    uint64_t bar_end[MMIOTRACE_REPLAY_BARS];
    uint64_t bar_end_line[MMIOTRACE_REPLAY_BARS];
};

struct mmiotrace_replay_scan {
    unsigned n;
    struct mmiotrace_replay_dev devs[MMIOTRACE_REPLAY_MAX_DEVICES];
};

/* The device named name (len bytes) in the scan, or NULL. */
struct mmiotrace_replay_dev *mmiotrace_replay_find(struct mmiotrace_replay_scan *s,
                                                   const char *name, size_t len);

/*
 * The BAR and offset of an R/W record: its bar=/off= facts, else the BAR of pcidev (the
 * device's PCIDEV line in effect, NULL if none) holding its address. 0, or -1 with a message.
 */
int mmiotrace_replay_access(const struct mmiotrace_record *rec,
                            const struct mmiotrace_pcidev *pcidev, const char *path, uint64_t line,
                            uint8_t *bar, uint64_t *off, char *err, size_t errlen);

/*
 * First pass: read the whole recording from r (path names it in messages) into s. Every
 * access is checked for its BAR and offset (no wrap-around). 0, or -1 with a message.
 */
int mmiotrace_replay_scan(struct mmiotrace_reader *r, const char *path,
                          struct mmiotrace_replay_scan *s, char *err, size_t errlen);

/* A recorded device's identity, checked against the PCI rules and QEMU's limits. */
struct mmiotrace_pci_identity {
    uint64_t bar_size[MMIOTRACE_REPLAY_BARS]; /* 0: no BAR */
    uint8_t bar_type[MMIOTRACE_REPLAY_BARS];  /* the BAR's low bits (PCI_BASE_ADDRESS_*) */
    bool caps;                                /* the config space has a valid capability list */
    unsigned msi_pos;                         /* 0: no MSI capability */
    unsigned msi_vectors;                     /* 1-32 */
    bool msi_64bit, msi_maskbit;
    unsigned msix_pos;     /* 0: no MSI-X capability */
    unsigned msix_vectors; /* 1-2048 */
    uint8_t msix_table_bar, msix_pba_bar;
    uint32_t msix_table_off, msix_pba_off;
};

/*
 * Check dev's identity (its PCICFG and last PCIDEV) and its accesses' bounds, and fill id.
 * path names the recording in messages. 0, or -1 with "FILE:LINE: what is wrong".
 */
int mmiotrace_pci_identity_check(const struct mmiotrace_replay_dev *dev, const char *path,
                                 struct mmiotrace_pci_identity *id, char *err, size_t errlen);

#endif
