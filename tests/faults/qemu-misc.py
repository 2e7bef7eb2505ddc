#!/usr/bin/env python3
"""Odd outputs and odd inputs of the tracer in QEMU, each must be a clear error or work:

- mmiotrace-rotate: the trace goes on in new files (also under the old name after a rename)
  with nothing lost, each file a valid trace starting with its header (also with
  mmiotrace-direct=on, enough accesses that the I/O thread writes); bad targets refused;
- a file system that opens files with O_DIRECT but refuses direct writes (EINVAL, a
  preloaded fault): the I/O thread's write and the writer's own both go on buffered,
  nothing lost;
- a device id longer than 64 characters gives a trace hvmmio reads; QMP takes the id;
- mmiotrace-mark over 4096 bytes is an error, 4096 bytes are written;
- a FIFO trace file without a reader: a clear error at once, not a hang;
- a trace truncated while written (copytruncate): the reader says so (NUL bytes);
- 5000 identical mmiotrace-trap calls cost no memory (before: 4.5 KB each);
- invalid mmiotrace-* values are refused with mmiotrace=off too; a BAR of 2^32 in
  mmiotrace-ranges is not BAR 0; mmiotrace-bars=0:1 and ';' between ranges work.
"""
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import Checker, EvQemu, QmpError, hvmmio  # noqa: E402
from qemu_harness import FIRMWARE, QEMU  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-faults-misc'
os.makedirs(OUT, exist_ok=True)
c = Checker()
SLOT, BAR = 3, 0xe0000000


def edu(path, extra=''):
    q = EvQemu(['-device', f'edu,id=edu0,addr={SLOT},mmiotrace=on,mmiotrace-file={path}{extra}'])
    q.start()
    q.pci_map_bar(SLOT, 0, BAR)
    return q


def w_values(path):
    with open(path) as f:
        return [int(l.split()[5], 16) for l in f if l.startswith('W ')]


def first_words(path, n=4):
    with open(path) as f:
        return [l.split(' ')[0] for _, l in zip(range(n), f)]


def vm_rss_kb(pid):
    with open(f'/proc/{pid}/status') as f:
        for l in f:
            if l.startswith('VmRSS:'):
                return int(l.split()[1])


def qemu_fails(devs, timeout=20):
    """Start QEMU with devs; (exit status, stderr), or ('hang', '') after timeout s."""
    try:
        r = subprocess.run([QEMU] + FIRMWARE + ['-machine', 'q35', '-accel', 'qtest', '-qtest',
                                                'null', '-nodefaults', '-display', 'none'] + devs,
                           capture_output=True, text=True, timeout=timeout, cwd=OUT)
        return r.returncode, r.stderr.strip()
    except subprocess.TimeoutExpired:
        return 'hang', ''


def test_rotate(props='', n=3000):
    """n accesses into each of three files (direct writes: through the I/O thread)."""
    how = f' ({props[1:]}, {n} accesses a file)' if props else ''
    f0, f1 = os.path.join(OUT, 'rot0.txt'), os.path.join(OUT, 'rot1.txt')
    old = f1 + '.1'
    for p in (f0, f1, old, os.path.join(OUT, 'rot2.txt')):
        if os.path.exists(p):
            os.unlink(p)
    q = edu(f0, ',mmiotrace-ring=256' + props)
    q.writes(BAR + 4, n, base=0)
    q.qmp('mmiotrace-rotate', device='edu0', file=f1)
    q.writes(BAR + 4, n, base=n)
    os.rename(f1, old)      # logrotate's way, without copytruncate
    q.qmp('mmiotrace-rotate', device='edu0', file=f1)
    q.writes(BAR + 4, n, base=2 * n)
    for what, target, want in (('the live file', f1, 'is the file being written'),
                               ('a directory', OUT, 'directory'),
                               ('a missing folder', '/nonexistent/x.txt', 'cannot open')):
        try:
            q.qmp('mmiotrace-rotate', device='edu0', file=target)
            c.check(False, f'mmiotrace-rotate to {what} refused')
        except QmpError as e:
            c.check(want in e.desc, f'mmiotrace-rotate to {what} refused: {e.desc}')
    info = q.qmp('query-mmiotrace')[0]
    f2 = os.path.join(OUT, 'rot2.txt')
    out = q.hmp(f'mmiotrace_rotate edu0 {f2}')
    q.quit()
    c.equal(out, '', 'HMP mmiotrace_rotate works')
    c.equal(first_words(f2), ['VERSION', 'PCIDEV', 'PCICFG', 'MAP'], 'and its file has the header')
    c.equal(info['file'], f1, 'query-mmiotrace names the new file')
    c.equal((info['records'], info['dropped']), (3 * n, 0), f'every access recorded, none lost{how}')
    for path, lo in ((f0, 0), (old, n), (f1, 2 * n)):
        r = hvmmio('stat', '--strict', path)
        c.check(r.returncode == 0, f'{os.path.basename(path)} is a valid trace {r.stderr}')
        c.equal(first_words(path), ['VERSION', 'PCIDEV', 'PCICFG', 'MAP'],
                f'{os.path.basename(path)} starts with its header')
        c.equal(w_values(path), list(range(lo, lo + n)),
                f'{os.path.basename(path)} holds accesses {lo}..{lo + n - 1}, none lost{how}')


