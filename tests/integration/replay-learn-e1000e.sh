#!/usr/bin/env bash
# hvmmio replay --learn on e1000e-probe (docs/replay-learn.md): six recordings of the scenario
# with --args noipv6,down (no IPv6 frames sent at random times; eth0 brought down after the
# last step, so no watchdog round or interrupt falls in the guest's shutdown), learned into
# tests/fixtures/replay-e1000e-probe.trace.gz (tests/fixtures/make-fixtures.sh), replayed
# under the same scenario with the default reorder window: 0 divergences and PASS (every
# required record made), twice. The strict replay of the first recording alone diverges
# (checked first, so that the test shows what the annotations buy), and --learn on the first
# two recordings (tests/fixtures/learn-e1000e-probe-{1,2}.trace.gz) runs as documented.
. "$(dirname "$0")/lib.sh"
fx=$HVMMIO_TOP/tests/fixtures
args=noipv6,down

"$HVMMIO" replay --learn "$fx/learn-e1000e-probe-1.trace.gz" "$fx/learn-e1000e-probe-2.trace.gz" \
	-o "$OUT/annotated.trace" >"$OUT/learn.txt" || { cat "$OUT/learn.txt"; fail "--learn"; }
grep -q '^  match=  *12 writes' "$OUT/learn.txt" ||
	{ cat "$OUT/learn.txt"; fail "--learn: not the 12 writes of the ring addresses and the RSS key"; }
pass "learned from two: $(grep -c ' opt=1$' "$OUT/annotated.trace") accesses opt=1, $(grep -c ' match=' "$OUT/annotated.trace") match="

# the first recording alone, strict: a divergence (the ring addresses and the RSS key differ)
if "$HVMMIO" replay --accel tcg -q "$fx/learn-e1000e-probe-1.trace.gz" --scenario e1000e-probe \
	--args "$args" -o "$OUT/strict" >"$OUT/strict.txt" 2>&1; then
	fail "the unannotated recording replayed without failure"
fi
grep -q 'first divergence at record' "$OUT/strict.txt" ||
	{ cat "$OUT/strict.txt"; fail "the unannotated recording: no divergence reported"; }
pass "the unannotated recording diverges: $(grep -m1 -A1 'first divergence' "$OUT/strict.txt" |
	tail -1 | tr -s ' ')"

# the six learned: no divergence and PASS with the default window, twice (the guest's timing
# differs from run to run)
for try in 1 2; do
	dir=$OUT/replay$try
	"$HVMMIO" replay --accel tcg -q "$fx/replay-e1000e-probe.trace.gz" --scenario e1000e-probe \
		--args "$args" -o "$dir" >"$dir.txt" 2>&1 || true
	echo "# replay $try: $(grep -E '^  (consumed|tolerated \(order\))' "$dir.txt" | tr -s ' ' |
		tr '\n' ' ')$(grep -o 'next expected.*' "$dir.txt" || true) $(grep '^RESULT' "$dir.txt")"
	grep -q ', 0 divergences,' "$dir.txt" || { cat "$dir.txt"; fail "replay $try: divergences"; }
	grep -q '(reorder-window 32)' "$dir.txt" || { cat "$dir.txt"; fail "replay $try: not the default window"; }
	grep -q '^RESULT: PASS' "$dir.txt" || { cat "$dir.txt"; fail "replay $try: not PASS"; }
	pass "replay $try of the learned recording: 0 divergences, PASS"
done
