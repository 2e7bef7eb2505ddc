#!/usr/bin/env python3
"""Real kernel VFIO, end to end, in a nested guest (docs/real-vfio.md).

Level 1: a TCG guest (the nested image variant, kernel-guest/nested/) on a q35 machine with
QEMU's emulated Intel IOMMU (interrupt remapping, caching mode) and two emulated devices,
edu at 00:04.0 and e1000e at 00:05.0. Its kernel (intel_iommu=on) gives both to vfio-pci.
Level 2: hvmmio's QEMU inside it, under qtest, with both as `-device vfio-pci,...,mmiotrace=on`
(container/type1 path: the 6.1 kernel has no iommufd), driven by nested_accesses.py (run
inside the guest; the same file drives level 1 here): accesses of 4 and 8 bytes, an MSI
that arrives through vfio's eventfd, DMA through the emulated IOMMU, a BAR move, MSI-X table
and PBA accesses, and accesses to pages that mmiotrace-ranges / mmiotrace-bars leave on the
mmap fast path.

Checked: every answer the accesses get, at both levels (each a check of nested_accesses.py,
relayed here); the level-2 traces hold exactly the expected records; they have the same shape
(record types, widths, BARs, offsets, values, MAP/UNMAP, marks) as the traces the same
script gives on this host against the same devices emulated directly; the flat view at
level 2 shows the untrapped pages as vfio mmaps (ramd); the comparison catches a dropped
record and a missing trace (mmiotrace=off).

Environment: HVMMIO (tool), HVMMIO_QEMU, HVMMIO_TOP, OUT, HVMMIO_GUEST_IMAGE (the
base image folder; default the cache's current one). NESTED_L2_MMIOTRACE=off runs level 2
with the interceptor off (the test must then fail: a demonstration).
"""
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [HERE, os.path.join(HERE, '..', 'lib')]
from nested_accesses import RAM  # noqa: E402
from qemu_harness import QEMU, Checker, parse_trace  # noqa: E402

TOP = os.environ.get('HVMMIO_TOP') or os.path.dirname(os.path.dirname(HERE))
OUT = os.environ.get('OUT') or '/tmp/hvmmio-nested-vfio'
HVMMIO = os.environ.get('HVMMIO') or os.path.join(TOP, 'build', 'tools', 'hvmmio')
CACHE = os.environ.get('HVMMIO_CACHE_DIR') or os.path.join(
    os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'hvmmio')
BASE_IMAGE = os.environ.get('HVMMIO_GUEST_IMAGE') or os.path.join(CACHE, 'guest', 'current')
L2_MMIOTRACE = os.environ.get('NESTED_L2_MMIOTRACE', 'on')

# the accesses (both levels; the nested image gets both files)
ACCESSES = os.path.join(HERE, 'nested_accesses.py')
HARNESS = os.path.join(TOP, 'tests', 'lib', 'qemu_harness.py')

c = Checker()


def reference(folder, mmiotrace='on'):
    """Run nested_accesses.py on this host against the devices emulated directly; its TAP."""
    os.makedirs(folder, exist_ok=True)
    p = subprocess.run([sys.executable, ACCESSES, '1', mmiotrace], cwd=folder,
                       capture_output=True, text=True, timeout=120)
    with open(os.path.join(folder, 'level1.out'), 'w') as f:
        f.write(p.stdout + p.stderr)
    return p.stdout + p.stderr


def relay(tap, level):
    """Each check of nested_accesses.py's TAP output as a check here; and that it ran to its
    end (its plan)."""
    n = 0
    for line in tap.splitlines():
        m = re.match(r'(not ok|ok) \d+ - (.*)', line)
        if m:
            n += 1
            c.check(m.group(1) == 'ok', f'{level}: {m.group(2)}')
        elif line.startswith('#   '):
            print(line)     # a failed check's detail
    plan = re.search(r'^1\.\.(\d+)$', tap, re.M)
    c.check(n > 0 and plan is not None and int(plan.group(1)) == n,
            f'{level}: the accesses ran to the end ({n} checks)', tap[-2000:])


