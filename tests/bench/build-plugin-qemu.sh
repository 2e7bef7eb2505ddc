#!/usr/bin/env bash
# build-plugin-qemu.sh: the peer a user would otherwise pick (issue 16): a stock QEMU built
# from the same pinned Debian source as hvmmio's, without hvmmio's patches, with TCG plugins
# enabled; QEMU's own contrib plugins (hwprofile among them) and this folder's value-logging
# MMIO plugin (mmio-log-plugin.c). Cached under $HVMMIO_CACHE_DIR/qemu-plugins/KEY; prints the
# build directory on stdout. A full QEMU build: about 5 minutes on a quiet 2-core machine.
set -euo pipefail
HVMMIO_LOG_TAG=build-plugin-qemu
. "$(dirname "$0")/../../scripts/common.sh"

CONFIGURE_FLAGS=(
	--python=/usr/bin/python3 --target-list=x86_64-softmmu --without-default-features
	--disable-download --disable-install-blobs --enable-tcg --enable-plugins --disable-docs
)
key_inputs=("$HVMMIO_PINS" "${QEMU_FILES[@]}")
for f in "${CONFIGURE_FLAGS[@]}"; do key_inputs+=("cfg:$f"); done
key=$(hash_inputs "${key_inputs[@]}")
root=$HVMMIO_CACHE_DIR/qemu-plugins/$key
src=$root/src
build=$src/build

"$HVMMIO_TOP/scripts/fetch-pinned.sh" "${QEMU_FILES[@]}"
mkdir -p "$HVMMIO_CACHE_DIR/qemu-plugins"
exec 9>"$HVMMIO_CACHE_DIR/qemu-plugins/.lock"
flock 9
if [ ! -f "$root/.prepared" ]; then
	log "unpacking stock QEMU into $root"
	rm -rf "$root"
	mkdir -p "$root"
	(cd "$root" && dpkg-source --no-check -x "$HVMMIO_CACHE_DIR/downloads/${QEMU_FILES[0]}" src >"$root/unpack.log" 2>&1) ||
		die "dpkg-source failed, see $root/unpack.log"
	touch "$root/.prepared"
fi
if [ ! -f "$build/build.ninja" ]; then
	log "configuring (x86_64-softmmu, --enable-plugins)"
	mkdir -p "$build"
	(cd "$build" && ../configure "${CONFIGURE_FLAGS[@]}" >"$root/configure.log" 2>&1) ||
		{ tail -20 "$root/configure.log" >&2; die "configure failed, see $root/configure.log"; }
fi
if [ ! -f "$root/.built" ] || [ ! -x "$build/qemu-system-x86_64" ]; then
	log "building qemu-system-x86_64 and the contrib plugins (a full build: minutes)"
	start=$(date +%s)
	ninja -C "$build" qemu-system-x86_64 contrib-plugins >"$root/ninja.log" 2>&1 ||
		{ grep -E 'error|FAILED' "$root/ninja.log" | head -30 >&2; die "build failed, see $root/ninja.log"; }
	touch "$root/.built"
	log "built in $(($(date +%s) - start)) s"
fi
plugin=$build/contrib/plugins/libmmio-log.so
if [ ! -f "$plugin" ] || [ "$HVMMIO_TOP/tests/bench/mmio-log-plugin.c" -nt "$plugin" ]; then
	# shellcheck disable=SC2046
	cc -O2 -Wall -Wextra -Wno-unused-parameter -shared -fPIC -I"$src/include/qemu" $(pkg-config --cflags glib-2.0) \
		-o "$plugin" "$HVMMIO_TOP/tests/bench/mmio-log-plugin.c" || die "cannot build the MMIO logging plugin"
fi
echo "$build"
