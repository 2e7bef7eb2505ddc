#!/usr/bin/env bash
# build-qemu.sh: fetch, verify, unpack, patch, overlay and build hvmmio's QEMU.
#
# The source tree is cached under $HVMMIO_CACHE_DIR/qemu/KEY, KEY being a hash of the
# pinned sources and the patch series: a new series unpacks a fresh tree. The overlaid
# files (hw/mmiotrace/ and trace/) are copied in only when their content changed, so
# ninja rebuilds incrementally. Prints the build directory on stdout.
set -euo pipefail
HVMMIO_LOG_TAG=build-qemu
. "$(dirname "$0")/common.sh"

CONFIGURE_FLAGS=(
	--python=/usr/bin/python3 --target-list=x86_64-softmmu --without-default-features
	--disable-download --disable-install-blobs --enable-kvm --enable-capstone
	--enable-vfio-user-server --disable-docs
)
TARGETS=(qemu-system-x86_64 subprojects/libvfio-user/lib/libvfio-user.so.0.0.1)

patches_dir=${HVMMIO_PATCHES_DIR:-$HVMMIO_TOP/qemu-patches}
mapfile -t series < <(grep -vE '^\s*(#|$)' "$patches_dir/series" 2>/dev/null || true)

# The tree is keyed by the pinned sources and configure flags. The patch series is applied
# incrementally: when it changes, only the patches from the first changed one on are reverted
# and re-applied, so ninja rebuilds what they touch rather than everything.
key_inputs=("$HVMMIO_PINS" "${QEMU_FILES[@]}")
for f in "${CONFIGURE_FLAGS[@]}"; do key_inputs+=("cfg:$f"); done
key=$(hash_inputs "${key_inputs[@]}")
root=$HVMMIO_CACHE_DIR/qemu/$key
src=$root/src
build=$src/build
applied=$root/applied # copies of the applied patches, with a list in applied/series

"$HVMMIO_TOP/scripts/fetch-pinned.sh" "${QEMU_FILES[@]}"

# One build at a time per cache: a second set-up (another checkout, a parallel run) waits.
mkdir -p "$HVMMIO_CACHE_DIR/qemu"
exec 9>"$HVMMIO_CACHE_DIR/qemu/.lock"
if ! flock -n 9; then
	log "another build of this cache is running; waiting for it"
	flock 9
fi

unpack() {
	log "unpacking QEMU $QEMU_VERSION (Debian 1:10.2.2+ds-1) into $root"
	rm -rf "$root"
	mkdir -p "$root" "$applied"
	(cd "$root" && dpkg-source --no-check -x "$HVMMIO_CACHE_DIR/downloads/${QEMU_FILES[0]}" src >"$root/unpack.log" 2>&1) ||
		die "dpkg-source failed, see $root/unpack.log"
	: >"$applied/series"
	touch "$root/.prepared"
}
[ -f "$root/.prepared" ] || unpack

for p in "${series[@]}"; do
	[ -f "$patches_dir/$p" ] || die "patch $p named in ${patches_dir#"$HVMMIO_TOP"/}/series does not exist"
