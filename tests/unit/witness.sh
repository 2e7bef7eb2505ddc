#!/usr/bin/env bash
# hvmmio witness on hand-made pairs of a host trace and a test device witness log: a trace
# that agrees passes (an 8-byte record matching the device's two 4-byte pieces too), and each
# kind of disagreement (a value, a missing or an extra access, a vCPU's order, the file's
# order, a loss) fails with exit status 1 and a message naming the line; bad input is exit
# status 2 with FILE:LINE. Needs $HVMMIO.
set -euo pipefail
: "${HVMMIO:?}"
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
n=0
fail() { echo "not ok $n - $*"; echo "$out" | sed 's/^/# /'; exit 1; }

# The host trace: header, then R/W lines "DIR WIDTH OFF VALUE VCPU" given on stdin.
host() {
	echo 'VERSION 20070824'
	echo 'PCIDEV 0010 12344d4d 0 0 0 0 0 0 0 0 1000 0 10000 0 0 0 0  dev=testdev'
	echo 'PCIDEV 0008 808610d3 0 0 0 0 0 0 0 0 20000 0 0 0 0 0 0  dev=nic0'
	local t=1000 d w o v c
	while read -r d w o v c; do
		case $d in
		LOST) echo "LOST 0.000002 $w" ;;
		*)
			t=$((t + 1))
			printf '%s %s 0.000001 1 0x%x %s 0x0 0 ns=%d vcpu=%s dev=%s bar=0 off=%s\n' \
				"$d" "$w" $((0xfebf4000 + o)) "$v" "$t" "$c" "${DEV:-testdev}" "$o"
			;;
		esac
	done
}

# run NAME WANT_STATUS GREP_PATTERN: hvmmio witness on $dir/h.txt and $dir/w.log
run() {
	n=$((n + 1))
	rc=0
	out=$("$HVMMIO" witness "$@" "$dir/h.txt" "$dir/w.log" 2>&1) || rc=$?
}
check() {
	local name=$1 want=$2 pat=$3
	[ "$rc" = "$want" ] || fail "$name: exit status $rc, expected $want"
	grep -qE -- "$pat" <<<"$out" || fail "$name: output lacks /$pat/"
	echo "ok $n - $name"
}

echo "1..12"

# agreeing: two vCPUs interleaved, an 8-byte record served as two 4-byte pieces
host >"$dir/h.txt" <<'EOF'
W 4 0x3c 0x52535421 0
R 4 0x20 0x0 1
R 4 0x20 0x1 0
W 8 0x40 0x1122334455667788 1
R 8 0x10 0x0123456789abcdef 0
EOF
cat >"$dir/w.log" <<'EOF'
# hvmmio-testdev witness 1: SEQ BAR DIR WIDTH OFFSET VALUE
1 reset
2 0 W 4 0x03c 0x52535421
3 0 R 4 0x020 0x0
4 0 R 4 0x020 0x1
5 0 W 4 0x040 0x55667788
6 0 W 4 0x044 0x11223344
7 0 R 8 0x010 0x123456789abcdef
EOF
run
check "a trace that agrees, with one access served in pieces" 0 'RESULT: the host trace agrees .*\(5 accesses\)'
grep -q 'matched: 5 records (1 of them joined' <<<"$out" || fail "the joined access is not counted"
grep -qE 'vcpu=0 3, vcpu=1 2' <<<"$out" || fail "per-vCPU counts"

# another device's records and other BARs are not the test device's
cp "$dir/h.txt" "$dir/h0.txt"
DEV=nic0 host >>"$dir/h.txt" <<<'W 4 0x100 0x5 0'
run
check "another device's records are ignored" 0 'agrees'
cp "$dir/h0.txt" "$dir/h.txt"

# a returned value that differs
sed -i 's/ 0x1 0x0 0 ns/ 0x7 0x0 0 ns/' "$dir/h.txt"
run
check "a read value that the device did not return" 1 'h\.txt:6: R 4 0x020 \(COUNTER\) vcpu=0 recorded 0x7, but the device returned 0x1'
cp "$dir/h0.txt" "$dir/h.txt"

# a served access missing from the trace
sed -i '/0x52535421/d' "$dir/h.txt"
run
check "an access missing from the host trace" 1 'w\.log:3: served access #2 W 4 0x03c \(RESET\) 0x52535421 is not in the host trace'
cp "$dir/h0.txt" "$dir/h.txt"

# a record the device never served
host >>"$dir/h.txt" <<<'W 4 0x8 0x99 1'
run
check "a record the device never served" 1 'W 4 0x008 \(SCRATCH32\) 0x99 vcpu=1: the device served no such access'
cp "$dir/h0.txt" "$dir/h.txt"

# one vCPU's two records swapped: its program order is not the device's
host >"$dir/h.txt" <<'EOF'
W 4 0x3c 0x52535421 0
R 4 0x20 0x1 0
R 4 0x20 0x0 0
W 8 0x40 0x1122334455667788 1
R 8 0x10 0x0123456789abcdef 0
EOF
run
check "a vCPU's records out of the device's order" 1 'vcpu=0.s R 0x020 reached the device \(access #3\) before'
grep -q 'global order: 1 records out' <<<"$out" || fail "the global order count"

# two vCPUs' records swapped: each vCPU's order holds, the file's order does not
host >"$dir/h.txt" <<'EOF'
W 4 0x3c 0x52535421 0
R 4 0x20 0x1 0
R 4 0x20 0x0 1
W 8 0x40 0x1122334455667788 1
R 8 0x10 0x0123456789abcdef 0
EOF
run
check "the file's order is not the device's" 1 'global order: 1 records out of the device.s order'
grep -q 'per-vCPU order: kept' <<<"$out" || fail "per-vCPU order should hold"

# a loss in the trace
host >"$dir/h.txt" <<'EOF'
W 4 0x3c 0x52535421 0
R 4 0x20 0x0 1
R 4 0x20 0x1 0
LOST 1
W 8 0x40 0x1122334455667788 1
R 8 0x10 0x0123456789abcdef 0
EOF
run
check "a LOST record" 1 'lost: 1 events'
cp "$dir/h0.txt" "$dir/h.txt"

# bad input: a malformed witness line, a sequence gap, a trace without hvmmio's facts
cp "$dir/w.log" "$dir/w0.log"
sed -i 's/^4 0 R 4 0x020 0x1$/4 0 X 4 0x020 0x1/' "$dir/w.log"
run
check "a malformed witness line" 2 'w\.log:5: not a witness line'
cp "$dir/w0.log" "$dir/w.log"
sed -i '/^4 0 R/d' "$dir/w.log"
run
check "a gap in the witness's sequence numbers" 2 'w\.log:5: sequence number 5 follows 3'
cp "$dir/w0.log" "$dir/w.log"
printf 'VERSION 20070824\nR 4 0.000001 1 0xfebf4020 0x0 0x0 0\n' >"$dir/h.txt"
run
check "a kernel trace (no dev=, bar=)" 2 'no R/W records with dev= and bar= facts'
cp "$dir/h0.txt" "$dir/h.txt"
run --window 0
check "a bad option value" 2 '--window must be'
