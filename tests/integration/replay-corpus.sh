#!/usr/bin/env bash
# The replay regression corpus (tests/fixtures/replay-*.trace.gz, made by
# tests/fixtures/make-fixtures.sh): each recording replays against the same driver and
# scenario in strict mode with 0 divergences; the e1000e driver probing the replayed
# e1000e reports the recorded MAC address; a recording with one written value altered
# reports exactly that record as the first divergence and fails, and with --regs names the
# registers of the report's accesses as hvmmio decode names the recorded one.
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

# --regs: the report of that run names the registers of its accesses as hvmmio decode does
if "$HVMMIO" replay --accel tcg -q "$OUT/altered.trace" --scenario e1000e-mac \
	--regs "$HVMMIO_TOP/regmaps/e1000e.yaml" -o "$OUT/altered-regs" >"$OUT/altered-regs.txt" 2>&1; then
	fail "--regs: the altered recording replayed without failure"
fi
re='W 4 bar=0 off=0x([0-9a-f]+) 0x([0-9a-f]+)  ([A-Z][A-Z0-9_]*(\[[0-9]+\])?) = 0x[0-9a-f]{8}'
exp=$(grep -E "^    expected $re" "$OUT/altered-regs.txt") ||
	{ cat "$OUT/altered-regs.txt"; fail "--regs: the expected write is not named"; }
got=$(grep -E "^    got      $re" "$OUT/altered-regs.txt") ||
	{ cat "$OUT/altered-regs.txt"; fail "--regs: the driver's write is not named"; }
grep -E "^    > #[0-9]+ $OUT/altered.trace:$line $re" "$OUT/altered-regs.txt" >/dev/null ||
	{ cat "$OUT/altered-regs.txt"; fail "--regs: the record at the divergence is not named"; }
# the recorded access (line $line of the recording) as hvmmio decode names it
rec=$(sed -n "${line}p" "$OUT/altered.trace")
printf 'VERSION 20070824\n%s\n%s\n' "$(grep -m1 '^PCIDEV' "$OUT/altered.trace")" "$rec" \
	>"$OUT/one.trace"
want=$("$HVMMIO" decode --accesses --regs "$HVMMIO_TOP/regmaps/e1000e.yaml" "$OUT/one.trace" |
	sed -E 's/^W 4 [0-9.]+ ([^ ]+ )?BAR[0-9]+\+0x[0-9a-f]+ //; s/  pc=0x[0-9a-f]+$//')
case "$exp" in
*"  $want") ;;
*) fail "--regs: the expected write reads '$exp', decode names the recorded one '$want'" ;;
esac
[ "${exp#*off=}" != "${got#*off=}" ] || fail "--regs: expected and got are the same"
pass "--regs names the divergence's registers as decode does: ${want%% *}"
