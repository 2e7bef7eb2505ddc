#!/usr/bin/env python3
"""The mmiotrace-replay device performs recorded DMA at relocated addresses (issue 18,
docs/replay-dma.md), driven by qtest with a synthetic recording: edu's identity (recorded
by hvmmio's tracer), then a ring base written to a register (match=0xfff: this run's ring
is elsewhere), a TO record whose descriptor holds the recorded buffer address, and FROM
records into the buffer and the descriptor.

- the TO read learns the buffer's relocation from the descriptor this run holds: the
  received bytes land at this run's buffer, the write-back at this run's descriptor, and
  nothing at the recorded addresses;
- a FROM record at an address no relocation covers is not performed, counted;
- a 64-bit ring base written in two 4-byte halves is learned whole;
- a relocation leading beyond guest RAM is refused, counted; a FROM record that kept fewer
  bytes than it moved is refused, counted;
- with dma=off nothing is written; bus mastering off: every DMA refused, counted;
- a malformed DMA record (data not matching its CRC) makes realize fail with FILE:LINE.
"""
import os
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Checker, Qemu, QemuError  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-qtest-replay-dma'
os.makedirs(OUT, exist_ok=True)
c = Checker()
SLOT, BAR = 3, 0xe0000000
MEM = 128 << 20
REC_RING, REC_BUF, REC_OTHER = 0x100000, 0x110000, 0x300000
RUN_RING, RUN_BUF = 0x200000, 0x234560
PAYLOAD = b'received frame bytes'
WRITEBACK = bytes.fromhex('01000000')


def header():
    """edu's identity lines (VERSION, PCIDEV, PCICFG, MAP), recorded by the tracer."""
    path = os.path.join(OUT, 'edu-identity.txt')
    with Qemu(['-device', f'edu,id=edu0,addr={SLOT},mmiotrace=on,mmiotrace-file={path}']) as q:
        q.pci_map_bar(SLOT, 0, BAR)
        q.readl(BAR)
    return [l for l in open(path) if not l.startswith(('R ', 'W ', 'IRQ ', 'DMA '))]


def rw(kind, off, value, facts=''):
    return (f'{kind} 4 1.000000 1 0x{BAR + off:x} 0x{value:x} 0x0 0 vcpu=none dev=edu0 '
            f'bar=0 off=0x{off:x}{facts}\n')


def dma(direction, addr, data, length=None, crc=None):
    length = len(data) if length is None else length
    crc = zlib.crc32(data) if crc is None else crc
    return (f'DMA 1.000000 {direction} 0x{addr:x} {length} 0x{crc:08x} vcpu=none dev=edu0 '
            f'data={data.hex()}\n')


def descriptor(buf):
    return buf.to_bytes(8, 'little') + bytes(8)


def recording(name, body):
    path = os.path.join(OUT, name)
    with open(path, 'w') as f:
        f.writelines(header() + body)
    return path


def run(trace, ring, props='', master=True, high=None):
    """The 'driver': its ring (at ring) holds a descriptor for this run's buffer; it tells
    the device the ring's address and reads a status register. Returns the bytes at this
    run's buffer and descriptor, at the recorded ones, and the report."""
    report = os.path.join(OUT, 'report.txt')
    if os.path.exists(report):
        os.unlink(report)
    q = Qemu(['-device', f'mmiotrace-replay,id=r0,addr={SLOT},trace={trace},report={report}'
              f'{props}'], memory='128M')
    q.start()
    q.pci_map_bar(SLOT, 0, BAR, master=master)
    q.writeq(ring, RUN_BUF)
    q.writeq(ring + 8, 0)
    q.writel(BAR + 0x80, ring)
    if high is not None:
        q.writel(BAR + 0x84, high)
    q.readl(BAR + 0x20)

    def mem(addr, n):
        return b''.join(q.readb(addr + i).to_bytes(1, 'little') for i in range(n))
    got = {'buf': mem(RUN_BUF, len(PAYLOAD)), 'wb': mem(ring + 8, 4),
           'rec_buf': mem(REC_BUF, len(PAYLOAD)), 'rec_wb': mem(REC_RING + 8, 4),
           'refused': q.qmp('query-mmiotrace-replay')[0]['dma-refused']}
    q.quit()
    with open(report) as f:
        return got, f.read()


def line_of(report, start):
    return next((l.strip() for l in report.splitlines() if l.strip().startswith(start)), '')


