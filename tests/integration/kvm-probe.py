"""kvm-probe: every access form, under KVM and TCG, traced exactly and never changing what
the guest reads (tests/kvm-probe/README.md).

The probe guest (a multiboot ELF built from tests/kvm-probe/) drives edu, an e1000e and
hvmmio's vfio-user test device. For each accelerator this test
  - runs it untraced, and traced with each option combination: the guest's printed
    values must be the same in every run, and its own checks must pass;
  - checks the host trace against the expected record list below (R/W, width, device,
    BAR, offset, value; with mmiotrace-pc the PC must be the ELF symbol of the
    instruction), which is written from the probe's source and the devices' documented
    behaviour, not from a trace;
  - with both accelerators, checks that they give identical records;
  - checks QEMU's trace event at the file's close (mmiotrace_file_close): its event count is
    the file's lines, drop mode never waits for room, and a 16-slot lossless ring under TCG
    makes the vCPU wait (the counts hvmmio bench prints).

    python3 kvm-probe.py --accel tcg|kvm|both
Environment: HVMMIO_QEMU, TESTDEV, PROBE (the ELF), OUT. Prints TAP; reports SKIP (TAP)
when KVM is asked for and /dev/kvm cannot run a guest, saying why.
"""
import json
import os
import re
import subprocess
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import FIRMWARE, QEMU, Checker, Testdev, kvm_usable  # noqa: E402

PROBE = os.environ['PROBE']
OUT = os.environ.get('OUT', '/tmp/kvm-probe')
LOOPS = 50

# Slots: test device (vfio-user-pci) at 04.0, edu at 05.0, e1000e at 06.0, rtl8139 at 07.0.
T, M, E, N, R = ('testdev', 0), ('testdev', 2), ('edu0', 0), ('nic0', 0), ('rtl0', 1)


def expected():
    """The records the probe's accesses must give, in program order."""
    r = []

    def acc(label, d, w, dev, off, val, **kw):
        r.append(dict(label=label, dir=d, width=w, dev=dev[0], bar=dev[1], off=off,
                      value=val, **kw))

    acc('w1', 'W', 1, T, 0x40, 0x11)
    acc('w2', 'W', 2, T, 0x42, 0x2233)
    acc('w4', 'W', 4, T, 0x44, 0x44556677)
    acc('r1', 'R', 1, T, 0x40, 0x11)
    acc('r2', 'R', 2, T, 0x42, 0x2233)
    acc('r4', 'R', 4, T, 0x44, 0x44556677)
    acc('w8', 'W', 8, T, 0x48, 0x8877665544332211)
    acc('r8', 'R', 8, T, 0x48, 0x8877665544332211)
    # 16 bytes: two 8-byte accesses (KVM exits for at most 8 bytes; TCG joins to 8)
    acc('w16', 'W', 8, T, 0x50, 0x1122334455667788)
    acc('w16', 'W', 8, T, 0x58, 0x99aabbccddeeff00)
    acc('r16', 'R', 8, T, 0x50, 0x1122334455667788)
    acc('r16', 'R', 8, T, 0x58, 0x99aabbccddeeff00)
    acc('half_lo_w', 'W', 4, T, 0x10, 0x89abcdef)
    acc('half_hi_w', 'W', 4, T, 0x14, 0x01234567)
    acc('half_r8', 'R', 8, T, 0x10, 0x0123456789abcdef)
    acc('half_lo_r', 'R', 4, T, 0x10, 0x89abcdef)
    acc('half_hi_r', 'R', 4, T, 0x14, 0x01234567)
    acc('strad_w4', 'W', 4, T, 0x6a, 0xa1b2c3d4)        # one record, not two halves
    acc('strad_r4', 'R', 4, T, 0x6a, 0xa1b2c3d4)
    acc('inv_w', 'W', 4, T, 0x04, 0x0f0f0f0f)
    acc('s32_w', 'W', 4, T, 0x08, 0x12345678)
    acc('strad_r8', 'R', 8, T, 0x04, 0x12345678f0f0f0f0)  # INVERT + SCRATCH32
    # across a page boundary: one record per page, as KVM's fragments
    acc('page_w', 'W', 2, M, 0xffe, 0xf00d)
    acc('page_w', 'W', 2, M, 0x1000, 0xcafe)
    acc('page_r', 'R', 2, M, 0xffe, 0xf00d)
    acc('page_r', 'R', 2, M, 0x1000, 0xcafe)
    acc('rmw_init', 'W', 4, T, 0x60, 0x100)
    acc('rmw_init_hi', 'W', 4, T, 0x64, 0)
    acc('rmw_or', 'R', 4, T, 0x60, 0x100)
    acc('rmw_or', 'W', 4, T, 0x60, 0x103)
    acc('rmw_xchg', 'R', 4, T, 0x60, 0x103)
    acc('rmw_xchg', 'W', 4, T, 0x60, 0x55)
    acc('rmw_cx8', 'R', 8, T, 0x60, 0x55)
    acc('rmw_cx8', 'W', 8, T, 0x60, 0x1111111122222222)
    acc('rmw_r8', 'R', 8, T, 0x60, 0x1111111122222222)
    words = [0x10203040, 0x50607080, 0x90a0b0c0, 0xd0e0f000]
    for i, v in enumerate(words):
        acc('movs_w', 'W', 4, T, 0x800 + 4 * i, v)
    for i, v in enumerate(words):
        acc('movs_r', 'R', 4, T, 0x800 + 4 * i, v)
    for i in range(4):
        acc('stos', 'W', 4, T, 0x810 + 4 * i, 0x5a5a5a5a)
    acc('stos_r', 'R', 4, T, 0x81c, 0x5a5a5a5a)
    acc('edu_id', 'R', 4, E, 0x0, 0x010000ed)
    acc('edu_inv_w', 'W', 4, E, 0x4, 0x12345678)
    acc('edu_inv_r', 'R', 4, E, 0x4, 0xedcba987)
    acc('edu_w8', 'W', 8, E, 0x80, 0x12345000)
    acc('edu_r8', 'R', 8, E, 0x80, 0x12345000)
    acc('edu_r1', 'R', 1, E, 0x0, 0x0, rejected=True)  # edu takes 4 and 8 bytes only
    acc('e_rdbal_w', 'W', 4, N, 0x2800, 0x12345670)
    acc('e_rdbah_w', 'W', 4, N, 0x2804, 0x9)
    acc('e_rdbal_r', 'R', 4, N, 0x2800, 0x12345670)
    acc('e_rdbah_r', 'R', 4, N, 0x2804, 0x9)
    # rtl8139's BAR1: 256 bytes in a subpage, an alias of its I/O BAR
    acc('rtl_w4', 'W', 4, R, 0x08, 0x44332211)
    acc('rtl_w4b', 'W', 4, R, 0x0c, 0x88776655)
    acc('rtl_strad', 'R', 4, R, 0x0a, 0x66554433)
    acc('rtl_r1', 'R', 1, R, 0x0f, 0x88)
    for _ in range(LOOPS):
        acc('loop_r', 'R', 4, E, 0x0, 0x010000ed)
    for i in range(LOOPS, 0, -1):
        acc('loop_w', 'W', 4, E, 0x04, i)
    return r