done
mapfile -t old < "$applied/series"
# a patch whose diff is unchanged (only its message or header changed) needs no re-apply
same_diff() { cmp -s <(sed -n '/^diff --git/,$p' "$1") <(sed -n '/^diff --git/,$p' "$2"); }
keep=0
while [ $keep -lt ${#old[@]} ] && [ $keep -lt ${#series[@]} ] &&
	[ "${old[$keep]}" = "${series[$keep]}" ] && same_diff "$applied/${old[$keep]}" "$patches_dir/${series[$keep]}"; do
	cmp -s "$applied/${old[$keep]}" "$patches_dir/${series[$keep]}" ||
		cp "$patches_dir/${series[$keep]}" "$applied/${old[$keep]}"
	keep=$((keep + 1))
done
for ((i = ${#old[@]} - 1; i >= keep; i--)); do
	if ! patch -d "$src" -p1 -R --batch -s <"$applied/${old[$i]}" >"$root/patch.log" 2>&1; then
		log "cannot revert ${old[$i]}; unpacking afresh"
		unpack
		keep=0
		break
	fi
	log "reverted ${old[$i]}"
done
printf '%s\n' "${old[@]:0:$keep}" | grep -v '^$' >"$applied/series.new" || true
mv "$applied/series.new" "$applied/series"
for ((i = keep; i < ${#series[@]}; i++)); do
	p=${series[$i]}
	if ! patch -d "$src" -p1 --dry-run --batch --forward <"$patches_dir/$p" >"$root/patch.log" 2>&1; then
		cat "$root/patch.log" >&2
		die "patch $p (${patches_dir#"$HVMMIO_TOP"/}) does not apply to QEMU $QEMU_VERSION"
	fi
	patch -d "$src" -p1 --batch --forward -s <"$patches_dir/$p"
	cp "$patches_dir/$p" "$applied/$p"
	echo "$p" >>"$applied/series"
	log "applied $p"
done

# Overlay: copy a file only when its content differs (keeps mtimes, so ninja stays incremental)
sync_tree() { # sync_tree SRC_DIR DST_DIR GLOB...
	local from=$1 to=$2 f rel
	shift 2
	mkdir -p "$to"
	# drop files that vanished from the repository
	if [ -f "$to/.hvmmio-files" ]; then
		while read -r rel; do
			[ -e "$from/$rel" ] || rm -f "$to/$rel"
		done <"$to/.hvmmio-files"
	fi
	: >"$to/.hvmmio-files.new"
	(cd "$from" && for g in "$@"; do find . -path "./$g" -type f; done) | sed 's#^\./##' | sort -u |
		while read -r rel; do
			mkdir -p "$(dirname "$to/$rel")"
			cmp -s "$from/$rel" "$to/$rel" || cp "$from/$rel" "$to/$rel"
			echo "$rel" >>"$to/.hvmmio-files.new"
		done
	mv "$to/.hvmmio-files.new" "$to/.hvmmio-files"
}
sync_tree "$HVMMIO_TOP/hw/mmiotrace" "$src/hw/mmiotrace" '*'
sync_tree "$HVMMIO_TOP/trace" "$src/hw/mmiotrace/libmmiotrace" '*.c' '*.h'

if [ ! -f "$build/build.ninja" ]; then
	log "configuring QEMU (x86_64-softmmu)"
	mkdir -p "$build"
	(cd "$build" && ../configure "${CONFIGURE_FLAGS[@]}" >"$root/configure.log" 2>&1) ||
		{ tail -20 "$root/configure.log" >&2; die "configure failed, see $root/configure.log"; }
fi

# what the binary is built from: the applied patches' diffs (not just their names) and the overlay
overlay_key=$( (cat "$applied/series"
	while read -r p; do [ -n "$p" ] && sed -n '/^diff --git/,$p' "$applied/$p"; done <"$applied/series"
	cd "$src/hw/mmiotrace" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16)
if [ -f "$root/.built" ] && [ "$(cat "$root/.built")" = "$overlay_key" ] &&
	[ -x "$build/qemu-system-x86_64" ]; then
	log "QEMU is up to date ($build)"
else
	log "building ${TARGETS[*]} with ninja (first build: about 4 minutes on 2 cores)"
	start=$(date +%s)
	if ! ninja -C "$build" "${TARGETS[@]}" >"$root/ninja.log" 2>&1; then
		grep -E 'error|FAILED' "$root/ninja.log" | head -30 >&2
		die "QEMU build failed, see $root/ninja.log"
	fi
	echo "$overlay_key" >"$root/.built"
	log "built in $(($(date +%s) - start)) s"
fi
ln -sfn "$key" "$HVMMIO_CACHE_DIR/qemu/current"
echo "$build"
