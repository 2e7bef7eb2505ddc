/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio-testdev's device: BAR0's registers with their documented side effects (the contract
 * in docs/testdev.md), the memory areas of BAR0, BAR2 by message, the device reset, and the
 * witness log of every BAR0 access served (--witness). Called by libvfio-user from the
 * server's single thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <glib.h>

#include <libvfio-user.h>

#include "testdev.h"

/*
 * --witness: one line per BAR0 access served, in the order served (the server is
 * single-threaded, so this is the device's order): "SEQ BAR DIR WIDTH OFFSET VALUE", VALUE
 * being what was written or what the read returned, plus " ignored" for an access no
 * register decoded. Device resets are "SEQ reset". The format is in docs/testdev.md.
 */
static void witness_access(struct testdev *dev, bool is_write, size_t count, uint64_t off,
                           uint64_t val, bool handled)
{
    if (!dev->witness) {
        return;
    }
    fprintf(dev->witness, "%" PRIu64 " 0 %c %zu 0x%03" PRIx64 " 0x%" PRIx64 "%s\n",
            ++dev->witness_seq, is_write ? 'W' : 'R', count, off, val, handled ? "" : " ignored");
}

static void witness_reset(struct testdev *dev)
{
    if (dev->witness) {
        fprintf(dev->witness, "%" PRIu64 " reset\n", ++dev->witness_seq);
    }
}

void testdev_reset(struct testdev *dev)
{
    dev->invert_written = 0;
    dev->scratch32 = 0;
    dev->reg64 = REG64_RESET;
    dev->counter = 0;
    dev->done = true;
    dev->polls_since_doorbell = 0;
    dev->irq_pending = false;
    memset(dev->scratch, 0, sizeof(dev->scratch));
    memset(dev->tail, 0, sizeof(dev->tail));
    for (uint32_t o = 0; o < BAR2_SIZE; o += 4) {
        uint32_t v = GUINT32_TO_LE(BAR2_PATTERN | o);
        memcpy(dev->bar2 + o, &v, 4);
    }
}

static uint64_t load_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        v |= (uint64_t)p[i] << (8 * i);
    }
    return v;
}

static void store_le(uint8_t *p, size_t n, uint64_t v)
{
    for (size_t i = 0; i < n; i++) {
        p[i] = (uint8_t)(v >> (8 * i));
    }
}

/*
 * A 32-bit register read. Returns false for offsets with no 32-bit register (they read 0).
 * Reads of COUNTER and STATUS have side effects, as documented.
 */
static bool reg32_read(struct testdev *dev, uint32_t off, uint32_t *val)
{
    switch (off) {
    case REG_ID:
        *val = ID_VALUE;
        return true;
    case REG_INVERT:
        *val = ~dev->invert_written;
        return true;
    case REG_SCRATCH32:
        *val = dev->scratch32;
        return true;
    case REG_REG64:
        *val = (uint32_t)dev->reg64;
        return true;
    case REG_REG64 + 4:
        *val = (uint32_t)(dev->reg64 >> 32);
        return true;
    case REG_COUNTER:
        *val = dev->counter++;
        return true;
    case REG_STATUS:
        if (!dev->done && ++dev->polls_since_doorbell >= DOORBELL_POLLS) {
            dev->done = true;
        }
        *val = (dev->done ? STATUS_DONE : STATUS_BUSY) | (dev->irq_pending ? STATUS_IRQ : 0);
        return true;
    case REG_DOORBELL:
    case REG_IRQ_RAISE:
    case REG_IRQ_ACK:
    case REG_MARKER:
    case REG_RESET:
        *val = 0; /* write-only */
        return true;
    }
    return false;
}

static bool reg32_write(struct testdev *dev, uint32_t off, uint32_t val)
{
    switch (off) {
    case REG_INVERT:
        dev->invert_written = val;
        return true;
    case REG_SCRATCH32:
        dev->scratch32 = val;
        return true;
    case REG_REG64:
        dev->reg64 = (dev->reg64 & 0xffffffff00000000ull) | val;
        return true;
    case REG_REG64 + 4:
        dev->reg64 = (dev->reg64 & 0xffffffffull) | ((uint64_t)val << 32);
        return true;
    case REG_COUNTER:
        dev->counter = val;
        return true;
    case REG_DOORBELL:
        dev->done = false;
        dev->polls_since_doorbell = 0;
        return true;
    case REG_IRQ_RAISE:
        if (val & 1) {
            dev->irq_pending = true;
            /* Under qtest, or before the guest enables INTx, QEMU gave no eventfd. */
            if (vfu_irq_trigger(dev->vfu, 0) < 0) {
                testdev_note(dev, "INTx not delivered: %s", g_strerror(errno));
            }
        }
        return true;
    case REG_IRQ_ACK:
        dev->irq_pending = false;
        return true;
    case REG_MARKER:
        return true; /* no effect: a tag in the witness log and the host trace */
    case REG_RESET:
        if (val == RESET_MAGIC) {
            testdev_reset(dev);
        }
        return true;
    case REG_ID:
    case REG_STATUS:
        return true; /* read-only: writes ignored */
    }
    return false;
}

