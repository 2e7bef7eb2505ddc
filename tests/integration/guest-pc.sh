#!/usr/bin/env bash
# The guest PC of every access, as hvmmio captures it under TCG (unwound in the middle of
# translation blocks), against the guest kernel's own mmiotrace booted with
# mmiotrace.trace_pc=1: the real e1000e driver's accesses must appear in the host trace in
# the same order with the same direction, width, address, value and PC; with
# mmiotrace-insn=on each carries the instruction bytes and their disassembly.
. "$(dirname "$0")/lib.sh"

"$HVMMIO" run --accel tcg -q --append mmiotrace.trace_pc=1 \
	-d e1000e,id=nic0,mmiotrace=on,mmiotrace-file=host.txt,mmiotrace-insn=on \
	-o "$OUT" e1000e-probe || fail "the e1000e-probe scenario failed"
python3 - "$OUT/guest-mmiotrace.txt" "$OUT/host.txt" <<'PY' || fail "PCs"
import sys
def rw(path):
    out = []
    for n, line in enumerate(open(path), 1):
        f = line.split()
        if f and f[0] in ("R", "W"):
            ext = dict(x.split("=", 1) for x in line.split(" asm=")[0].split()[7:] if "=" in x)
            out.append((f[0], int(f[1]), int(f[4], 16), int(f[5], 16), int(f[6], 16), n, ext,
                        "asm=" in line))
    return out
guest, host = rw(sys.argv[1]), rw(sys.argv[2])
assert len(guest) > 1000, f"only {len(guest)} guest records"
assert all(g[4] for g in guest), "the guest log has no PCs: trace_pc=1 did not take"
j = 0
for g in guest:
    while j < len(host) and host[j][:4] != g[:4]:
        j += 1
    assert j < len(host), f"guest line {g[5]} {g[:4]} not found in order in the host trace"
    h = host[j]
    assert h[4] == g[4], f"guest line {g[5]}: PC {g[4]:#x}, host line {h[5]}: PC {h[4]:#x}"
    assert h[6].get("insn") and h[7], f"host line {h[5]} lacks insn=/asm="
    j += 1
print(f"ok: {len(guest)} guest accesses found in order in the host trace, every PC equal, "
      f"each with its instruction")
PY
