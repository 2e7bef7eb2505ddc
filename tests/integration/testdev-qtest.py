#!/usr/bin/env python3
"""hvmmio-testdev through QEMU's vfio-user-pci under qtest (no guest): every register of
docs/testdev.md, then what the server's log shows about how the accesses arrived: BAR0
accesses as one message each at the width the CPU used, BAR2 never (QEMU maps it) except
while an INTx is pending. Prints TAP; SKIP (with the reason) without QEMU or the server.

Environment: HVMMIO_QEMU, TESTDEV (the server), OUT.
"""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import QEMU, TESTDEV, Checker, Qemu, QemuError, Testdev  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-testdev-qtest'
DEV, BAR0, BAR2 = 4, 0xe0000000, 0xe0100000
OP = {1: 'readb', 2: 'readw', 4: 'readl', 8: 'readq'}
c = Checker()


class Registers:
    """Reads checked against the expected value: one TAP check each, named after the
    section of docs/testdev.md and the access."""

    def __init__(self, q):
        self.q = q
        self.section = ''

    @staticmethod
    def where(addr):
        bar, base = ('BAR2', BAR2) if addr >= BAR2 else ('BAR0', BAR0)
        return f'{bar}+{addr - base:#x}'

    def read(self, width, addr, want):
        got = self.q.read(width, addr)
        c.equal(got, want, f'{self.section}: {OP[width]} {self.where(addr)} == {want:#x}')
        return got

    def cfg(self, width, off, want):
        got = self.q.cfg_read(width, DEV, off)
        c.equal(got, want, f'{self.section}: config {OP[width]} {off:#04x} == {want:#x}')


def identity(q, r):
    r.section = 'identity (config space)'
    r.cfg(4, 0x00, 0x4d4d1234)
    r.cfg(1, 0x08, 1)
    r.cfg(4, 0x08, 0xff000001)
    r.cfg(4, 0x2c, 0x00011234)
    r.cfg(1, 0x3d, 1)
    # BAR sizing: BAR0 4 KiB and BAR2 64 KiB 32-bit non-prefetchable memory; BAR1 absent
    r.section = 'BAR sizing'
    for off, mask in ((0x10, 0xfffff000), (0x18, 0xffff0000), (0x14, 0)):
        q.cfg_writel(DEV, off, 0xffffffff)
        r.cfg(4, off, mask)
    # memory decoding and bus mastering, I/O space off
    q.pci_map_bar(DEV, 0, BAR0, master=True)
    q.pci_map_bar(DEV, 2, BAR2, master=True)
    r.section = 'BARs placed'
    r.cfg(4, 0x10, BAR0)
    r.cfg(4, 0x18, BAR2)


def simple_registers(q, r):
    r.section = 'ID (RO)'
    r.read(4, BAR0, 0x4d4d0001)
    q.writel(BAR0, 0x12345678)
    r.read(4, BAR0, 0x4d4d0001)

    r.section = 'INVERT'
    r.read(4, BAR0 + 0x4, 0xffffffff)
    q.writel(BAR0 + 0x4, 0x12345678)
    r.read(4, BAR0 + 0x4, 0xedcba987)
    r.read(4, BAR0 + 0x4, ~0x12345678 & 0xffffffff)
    q.writel(BAR0 + 0x4, 0xffffffff)
    r.read(4, BAR0 + 0x4, 0)

    r.section = 'SCRATCH32'
    r.read(4, BAR0 + 0x8, 0)
    q.writel(BAR0 + 0x8, 0xdeadbeef)
    r.read(4, BAR0 + 0x8, 0xdeadbeef)
    r.read(4, BAR0 + 0xc, 0)        # 0x00c is no register


def reg64(q, r):
    r.section = 'REG64: 8-byte and both 4-byte halves'
    r.read(8, BAR0 + 0x10, 0x0123456789abcdef)
    r.read(4, BAR0 + 0x10, 0x89abcdef)
    r.read(4, BAR0 + 0x14, 0x01234567)
    q.writeq(BAR0 + 0x10, 0xfedcba9876543210)
    r.read(8, BAR0 + 0x10, 0xfedcba9876543210)
    r.read(4, BAR0 + 0x10, 0x76543210)
    r.read(4, BAR0 + 0x14, 0xfedcba98)
    q.writel(BAR0 + 0x14, 0x11111111)
    r.read(8, BAR0 + 0x10, 0x1111111176543210)
    q.writel(BAR0 + 0x10, 0x22222222)
    r.read(8, BAR0 + 0x10, 0x1111111122222222)
    r.section = 'REG64: widths it does not take read 0, writes ignored'
    r.read(1, BAR0 + 0x10, 0)
    r.read(2, BAR0 + 0x10, 0)
    q.writeb(BAR0 + 0x10, 0xff)
    r.read(8, BAR0 + 0x10, 0x1111111122222222)
    r.read(8, BAR0 + 0x18, 0)