def test_direct_einval():
    """mmiotrace-direct=on where every direct write fails with EINVAL (direct-einval.c)."""
    shim = os.environ.get('DIRECT_EINVAL')
    if not shim or not os.path.exists(shim):
        c.check(False, f'the direct-einval fault module is built ($DIRECT_EINVAL={shim})')
        return
    # 20000 accesses fill the 512 KiB buffer: the I/O thread's write; 60 (5 KiB) leave a
    # whole block for the writer's own direct write at the end
    for n, whose, thread in ((20000, "the I/O thread's write", 'mmiotrace-io'),
                             (60, "the writer's own write", 'mmiotrace')):
        path, log = os.path.join(OUT, f'einval-{n}.txt'), os.path.join(OUT, f'einval-{n}.log')
        for p in (path, log):
            if os.path.exists(p):
                os.unlink(p)
        os.environ.update(LD_PRELOAD=shim, DIRECT_EINVAL_LOG=log)
        q = EvQemu(['-name', 'debug-threads=on', '-device', f'edu,id=edu0,addr={SLOT},'
                    f'mmiotrace=on,mmiotrace-file={path},mmiotrace-direct=on'])
        try:
            q.start()
        finally:
            del os.environ['LD_PRELOAD'], os.environ['DIRECT_EINVAL_LOG']
        q.pci_map_bar(SLOT, 0, BAR)
        q.writes(BAR + 4, n, base=0)
        info = q.qmp('query-mmiotrace')[0]
        q.quit()
        refused = open(log).read().splitlines() if os.path.exists(log) else []
        c.check(len(refused) >= 1 and all(l.endswith(' in ' + thread) for l in refused),
                f'EINVAL: {whose} was refused ({refused})')
        c.equal((info['records'], info['dropped']), (n, 0), f'EINVAL, {whose}: none dropped')
        r = hvmmio('stat', '--strict', path)
        c.check(r.returncode == 0, f'EINVAL, {whose}: the file is a valid trace {r.stderr}')
        vals = w_values(path)
        c.check(vals == list(range(n)), f'EINVAL, {whose}: all {n} accesses are in the file, '
                f'in order, none lost ({len(vals)} W records)')
        with open(path) as f:
            c.check(not any('Lost' in l for l in f), f'EINVAL, {whose}: no Lost marker')


def test_long_id():
    long_id = 'dev-' + 'x' * 96
    path = os.path.join(OUT, 'long-id.txt')
    q = EvQemu(['-device', f'edu,id={long_id},addr={SLOT},mmiotrace=on,mmiotrace-file={path}'])
    q.start()
    q.pci_map_bar(SLOT, 0, BAR)
    q.writel(BAR + 4, 1)
    info = q.qmp('query-mmiotrace')[0]
    q.qmp('mmiotrace-stop', device=long_id)
    q.quit()
    c.check(len(info['device']) == 64 and info['device'].startswith('dev-xxx'),
            f'a 100-character id is named in 64 characters: {info["device"]}')
    c.check('longer than 64 characters' in q.read_stderr(), 'with a warning saying so')
    r = hvmmio('stat', '--strict', path)
    c.check(r.returncode == 0 and 'W 1' in r.stdout, f'hvmmio reads its trace {r.stderr}')
    c.equal(first_words(path), ['VERSION', 'PCIDEV', 'PCICFG', 'MAP'], 'with its header')


def test_mark():
    path = os.path.join(OUT, 'mark.txt')
    q = edu(path)
    try:
        q.qmp('mmiotrace-mark', text='y' * 4097)
        c.check(False, 'a 4097-byte mark is refused')
    except QmpError as e:
        c.check('at most 4096' in e.desc, f'a 4097-byte mark is refused: {e.desc}')
    q.qmp('mmiotrace-mark', text='z' * 4096)
    q.quit()
    with open(path) as f:
        c.check(any(l.rstrip('\n').endswith('z' * 4096) for l in f), 'a 4096-byte mark is written')


