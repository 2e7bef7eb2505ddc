"""pc-cache: the PC and instruction QEMU records for a TCG access are cached per host code
address (hw/mmiotrace/tcg-pc.c); the cache must follow code that changes under it.

The probe guest (tests/kvm-probe/) with smc=N makes N reads of edu's ID from one instruction
that it rewrites before every read to one of two encodings (mov (%eax),%eax, bytes 8b 00, or
mov 0x0(%eax),%eax, bytes 8b 40 00), chosen by bit 16 of the LCG x = x * 1103515245 + 12345
(from x = 1, mod 2^32): no period that a cache could fall in step with. TCG gets a 1 MiB translation buffer, so
that the retranslations fill it and every translation is flushed several times while the
guest runs (QEMU's tb_flush trace event counts them). Every recorded read must carry the
PC of that instruction and the bytes and disassembly of the encoding the guest ran.

Environment: HVMMIO_QEMU, PROBE (the ELF), OUT. Prints TAP.
"""
import os
import re
import subprocess
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from qemu_harness import FIRMWARE, QEMU, Checker  # noqa: E402

PROBE = os.environ['PROBE']
OUT = os.environ.get('OUT', '/tmp/pc-cache')
N = 4000
ENCODINGS = [('8b00', 'mov eax, dword ptr [eax]'), ('8b4000', 'mov eax, dword ptr [eax]')]


def main():
    tap = Checker()
    if not os.access(QEMU, os.X_OK):
        return tap.skip_all(f'no QEMU build at {QEMU}')
    os.makedirs(OUT, exist_ok=True)
    trace = os.path.join(OUT, 'trace.txt')
    debug = os.path.join(OUT, 'debug.txt')
    for f in (trace, debug):
        if os.path.exists(f):
            os.unlink(f)
    cmd = [QEMU] + FIRMWARE + [
        '-machine', 'q35', '-accel', 'tcg,tb-size=1', '-m', '64M', '-nodefaults',
        '-display', 'none', '-kernel', PROBE, '-append', f'smc={N}',
        '-chardev', f'file,id=dbg,path={debug}',
        '-device', 'isa-debugcon,iobase=0xe9,chardev=dbg',
        '-device', 'isa-debug-exit,iobase=0xf4,iosize=4',
        '-device', f'edu,addr=05.0,mmiotrace=on,mmiotrace-insn=on,mmiotrace-file={trace}',
        '-trace', 'tb_flush']
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    text = open(debug, errors='replace').read() if os.path.exists(debug) else ''
    tap.ok(p.returncode == 1 and 'RESULT PASS' in text,
           f'the guest ran {N} rewritten reads and read edu\'s ID each time (exit {p.returncode})',
           text[-2000:] + p.stderr[-2000:])
    flushes = len(re.findall(r'\btb_flush\b', p.stderr))
    tap.ok(flushes >= 2, f'every translation was flushed while the guest ran ({flushes} times)',
           p.stderr[-2000:])
    m = re.search(r'smc_code 0x([0-9a-f]+)', text)
    pc = int(m.group(1), 16) if m else -1
    reads = []
    if os.path.exists(trace):
        for line in open(trace):
            f = line.split()
            if f and f[0] == 'R' and int(f[6], 16) == pc:
                insn = re.search(r' insn=([0-9a-f]+)', line)
                asm = re.search(r' asm="([^"]*)"', line)
                reads.append((insn.group(1) if insn else None, asm.group(1) if asm else None))
    tap.equal(len(reads), N, 'reads recorded at the rewritten instruction\'s PC')
    want, x = [], 1
    for _ in range(N):
        x = (x * 1103515245 + 12345) & 0xffffffff
        want.append(ENCODINGS[(x >> 16) & 1])
    wrong = [(i, r, w) for i, (r, w) in enumerate(zip(reads, want)) if r != w]
    tap.ok(not wrong, 'each read carries the encoding the guest ran at that time',
           '\n'.join(f'read {i}: got {r}, want {w}' for i, r, w in wrong[:10]) +
           f'\n{len(wrong)} wrong')
    return tap.done()


if __name__ == '__main__':
    sys.exit(main())
