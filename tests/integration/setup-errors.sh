#!/usr/bin/env bash
# Set-up refuses what it cannot trust, and says which file: a pinned file whose SHA-256
# does not match stops the fetch naming the file; a patch that does not apply stops the
# QEMU build naming the patch (before configure). Uses private caches under $OUT.
. "$(dirname "$0")/lib.sh"
top=${HVMMIO_TOP:?}
real_cache=${HVMMIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hvmmio}
deb=busybox-static_1.35.0-4+deb12u1+b1_amd64.deb

# 1. a broken pin (one hex digit changed)
sed "/ $deb\$/ s/^./$(grep " $deb\$" "$top/scripts/pins.sha256" | cut -c1 | tr '0-9a-f' '1-9a-f0')/" \
	"$top/scripts/pins.sha256" >"$OUT/pins.sha256"
cmp -s "$OUT/pins.sha256" "$top/scripts/pins.sha256" && fail "the test did not alter the pin"
if HVMMIO_CACHE_DIR=$OUT/cache1 HVMMIO_PINS=$OUT/pins.sha256 \
	"$top/scripts/fetch-pinned.sh" "$deb" 2>"$OUT/fetch.err"; then
	fail "fetch-pinned.sh accepted $deb against a wrong pin"
fi
grep -q "checksum mismatch for $deb" "$OUT/fetch.err" || { cat "$OUT/fetch.err"; fail "message"; }
[ ! -e "$OUT/cache1/downloads/$deb" ] || fail "the unverified file was kept in the cache"
pass "a wrong pin stops the fetch: $(cat "$OUT/fetch.err")"

# 2. a patch that does not apply (the real series plus one whose context is wrong)
mkdir -p "$OUT/patches" "$OUT/cache2"
cp "$top"/qemu-patches/*.patch "$OUT/patches/"
cat >"$OUT/patches/9999-does-not-apply.patch" <<'PATCH'
--- a/hw/pci/pci.c
+++ b/hw/pci/pci.c
@@ -1,3 +1,3 @@
-this line is not in QEMU's pci.c
+neither is this one
 nor this
PATCH
{ cat "$top/qemu-patches/series"; echo 9999-does-not-apply.patch; } >"$OUT/patches/series"
ln -s "$real_cache/downloads" "$OUT/cache2/downloads"
if HVMMIO_CACHE_DIR=$OUT/cache2 HVMMIO_PATCHES_DIR=$OUT/patches \
	"$top/scripts/build-qemu.sh" >/dev/null 2>"$OUT/build.err"; then
	fail "build-qemu.sh went on past a patch that does not apply"
fi
grep -q "patch 9999-does-not-apply.patch (.*) does not apply to QEMU 10.2.2" "$OUT/build.err" ||
	{ tail -5 "$OUT/build.err"; fail "message"; }
grep -q "configuring QEMU" "$OUT/build.err" && fail "it configured QEMU anyway"
pass "a patch that does not apply stops the build: $(tail -1 "$OUT/build.err")"
rm -rf "$OUT/cache2/qemu"