# Traced runs: the properties each device gets (None: untraced).
CONFIGS = {
    'off': None,
    'on': '',
    'pc': ',mmiotrace-pc=on',
    'insn': ',mmiotrace-insn=on',
    'compat': ',mmiotrace-pc=on,mmiotrace-compat=on',
    'ranges': ',mmiotrace-pc=on,mmiotrace-ranges=0:0x40+0x40',
    'drop': ',mmiotrace-insn=on,mmiotrace-mode=drop,mmiotrace-ring=16',
    'lossless-small': ',mmiotrace-insn=on,mmiotrace-ring=16',
}


def symbols():
    out = subprocess.run(['nm', PROBE], capture_output=True, text=True, check=True).stdout
    syms = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[2].startswith('p_'):
            syms[f[2][2:]] = int(f[0], 16)
    return syms


events_lossless = {}
other_events = 0
FACT = re.compile(r'(\w+)=("(?:[^"\\]|\\.)*"|\S+)')


def parse_trace(path):
    """R/W records, Lost counts, PCIDEV BAR addresses and sizes by device, and the
    number of other lines (events of any kind, for drop mode's accounting)."""
    recs, lost, pcidev = [], 0, []
    global other_events
    other_events = 0
    with open(path, errors='replace') as f:
        for line in f:
            fl = line.split()
            if not fl:
                continue
            if fl[0] not in ('R', 'W', 'VERSION', 'LOST') and 'Lost' not in line:
                other_events += 1
            if fl[0] == 'MARK' and 'Lost' in line:
                lost += int(fl[3])
            elif fl[0] == 'LOST':
                lost += int(fl[2])
            elif fl[0] == 'PCIDEV':
                pcidev.append([(int(a, 16) & ~0xf, int(n, 16))
                               for a, n in zip(fl[4:11], fl[11:18])])
            elif fl[0] in ('R', 'W'):
                facts = dict(FACT.findall(line.split(' ', 8)[8] if len(fl) > 8 else ''))
                recs.append(dict(dir=fl[0], width=int(fl[1]), phys=int(fl[4], 16),
                                 value=int(fl[5], 16), pc=int(fl[6], 16),
                                 dev=facts.get('dev'),
                                 bar=int(facts['bar']) if 'bar' in facts else None,
                                 off=int(facts['off'], 16) if 'off' in facts else None,
                                 pc_unknown=facts.get('pc') == 'unknown',
                                 rejected='rejected' in facts,
                                 insn=facts.get('insn')))
    return recs, lost, pcidev


