#!/usr/bin/env python3
"""Soak benchmark (suite bench; docs/benchmarks.md): a guest makes 100M+ traced accesses to
an emulated e1000e under TCG (kernel-guest/modules/hvmmio_bench: N reads and N writes, 2N+1
accesses) while the host rotates the trace every few seconds (mmiotrace-rotate), counts and
deletes the finished files, and sends one stretch of the trace to a small tmpfs that fills
up (a full-disk episode) before rotating back to the disk.

It checks: QEMU's RSS stays flat; every access is either a record in some file or counted
as lost (records + counted losses = accesses, and the files' Lost markers carry the same
count); every file is a whole trace starting with its header. Figures on stdout.

Environment: HVMMIO_QEMU, HVMMIO_GUEST_IMAGE (kernel-guest image folder), OUT;
SOAK_N (default 50000000 reads and as many writes), SOAK_ROTATE_S (default 5).
"""
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import Checker, Tmpfs, can_mount_tmpfs  # noqa: E402
from qemu_harness import Qemu, QemuError, QmpError  # noqa: E402

OUT = os.environ.get('OUT') or '/tmp/hvmmio-soak'
N = int(os.environ.get('SOAK_N', '50000000'))
ROTATE_S = float(os.environ.get('SOAK_ROTATE_S', '5'))
IMAGE = os.environ.get('HVMMIO_GUEST_IMAGE') or os.path.expanduser(
    os.path.join(os.environ.get('HVMMIO_CACHE_DIR') or '~/.cache/hvmmio', 'guest', 'current'))
c = Checker()
LOST_RE = re.compile(rb'^(?:LOST \S+ (\d+)|MARK 0\.000000 Lost (\d+) events\.)', re.M)


def vm_rss_mb(pid):
    with open(f'/proc/{pid}/status') as f:
        for l in f:
            if l.startswith('VmRSS:'):
                return int(l.split()[1]) // 1024
    return 0


def count_file(path):
    """Accesses recorded, lost counts marked, and the first words of the file."""
    accesses = lost = 0
    head = []
    with open(path, 'rb') as f:
        first = f.read(1 << 16)
        head = [l.split(b' ')[0].decode() for l in first.split(b'\n')[:4]]
    r = subprocess.run(['grep', '-c', '^[RW] ', path], capture_output=True, text=True)
    accesses = int(r.stdout.strip() or 0)
    r = subprocess.run(['grep', '-aE', '^(LOST |MARK 0\\.000000 Lost )', path],
                       capture_output=True)
    for m in LOST_RE.finditer(r.stdout):
        lost += int(m.group(1) or m.group(2))
    return accesses, lost, head


def main():
    if not can_mount_tmpfs():
        return c.skip_all('cannot mount a tmpfs (needs root)')
    os.makedirs(OUT, exist_ok=True)
    for f in os.listdir(OUT):
        if f.startswith('soak-'):
            os.unlink(os.path.join(OUT, f))
    files = [os.path.join(OUT, 'soak-000.txt')]
    q = Qemu([
        '-no-reboot', '-kernel', os.path.join(IMAGE, 'vmlinuz'),
        '-initrd', os.path.join(IMAGE, 'initrd.img'),
        '-append', f'console=ttyS0 panic=-1 edd=off quiet hvmmio.scenario=bench '
                   f'hvmmio.args=emu:{N}',
        '-serial', f'file:{OUT}/console.log', '-serial', f'file:{OUT}/results.bin',
        '-device', f'e1000e,id=nic0,romfile=,mmiotrace=on,mmiotrace-file={files[0]}'],
        accel='tcg', memory='256', cwd=OUT, log=f'{OUT}/qemu.log', timeout=120)
    t0 = time.time()
    q.start()
    proc = q.proc
    rss, counted = [], []
    total = 2 * N + 1
    kept = marked = 0
    episode_done = False
    with Tmpfs('64M') as small:
        k = 0
        while proc.poll() is None:
            # (the full stretch is short: its losses are marked in the next file, on the disk)
            time.sleep(1 if files[-1].startswith(small.dir) else ROTATE_S)
            try:
                info = q.qmp('query-mmiotrace')[0]
                if info['records']:
                    rss.append(vm_rss_mb(proc.pid))     # (the guest boots before)
                k += 1
                on_small = info['records'] > total // 4 and not episode_done and \
                    not files[-1].startswith(small.dir)
                nxt = os.path.join(small.dir if on_small else OUT, f'soak-{k:03d}.txt')
                q.qmp('mmiotrace-rotate', device='nic0', file=nxt)
                if files[-1].startswith(small.dir):
                    episode_done = True
            except (OSError, QemuError, QmpError, ValueError):
                break       # the guest is done and QEMU is leaving
            files.append(nxt)
            done = files[-2]
            a, l, head = count_file(done)
            kept += a
            marked += l
            counted.append((os.path.basename(done), a, l, head, info['records'],
                            info['dropped']))
            os.unlink(done)
            print(f'# {time.time() - t0:6.1f} s  {os.path.basename(done)}: {a} accesses, '
                  f'lost {l}; query: records {info["records"]} dropped {info["dropped"]} '
                  f'write-error {info.get("write-error")}; RSS {vm_rss_mb(proc.pid)} MiB',
                  flush=True)
        q.wait(timeout=120)
        elapsed = time.time() - t0
        last = files[-1]
        a, l, head = count_file(last)
        kept += a
        marked += l
        counted.append((os.path.basename(last), a, l, head, None, None))
        os.unlink(last)
    print(f'# figures: accesses {total}, records kept {kept}, lost (marked) {marked}, '
          f'rotations {len(files) - 1}, files {len(counted)}, RSS MiB min/max '
          f'{min(rss or [0])}/{max(rss or [0])} over {len(rss)} samples, {elapsed:.0f} s, '
          f'{total / elapsed / 1e6:.2f} M accesses/s', flush=True)
    with open(f'{OUT}/console.log', errors='replace') as f:
        console = f.read()
    c.check('scenario-end rc=0' in console, 'the guest scenario finished')
    c.equal(kept + marked, total, 'records kept + lost (marked in the files) = accesses')
    c.check(marked > 0, f'the full-disk episode lost records ({marked}), counted and marked')
    c.check(episode_done, 'a stretch of the trace went to a full tmpfs')
    # (after a loss, the Lost marker comes right after VERSION)
    bad = [n for n, _, _, h, _, _ in counted if h[0] != 'VERSION' or 'PCIDEV' not in h[1:3]]
    c.check(not bad, f'every file starts with its header {bad}')
    c.check(rss and max(rss) - min(rss) < 32,
            f'RSS flat: {min(rss)}..{max(rss)} MiB')
    c.check(len(files) - 1 >= 5, f'{len(files) - 1} rotations')
    return c.done()


sys.exit(main())
