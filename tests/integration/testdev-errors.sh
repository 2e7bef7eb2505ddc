#!/usr/bin/env bash
# hvmmio-testdev's error handling and life cycle without QEMU: bad socket paths are refused
# with a clear message (exit 1), bad usage exits 2, a socket in use is not stolen, a stale one
# is replaced, SIGTERM and SIGINT end the server with status 0 and remove its socket.
# Then qtest-run's own verdicts: a failed check exits 1, a script error 2.
. "$(dirname "$0")/lib.sh"

# expect_refusal STATUS PATTERN ARGS...: the server exits with STATUS saying PATTERN
expect_refusal() {
	local want=$1 pattern=$2 rc=0
	shift 2
	"$TESTDEV" "$@" >"$OUT/out.txt" 2>"$OUT/err.txt" || rc=$?
	[ "$rc" = "$want" ] || fail "hvmmio-testdev $* exited $rc, expected $want"
	grep -q -- "$pattern" "$OUT/err.txt" ||
		fail "hvmmio-testdev $*: no '$pattern' in: $(cat "$OUT/err.txt")"
}

expect_refusal 1 "directory $OUT/missing does not exist" "$OUT/missing/s.sock"
[ ! -e "$OUT/missing" ] || fail "the missing directory was created"
pass "missing directory"

echo keep >"$OUT/plain"
expect_refusal 1 "is not a socket; refusing to replace it" "$OUT/plain"
[ "$(cat "$OUT/plain")" = keep ] || fail "the existing file was changed"
pass "existing non-socket file left alone"

long=$OUT/$(printf 'x%.0s' $(seq 1 120)).sock
expect_refusal 1 "socket path is too long" "$long"
pass "too long path"

expect_refusal 2 "name the socket path" --verbose
expect_refusal 2 "only one socket path" a b
expect_refusal 2 "Unknown option" --bogus "$OUT/s"
"$TESTDEV" --help | grep -q 'docs/testdev.md' || fail "--help does not point at docs/testdev.md"
pass "usage errors exit 2; --help"

sock=$OUT/t.sock
testdev_start "$sock" "$OUT/a.log"
first=$TESTDEV_PID
expect_refusal 1 "is in use by another server" "$sock"
kill -0 "$first" 2>/dev/null || fail "the first server died when a second one tried its socket"
[ -S "$sock" ] || fail "the second server removed the first one's socket"
pass "a socket in use is not taken over"

kill -TERM "$first"
rc=0
wait "$first" || rc=$?
[ $rc = 0 ] || fail "SIGTERM: exit status $rc, expected 0"
[ ! -e "$sock" ] || fail "SIGTERM: the socket is still there"
pass "SIGTERM: exit 0, socket removed"

testdev_start "$sock" "$OUT/b.log"
kill -KILL "$TESTDEV_PID"
wait "$TESTDEV_PID" || true
[ -S "$sock" ] || fail "no stale socket after SIGKILL (test premise)"
testdev_start "$sock" "$OUT/c.log"
kill -INT "$TESTDEV_PID"
rc=0
wait "$TESTDEV_PID" || rc=$?
[ $rc = 0 ] || fail "SIGINT: exit status $rc, expected 0"
[ ! -e "$sock" ] || fail "SIGINT: the socket is still there"
pass "a stale socket is replaced; SIGINT: exit 0, socket removed"

# qtest-run's verdicts, against a bare machine (no device): port 0xcf8 holds what was written
mapfile -t bare < <(printf '%s\n' -L /usr/share/seabios -L /usr/share/qemu -machine q35 -nodefaults -display none)
printf 'outl 0xcf8 0x80000000\ninl 0xcf8 == 0x80000000\nset x 2+3*4\ninl 0xcf8 == (1<<31)|$x-14\n' >"$OUT/good.qtest"
"$QTEST_RUN" "$OUT/good.qtest" -- "${bare[@]}" >"$OUT/good.txt" 2>&1 ||
	fail "qtest-run rejected a passing script: $(cat "$OUT/good.txt")"
printf 'outl 0xcf8 0x80000000\ninl 0xcf8 == 0x80000004\n' >"$OUT/bad.qtest"
rc=0
"$QTEST_RUN" "$OUT/bad.qtest" -- "${bare[@]}" >"$OUT/bad.txt" 2>&1 || rc=$?
[ $rc = 1 ] || fail "qtest-run exited $rc on a failing check, expected 1"
grep -q 'bad.qtest:2: FAIL: inl 0xcf8: got 0x80000000, expected 0x80000004' "$OUT/bad.txt" ||
	fail "qtest-run's failure message: $(cat "$OUT/bad.txt")"
printf 'readl $nosuchvar\n' >"$OUT/err.qtest"
rc=0
"$QTEST_RUN" "$OUT/err.qtest" -- "${bare[@]}" >"$OUT/err2.txt" 2>&1 || rc=$?
[ $rc = 2 ] || fail "qtest-run exited $rc on a script error, expected 2"
pass "qtest-run: passing script 0, failed check 1 (with file:line), script error 2"