def run(accel, name, props):
    """Boot the probe; return (exit status, debug console text, trace path or None)."""
    d = os.path.join(OUT, f'{accel}-{name}')
    os.makedirs(d, exist_ok=True)
    for f in os.listdir(d):
        os.unlink(os.path.join(d, f))
    sock = os.path.join(d, 'testdev.sock')
    trace = os.path.join(d, 'trace.txt')
    server = Testdev(sock, os.path.join(d, 'testdev.log'), verbose=False).start()
    tr = '' if props is None else f',mmiotrace=on,mmiotrace-file={trace}{props}'
    tdev = {'driver': 'vfio-user-pci', 'id': 'testdev', 'addr': '04.0',
            'socket': {'type': 'unix', 'path': sock}}
    if props is not None:
        tdev.update({'mmiotrace': True, 'mmiotrace-file': trace})
        for kv in props.split(',')[1:]:
            k, v = kv.split('=', 1)
            tdev[k] = {'on': True, 'off': False}.get(v, int(v) if v.isdigit() else v)
    cmd = [QEMU] + FIRMWARE + [
        '-machine', 'q35', '-accel', accel, '-m', '128M', '-nodefaults', '-display', 'none',
        '-object', 'memory-backend-memfd,id=mem,size=128M,share=on',
        '-machine', 'memory-backend=mem',
        '-kernel', PROBE, '-append', f'loops={LOOPS}',
        '-chardev', f'file,id=dbg,path={d}/debug.txt',
        '-device', 'isa-debugcon,iobase=0xe9,chardev=dbg',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
        '-device', json.dumps(tdev),
        '-device', f'edu,id=edu0,addr=05.0{tr}',
        '-device', f'e1000e,id=nic0,addr=06.0,romfile={tr}',
        '-trace', 'mmiotrace_file_close',
        # rtl8139's BAR0 is I/O: its ranges name BAR1
        '-device', f'rtl8139,id=rtl0,addr=07.0,romfile={tr.replace("=0:0x40+0x40", "=1:0x8+0x8")}']
    with open(os.path.join(d, 'qemu.log'), 'w') as qlog:
        try:
            p = subprocess.run(cmd, stdout=qlog, stderr=qlog, timeout=120)
            rc = p.returncode
        except subprocess.TimeoutExpired:
            rc = 'timeout'
    server.wait(timeout=10)     # it exits when QEMU disconnects (else it is killed)
    text = open(os.path.join(d, 'debug.txt'), errors='replace').read() \
        if os.path.exists(os.path.join(d, 'debug.txt')) else ''
    return rc, text, (trace if props is not None else None), d


def close_event(tap, accel, name, d, trace):
    """QEMU's mmiotrace_file_close against the trace file."""
    with open(os.path.join(d, 'qemu.log'), errors='replace') as f:
        m = re.search(r'mmiotrace_file_close \S+ events (\d+) .* room_waits (\d+) '
                      r'room_wait_ns (\d+)', f.read())
    if not tap.ok(m is not None, f'{accel} {name}: QEMU traces mmiotrace_file_close'):
        return
    events, waits, wait_ns = (int(x) for x in m.groups())
    with open(trace) as f:
        lines = sum(1 for _ in f)
    tap.ok(events == lines, f'{accel} {name}: the writer counted the file\'s {lines} lines',
           f'{events} events')
    tap.ok((waits == 0) == (wait_ns == 0), f'{accel} {name}: waits and their time agree',
           f'{waits} waits, {wait_ns} ns')
    if name == 'drop':
        tap.ok(waits == 0, f'{accel} {name}: drop mode never waits for room', f'{waits} waits')
    if name == 'lossless-small' and accel == 'tcg':
        tap.ok(waits > 0, f'{accel} {name}: a 16-slot ring makes the vCPU wait ({waits} times, '
               f'{wait_ns / 1e6:.1f} ms)')


def values(text):
    """The guest's observations: every line but the cycle counts."""
    return '\n'.join(line for line in text.splitlines() if 'cycles' not in line)


