/*
 * hvmmio: mmiotrace-replay, a PCI device that stands in for a recorded one.
 *
 * It realizes with the recorded device's identity (its PCICFG config space record,
 * else its PCIDEV line): IDs, class, BAR sizes and types, capabilities with MSI and
 * MSI-X. Reads return the recorded values; writes are checked against the recorded
 * ones; recorded interrupts are raised at their place in the stream.
 *
 *   mode=strict          accesses must follow the recording's order exactly
 *   mode=poll-tolerant   an extra read of the register last read repeats its last
 *                        recorded value; recorded repeated reads (polls) the guest does
 *                        not make are skipped up to the next matching access
 *   on-divergence=stop   report and end QEMU (the default: for CI)
 *   on-divergence=log    report every divergence, resynchronise and go on
 *   on-divergence=continue  count divergences silently and go on
 *
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "qemu/osdep.h"
#include "qemu/error-report.h"
#include "qemu/module.h"
#include "qapi/error.h"
#include "qapi/qapi-commands-mmiotrace.h"
#include "qapi/qapi-events-mmiotrace.h"
#include "hw/pci/pci.h"
#include "hw/pci/pci_device.h"
#include "hw/pci/msi.h"
#include "hw/pci/msix.h"
#include "hw/qdev-properties.h"
#include "system/runstate.h"
#include "system/system.h"
#include "qom/object.h"
#include "mmiotrace-int.h"

#define TYPE_MMIOTRACE_REPLAY "mmiotrace-replay"
OBJECT_DECLARE_SIMPLE_TYPE(MmioTraceReplay, MMIOTRACE_REPLAY)

#define RESYNC_WINDOW 4096
#define CONTEXT 3

enum { ON_DIV_STOP, ON_DIV_LOG, ON_DIV_CONTINUE };

typedef struct ReplayRec {
    uint8_t type;       /* MMIOTRACE_READ, _WRITE, _IRQ */
    uint8_t width;      /* IRQ: kind */
    uint8_t bar;
    bool poll;
    int32_t vcpu;       /* MMIOTRACE_VCPU_NONE: an access QEMU made itself */          /* a read repeating the previous access's register */
    uint64_t off;       /* IRQ: vector */
    uint64_t value;     /* IRQ: data (INTx: level) */
    uint64_t line;
} ReplayRec;

typedef struct ReplayBar {
    struct MmioTraceReplay *s;
    int nr;
} ReplayBar;

struct MmioTraceReplay {
    PCIDevice parent_obj;

    /* properties */
    char *trace;
    char *mode;
    char *on_divergence;
    char *device;
    char *report;

    bool poll_tolerant;
    int on_div;
    char *dev_name;             /* the recorded device replayed */
    MemoryRegion bar[PCI_NUM_REGIONS];
    ReplayBar barctx[PCI_NUM_REGIONS];
    ReplayRec *recs;
    size_t n, pos;
    ssize_t last_read;
    uint64_t divergences, extra_polls, skipped_polls;
    bool diverged;
    uint64_t div_index, div_line;
    char *div_expected, *div_actual;
    GString *div_context;
    bool ended;
    /* MSI-X table and PBA: QEMU's MSI-X emulation serves them, not the recording */
    int msix_bar[2];
    uint64_t msix_off[2], msix_len[2];
    Notifier exit_notifier;
    QTAILQ_ENTRY(MmioTraceReplay) next;
};

static QTAILQ_HEAD(, MmioTraceReplay) replays = QTAILQ_HEAD_INITIALIZER(replays);
static const MemoryRegionOps replay_ops;

/* ---- loading the recording ---- */

typedef struct RecordedDev {
    char *name;
    GArray *recs;
    uint8_t config[MMIOTRACE_CONFIG_MAX];
    unsigned config_len;
    uint64_t config_line;
    struct mmiotrace_pcidev pcidev;
    bool have_pcidev;
    uint64_t pcidev_line;
    uint64_t guest_accesses;    /* accesses with a vCPU */
} RecordedDev;

static void recorded_dev_free(gpointer p)
{
    RecordedDev *d = p;
    g_array_free(d->recs, true);
    g_free(d->name);
    g_free(d);
}

typedef struct Loaded {
    GHashTable *devs;           /* name -> RecordedDev */
    GPtrArray *order;           /* names in order of appearance */
} Loaded;

