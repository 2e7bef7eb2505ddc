#!/usr/bin/env python3
"""hvmmio's interceptor on vfio-user-pci with hvmmio's test device (docs/testdev.md), driven
by qtest: accesses of every width, the first and last bytes of BAR0, documented register
behaviour, and selective trapping of BAR2 (a memfd the client mmaps: the fast path) — the
trace holds exactly the accesses to trapped ranges, and the flat view shows untrapped
pages of BAR2 as the mmap (ram device) and the trapped page as the trap overlay.
"""
import json
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Checker, Qemu, Testdev, parse_trace  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-qtest-vfio-user'
os.makedirs(OUT, exist_ok=True)
c = Checker()
SLOT, BAR0, BAR2 = 4, 0xe0000000, 0xe0100000


def main():
    sock = os.path.join(OUT, 'testdev.sock')
    trace = os.path.join(OUT, 'testdev.txt')
    server = Testdev(sock, os.path.join(OUT, 'testdev.log'), verbose=False).start()
    dev = {'driver': 'vfio-user-pci', 'id': 'testdev', 'addr': f'{SLOT:02x}.0',
           'socket': {'type': 'unix', 'path': sock},
           'mmiotrace': True, 'mmiotrace-file': trace,
           'mmiotrace-ranges': '0:0x0+0x1000,2:0x1000+0x1000'}
    args = ['-object', 'memory-backend-memfd,id=mem,size=128M,share=on',
            '-machine', 'memory-backend=mem', '-device', json.dumps(dev)]
    with Qemu(args, memory='128M') as q:
        q.pci_map_bar(SLOT, 0, BAR0, enable=False)
        q.pci_map_bar(SLOT, 2, BAR2)
        got = {}
        got['id'] = q.readl(BAR0)
        got['reg64'] = q.readq(BAR0 + 0x10)
        q.writeb(BAR0 + 0x40, 0x11)
        q.writew(BAR0 + 0x42, 0x2233)
        q.writel(BAR0 + 0x44, 0x44556677)
        q.writeq(BAR0 + 0x48, 0x8899aabbccddeeff)
        got['b'] = q.readb(BAR0 + 0x40)
        got['w'] = q.readw(BAR0 + 0x42)
        got['l'] = q.readl(BAR0 + 0x44)
        got['q'] = q.readq(BAR0 + 0x48)
        got['q40'] = q.readq(BAR0 + 0x40)
        q.writel(BAR0 + 0x4, 0x0000ffff)
        got['invert'] = q.readl(BAR0 + 0x4)
        q.writeb(BAR0 + 0xfff, 0x5a)
        got['last'] = q.readb(BAR0 + 0xfff)
        got['first'] = q.readb(BAR0 + 0x0)
        got['bar2_untrapped'] = q.readl(BAR2 + 0x0)       # fast path: no record
        got['bar2_trapped'] = q.readl(BAR2 + 0x1000)
        q.writel(BAR2 + 0x1ffc, 0xdeadbeef)
        got['bar2_last_trapped'] = q.readl(BAR2 + 0x1ffc)
        q.writel(BAR2 + 0x2000, 0x12345678)                # fast path: no record
        got['bar2_after'] = q.readl(BAR2 + 0x2000)
        mtree = q.hmp('info mtree -f')
        with open(os.path.join(OUT, 'mtree.txt'), 'w') as f:
            f.write(mtree)
        info = q.qmp('query-mmiotrace')[0]
    server.wait(timeout=10)

    # documented behaviour (docs/testdev.md), through the traced device
    c.equal(got['id'], 0x4d4d0001, 'ID register')
    c.equal(got['reg64'], 0x0123456789abcdef, 'REG64 reset value, one 8-byte read')
    c.equal((got['b'], got['w'], got['l'], got['q']),
            (0x11, 0x2233, 0x44556677, 0x8899aabbccddeeff), 'SCRATCH read back at each width')
    c.equal(got['q40'], 0x4455667722330011, 'SCRATCH bytes assembled little-endian')
    c.equal(got['invert'], 0xffff0000, 'INVERT returns the inverse')
    c.equal((got['last'], got['first']), (0x5a, 0),
            'last byte of BAR0 read back; a 1-byte read of the 32-bit ID reads 0 (documented)')
    c.equal((got['bar2_untrapped'], got['bar2_trapped']), (0xb0000000, 0xb0001000),
            'BAR2 initial pattern on an untrapped and a trapped page')
    c.equal((got['bar2_last_trapped'], got['bar2_after']), (0xdeadbeef, 0x12345678),
            'BAR2 writes land on trapped and untrapped pages')

    # the flat view: BAR2 page 0 and 2+ are the mmap (fast path), page 1 the trap
    c.check(re.search(r'00000000e0101000-00000000e0101fff .*mmiotrace-trap-bar2@0x1000', mtree),
            'flat view: BAR2 page 1 is the trap overlay')
    for page in ('00000000e0100000-00000000e0100fff', '00000000e0102000-'):
        line = next((l for l in mtree.splitlines() if l.strip().startswith(page)), '')
        c.check('ramd' in line or 'ram' in line,
                f'flat view: BAR2 {page}... is the mmap, no trap ({line.strip()})')

    recs = [r for r in parse_trace(trace) if r['type'] in ('R', 'W')]
    want = [
        ('R', 4, 0, '0x0', 0x4d4d0001), ('R', 8, 0, '0x10', 0x0123456789abcdef),
        ('W', 1, 0, '0x40', 0x11), ('W', 2, 0, '0x42', 0x2233), ('W', 4, 0, '0x44', 0x44556677),
        ('W', 8, 0, '0x48', 0x8899aabbccddeeff), ('R', 1, 0, '0x40', 0x11),
        ('R', 2, 0, '0x42', 0x2233), ('R', 4, 0, '0x44', 0x44556677),
        ('R', 8, 0, '0x48', 0x8899aabbccddeeff), ('R', 8, 0, '0x40', 0x4455667722330011),
        ('W', 4, 0, '0x4', 0xffff), ('R', 4, 0, '0x4', 0xffff0000), ('W', 1, 0, '0xfff', 0x5a),
        ('R', 1, 0, '0xfff', 0x5a), ('R', 1, 0, '0x0', 0),
        ('R', 4, 2, '0x1000', 0xb0001000), ('W', 4, 2, '0x1ffc', 0xdeadbeef),
        ('R', 4, 2, '0x1ffc', 0xdeadbeef),
    ]
    got_recs = [(r['type'], r['width'], int(r['ext']['bar']), r['ext']['off'], r['value'])
                for r in recs]
    c.equal(got_recs, want, 'exactly one record per access to a trapped range, in order')
    c.check(all(r['phys'] == (BAR0 if r['ext']['bar'] == '0' else BAR2) + int(r['ext']['off'], 16)
                for r in recs), 'phys = BAR address + offset')
    c.equal(info['records'], len(want), 'query-mmiotrace counts them')
    c.equal(info['trapped'], [{'bar': 0, 'offset': 0, 'length': 0x1000},
                              {'bar': 2, 'offset': 0x1000, 'length': 0x1000}],
            'query-mmiotrace lists the trapped ranges')
    return c.done()


if __name__ == '__main__':
    sys.exit(main())
