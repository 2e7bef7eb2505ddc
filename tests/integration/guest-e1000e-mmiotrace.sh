#!/usr/bin/env bash
# The guest's own mmiotrace, brought back from a TCG guest in which the real e1000e driver
# probes an emulated e1000e and brings the link up: a VERSION header, the e1000e's PCIDEV
# line, MAP records covering its BARs and more than 1000 R/W records inside them.
. "$(dirname "$0")/lib.sh"

"$HVMMIO" run --accel tcg -q -d e1000e -o "$OUT" e1000e-probe
log=$OUT/guest-mmiotrace.txt
[ -s "$log" ] || fail "no guest mmiotrace log came back"

head -1 "$log" | grep -qx 'VERSION 20070824' || fail "first line is not 'VERSION 20070824'"
pass "VERSION header"

# PCIDEV bbdd vvvvdddd irq res0..res6 size0..size6 [driver]; e1000e is 8086:10d3
gawk -v want=808610d3 '
	BEGIN { n = m = k = 0 }
	$1 == "PCIDEV" && $3 == want { found = 1
		for (i = 0; i < 6; i++) {
			start = strtonum("0x" $(5 + i)); size = strtonum("0x" $(12 + i))
			if (size && !and(start, 1)) { lo[n] = start - and(start, 0xf); hi[n] = lo[n] + size; n++ }
		}
	}
	$1 == "MAP" { mlo[m] = strtonum($4); mhi[m] = mlo[m] + strtonum($6); m++ }
	$1 == "R" || $1 == "W" { addr[k++] = strtonum($5) }
	END {
		if (!found) { print "FAIL: no PCIDEV line for the e1000e (808610d3)"; exit 1 }
		if (n < 2) { print "FAIL: the e1000e PCIDEV line shows " n " memory BARs, expected >= 2"; exit 1 }
		covered = 0
		for (i = 0; i < m; i++) for (j = 0; j < n; j++)
			if (mlo[i] >= lo[j] && mhi[i] <= hi[j]) { covered++; break }
		if (covered < 2) { print "FAIL: MAP records cover " covered " e1000e BARs, expected >= 2"; exit 1 }
		inside = 0
		for (i = 0; i < k; i++) for (j = 0; j < n; j++)
			if (addr[i] >= lo[j] && addr[i] < hi[j]) { inside++; break }
		if (inside <= 1000) { print "FAIL: only " inside " R/W records inside the e1000e BARs"; exit 1 }
		printf "ok: PCIDEV with %d memory BARs, %d MAPs inside them, %d of %d R/W records inside\n", n, covered, inside, k
	}' "$log" || fail "trace content"
[ "$(cat "$log.overrun")" = 0 ] || fail "the guest's trace buffer overran"
grep -q '^MARK .*hvmmio: e1000e up' "$log" || fail "the end marker is missing"
pass "markers present, no overrun"