static RecordedDev *loaded_dev(Loaded *l, const char *name, size_t len)
{
    g_autofree char *key = g_strndup(name, len);
    RecordedDev *d = g_hash_table_lookup(l->devs, key);

    if (!d) {
        d = g_new0(RecordedDev, 1);
        d->name = g_strdup(key);
        d->recs = g_array_new(false, false, sizeof(ReplayRec));
        g_hash_table_insert(l->devs, g_strdup(key), d);
        g_ptr_array_add(l->order, d->name);
    }
    return d;
}

/* The BAR of a recorded PCIDEV line holding phys, for traces without bar=/off=. */
static int bar_of(const struct mmiotrace_pcidev *p, uint64_t phys, uint64_t *off)
{
    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        uint64_t start = p->resource[i] & ~0xfull;
        if (p->size[i] && !(p->resource[i] & 1) && phys >= start &&
            phys - start < p->size[i]) {
            *off = phys - start;
            return i;
        }
    }
    return -1;
}

static bool load_trace(const char *path, Loaded *l, Error **errp)
{
    struct mmiotrace_reader *reader = mmiotrace_reader_open(path);
    struct mmiotrace_record rec;
    int ret;

    if (!reader) {
        error_setg_errno(errp, errno, "mmiotrace-replay: cannot read trace '%s'", path);
        return false;
    }
    while ((ret = mmiotrace_reader_next(reader, &rec)) == 1) {
        uint64_t line = mmiotrace_reader_line(reader);
        const char *name = rec.ext & MMIOTRACE_EXT_DEV ? rec.dev : "";
        size_t name_len = rec.ext & MMIOTRACE_EXT_DEV ? rec.dev_len : 0;
        RecordedDev *d;
        ReplayRec r = { 0 };

        switch (rec.type) {
        case MMIOTRACE_PCIDEV:
            d = loaded_dev(l, name, name_len);
            d->pcidev = rec.pcidev;
            d->pcidev.driver = NULL;
            d->pcidev.driver_len = 0;
            d->have_pcidev = true;
            d->pcidev_line = line;
            break;
        case MMIOTRACE_CONFIG:
            d = loaded_dev(l, name, name_len);
            d->config_len = MIN(rec.config.len, MMIOTRACE_CONFIG_MAX);
            memcpy(d->config, rec.config.data, d->config_len);
            d->config_line = line;
            break;
        case MMIOTRACE_READ:
        case MMIOTRACE_WRITE:
            d = loaded_dev(l, name, name_len);
            r.type = rec.type;
            r.width = rec.rw.width;
            r.value = rec.rw.value;
            r.line = line;
            if (rec.ext & MMIOTRACE_EXT_BAR) {
                r.bar = rec.bar;
                r.off = rec.bar_off;
            } else {
                int bar = d->have_pcidev ? bar_of(&d->pcidev, rec.rw.phys, &r.off) : -1;
                if (bar < 0) {
                    error_setg(errp, "%s:%" PRIu64 ": access at 0x%" PRIx64 " is in no "
                               "memory BAR of the recorded device's PCIDEV line",
                               path, line, rec.rw.phys);
                    mmiotrace_reader_free(reader);
                    return false;
                }
                r.bar = bar;
            }
            r.vcpu = rec.ext & MMIOTRACE_EXT_VCPU ? rec.vcpu : 0;
            if (r.vcpu != MMIOTRACE_VCPU_NONE) {
                d->guest_accesses++;
            }
            g_array_append_val(d->recs, r);
            break;
        case MMIOTRACE_IRQ:
            d = loaded_dev(l, name, name_len);
            r.type = MMIOTRACE_IRQ;
            r.width = rec.irq.kind;
            r.off = rec.irq.vector;
            r.value = rec.irq.data;
            r.line = line;
            r.vcpu = MMIOTRACE_VCPU_NONE;
            g_array_append_val(d->recs, r);
            break;
        default:
            break;
        }
    }
    if (ret < 0) {
        error_setg(errp, "mmiotrace-replay: %s", mmiotrace_reader_error(reader));
        mmiotrace_reader_free(reader);
        return false;
    }
    mmiotrace_reader_free(reader);
    return true;
}

/* ---- the recorded identity ---- */

