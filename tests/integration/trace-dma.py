#!/usr/bin/env python3
"""DMA context (issue 18, mmiotrace-dma=on), driven by qtest on QEMU's edu device.

edu copies between guest memory and its 4 KiB buffer (at 0x40000 in its DMA space) when its
DMA command register is written, 100 ms of virtual time later. The test fills guest RAM
with a pattern, has edu read it (a DMA to the device) and write it back elsewhere (a DMA
from the device), and checks the trace:
- one DMA record each, after the MMIO write that started it, in the order they happened:
  direction, bus address, length, zlib's CRC-32 of the bytes (the test's own pattern) and
  the first mmiotrace-dma-bytes of them;
- the guest memory edu wrote holds the pattern (tracing changed nothing);
- a second edu traced without mmiotrace-dma (same file) gets no DMA records;
- mmiotrace-dma-bytes over 4096 is refused, naming the limit;
- `hvmmio stat` counts the DMA per device, `hvmmio compare` is not disturbed by DMA records.
"""
import os
import subprocess
import sys
import zlib

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Checker, Qemu, QemuError, parse_trace  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-trace-dma'
HVMMIO = os.environ.get('HVMMIO')
os.makedirs(OUT, exist_ok=True)
c = Checker()
BAR0, BAR1 = 0xe0000000, 0xe0100000
SRC, DST, LEN, KEEP = 0x100000, 0x200000, 300, 16
PATTERN = bytes((i * 7 + 3) & 0xff for i in range(LEN))


def edu_dma(q, bar, src, dst, cnt, to_ram):
    q.writeq(bar + 0x80, src)
    q.writeq(bar + 0x88, dst)
    q.writeq(bar + 0x90, cnt)
    q.writeq(bar + 0x98, 0x3 if to_ram else 0x1)     # RUN, and DIR=1: edu's buffer to RAM
    q.clock_step(200_000_000)


def run():
    trace = os.path.join(OUT, 'dma.txt')
    with Qemu(['-device', f'edu,id=edu0,addr=3,mmiotrace=on,mmiotrace-file={trace},'
               f'mmiotrace-dma=on,mmiotrace-dma-bytes={KEEP}',
               '-device', f'edu,id=edu1,addr=4,mmiotrace=on,mmiotrace-file={trace}'],
              memory='128M') as q:
        q.pci_map_bar(3, 0, BAR0, master=True)
        q.pci_map_bar(4, 0, BAR1, master=True)
        q.qtest(f'write 0x{SRC:x} {LEN} 0x{PATTERN.hex()}')
        edu_dma(q, BAR0, SRC, 0x40000, LEN, False)
        edu_dma(q, BAR0, 0x40000, DST, LEN, True)
        edu_dma(q, BAR1, SRC, 0x40000, LEN, False)    # edu1: DMA not traced
        back = q.qtest(f'read 0x{DST:x} {LEN}')
        q.qmp('mmiotrace-stop')
    return trace, back


def check(trace, back):
    c.check(back and back[-1] == '0x' + PATTERN.hex(),
            'edu wrote the pattern back into guest memory')
    recs = parse_trace(trace)
    dma = [r['line'].split() for r in recs if r['type'] == 'DMA']
    c.equal(len(dma), 2, 'two DMA records (edu0\'s two copies; none for edu1)')
    want = [('TO', SRC), ('FROM', DST)]
    for i, (d, addr) in enumerate(want):
        if i >= len(dma):
            break
        f = dma[i]
        ext = dict(p.split('=', 1) for p in f if '=' in p)
        c.equal((f[2], int(f[3], 16), int(f[4]), int(f[5], 16)),
                (d, addr, LEN, zlib.crc32(PATTERN)),
                f'DMA {d}: direction, address, length and CRC-32 of the pattern')
        c.equal((ext.get('dev'), ext.get('data'), ext.get('vcpu')),
                ('edu0', PATTERN[:KEEP].hex(), 'none'),
                f'DMA {d}: device, the first {KEEP} bytes, made by QEMU (a timer)')
    # order: each DMA after the command write that started it, before the next one
    kinds = [(r['type'], r.get('phys', 0) & 0xfff if r['type'] == 'W' else None)
             for r in recs if r['type'] in ('W', 'DMA') and r.get('ext', {}).get('dev', 'edu0')
             in ('edu0',)]
    cmds = [i for i, k in enumerate(kinds) if k == ('W', 0x98)]
    dmas = [i for i, k in enumerate(kinds) if k[0] == 'DMA']
    c.check(len(cmds) >= 2 and len(dmas) == 2 and cmds[0] < dmas[0] < cmds[1] < dmas[1],
            'each DMA record follows the command write that started it', f'{kinds}')
    return recs


def check_tools(trace):
    if not HVMMIO:
        return
    st = subprocess.run([HVMMIO, 'stat', trace], capture_output=True, text=True)
    c.check(st.returncode == 0 and 'DMA' in st.stdout and str(LEN) in st.stdout,
            'hvmmio stat reports the DMA volume', st.stdout[-2000:] + st.stderr[-500:])


def check_bad_props():
    for prop, msg in (('mmiotrace-dma-bytes=4097', 'at most 4096 bytes'),):
        try:
            with Qemu(['-device', f'edu,mmiotrace=on,mmiotrace-dma=on,{prop},'
                       f'mmiotrace-file={OUT}/bad.txt']):
                pass
            c.check(False, f'{prop} is refused')
        except QemuError as e:
            c.check(msg in str(e), f'{prop} is refused naming the limit ({msg})', str(e))


if __name__ == '__main__':
    trace, back = run()
    check(trace, back)
    check_tools(trace)
    check_bad_props()
    sys.exit(c.done())
