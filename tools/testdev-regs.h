/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * hvmmio-testdev's register map (docs/testdev.md), shared by the server
 * (tools/hvmmio-testdev.c), the guest driver (kernel-guest/modules/hvmmio_testdrv, which
 * kernel-guest/build-image.sh builds with this folder on its include path) and
 * `hvmmio witness`. Plain preprocessor constants only: it is included by user space and by
 * kernel code alike.
 */
#ifndef HVMMIO_TESTDEV_REGS_H
#define HVMMIO_TESTDEV_REGS_H

/* PCI identity (docs/testdev.md "Identity") */
#define TESTDEV_VENDOR 0x1234
#define TESTDEV_DEVICE 0x4d4d
#define TESTDEV_SUBVENDOR 0x1234
#define TESTDEV_SUBDEVICE 0x0001
#define TESTDEV_REVISION 1
#define TESTDEV_CLASS 0xff /* base class "unassigned", sub 0, prog-if 0 */

/* BAR0 registers (docs/testdev.md "BAR0") */
#define BAR0_SIZE 0x1000
#define REG_ID 0x000
#define REG_INVERT 0x004
#define REG_SCRATCH32 0x008
#define REG_REG64 0x010
#define REG_COUNTER 0x020
#define REG_DOORBELL 0x024
#define REG_STATUS 0x028
#define REG_IRQ_RAISE 0x030
#define REG_IRQ_ACK 0x034
#define REG_MARKER 0x038
#define REG_RESET 0x03c
#define SCRATCH_START 0x040
#define SCRATCH_SIZE 0x40
#define TAIL_START 0x800
#define TAIL_SIZE 0x800

#define ID_VALUE 0x4d4d0001u
#define REG64_RESET 0x0123456789abcdefull
#define RESET_MAGIC 0x52535421u /* "!TSR" in memory order: "RST!" read as a big number */
#define STATUS_DONE (1u << 0)
#define STATUS_BUSY (1u << 1)
#define STATUS_IRQ (1u << 2)
#define DOORBELL_POLLS 3 /* the read of STATUS that sees DONE again */

/* BAR2 (docs/testdev.md "BAR2") */
#define BAR2_SIZE 0x10000
#define BAR2_PATTERN 0xb0000000u

#endif