static uint32_t cfg_get(const uint8_t *c, unsigned len, unsigned off, unsigned size)
{
    uint32_t v = 0;
    for (unsigned i = 0; i < size && off + i < len; i++) {
        v |= (uint32_t)c[off + i] << (8 * i);
    }
    return v;
}

/* Offset of a capability in a recorded config space, 0 if absent. */
static unsigned find_cap(const uint8_t *c, unsigned len, uint8_t id)
{
    unsigned pos, n = 0;

    if (len < 0x40 || !(cfg_get(c, len, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)) {
        return 0;
    }
    for (pos = c[PCI_CAPABILITY_LIST] & ~3; pos >= 0x40 && pos < 0x100 && n < 48;
         pos = c[pos + PCI_CAP_LIST_NEXT] & ~3, n++) {
        if (c[pos + PCI_CAP_LIST_ID] == id) {
            return pos;
        }
    }
    return 0;
}

static bool in_msix(MmioTraceReplay *s, const ReplayRec *r)
{
    for (int i = 0; i < 2; i++) {
        if (s->msix_len[i] && r->bar == s->msix_bar[i] && r->off >= s->msix_off[i] &&
            r->off < s->msix_off[i] + s->msix_len[i]) {
            return true;
        }
    }
    return false;
}

static bool setup_identity(MmioTraceReplay *s, RecordedDev *d, Error **errp)
{
    PCIDevice *pdev = PCI_DEVICE(s);
    uint8_t *c = d->config;
    unsigned len = d->config_len;
    uint64_t src_line = d->config_len ? d->config_line : d->pcidev_line;
    uint64_t sizes[PCI_NUM_REGIONS] = { 0 };
    uint8_t types[PCI_NUM_REGIONS] = { 0 };

    if (len && len < 0x40) {
        error_setg(errp, "%s:%" PRIu64 ": PCICFG has %u bytes; a config space header "
                   "has 64", s->trace, d->config_line, len);
        return false;
    }
    if (!d->have_pcidev) {
        error_setg(errp, "%s: the recording of '%s' has no PCIDEV line (BAR sizes "
                   "unknown)", s->trace, d->name);
        return false;
    }
    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        sizes[i] = d->pcidev.size[i];
        types[i] = d->pcidev.resource[i] & 0xf;
        if (!sizes[i]) {
            continue;
        }
        if (!is_power_of_2(sizes[i]) || sizes[i] < ((types[i] & 1) ? 4 : 16) ||
            sizes[i] > (1ull << 40)) {
            error_setg(errp, "%s:%" PRIu64 ": BAR %d size 0x%" PRIx64 " is impossible "
                       "(a power of two, at least %d bytes)", s->trace, d->pcidev_line,
                       i, sizes[i], (types[i] & 1) ? 4 : 16);
            return false;
        }
        if ((types[i] & PCI_BASE_ADDRESS_MEM_TYPE_64) && i == PCI_ROM_SLOT - 1) {
            error_setg(errp, "%s:%" PRIu64 ": BAR 5 cannot be 64-bit", s->trace,
                       d->pcidev_line);
            return false;
        }
    }

    /* identity: from the config space when recorded, else the PCIDEV IDs */
    pci_config_set_vendor_id(pdev->config, d->pcidev.vendor);
    pci_config_set_device_id(pdev->config, d->pcidev.device);
    if (len) {
        pci_config_set_vendor_id(pdev->config, cfg_get(c, len, PCI_VENDOR_ID, 2));
        pci_config_set_device_id(pdev->config, cfg_get(c, len, PCI_DEVICE_ID, 2));
        pci_config_set_revision(pdev->config, c[PCI_REVISION_ID]);
        pci_config_set_class(pdev->config, cfg_get(c, len, PCI_CLASS_DEVICE, 2));
        pdev->config[PCI_CLASS_PROG] = c[PCI_CLASS_PROG];
        pci_set_word(pdev->config + PCI_SUBSYSTEM_VENDOR_ID,
                     cfg_get(c, len, PCI_SUBSYSTEM_VENDOR_ID, 2));
        pci_set_word(pdev->config + PCI_SUBSYSTEM_ID, cfg_get(c, len, PCI_SUBSYSTEM_ID, 2));
        pdev->config[PCI_INTERRUPT_PIN] = c[PCI_INTERRUPT_PIN];
    } else {
        pci_config_set_class(pdev->config, PCI_CLASS_OTHERS);
        pdev->config[PCI_INTERRUPT_PIN] = 1;
    }

    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        if (!sizes[i]) {
            continue;
        }
        g_autofree char *name = g_strdup_printf("mmiotrace-replay-bar%d", i);
        s->barctx[i].s = s;
        s->barctx[i].nr = i;
        memory_region_init_io(&s->bar[i], OBJECT(s), &replay_ops, &s->barctx[i], name,
                              sizes[i]);
    }

    /* MSI and MSI-X as recorded (QEMU emulates them, as it did for the original) */
    unsigned msi = len ? find_cap(c, len, PCI_CAP_ID_MSI) : 0;
    unsigned msix = len ? find_cap(c, len, PCI_CAP_ID_MSIX) : 0;
    if (msi) {
        uint16_t flags = cfg_get(c, len, msi + PCI_MSI_FLAGS, 2);
        if (msi_init(pdev, msi, 1u << ((flags & PCI_MSI_FLAGS_QMASK) >> 1),
                     flags & PCI_MSI_FLAGS_64BIT, flags & PCI_MSI_FLAGS_MASKBIT,
                     errp) < 0) {
            error_prepend(errp, "%s:%" PRIu64 ": recorded MSI capability: ", s->trace,
                          src_line);
            return false;
        }
    }
    if (msix) {
        uint16_t ctrl = cfg_get(c, len, msix + PCI_MSIX_FLAGS, 2);
        uint32_t table = cfg_get(c, len, msix + PCI_MSIX_TABLE, 4);
        uint32_t pba = cfg_get(c, len, msix + PCI_MSIX_PBA, 4);
        int tbir = table & PCI_MSIX_FLAGS_BIRMASK, pbir = pba & PCI_MSIX_FLAGS_BIRMASK;
        unsigned nvec = (ctrl & PCI_MSIX_FLAGS_QSIZE) + 1;

        if (tbir >= PCI_ROM_SLOT || pbir >= PCI_ROM_SLOT || !sizes[tbir] || !sizes[pbir]) {
            error_setg(errp, "%s:%" PRIu64 ": MSI-X table or PBA in a BAR the recording "
                       "does not have", s->trace, src_line);
            return false;
        }
        if (msix_init(pdev, nvec, &s->bar[tbir], tbir, table & ~PCI_MSIX_FLAGS_BIRMASK,
                      &s->bar[pbir], pbir, pba & ~PCI_MSIX_FLAGS_BIRMASK, msix, errp) < 0) {
            error_prepend(errp, "%s:%" PRIu64 ": recorded MSI-X capability: ", s->trace,
                          src_line);
            return false;
        }
        for (unsigned v = 0; v < nvec; v++) {
            msix_vector_use(pdev, v);
        }
        s->msix_bar[0] = tbir;
        s->msix_off[0] = table & ~PCI_MSIX_FLAGS_BIRMASK;
        s->msix_len[0] = nvec * PCI_MSIX_ENTRY_SIZE;
        s->msix_bar[1] = pbir;
        s->msix_off[1] = pba & ~PCI_MSIX_FLAGS_BIRMASK;
        s->msix_len[1] = QEMU_ALIGN_UP(nvec, 64) / 8;
    }
    /* the other capabilities, and the recorded chain, read-only as recorded */
    if (len && (cfg_get(c, len, PCI_STATUS, 2) & PCI_STATUS_CAP_LIST)) {
        memcpy(pdev->config + 0x40, c + 0x40, MIN(len, PCI_CONFIG_SPACE_SIZE) - 0x40);
        pdev->config[PCI_CAPABILITY_LIST] = c[PCI_CAPABILITY_LIST];
        pci_set_word(pdev->config + PCI_STATUS,
                     pci_get_word(pdev->config + PCI_STATUS) | PCI_STATUS_CAP_LIST);
    }
    for (int i = 0; i < PCI_ROM_SLOT; i++) {
        if (sizes[i]) {
            pci_register_bar(pdev, i, types[i], &s->bar[i]);
        }
    }
    return true;
}

