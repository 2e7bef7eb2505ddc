#!/usr/bin/env bash
# build-deb.sh: build hvmmio's Debian packages (debian/) from this tree, outside it.
#
#   scripts/build-deb.sh [--head] [--no-lintian] [--quick] [OUTDIR]
#
# The binary packages hvmmio, hvmmio-guest-image, libmmiotrace0 and libmmiotrace-dev (and the
# -dbgsym ones) land in OUTDIR (default ${TMPDIR:-/tmp}/hvmmio-deb), with lintian's findings in
# OUTDIR/lintian.txt. The source is the tree's files as they are now (those git tracks or would,
# not the ignored build folders; --head: the last commit), copied to OUTDIR/src, so that nothing
# dpkg-buildpackage writes lands in the repository. --quick: no -dbgsym packages and no
# build-time tests (DEB_BUILD_OPTIONS nocheck noautodbgsym), for tests that only install them.
#
# QEMU is not rebuilt: the package takes the patched QEMU and libvfio-user that
# scripts/build-qemu.sh built and the guest image of kernel-guest/build-image.sh, from
# $HVMMIO_QEMU_BUILD_DIR and $HVMMIO_GUEST_IMAGE_DIR, else the cache's current ones
# ($HVMMIO_CACHE_DIR/qemu/current/src/build, $HVMMIO_CACHE_DIR/guest/current). This script
# builds neither; it stops and names the script to run when one is missing. What it takes is
# copied first (OUTDIR/prebuilt: a QEMU rebuilt meanwhile does not change the package midway).
# Prints the .deb files' paths on stdout.
set -euo pipefail
HVMMIO_LOG_TAG=build-deb
. "$(dirname "$0")/common.sh"

from=worktree lintian=1 out=
while [ $# -gt 0 ]; do
	case $1 in
	--head) from=head ;;
	--no-lintian) lintian=0 ;;
	--quick) export DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }nocheck noautodbgsym" ;;
	-h | --help) sed -n '2,20p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	-*) die "unknown option $1 (see --help)" ;;
	*) out=$1 ;;
	esac
	shift
done
out=${out:-${TMPDIR:-/tmp}/hvmmio-deb}
case $(realpath -m "$out")/ in
"$HVMMIO_TOP"/*) die "OUTDIR $out is inside the repository; choose a folder outside it" ;;
esac

for t in dpkg-buildpackage dh chrpath meson git; do
	command -v "$t" >/dev/null || die "$t is missing (apt-get install dpkg-dev debhelper chrpath meson git)"
done

qemu_build=${HVMMIO_QEMU_BUILD_DIR:-$HVMMIO_CACHE_DIR/qemu/current/src/build}
guest=${HVMMIO_GUEST_IMAGE_DIR:-$HVMMIO_CACHE_DIR/guest/current}
[ -x "$qemu_build/qemu-system-x86_64" ] ||
	die "no hvmmio QEMU in $qemu_build: run scripts/build-qemu.sh (or set HVMMIO_QEMU_BUILD_DIR)"
vfu=subprojects/libvfio-user/lib/libvfio-user.so.0.0.1
[ -f "$qemu_build/$vfu" ] || die "no libvfio-user in $qemu_build: run scripts/build-qemu.sh"
[ -f "$guest/initrd.img" ] && [ -f "$guest/vmlinuz" ] ||
	die "no guest image in $guest: run kernel-guest/build-image.sh (or set HVMMIO_GUEST_IMAGE_DIR)"

# debian/control's Built-Using names the pinned sources' versions: they must still be the pins
check_pin() { # check_pin SCRIPT STRING
	grep -qF -- "$2" "$HVMMIO_TOP/$1" ||
		die "debian/control's Built-Using is stale: $1 no longer pins '$2'; update debian/control"
}
check_pin scripts/common.sh qemu_10.2.2+ds-1.dsc
check_pin kernel-guest/build-image.sh linux-image-6.1.0-50-amd64_6.1.176-1_amd64.deb
check_pin kernel-guest/build-image.sh busybox-static_1.35.0-4+deb12u1+b1_amd64.deb

t0=$(date +%s)
rm -rf "$out"
mkdir -p "$out/prebuilt/qemu/build/subprojects/libvfio-user/lib" "$out/prebuilt/qemu/subprojects/libvfio-user" \
	"$out/prebuilt/guest" "$out/src"

# The prebuilt parts, in the layout meson's -Dqemu_build_dir expects (the binary, the library,
# and libvfio-user's headers beside the build folder as in QEMU's source tree)
qsrc=$(realpath "$qemu_build/..")
cp "$qemu_build/qemu-system-x86_64" "$out/prebuilt/qemu/build/"
cp "$qemu_build/$vfu" "$out/prebuilt/qemu/build/$vfu"
ln -s libvfio-user.so.0.0.1 "$out/prebuilt/qemu/build/subprojects/libvfio-user/lib/libvfio-user.so.0"
ln -s libvfio-user.so.0 "$out/prebuilt/qemu/build/subprojects/libvfio-user/lib/libvfio-user.so"
cp -r "$qsrc/subprojects/libvfio-user/include" "$out/prebuilt/qemu/subprojects/libvfio-user/"
cp "$guest/vmlinuz" "$guest/initrd.img" "$out/prebuilt/guest/"
log "QEMU: $(realpath "$qemu_build"); guest image: $(realpath "$guest")"

# The source: the tree's files that git tracks or would (not ignored), or the last commit
version=$(dpkg-parsechangelog -l "$HVMMIO_TOP/debian/changelog" -S Version)
src=$out/src/hvmmio-$version
mkdir -p "$src"
if [ $from = head ]; then
	git -C "$HVMMIO_TOP" archive --format=tar HEAD | tar -x -C "$src"
	log "source: HEAD ($(git -C "$HVMMIO_TOP" rev-parse --short HEAD))"
else
	(cd "$HVMMIO_TOP" && git ls-files -z --cached --others --exclude-standard | while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
		tar --null -T - -cf -) | tar -x -C "$src"
	log "source: the working tree's files (at $(git -C "$HVMMIO_TOP" rev-parse --short HEAD))"
fi
[ -f "$src/debian/rules" ] || die "the source has no debian/rules (--head before debian/ was committed?)"

log "dpkg-buildpackage -b -us -uc (log: $out/build.log)"
if ! (cd "$src" && HVMMIO_QEMU_BUILD_DIR=$out/prebuilt/qemu/build HVMMIO_GUEST_IMAGE_DIR=$out/prebuilt/guest \
	dpkg-buildpackage -b -us -uc -j"${HVMMIO_DEB_JOBS:-2}") >"$out/build.log" 2>&1; then
	tail -30 "$out/build.log" >&2
	die "dpkg-buildpackage failed, see $out/build.log"
fi
mv "$out"/src/*.deb "$out"/src/*.changes "$out"/src/*.buildinfo "$out/"
rm -rf "$out/src" "$out/prebuilt"
log "built in $(($(date +%s) - t0)) s: $(cd "$out" && echo *.deb)"

if [ $lintian = 1 ]; then
	if command -v lintian >/dev/null; then
		lintian --info --display-info --pedantic "$out"/hvmmio_*.changes >"$out/lintian.txt" 2>&1 || true
		log "lintian: $(grep -cE '^[EWIP]: ' "$out/lintian.txt" || true) findings ($(grep -oE '^[EWIP]' "$out/lintian.txt" | sort | uniq -c | tr -s ' \n' ' ')), see $out/lintian.txt"
	else
		log "lintian is not installed: skipped (apt-get install lintian)"
	fi
fi
ls "$out"/*.deb