def in_ranges(name, e):
    if name != 'ranges':
        return True
    # mmiotrace-ranges=0:0x40+0x40 on every device (rtl8139: 1:0x8+0x8)
    if e['dev'] == 'rtl0':
        return 0x8 <= e['off'] and e['off'] + e['width'] <= 0x10
    return e['bar'] == 0 and 0x40 <= e['off'] and e['off'] + e['width'] <= 0x80


def check_records(tap, accel, name, recs, lost, pcidev, syms):
    exp = [e for e in expected() if in_ranges(name, e)]
    compat = 'compat' in name
    want_pc = name not in ('on',)
    if compat:
        # no dev=/bar=/off=: find them from the PCIDEV lines (testdev, edu, e1000e order
        # is not guaranteed: match by address)
        for rec in recs:
            for bars in pcidev:
                for b, (base, size) in enumerate(bars):
                    if base and base <= rec['phys'] < base + size:
                        rec['bar'], rec['off'] = b, rec['phys'] - base
    if name == 'drop':
        # drop mode: what is kept is in order, and every event the lossless run wrote
        # (accesses, MAPs, PCIDEV updates, ...) is either kept or counted lost
        kept, want = len(recs) + other_events, len(exp) + events_lossless[accel]
        tap.ok(kept + lost == want, f'{accel} {name}: events kept {kept} + lost {lost} = '
               f'events of the lossless run {want} ({len(exp)} accesses)')
        it = iter(exp)
        sub = all(any(e['dir'] == r['dir'] and e['off'] == r['off'] and
                      e['value'] == r['value'] for e in it) for r in recs)
        tap.ok(sub, f'{accel} {name}: the records kept are the accesses, in order')
        return
    tap.ok(lost == 0, f'{accel} {name}: nothing lost ({lost})')
    if name == 'on':
        events_lossless[accel] = other_events
    bad = []
    for i, (e, r) in enumerate(zip(exp, recs)):
        want = (e['dir'], e['width'], e['bar'], e['off'], e['value'])
        got = (r['dir'], r['width'], r['bar'], r['off'], r['value'])
        if not compat:
            want += (e['dev'], e.get('rejected', False))
            got += (r['dev'], r['rejected'])
        if want != got:
            bad.append(f'#{i} {e["label"]}: want {want}, got {got}')
        if want_pc and r['pc'] != syms[e['label']]:
            bad.append(f'#{i} {e["label"]}: pc {r["pc"]:#x}, want {syms[e["label"]]:#x}'
                       f'{" (pc=unknown)" if r["pc_unknown"] else ""}')
        if 'insn' in name and not r['insn']:
            bad.append(f'#{i} {e["label"]}: no instruction bytes')
    tap.ok(len(recs) == len(exp) and not bad,
           f'{accel} {name}: {len(recs)} records, {len(exp)} expected, exact',
           '\n'.join(bad[:20]))


def main():
    accel = sys.argv[sys.argv.index('--accel') + 1] if '--accel' in sys.argv else 'tcg'
    accels = ['tcg', 'kvm'] if accel == 'both' else [accel]
    if 'kvm' in accels:
        why = kvm_usable()
        if why:
            return Checker().skip_all(f'KVM half: {why}')
    os.makedirs(OUT, exist_ok=True)
    tap = Checker()
    syms = symbols()
    tap.ok(all(e['label'] in syms for e in expected()), 'every access has its ELF symbol')
    kept = {}
    for a in accels:
        base = None
        for name, props in CONFIGS.items():
            t0 = time.time()
            rc, text, trace, d = run(a, name, props)
            dt = time.time() - t0
            tap.ok(rc == 1 and 'RESULT PASS 0' in text,
                   f'{a} {name}: the guest\'s checks pass ({dt:.1f} s)',
                   f'exit {rc}; see {d}\n' + text[-1500:])
            if base is None:
                base = values(text)
            else:
                tap.ok(values(text) == base,
                       f'{a} {name}: the guest read the same values as untraced')
            if trace:
                recs, lost, pcidev = parse_trace(trace)
                check_records(tap, a, name, recs, lost, pcidev, syms)
                close_event(tap, a, name, d, trace)
                kept[(a, name)] = recs
    if len(accels) == 2:
        for name in CONFIGS:
            if (('tcg', name) in kept) and name != 'drop':
                key = ('dir', 'width', 'bar', 'off', 'value', 'pc', 'rejected')
                t = [tuple(r[k] for k in key) for r in kept[('tcg', name)]]
                k = [tuple(r[k] for k in key) for r in kept[('kvm', name)]]
                diff = [f'#{i}: tcg {x} kvm {y}' for i, (x, y) in enumerate(zip(t, k))
                        if x != y]
                tap.ok(t == k, f'{name}: KVM and TCG give identical records', '\n'.join(diff))
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