/* ---- replaying ---- */

static char *describe(const ReplayRec *r)
{
    if (r->type == MMIOTRACE_IRQ) {
        static const char *const kinds[] = { "INTx", "MSI", "MSI-X" };
        return g_strdup_printf("IRQ %s vector %" PRIu64 " data 0x%" PRIx64,
                               r->width < 3 ? kinds[r->width] : "?", r->off, r->value);
    }
    return g_strdup_printf("%s %u bar=%u off=0x%" PRIx64 " 0x%" PRIx64,
                           r->type == MMIOTRACE_WRITE ? "W" : "R", r->width, r->bar,
                           r->off, r->value);
}

static void raise_irqs(MmioTraceReplay *s)
{
    PCIDevice *pdev = PCI_DEVICE(s);

    while (s->pos < s->n && s->recs[s->pos].type == MMIOTRACE_IRQ) {
        ReplayRec *r = &s->recs[s->pos++];
        switch (r->width) {
        case MMIOTRACE_IRQ_INTX:
            pci_set_irq(pdev, r->value & 1);
            break;
        case MMIOTRACE_IRQ_MSI:
            if (msi_enabled(pdev) && r->off < msi_nr_vectors_allocated(pdev)) {
                msi_notify(pdev, r->off);
            }
            break;
        case MMIOTRACE_IRQ_MSIX:
            if (msix_enabled(pdev) && r->off < pdev->msix_entries_nr) {
                msix_notify(pdev, r->off);
            }
            break;
        }
    }
}

