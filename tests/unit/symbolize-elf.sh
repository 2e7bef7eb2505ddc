#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# hvmmio symbolize with an ELF's symbol table (libelf): the kvm-probe guest (tests/kvm-probe),
# whose accesses are made at labels named in its source. The addresses come from nm, not from
# hvmmio. TAP output.
set -u
elf=${KVM_PROBE_ELF:?}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
notok() { n=$((n + 1)); echo "not ok $n - $1"; }
check() { if eval "$2"; then ok "$1"; else notok "$1"; fi; }

if [ ! -f "$elf" ]; then
	echo "1..0 # SKIP $elf not built"
	exit 0
fi
echo "1..7"
addr() { nm "$elf" | awk -v s="$1" '$3 == s { print $1 }'; }
w4=$(addr p_w4) edu=$(addr p_edu_id) main=$(addr probe_main)
pc_w4=$(printf '0x%x' "0x$w4")
pc_edu=$(printf '0x%x' $((0x$edu + 3)))
pc_main=$(printf '0x%x' $((0x$main + 0x10)))
cat >"$tmp/trace.txt" <<EOT
VERSION 20070824
MAP 0.001000 1 0xfebf1000 0x0 0x1000 0x0 0
W 4 0.002000 1 0xfebf1008 0x12345678 $pc_w4 0
R 4 0.003000 1 0xfebf1000 0x10000ed $pc_edu 0
R 4 0.004000 1 0xfebf1004 0x0 $pc_main 0
R 4 0.005000 1 0xfebf1004 0x0 0x7f000000 0
EOT
"$HVMMIO" symbolize "$tmp/trace.txt" --symbols "$elf" -o "$tmp/out.txt" 2>"$tmp/err"
check "symbolize exits 0" '[ $? = 0 ]'
check "the write at p_w4 is p_w4+0x0" "grep -q '^W 4 0.002000 1 0xfebf1008 0x12345678 $pc_w4 0 sym=p_w4+0x0\$' '$tmp/out.txt'"
check "3 bytes into p_edu_id" "grep -q ' $pc_edu 0 sym=p_edu_id+0x3\$' '$tmp/out.txt'"
check "0x10 into probe_main (a C function with a size)" "grep -q ' $pc_main 0 sym=probe_main+0x10\$' '$tmp/out.txt'"
check "a PC outside the image has no sym=" "grep -q ' 0x7f000000 0\$' '$tmp/out.txt'"
objcopy --strip-all "$elf" "$tmp/stripped.elf"
"$HVMMIO" symbolize "$tmp/trace.txt" --symbols "$tmp/stripped.elf" >/dev/null 2>"$tmp/err2"
st=$?
check "a stripped ELF is refused (exit 2)" "[ $st = 2 ]"
check "and the message names it" "grep -q 'stripped.elf: no function symbols' '$tmp/err2'"