def build_image():
    env_file = os.path.join(OUT, 'nested.env')
    with open(env_file, 'w') as f:
        f.write(f'NESTED_DEVS="04.0 05.0"\nNESTED_MMIOTRACE={L2_MMIOTRACE}\n')
    p = subprocess.run([os.path.join(TOP, 'kernel-guest', 'nested', 'build-nested-image.sh'),
                        BASE_IMAGE, QEMU, ACCESSES, HARNESS, env_file],
                       capture_output=True, text=True, timeout=300)
    sys.stderr.write(p.stderr)
    if p.returncode:
        raise SystemExit('FAIL: building the nested image failed')
    return p.stdout.strip().splitlines()[-1]


def run_nested(image, folder):
    cmd = [HVMMIO, 'run', '--accel', 'tcg', '--timeout', '240', '-m', '1024', '--image', image,
           '--machine', 'q35,kernel-irqchip=split',
           '--append', 'intel_iommu=on iommu=pt loglevel=7',
           '-d', '{"driver":"intel-iommu","intremap":"on","caching-mode":true}',
           '-d', 'edu,addr=04.0', '-d', 'e1000e,addr=05.0', '-o', folder, 'nested-vfio']
    t = time.monotonic()
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    print(''.join('# ' + line for line in p.stderr.splitlines(True)), end='')
    return p.returncode, time.monotonic() - t


# ---- trace shape ----

def shape(path):
    """The records of a trace as comparable tuples: (type, width, BAR, offset, value) for
    accesses, with the address checked against the mapping it went through; MAP (BAR,
    offset, length); UNMAP (BAR, offset); MARK text; PCIDEV vendor:device. Timestamps, map
    ids, absolute addresses and config-space snapshots are left out."""
    if not os.path.exists(path):
        return None
    out, base = [], {}
    for r in parse_trace(path):
        t = r['type']
        if t == 'MAP':
            base[r['map']] = r['phys'] - int(r['ext']['off'], 16)
            out.append(('MAP', r['ext']['bar'], r['ext']['off'], r['len']))
        elif t == 'UNMAP':
            out.append(('UNMAP', r['ext']['bar'], r['ext']['off']))
        elif t in ('R', 'W'):
            off = int(r['ext']['off'], 16)
            where = r['phys'] - base.get(r['map'], 0) if r['map'] in base else None
            out.append((t, r['width'], r['ext']['bar'], off, r['value'],
                        'ok' if where == off else f'phys {r["phys"]:#x} not in map {r["map"]}'))
        elif t == 'MARK':
            out.append(('MARK', r['text']))
        elif t == 'PCIDEV':
            out.append(('PCIDEV', r['line'].split()[2]))
        elif t == 'IRQ':
            # IRQ TIME KIND VECTOR ADDRESS DATA ...: an interrupt the device raised
            f = r['line'].split()
            out.append(('IRQ', f[2], int(f[3]), int(f[4], 16), int(f[5], 16)))
    return out


def compare(ref, got):
    """Differences between two shapes (empty if identical)."""
    if ref is None or got is None:
        return ['no trace' + (' at level 1' if ref is None else ' at level 2')]
    diffs = []
    for i in range(max(len(ref), len(got))):
        a = ref[i] if i < len(ref) else None
        b = got[i] if i < len(got) else None
        if a != b:
            diffs.append(f'record {i}: level 1 {a}, level 2 {b}')
            if len(diffs) >= 5:
                break
    if len(ref) != len(got):
        diffs.append(f'{len(ref)} records at level 1, {len(got)} at level 2')
    return diffs


def acc(t, w, off, val, bar='0'):
    return (t, w, bar, off, val, 'ok')