def counter(q, r):
    r.section = 'COUNTER'
    for n in range(3):
        r.read(4, BAR0 + 0x20, n)
    q.writel(BAR0 + 0x20, 100)
    r.read(4, BAR0 + 0x20, 100)
    n = q.readl(BAR0 + 0x20)
    r.read(4, BAR0 + 0x20, n + 1)
    r.section = 'COUNTER: a 2-byte read reads 0 and does not count'
    r.read(2, BAR0 + 0x20, 0)
    r.read(4, BAR0 + 0x20, n + 2)
    r.section = 'COUNTER: wraps'
    q.writel(BAR0 + 0x20, 0xffffffff)
    r.read(4, BAR0 + 0x20, 0xffffffff)
    r.read(4, BAR0 + 0x20, 0)


def doorbell(q, r):
    r.section = 'DOORBELL/STATUS: DONE again on the 3rd STATUS read'
    status = BAR0 + 0x28
    for want in (1, 1):
        r.read(4, status, want)
    q.writel(BAR0 + 0x24, 1)
    for want in (2, 2, 1, 1):
        r.read(4, status, want)
    r.section = 'DOORBELL/STATUS: a second job; write-only DOORBELL reads 0'
    q.writel(BAR0 + 0x24, 0)
    r.read(4, BAR0 + 0x24, 0)
    r.read(4, status, 2)
    r.section = 'DOORBELL/STATUS: a new doorbell mid-job restarts the count'
    q.writel(BAR0 + 0x24, 0)
    for want in (2, 2, 1):
        r.read(4, status, want)
    r.section = 'STATUS is read-only'
    q.writel(status, 0)
    r.read(4, status, 1)


def scratch(q, r):
    r.section = 'SCRATCH area: widths 1, 2, 4, 8'
    r.read(8, BAR0 + 0x40, 0)
    q.writeq(BAR0 + 0x40, 0x8877665544332211)
    r.read(1, BAR0 + 0x40, 0x11)
    r.read(1, BAR0 + 0x47, 0x88)
    r.read(2, BAR0 + 0x42, 0x4433)
    r.read(4, BAR0 + 0x44, 0x88776655)
    q.writeb(BAR0 + 0x41, 0xaa)
    q.writew(BAR0 + 0x46, 0xbbcc)
    r.read(8, BAR0 + 0x40, 0xbbcc66554433aa11)
    q.writel(BAR0 + 0x7c, 0x01020304)
    r.read(4, BAR0 + 0x7c, 0x01020304)
    r.read(1, BAR0 + 0x7f, 0x01)
    q.writeq(BAR0 + 0x78, 0x0a0b0c0d0e0f1011)
    r.read(8, BAR0 + 0x78, 0x0a0b0c0d0e0f1011)
    r.section = 'SCRATCH: QEMU splits an unaligned access into bytes, which SCRATCH serves'
    r.read(2, BAR0 + 0x41, 0x33aa)
    r.section = 'just past SCRATCH: no register'
    q.writel(BAR0 + 0x80, 0xffffffff)
    r.read(4, BAR0 + 0x80, 0)
    r.read(4, BAR0 + 0x400, 0)


def tail_and_bar2(q, r):
    r.section = 'TAIL area and the last bytes of BAR0'
    r.read(4, BAR0 + 0x800, 0)
    r.read(4, BAR0 + 0xffc, 0)
    q.writel(BAR0 + 0xffc, 0xcafef00d)
    r.read(4, BAR0 + 0xffc, 0xcafef00d)
    r.read(1, BAR0 + 0xfff, 0xca)
    r.read(2, BAR0 + 0xffe, 0xcafe)
    q.writeb(BAR0 + 0xfff, 0x5a)
    r.read(4, BAR0 + 0xffc, 0x5afef00d)
    r.read(8, BAR0 + 0xff8, 0x5afef00d00000000)
    q.writeq(BAR0 + 0x800, 0x1122334455667788)
    r.read(8, BAR0 + 0x800, 0x1122334455667788)
    r.read(1, BAR0 + 0x7ff, 0)

    r.section = 'BAR2: the initial pattern, then plain memory'
    r.read(4, BAR2, 0xb0000000)
    r.read(4, BAR2 + 0x4, 0xb0000004)
    r.read(4, BAR2 + 0x1234, 0xb0001234)
    r.read(4, BAR2 + 0xfffc, 0xb000fffc)
    r.read(8, BAR2 + 0x8, 0xb000000cb0000008)
    r.read(1, BAR2 + 0x3, 0xb0)
    r.read(2, BAR2 + 0xfffc, 0xfffc)
    q.writel(BAR2 + 0x100, 0x11223344)
    r.read(4, BAR2 + 0x100, 0x11223344)
    r.read(1, BAR2 + 0x100, 0x44)
    q.writeq(BAR2 + 0xfff8, 0x0102030405060708)
    r.read(8, BAR2 + 0xfff8, 0x0102030405060708)
    r.read(1, BAR2 + 0xffff, 0x01)


