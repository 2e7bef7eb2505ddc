#!/usr/bin/env python3
"""The accesses of the nested-vfio test (docs/real-vfio.md), made the same way at both levels:
on the outer host against QEMU's emulated edu and e1000e (level 1), and inside the level-1
guest against the same devices given to hvmmio's QEMU through the kernel's vfio-pci (level 2;
the nested image runs this file). nested-vfio.py compares the two traces.

    nested_accesses.py LEVEL [MMIOTRACE]

runs QEMU under qtest with edu at 00:04.0 and e1000e at 00:05.0 (emulated at level 1, vfio-pci
at level 2; MMIOTRACE on or off, default on), in the current folder: the traces
l{LEVEL}-edu.txt and l{LEVEL}-nic.txt, QEMU's log qemu-l{LEVEL}.log, the flat view (info mtree
-f) mtree-l{LEVEL}.txt. Every answer the accesses must get is a check; TAP on stdout.
Environment: HVMMIO_QEMU, HVMMIO_FIRMWARE (tests/lib/qemu_harness.py).
"""
import os
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', 'lib')]   # (in the nested image: one folder)
from qemu_harness import Checker, Qemu, QemuError, QmpError  # noqa: E402

EDU, NIC = 4, 5
BAR, BAR2, RAM = 0xe0000000, 0xe0400000, 0x100000   # edu BAR0 before and after the move
NICBAR, NICBAR0 = 0xe0800000, 0xe0900000            # e1000e BAR3 (traced), BAR0 (not)
# What the tracer is told, identical at both levels: edu page 0 only (its registers), e1000e
# BAR3 only (MSI-X table and PBA).
EDU_TRACE = 'mmiotrace-ranges=0:0x0+0x1000'
NIC_TRACE = 'mmiotrace-bars=3'
# level-2 QEMU's own trace events: MSI delivery by vfio's eventfd handler, and vfio's slow
# path (pread/pwrite on the device fd), which no BAR access here should take
L2_TRACE = ['-trace', 'vfio_msi_enable', '-trace', 'vfio_msi_interrupt',
            '-trace', 'vfio_region_read', '-trace', 'vfio_region_write',
            '-trace', 'vfio_region_mmap']


def devices(level, mmiotrace='on'):
    """QEMU -device arguments for edu and e1000e, emulated (level 1) or assigned (2)."""
    if level == 1:
        edu, nic = 'edu', 'e1000e,romfile='
    else:
        edu, nic = 'vfio-pci,host=0000:00:04.0,rombar=0', 'vfio-pci,host=0000:00:05.0,rombar=0'
    return ['-device', f'{edu},id=edu0,addr=04.0,mmiotrace={mmiotrace},'
                       f'mmiotrace-file=l{level}-edu.txt,{EDU_TRACE}',
            '-device', f'{nic},id=nic0,addr=05.0,mmiotrace={mmiotrace},'
                       f'mmiotrace-file=l{level}-nic.txt,{NIC_TRACE}']


class Script:
    """qtest and QMP on one QEMU, each expected answer a check."""

    def __init__(self, q, c):
        self.q, self.c = q, c

    def read(self, width, addr, want):
        got = self.q.read(width, addr)
        self.c.equal(got, want, f'read{width * 8} {addr:#x} == {want:#x}')

    def cfg_read(self, width, slot, off, want):
        got = self.q.cfg_read(width, slot, off)
        self.c.equal(got, want, f'config {slot:02x}.0 read{width * 8} {off:#x} == {want:#x}')

    def map_bar(self, slot, bar, addr):
        """A 32-bit memory BAR at addr; memory space and bus master on, I/O space off."""
        self.q.cfg_writel(slot, 0x10 + 4 * bar, addr)
        self.q.cfg_writew(slot, 0x04, 0x6)

    def qmp(self, cmd, **args):
        try:
            ret, ok = self.q.qmp(cmd, **args), True
        except QmpError as e:
            ret, ok = str(e), False
        self.c.check(ok, f'QMP {cmd} {args} returns' if args else f'QMP {cmd} returns', ret)
        return ret

    def mark(self, text):
        self.qmp('mmiotrace-mark', text=text)

    def step(self, ns, ms):
        """Time for the device: virtual time for an emulated one, real time for the real one."""
        self.q.clock_step(ns)
        time.sleep(ms / 1000)