/* Memory-like areas of BAR0: SCRATCH and TAIL. NULL if [off, off+n) is in neither. */
static uint8_t *bar0_memory(struct testdev *dev, uint32_t off, size_t n)
{
    if (off >= SCRATCH_START && off + n <= SCRATCH_START + SCRATCH_SIZE) {
        return dev->scratch + (off - SCRATCH_START);
    }
    if (off >= TAIL_START && off + n <= TAIL_START + TAIL_SIZE) {
        return dev->tail + (off - TAIL_START);
    }
    return NULL;
}

/*
 * One BAR0 access. Accesses of 1, 2, 4 or 8 bytes at a multiple of their size are decoded;
 * anything else reads 0 and is ignored. QEMU only sends such accesses (vfio_region_ops: 1-8
 * bytes, aligned), so the rest is for other clients.
 */
ssize_t testdev_bar0_access(vfu_ctx_t *vfu, char *buf, size_t count, loff_t offset, bool is_write)
{
    struct testdev *dev = vfu_get_private(vfu);
    uint8_t *p = (uint8_t *)buf;
    bool natural = (count == 1 || count == 2 || count == 4 || count == 8) && offset >= 0 &&
                   offset + (loff_t)count <= BAR0_SIZE && (offset & (loff_t)(count - 1)) == 0;
    uint32_t off = (uint32_t)offset;
    bool handled = false;
    uint64_t val = is_write && count <= 8 ? load_le(p, count) : 0;

    if (natural) {
        uint8_t *mem = bar0_memory(dev, off, count);
        if (mem) {
            if (is_write) {
                memcpy(mem, p, count);
            } else {
                memcpy(p, mem, count);
                val = load_le(p, count);
            }
            handled = true;
        } else if (count == 8 && off == REG_REG64) {
            if (is_write) {
                dev->reg64 = val;
            } else {
                val = dev->reg64;
            }
            handled = true;
        } else if (count == 4) {
            uint32_t v32 = (uint32_t)val;
            handled = is_write ? reg32_write(dev, off, v32) : reg32_read(dev, off, &v32);
            val = v32;
        }
    }
    if (!is_write) {
        if (!handled) {
            val = 0;
            memset(p, 0, count);
        } else {
            store_le(p, count, val);
        }
    }
    witness_access(dev, is_write, count, (uint64_t)offset, val, handled);
    if (handled) {
        testdev_note(dev, "bar0 %c %zu 0x%03x 0x%0*" PRIx64, is_write ? 'W' : 'R', count, off,
                     (int)(2 * count), val);
    } else {
        testdev_note(dev, "bar0 %c %zu 0x%03" PRIx64 " ignored (no register of that width there)%s",
                     is_write ? 'W' : 'R', count, (uint64_t)offset, is_write ? "" : ", reads 0");
    }
    return (ssize_t)count;
}

/* BAR2 is mapped by QEMU; this serves clients (or QEMU paths) that use messages instead. */
ssize_t testdev_bar2_access(vfu_ctx_t *vfu, char *buf, size_t count, loff_t offset, bool is_write)
{
    struct testdev *dev = vfu_get_private(vfu);
    /* libvfio-user has checked offset + count against the region size */
    if (is_write) {
        memcpy(dev->bar2 + offset, buf, count);
    } else {
        memcpy(buf, dev->bar2 + offset, count);
    }
    testdev_note(dev, "bar2 %c %zu 0x%04" PRIx64 " (message)", is_write ? 'W' : 'R', count,
                 (uint64_t)offset);
    return (ssize_t)count;
}

int testdev_device_reset(vfu_ctx_t *vfu, vfu_reset_type_t type)
{
    struct testdev *dev = vfu_get_private(vfu);
    testdev_note(dev, "device reset (type %d)", (int)type);
    witness_reset(dev);
    testdev_reset(dev);
    return 0;
}
