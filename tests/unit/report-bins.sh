#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# hvmmio report's time bins (tools/report-bins.c) on generated traces whose stamps jump back
# and forth: the bin width is the smallest power of two nanoseconds for which the span fits in
# --bins, bins start at multiples of it, and every bin's reads, writes, heatmap counts and last
# values (in file order) are the ones counted here from the trace, in one pass (300 registers)
# and with the second pass (3000 registers: more than one pass keeps bins for). TAP.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../lib/tap.sh"
gen() { # RECORDS SEED REGISTERS
	python3 - "$@" <<'PY'
import random, sys
n, seed, nreg = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
random.seed(seed)
print("VERSION 20070824")
def t(ns):
    us = (ns + 500) // 1000
    return f"{us // 10**6}.{us % 10**6:06d}"
for i in range(n):
    ns = random.randrange(1000, 5_000_000_000) if i % 7 else 1000 + i * 3
    off = 4 * random.randrange(nreg) if i % 3 else 4 * (i % 5)
    print(f"{'RW'[i % 2]} 4 {t(ns)} 1 0x{0xfe000000 + off:x} 0x{random.randrange(1 << 32):x} 0x0 0 "
          f"ns={ns} dev=d0 bar=0 off=0x{off:x}")
    if i % 1000 == 0:
        print(f"IRQ {t(ns)} MSI 1 0xfee00000 0x0 ns={ns} dev=d0")
PY
}
verify() { # PAGE TRACE BINS: the page's DATA against the trace
	python3 - "$@" <<'PY'
import json, re, sys
page, trace, slots = sys.argv[1], sys.argv[2], int(sys.argv[3])
s = open(page).read()
i = s.index('const DATA = ') + len('const DATA = ')
d = json.loads(s[i:s.index('};\n', i) + 1])
ts, acc = [], []
for line in open(trace):
    f = line.split()
    ns = re.search(r' ns=(\d+)', line)
    if ns:
        ts.append(int(ns.group(1)))
    if f[0] in ('R', 'W'):
        acc.append((f[0], int(ns.group(1)), int(re.search(r' off=(0x[0-9a-f]+)', line).group(1), 16), int(f[5], 16)))
lo, hi = min(ts), max(ts)
sh = 0
while (hi >> sh) - (lo >> sh) >= slots:
    sh += 1
w, t0, nb = 1 << sh, (lo >> sh) << sh, (hi >> sh) - (lo >> sh) + 1
assert (d['bin_ns'], d['t0_ns'], len(d['reads'])) == (w, t0, nb), (d['bin_ns'], d['t0_ns'], w, t0)
reads, writes, last, heat = [0] * nb, [0] * nb, {}, {}
for kind, ns, off, value in acc:
    b = (ns - t0) // w
    (reads if kind == 'R' else writes)[b] += 1
    last[off, b] = value
    heat.setdefault(off, [0] * nb)[b] += 1
assert d['reads'] == reads and d['writes'] == writes, 'reads/writes per bin'
for name, row in zip(d['heat_names'], d['heat']):
    assert row == heat[int(name.split('+')[1], 16)], name
for h in d['history']:
    off = int(h['name'].split('+')[1], 16)
    assert h['values'] == [last.get((off, b)) for b in range(nb)], h['name']
assert len(d['heat_names']) == 24 and len(d['history']) == 6
PY
}
echo "1..7"
gen 20000 1 300 >"$tmp/few.txt"
gen 20000 2 3000 >"$tmp/many.txt"
"$HVMMIO" report "$tmp/few.txt" -o "$tmp/few.html" 2>"$tmp/err"
rc=$?
check "report of 300 registers exits 0" '[ $rc = 0 ]'
check "its bins are the trace's (one pass)" "verify '$tmp/few.html' '$tmp/few.txt' 400"
"$HVMMIO" report "$tmp/few.txt" -o "$tmp/few7.html" --bins 7 2>"$tmp/err"
check "with --bins 7 as well" "verify '$tmp/few7.html' '$tmp/few.txt' 7"
"$HVMMIO" report "$tmp/many.txt" -o "$tmp/many.html" 2>"$tmp/err"
check "3000 registers: the bins are the trace's (second pass)" "verify '$tmp/many.html' '$tmp/many.txt' 400"
"$HVMMIO" report - -o "$tmp/stdin.html" <"$tmp/few.txt" 2>"$tmp/err"
check "stdin is read once: the same page" \
	"sed 's|$tmp/few.txt|-|g' '$tmp/few.html' | cmp -s - '$tmp/stdin.html'"
"$HVMMIO" report - -o "$tmp/many-stdin.html" <"$tmp/many.txt" 2>"$tmp/err"
rc=$?
check "about 3000 registers from stdin: refused (exit 1)" '[ $rc = 1 ]'
check "... saying why" "grep -q 'too many registers ([0-9]*) .*give a file' '$tmp/err'"