static bool matches(const ReplayRec *r, int bar, hwaddr off, unsigned size, bool write,
                    uint64_t value)
{
    return r->type == (write ? MMIOTRACE_WRITE : MMIOTRACE_READ) && r->bar == bar &&
           r->off == off && r->width == size && (!write || r->value == value);
}

static void write_report(MmioTraceReplay *s, FILE *out);

static void divergence(MmioTraceReplay *s, const char *actual)
{
    s->divergences++;
    if (!s->diverged) {
        s->diverged = true;
        s->div_index = s->pos;
        s->div_line = s->pos < s->n ? s->recs[s->pos].line : 0;
        s->div_expected = s->pos < s->n ? describe(&s->recs[s->pos]) : g_strdup("");
        s->div_actual = g_strdup(actual);
        s->div_context = g_string_new(NULL);
        for (size_t i = s->pos > CONTEXT ? s->pos - CONTEXT : 0;
             i < MIN(s->n, s->pos + CONTEXT + 1); i++) {
            g_autofree char *d = describe(&s->recs[i]);
            g_string_append_printf(s->div_context, "    %s #%zu %s:%" PRIu64 " %s\n",
                                   i == s->pos ? ">" : " ", i, s->trace,
                                   s->recs[i].line, d);
        }
        MmioTraceReplayDivergence div = {
            .index = s->div_index, .line = s->div_line,
            .expected = s->div_expected, .actual = s->div_actual,
        };
        qapi_event_send_mmiotrace_replay_divergence(s->dev_name, &div);
    }
    if (s->on_div == ON_DIV_LOG || (s->on_div == ON_DIV_STOP && s->divergences == 1)) {
        g_autofree char *exp = s->pos < s->n ? describe(&s->recs[s->pos])
                                             : g_strdup("(end of the recording)");
        error_report("mmiotrace-replay: divergence at record %zu (%s:%" PRIu64 "): "
                     "expected %s, got %s", s->pos, s->trace,
                     s->pos < s->n ? s->recs[s->pos].line : 0, exp, actual);
    }
    if (s->on_div == ON_DIV_STOP && !s->ended) {
        s->ended = true;
        write_report(s, stderr);
        qemu_system_shutdown_request(SHUTDOWN_CAUSE_HOST_ERROR);
    }
}

