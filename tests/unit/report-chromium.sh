#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# hvmmio report in a real headless Chromium (Debian's chromium-headless-shell): the page loads
# without errors, its DOM shows the trace's counts (counted here with awk, not by hvmmio) and
# register names, and a screenshot is not blank. TAP output; SKIP without Chromium.
set -u
trace=$FIXTURES/compare-e1000e-host-pc.txt.gz
map=$SRCDIR/regmaps/e1000e.yaml
chrome=$(command -v chromium-headless-shell || command -v chromium || true)
if [ -z "$chrome" ]; then
	echo "1..0 # SKIP no chromium-headless-shell or chromium"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$(dirname "$0")/../lib/tap.sh"
echo "1..9"
"$HVMMIO" report "$trace" -o "$tmp/report.html" --regs "$map" 2>"$tmp/err"
check "report exits 0" '[ $? = 0 ]'
size=$(wc -c <"$tmp/report.html")
check "the page is self-contained (no src= or href= to load) and under 1 MB ($size bytes)" \
	"! grep -qE '<(script|link|img)[^>]+(src|href)=' '$tmp/report.html' && [ $size -lt 1000000 ]"
run() { timeout 120 "$chrome" --headless --no-sandbox --disable-gpu --virtual-time-budget=10000 "$@"; }
run --enable-logging=stderr --v=0 --dump-dom "file://$tmp/report.html" >"$tmp/dom.html" 2>"$tmp/chrome.log"
check "Chromium rendered the page and its script finished" "grep -q 'data-ready=\"1\"' '$tmp/dom.html'"
check "no script errors on the page" "grep -q '<pre id=\"errors\"></pre>' '$tmp/dom.html'"
check "no console errors" "! grep -qiE 'uncaught|:console' '$tmp/chrome.log'"
reads=$(zcat "$trace" | awk '$1 == "R"' | wc -l)
writes=$(zcat "$trace" | awk '$1 == "W"' | wc -l)
check "the DOM's read count is the trace's ($reads)" "grep -q '<span id=\"total-reads\">$reads</span>' '$tmp/dom.html'"
check "the DOM's write count is the trace's ($writes)" "grep -q '<span id=\"total-writes\">$writes</span>' '$tmp/dom.html'"
check "register names from the map in the DOM (STATUS, CTRL, MDIC)" \
	"grep -q '>STATUS<' '$tmp/dom.html' && grep -q '>CTRL<' '$tmp/dom.html' && grep -q '>MDIC<' '$tmp/dom.html'"
run --window-size=1280,1600 --screenshot="$tmp/shot.png" "file://$tmp/report.html" >/dev/null 2>&1
check "the screenshot is not blank" "python3 - '$tmp/shot.png' <<'PY'
import struct, sys, zlib
data = open(sys.argv[1], 'rb').read()
assert data[:8] == b'\\x89PNG\\r\\n\\x1a\\n'
pos, idat = 8, b''
while pos < len(data):
    length, kind = struct.unpack('>I4s', data[pos:pos + 8])
    if kind == b'IDAT':
        idat += data[pos + 8:pos + 8 + length]
    pos += 12 + length
pixels = zlib.decompress(idat)
# a blank page is one colour: a drawn one has many distinct byte values and runs
sys.exit(0 if len(set(pixels)) > 64 else 1)
PY"
