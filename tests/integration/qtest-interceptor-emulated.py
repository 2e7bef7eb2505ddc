#!/usr/bin/env python3
"""hvmmio's interceptor on QEMU's emulated devices, driven by qtest (no guest kernel).

Known accesses of each width go to edu (QEMU's documented teaching device), ivshmem-plain
(a RAM BAR: trapped pages through overlays, untrapped pages on the fast path) and
e1000e's MSI-X table; the trace must hold exactly those records. Also: MAP/UNMAP on BAR
moves and memory decoding, QMP and HMP commands with their errors, property errors,
lossless and drop modes, trace files written with and without O_DIRECT and to a pipe.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Checker, Qemu, QemuError, QmpError, parse_trace  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-qtest-emulated'
os.makedirs(OUT, exist_ok=True)
c = Checker()
EDU_SLOT, SHM_SLOT, NIC_SLOT = 3, 4, 5
EDU_BAR, EDU_BAR_MOVED = 0xe0000000, 0xe0400000


def accesses(recs):
    return [r for r in recs if r['type'] in ('R', 'W')]


def events(recs):
    return [r for r in recs if r['type'] in ('R', 'W', 'MAP', 'UNMAP', 'MARK')]


def test_edu():
    path = os.path.join(OUT, 'edu.txt')
    with Qemu(['-device', f'edu,id=edu0,addr={EDU_SLOT},mmiotrace=on,mmiotrace-file={path}']) as q:
        bar = q.pci_map_bar(EDU_SLOT, 0, EDU_BAR)
        c.equal(q.readl(bar), 0x010000ed, 'edu ID register through the traced BAR')
        q.writel(bar + 4, 0x12345678)
        c.equal(q.readl(bar + 4), 0xedcba987, 'edu liveness register returns the inverse')
        q.writeq(bar + 0x80, 0x1122334455667788)
        c.equal(q.readq(bar + 0x80), 0x1122334455667788, 'edu 8-byte DMA source register')
        q.qmp('mmiotrace-mark', text='moving the BAR')
        q.pci_memory_decoding(EDU_SLOT, False)
        q.pci_map_bar(EDU_SLOT, 0, EDU_BAR_MOVED)
        c.equal(q.readl(EDU_BAR_MOVED), 0x010000ed, 'edu ID at the moved BAR')
        q.qmp('mmiotrace-stop', device='edu0')
        info = q.qmp('query-mmiotrace')
        c.equal(info[0]['state'], 'stopped', 'query-mmiotrace state after mmiotrace-stop')
        q.readl(EDU_BAR_MOVED)  # not recorded
        q.qmp('mmiotrace-start')
        q.writel(EDU_BAR_MOVED + 4, 0x1)
        info = q.qmp('query-mmiotrace')
        hmp = q.hmp('info mmiotrace')
        # errors
        for cmd, args, msg in [
            ('mmiotrace-stop', {'device': 'nosuch'}, "no traced device 'nosuch'"),
            ('mmiotrace-trap', {'device': 'edu0', 'bar': 1, 'offset': 0, 'length': 4096,
                                'enable': True}, 'BAR 1 is not implemented'),
            ('mmiotrace-trap', {'device': 'edu0', 'bar': 0, 'offset': 0x100000, 'length': 16,
                                'enable': True}, 'outside BAR 0'),
            ('mmiotrace-trap', {'device': 'edu0', 'bar': 9, 'offset': 0, 'length': 16,
                                'enable': True}, 'BAR 9 is not 0-5'),
            ('mmiotrace-mark', {'text': 'two\nlines'}, 'must be one line'),
        ]:
            try:
                q.qmp(cmd, **args)
                c.check(False, f'{cmd} {args} fails')
            except QmpError as e:
                c.check(msg in e.desc, f'{cmd} error names the problem ({e.desc})')
        try:
            q.qmp('mmiotrace-trap', device='edu0', bar='x', offset=0, length=1, enable=True)
            c.check(False, 'mmiotrace-trap with a string BAR fails')
        except QmpError as e:
            c.check('bar' in e.desc, f'QAPI type error names the member ({e.desc})')

    c.equal(info[0]['device'], 'edu0', 'query-mmiotrace device')
    c.equal(info[0]['state'], 'active', 'query-mmiotrace state after mmiotrace-start')
    c.equal(info[0]['records'], 7, 'query-mmiotrace counts the 7 recorded accesses')
    c.equal(info[0]['bars'], [0], 'query-mmiotrace traced BARs')
    c.equal(info[0]['file'], path, 'query-mmiotrace file')
    c.equal(info[0]['dropped'], 0, 'nothing dropped')
    c.check(info[0]['bytes'] > 0 and info[0]['bytes'] == os.path.getsize(path),
            'query-mmiotrace bytes equals the file size (flushed before answering)')
    c.check(re.search(r'edu0: active, file .*edu.txt, 7 records', hmp) is not None,
            'HMP info mmiotrace: ' + '; '.join(hmp.strip().splitlines()))

    recs = parse_trace(path)
    c.equal(recs[0]['line'] if 'line' in recs[0] else recs[0], 'VERSION 20070824',
            'first line is VERSION 20070824')
    pcidev = [r['line'] for r in recs if r['type'] == 'PCIDEV']
    c.check(pcidev and pcidev[0].startswith(f'PCIDEV {EDU_SLOT << 3:04x} 123411e8 '),
            'PCIDEV line with bus/devfn and 1234:11e8')
    c.check(any(r['type'] == 'PCICFG' for r in recs), 'PCICFG config space record')
    c.check(any(p.split()[4] == f'{EDU_BAR:x}' for p in pcidev),
            'a PCIDEV line shows BAR0 at the address the test assigned')
    got = [(r['type'], r.get('width'), r.get('phys'), r.get('value'), r.get('len'),
            r.get('text'), r.get('ext', {}).get('off')) for r in events(recs)]
    want = [
        ('MAP', None, EDU_BAR, None, 0x100000, None, '0x0'),
        ('R', 4, EDU_BAR, 0x010000ed, None, None, '0x0'),
        ('W', 4, EDU_BAR + 4, 0x12345678, None, None, '0x4'),
        ('R', 4, EDU_BAR + 4, 0xedcba987, None, None, '0x4'),
        ('W', 8, EDU_BAR + 0x80, 0x1122334455667788, None, None, '0x80'),
        ('R', 8, EDU_BAR + 0x80, 0x1122334455667788, None, None, '0x80'),
        ('MARK', None, None, None, None, 'moving the BAR', None),
        ('UNMAP', None, None, None, None, None, '0x0'),
        ('MAP', None, EDU_BAR_MOVED, None, 0x100000, None, '0x0'),
        ('R', 4, EDU_BAR_MOVED, 0x010000ed, None, None, '0x0'),
        ('W', 4, EDU_BAR_MOVED + 4, 0x1, None, None, '0x4'),
    ]
    c.equal(got, want, 'edu: exactly the expected records, in order')
    acc = accesses(recs)
    c.check(all(r['ext'].get('bar') == '0' and r['ext'].get('dev') == 'edu0' for r in acc),
            'every access names its BAR and device')
    c.check(all(r['ext'].get('vcpu') == 'none' for r in acc),
            'qtest accesses (no vCPU) are marked vcpu=none')
    maps = [r for r in recs if r['type'] in ('MAP', 'UNMAP')]
    c.check(maps[1]['map'] == maps[0]['map'] and maps[2]['map'] == maps[0]['map'] + 1,
            'UNMAP names the map id it ends; the next MAP gets a new id')
    c.check(all(r['map'] == maps[0]['map'] for r in acc[:5]) and
            all(r['map'] == maps[2]['map'] for r in acc[5:]),
            'accesses carry the id of the mapping they went through')


def test_ram_bar_overlays():
    """ivshmem-plain's BAR2 is RAM: only the trapped page leaves the fast path."""
    path = os.path.join(OUT, 'shm.txt')
    base = 0xe8000000
    with Qemu(['-object', 'memory-backend-memfd,id=hm,size=64K,share=on',
               '-device', f'ivshmem-plain,id=shm,memdev=hm,addr={SHM_SLOT},mmiotrace=on,'
               f'mmiotrace-file={path},mmiotrace-ranges=2:0x1000+0x100']) as q:
        c.equal(q.pci_bar_size(SHM_SLOT, 2), 0x10000, 'ivshmem BAR2 size')
        q.pci_map_bar(SHM_SLOT, 2, base)
        mtree = q.hmp('info mtree -f')
        c.check(re.search(r'00000000e8001000-00000000e8001fff .*mmiotrace-trap-bar2@0x1000',
                          mtree) is not None, 'flat view: page 1 of BAR2 is the trap overlay')
        c.check(re.search(r'00000000e8000000-00000000e8000fff \(prio 1, ram\)', mtree)
                is not None, 'flat view: page 0 of BAR2 is plain RAM (fast path)')
        q.writel(base + 0x0, 0xaaaa5555)    # untrapped page
        q.writel(base + 0x1010, 0x01020304)  # trapped, in range
        q.writel(base + 0x1200, 0x0badf00d)  # trapped page, outside the range
        c.equal(q.readl(base + 0x1010), 0x01020304, 'trapped RAM reads back')
        c.equal(q.readl(base), 0xaaaa5555, 'untrapped RAM reads back')
        c.equal(q.readl(base + 0x1200), 0x0badf00d, 'RAM outside the range reads back')
        q.writeb(base + 0x10ff, 0x7f)        # last byte of the range
        q.qmp('mmiotrace-trap', device='shm', bar=2, offset=0, length=0x1000, enable=True)
        mtree2 = q.hmp('info mtree -f')
        c.check('mmiotrace-trap-bar2@0x0' in mtree2, 'mmiotrace-trap puts page 0 behind a trap')
        q.writew(base + 0x2, 0xbeef)          # now recorded
        q.qmp('mmiotrace-trap', device='shm', bar=2, offset=0x1000, length=0x100, enable=False)
        q.writel(base + 0x1010, 0x55)         # no longer recorded
        info = q.qmp('query-mmiotrace')[0]
    c.equal(info['trapped'], [{'bar': 2, 'offset': 0, 'length': 0x1000}],
            'query-mmiotrace lists the trapped ranges')
    got = [(r['type'], r['width'], r['phys'], r['value']) for r in accesses(parse_trace(path))]
    c.equal(got, [('W', 4, base + 0x1010, 0x01020304), ('R', 4, base + 0x1010, 0x01020304),
                  ('W', 1, base + 0x10ff, 0x7f), ('W', 2, base + 0x2, 0xbeef)],
            'ivshmem: only accesses inside the trapped ranges are recorded')