static uint64_t replay_access(MmioTraceReplay *s, int bar, hwaddr off, unsigned size,
                              bool write, uint64_t value)
{
    raise_irqs(s);
    if (s->pos < s->n && matches(&s->recs[s->pos], bar, off, size, write, value)) {
        goto consume;
    }
    if (s->poll_tolerant) {
        /* an extra poll: the register last read, read again */
        if (!write && s->last_read >= 0 &&
            matches(&s->recs[s->last_read], bar, off, size, false, 0)) {
            s->extra_polls++;
            return s->recs[s->last_read].value;
        }
        /* recorded polls the guest did not make */
        size_t j = s->pos;
        uint64_t skipped = 0;
        while (j < s->n && (s->recs[j].poll || s->recs[j].type == MMIOTRACE_IRQ) &&
               !matches(&s->recs[j], bar, off, size, write, value)) {
            skipped += s->recs[j].type != MMIOTRACE_IRQ;
            j++;
        }
        if (j < s->n && j > s->pos && matches(&s->recs[j], bar, off, size, write, value)) {
            s->skipped_polls += skipped;
            s->pos = j;
            goto consume;
        }
    }
    {
        g_autofree char *actual = g_strdup_printf("%s %u bar=%d off=0x%" PRIx64
                                                  " 0x%" PRIx64, write ? "W" : "R",
                                                  size, bar, (uint64_t)off, value);
        divergence(s, actual);
    }
    if (s->on_div != ON_DIV_STOP) {
        /* the expected access with another value: counted, and taken as that record */
        if (s->pos < s->n && matches(&s->recs[s->pos], bar, off, size, write,
                                     s->recs[s->pos].value)) {
            goto consume;
        }
        /* resynchronise on the next matching record, if close enough */
        for (size_t j = s->pos; j < MIN(s->n, s->pos + RESYNC_WINDOW); j++) {
            if (matches(&s->recs[j], bar, off, size, write, value)) {
                s->pos = j;
                goto consume;
            }
        }
    }
    return 0;

consume:
    {
        ReplayRec *r = &s->recs[s->pos++];
        if (!write) {
            s->last_read = r - s->recs;
        }
        raise_irqs(s);
        return write ? 0 : r->value;
    }
}

static uint64_t replay_read(void *opaque, hwaddr addr, unsigned size)
{
    ReplayBar *b = opaque;
    return replay_access(b->s, b->nr, addr, size, false, 0);
}

static void replay_write(void *opaque, hwaddr addr, uint64_t val, unsigned size)
{
    ReplayBar *b = opaque;
    replay_access(b->s, b->nr, addr, size, true, val);
}

static const MemoryRegionOps replay_ops = {
    .read = replay_read,
    .write = replay_write,
    .endianness = DEVICE_LITTLE_ENDIAN,
    .valid = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
    .impl = { .min_access_size = 1, .max_access_size = 8, .unaligned = true },
};

/* ---- report ---- */

static bool replay_passed(MmioTraceReplay *s)
{
    return !s->divergences && s->pos == s->n;
}

static void write_report(MmioTraceReplay *s, FILE *out)
{
    fprintf(out, "RESULT %s consumed=%zu total=%zu divergences=%" PRIu64
            " extra-polls=%" PRIu64 " skipped-polls=%" PRIu64 "\n",
            replay_passed(s) ? "PASS" : "FAIL", s->pos, s->n, s->divergences,
            s->extra_polls, s->skipped_polls);
    fprintf(out, "mmiotrace-replay %s: %s (device %s), mode %s\n",
            DEVICE(s)->id ? DEVICE(s)->id : "", s->trace, s->dev_name,
            s->poll_tolerant ? "poll-tolerant" : "strict");
    fprintf(out, "  consumed %zu of %zu recorded records (%.1f%%), %" PRIu64
            " divergences, %" PRIu64 " extra polls, %" PRIu64 " skipped polls\n",
            s->pos, s->n, s->n ? 100.0 * s->pos / s->n : 100.0, s->divergences,
            s->extra_polls, s->skipped_polls);
    if (s->diverged) {
        fprintf(out, "  first divergence at record %" PRIu64 " (%s:%" PRIu64 "):\n"
                "    expected %s\n    got      %s\n  records around it:\n%s",
                s->div_index, s->trace, s->div_line,
                *s->div_expected ? s->div_expected : "(end of the recording)",
                s->div_actual, s->div_context->str);
    } else if (s->pos < s->n) {
        g_autofree char *next = describe(&s->recs[s->pos]);
        fprintf(out, "  the guest stopped before the end of the recording; next "
                "expected: %s (%s:%" PRIu64 ")\n", next, s->trace, s->recs[s->pos].line);
    }
}

static void replay_exit_notify(Notifier *n, void *data)
{
    MmioTraceReplay *s = container_of(n, MmioTraceReplay, exit_notifier);

    if (s->report) {
        FILE *f = fopen(s->report, "w");
        if (f) {
            write_report(s, f);
            fclose(f);
        } else {
            error_report("mmiotrace-replay: cannot write report '%s': %s", s->report,
                         strerror(errno));
        }
    }
    if (!s->ended) {
        write_report(s, stderr);
    }
}

