#!/usr/bin/env bash
# setup.sh: everything the demo and the tests need, idempotent and cached.
#   1. Debian packages (scripts/install-deps.sh)
#   2. hvmmio's QEMU: pinned source, patched, built in the cache (scripts/build-qemu.sh)
#   3. the guest image, from pinned Debian packages (kernel-guest/build-image.sh)
#   4. hvmmio's own tools and tests, with meson in ./build
set -euo pipefail
HVMMIO_LOG_TAG=setup
. "$(dirname "$0")/common.sh"
cd "$HVMMIO_TOP"

t0=$(date +%s)
scripts/install-deps.sh
qemu_build=$(scripts/build-qemu.sh)
guest_image=$(kernel-guest/build-image.sh)
builddir=${HVMMIO_BUILD_DIR:-build}
if [ ! -f "$builddir/build.ninja" ]; then
	meson setup "$builddir" -Dqemu_build_dir="$qemu_build" -Dguest_image_dir="$guest_image" >/dev/null ||
		die "meson setup failed"
else
	meson configure "$builddir" -Dqemu_build_dir="$qemu_build" -Dguest_image_dir="$guest_image" >/dev/null
fi
meson compile -C "$builddir" >"$builddir/compile.log" 2>&1 ||
	{ tail -30 "$builddir/compile.log" >&2; die "building hvmmio failed"; }
log "ready in $(($(date +%s) - t0)) s (QEMU: $qemu_build; cache: $HVMMIO_CACHE_DIR)"