def test_msix_table():
    path = os.path.join(OUT, 'nic.txt')
    base = 0xe9000000
    with Qemu(['-device', f'e1000e,id=nic,addr={NIC_SLOT},romfile=,mmiotrace=on,'
               f'mmiotrace-file={path},mmiotrace-bars=3']) as q:
        q.pci_map_bar(NIC_SLOT, 3, base)
        q.writel(base + 0x4, 0xfee00000 >> 32)
        q.writel(base + 0x0, 0xfee01004)
        c.equal(q.readl(base + 0x0), 0xfee01004, 'MSI-X table entry 0 address reads back')
        q.readl(base + 0x2000)               # PBA
    got = [(r['type'], r['width'], r['ext']['off'], r['value'], r['ext']['bar'])
           for r in accesses(parse_trace(path))]
    c.equal(got, [('W', 4, '0x4', 0, '3'), ('W', 4, '0x0', 0xfee01004, '3'),
                  ('R', 4, '0x0', 0xfee01004, '3'), ('R', 4, '0x2000', 0, '3')],
            'MSI-X table and PBA accesses are traced')


def burst(mode, ring, n_writes):
    path = os.path.join(OUT, f'burst-{mode}.txt')
    with Qemu(['-device', f'edu,id=edu0,addr={EDU_SLOT},mmiotrace=on,mmiotrace-file={path},'
               f'mmiotrace-mode={mode},mmiotrace-ring={ring},mmiotrace-compat=on']) as q:
        q.pci_map_bar(EDU_SLOT, 0, EDU_BAR)
        # one qtest command, n 8-byte writes dispatched back to back (edu ignores 0x1000+)
        q.qtest(f'memset 0x{EDU_BAR + 0x1000:x} 0x{8 * n_writes:x} 0x5a')
        info = q.qmp('query-mmiotrace')[0]
    recs = parse_trace(path)
    lost = sum(int(re.search(r'Lost (\d+) events', r['text']).group(1))
               for r in recs if r['type'] == 'MARK' and 'Lost' in r['text'])
    return len(accesses(recs)), lost, info


