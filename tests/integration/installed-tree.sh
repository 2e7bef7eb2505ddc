#!/usr/bin/env bash
# The installed tool works on its own: `meson install --destdir` of this build (the whole
# tool: hvmmio, the patched QEMU, libvfio-user, hvmmio-testdev, the guest image, the probe
# guest), then, with no source tree and no cache in sight (HVMMIO_CACHE_DIR empty, no
# HVMMIO_* paths), the staged hvmmio finds its own QEMU, traces an edu under qtest, lists
# the image's scenarios and runs one with the installed test device. Prints TAP.
# Environment: BUILD, OUT.
set -uo pipefail
: "${BUILD:?}" "${OUT:?}"
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | tail -8 | sed 's/^/#   /'; }
rm -rf "$OUT"
mkdir -p "$OUT/cache"
if out=$(meson install -C "$BUILD" --no-rebuild --destdir "$OUT/root" 2>&1); then
	ok "meson install --destdir"
else
	nok "meson install" "$out"
	echo "1..$n"
	exit 1
fi
hv=$(find "$OUT/root" -path '*/bin/hvmmio' -type f | head -1)
for f in libexec/hvmmio/qemu-system-x86_64 bin/hvmmio-testdev share/hvmmio/guest/initrd.img \
	share/hvmmio/kvm-probe.elf; do
	[ -e "$(dirname "$(dirname "$hv")")/$f" ] && ok "installed: $f" || nok "installed: $f"
done
# nothing but the installed tree: no cache, no HVMMIO_* variables, not from the source tree
run() { (cd "$OUT" && env -u HVMMIO_QEMU -u HVMMIO_IMAGE -u HVMMIO_TESTDEV -u HVMMIO_PROBE \
	-u LD_LIBRARY_PATH HVMMIO_CACHE_DIR="$OUT/cache" "$hv" "$@"); }

v=$(run qemu -version 2>&1)
grep -q 'QEMU emulator version 10.2' <<<"$v" && ok "hvmmio qemu runs the installed QEMU" ||
	nok "hvmmio qemu -version" "$v"

# a qtest trace: map edu's BAR0 at 0xfe000000, read its ID, leave through isa-debug-exit
printf '%s\n' 'outl 0xcf8 0x80001010' 'outl 0xcfc 0xfe000000' 'outl 0xcf8 0x80001004' \
	'outw 0xcfc 0x2' 'readl 0xfe000000' 'outl 0xf4 0' >"$OUT/qtest.in"
run qemu -machine q35 -accel qtest -display none -nodefaults \
	-device isa-debug-exit,iobase=0xf4,iosize=4 \
	-device edu,addr=02.0,id=edu0,mmiotrace=on,mmiotrace-file="$OUT/edu.txt" \
	-qtest stdio <"$OUT/qtest.in" >"$OUT/qtest.out" 2>"$OUT/qtest.err"
grep -q '^R 4 .* 0xfe000000 0x10000ed .*dev=edu0' "$OUT/edu.txt" 2>/dev/null &&
	ok "a qtest trace from the installed QEMU: R 4 edu ID 0x010000ed" ||
	nok "qtest trace" "$(cat "$OUT/edu.txt" "$OUT/qtest.err" 2>&1)"

s=$(run run --list-scenarios 2>&1)
grep -qx testdrv <<<"$s" && ok "the installed guest image's scenarios (testdrv among them)" ||
	nok "run --list-scenarios" "$s"
if out=$(run run --accel tcg -q -t 240 -o "$OUT/testdrv" --testdev testdrv 2>&1); then
	ok "hvmmio run --testdev testdrv: the installed image, QEMU and test device"
else
	nok "hvmmio run --testdev testdrv" "$out"
fi
echo "1..$n"
[ $bad = 0 ]
