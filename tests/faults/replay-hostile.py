#!/usr/bin/env python3
"""Hostile recordings for the mmiotrace-replay device: one per class, each must make realize
fail cleanly (QEMU exits with status 1, no signal) with FILE:LINE of the offending record and
the reason; and a small compressed recording that expands to 1 GB must cost bounded memory.

The base recording is made by hvmmio's tracer on QEMU's edu device (MSI capability at 0x40,
a 1 MiB 32-bit memory BAR 0); each case edits its PCIDEV, PCICFG or access lines.
"""
import gzip
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import Checker, EvQemu, Qemu, QemuError  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-faults-replay'
os.makedirs(OUT, exist_ok=True)
c = Checker()
SLOT, BAR = 3, 0xe0000000


def record():
    path = os.path.join(OUT, 'edu.txt')
    with Qemu(['-device', f'edu,id=edu0,addr={SLOT},mmiotrace=on,mmiotrace-file={path}']) as q:
        q.pci_map_bar(SLOT, 0, BAR)
        q.readl(BAR)
        q.writel(BAR + 4, 0x1234)
        q.readl(BAR + 4)
    return open(path).read().splitlines(keepends=True)


def line_no(lines, prefix):
    return next(i for i, l in enumerate(lines) if l.startswith(prefix)) + 1


def with_config(lines, edit):
    """Edit the PCICFG bytes: edit(bytearray) changes them in place."""
    out = list(lines)
    i = line_no(out, 'PCICFG ') - 1
    parts = out[i].split(' ')
    cfg = bytearray.fromhex(parts[3])
    edit(cfg)
    parts[3] = cfg.hex()
    out[i] = ' '.join(parts)
    return out


def with_pcidev(lines, resource=None, size=None):
    """Replace BAR fields of the PCIDEV lines: resource/size are {bar: value}."""
    out = list(lines)
    for i in [i for i, l in enumerate(out) if l.startswith('PCIDEV ')]:
        head, sep, tail = out[i].partition('  ')
        f = head.split(' ')
        for bar, v in (resource or {}).items():
            f[4 + bar] = f'{v:x}'
        for bar, v in (size or {}).items():
            f[11 + bar] = f'{v:x}'
        out[i] = ' '.join(f) + sep + tail
    return out


def with_access_off(lines, off):
    out = list(lines)
    i = line_no(out, 'W ') - 1
    out[i] = out[i].replace(' off=0x4', f' off=0x{off:x}')
    return out


def cap(cfg, pos, cap_id, nxt, flags=None):
    cfg[pos], cfg[pos + 1] = cap_id, nxt
    if flags is not None:
        cfg[pos + 2], cfg[pos + 3] = flags & 0xff, flags >> 8


def msi_flags(cfg, flags):
    cfg[0x42], cfg[0x43] = flags & 0xff, flags >> 8


def expect_failure(name, lines, where, reason):
    path = os.path.join(OUT, name + '.txt')
    with open(path, 'w') as f:
        f.writelines(lines)
    try:
        q = Qemu(['-device', f'mmiotrace-replay,id=r0,addr={SLOT},trace={path}'], timeout=30)
        q.start()
        q.quit()
        c.check(False, f'{name}: realize accepted the recording')
        return
    except QemuError as e:
        msg = str(e)
        rc = q.proc.returncode
    want = f'{path}:{where}:' if where else f'{path}:'
    c.check(rc == 1, f'{name}: QEMU exits with status 1, not a crash (got {rc})')
    c.check(want in msg and reason in msg,
            f'{name}: realize fails naming {want} and "{reason}": {msg.strip()[-300:]}')


base = record()
cfg_line = line_no(base, 'PCICFG ')
dev_line = max(i for i, l in enumerate(base) if l.startswith('PCIDEV ')) + 1  # the last
w_line = line_no(base, 'W ')

# the base recording replays (sanity)
p = os.path.join(OUT, 'base.txt')
with open(p, 'w') as f:
    f.writelines(base)