def reset(q, r):
    r.section = 'RESET: a wrong value does nothing'
    q.writel(BAR0 + 0x3c, 0x12345678)
    r.read(4, BAR0 + 0x8, 0xdeadbeef)
    q.writel(BAR0 + 0x24, 1)
    r.read(4, BAR0 + 0x28, 2)
    r.section = 'RESET: the magic resets everything'
    q.writel(BAR0 + 0x3c, 0x52535421)
    for width, addr, want in ((4, BAR0 + 0x28, 1), (4, BAR0 + 0x4, 0xffffffff),
                              (4, BAR0 + 0x8, 0), (8, BAR0 + 0x10, 0x0123456789abcdef),
                              (4, BAR0 + 0x20, 0), (8, BAR0 + 0x40, 0), (8, BAR0 + 0x78, 0),
                              (4, BAR0 + 0xffc, 0), (8, BAR0 + 0x800, 0),
                              (4, BAR2 + 0x100, 0xb0000100),
                              (8, BAR2 + 0xfff8, 0xb000fffcb000fff8)):
        r.read(width, addr, want)


def interrupts(q, r):
    """IRQ_RAISE / IRQ_ACK: STATUS.IRQ and INTx (last: an INTx changes how QEMU maps BARs)."""
    r.section = 'IRQ_RAISE'
    q.qtest('irq_intercept_in ioapic')
    q.writel(BAR0 + 0x30, 2)
    r.read(4, BAR0 + 0x28, 1)
    q.writel(BAR0 + 0x30, 1)
    c.check(q.wait_irq('raise'), 'IRQ_RAISE: QEMU raises the INTx within 2 s')
    # QEMU's vfio-pci turns off all BAR mmaps while INTx is pending, so this BAR2 read is a
    # message to the server (checked in its log below); a BAR access counts as the EOI
    r.section = 'INTx pending'
    r.read(4, BAR2 + 0x2000, 0xb0002000)
    c.check(q.wait_irq('lower'), 'INTx pending: QEMU lowers the INTx within 2 s of the EOI')
    r.read(4, BAR0 + 0x28, 5)
    r.section = 'IRQ_ACK'
    q.writel(BAR0 + 0x34, 0)
    r.read(4, BAR0 + 0x28, 1)
    r.read(4, BAR0 + 0x30, 0)
    r.read(4, BAR0 + 0x34, 0)
    r.section = 'RESET clears a pending STATUS.IRQ too'
    q.writel(BAR0 + 0x30, 1)
    r.read(4, BAR0 + 0x28, 5)
    q.writel(BAR0 + 0x3c, 0x52535421)
    r.read(4, BAR0 + 0x28, 1)


def server_log(log):
    """How the accesses arrived at the server."""
    lines = log.splitlines()
    for line, what in (
            ('hvmmio-testdev: bar0 R 8 0x010 0x0123456789abcdef',
             'a single 8-byte read of REG64 reached the server'),
            ('hvmmio-testdev: bar0 W 1 0xfff 0x5a', 'a 1-byte write at 0xfff'),
            ('hvmmio-testdev: bar0 R 2 0xffe 0xcafe', 'a 2-byte read at 0xffe'),
            ('hvmmio-testdev: bar0 R 1 0x041 0xaa',
             'the unaligned readw arrived as byte accesses')):
        c.check(line in lines, f'server log: {what}', f'no line "{line}"')
    # BAR2 is memory QEMU maps, but an INTx turns vfio-pci's BAR mmaps off (until 1100 ms of
    # virtual time after the EOI): BAR2 reads before the INTx stay in QEMU, the one after it
    # (offset 0x2000) reaches the server
    bar2 = [x for x in lines if x.startswith('hvmmio-testdev: bar2 ')]
    c.equal(bar2, ['hvmmio-testdev: bar2 R 4 0x2000 (message)'],
            'server log: of BAR2, only the read during the INTx reached the server')
    c.check('client disconnected' in log, 'server log: the server saw QEMU leave')


def main():
    if not os.path.exists(QEMU):
        return c.skip_all(f"hvmmio's QEMU is not built ({QEMU}; scripts/setup.sh builds it)")
    if not os.path.exists(TESTDEV):
        return c.skip_all(f'hvmmio-testdev is not built ({TESTDEV})')
    os.makedirs(OUT, exist_ok=True)
    sock = os.path.join(OUT, 'testdev.sock')
    server = Testdev(sock, os.path.join(OUT, 'registers-server.log')).start()
    q = Qemu(Testdev.memory_args() + ['-device', server.device(DEV)], memory='128M',
             log=os.path.join(OUT, 'registers-qemu.log'))
    try:
        q.start()
        r = Registers(q)
        for part in (identity, simple_registers, reg64, counter, doorbell, scratch,
                     tail_and_bar2, reset, interrupts):
            part(q, r)
    except QemuError as e:
        c.check(False, 'QEMU answered every command', e)
    c.equal(q.quit(), 0, 'QEMU exited cleanly')
    c.equal(server.wait(), 0, 'the server exited 0 by itself when QEMU left')
    c.check(not os.path.exists(sock), 'the server removed its socket')
    server_log(server.read_log())
    return c.done()


if __name__ == '__main__':
    sys.exit(main())
