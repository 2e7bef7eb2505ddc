#!/usr/bin/env python3
"""A trace file on a full disk (a small tmpfs), for both modes and both mmiotrace-direct
settings, and compressed (.zst: whole frames, cut back to the last whole one), then space
returns:

- the file stays a valid trace (hvmmio stat --strict), its header intact, and every access
  in it appears once, in order (nothing written at a stale offset);
- query-mmiotrace shows the failure (write-error) and counts every lost record: the
  accesses kept in the file plus write-lost equal the accesses made;
- MMIOTRACE_WRITE_ERROR and MMIOTRACE_WRITE_RESUMED are sent;
- a Lost marker in the file, where writing resumed, carries the count;
- the guest was never stalled (every access was answered), in lossless mode too.

With mmiotrace-direct=on and more records than the writer's buffer holds while the disk
is full, the direct writes are made by the file's I/O thread (checked by its name) and
fail there: the buffer formatted meanwhile is lost with the one that failed, and counted.
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from faultlib import Checker, EvQemu, Tmpfs, can_mount_tmpfs, hvmmio  # noqa: E402

c = Checker()
SLOT, BAR = 3, 0xe0000000
BEFORE, DURING, AFTER = 300, 5000, 1000


def trace_facts(path):
    """W values in order, Lost counts, the first lines."""
    values, lost, head = [], [], []
    if path.endswith('.zst'):
        out = os.environ.get('OUT') or '/tmp/hvmmio-disk-full'
        os.makedirs(out, exist_ok=True)
        plain = os.path.join(out, 'read.txt')
        r = hvmmio('convert', path, plain)
        c.check(r.returncode == 0, f'{path}: hvmmio reads the compressed file back',
                r.stderr.strip())
        path = plain
    with open(path, errors='replace') as f:
        for i, line in enumerate(f):
            if i < 4:
                head.append(line.split(' ')[0])
            if line.startswith('W '):
                values.append(int(line.split()[5], 16))
            m = re.match(r'(?:LOST \S+ (\d+)|MARK 0\.000000 Lost (\d+) events\.)', line)
            if m:
                lost.append(int(m.group(1) or m.group(2)))
    return values, lost, head


def thread_names(pid):
    names = []
    for tid in os.listdir(f'/proc/{pid}/task'):
        try:
            with open(f'/proc/{pid}/task/{tid}/comm') as f:
                names.append(f.read().strip())
        except OSError:
            pass
    return names


def run(direct, mode, suffix='.txt', during_n=DURING):
    name = f'direct={direct} mode={mode} {suffix}' + (f' {during_n} while full'
                                                       if during_n != DURING else '')
    with Tmpfs('2M') as t:
        path = os.path.join(t.dir, 'trace' + suffix)
        # With more than a buffer while full (during_n), the buffer (512 KiB) must fill
        # before the writer's periodic flush (100 ms), which writes it itself: whether
        # qtest's writes come that fast depends on the machine, so that flush waits here.
        env = {'HVMMIO_TEST_FLUSH_MS': '600000'} if during_n != DURING else None
        q = EvQemu(['-name', 'debug-threads=on',
                    '-device', f'edu,id=edu0,addr={SLOT},mmiotrace=on,mmiotrace-file={path},'
                    f'mmiotrace-direct={direct},mmiotrace-mode={mode},mmiotrace-ring=1024'],
                   env=env)
        q.start()
        q.pci_map_bar(SLOT, 0, BAR)
        q.writes(BAR + 4, BEFORE, base=0)
        q.qmp('query-mmiotrace')        # written out: the header and BEFORE accesses
        t.fill(16384)
        q.writes(BAR + 4, during_n, base=BEFORE)
        io_thread = 'mmiotrace-io' in thread_names(q.proc.pid)
        during = q.qmp('query-mmiotrace')[0]
        t.free_filler()
        q.writes(BAR + 4, AFTER, base=BEFORE + during_n)
        after = q.qmp('query-mmiotrace')[0]
        q.quit()
        err = q.read_stderr()
        total = BEFORE + during_n + AFTER
        if during_n != DURING:
            c.check(io_thread, f'{name}: the direct writes are made by the I/O thread '
                    f'({during_n} accesses while full)')

        c.check(during['write-lost'] > 0 and during['dropped'] >= during['write-lost'],
                f'{name}: losses counted while the disk is full ({during["write-lost"]})')
        c.check('MMIOTRACE_WRITE_ERROR' in q.event_names(),
                f'{name}: MMIOTRACE_WRITE_ERROR sent')
        ev = [e for e in q.events if e['event'] == 'MMIOTRACE_WRITE_ERROR']
        c.check(ev and ev[0]['data']['devices'] == ['edu0'] and
                'No space left' in ev[0]['data']['error'],
                f'{name}: the event names the device and the error: {ev[:1]}')
        c.check('MMIOTRACE_WRITE_RESUMED' in q.event_names(),
                f'{name}: MMIOTRACE_WRITE_RESUMED sent once space returned')
        c.check('write-error' not in after, f'{name}: no write-error once writing works')
        # (drop mode may also lose records in the ring while the writer retries: dropped)
        c.equal(after['records'] + after['dropped'], total,
                f'{name}: records + dropped = accesses (query-mmiotrace)')
        c.check(0 < after['write-lost'] <= after['dropped'],
                f'{name}: write-lost ({after["write-lost"]}) counts the write losses')
        if mode == 'lossless':
            c.equal(after['write-lost'], after['dropped'], f'{name}: no other loss')
        c.check('failed: No space left on device' in err, f'{name}: the error is on stderr')

        r = hvmmio('stat', '--strict', path)
        c.check(r.returncode == 0, f'{name}: the file is a valid trace ({r.stderr.strip()})')
        values, lost, head = trace_facts(path)
        c.equal(head, ['VERSION', 'PCIDEV', 'PCICFG', 'MAP'], f'{name}: the header is intact')
        c.check(all(b > a for a, b in zip(values, values[1:])),
                f'{name}: every access once and in order (nothing at a stale offset)')
        c.check(values[:BEFORE] == list(range(BEFORE)),
                f'{name}: the accesses before the failure are all there')
        c.equal(len(values), after['records'], f'{name}: the file holds the records counted')
        c.equal(sum(lost), after['dropped'], f'{name}: the Lost markers carry the losses')
        c.equal(len(values) + sum(lost), total, f'{name}: kept + marked = accesses')
        c.check(values[-1] == total - 1, f'{name}: writing resumed (last access in the file)')
        print(f'# figures {name}: accesses {total}, kept {len(values)}, lost {sum(lost)}, '
              f'counted {after["dropped"]} (write errors {after["write-lost"]})')


def run_shared_compat():
    """Two devices sharing a kernel-format file: each one's records are its accesses kept."""
    name = 'two devices, mmiotrace-compat'
    with Tmpfs('2M') as t:
        path = os.path.join(t.dir, 'trace.txt')
        opts = f'mmiotrace=on,mmiotrace-file={path},mmiotrace-compat=on'
        q = EvQemu(['-device', f'edu,id=edu0,addr={SLOT},{opts}',
                    '-device', f'edu,id=edu1,addr={SLOT + 1},{opts}'])
        q.start()
        q.pci_map_bar(SLOT, 0, BAR)
        q.pci_map_bar(SLOT + 1, 0, BAR + 0x100000)
        q.writes(BAR + 4, BEFORE)
        q.qmp('query-mmiotrace')
        t.fill(16384)
        q.writes(BAR + 4, DURING, base=BEFORE)
        q.writes(BAR + 0x100000 + 4, DURING, base=BEFORE)
        q.qmp('query-mmiotrace')
        t.free_filler()
        q.writes(BAR + 0x100000 + 4, AFTER, base=BEFORE + DURING)
        info = {d['device']: d for d in q.qmp('query-mmiotrace')}
        q.quit()
        maps = {}
        kept = {0: 0, 1: 0}
        with open(path) as f:
            for line in f:
                p = line.split()
                if p[0] == 'MAP':
                    maps[p[2]] = 0 if int(p[3], 16) == BAR else 1
                elif p[0] == 'W':
                    kept[maps[p[3]]] += 1
        c.equal((info['edu0']['records'], info['edu1']['records']), (kept[0], kept[1]),
                f'{name}: each device counts its own accesses kept')
        c.check(kept[0] < BEFORE + DURING and kept[1] < DURING + AFTER,
                f'{name}: both lost some ({kept})')


if not can_mount_tmpfs():
    sys.exit(c.skip_all('cannot mount a tmpfs (needs root)'))
for direct in ('on', 'off'):
    for mode in ('lossless', 'drop'):
        run(direct, mode)
for mode in ('lossless', 'drop'):
    run('on', mode, '.zst')
    run('on', mode, during_n=30000)     # several buffers: in the I/O thread
run_shared_compat()
sys.exit(c.done())
