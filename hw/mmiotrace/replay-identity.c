/*
 * hvmmio: mmiotrace-replay takes the recorded device's identity: IDs and class from
 * its config space (else its PCIDEV line), BARs, MSI and MSI-X as recorded, the other
 * capabilities read-only.
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qapi/error.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "replay-int.h"

/* IDs and class: from the config space when recorded, else the PCIDEV IDs. */
static void set_ids(PCIDevice *pdev, const struct mmiotrace_replay_dev *d)
{
    const uint8_t *c = d->config;

    pci_config_set_vendor_id(pdev->config, d->pcidev.vendor);
    pci_config_set_device_id(pdev->config, d->pcidev.device);
    if (d->config_len) {
        pci_config_set_vendor_id(pdev->config, pci_get_word(c + PCI_VENDOR_ID));
        pci_config_set_device_id(pdev->config, pci_get_word(c + PCI_DEVICE_ID));
        pci_config_set_revision(pdev->config, c[PCI_REVISION_ID]);
        pci_config_set_class(pdev->config, pci_get_word(c + PCI_CLASS_DEVICE));
        pdev->config[PCI_CLASS_PROG] = c[PCI_CLASS_PROG];
        pci_set_word(pdev->config + PCI_SUBSYSTEM_VENDOR_ID,
                     pci_get_word(c + PCI_SUBSYSTEM_VENDOR_ID));
        pci_set_word(pdev->config + PCI_SUBSYSTEM_ID, pci_get_word(c + PCI_SUBSYSTEM_ID));
        pdev->config[PCI_INTERRUPT_PIN] = c[PCI_INTERRUPT_PIN];
    } else {
        pci_config_set_class(pdev->config, PCI_CLASS_OTHERS);
        pdev->config[PCI_INTERRUPT_PIN] = 1;
    }
}

/* MSI and MSI-X as recorded (QEMU emulates them, as it did for the original). */
static bool set_msi(MmioTraceReplay *s, const struct mmiotrace_pci_identity *id,
                    uint64_t src_line, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    if (id->msi_pos && msi_init(pdev, id->msi_pos, id->msi_vectors, id->msi_64bit,
                               id->msi_maskbit, errp) < 0) {
        error_prepend(errp, "%s:%" PRIu64 ": recorded MSI capability: ", s->trace,
                      src_line);
        return false;
    }
    if (id->msix_pos) {
        if (msix_init(pdev, id->msix_vectors, &s->bar[id->msix_table_bar],
                      id->msix_table_bar, id->msix_table_off, &s->bar[id->msix_pba_bar],
                      id->msix_pba_bar, id->msix_pba_off, id->msix_pos, errp) < 0) {
            error_prepend(errp, "%s:%" PRIu64 ": recorded MSI-X capability: ", s->trace,
                          src_line);
            return false;
        }
        for (unsigned v = 0; v < id->msix_vectors; v++) {
            msix_vector_use(pdev, v);
        }
        s->msix_bar[0] = id->msix_table_bar;
        s->msix_off[0] = id->msix_table_off;
        s->msix_len[0] = (uint64_t)id->msix_vectors * PCI_MSIX_ENTRY_SIZE;
        s->msix_bar[1] = id->msix_pba_bar;
        s->msix_off[1] = id->msix_pba_off;
        s->msix_len[1] = QEMU_ALIGN_UP(id->msix_vectors, 64) / 8;
    }
    return true;
}

bool replay_setup_identity(MmioTraceReplay *s, const struct mmiotrace_replay_dev *d,
                           Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    const uint8_t *c = d->config;
    unsigned len = d->config_len;
    uint64_t src_line = d->config_len ? d->config_line : d->pcidev_line;
    struct mmiotrace_pci_identity id;
    char err[512];

    if (mmiotrace_pci_identity_check(d, s->trace, &id, err, sizeof(err)) < 0) {
        error_setg(errp, "mmiotrace-replay: %s", err);
        return false;
    }

    set_ids(pdev, d);

    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        if (!id.bar_size[i]) {
            continue;
        }
        g_autofree char *name = g_strdup_printf("mmiotrace-replay-bar%d", i);
        s->barctx[i].s = s;
        s->barctx[i].nr = i;
        memory_region_init_io(&s->bar[i], OBJECT(s), &replay_ops, &s->barctx[i], name,
                              id.bar_size[i]);
    }

    if (!set_msi(s, &id, src_line, errp)) {
        return false;
    }
    /* the other capabilities, and the recorded chain, read-only as recorded */
    if (id.caps) {
        memcpy(pdev->config + 0x40, c + 0x40, MIN(len, PCI_CONFIG_SPACE_SIZE) - 0x40);
        pdev->config[PCI_CAPABILITY_LIST] = c[PCI_CAPABILITY_LIST];
        pci_set_word(pdev->config + PCI_STATUS,
                     pci_get_word(pdev->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
        /* interrupts start disabled, as QEMU's MSI and MSI-X emulation set them up */
        if (id.msi_pos) {
            pdev->config[id.msi_pos + PCI_MSI_FLAGS] &= ~PCI_MSI_FLAGS_ENABLE;
        }
        if (id.msix_pos) {
            pdev->config[id.msix_pos + PCI_MSIX_FLAGS + 1] &=
                ~((PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL) >> 8);
        }
    }
    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        if (id.bar_size[i]) {
            pci_register_bar(pdev, i, id.bar_type[i], &s->bar[i]);
        }
    }
    return true;
}
