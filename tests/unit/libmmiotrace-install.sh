#!/usr/bin/env bash
# libmmiotrace as an installed library: `meson install` (runtime and devel files, staged
# with DESTDIR) puts libmmiotrace.so, include/hvmmio/mmiotrace.h and libmmiotrace.pc in
# place; examples/count-accesses.c builds against them with pkg-config alone and counts the
# same reads and writes as hvmmio stat. Environment: BUILD, HVMMIO, EXAMPLE, FIXTURES.
# Prints TAP.
set -uo pipefail
: "${BUILD:?}" "${HVMMIO:?}" "${EXAMPLE:?}" "${FIXTURES:?}"
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | head -8 | sed 's/^/#   /'; }
command -v pkg-config >/dev/null || { echo "1..0 # SKIP no pkg-config"; exit 0; }
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT

if out=$(meson install -C "$BUILD" --no-rebuild --destdir "$d/root" --tags runtime,devel 2>&1); then
	ok "meson install --tags runtime,devel (DESTDIR staging)"
else
	nok "meson install" "$out"
fi
pc=$(find "$d/root" -name libmmiotrace.pc | head -1)
lib=$(find "$d/root" -name 'libmmiotrace.so.0' | head -1)
hdr=$(find "$d/root" -path '*/include/hvmmio/mmiotrace.h' | head -1)
[ -n "$pc" ] && [ -n "$lib" ] && [ -n "$hdr" ] && ok "installed: libmmiotrace.so.0, hvmmio/mmiotrace.h, libmmiotrace.pc" ||
	nok "installed files" "pc=$pc lib=$lib header=$hdr"

# the .pc names the final prefix; for the staged copy, point it into DESTDIR
mkdir -p "$d/pc"
prefix=$(sed -n 's/^prefix=//p' "$pc")
sed "s|^prefix=.*|prefix=$d/root$prefix|" "$pc" >"$d/pc/libmmiotrace.pc"
flags=$(PKG_CONFIG_PATH=$d/pc pkg-config --cflags --libs libmmiotrace 2>&1)
if out=$(cc -std=c11 -Wall -Wextra -Werror "$EXAMPLE" $flags -o "$d/count" 2>&1); then
	ok "the example builds with pkg-config's flags alone ($flags)"
else
	nok "the example builds" "$out"
fi
for f in compare-e1000e-host-2.txt.gz kernel-e1000e-probe.mmiotrace.gz; do
	got=$(LD_LIBRARY_PATH=$(dirname "$lib") "$d/count" "$FIXTURES/$f" | awk '$1 == "total" { print $2, $3 }')
	want=$("$HVMMIO" stat --json "$FIXTURES/$f" |
		python3 -c 'import json, sys; t = json.load(sys.stdin)["total"]["by_type"]; print(t["R"], t["W"])')
	[ -n "$got" ] && [ "$got" = "$want" ] && ok "$f: $got reads and writes, as hvmmio stat counts" ||
		nok "$f: the example counts '$got', hvmmio stat '$want'"
done
# linked against the installed library, not a build tree's (ldd's output taken whole: a
# grep -q that stops reading early would make ldd die of SIGPIPE under pipefail)
deps=$(env -u LD_LIBRARY_PATH ldd "$d/count" 2>&1)
grep -q "libmmiotrace.so.0 => not found" <<<"$deps" &&
	ok "the example needs the installed libmmiotrace.so.0 (not found without LD_LIBRARY_PATH)" ||
	nok "the example's libmmiotrace" "$(grep mmiotrace <<<"$deps")"
echo "1..$n"
[ $bad = 0 ]
