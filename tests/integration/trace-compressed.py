#!/usr/bin/env python3
"""Compressed trace files written by QEMU (mmiotrace-file=NAME.zst, .gz, .xz; issue 16).

The same qtest-driven accesses to a traced edu device are written to a plain file and to
each compressed one, with an mmiotrace-rotate from one compression to another half-way.
Each compressed file must start with its format's magic, be read back by hvmmio
(libmmiotrace's reader) as exactly the plain run's records, and query-mmiotrace must count
its compressed bytes as the file's size. QEMU's trace event at a file's close
(mmiotrace_file_close, which hvmmio bench reads) must count the file's records and bytes.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Checker, Qemu, parse_trace  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-trace-compressed'
HVMMIO = os.environ.get('HVMMIO', 'hvmmio')
os.makedirs(OUT, exist_ok=True)
c = Checker()
SLOT, BAR = 3, 0xe0000000
N = 300
MAGIC = {'.zst': b'\x28\xb5\x2f\xfd', '.gz': b'\x1f\x8b', '.xz': b'\xfd7zXZ\x00'}


def run(first, second):
    """Trace N writes and reads into first, rotate to second, N more; the two paths."""
    a, b = os.path.join(OUT, 'first' + first), os.path.join(OUT, 'second' + second)
    for p in (a, b):
        if os.path.exists(p):
            os.unlink(p)
    with Qemu(['-device', f'edu,id=edu0,addr={SLOT},mmiotrace=on,mmiotrace-file={a}']) as q:
        bar = q.pci_map_bar(SLOT, 0, BAR)
        for i in range(2 * N):
            if i == N:
                q.qmp('mmiotrace-rotate', device='edu0', file=b)
                first_info = info
            q.writel(bar + 4, 0x1000 + i)
            q.readl(bar + 4)
            info = q.qmp('query-mmiotrace')[0]
        q.qmp('mmiotrace-mark', text='end')
        info = q.qmp('query-mmiotrace')[0]
    return a, b, first_info, info


def records(path):
    """The file's records as libmmiotrace reads it (converted to plain text first)."""
    txt = path + '.read.txt'
    r = subprocess.run([HVMMIO, 'convert', path, txt], capture_output=True, text=True)
    c.check(r.returncode == 0, f'hvmmio convert reads {os.path.basename(path)}',
            r.stderr.strip())
    recs = parse_trace(txt) if r.returncode == 0 else []
    return [(x['type'], x.get('width'), x.get('phys'), x.get('value'), x.get('text'))
            for x in recs if x['type'] in ('R', 'W', 'MARK', 'VERSION', 'MAP')]


def close_event(fmt):
    """mmiotrace_file_close against the file it describes (fmt: its name's suffix)."""
    path, log = os.path.join(OUT, 'close' + fmt), os.path.join(OUT, 'close' + fmt + '.log')
    with Qemu(['-trace', 'mmiotrace_file_close', '-device',
               f'edu,id=edu0,addr={SLOT},mmiotrace=on,mmiotrace-file={path}'], log=log) as q:
        bar = q.pci_map_bar(SLOT, 0, BAR)
        for i in range(N):
            q.writel(bar + 4, i)
            q.readl(bar + 4)
    with open(log) as f:
        m = re.search(r'mmiotrace_file_close (\S+) events (\d+) bytes (\d+) writer_user_ns (\d+) '
                      r'writer_sys_ns (\d+) io_cpu_ns (\d+) room_waits (\d+) room_wait_ns (\d+)',
                      f.read())
    if not c.check(m is not None, f'{fmt}: QEMU traces mmiotrace_file_close at exit'):
        return
    events, size, user, sys_ns = (int(m.group(i)) for i in (2, 3, 4, 5))
    c.equal(m.group(1), path, f'{fmt}: the event names the file')
    c.equal(size, os.path.getsize(path), f'{fmt}: its bytes are the file\'s size')
    text = path
    if fmt != '.txt':
        records(path)  # converts it to plain text, one line per record
        text = path + '.read.txt'
    with open(text) as f:
        want = sum(1 for _ in f)
    c.equal(events, want, f'{fmt}: its events are the file\'s records ({want})')
    c.check(events >= 2 * N, f'{fmt}: every access counted ({events} >= {2 * N})')
    c.check(user + sys_ns > 0, f'{fmt}: the writer\'s CPU time is measured ({user + sys_ns} ns)')
    waits, wait_ns = int(m.group(7)), int(m.group(8))
    c.check((waits == 0) == (wait_ns == 0),
            f'{fmt}: waits for room and their time agree ({waits}, {wait_ns} ns)')


def main():
    close_event('.txt')
    close_event('.zst')
    plain_a, plain_b, _, _ = run('.txt', '.txt')
    want_a, want_b = records(plain_a), records(plain_b)
    c.equal(sum(1 for r in want_a if r[0] in 'RW'), 2 * N,
            'the plain run: every access before the rotation recorded')
    for first, second in (('.zst', '.gz'), ('.gz', '.xz'), ('.xz', '.zst'), ('.zst', '.txt')):
        a, b, _, info = run(first, second)
        for path, suffix, want in ((a, first, want_a), (b, second, want_b)):
            name = os.path.basename(path)
            with open(path, 'rb') as f:
                head = f.read(8)
            if suffix in MAGIC:
                c.check(head.startswith(MAGIC[suffix]), f'{name} starts with the {suffix} magic',
                        repr(head))
            else:
                c.check(head.startswith(b'VERSION'), f'{name} is plain text', repr(head))
            c.equal(records(path), want, f'{name} holds the plain run\'s records')
        c.equal(info['bytes'], os.path.getsize(b),
                f'query-mmiotrace bytes = the size of {os.path.basename(b)} (compressed bytes)')
        c.equal(info['dropped'], 0, f'{first} then {second}: nothing dropped')
    plain = os.path.getsize(plain_a)
    zst = os.path.getsize(os.path.join(OUT, 'first.zst'))
    # (qtest's slow accesses make small frames; docs/benchmarks.md has a guest's ratios)
    c.check(zst < plain, f'zstd output is smaller than the plain file ({zst} vs {plain} bytes)')
    c.done()


main()
