#!/usr/bin/env bash
# Both tracers on one guest run (the demo scenario): the guest test driver on the vfio-user
# test device and the real e1000e driver on an emulated e1000e, each traced by hvmmio into
# one host file while the guest kernel's own mmiotrace logs the same accesses. hvmmio
# compare must match 100% of the guest's R/W records and every UNKNOWN record, with nothing
# unexplained; and it must fail on a copy of the guest log with one value altered.
. "$(dirname "$0")/lib.sh"

props=mmiotrace=on,mmiotrace-file=host.txt,mmiotrace-pc=on
"$HVMMIO" run --accel tcg -q --testdev="$props" -d "e1000e,id=nic0,$props" -o "$OUT" demo ||
	fail "the demo scenario failed"
grep -q '^result 0 ' "$OUT/verdict" || fail "the guest test driver reported failures"

"$HVMMIO" compare --json "$OUT/guest-mmiotrace.txt" "$OUT/host.txt" >"$OUT/compare.json" ||
	fail "hvmmio compare found discrepancies (see $OUT/compare.json)"
# the figures, independently of compare's verdict
guest_rw=$(grep -c '^[RW] ' "$OUT/guest-mmiotrace.txt")
guest_unknown=$(grep -c '^UNKNOWN ' "$OUT/guest-mmiotrace.txt")
python3 - "$OUT/compare.json" "$guest_rw" "$guest_unknown" <<'PY' || fail "compare's figures"
import json, sys
j = json.load(open(sys.argv[1]))
rw, unk = int(sys.argv[2]), int(sys.argv[3])
g = j["guest"]
assert g["rw"] == rw and j["guest_rw_matched"] == rw, f"guest R/W: {rw} in the log, {j}"
assert g["unknown"] == unk and j["guest_unknown_matched"] == unk and unk > 0, f"UNKNOWN {j}"
assert j["unexplained"] == 0 and j["result"] == "PASS", f"unexplained {j['unexplained']}"
print(f"ok: {rw} guest R/W and {unk} UNKNOWN records matched, 0 unexplained")
PY
# both devices are in the host trace, and the test device's string accesses too
grep -q 'dev=testdev' "$OUT/host.txt" && grep -q 'dev=nic0' "$OUT/host.txt" ||
	fail "the host trace lacks one of the two devices"
pass "both devices traced"

# a planted fault: one value altered in the guest log must fail and be named
line=$(grep -n '^R 4 ' "$OUT/guest-mmiotrace.txt" | sed -n '100p' | cut -d: -f1)
awk -v n="$line" 'NR == n { $6 = sprintf("0x%x", strtonum($6) + 1) } { print }' \
	"$OUT/guest-mmiotrace.txt" >"$OUT/guest-altered.txt"
if "$HVMMIO" compare "$OUT/guest-altered.txt" "$OUT/host.txt" >"$OUT/compare-altered.txt"; then
	fail "compare passed a guest log with a value altered at line $line"
fi
grep -q "guest-altered.txt:$line" "$OUT/compare-altered.txt" ||
	fail "compare did not name the altered record (line $line)"
pass "an altered value at line $line is caught and named"