with Qemu(['-device', f'mmiotrace-replay,id=r0,addr={SLOT},trace={p}']) as q:
    info = q.qmp('query-mmiotrace-replay')[0]
c.equal(info['total'], 3, 'the unaltered recording realizes with its 3 accesses')

expect_failure('msi-qmask-6', with_config(base, lambda b: msi_flags(b, 0x008c)), cfg_line,
               'Multiple Message Capable field 6 is reserved')
expect_failure('msi-qmask-7', with_config(base, lambda b: msi_flags(b, 0x008e)), cfg_line,
               'Multiple Message Capable field 7 is reserved')


def msi_at(pos):
    def edit(b):
        b[0x34] = pos
        cap(b, pos, 0x05, 0, 0x0180)     # 64-bit, per-vector masking: 0x18 bytes
    return edit


expect_failure('msi64-mask-at-0xf8', with_config(base, msi_at(0xf8)), cfg_line,
               'ends past the config space')
expect_failure('msi64-mask-at-0xfc', with_config(base, msi_at(0xfc)), cfg_line,
               'ends past the config space')
expect_failure('msi-enable-above-capable', with_config(base, lambda b: msi_flags(b, 0x00a2)),
               cfg_line, 'Multiple Message Enable 2 exceeds Multiple Message Capable 1')
expect_failure('cap-loop', with_config(base, lambda b: cap(b, 0x40, 0x05, 0x40)), cfg_line,
               'the capability list loops at 0x40')


def two_loop(b):
    cap(b, 0x40, 0x05, 0x60)
    cap(b, 0x60, 0x01, 0x40)


expect_failure('cap-loop-2', with_config(base, two_loop), cfg_line,
               'the capability list loops at 0x40')


def below_header(b):
    b[0x34] = 0x20


expect_failure('cap-in-header', with_config(base, below_header), cfg_line,
               'outside the recorded capability area')


def overlap(b):
    cap(b, 0x40, 0x05, 0x50, 0x0180)     # MSI 0x40-0x57
    cap(b, 0x50, 0x09, 0, None)          # a vendor capability inside it
    b[0x52] = 4


expect_failure('cap-overlap', with_config(base, overlap), cfg_line, 'overlaps capability')


def msix_outside(b):
    cap(b, 0x40, 0x05, 0x60)
    cap(b, 0x60, 0x11, 0, 0x07ff)        # 2048 vectors: a 32 KiB table
    b[0x64:0x68] = (0x000ff000).to_bytes(4, 'little')   # BAR 0 at 0xff000: past 1 MiB
    b[0x68:0x6c] = (0x00080000).to_bytes(4, 'little')


expect_failure('msix-table-outside', with_config(base, msix_outside), cfg_line,
               'is outside its BAR')


def msix_no_bar(b):
    cap(b, 0x40, 0x05, 0x60)
    cap(b, 0x60, 0x11, 0, 0x0003)
    b[0x64:0x68] = (0x2).to_bytes(4, 'little')          # BIR 2: no such BAR
    b[0x68:0x6c] = (0x1000).to_bytes(4, 'little')


expect_failure('msix-missing-bar', with_config(base, msix_no_bar), cfg_line,
               'in a BAR the recording does not have')
def pin(value):
    def edit(b):
        b[0x3d] = value
    return edit


expect_failure('interrupt-pin-5', with_config(base, pin(5)), cfg_line, 'Interrupt Pin 5 is not 0-4')

# a recorded INTx of a device without an interrupt pin: not raised, and no crash
nopin = with_config(base, pin(0))
i = line_no(nopin, 'W ')
nopin.insert(i, 'IRQ 0.100000 INTX 0 1 ns=100000000 vcpu=none dev=edu0\n')
p2 = os.path.join(OUT, 'intx-no-pin.txt')
with open(p2, 'w') as f:
    f.writelines(nopin)
