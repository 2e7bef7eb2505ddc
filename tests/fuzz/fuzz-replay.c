/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * libFuzzer harness for what QEMU's mmiotrace-replay does with a recording before any of it
 * reaches QEMU's PCI code: the first pass (mmiotrace_replay_scan) and the identity check
 * (mmiotrace_pci_identity_check). Whatever the input, an identity that passes must be one
 * QEMU can build without asserting or writing outside the config space: MSI within 32
 * vectors and inside the 256-byte config space, MSI-X with its table and PBA inside
 * existing memory BARs, BAR sizes by the PCI rules, every access inside its BAR.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay-scan.h"

static struct mmiotrace_replay_scan scan;

static void check_identity(const struct mmiotrace_replay_dev *d,
                           const struct mmiotrace_pci_identity *id)
{
    for (int i = 0; i < MMIOTRACE_REPLAY_BARS; i++) {
        uint64_t size = id->bar_size[i];
        if (size && (size & (size - 1))) {
            abort();
        }
        if ((id->bar_type[i] & 1) && size > 256) {
            abort(); /* an I/O BAR of more than 256 bytes */
        }
        if (!(id->bar_type[i] & 1) && !(id->bar_type[i] & 4) && size > (1ull << 31)) {
            abort(); /* a 32-bit memory BAR of more than 2 GiB */
        }
        if (d->bar_end[i] > size) {
            abort(); /* an access outside its BAR */
        }
    }
    if (id->msi_pos) {
        unsigned len =
            id->msi_64bit ? (id->msi_maskbit ? 0x18 : 0x0e) : (id->msi_maskbit ? 0x14 : 0x0a);
        if (id->msi_pos < 0x40 || id->msi_pos + len > 0x100 || id->msi_pos + len > d->config_len ||
            id->msi_vectors < 1 || id->msi_vectors > 32 ||
            (id->msi_vectors & (id->msi_vectors - 1))) {
            abort();
        }
    }
    if (id->msix_pos) {
        uint64_t tlen = (uint64_t)id->msix_vectors * 16, plen = (id->msix_vectors + 63) / 64 * 8;
        if (id->msix_pos < 0x40 || id->msix_pos + 12 > 0x100 || id->msix_vectors < 1 ||
            id->msix_vectors > 2048 || id->msix_table_bar >= 6 || id->msix_pba_bar >= 6 ||
            (id->bar_type[id->msix_table_bar] & 1) ||
            id->msix_table_off + tlen > id->bar_size[id->msix_table_bar] ||
            id->msix_pba_off + plen > id->bar_size[id->msix_pba_bar]) {
            abort();
        }
    }
    if (d->config_len > 0x3d && d->config[0x3d] > 4) {
        abort(); /* an interrupt pin QEMU's INTx code asserts on */
    }
    if ((id->msi_pos || id->msix_pos) && !id->caps) {
        abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct mmiotrace_reader *r = mmiotrace_reader_open_mem(data, size, "fuzz");
    char err[512];

    if (!r) {
        return 0;
    }
    int ret = mmiotrace_replay_scan(r, "fuzz", &scan, err, sizeof(err));
    mmiotrace_reader_free(r);
    if (ret < 0) {
        if (!memchr(err, 0, sizeof(err)) || strncmp(err, "fuzz", 4)) {
            abort(); /* every message names the recording */
        }
        return 0;
    }
    for (unsigned i = 0; i < scan.n; i++) {
        struct mmiotrace_pci_identity id;
        if (mmiotrace_pci_identity_check(&scan.devs[i], "fuzz", &id, err, sizeof(err)) == 0) {
            check_identity(&scan.devs[i], &id);
        }
    }
    return 0;
}
