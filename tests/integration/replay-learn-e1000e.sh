#!/usr/bin/env bash
# hvmmio replay --learn on the two e1000e-probe recordings (tests/fixtures/learn-e1000e-probe-
# {1,2}.trace.gz), then the learned recording replayed under the same scenario
# (docs/replay-learn.md): the replay device tolerates the blocks that trade places, the
# accesses made in one recording only (opt=1) and the watchdog rounds whose count varies, so
# the e1000e driver's accesses make no divergence. The strict replay of the first recording
# alone diverges (checked first, so that the test shows what the annotations buy).
#
# What a replay of these recordings cannot make: they hold no DMA, so a transmitted frame is
# never completed and the driver sends no second one (its byte queue limit waits for the
# first); and the replay's guest runs for less time after link-up than the recorded ones did
# (about 2.5 s against 8 and 13), so it may skip a receive-mode update and watchdog rounds
# both recordings made. Those records stay unmade and the replay's verdict is FAIL ("required
# records not made"): the test checks the divergences (none) and prints the verdict.
. "$(dirname "$0")/lib.sh"
fx=$HVMMIO_TOP/tests/fixtures

"$HVMMIO" replay --learn "$fx/learn-e1000e-probe-1.trace.gz" "$fx/learn-e1000e-probe-2.trace.gz" \
	-o "$OUT/annotated.trace" >"$OUT/learn.txt" || { cat "$OUT/learn.txt"; fail "--learn"; }
grep -q '^  opt=1  .* 104 of the others. inserted' "$OUT/learn.txt" ||
	{ cat "$OUT/learn.txt"; fail "--learn: the other recording's 104 accesses are not inserted"; }
pass "learned: $(grep -c ' opt=1$' "$OUT/annotated.trace") accesses opt=1, $(grep -c ' match=' "$OUT/annotated.trace") match="

# the first recording alone, strict: a divergence (the ring addresses and the RSS key differ)
if "$HVMMIO" replay --accel tcg -q "$fx/learn-e1000e-probe-1.trace.gz" --scenario e1000e-probe \
	-o "$OUT/strict" >"$OUT/strict.txt" 2>&1; then
	fail "the unannotated recording replayed without failure"
fi
grep -q 'first divergence at record' "$OUT/strict.txt" ||
	{ cat "$OUT/strict.txt"; fail "the unannotated recording: no divergence reported"; }
pass "the unannotated recording diverges: $(grep -m1 -A1 'first divergence' "$OUT/strict.txt" |
	tail -1 | tr -s ' ')"

# the learned recording: no divergence, twice (the guest's timing differs from run to run).
# With reorder-window 1024: the replayed guest may write the ITR register a watchdog round
# earlier than both recordings did (an interrupt taken as two, not one), about 500 records
# ahead; the default window (32) reports that as a divergence.
for try in 1 2; do
	dir=$OUT/replay$try
	"$HVMMIO" replay --accel tcg -q "$OUT/annotated.trace" --scenario e1000e-probe \
		--reorder-window 1024 -o "$dir" >"$dir.txt" 2>&1 || true
	grep -q ', 0 divergences,' "$dir.txt" || { cat "$dir.txt"; fail "replay $try: divergences"; }
	grep -q '^  tolerated (order): ' "$dir.txt" || { cat "$dir.txt"; fail "replay $try: no counts"; }
	echo "# replay $try: $(grep -E '^  (consumed|tolerated \(order\))' "$dir.txt" | tr -s ' ' |
		tr '\n' ' ')$(grep -o 'next expected.*' "$dir.txt" || true) $(grep '^RESULT' "$dir.txt")"
	pass "replay $try of the learned recording: 0 divergences"
done