def test_fifo():
    fifo = os.path.join(OUT, 'fifo')
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    t = time.time()
    rc, err = qemu_fails(['-device', f'edu,mmiotrace=on,mmiotrace-file={fifo}'])
    c.check(rc == 1 and 'is a FIFO with no reader' in err,
            f'a FIFO without a reader: an error in {time.time() - t:.1f} s: {err}')
    # with a reader it is written
    reader = subprocess.Popen(['cat', fifo], stdout=subprocess.PIPE)
    time.sleep(0.2)
    q = EvQemu(['-device', f'edu,id=edu0,addr={SLOT},mmiotrace=on,mmiotrace-file={fifo}'])
    q.start()
    q.pci_map_bar(SLOT, 0, BAR)
    q.writel(BAR + 4, 7)
    q.quit()
    out = reader.communicate(timeout=10)[0].decode()
    c.check(out.startswith('VERSION') and '\nW 4 ' in out, 'a FIFO with a reader gets the trace')


def test_copytruncate():
    path = os.path.join(OUT, 'copytruncate.txt')
    q = edu(path)
    q.writes(BAR + 4, 2000)
    q.qmp('query-mmiotrace')
    os.truncate(path, 0)     # what logrotate's copytruncate does
    q.writes(BAR + 4, 100, base=2000)
    q.quit()
    r = hvmmio('stat', '--strict', path)
    c.check(r.returncode != 0 and 'NUL bytes (the file was truncated while being written?' in
            r.stderr, f'a trace truncated while written: the reader says so: {r.stderr.strip()}')


def test_trap_repeated():
    q = edu(os.path.join(OUT, 'trap.txt'), ',mmiotrace-ranges=0:0x0+0x100')
    q.qmp('query-mmiotrace')
    before = vm_rss_kb(q.proc.pid)
    for _ in range(5):
        q.qmp_repeat(1000, 'mmiotrace-trap', device='edu0', bar=0, offset=0, length=0x100,
                     enable=True)
    info = q.qmp('query-mmiotrace')[0]
    after = vm_rss_kb(q.proc.pid)
    q.quit()
    c.equal(info['trapped'], [{'bar': 0, 'offset': 0, 'length': 0x100}],
            '5000 identical traps leave one range')
    c.check(after - before < 8 * 1024,
            f'and cost no memory: RSS {before // 1024} -> {after // 1024} MiB (was +22 MB)')


def test_properties():
    # (mmiotrace-mode: hvmmio's own message, or QEMU's for a QAPI enum property)
    for prop, wants in (('mmiotrace-mode=fast', ("mmiotrace-mode: 'fast' is not lossless or drop",
                                                 "'mmiotrace-mode' does not accept value 'fast'")),
                        ('mmiotrace-ring=3', ('mmiotrace-ring=3 must be a power of two',)),
                        ('mmiotrace-bars=7', ("mmiotrace-bars: '7' is not a BAR number 0-5",)),
                        ('mmiotrace-ranges=0:0+x', ("'0:0+x' is not BAR:OFFSET+LENGTH",))):
        rc, err = qemu_fails(['-device', f'edu,mmiotrace=off,{prop}'])
        c.check(rc == 1 and any(w in err for w in wants),
                f'mmiotrace=off,{prop} is refused: {err}')
    rc, err = qemu_fails(['-device', 'edu,mmiotrace=on,mmiotrace-file=,'
                          'mmiotrace-ranges=4294967296:0x0+0x100'])
    c.check(rc == 1 and 'BAR 4294967296 is not 0-5' in err,
            f'mmiotrace-ranges=4294967296:... is not BAR 0: {err}')
    q = EvQemu(['-device', 'e1000e,id=nic0,romfile=,mmiotrace=on,mmiotrace-file=,'
                'mmiotrace-bars=0:1,mmiotrace-ranges=0:0x0+0x100;1:0x0+0x10'])
    q.start()
    info = q.qmp('query-mmiotrace')[0]
    q.quit()
    c.equal(info['bars'], [0, 1], 'mmiotrace-bars=0:1 on the command line')
    c.equal(len(info['trapped']), 2, "mmiotrace-ranges with ';' between ranges")


test_rotate()
test_rotate(',mmiotrace-direct=on', 20000)
test_direct_einval()
test_long_id()
test_mark()
test_fifo()
test_copytruncate()
test_trap_repeated()
test_properties()
sys.exit(c.done())
