#!/usr/bin/env python3
"""plugin-peer: hvmmio against the peer a user would otherwise pick (issue 16): a stock QEMU
from the same pinned source with TCG plugins (tests/bench/build-plugin-qemu.sh), running QEMU's
own hwprofile plugin or the minimal value-logging MMIO plugin of this folder
(mmio-log-plugin.c). TCG, on this machine; every figure is printed with its spread.

  1. per access: the probe guest (tests/kvm-probe/, bench=BLOCKS) times blocks of edu reads
     and writes. Stock QEMU: bare, with mmio-log, with hwprofile, in alternating boots (a
     plugin cannot be switched off within a boot). hvmmio: untraced and traced devices paired
     in one boot (`hvmmio bench --probe`, its own ratios).
  2. whole guest, CPU-bound: the probe's spin=N loop (RAM only, no device access), boots in
     rounds: stock bare, stock + mmio-log, stock + hwprofile, hvmmio without tracing, hvmmio
     with an edu traced (with PC and instruction) that the loop never touches.
  3. whole guest, boot to poweroff: `hvmmio run SCENARIO` wall time with an e1000e, stock
     QEMU bare and with mmio-log, hvmmio untraced and with the e1000e traced.

    python3 tests/bench/plugin-peer.py [--reps N] [--spin N] [--scenario NAME|none]
Environment: HVMMIO (the hvmmio binary), HVMMIO_QEMU (hvmmio's QEMU), PROBE (kvm-probe.elf),
PEER_BUILD (the plugin QEMU's build dir; default: run build-plugin-qemu.sh).
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(TOP, 'tests', 'lib'))
from qemu_harness import FIRMWARE, QEMU  # noqa: E402

HVMMIO = os.environ.get('HVMMIO', os.path.join(TOP, 'build', 'tools', 'hvmmio'))
PROBE = os.environ.get('PROBE', os.path.join(TOP, 'build', 'tests', 'kvm-probe', 'kvm-probe.elf'))
EDU_SLOTS = (5, 8, 9, 10)


def peer_build():
    if os.environ.get('PEER_BUILD'):
        return os.environ['PEER_BUILD']
    out = subprocess.run(['bash', os.path.join(HERE, 'build-plugin-qemu.sh')], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    return out.strip().splitlines()[-1]


def boot(qemu, append, devices, plugin=None, tmp=None):
    """Boot the probe guest; its debug console text."""
    debug = os.path.join(tmp, 'debug.txt')
    if os.path.exists(debug):
        os.unlink(debug)
    cmd = [qemu] + FIRMWARE + [
        '-machine', 'q35', '-accel', 'tcg', '-m', '64M', '-nodefaults', '-display', 'none',
        '-kernel', PROBE, '-append', append,
        '-chardev', f'file,id=dbg,path={debug}',
        '-device', 'isa-debugcon,iobase=0xe9,chardev=dbg',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4']
    for d in devices:
        cmd += ['-device', d]
    if plugin:
        cmd += ['-plugin', plugin]
    p = subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600)
    text = open(debug, errors='replace').read() if os.path.exists(debug) else ''
    if p.returncode != 1 or 'RESULT PASS 0' not in text:
        sys.exit(f'plugin-peer: the probe guest failed under {qemu} {plugin or ""}:\n'
                 f'{p.stderr[-2000:]}{text[-1000:]}')
    return text


def spread(v):
    return f'{statistics.median(v):.3f} ({min(v):.3f}-{max(v):.3f})'


def per_access(peer, plugins, reps, tmp):
    """Stock QEMU's cycles per edu access, bare and with each plugin (median over boots)."""
    cyc = {name: ([], []) for name in ['bare'] + list(plugins)}
    edu = [f'edu,addr={s:02x}.0' for s in EDU_SLOTS]
    for _ in range(reps):
        for name in cyc:
            text = boot(os.path.join(peer, 'qemu-system-x86_64'), 'loops=20000 bench=5', edu,
                        plugins.get(name), tmp)
            rd = [int(m.group(1)) / 20000 for m in re.finditer(r'read (\d+) write', text)]
            wr = [int(m.group(1)) / 20000 for m in re.finditer(r'write (\d+)', text)]
            cyc[name][0].append(statistics.median(rd))
            cyc[name][1].append(statistics.median(wr))
    return cyc


def hvmmio_probe(reps, tmp):
    j = os.path.join(tmp, 'probe.json')
    subprocess.run([HVMMIO, 'bench', '--probe', '--accel', 'tcg', '--reps', str(reps),
                    '--json', j], check=True, stdout=subprocess.DEVNULL, env=dict(
                        os.environ, HVMMIO_QEMU=QEMU, HVMMIO_PROBE=PROBE))
    return json.load(open(j))


