#!/usr/bin/env bash
# build-image.sh: build the guest image (kernel + initramfs) from the pinned Debian packages.
#
# Output, cached under $HVMMIO_CACHE_DIR/guest/KEY (KEY: the pins, this script, init,
# modules.list, the scenarios and the guest module sources), with a `current` symlink:
#   vmlinuz        Debian's linux-image-6.1.0-50-amd64 kernel
#   initrd.img     busybox, init, scenarios, the chosen modules and their dependencies
#   headers/       the kernel headers and kbuild, for out-of-tree modules
# Prints the image directory on stdout.
set -euo pipefail
HVMMIO_LOG_TAG=build-image
. "$(dirname "$0")/../scripts/common.sh"

KVER=6.1.0-50-amd64
DEBS=(
	linux-image-6.1.0-50-amd64_6.1.176-1_amd64.deb
	linux-headers-6.1.0-50-amd64_6.1.176-1_amd64.deb
	linux-headers-6.1.0-50-common_6.1.176-1_all.deb
	linux-kbuild-6.1_6.1.176-1_amd64.deb
	busybox-static_1.35.0-4+deb12u1+b1_amd64.deb
)
here=$HVMMIO_TOP/kernel-guest
dl=$HVMMIO_CACHE_DIR/downloads

"$HVMMIO_TOP/scripts/fetch-pinned.sh" "${DEBS[@]}"

# (kernel-guest/nested/ is the nested image variant's, built by its own script)
mapfile -t inputs < <(find "$here" -path "$here/nested" -prune -o -type f \( -name '*.sh' -o -name 'init' \
	-o -name 'modules.list' -o -name '*.[ch]' -o -name 'Kbuild' -o -name 'Makefile' \) -print | sort)
# Headers the guest modules share with the host tools (the test device's register map)
shared_headers=("$HVMMIO_TOP/tools/testdev-regs.h")
inputs+=("${shared_headers[@]}")
key=$(hash_inputs "$HVMMIO_PINS" "${DEBS[@]}" "${inputs[@]}")
out=$HVMMIO_CACHE_DIR/guest/$key
if [ -f "$out/.done" ]; then
	ln -sfn "$key" "$HVMMIO_CACHE_DIR/guest/current"
	log "guest image is up to date ($out)"
	echo "$out"
	exit 0
fi

log "building the guest image in $out"
rm -rf "$out"
mkdir -p "$out"
work=$out/work
mkdir -p "$work/pkg" "$out/headers"

# The kernel package: vmlinuz and the module tree (depmod'ed here: the package has no modules.dep)
dpkg-deb -x "$dl/${DEBS[0]}" "$work/pkg"
cp "$work/pkg/boot/vmlinuz-$KVER" "$out/vmlinuz"
depmod -b "$work/pkg" "$KVER"

# Headers + kbuild for out-of-tree modules (relative symlinks stay valid inside headers/)
for d in "${DEBS[@]:1:3}"; do dpkg-deb -x "$dl/$d" "$out/headers"; done
# Debian's arch Makefile includes the common one by its absolute /usr/src path: point it here
sed -i "s|^include /usr/src/|include $out/headers/usr/src/|" \
	"$out/headers/usr/src/linux-headers-$KVER/Makefile"

# The initramfs tree
root=$work/root
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,results,scenarios,lib/modules/"$KVER"}
dpkg-deb --fsys-tarfile "$dl/${DEBS[4]}" | tar -xO ./bin/busybox >"$root/bin/busybox"
chmod +x "$root/bin/busybox"
install -m 0755 "$here/init" "$root/init"
install -m 0755 "$here"/scenarios/*.sh "$root/scenarios/"

# Modules and their dependencies
mapfile -t mods < <(grep -vE '^\s*(#|$)' "$here/modules.list")
for m in "${mods[@]}"; do
	modprobe -d "$work/pkg" -S "$KVER" --show-depends "$m" ||
		die "module $m (kernel-guest/modules.list) not found in the kernel package"
done | awk '$1 == "insmod" {print $2}' | sort -u | while read -r ko; do
	rel=${ko#"$work/pkg"}
	mkdir -p "$root$(dirname "$rel")"
	cp "$ko" "$root$rel"
done
cp "$work/pkg/lib/modules/$KVER"/modules.{order,builtin,builtin.modinfo} "$root/lib/modules/$KVER/"

# Out-of-tree guest modules (kernel-guest/modules/*/ with a Kbuild file)
for dir in "$here"/modules/*/; do
	[ -f "$dir/Kbuild" ] || continue
	name=$(basename "$dir")
	bdir=$work/modules/$name
	mkdir -p "$bdir"
	cp -r "$dir". "$bdir/"
	cp "${shared_headers[@]}" "$bdir/"
	make -s -C "$out/headers/usr/src/linux-headers-$KVER" M="$bdir" modules >"$work/module-$name.log" 2>&1 ||
		{ cat "$work/module-$name.log" >&2; die "building guest module $name failed"; }
	mkdir -p "$root/lib/modules/$KVER/extra"
	cp "$bdir"/*.ko "$root/lib/modules/$KVER/extra/"
	log "built guest module $name"
done
depmod -b "$root" "$KVER"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible) | gzip -6n >"$out/initrd.img"
rm -rf "$work"
touch "$out/.done"
ln -sfn "$key" "$HVMMIO_CACHE_DIR/guest/current"
log "guest image ready: $(du -h "$out/initrd.img" | cut -f1) initramfs"
echo "$out"