def edu(s):
    """edu (docs/specs/edu.rst): 0x00 ID, 0x04 liveness (reads the inverse), 0x24 interrupt
    status, 0x60 raise, 0x64 acknowledge, 0x80.. 8-byte DMA registers, MSI capability at 0x40."""
    q = s.q
    s.cfg_read(4, EDU, 0, 0x11e81234)
    s.cfg_read(1, EDU, 0x34, 0x40)
    s.cfg_read(1, EDU, 0x40, 0x05)
    s.map_bar(EDU, 0, BAR)
    s.mark('registers')
    s.read(4, BAR, 0x010000ed)
    q.writel(BAR + 4, 0x12345678)
    s.read(4, BAR + 4, 0xedcba987)
    q.writeq(BAR + 0x80, 0x1122334455667788)
    s.read(8, BAR + 0x80, 0x1122334455667788)
    # outside mmiotrace-ranges (page 0 only): the fast path, no record
    s.read(4, BAR + 0x1000, 0xffffffff)
    q.writel(BAR + 0x2000, 0x55aa55aa)

    s.mark('msi')
    # MSI to a RAM address: the interrupt arrives as a memory write there
    q.writel(RAM, 0)
    q.cfg_writel(EDU, 0x44, RAM)
    q.cfg_writel(EDU, 0x48, 0)
    q.cfg_writew(EDU, 0x4c, 0x4321)
    q.cfg_writew(EDU, 0x42, 1)
    q.writel(BAR + 0x60, 0x100)
    time.sleep(0.3)
    s.read(4, RAM, 0x4321)
    s.read(4, BAR + 0x24, 0x100)
    q.writel(BAR + 0x64, 0x100)
    s.read(4, BAR + 0x24, 0)

    s.mark('dma')
    # DMA RAM -> edu buffer (0x40000), then edu buffer -> RAM+0x100 (edu runs it from a 100 ms
    # timer on the virtual clock)
    q.writeq(RAM + 0x10, 0x0123456789abcdef)
    for off, val in ((0x80, RAM + 0x10), (0x88, 0x40000), (0x90, 8), (0x98, 1)):
        q.writeq(BAR + off, val)
    s.step(200000000, 500)
    s.read(8, BAR + 0x98, 0)
    for off, val in ((0x80, 0x40000), (0x88, RAM + 0x100), (0x98, 3)):
        q.writeq(BAR + off, val)
    s.step(200000000, 500)
    s.read(8, BAR + 0x98, 2)
    s.read(8, RAM + 0x100, 0x0123456789abcdef)

    s.mark('bar move')
    q.cfg_writew(EDU, 4, 0)
    s.map_bar(EDU, 0, BAR2)
    s.read(4, BAR2, 0x010000ed)
    s.read(4, BAR2 + 0x1000, 0xffffffff)
    q.writel(BAR2 + 4, 0xffffffff)
    s.read(4, BAR2 + 4, 0)
    # trapping page 1 at run time (for vfio: an overlay in front of the mmap), then releasing it
    for enable in (True, False):
        s.qmp('mmiotrace-trap', device='edu0', bar=0, offset=4096, length=4096, enable=enable)
        s.read(4, BAR2 + 0x1008, 0xffffffff)


def msix(s):
    """e1000e's MSI-X table (BAR3 offset 0) and PBA (BAR3 0x2000). For an assigned device QEMU
    emulates the table (vfio-pci's MSI-X overlay on the BAR); the kernel programs the real
    table when vectors are enabled."""
    q = s.q
    s.cfg_read(4, NIC, 0, 0x10d38086)
    s.cfg_read(1, NIC, 0xa0, 0x11)
    s.map_bar(NIC, 3, NICBAR)
    s.mark('msi-x')
    s.read(4, NICBAR + 0xc, 1)
    q.writel(NICBAR + 4, 0)
    q.writel(NICBAR, RAM + 0x200)
    q.writel(NICBAR + 8, 0x4041)
    s.read(4, NICBAR, RAM + 0x200)
    s.read(4, NICBAR + 8, 0x4041)
    s.read(4, NICBAR + 0x2000, 0)
    # BAR0 is not traced (mmiotrace-bars=3): an assigned device's untraced BAR stays on the
    # mmap fast path. STATUS (0x8) depends on the link: any value.
    s.map_bar(NIC, 0, NICBAR0)
    q.readl(NICBAR0 + 8)

    # An MSI-X interrupt: enable MSI-X (control word at 0xa2), unmask vector 0, route
    # e1000e's "other" causes to vector 0 (IVAR 0xe4), unmask link-status change and "other"
    # (IMS 0xd0), set a link-status change (ICS 0xc8): the message lands in RAM
    s.mark('msi-x interrupt')
    q.writel(RAM + 0x200, 0)
    q.cfg_writew(NIC, 0xa2, 0x8000)
    q.writel(NICBAR + 0xc, 0)
    q.writel(NICBAR0 + 0xe4, 0x80000)
    # The link comes up by itself some time after the device's reset (autonegotiation), and
    # that is a link-status change too: a second message if it came after the IMS write. So
    # wait for it (STATUS.LU; at level 1 the clock only moves with clock_step) and clear
    # what it left in ICR (read to clear while IMS is 0) first. BAR0 is not traced.
    for _ in range(40):
        if q.readl(NICBAR0 + 8) & 0x2:
            break
        s.step(100000000, 50)
    q.readl(NICBAR0 + 0xc0)
    q.writel(NICBAR0 + 0xd0, 0x1000004)
    q.writel(NICBAR0 + 0xc8, 0x4)
    time.sleep(0.3)
    s.read(4, RAM + 0x200, 0x4041)


def main():
    level = int(sys.argv[1])
    mmiotrace = sys.argv[2] if len(sys.argv) > 2 else 'on'
    c = Checker()
    for f in (f'l{level}-edu.txt', f'l{level}-nic.txt'):
        if os.path.exists(f):
            os.unlink(f)
    q = Qemu(devices(level, mmiotrace) + (L2_TRACE if level == 2 else []), memory='64M',
             cwd=os.getcwd(), log=f'qemu-l{level}.log', timeout=120)
    try:
        q.start()
        s = Script(q, c)
        edu(s)
        msix(s)
        s.mark('end')
        with open(f'mtree-l{level}.txt', 'w') as f:
            f.write(s.qmp('human-monitor-command', **{'command-line': 'info mtree -f'}))
    except QemuError as e:
        c.check(False, 'QEMU answered every command', e)
    c.equal(q.quit(), 0, 'QEMU exited cleanly')
    return c.done()


if __name__ == '__main__':
    sys.exit(main())
