#!/usr/bin/env python3
"""The writer thread's throughput with and without compression (issue 16; docs/benchmarks.md).

One TCG guest boot per output (plain extended lines, kernel-compatible lines, .zst, .gz):
the guest's bench module makes N reads and N writes of a traced e1000e register while the
host samples, every 0.2 s, the writer thread's CPU time (/proc/PID/task, the thread named
"mmiotrace": -name debug-threads=on) and query-mmiotrace's record count. The writer's throughput is records per
second of its own CPU time over the bench phase (first to last sample with records); bytes
per record is the file's size over its records. Prints one line per output and a table.

Environment: HVMMIO_QEMU, HVMMIO_GUEST_IMAGE, OUT; BENCH_N (default 5000000).
"""
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import Qemu, QemuError, QmpError  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-writer-compress'
N = int(os.environ.get('BENCH_N', '5000000'))
IMAGE = os.environ.get('HVMMIO_GUEST_IMAGE') or os.path.expanduser(
    os.path.join(os.environ.get('HVMMIO_CACHE_DIR') or '~/.cache/hvmmio', 'guest', 'current'))
TICK = os.sysconf('SC_CLK_TCK')
OUTPUTS = [('plain', 'trace.txt', ''), ('compat', 'trace.txt', ',mmiotrace-compat=on'),
           ('zstd', 'trace.txt.zst', ''), ('gzip', 'trace.txt.gz', '')]


def writer_cpu_s(pid):
    """CPU seconds (user + system) of the process's thread named mmiotrace, or None."""
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/comm') as f:
                if f.read().strip() != 'mmiotrace':
                    continue
            with open(f'/proc/{pid}/task/{tid}/stat') as f:
                fields = f.read().rsplit(')', 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / TICK
    except OSError:
        return None
    return None


def one(name, fname, props):
    path = os.path.join(OUT, f'{name}-{fname}')
    if os.path.exists(path):
        os.unlink(path)
    q = Qemu([
        '-no-reboot', '-name', 'writer-compress,debug-threads=on', '-kernel', os.path.join(IMAGE, 'vmlinuz'),
        '-initrd', os.path.join(IMAGE, 'initrd.img'),
        '-append', f'console=ttyS0 panic=-1 edd=off quiet hvmmio.scenario=bench '
                   f'hvmmio.args=emu:{N}',
        '-serial', f'file:{OUT}/{name}-console.log', '-serial', f'file:{OUT}/{name}-results.bin',
        '-device', f'e1000e,id=nic0,romfile=,mmiotrace=on,mmiotrace-file={path}{props}'],
        accel='tcg', memory='256', cwd=OUT, log=f'{OUT}/{name}-qemu.log', timeout=120)
    q.start()
    samples = []
    t0 = time.time()
    while q.proc.poll() is None:
        time.sleep(0.2)
        try:
            rec = q.qmp('query-mmiotrace')[0]['records']
        except (OSError, QemuError, QmpError, ValueError):
            break
        cpu = writer_cpu_s(q.proc.pid)
        if cpu is not None and rec:
            samples.append((rec, cpu))
    q.wait(timeout=120)
    wall = time.time() - t0
    busy = [s for s in samples if s[0] < 2 * N]     # while the guest still made accesses
    if len(busy) < 2 or busy[-1][1] <= busy[0][1]:
        print(f'# {name}: too few samples ({len(samples)}); raise BENCH_N', flush=True)
        return None
    rate = (busy[-1][0] - busy[0][0]) / (busy[-1][1] - busy[0][1])
    records = samples[-1][0] if samples else 0
    size = os.path.getsize(path)
    print(f'# {name}: {records} records, {size} bytes ({size / max(records, 1):.1f} B/record), '
          f'writer {rate / 1e6:.2f} M records per CPU second '
          f'({busy[-1][1] - busy[0][1]:.2f} s CPU for {busy[-1][0] - busy[0][0]} records), '
          f'boot {wall:.0f} s', flush=True)
    os.unlink(path)
    return name, records, size, rate


def main():
    os.makedirs(OUT, exist_ok=True)
    rows = [r for r in (one(*o) for o in OUTPUTS) if r]
    print('| output | bytes per record | writer: M records per CPU second |')
    print('|---|---|---|')
    for name, records, size, rate in rows:
        print(f'| {name} | {size / max(records, 1):.1f} | {rate / 1e6:.2f} |')
    return 0 if len(rows) == len(OUTPUTS) else 1


sys.exit(main())
