#!/usr/bin/env bash
# A 2-vCPU TCG guest (MTTCG) whose two CPUs hammer the test device and an emulated e1000e at
# once (the guest driver's seq=smp: kernel-guest/modules/hvmmio_testdrv, scenario smp), with
# the test device keeping its own log of what it served (hvmmio-testdev --witness).
#
# Boot 1 (lossless, both devices in one trace file with a small ring, so the vCPUs contend
# for it and wait for room):
#  - the driver's checks pass (per-CPU read-backs; COUNTER values 0..2N-1, each once);
#  - `hvmmio witness`: the host trace and the device's log hold the same accesses with the
#    same values, each vCPU's records in the device's order, the file's order the device's;
#  - from the trace alone: every tagged value was written by the vCPU its tag names (vcpu=
#    is right), each vCPU's tagged writes come in its program order (iterations 0, 1, 2...),
#    COUNTER reads return 0, 1, 2... in file order (the device's order), each vCPU's record
#    counts are the driver's own counts, nothing lost; `hvmmio stat` shows the same counts.
# Boot 2 (drop mode, e1000e alone in a 16-record ring): records + lost events = the accesses
# the driver made, exactly; the test device's lossless trace still agrees with its witness.
# Boot 3 (the writer preempted in its merge, between one lane's head and the next's): the
# file is still in the device's order.
. "$(dirname "$0")/lib.sh"

N=1000 # iterations per CPU and phase
"$HVMMIO" run --accel tcg -q --smp 2 --testdev=mmiotrace=on,mmiotrace-file=host.txt,mmiotrace-ring=64 \
	--testdev-witness -d e1000e,id=nic0,mmiotrace=on,mmiotrace-file=host.txt,mmiotrace-ring=64 \
	-o "$OUT/lossless" --args "$N" smp || fail "hvmmio run --smp 2 smp failed"
d=$OUT/lossless
grep -qx 'result 0' "$d/verdict" || fail "driver verdict: $(cat "$d/verdict")"
grep -qx 'smp_cpus 2' "$d/verdict" || fail "the driver did not run on 2 CPUs: $(cat "$d/verdict")"
pass "2 vCPUs hammered the test device and the e1000e; the driver's checks passed"

"$HVMMIO" witness "$d/host.txt" "$d/witness.log" >"$d/witness.txt" ||
	{ cat "$d/witness.txt"; fail "hvmmio witness: the host trace disagrees with the device's log"; }
grep -q '^global order: 0 records out of' "$d/witness.txt" || fail "witness: global order differs"
served=$(awk '$3 == "R" || $3 == "W"' "$d/witness.log" | wc -l)
grep -q "^RESULT: the host trace agrees .* ($served accesses)" "$d/witness.txt" ||
	fail "witness did not match all $served accesses: $(tail -n 1 "$d/witness.txt")"
pass "host trace = witness: $served accesses, same values, per-vCPU and global order"
# the file is in stamp order (docs/trace-format.md): timestamps never go back, across vCPUs
ts_back() {
	awk '{ if ($1 == "R" || $1 == "W") t = $3 + 0
		else if ($1 ~ /^(IRQ|MAP|UNMAP|MARK|PCICFG)$/) t = $2 + 0
		else next
		if (t < prev) b++; prev = t } END { print b + 0 }' "$1"
}
back=$(ts_back "$d/host.txt")
[ "$back" = 0 ] || fail "$back records with a timestamp before the previous record's"
pass "timestamps nondecreasing in file order across the vCPUs"

