#!/usr/bin/env bash
# build-nested-image.sh: the "nested" guest image variant, for tests that run hvmmio's QEMU
# inside the level-1 guest (real kernel VFIO on an emulated IOMMU; docs/real-vfio.md).
#
#   build-nested-image.sh BASE-IMAGE-DIR QEMU [FILE...]
#
# The image is the base image (kernel-guest/build-image.sh) with a second, uncompressed cpio
# archive appended to its initramfs (the kernel unpacks concatenated archives in order):
#   /opt/hvmmio/bin/qemu-system-x86_64   QEMU (stripped copy)
#   /usr/bin/python3.11, /usr/lib/python3.11/...   the host's Python and the part of its
#                                        standard library the FILE...s that are Python import
#   /opt/hvmmio/share/                   bios-256k.bin, kvmvapic.bin (x86 machines load both
#                                        even under qtest)
#   /opt/hvmmio/files/                   FILE... (the test's Python programs and the like)
#   /scenarios/nested-*.sh               this folder's scenarios
#   /lib*/...                            the shared libraries QEMU and Python need (ldd)
# Cached in $HVMMIO_CACHE_DIR/guest-nested/KEY (KEY: the base image, QEMU, Python, the files
# and this folder), so the main image stays small and this one is built only when needed.
# Prints the image directory (vmlinuz, initrd.img) on stdout.
set -euo pipefail
HVMMIO_LOG_TAG=build-nested-image
. "$(dirname "$0")/../../scripts/common.sh"

[ $# -ge 2 ] || die "usage: build-nested-image.sh BASE-IMAGE-DIR QEMU [FILE...]"
base=$1 qemu=$2
shift 2
python=/usr/bin/python3.11
here=$HVMMIO_TOP/kernel-guest/nested
firmware=(/usr/share/seabios/bios-256k.bin /usr/share/qemu/kvmvapic.bin)
for f in "$base/vmlinuz" "$base/initrd.img" "$qemu" "$python" "${firmware[@]}" "$@"; do
	[ -f "$f" ] || die "missing $f"
done

mapfile -t own < <(find "$here" -type f | sort)
key=$(hash_inputs "$base/vmlinuz" "$base/initrd.img" "$qemu" "$python" "${firmware[@]}" "$@" "${own[@]}")
out=$HVMMIO_CACHE_DIR/guest-nested/$key
if [ -f "$out/.done" ]; then
	log "nested guest image is up to date ($out)"
	echo "$out"
	exit 0
fi
log "building the nested guest image in $out"
rm -rf "$out"
mkdir -p "$out"
root=$out/root
mkdir -p "$root"/opt/hvmmio/{bin,share,files} "$root/scenarios"
strip -o "$root/opt/hvmmio/bin/qemu-system-x86_64" "$qemu"
cp "${firmware[@]}" "$root/opt/hvmmio/share/"
for f in "$@"; do cp "$f" "$root/opt/hvmmio/files/"; done
install -m 0755 "$here"/scenarios/*.sh "$root/scenarios/"

# Python: the modules the files import (run with -S: no site), and the codecs it starts with
files=$root/opt/hvmmio/files
mapfile -t pymods < <("$python" -S -B - "$files" <<'EOF' | sort -u
import glob, os, sys
sys.path.insert(0, sys.argv[1])
for f in sorted(glob.glob(os.path.join(sys.argv[1], '*.py'))):
    __import__(os.path.basename(f)[:-3])
import encodings.aliases, encodings.ascii, encodings.latin_1, encodings.utf_8  # noqa: E401
for m in list(sys.modules.values()):
    f = getattr(m, '__file__', None) or ''
    if f.startswith(sys.prefix + '/lib/python3'):
        print(f)
EOF
)
[ ${#pymods[@]} -gt 10 ] || die "found no Python modules to copy"
mkdir -p "$root/usr/bin"
cp "$python" "$root/usr/bin/"
cp --parents "${pymods[@]}" "$root/"
PYTHONHOME=$root/usr "$python" -S -B -c "import sys; sys.path.insert(0, '$files')
for f in __import__('glob').glob('$files/*.py'): __import__(f.split('/')[-1][:-3])" ||
	die "the Python modules copied into the image are not enough for $files/*.py"

# Shared libraries at the paths ldd resolves them to (the loader included)
{
	ldd "$qemu"
	ldd "$python"
	for m in "${pymods[@]}"; do [[ $m != *.so ]] || ldd "$m"; done
} | awk '$2 == "=>" && $3 ~ /^\// {print $3} $1 ~ /^\// && $2 ~ /^\(/ {print $1}' |
	sort -u | while read -r lib; do
	mkdir -p "$root$(dirname "$lib")"
	cp -L "$lib" "$root$lib"
done
[ -e "$root/lib64/ld-linux-x86-64.so.2" ] || die "ldd did not name the x86-64 loader"

# The base initramfs, zero-padded to 4 bytes (the kernel wants each archive aligned), then
# ours (uncompressed: quicker for a TCG guest to unpack)
cp "$base/vmlinuz" "$out/vmlinuz"
size=$(stat -c %s "$base/initrd.img")
{
	cat "$base/initrd.img"
	head -c $(((4 - size % 4) % 4)) /dev/zero
	(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet --reproducible)
} >"$out/initrd.img"
rm -rf "$root"
touch "$out/.done"
log "nested guest image ready: $(du -h "$out/initrd.img" | cut -f1) initramfs"
echo "$out"