def test_modes():
    n = 65536
    got, lost, info = burst('lossless', 16, n)
    c.equal((got, lost, info['dropped']), (n, 0, 0),
            'lossless mode with a 16-record ring keeps all 65536 records of a burst')
    got, lost, info = burst('drop', 16, n)
    c.check(lost > 0, f'drop mode under a burst larger than the ring loses records ({lost})')
    c.equal(got + lost, n, 'drop mode: records written + "Lost N events" markers = accesses')
    c.equal(info['dropped'], lost, 'query-mmiotrace dropped = the markers\' total')


def direct_supported(d):
    """Whether d's file system takes O_DIRECT (tmpfs before Linux 6.6 does not)."""
    probe = os.path.join(d, '.hvmmio-direct-probe')
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_DIRECT, 0o644))
        return True
    except OSError:
        return False
    finally:
        if os.path.exists(probe):
            os.unlink(probe)


def open_flags(pid, path):
    """The open flags of each of pid's descriptors on path."""
    flags = []
    for fd in os.listdir(f'/proc/{pid}/fd'):
        try:
            if os.readlink(f'/proc/{pid}/fd/{fd}') != path:
                continue
            with open(f'/proc/{pid}/fdinfo/{fd}') as fi:
                flags.append(int(re.search(r'flags:\s+(\d+)', fi.read()).group(1), 8))
        except OSError:
            pass
    return flags