MmioTraceReplayInfoList *qmp_query_mmiotrace_replay(Error **errp)
{
    MmioTraceReplayInfoList *head = NULL, **tail = &head;
    MmioTraceReplay *s;

    QTAILQ_FOREACH(s, &replays, next) {
        MmioTraceReplayInfo *i = g_new0(MmioTraceReplayInfo, 1);
        i->device = DEVICE(s)->id ? g_strdup(DEVICE(s)->id)
                                  : object_get_canonical_path(OBJECT(s));
        i->trace = g_strdup(s->trace);
        i->mode = g_strdup(s->poll_tolerant ? "poll-tolerant" : "strict");
        i->position = s->pos;
        i->total = s->n;
        i->divergences = s->divergences;
        i->extra_polls = s->extra_polls;
        i->skipped_polls = s->skipped_polls;
        if (s->diverged) {
            i->first_divergence = g_new0(MmioTraceReplayDivergence, 1);
            i->first_divergence->index = s->div_index;
            i->first_divergence->line = s->div_line;
            i->first_divergence->expected = g_strdup(s->div_expected);
            i->first_divergence->actual = g_strdup(s->div_actual);
        }
        QAPI_LIST_APPEND(tail, i);
    }
    return head;
}

/* ---- device ---- */

static void replay_realize(PCIDevice *pdev, Error **errp)
{
    MmioTraceReplay *s = MMIOTRACE_REPLAY(pdev);
    Loaded l = {
        .devs = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, recorded_dev_free),
        .order = g_ptr_array_new(),
    };
    RecordedDev *d = NULL;

    if (!s->trace || !*s->trace) {
        error_setg(errp, "mmiotrace-replay: trace=FILE is required");
        goto out;
    }
    if (!s->mode || !strcmp(s->mode, "strict")) {
        s->poll_tolerant = false;
    } else if (!strcmp(s->mode, "poll-tolerant")) {
        s->poll_tolerant = true;
    } else {
        error_setg(errp, "mmiotrace-replay: mode '%s' is not strict or poll-tolerant",
                   s->mode);
        goto out;
    }
    if (!s->on_divergence || !strcmp(s->on_divergence, "stop")) {
        s->on_div = ON_DIV_STOP;
    } else if (!strcmp(s->on_divergence, "log")) {
        s->on_div = ON_DIV_LOG;
    } else if (!strcmp(s->on_divergence, "continue")) {
        s->on_div = ON_DIV_CONTINUE;
    } else {
        error_setg(errp, "mmiotrace-replay: on-divergence '%s' is not stop, log or "
                   "continue", s->on_divergence);
        goto out;
    }
    if (!load_trace(s->trace, &l, errp)) {
        goto out;
    }
    if (s->device) {
        d = g_hash_table_lookup(l.devs, s->device);
        if (!d) {
            g_autoptr(GString) names = g_string_new(NULL);
            for (guint i = 0; i < l.order->len; i++) {
                g_string_append_printf(names, "%s'%s'", i ? ", " : "",
                                       (char *)l.order->pdata[i]);
            }
            error_setg(errp, "mmiotrace-replay: %s has no device '%s' (it records: %s)",
                       s->trace, s->device, names->str);
            goto out;
        }
    } else {
        for (guint i = 0; i < l.order->len; i++) {
            RecordedDev *c = g_hash_table_lookup(l.devs, l.order->pdata[i]);
            if (!c->have_pcidev && !c->config_len) {
                continue;
            }
            if (d) {
                error_setg(errp, "mmiotrace-replay: %s records several devices ('%s', "
                           "'%s', ...): choose one with device=NAME", s->trace, d->name,
                           c->name);
                goto out;
            }
            d = c;
        }
        if (!d) {
            error_setg(errp, "mmiotrace-replay: %s has no PCIDEV line or PCICFG record: "
                       "nothing says what device to replay", s->trace);
            goto out;
        }
    }
    if (!setup_identity(s, d, errp)) {
        goto out;
    }
    s->dev_name = g_strdup(d->name);

    /* the accesses to replay: the guest's (QEMU's own only when there is nothing else),
     * minus MSI-X table and PBA accesses, which QEMU's MSI-X emulation serves */
    PCIDevice *p = PCI_DEVICE(s);
    s->recs = g_new0(ReplayRec, d->recs->len + 1);
    const ReplayRec *prev = NULL;
    for (guint i = 0; i < d->recs->len; i++) {
        ReplayRec r = g_array_index(d->recs, ReplayRec, i);
        if (r.type != MMIOTRACE_IRQ) {
            if (r.vcpu == MMIOTRACE_VCPU_NONE && d->guest_accesses) {
                continue;
            }
            if (r.bar >= PCI_ROM_SLOT || !p->io_regions[r.bar].size ||
                r.off + r.width > p->io_regions[r.bar].size) {
                error_setg(errp, "%s:%" PRIu64 ": access at BAR %u offset 0x%" PRIx64
                           " is outside the recorded BARs", s->trace, r.line, r.bar, r.off);
                goto out;
            }
            if (in_msix(s, &r)) {
                continue;
            }
            r.poll = r.type == MMIOTRACE_READ && prev && prev->type == MMIOTRACE_READ &&
                     prev->bar == r.bar && prev->off == r.off && prev->width == r.width;
            prev = &s->recs[s->n];
        }
        s->recs[s->n++] = r;
    }
    s->last_read = -1;
    s->exit_notifier.notify = replay_exit_notify;
    qemu_add_exit_notifier(&s->exit_notifier);
    QTAILQ_INSERT_TAIL(&replays, s, next);
