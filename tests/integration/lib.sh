# Helpers for integration tests (sourced). Each test gets $HVMMIO (the built tool) and
# $OUT (its own output folder) from tests/integration/meson.build.
set -euo pipefail
: "${HVMMIO:?}" "${OUT:?}"
rm -rf "$OUT"
mkdir -p "$OUT"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

# ---- hvmmio-testdev (docs/testdev.md) for qtest-driven tests; needs $TESTDEV, $QTEST_RUN ----

# QEMU arguments for a qtest machine with the test device at 00:04.0 on socket $1.
testdev_qemu_args() {
	printf '%s\n' -L /usr/share/seabios -L /usr/share/qemu -machine q35 -nodefaults \
		-display none -m 128M -object memory-backend-memfd,id=mem,size=128M,share=on \
		-machine memory-backend=mem \
		-device "{\"driver\":\"vfio-user-pci\",\"id\":\"testdev\",\"addr\":\"04.0\",\"socket\":{\"type\":\"unix\",\"path\":\"$1\"}}"
}

# testdev_start SOCKET LOG: start the server (verbose, into LOG) and wait until it listens
# (its "listening on" line: a stale socket may already exist at SOCKET).
testdev_start() {
	: >"$2"
	"${TESTDEV:?}" --verbose "$1" 2>>"$2" &
	TESTDEV_PID=$!
	local n=0
	while ! grep -q '^hvmmio-testdev: listening on ' "$2" && [ $n -lt 100 ]; do
		kill -0 "$TESTDEV_PID" 2>/dev/null || { cat "$2" >&2; fail "hvmmio-testdev exited before its socket appeared"; }
		sleep 0.05
		n=$((n + 1))
	done
	[ -S "$1" ] || fail "hvmmio-testdev is not listening on $1 after 5 s"
}

# testdev_wait: wait (5 s at most) for the server to exit by itself; returns its status.
testdev_wait() {
	local n=0
	while kill -0 "$TESTDEV_PID" 2>/dev/null && [ $n -lt 100 ]; do
		sleep 0.05
		n=$((n + 1))
	done
	if kill -0 "$TESTDEV_PID" 2>/dev/null; then
		kill "$TESTDEV_PID"
		wait "$TESTDEV_PID" || true
		fail "hvmmio-testdev did not exit within 5 s of QEMU leaving"
	fi
	local rc=0
	wait "$TESTDEV_PID" || rc=$?
	return $rc
}

# qtest_testdev SCRIPT SOCKET NAME: run SCRIPT through qtest-run against a fresh server; the
# server's log is $OUT/NAME-server.log, QEMU's $OUT/NAME-qemu.log.
qtest_testdev() {
	local script=$1 sock=$2 name=$3
	testdev_start "$sock" "$OUT/$name-server.log"
	mapfile -t qargs < <(testdev_qemu_args "$sock")
	local rc=0
	"${QTEST_RUN:?}" -l "$OUT/$name-qemu.log" -D DEV=4 -D BAR0=0xe0000000 -D BAR2=0xe0100000 \
		"$script" -- "${qargs[@]}" || rc=$?
	testdev_wait || fail "hvmmio-testdev exited with status $? after QEMU left"
	[ ! -e "$sock" ] || fail "hvmmio-testdev left its socket $sock behind"
	return $rc
}
