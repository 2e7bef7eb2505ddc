#!/usr/bin/env bash
# The replay regression corpus (tests/fixtures/replay-*.trace.gz, made by
# tests/fixtures/make-fixtures.sh): each recording replays against the same driver and
# scenario in strict mode with 0 divergences; the e1000e driver probing the replayed
# e1000e reports the recorded MAC address; a recording with one written value altered
# reports exactly that record as the first divergence and fails.
. "$(dirname "$0")/lib.sh"
fx=$HVMMIO_TOP/tests/fixtures

"$HVMMIO" replay --accel tcg -q "$fx/replay-e1000e-mac.trace.gz" --scenario e1000e-mac \
	-o "$OUT/e1000e" >"$OUT/e1000e.txt" || { cat "$OUT/e1000e.txt"; fail "e1000e replay"; }
grep -q '^RESULT: PASS' "$OUT/e1000e.txt" || fail "e1000e replay did not pass"
grep -q ' 0 divergences' "$OUT/e1000e.txt" || fail "e1000e replay had divergences"
cmp -s "$OUT/e1000e/mac.txt" "$fx/replay-e1000e-mac.mac" ||
	fail "the replayed e1000e gave MAC $(cat "$OUT/e1000e/mac.txt"), recorded $(cat "$fx/replay-e1000e-mac.mac")"
pass "e1000e: strict replay, 0 divergences, the recorded MAC $(cat "$fx/replay-e1000e-mac.mac")"

"$HVMMIO" replay --accel tcg -q "$fx/replay-testdrv.trace.gz" --scenario testdrv \
	-o "$OUT/testdrv" >"$OUT/testdrv.txt" || { cat "$OUT/testdrv.txt"; fail "testdrv replay"; }
grep -q ' 0 divergences' "$OUT/testdrv.txt" || fail "testdrv replay had divergences"
grep -qx 'result 0' "$OUT/testdrv/verdict" || fail "the test driver failed on the replayed device"
pass "test device: strict replay, 0 divergences, the guest test driver passes"

# one written value altered: that record is the first divergence
zcat "$fx/replay-e1000e-mac.trace.gz" >"$OUT/altered.trace"
line=$(grep -n '^W 4 .*vcpu=0' "$OUT/altered.trace" | sed -n '40p' | cut -d: -f1)
gawk -v n="$line" 'NR == n { $6 = sprintf("0x%x", xor(strtonum($6), 0x10)) } { print }' \
	"$OUT/altered.trace" >"$OUT/altered.tmp" && mv "$OUT/altered.tmp" "$OUT/altered.trace"
if "$HVMMIO" replay --accel tcg -q "$OUT/altered.trace" --scenario e1000e-mac \
	-o "$OUT/altered" >"$OUT/altered.txt" 2>&1; then
	fail "a recording with a value altered at line $line replayed without failure"
fi
grep -q "first divergence at record [0-9]* ($OUT/altered.trace:$line)" "$OUT/altered.txt" ||
	{ cat "$OUT/altered.txt"; fail "the first divergence is not the altered line $line"; }
pass "a value altered at line $line is the first divergence, and the replay fails"