# The driver's per-CPU counts (CPU k's thread is bound to CPU k: vCPU k under q35)
acc=$(awk '$1 == "smp_accesses" {print $2}' "$d/verdict")
e1k=$(awk '$1 == "smp_e1000e_accesses" {print $2}' "$d/verdict")
gawk -v n="$N" -v acc="$acc" -v e1k="$e1k" '
	function fail(msg) { print "FAIL: " msg; bad = 1; exit 1 }
	function field(k,   i) { for (i = 9; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	/^LOST|Lost [0-9]+ events/ { fail("lost events: " $0) }
	$1 != "R" && $1 != "W" { next }
	{
		dev = field("dev"); vcpu = field("vcpu"); off = strtonum(field("off")); v = strtonum($6)
		if (vcpu == "" || vcpu == "none") next
		if (dev == "testdev" && off == 0x38 && $1 == "W") { phase = and(v, 0xff); next }  # MARKER
		if (phase < 1 || phase > 4) next
		cnt[dev, vcpu]++
		tag = -1
		if (dev == "testdev" && $1 == "W" && (off == 0x8 || (off >= 0x800 && off < 0x800 + 16 * 2 && off % 16 == 0)))
			tag = v
		if (dev == "testdev" && $1 == "W" && off >= 0x808 && off % 16 == 8)
			tag = rshift(v, 32)
		if (dev == "nic0" && $1 == "W")
			tag = rshift(v, 4)
		if (tag >= 0) {
			k = rshift(tag, 24); i = and(tag, 0xffffff)
			if (dev == "nic0") k = and(k, 0xf)
			if (k != vcpu) fail(sprintf("line %d: vcpu=%s wrote the tag of CPU %d", NR, vcpu, k))
			key = dev SUBSEP off SUBSEP vcpu
			if ((key in last) && i != last[key] + 1)
				fail(sprintf("line %d: vcpu=%s iteration %d after %d at %s 0x%x: not program order", NR, vcpu, i, last[key], dev, off))
			if (!(key in last) && i != 0) fail(sprintf("line %d: first iteration %d", NR, i))
			last[key] = i
		}
		if (dev == "testdev" && $1 == "R" && off == 0x20) {
			if (v != ncount) fail(sprintf("line %d: COUNTER read %d returned %d: the file is not in the device order", NR, ncount, v))
			ncount++
		}
	}
	END {
		if (bad) exit 1
		if (ncount != 2 * n) { printf "FAIL: %d COUNTER reads, expected %d\n", ncount, 2 * n; exit 1 }
		split(acc, a, ","); split(e1k, e, ",")
		for (k = 0; k < 2; k++) {
			if (cnt["testdev", k] != a[k + 1]) { printf "FAIL: vcpu=%d: %d test device records, the driver made %d accesses\n", k, cnt["testdev", k], a[k + 1]; exit 1 }
			if (cnt["nic0", k] != e[k + 1]) { printf "FAIL: vcpu=%d: %d e1000e records, the driver made %d accesses\n", k, cnt["nic0", k], e[k + 1]; exit 1 }
		}
		printf "ok: per vCPU %s test device and %s e1000e records, tags by the right vCPU in program order, COUNTER 0..%d in file order\n", acc, e1k, ncount - 1
	}' "$d/host.txt" || fail "host trace content ($d/host.txt)"

# timestamps never decrease in file order (docs/trace-format.md: order and time across vCPUs)
gawk '{ for (i = 1; i <= NF; i++) if ($i ~ /^ns=/) { ns = substr($i, 4) + 0
		if (ns < last) { printf "FAIL: line %d: ns=%d after ns=%d\n", NR, ns, last; exit 1 }
		last = ns } }' "$d/host.txt" || fail "host trace timestamps go back in time"
pass "timestamps are nondecreasing in file order"

# hvmmio stat's per-vCPU section counts every R/W record of each vCPU
"$HVMMIO" stat "$d/host.txt" >"$d/stat.txt" || fail "hvmmio stat failed"
for k in 0 1; do
	want=$(gawk -v k="$k" '($1 == "R" || $1 == "W") && / vcpu=/ { if ($0 ~ " vcpu=" k " ") n++ } END { print n + 0 }' "$d/host.txt")
	got=$(awk -v k="$k" '$1 == "vcpu" && $2 == k { print $4 + $6 }' "$d/stat.txt")
	[ "$got" = "$want" ] || fail "hvmmio stat: vcpu $k has $got R/W records, the trace $want"