def test_file_writes(d, direct):
    """
    A trace file is complete and consistent at every sync, whether written with O_DIRECT
    (whole blocks direct, the unaligned rest through the page cache, rewritten later) or
    buffered: bursts of odd sizes, each followed by query-mmiotrace, and each file a prefix
    of the next.
    """
    path = os.path.join(d, f'hvmmio-direct-{direct}-{os.getpid()}.txt')
    where = f'{"tmpfs " if d == "/dev/shm" else ""}mmiotrace-direct={direct}'
    prev, total = b'', 0
    with Qemu(['-device', f'edu,id=edu0,addr={EDU_SLOT},mmiotrace=on,mmiotrace-file={path},'
               f'mmiotrace-direct={direct}']) as q:
        bar = q.pci_map_bar(EDU_SLOT, 0, EDU_BAR)
        flags = open_flags(q.proc.pid, path)
        want = direct == 'on' and direct_supported(d)
        c.equal(any(fl & os.O_DIRECT for fl in flags), want,
                f'{where}: the trace is written with O_DIRECT exactly when asked and supported')
        ok = True
        for i, n in enumerate([1, 3, 37, 4099, 1, 20000, 7, 65536, 2]):
            if n < 8:
                for _ in range(n):
                    q.writel(bar + 4, 0x10 + i)
            else:
                q.qtest(f'memset 0x{EDU_BAR + 0x1000:x} 0x{8 * n:x} 0x{i:x}')
            total += n
            info = q.qmp('query-mmiotrace')[0]
            with open(path, 'rb') as fh:
                data = fh.read()
            got = sum(1 for line in data.splitlines() if line[:2] in (b'R ', b'W '))
            if not (data.startswith(prev) and got == total and info['bytes'] == len(data) and
                    data.endswith(b'\n')):
                ok = False
                c.check(False, f'{where}: after burst {i} ({n} writes) the file holds '
                        f'{got} of {total} records, {len(data)} bytes (bytes={info["bytes"]})')
                break
            prev = data
        c.check(ok, f'{where}: complete at each of 9 syncs, {total} records, '
                f'{len(prev)} bytes, each file a prefix of the next')
    recs = parse_trace(path)
    c.equal(len(accesses(recs)), total, f'{where}: complete after exit')
    os.unlink(path)