with Qemu(['-device', f'mmiotrace-replay,id=r0,addr={SLOT},trace={p2}']) as q:
    q.pci_map_bar(SLOT, 0, BAR)
    q.readl(BAR)
    q.writel(BAR + 4, 0x1234)
    info = q.qmp('query-mmiotrace-replay')[0]
c.check(q.proc.returncode == 0 and info['divergences'] == 0 and info['position'] >= 3,
        f'an INTx recorded for a device without a pin is not raised, no crash ({info})')

expect_failure('bar32-1tib', with_pcidev(base, size={0: 1 << 40}), dev_line,
               'impossible for a 32-bit memory BAR')
expect_failure('io-bar-1tib', with_pcidev(base, resource={1: 0xc001}, size={1: 1 << 40}),
               dev_line, 'impossible for an I/O BAR')
expect_failure('io-bar-512', with_pcidev(base, resource={1: 0xc001}, size={1: 512}),
               dev_line, 'impossible for an I/O BAR')
expect_failure('bar64-upper-half-sized', with_pcidev(base, resource={0: 0xe0000004},
                                                      size={1: 0x1000}),
               dev_line, 'BAR 1 is its upper half')
expect_failure('bar-reserved-type', with_pcidev(base, resource={0: 0xe0000006}), dev_line,
               'reserved memory type')
expect_failure('offset-wraps', with_access_off(base, 0xffffffffffffffff), w_line,
               'wraps around')
expect_failure('offset-outside-bar', with_access_off(base, 0x100000), w_line,
               'outside the recorded BARs')
many = list(base) + [f'MARK 0.1 x\n'] + [
    f'W 4 0.200000 1 0xe0000004 0x1 0x0 0 ns=200000000 vcpu=0 dev=d{i} bar=0 off=0x4\n'
    for i in range(70)]
expect_failure('too-many-devices', many, len(base) + 1 + 64, 'names more than 64 devices')

# a 1 GB recording in a 4 MB gzip file: streamed, with bounded memory
big = os.path.join(OUT, 'big.txt.gz')
header = [l for l in base if not l.startswith(('R ', 'W '))]
line = b'R 4 0.100000 1 0xe0000000 0x10000ed 0x0 0 ns=100000000 vcpu=0 dev=edu0 bar=0 off=0x0\n'
block = line * 20000
with gzip.open(big, 'wb', compresslevel=1) as f:
    f.write(''.join(header).encode())
    n = 0
    while n < 1 << 30:
        f.write(block)
        n += len(block)
records = n // len(line)


def hwm_kb(pid):
    with open(f'/proc/{pid}/status') as f:
        for l in f:
            if l.startswith('VmHWM:'):
                return int(l.split()[1])


with Qemu(['-device', f'mmiotrace-replay,id=r0,addr={SLOT},trace={p}']) as q:
    small = hwm_kb(q.proc.pid)
with EvQemu(['-device', f'mmiotrace-replay,id=r0,addr={SLOT},trace={big},on-divergence=log'],
            timeout=120) as q:
    info = q.qmp('query-mmiotrace-replay')[0]
    q.pci_map_bar(SLOT, 0, BAR)
    q.qtest_many([f'readl 0x{BAR:x}'] * 10000)
    info = q.qmp('query-mmiotrace-replay')[0]
    peak = hwm_kb(q.proc.pid)
c.equal(info['total'], records, f'the 1 GB recording realizes with its {records} records')
c.equal((info['position'], info['divergences']), (10000, 0), 'and replays (10000 reads)')
c.check(peak - small < 64 * 1024,
        f'its memory is bounded: peak RSS {peak // 1024} MiB against {small // 1024} MiB for a '
        f'3-access recording (was 769 MB more)')
print(f'# figures: 1 GB recording ({os.path.getsize(big)} bytes gzip), peak RSS {peak // 1024} '
      f'MiB, small recording {small // 1024} MiB')
os.unlink(big)
sys.exit(c.done())
