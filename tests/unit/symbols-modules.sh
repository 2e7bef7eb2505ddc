#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Module symbols as the guest saves them (kernel-guest/scenarios/lib.sh): a module unloaded
# before the end keeps its symbols, and a module loaded later at the same addresses names the
# PCs from the point where the trace shows it loaded (a PC only it holds). hvmmio symbolize,
# decode, stat --top-functions, convert --to perfetto and report all name them so. TAP.
set -u
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../lib/tap.sh"
# hvmmio_testdrv at 0xffffffffc0100000 (8 KiB; events 1-2), then e1000e at the same address
# (16 KiB; event 3 on); and a plain symbol outside both
printf '%s\n' '# hvmmio-module hvmmio_testdrv 0xffffffffc0100000 8192 loaded=1 unloaded=2' \
	'ffffffffc0100000 t testdrv_probe	[hvmmio_testdrv]' \
	'ffffffffc0100100 t testdrv_check	[hvmmio_testdrv]' \
	'# hvmmio-module e1000e 0xffffffffc0100000 16384 loaded=3 unloaded=-' \
	'ffffffffc0100000 t e1000_read	[e1000e]' \
	'ffffffffc0100100 t e1000_write	[e1000e]' \
	'ffffffffc0103000 t e1000_probe	[e1000e]' | gzip -c >"$tmp/kallsyms-modules.txt.gz"
echo 'ffffffff81000000 T kernel_fn' >"$tmp/System.map"
cat >"$tmp/trace.txt" <<'TRACE'
VERSION 20070824
R 4 1.000000 1 0xfe000000 0x1 0xffffffffc0100010 0 ns=1000000000 dev=testdev bar=0 off=0x0
W 4 1.000001 1 0xfe000004 0x2 0xffffffffc0100110 0 ns=1000001000 dev=testdev bar=0 off=0x4
R 4 2.000000 1 0xfe100000 0x3 0xffffffffc0103010 0 ns=2000000000 dev=nic0 bar=0 off=0x0
R 4 2.000001 1 0xfe100000 0x4 0xffffffffc0100010 0 ns=2000001000 dev=nic0 bar=0 off=0x0
W 4 2.000002 1 0xfe100008 0x5 0xffffffff81000020 0 ns=2000002000 dev=nic0 bar=0 off=0x8
TRACE
echo "1..9"
syms="--symbols $tmp/kallsyms-modules.txt.gz --symbols $tmp/System.map"
# shellcheck disable=SC2086
"$HVMMIO" symbolize "$tmp/trace.txt" $syms -o "$tmp/sym.txt" 2>"$tmp/err"
rc=$?
check "symbolize reads the module headers (exit 0)" '[ $rc = 0 ]'
got=$(sed -n 's/.* sym=//p' "$tmp/sym.txt" | tr '\n' '|')
want='"testdrv_probe+0x10 [hvmmio_testdrv]"|"testdrv_check+0x10 [hvmmio_testdrv]"|"e1000_probe+0x10 [e1000e]"|"e1000_read+0x10 [e1000e]"|kernel_fn+0x20|'
check "the unloaded module names its PCs, the later one its own after its first own PC" \
	'[ "$got" = "$want" ] || { echo "# got $got"; false; }'
# shellcheck disable=SC2086
"$HVMMIO" decode --accesses "$tmp/trace.txt" $syms >"$tmp/decoded.txt" 2>"$tmp/err"
check "decode names them the same" \
	"[ \"\$(grep -c 'testdrv_probe+0x10 \[hvmmio_testdrv\]' '$tmp/decoded.txt')\" = 1 ] &&
	 [ \"\$(grep -c 'e1000_read+0x10 \[e1000e\]' '$tmp/decoded.txt')\" = 1 ]"
# shellcheck disable=SC2086
"$HVMMIO" stat --top-functions "$tmp/trace.txt" $syms >"$tmp/stat.txt" 2>"$tmp/err"
check "stat --top-functions counts both modules' functions" \
	"grep -qE '^ +1 +testdrv_probe \[hvmmio_testdrv\]' '$tmp/stat.txt' &&
	 grep -qE '^ +1 +e1000_read \[e1000e\]' '$tmp/stat.txt'"
# shellcheck disable=SC2086
"$HVMMIO" convert "$tmp/trace.txt" "$tmp/out.json" --to perfetto -q $syms 2>"$tmp/err"
check "the Perfetto export names them the same" \
	"[ \"\$(grep -o '\"function\":\"[^\"]*\"' '$tmp/out.json' | tr '\n' '|')\" = '\"function\":\"testdrv_probe+0x10 [hvmmio_testdrv]\"|\"function\":\"testdrv_check+0x10 [hvmmio_testdrv]\"|\"function\":\"e1000_probe+0x10 [e1000e]\"|\"function\":\"e1000_read+0x10 [e1000e]\"|\"function\":\"kernel_fn+0x20\"|' ]"
# shellcheck disable=SC2086
"$HVMMIO" report "$tmp/trace.txt" -o "$tmp/report.html" $syms 2>"$tmp/err"
check "report's top functions: both modules" \
	"grep -q '\"name\":\"testdrv_probe \[hvmmio_testdrv\]\",\"count\":1' '$tmp/report.html' &&
	 grep -q '\"name\":\"e1000_read \[e1000e\]\",\"count\":1' '$tmp/report.html'"
# without the headers (an old kallsyms of the modules loaded at the end) e1000e's symbols win
zcat "$tmp/kallsyms-modules.txt.gz" | grep -v '^#' | grep e1000 >"$tmp/old.txt"
"$HVMMIO" symbolize "$tmp/trace.txt" --symbols "$tmp/old.txt" -o "$tmp/sym-old.txt" 2>"$tmp/err"
check "without headers: the last-loaded module's symbols only" \
	"grep -q 'off=0x0 sym=\"e1000_read+0x10 \[e1000e\]\"' '$tmp/sym-old.txt'"
printf '# hvmmio-module x 0xffffffffc0100000 8192 loaded=3 unloaded=2\n' >"$tmp/bad.txt"
"$HVMMIO" symbolize "$tmp/trace.txt" --symbols "$tmp/bad.txt" -o /dev/null 2>"$tmp/err"
rc=$?
check "a header unloaded before loaded is refused" '[ $rc != 0 ]'
check "... naming the file and line" "grep -q 'bad.txt:1: bad module header' '$tmp/err'"