# Exactly what nested_accesses.py must leave in each trace (shape tuples, in order).
WANT_EDU = [
    ('PCIDEV', '123411e8'), ('MAP', '0', '0x0', 0x100000), ('PCIDEV', '123411e8'),
    ('MARK', 'registers'),
    acc('R', 4, 0x0, 0x010000ed), acc('W', 4, 0x4, 0x12345678), acc('R', 4, 0x4, 0xedcba987),
    acc('W', 8, 0x80, 0x1122334455667788), acc('R', 8, 0x80, 0x1122334455667788),
    # (0x1000 and 0x2000: outside mmiotrace-ranges, no records)
    ('MARK', 'msi'),
    acc('W', 4, 0x60, 0x100), ('IRQ', 'MSI', 0, RAM, 0x4321),
    acc('R', 4, 0x24, 0x100), acc('W', 4, 0x64, 0x100),
    acc('R', 4, 0x24, 0x0),
    ('MARK', 'dma'),
    acc('W', 8, 0x80, RAM + 0x10), acc('W', 8, 0x88, 0x40000), acc('W', 8, 0x90, 8),
    acc('W', 8, 0x98, 1), acc('R', 8, 0x98, 0),
    acc('W', 8, 0x80, 0x40000), acc('W', 8, 0x88, RAM + 0x100), acc('W', 8, 0x98, 3),
    acc('R', 8, 0x98, 2),
    ('MARK', 'bar move'),
    ('UNMAP', '0', '0x0'), ('MAP', '0', '0x0', 0x100000), ('PCIDEV', '123411e8'),
    acc('R', 4, 0x0, 0x010000ed), acc('W', 4, 0x4, 0xffffffff), acc('R', 4, 0x4, 0x0),
    acc('R', 4, 0x1008, 0xffffffff),  # page 1 trapped by mmiotrace-trap, then released
    ('MARK', 'msi-x'), ('MARK', 'msi-x interrupt'), ('MARK', 'end'),
]
WANT_NIC = [
    ('PCIDEV', '808610d3'),
    ('MARK', 'registers'), ('MARK', 'msi'), ('MARK', 'dma'), ('MARK', 'bar move'),
    ('MAP', '3', '0x0', 0x4000), ('PCIDEV', '808610d3'),
    ('MARK', 'msi-x'),
    acc('R', 4, 0xc, 1, '3'), acc('W', 4, 0x4, 0, '3'), acc('W', 4, 0x0, RAM + 0x200, '3'),
    acc('W', 4, 0x8, 0x4041, '3'), acc('R', 4, 0x0, RAM + 0x200, '3'),
    acc('R', 4, 0x8, 0x4041, '3'), acc('R', 4, 0x2000, 0, '3'),
    # (BAR0 STATUS read: BAR0 not traced, no record)
    ('MARK', 'msi-x interrupt'),
    acc('W', 4, 0xc, 0, '3'),  # unmask vector 0; then IVAR, IMS, ICS in BAR0 (untraced)
    ('IRQ', 'MSIX', 0, RAM + 0x200, 0x4041),
    ('MARK', 'end'),
]


def check_traces(level_dir, level, what):
    for dev, want in (('edu', WANT_EDU), ('nic', WANT_NIC)):
        got = shape(os.path.join(level_dir, f'l{level}-{dev}.txt'))
        if got is None:
            c.check(False, f'{what}: l{level}-{dev}.txt exists (is mmiotrace on?)')
            continue
        d = compare(want, got)
        c.check(not d, f'{what}: {dev} trace holds exactly the {len(want)} expected records'
                + (''.join('\n    ' + x for x in d) if d else ''))