done
grep -q '^lost events: none' "$d/stat.txt" || fail "hvmmio stat reports lost events"
pass "hvmmio stat: per-vCPU counts equal the trace's; no lost events"

# Boot 2: drop mode with a 16-record ring for the e1000e
"$HVMMIO" run --accel tcg -q --smp 2 --testdev=mmiotrace=on,mmiotrace-file=host.txt \
	--testdev-witness -d e1000e,id=nic0,mmiotrace=on,mmiotrace-file=drop.txt,mmiotrace-mode=drop,mmiotrace-ring=16 \
	-o "$OUT/drop" --args "$N" smp || fail "hvmmio run --smp 2 smp (drop mode) failed"
d=$OUT/drop
grep -qx 'result 0' "$d/verdict" || fail "driver verdict (drop mode): $(cat "$d/verdict")"
"$HVMMIO" witness "$d/host.txt" "$d/witness.log" >"$d/witness.txt" ||
	{ cat "$d/witness.txt"; fail "hvmmio witness (drop-mode boot): the test device's trace disagrees"; }
made=$(awk '$1 == "smp_e1000e_accesses" { split($2, e, ","); print e[1] + e[2] }' "$d/verdict")
# Losses before the driver's first access are of boot-time MAP/UNMAP records (a burst into
# the 16-record ring); the first access finds the ring empty (the writer drained it seconds
# before), so every later loss is of the driver's accesses, and nothing but them follows.
gawk -v made="$made" '
	rec && $1 == "LOST" { lost += $3 }
	rec && /^MARK 0\.000000 Lost [0-9]+ events\.$/ { lost += $4 }
	($1 == "R" || $1 == "W") && / dev=nic0 / { rec++ }
	END {
		if (rec + lost != made) { printf "FAIL: %d records + %d lost = %d, the driver made %d e1000e accesses\n", rec, lost, rec + lost, made; exit 1 }
		printf "ok: drop mode: %d records + %d lost = %d accesses made\n", rec, lost, made
	}' "$d/drop.txt" || fail "drop-mode accounting ($d/drop.txt)"
pass "drop mode accounts for every access exactly; the lossless test device trace = witness"

# Boot 3: HVMMIO_TEST_MERGE_DELAY_US makes the writer sleep between reading one lane's head
# and the next's, as if preempted there, so each drain sees vCPU 1's lane later than vCPU
# 0's. The merge must hold back what another lane may still precede (file-writer.c:
# writer_drain); writing whatever it has seen puts records out of order here.
HVMMIO_TEST_MERGE_DELAY_US=300 "$HVMMIO" run --accel tcg -q --smp 2 \
	--testdev=mmiotrace=on,mmiotrace-file=host.txt --testdev-witness \
	-o "$OUT/preempted" --args "$N" smp || fail "hvmmio run --smp 2 smp (merge delayed) failed"
d=$OUT/preempted
grep -qx 'result 0' "$d/verdict" || fail "driver verdict (merge delayed): $(cat "$d/verdict")"
back=$(ts_back "$d/host.txt")
[ "$back" = 0 ] || fail "merge delayed: $back records with a timestamp before the previous record's"
"$HVMMIO" witness "$d/host.txt" "$d/witness.log" >"$d/witness.txt" ||
	{ cat "$d/witness.txt"; fail "hvmmio witness (merge delayed): the host trace disagrees"; }
grep -q '^global order: 0 records out of' "$d/witness.txt" ||
	fail "witness (merge delayed): global order differs: $(grep '^global order' "$d/witness.txt")"
pass "the writer delayed between lanes: the file is still in stamp and device order ($(grep -c '^[RW] ' "$d/host.txt") records)"