def test_fifo():
    """A trace written to a pipe (not seekable: plain writes, never O_DIRECT) is complete."""
    import threading
    fifo = os.path.join(OUT, f'trace-{os.getpid()}.fifo')
    if os.path.exists(fifo):
        os.unlink(fifo)
    os.mkfifo(fifo)
    got = []
    reader = threading.Thread(target=lambda: got.append(open(fifo, 'rb').read()))
    reader.start()
    with Qemu(['-device', f'edu,id=edu0,addr={EDU_SLOT},mmiotrace=on,mmiotrace-file={fifo}'
               ]) as q:
        q.pci_map_bar(EDU_SLOT, 0, EDU_BAR)
        q.qtest(f'memset 0x{EDU_BAR + 0x1000:x} 0x{8 * 30000:x} 0x5a')
        flags = open_flags(q.proc.pid, fifo)
        c.check(flags and not any(fl & os.O_DIRECT for fl in flags),
                'a pipe is written without O_DIRECT')
    reader.join(30)
    os.unlink(fifo)
    n = sum(1 for line in (got[0] if got else b'').splitlines() if line[:2] in (b'R ', b'W '))
    c.equal(n, 30000, 'a trace written to a pipe holds every record')


def test_write_error():
    """A trace file that cannot be written: an error naming it, losses counted, QEMU goes on."""
    with Qemu(['-device', f'edu,id=edu0,addr={EDU_SLOT},mmiotrace=on,mmiotrace-file=/dev/full'
               ]) as q:
        bar = q.pci_map_bar(EDU_SLOT, 0, EDU_BAR)
        q.writel(bar + 4, 1)
        info = q.qmp('query-mmiotrace')[0]
        c.check(info['dropped'] > 0 and info['bytes'] == 0,
                f'writing to /dev/full: losses counted ({info["dropped"]}), no bytes claimed')
        c.equal(q.readl(bar), 0x010000ed, 'QEMU goes on after a failed trace write')
        err = q.read_stderr()
    c.check('writing /dev/full failed: No space left on device; records are being lost' in err,
            'a failed trace write is reported, naming the file and the cause')


def test_errors():
    cases = [
        ('edu,mmiotrace=on,mmiotrace-bars=7', "mmiotrace-bars: '7' is not a BAR number"),
        ('edu,mmiotrace=on,mmiotrace-bars=1', 'BAR 1 is not implemented'),
        ('e1000e,romfile=,mmiotrace=on,mmiotrace-bars=2', 'BAR 2 is an I/O port BAR'),
        ('edu,mmiotrace=on,mmiotrace-ranges=0:0x10', "'0:0x10' is not BAR:OFFSET+LENGTH"),
        ('edu,mmiotrace=on,mmiotrace-ranges=0:0x100000+0x10', 'outside BAR 0'),
        ('edu,mmiotrace=on,mmiotrace-mode=fast', "'fast' is not lossless or drop"),
        ('edu,mmiotrace=on,mmiotrace-ring=100', 'must be a power of two'),
        ('edu,mmiotrace=on,mmiotrace-file=/nonexistent/dir/t.txt',
         "cannot open mmiotrace-file '/nonexistent/dir/t.txt'"),
        ('edu,mmiotrace=maybe', 'mmiotrace'),
    ]
    for dev, msg in cases:
        try:
            Qemu(['-device', dev], timeout=20).start().quit()
            c.check(False, f'-device {dev} is refused')
        except QemuError as e:
            c.check(msg in str(e), f'-device {dev}: error names the problem ({msg})')
    q = Qemu(['-device', 'pci-bridge,chassis_nr=1,shpc=off,mmiotrace=on,'
              f'mmiotrace-file={OUT}/bridge.txt'])
    q.start()
    q.quit()
    c.check('has no memory BAR' in q.read_stderr(), 'mmiotrace=on on a device without a '
            'memory BAR warns')