def test_relocated():
    trace = recording('dma-relocated.txt', [
        rw('W', 0x80, REC_RING, ' match=0xfff'),
        dma('TO', REC_RING, descriptor(REC_BUF)),
        dma('FROM', REC_BUF, PAYLOAD),
        dma('FROM', REC_RING + 8, WRITEBACK),
        dma('FROM', REC_OTHER, b'\xaa' * 4),
        rw('R', 0x20, 0),
    ])
    got, report = run(trace, RUN_RING)
    c.equal(got['buf'], PAYLOAD, 'the received bytes land at the buffer the driver gave in '
            'this run (its descriptor, read by the TO record, names it)')
    c.equal(got['wb'], WRITEBACK, "the write-back lands in this run's descriptor")
    c.equal((got['rec_buf'], got['rec_wb']), (bytes(len(PAYLOAD)), bytes(4)),
            'nothing is written at the recorded addresses')
    c.check(report.startswith('RESULT PASS') and 'dma-refused=1' in report.splitlines()[0],
            f'the replay passes, one DMA refused: {report.splitlines()[0]}')
    c.equal(got['refused'], 1, 'query-mmiotrace-replay: dma-refused 1')
    c.check('DMA: 2 FROM the device performed' in report and '1 TO it' in report and
            '3 at a relocated address' in report, line_of(report, 'DMA:'))
    c.check('learned 1 times from register writes, 1 from descriptor fields' in report,
            line_of(report, 'DMA relocations'))
    c.check(f'1 with no known relocation, the first at {trace}:' in report and
            f'(0x{REC_OTHER:x})' in report, line_of(report, '1 with no known'))
    return trace


def test_identity():
    """The driver gives the recorded addresses: the relocation is the identity."""
    trace = recording('dma-identity.txt', [
        rw('W', 0x80, REC_RING, ' match=0xfff'),
        dma('TO', REC_RING, descriptor(RUN_BUF)),
        dma('FROM', RUN_BUF, PAYLOAD),
        rw('R', 0x20, 0),
    ])
    got, report = run(trace, REC_RING)
    c.equal(got['buf'], PAYLOAD, 'same addresses as recorded: the bytes land there')
    c.check('0 at a relocated address' in report and 'dma-refused=0' in report,
            line_of(report, 'DMA:'))


def test_split_address():
    """A 64-bit ring base written in two 4-byte halves (RDBAL, then RDBAH): recorded above
    4 GiB, below it in this run."""
    rec_ring = (1 << 32) | REC_RING
    trace = recording('dma-split.txt', [
        rw('W', 0x80, REC_RING, ' match=0xfff'),
        rw('W', 0x84, 1, ' match=0x0'),
        dma('FROM', rec_ring + 8, WRITEBACK),
        rw('R', 0x20, 0),
    ])
    got, report = run(trace, RUN_RING, high=0)
    c.equal(got['wb'], WRITEBACK, 'a ring base recorded above 4 GiB in two register halves: '
            "the write-back lands in this run's ring")
    c.check('learned 1 times from register writes' in report and 'dma-refused=0' in report,
            line_of(report, 'DMA relocations'))


def test_refused(relocated):
    # this run's ring near the end of RAM: the recorded ring's second page maps beyond it
    ring = MEM - 0x1000
    trace = recording('dma-beyond-ram.txt', [
        rw('W', 0x80, REC_RING, ' match=0xfff'),
        dma('FROM', REC_RING + 0x2000, b'\x55' * 8),
        dma('FROM', REC_RING + 8, WRITEBACK + bytes(4), length=64),
        rw('R', 0x20, 0),
    ])
    got, report = run(trace, ring)
    c.check('1 not to guest RAM, or refused by the bus' in report,
            line_of(report, '1 not to guest RAM'))
    c.check('1 FROM records that kept fewer bytes than they moved' in report and
            'dma-refused=2' in report, line_of(report, '1 FROM records'))
    c.equal(got['refused'], 2, 'query-mmiotrace-replay: dma-refused 2')
    c.check(report.startswith('RESULT PASS'), 'refused DMA is counted, not a divergence')

    got, report = run(relocated, RUN_RING, props=',dma=off')
    c.equal((got['buf'], got['wb']), (bytes(len(PAYLOAD)), bytes(4)),
            'dma=off: no DMA is performed')
    c.check(report.startswith('RESULT PASS consumed=2 total=2'),
            f'dma=off: the accesses replay alone ({report.splitlines()[0]})')

    got, report = run(relocated, RUN_RING, master=False)
    c.equal(got['buf'], bytes(len(PAYLOAD)), 'bus mastering off: nothing is written')
    c.check('DMA not performed: 4' in report and 'dma-refused=4' in report,
            'bus mastering off: every DMA is refused (its addresses are not RAM to the '
            f'device, so no relocation is learned either): {line_of(report, "DMA not")}')


def test_malformed():
    trace = recording('dma-bad-crc.txt', [
        rw('W', 0x80, REC_RING),
        dma('FROM', REC_BUF, PAYLOAD, crc=0x12345678),
    ])
    bad_line = len(open(trace).readlines())
    try:
        Qemu(['-device', f'mmiotrace-replay,id=r0,addr={SLOT},trace={trace}'],
             timeout=20).start().quit()
        c.check(False, 'a DMA record whose data does not match its CRC is refused')
    except QemuError as e:
        c.check(f'{trace}:{bad_line}' in str(e) and 'CRC' in str(e).upper(),
                f'a bad DMA record fails realize with FILE:LINE ({str(e).strip()[-120:]})')


if __name__ == '__main__':
    relocated = test_relocated()
    test_identity()
    test_split_address()
    test_refused(relocated)
    test_malformed()
    sys.exit(c.done())
