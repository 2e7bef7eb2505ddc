#!/usr/bin/env bash
# hvmmio replay --fuzz (docs/replay-fuzz.md) finds the bug planted in the test-only guest
# driver hvmmio_fuzztarget (COUNTER's value used unchecked as a table index) from a recording
# of the driver on hvmmio-testdev, and minimizes it to the one mutation of that read. TAP.
#  1. the recording: hvmmio run with the test device traced, scenario fuzztarget, passes
#  2. --fuzz-list: the runs' mutations are a function of seed and run (same seed, same
#     lines; run 1 is the same whatever N; another seed, other mutations); bad options and
#     an unknown scenario exit 2
#  3. --fuzz 2 --seed 60: the baseline passes; run 1 (2 mutations) oopses in the driver's
#     probe, run 2 does not (docs/replay-fuzz.md); exit status 1; the JSON report has exactly
#     one crash, minimized to one mutation: the COUNTER read's line, old value 0x0, a new
#     value that is neither 0 nor 1; the reproducer differs from the recording on that line
#     only. About five guest boots in all.
. "$(dirname "$0")/lib.sh"
: "${HVMMIO_TOP:?}"
echo "1..3"

"$HVMMIO" run --accel tcg -q --testdev=mmiotrace=on,mmiotrace-file=host.txt -o "$OUT/rec" \
	fuzztarget >"$OUT/rec.txt" 2>&1 || { sed 's/^/# /' "$OUT/rec.txt"; fail "the recording run failed"; }
rec=$OUT/rec/host.txt
grep -qx 'result 0' "$OUT/rec/verdict" || fail "the driver failed on the test device"
# the planted bug's read: COUNTER (BAR0 0x20), its only read in the recording
line=$(grep -n '^R 4 .* dev=testdev bar=0 off=0x20$' "$rec" | cut -d: -f1)
[ "$(echo "$line" | wc -l)" = 1 ] && [ -n "$line" ] || fail "not one COUNTER read in $rec: '$line'"
echo "ok 1 - the recording: hvmmio_fuzztarget passes on the test device; COUNTER is read at line $line"

list() { "$HVMMIO" replay "$rec" --scenario fuzztarget --fuzz "$1" --seed "$2" --fuzz-list; }
a=$(list 5 40) b=$(list 5 40) c=$(list 2 40) d=$(list 5 41)
[ "$a" = "$b" ] || fail "--fuzz-list differs between two calls with the same seed"
[ "$(echo "$a" | head -2)" = "$c" ] || fail "runs 1-2 of seed 40 differ between --fuzz 5 and --fuzz 2"
[ "$a" != "$d" ] || fail "seeds 40 and 41 give the same mutations"
[ "$(echo "$a" | grep -c '^run [1-5]: [1-3] mutations\?: line ')" = 5 ] ||
	{ echo "$a" | sed 's/^/# /'; fail "--fuzz-list: not 5 runs of 1-3 mutations"; }
for bad in "--fuzz 0" "--fuzz 2 --seed x" "--seed 3" "--fuzz 2 --fuzz-mutations 17" \
	"--fuzz 2 --on-divergence stop"; do
	set +e
	# shellcheck disable=SC2086
	"$HVMMIO" replay "$rec" --scenario fuzztarget $bad --fuzz-list >/dev/null 2>"$OUT/err.txt"
	st=$?
	set -e
	[ $st = 2 ] && grep -q '^hvmmio replay: ' "$OUT/err.txt" ||
		fail "'$bad': exit status $st, not 2 with a message"
done
# a scenario the guest image does not have: refused with hvmmio run's reason, exit status 2
set +e
"$HVMMIO" replay "$rec" --accel tcg --scenario no-such-scenario --fuzz 1 -o "$OUT/refused" \
	>/dev/null 2>"$OUT/err.txt"
st=$?
set -e
[ $st = 2 ] && grep -q "no scenario 'no-such-scenario'" "$OUT/err.txt" ||
	{ sed 's/^/# /' "$OUT/err.txt"; fail "an unknown scenario: exit status $st, not 2 with the reason"; }
echo "ok 2 - --fuzz-list is a function of seed and run; bad options and scenarios are refused"

set +e
"$HVMMIO" replay "$rec" --accel tcg --scenario fuzztarget --fuzz 2 --seed 60 -o "$OUT/fuzz" \
	>"$OUT/fuzz.txt" 2>"$OUT/fuzz.err"
rc=$?
set -e
sed 's/^/# /' "$OUT/fuzz.err" "$OUT/fuzz.txt"
[ $rc = 1 ] || fail "hvmmio replay --fuzz exited $rc, not 1 (a crash found)"
grep -q 'baseline (no mutation): scenario passed' "$OUT/fuzz.err" || fail "the baseline did not pass"
grep -A1 '^hvmmio replay --fuzz: run 2/2: ' "$OUT/fuzz.err" | grep -q -- '-> no crash' ||
	fail "run 2 of seed 60 crashed (a mutation of SCRATCH32 that the driver checks)"
python3 - "$OUT/fuzz/fuzz-report.json" "$line" <<'PY' || fail "the JSON report is not as expected"
import json, sys
r = json.load(open(sys.argv[1]))
line = int(sys.argv[2])
crashes = r["crashes"]
assert r["runs"] == 2 and r["seed"] == 60, (r["runs"], r["seed"])
assert len(crashes) == 1, [c["title"] for c in crashes]
c = crashes[0]
assert c["key"] == "ft_probe [hvmmio_fuzztarget]", c["key"]
assert c["first_run"] == 1 and c["runs_seen"] == 1, (c["first_run"], c["runs_seen"])
assert any(w in c["message"] for w in ("BUG: ", "general protection fault")), c["message"]
assert len(c["mutations"]) == 2, c["mutations"]
m = c["minimal"]
assert len(m) == 1 and m[0]["line"] == line and m[0]["old"] == "0x0", m
assert m[0]["new"] not in ("0x0", "0x1"), m
PY
repro=$OUT/fuzz/crash-1.trace
changed=$(diff "$rec" "$repro" | grep -v '^[<>-]' || true)
[ "$changed" = "${line}c${line}" ] ||
	fail "the reproducer differs from the recording at '$changed', not at line $line alone"
echo "ok 3 - the planted bug found in run 1 of 2 (seed 60), minimized to $(grep -o 'line [0-9]*: R .*' "$OUT/fuzz.txt" | head -1)"
