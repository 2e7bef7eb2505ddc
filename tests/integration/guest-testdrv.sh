#!/usr/bin/env bash
# The guest driver hvmmio_testdrv against hvmmio-testdev (docs/testdev.md) in a TCG guest
# with the guest's own mmiotrace on: `hvmmio run --testdev testdrv` passes (every driver check
# passed, the server exited cleanly), and the guest's log shows the device as the contract
# says: its PCIDEV line, MAPs of BAR0 and BAR2, R/W records of widths 1, 2, 4 and 8 inside
# them with the documented values, UNKNOWN records from memcpy_toio/fromio, UNMAPs after
# rmmod, and the driver's phase markers in order with accesses between them. The driver is
# unloaded before the guest tracer stops, yet its symbols came back (saved at its load) and
# name the PCs of the host's trace of the device.
. "$(dirname "$0")/lib.sh"

# (the host traces the device too, with PCs, for the symbols' check at the end)
"$HVMMIO" run --accel tcg -q --testdev=mmiotrace=on,mmiotrace-file=host.txt,mmiotrace-pc=on \
	-o "$OUT" testdrv
log=$OUT/guest-mmiotrace.txt
[ -s "$log" ] || fail "no guest mmiotrace log came back"
grep -qx 'result 0' "$OUT/verdict" || fail "driver verdict: $(cat "$OUT/verdict")"
grep -q 'hvmmio_testdrv: PASS' "$OUT/testdrv.log" || fail "no PASS line in testdrv.log"
pass "hvmmio run --testdev testdrv passed; the driver's checks passed"

gawk '
	function fail(msg) { print "FAIL: " msg; bad = 1; exit 1 }
	# PCIDEV bbdd vvvvdddd irq res0..res6 size0..size6: BAR0 is res0, BAR2 res2
	$1 == "PCIDEV" && $3 == "12344d4d" {
		bar0 = strtonum("0x" $5); bar2 = strtonum("0x" $7)
		size0 = strtonum("0x" $12); size2 = strtonum("0x" $14)
	}
	$1 == "MAP" { id = $3; phys = strtonum($4); len = strtonum($6)
		if (phys == bar0 && len == size0) map0 = id
		if (phys == bar2 && len == size2) map2 = id
	}
	$1 == "UNMAP" { unmapped[$3] = 1 }
	$1 == "MARK" && $3 == "hvmmio_testdrv:" && $4 == "phase" {
		if ($5 != nphase) fail("phase marker " $5 " where phase " nphase " was expected")
		nphase++; cur = $5; name[cur] = $6
	}
	$1 == "R" || $1 == "W" {
		w = $2; a = strtonum($5); v = strtonum($6)
		if (a >= bar0 && a < bar0 + size0) { off = a - bar0; b = 0 }
		else if (a >= bar2 && a < bar2 + size2) { off = a - bar2; b = 2 }
		else next
		widths[$1 w]++; inphase[cur]++; nrw++
		if (b == 0 && $1 == "R" && w == 4 && off == 0 && v != 0x4d4d0001)
			fail(sprintf("ID read 0x%x", v))
		if (b == 0 && $1 == "R" && w == 8 && off == 0x10 && !r64++ && v != 0x0123456789abcdef)
			fail(sprintf("first REG64 read 0x%x, expected the reset value", v))
		if (b == 2 && $1 == "R" && w == 4 && off == 0 && !b2++ && v != 0xb0000000)
			fail(sprintf("BAR2 offset 0 read 0x%x", v))
		# phase 3: COUNTER reads count up from 0 after the reset
		if (name[cur] == "counter" && b == 0 && off == 0x20 && $1 == "R" && ncount < 16) {
			if (v != ncount) fail(sprintf("COUNTER read %d returned %d", ncount, v))
			ncount++
		}
		# phase 4: the 3rd STATUS poll after the doorbell shows DONE
		if (name[cur] == "polling" && b == 0 && off == 0x28 && $1 == "R") status[++npoll] = v
	}
	$1 == "UNKNOWN" { a = strtonum($4); if (a >= bar0 + 0x40 && a < bar0 + 0x80) unknown++ }
	END {
		if (bad) exit 1
		if (!bar0 || !bar2) { print "FAIL: no PCIDEV line with BAR0 and BAR2 for 12344d4d"; exit 1 }
		if (size0 != 0x1000 || size2 != 0x10000) { printf "FAIL: BAR sizes 0x%x 0x%x\n", size0, size2; exit 1 }
		if (!map0 || !map2) { print "FAIL: no MAP record for BAR0 and BAR2"; exit 1 }
		if (!unmapped[map0] || !unmapped[map2]) { print "FAIL: no UNMAP of both BARs after rmmod"; exit 1 }
		split("R1 R2 R4 R8 W1 W2 W4 W8", need, " ")
		for (i in need) if (!widths[need[i]]) { print "FAIL: no " need[i] " record inside the BARs"; exit 1 }
		if (nphase != 8) { print "FAIL: " nphase " phase markers, expected 0-7"; exit 1 }
		for (p = 1; p < 8; p++) if (!inphase[p] && name[p] != "strings") { print "FAIL: no R/W records in phase " p " (" name[p] ")"; exit 1 }
		if (ncount != 16) { print "FAIL: " ncount " COUNTER reads in phase 3, expected 16"; exit 1 }
		if (npoll != 4 || status[1] != 1 || status[2] != 2 || status[3] != 2 || status[4] != 1) {
			print "FAIL: STATUS reads in phase 4 are not DONE, BUSY, BUSY, DONE"; exit 1 }
		if (unknown < 32) { print "FAIL: " unknown " UNKNOWN records in SCRATCH, expected >= 32 (memcpy_toio/fromio)"; exit 1 }
		printf "ok: PCIDEV, MAP/UNMAP of both BARs, %d R/W records of widths 1-8, %d UNKNOWN, markers for phases 0-7\n", nrw, unknown
	}' "$log" || fail "guest mmiotrace content ($log)"
grep -q '^MARK .*hvmmio_testdrv: done PASS' "$log" || fail "no 'done PASS' marker"
[ "$(cat "$log.overrun")" = 0 ] || fail "the guest's trace buffer overran"
pass "guest mmiotrace shows the documented device behaviour; no overrun"

# module symbols saved when the module loaded (kernel-guest/scenarios/lib.sh, docs/regmap.md)
syms=$OUT/kallsyms-modules.txt.gz
zcat "$syms" | grep -qE '^# hvmmio-module hvmmio_testdrv 0x[0-9a-f]+ [0-9]+ loaded=[0-9]+ unloaded=[0-9]+$' ||
	fail "no unloaded hvmmio_testdrv instance in $syms"
"$HVMMIO" symbolize "$OUT/host.txt" --symbols "$syms" -o "$OUT/host-sym.txt" 2>"$OUT/symbolize.err" ||
	fail "hvmmio symbolize: $(cat "$OUT/symbolize.err")"
named=$(grep -cE '^[RW] .* sym="[a-z0-9_]+\+0x[0-9a-f]+ \[hvmmio_testdrv\]"' "$OUT/host-sym.txt" || true)
[ "$named" -ge 100 ] || fail "$named host records named in hvmmio_testdrv, expected >= 100"
pass "the unloaded driver's symbols name $named of the host trace's accesses"
