"""seabios-boot: SeaBIOS boots from a traced NVMe disk and a traced modern virtio-blk disk,
with mmiotrace-pc and mmiotrace-insn, and tracing changes nothing the firmware sees.

For each disk and accelerator: an untraced boot and a traced one must both reach the boot
sector (tests/kvm-probe/mbr.S) and print the same console output; the trace must parse,
hold the firmware driver's accesses (the controller's registers, the virtio notify
writes: a traced device has no ioeventfd, so every notify reaches the tracer) with a PC
inside SeaBIOS for each, and lose nothing. With --accel both the KVM trace must equal
TCG's in R/W, width, offset, value and PC.

    python3 seabios-boot.py --accel tcg|both
Environment: HVMMIO_QEMU, MBR (the boot sector), OUT. Prints TAP; the KVM half reports
SKIP with the reason where /dev/kvm cannot run a guest.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Checker, kvm_usable  # noqa: E402

QEMU = os.environ['HVMMIO_QEMU']
MBR = os.environ['MBR']
OUT = os.environ.get('OUT', '/tmp/seabios-boot')
FIRMWARE = ['-L', '/usr/share/seabios', '-L', '/usr/share/qemu']

DISKS = {
    # name: (device, its properties, a register write the driver must make (bar, offset))
    'nvme': ('nvme', 'serial=hvmmio,addr=04.0', (0, 0x14)),          # CC: enable
    'virtio-blk': ('virtio-blk-pci', 'disable-legacy=on,addr=04.0', None),
}
FACT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def records(path):
    out, lost = [], 0
    for line in open(path, errors='replace'):
        f = line.split()
        if f and f[0] in ('R', 'W'):
            facts = dict(FACT.findall(line))
            out.append(dict(dir=f[0], width=int(f[1]), value=int(f[5], 16), pc=int(f[6], 16),
                            bar=int(facts.get('bar', -1)), off=int(facts.get('off', '0'), 16),
                            insn='insn' in facts, pc_unknown=facts.get('pc') == 'unknown'))
        elif f and (f[0] == 'LOST' or (f[0] == 'MARK' and 'Lost' in line)):
            lost += 1
    return out, lost


def boot(accel, disk, traced):
    d = os.path.join(OUT, f'{accel}-{disk}-{"traced" if traced else "plain"}')
    os.makedirs(d, exist_ok=True)
    img = os.path.join(d, 'disk.img')
    with open(img, 'wb') as f:
        f.write(open(MBR, 'rb').read())
        f.truncate(1 << 20)
    trace = os.path.join(d, 'trace.txt')
    dev, props, _ = DISKS[disk]
    tr = f',mmiotrace=on,mmiotrace-file={trace},mmiotrace-pc=on,mmiotrace-insn=on' \
        if traced else ''
    qmp = os.path.join(d, 'qmp.sock')
    cmd = [QEMU] + FIRMWARE + [
        '-machine', 'q35', '-accel', accel, '-m', '64M', '-nodefaults', '-display', 'none',
        '-chardev', f'file,id=dbg,path={d}/console.txt',
        '-device', 'isa-debugcon,iobase=0xe9,chardev=dbg',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
        '-drive', f'if=none,id=d0,file={img},format=raw',
        '-device', f'{dev},drive=d0,bootindex=1,id=disk0,{props}{tr}',
        '-boot', 'strict=on']
    t0 = time.time()
    with open(os.path.join(d, 'qemu.log'), 'w') as log:
        try:
            rc = subprocess.run(cmd, stdout=log, stderr=log, timeout=120).returncode
        except subprocess.TimeoutExpired:
            rc = 'timeout'
    console = open(os.path.join(d, 'console.txt'), errors='replace').read() \
        if os.path.exists(os.path.join(d, 'console.txt')) else ''
    return rc, console, trace if traced else None, time.time() - t0, d


def ioeventfd(disk, traced):
    """The device's ioeventfd property after realize, asked for on (docs: tracing turns
    it off, or KVM would absorb the guest's notify writes)."""
    dev, props, _ = DISKS[disk]
    from qemu_harness import Qemu
    tr = ',mmiotrace=on,mmiotrace-file=' if traced else ''
    with Qemu(['-drive', 'if=none,id=d0,driver=null-co', '-device',
               f'{dev},drive=d0,id=disk0,{props},ioeventfd=on{tr}']) as q:
        return q.qmp('qom-get', path='/machine/peripheral/disk0', property='ioeventfd')


def main():
    accel = sys.argv[sys.argv.index('--accel') + 1] if '--accel' in sys.argv else 'tcg'
    accels = ['tcg', 'kvm'] if accel == 'both' else [accel]
    if 'kvm' in accels and kvm_usable():
        return Checker().skip_all(f'KVM half: {kvm_usable()}')
    tap = Checker()
    kept = {}
    for disk in DISKS:
        tap.ok(ioeventfd(disk, False) is True and ioeventfd(disk, True) is False,
               f'{disk}: mmiotrace=on turns ioeventfd=on off')
        for a in accels:
            rc0, plain, _, t0, _ = boot(a, disk, False)
            rc1, traced, trace, t1, d = boot(a, disk, True)
            tap.ok(rc0 == 1 and 'hvmmio-mbr: booted' in plain,
                   f'{a} {disk}: SeaBIOS boots untraced ({t0:.1f} s)', f'exit {rc0}\n{plain}')
            tap.ok(rc1 == 1 and traced == plain,
                   f'{a} {disk}: SeaBIOS boots traced with pc and insn, same console '
                   f'({t1:.1f} s)', f'exit {rc1}; see {d}\n{traced}')
            recs, lost = records(trace) if os.path.exists(trace) else ([], 1)
            kept[(a, disk)] = recs
            bad = [r for r in recs if not (0xc0000 <= r['pc'] < 0x100000 or
                                           0x1000000 <= r['pc'] < 0x4000000) or
                   r['pc_unknown'] or not r['insn']]
            tap.ok(recs and not bad and lost == 0,
                   f'{a} {disk}: {len(recs)} records, each with a PC in SeaBIOS and its '
                   f'instruction, none lost', f'{len(bad)} bad, lost {lost}: {bad[:5]}')
            want = DISKS[disk][2]
            if want:
                tap.ok(any(r['dir'] == 'W' and (r['bar'], r['off']) == want for r in recs),
                       f'{a} {disk}: the driver\'s write to BAR{want[0]}+{want[1]:#x} is there')
            else:
                # virtio modern: the notify writes (a 2-byte queue index to the notify
                # region) reach the tracer; with an ioeventfd KVM would absorb them
                notify = [r for r in recs if r['dir'] == 'W' and r['width'] == 2 and
                          r['bar'] == 4 and r['off'] >= 0x3000]
                tap.ok(len(notify) > 0, f'{a} {disk}: {len(notify)} virtio notify writes '
                       f'traced')
    if len(accels) == 2:
        key = ('dir', 'width', 'bar', 'off', 'value', 'pc')
        for disk in DISKS:
            t = [tuple(r[k] for k in key) for r in kept[('tcg', disk)]]
            k = [tuple(r[k] for k in key) for r in kept[('kvm', disk)]]
            diff = [f'#{i}: tcg {x} kvm {y}' for i, (x, y) in enumerate(zip(t, k)) if x != y]
            tap.ok(t == k, f'{disk}: KVM and TCG give identical records ({len(t)}, {len(k)})',
                   '\n'.join(diff))
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