def test_odd_accesses():
    """Unaligned, oversized, straddling a trapped/untrapped boundary, after a BAR move and
    across a system reset: QEMU survives and the trace stays well-formed and exact."""
    import subprocess
    path = os.path.join(OUT, 'odd.txt')
    base = 0xea000000
    with Qemu(['-object', 'memory-backend-memfd,id=hm,size=64K,share=on',
               '-device', f'ivshmem-plain,id=shm,memdev=hm,addr={SHM_SLOT},mmiotrace=on,'
               f'mmiotrace-file={path},mmiotrace-ranges=2:0x1000+0x1000',
               '-device', f'edu,id=edu0,addr={EDU_SLOT},mmiotrace=on,mmiotrace-file={path}']) as q:
        q.pci_map_bar(SHM_SLOT, 2, base)
        q.pci_map_bar(EDU_SLOT, 0, EDU_BAR)
        q.writeq(base + 0xffc, 0x1122334455667788)          # straddles untrapped | trapped
        c.equal(q.readq(base + 0xffc), 0x1122334455667788, 'a straddling access reads back')
        q.writel(base + 0x1001, 0xa5a5a5a5)                  # unaligned, inside the trap
        c.equal(q.readl(base + 0x1001), 0xa5a5a5a5, 'an unaligned access reads back')
        q.qtest(f'memset 0x{base + 0x1f00:x} 0x200 0x3c')     # crosses trapped | untrapped
        q.qtest(f'memset 0x{EDU_BAR + 0x100:x} 0x2000 0x00')  # oversized on edu: many pieces
        q.readw(EDU_BAR + 0x2)                                # invalid width for edu (min 4)
        q.readl(EDU_BAR + 0x3)                                # unaligned on edu
        q.pci_memory_decoding(EDU_SLOT, False)
        q.readl(EDU_BAR)                                      # BAR unmapped: not the device
        q.pci_map_bar(EDU_SLOT, 0, EDU_BAR_MOVED)
        c.equal(q.readl(EDU_BAR_MOVED), 0x010000ed, 'edu answers at its moved BAR')
        q.qmp('system_reset')
        q.pci_map_bar(EDU_SLOT, 0, EDU_BAR)
        c.equal(q.readl(EDU_BAR), 0x010000ed, 'edu answers after a system reset')
        alive = q.qmp('query-status')
    c.check(alive['status'] in ('running', 'paused', 'prelaunch'), 'QEMU survived')
    hvmmio = os.environ.get('HVMMIO')
    if hvmmio:
        r = subprocess.run([hvmmio, 'stat', '--strict', '--json', path], capture_output=True,
                           text=True)
        c.check(r.returncode == 0, f'the trace parses strictly ({r.stderr.strip()[:200]})')
    recs = parse_trace(path)
    shm = [(r['type'], r['width'], r['phys'] - base, r['value']) for r in accesses(recs)
           if r['ext']['dev'] == 'shm']
    # QEMU splits an access straddling an untrapped (RAM) and a trapped page at the page
    # boundary: the trapped half is recorded (README, "Costs and limits")
    c.equal(shm[:4], [('W', 4, 0x1000, 0x11223344), ('R', 4, 0x1000, 0x11223344),
                      ('W', 4, 0x1001, 0xa5a5a5a5), ('R', 4, 0x1001, 0xa5a5a5a5)],
            'a straddling access: its trapped half; an unaligned one: one record as issued')
    edu = [r for r in recs if r.get('ext', {}).get('dev') == 'edu0' or r['type'] in
           ('UNMAP', 'MAP') and r['ext'].get('dev') == 'edu0']
    c.check(any(r['type'] == 'R' and r['width'] == 2 for r in edu),
            'an access of a width the device refuses is still recorded, as the guest issued it')
    unmaps = [r for r in edu if r['type'] == 'UNMAP']
    c.check(len(unmaps) >= 2, f'memory decoding off and the reset each give an UNMAP '
            f'({len(unmaps)})')
    c.check(not any(r['type'] == 'R' and r['phys'] == EDU_BAR and r['value'] == 0xffffffff
                    for r in edu), 'nothing is recorded while the BAR is unmapped')


def test_help():
    import subprocess
    out = subprocess.run([os.environ.get('HVMMIO_QEMU') or __import__('qemu_harness').QEMU,
                          '-device', 'edu,help'], capture_output=True, text=True).stdout
    for prop in ('mmiotrace=', 'mmiotrace-file=', 'mmiotrace-bars=', 'mmiotrace-ranges=',
                 'mmiotrace-pc=', 'mmiotrace-insn=', 'mmiotrace-compat=', 'mmiotrace-mode=',
                 'mmiotrace-ring=', 'mmiotrace-direct='):
        line = next((l for l in out.splitlines() if l.strip().startswith(prop)), '')
        c.check('hvmmio' in line, f'-device edu,help documents {prop}')


if __name__ == '__main__':
    test_edu()
    test_ram_bar_overlays()
    test_msix_table()
    test_modes()
    test_file_writes(OUT, 'on')
    test_file_writes(OUT, 'off')
    if os.path.isdir('/dev/shm'):
        test_file_writes('/dev/shm', 'on')
    test_fifo()
    test_write_error()
    test_errors()
    test_odd_accesses()
    test_help()
    sys.exit(c.done())