out:
    g_ptr_array_free(l.order, true);
    g_hash_table_destroy(l.devs);
}

static void replay_exit(PCIDevice *pdev)
{
    MmioTraceReplay *s = MMIOTRACE_REPLAY(pdev);

    if (s->exit_notifier.notify) {
        qemu_remove_exit_notifier(&s->exit_notifier);
        QTAILQ_REMOVE(&replays, s, next);
    }
    msix_uninit_exclusive_bar(pdev);
    msi_uninit(pdev);
    g_free(s->recs);
    g_free(s->dev_name);
    g_free(s->div_expected);
    g_free(s->div_actual);
    if (s->div_context) {
        g_string_free(s->div_context, true);
    }
}

static const Property replay_props[] = {
    DEFINE_PROP_STRING("trace", MmioTraceReplay, trace),
    DEFINE_PROP_STRING("mode", MmioTraceReplay, mode),
    DEFINE_PROP_STRING("on-divergence", MmioTraceReplay, on_divergence),
    DEFINE_PROP_STRING("device", MmioTraceReplay, device),
    DEFINE_PROP_STRING("report", MmioTraceReplay, report),
};

static void replay_class_init(ObjectClass *klass, const void *data)
{
    DeviceClass *dc = DEVICE_CLASS(klass);
    PCIDeviceClass *k = PCI_DEVICE_CLASS(klass);

    k->realize = replay_realize;
    k->exit = replay_exit;
    k->vendor_id = PCI_VENDOR_ID_QEMU;
    k->device_id = 0x4d52;
    k->class_id = PCI_CLASS_OTHERS;
    dc->desc = "hvmmio: replays a recorded mmiotrace in place of the device";
    set_bit(DEVICE_CATEGORY_MISC, dc->categories);
    device_class_set_props(dc, replay_props);
    object_class_property_set_description(klass, "trace", "the recording (mmiotrace "
                                          "text, .gz/.xz/.zst or JSON Lines)");
    object_class_property_set_description(klass, "mode", "strict (default: the "
                                          "recording's order) or poll-tolerant");
    object_class_property_set_description(klass, "on-divergence", "stop (default: "
                                          "report and end QEMU), log or continue");
    object_class_property_set_description(klass, "device", "the recorded device to "
                                          "replay, when the trace holds several");
    object_class_property_set_description(klass, "report", "write the final report "
                                          "to this file");
}

static const TypeInfo replay_types[] = {
    {
        .name = TYPE_MMIOTRACE_REPLAY,
        .parent = TYPE_PCI_DEVICE,
        .instance_size = sizeof(MmioTraceReplay),
        .class_init = replay_class_init,
        .interfaces = (const InterfaceInfo[]) {
            { INTERFACE_CONVENTIONAL_PCI_DEVICE },
            { },
        },
    },
};

DEFINE_TYPES(replay_types)