def spin(peer, plugins, reps, n, tmp):
    """kcycles of the spin loop per configuration, boots in rounds."""
    trace = os.path.join(tmp, 'spin-trace.txt')
    traced = [f'edu,addr=05.0,mmiotrace=on,mmiotrace-insn=on,mmiotrace-file={trace}']
    configs = [('stock', os.path.join(peer, 'qemu-system-x86_64'), None, ['edu,addr=05.0'])]
    configs += [(f'stock+{k}', configs[0][1], v, configs[0][3]) for k, v in plugins.items()]
    configs += [('hvmmio', QEMU, None, ['edu,addr=05.0']), ('hvmmio traced', QEMU, None, traced)]
    got = {c[0]: [] for c in configs}
    for _ in range(reps):
        for name, qemu, plugin, devs in configs:
            text = boot(qemu, f'spin={n}', devs, plugin, tmp)
            got[name].append(int(re.search(r'kcycles (\d+)', text).group(1)))
    return got


def scenario(peer, plugin, name, reps, tmp):
    """Wall seconds of hvmmio run NAME per configuration."""
    stock = os.path.join(peer, 'qemu-system-x86_64')
    configs = [('stock', stock, 'e1000e', []), ('stock+mmio-log', stock, 'e1000e',
                                                 ['--', '-plugin', plugin]),
               ('hvmmio', QEMU, 'e1000e', []),
               ('hvmmio traced', QEMU, 'e1000e,mmiotrace=on', [])]
    got = {c[0]: [] for c in configs}
    for r in range(reps):
        for cname, qemu, dev, extra in configs:
            out = os.path.join(tmp, f'run-{r}-{cname.replace(" ", "-")}')
            t0 = time.monotonic()
            p = subprocess.run([HVMMIO, 'run', '--accel', 'tcg', '-d', dev, '-o', out, name]
                               + extra, capture_output=True, text=True,
                               env=dict(os.environ, HVMMIO_QEMU=qemu))
            if p.returncode:
                sys.exit(f'plugin-peer: hvmmio run {name} failed ({cname}):\n{p.stderr[-2000:]}')
            got[cname].append(time.monotonic() - t0)
    return got


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--reps', type=int, default=3)
    ap.add_argument('--spin', type=int, default=20000)
    ap.add_argument('--scenario', default='e1000e-probe')
    a = ap.parse_args()
    peer = peer_build()
    # the PCI hole of q35 below the IOAPIC, where SeaBIOS places the BARs (no RAM there)
    plugins = {'mmio-log': os.path.join(peer, 'contrib', 'plugins', 'libmmio-log.so') +
               ',lo=0x80000000,hi=0xfec00000,out=' + os.path.join(tempfile.gettempdir(),
                                                                  'hvmmio-mmio-log.txt'),
               'hwprofile': os.path.join(peer, 'contrib', 'plugins', 'libhwprofile.so')}
    tmp = tempfile.mkdtemp(prefix='hvmmio-plugin-peer-')
    print(f'plugin-peer: TCG, {os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}; '
          f'{a.reps} boots per configuration')

    c = per_access(peer, plugins, a.reps, tmp)
    h = hvmmio_probe(a.reps, tmp)
    print('\n1. per access (edu, cycles per access; ratio to the same QEMU without tracing)')
    for k, (rd, wr) in c.items():
        base_r, base_w = statistics.median(c['bare'][0]), statistics.median(c['bare'][1])
        print(f'  stock {k:10s} read {statistics.median(rd):7.0f} '
              f'x{spread([x / base_r for x in rd])}  write {statistics.median(wr):7.0f} '
              f'x{spread([x / base_w for x in wr])}')
    ur, uw = h['untraced_read_cycles'], h['untraced_write_cycles']
    print(f'  hvmmio untraced   read {ur:7.0f}          write {uw:7.0f}')
    for k in ('traced', 'pc', 'insn'):
        print(f'  hvmmio {k:10s} read {ur * h[k]["read"]["ratio"]:7.0f} '
              f'x{h[k]["read"]["ratio"]:.3f} ({h[k]["read"]["min"]:.3f}-{h[k]["read"]["max"]:.3f})'
              f'  write {uw * h[k]["write"]["ratio"]:7.0f} x{h[k]["write"]["ratio"]:.3f} '
              f'({h[k]["write"]["min"]:.3f}-{h[k]["write"]["max"]:.3f})  (paired)')

    s = spin(peer, plugins, a.reps, a.spin, tmp)
    print(f'\n2. whole guest, CPU-bound loop (spin={a.spin}; kcycles; ratio to the same QEMU bare)')
    for k, v in s.items():
        base = s['hvmmio' if k.startswith('hvmmio') else 'stock']
        ratios = [x / y for x, y in zip(v, base)]
        print(f'  {k:16s} {statistics.median(v):9.0f}  x{spread(ratios)}')

    if a.scenario != 'none':
        w = scenario(peer, plugins['mmio-log'], a.scenario, a.reps, tmp)
        print(f'\n3. whole guest, boot to poweroff of {a.scenario} (seconds; ratio to the same '
              'QEMU bare)')
        for k, v in w.items():
            base = w['hvmmio' if k.startswith('hvmmio') else 'stock']
            ratios = [x / y for x, y in zip(v, base)]
            print(f'  {k:16s} {statistics.median(v):7.1f}  x{spread(ratios)}')
    print(f'\n(files in {tmp})')


if __name__ == '__main__':
    main()