def main():
    os.makedirs(OUT, exist_ok=True)
    ref_dir, l2_dir = os.path.join(OUT, 'level1'), os.path.join(OUT, 'nested')

    def read_l2(name):
        p = os.path.join(l2_dir, name)
        return open(p, errors='replace').read() if os.path.exists(p) else ''

    # 1. the same accesses against the devices emulated on this host
    relay(reference(ref_dir), 'level 1 (emulated edu and e1000e)')
    check_traces(ref_dir, 1, 'level 1')

    # 2. the nested run
    image = build_image()
    rc, secs = run_nested(image, l2_dir)
    print(f'# nested run: {secs:.1f} s')
    c.equal(rc, 0, 'hvmmio run nested-vfio: the level-2 checks pass (ID, liveness, '
                   '8-byte registers, MSI, DMA both ways, BAR move, MSI-X table)')
    relay(read_l2('level2.out'), 'level 2 (vfio-pci)')
    if rc:
        for f in ('scenario.log', 'level2.err'):
            p = os.path.join(l2_dir, f)
            if os.path.exists(p):
                text = f'--- {f}\n' + open(p).read()[-3000:]
                print(''.join('# ' + line for line in text.splitlines(True)))
    check_traces(l2_dir, 2, 'level 2 (vfio-pci)')

    # 3. same shape at both levels
    for dev in ('edu', 'nic'):
        ref = shape(os.path.join(ref_dir, f'l1-{dev}.txt'))
        got = shape(os.path.join(l2_dir, f'l2-{dev}.txt'))
        d = compare(ref, got)
        c.check(not d, f'{dev}: the level-2 trace has the shape of the level-1 one'
                + (''.join('\n    ' + x for x in d) if d else ''))

    # 4. the comparison catches a dropped record and a missing trace
    l2_edu = os.path.join(l2_dir, 'l2-edu.txt')
    ref = shape(os.path.join(ref_dir, 'l1-edu.txt'))
    if os.path.exists(l2_edu):
        lines = open(l2_edu).readlines()
        drop = next(i for i, x in enumerate(lines) if x.startswith('W 8 '))
        trunc = os.path.join(OUT, 'l2-edu-dropped.txt')
        with open(trunc, 'w') as f:
            f.writelines(lines[:drop] + lines[drop + 1:])
        d = compare(ref, shape(trunc))
        c.check(bool(d) and 'record' in d[0],
                f'a copy with one record dropped ({lines[drop].split()[0:2]} at line '
                f'{drop + 1}) is caught: {d[0] if d else "NOT CAUGHT"}')
    off_dir = os.path.join(OUT, 'level1-mmiotrace-off')
    reference(off_dir, mmiotrace='off')
    d = compare(ref, shape(os.path.join(off_dir, 'l1-edu.txt')))
    c.check(d == ['no trace at level 2'], f'with mmiotrace=off there is no trace and the '
            f'comparison fails: {d}')

    # 5. what the level-2 QEMU and the level-1 kernel show
    read = read_l2
    fv = read('mtree-l2.txt')
    for pat, what in [
        (r'00000000e0400000-00000000e0400fff \(prio \d+, i/o\): mmiotrace-trap-bar0@0x0\r?$',
         'edu page 0 (mmiotrace-ranges) is the trap overlay'),
        (r'00000000e0401000-00000000e04fffff \(prio \d+, ramd\): 0000:00:04.0 BAR 0 mmaps\[0\]'
         r' @0000000000001000\r?$', 'the rest of edu BAR0 is the vfio mmap (ramd: fast path)'),
        (r'00000000e0800000-00000000e080004f \(prio \d+, i/o\): msix-table\r?$',
         'e1000e BAR3 starts with QEMU\'s emulated MSI-X table'),
        (r'00000000e0800050-00000000e0803fff \(prio \d+, i/o\): mmiotrace-trap-bar3@0x0',
         'the rest of e1000e BAR3 (PBA included) is trapped'),
        (r'00000000e0900000-00000000e091ffff \(prio \d+, ramd\): 0000:00:05.0 BAR 0 mmaps\[0\]\r?$',
         'e1000e BAR0 (not traced) is the vfio mmap'),
    ]:
        c.check(re.search(pat, fv, re.M) is not None, f'level-2 flat view: {what}')
    qlog = read('qemu-l2.log')
    c.check(re.search(r'vfio_msi_enable +\(0000:00:04.0\) Enabled 1 MSI vectors', qlog)
            is not None, 'level 2: vfio enabled edu\'s MSI through the kernel (SET_IRQS)')
    c.check(re.search(r'vfio_msi_interrupt +\(0000:00:04.0\) vector 0 0x100000/0x4321', qlog)
            is not None, 'level 2: the MSI came through vfio\'s eventfd and was written to RAM')
    c.check(re.search(r'vfio_msi_interrupt +\(0000:00:05.0\) vector 0 0x100200/0x4041', qlog)
            is not None, 'level 2: the e1000e MSI-X vector 0 came through vfio\'s eventfd')
    c.check(re.search(r'vfio_region_(read|write) ', qlog) is None,
            'level 2: no BAR access took vfio\'s read/write slow path (all through the mmaps)')
    dm = read('iommu-dmesg.txt')
    c.check('DMAR-IR: Enabled IRQ remapping' in dm, 'level 1: interrupt remapping is on')
    c.check(read('allow_unsafe_interrupts').strip() == 'N',
            'level 1: vfio_iommu_type1 allow_unsafe_interrupts=N (no fallback)')
    groups = read('groups.txt')
    c.check('0000:00:04.0 0x1234:0x11e8 iommu group' in groups and
            '0000:00:05.0 0x8086:0x10d3 iommu group' in groups,
            f'level 1: both devices are in IOMMU groups: {groups.strip()!r}')
    print('# ' + read('timing.txt').strip())
    return c.done()


if __name__ == '__main__':
    sys.exit(main())
