#!/usr/bin/env bash
# The Debian packages install on a fresh Debian 12 and work there: scripts/build-deb.sh builds
# them from this tree (or $HVMMIO_DEB_DIR holds them already), a minimal bookworm chroot
# (debootstrap --variant=minbase, its tarball cached in $HVMMIO_CACHE_DIR/deb) installs them
# with apt, dependencies from the Debian archive that the machine's apt configuration names,
# and then, inside the chroot: `hvmmio qemu -version`, a qtest trace of an edu device (a write
# and reads of its registers), hvmmio stat on it, the test device's private libvfio-user, the
# guest image's scenarios, pkg-config for libmmiotrace, and that Debian's qemu-system-x86 could
# be installed beside it. Prints TAP. Needs root (chroot, mount), debootstrap and debhelper.
# Environment: HVMMIO_DEB_DIR (prebuilt .debs), HVMMIO_DEB_MIRROR (a Debian mirror URI; else
# the first one in /etc/apt/sources.list*), KEEP=1 keeps the chroot.
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && printf '%s\n' "$2" | tail -12 | sed 's/^/#   /'; }
note() { echo "# $*"; }
skip_all() { echo "1..0 # SKIP $*"; exit 0; }
finish() { echo "1..$n"; [ $bad = 0 ]; exit $?; }

[ "$(id -u)" = 0 ] || skip_all "needs root (debootstrap, chroot)"
for t in debootstrap chroot mount; do command -v $t >/dev/null || skip_all "$t is not installed"; done
if [ -z "${HVMMIO_DEB_DIR:-}" ]; then
	for t in dpkg-buildpackage dh chrpath; do
		command -v $t >/dev/null || skip_all "$t is not installed (apt-get install debhelper chrpath)"
	done
fi
cache=${HVMMIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hvmmio}

# The Debian mirror: apt's own configuration (deb822 .sources or sources.list), never a name
# written here
mirror=${HVMMIO_DEB_MIRROR:-}
security=
for f in /etc/apt/sources.list.d/*.sources /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
	[ -f "$f" ] || continue
	uris=$(awk '/^URIs:/ {print $2} $1 == "deb" {for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) {print $i; break}}' "$f")
	[ -z "$mirror" ] && mirror=$(grep -E '/debian/?$' <<<"$uris" | head -1)
	[ -z "$security" ] && security=$(grep -E '/debian-security/?$' <<<"$uris" | head -1)
done
[ -n "$mirror" ] || skip_all "no Debian mirror in /etc/apt/sources.list* (set HVMMIO_DEB_MIRROR)"

work=$(mktemp -d "${TMPDIR:-/tmp}/hvmmio-deb-install.XXXXXX")
root=$work/root
cleanup() {
	for m in "$root/proc" "$root/var/cache/apt/archives"; do
		mountpoint -q "$m" 2>/dev/null && umount "$m"
	done
	if [ "${KEEP:-0}" = 1 ]; then
		echo "# kept $work"
	elif ! mountpoint -q "$root/proc" 2>/dev/null && ! mountpoint -q "$root/var/cache/apt/archives" 2>/dev/null; then
		rm -rf "$work"
	else
		echo "# $work is still mounted: left in place"
	fi
}
trap cleanup EXIT

# 1. the packages
debs=${HVMMIO_DEB_DIR:-$work/debs}
if [ -z "${HVMMIO_DEB_DIR:-}" ]; then
	t0=$(date +%s)
	# (without meson test's MALLOC_PERTURB_: the package build is not under test here)
	if out=$(env -u MALLOC_PERTURB_ "$top/scripts/build-deb.sh" --quick --no-lintian "$debs" 2>&1); then
		ok "scripts/build-deb.sh built $(cd "$debs" && echo *.deb) in $(($(date +%s) - t0)) s"
	else
		nok "scripts/build-deb.sh" "$out"
		finish
	fi
fi
ls "$debs"/hvmmio_*.deb >/dev/null 2>&1 || { nok "no hvmmio_*.deb in $debs"; finish; }

# a Debian 12 system's apt sources (main, updates, security), without translations
apt_sources() { # apt_sources ROOT
	{
		echo "deb $mirror bookworm main"
		echo "deb $mirror bookworm-updates main"
		[ -n "$security" ] && echo "deb $security bookworm-security main"
	} >"$1/etc/apt/sources.list"
	rm -f "$1"/etc/apt/sources.list.d/*
	echo 'Acquire::Languages "none";' >"$1/etc/apt/apt.conf.d/99hvmmio-no-translations"
}

# 2. a fresh minimal bookworm, from the cached tarball (made once by debootstrap)
base=$cache/deb/bookworm-minbase.tar
mkdir -p "$cache/deb/apt-archives/partial"
t0=$(date +%s)
if [ ! -f "$base" ]; then
	note "debootstrap --variant=minbase bookworm (first run; cached in $base)"
	if out=$(debootstrap --variant=minbase bookworm "$work/base" "$mirror" 2>&1); then
		apt_sources "$work/base"
		chroot "$work/base" apt-get update -q >/dev/null 2>&1
		tar -C "$work/base" -cf "$base.new" . && mv "$base.new" "$base"
		rm -rf "$work/base"
	else
		nok "debootstrap bookworm" "$out"
		finish
	fi
fi
mkdir -p "$root"
tar -C "$root" -xf "$base"
apt_sources "$root"
mount -t proc proc "$root/proc"
# downloaded packages are kept between runs
mount --bind "$cache/deb/apt-archives" "$root/var/cache/apt/archives"
mkdir -p "$root/debs"
pkgs=()
for p in hvmmio hvmmio-guest-image libmmiotrace0 libmmiotrace-dev; do
	f=$(cd "$debs" && ls ${p}_*.deb | head -1)
	cp "$debs/$f" "$root/debs/"
	pkgs+=("/debs/$f")
done
grep -q 'VERSION_CODENAME=bookworm' "$root/etc/os-release" &&
	ok "a fresh Debian 12 minbase chroot ($(($(date +%s) - t0)) s)" || nok "the chroot is not bookworm"

in_root() { chroot "$root" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "$@"; }

# 3. apt installs the packages, with their dependencies from the archive
t0=$(date +%s)
apt_q=(-y -q -o Dpkg::Use-Pty=0 -o APT::Keep-Downloaded-Packages=true)
apt_install() { DEBIAN_FRONTEND=noninteractive in_root apt-get install "${apt_q[@]}" --no-install-recommends "${pkgs[@]}" pkgconf 2>&1; }
# the package lists come with the cached base; older ones are refreshed when they fail
if out=$(apt_install) || out=$(in_root apt-get update -q 2>&1 && apt_install); then
	ok "apt-get install ./hvmmio ./hvmmio-guest-image ./libmmiotrace0 ./libmmiotrace-dev ($(($(date +%s) - t0)) s, $(grep -c '^Setting up' <<<"$out") packages set up)"
else
	nok "apt-get install" "$out"
	finish
fi
in_root dpkg-query -W hvmmio hvmmio-guest-image libmmiotrace0 libmmiotrace-dev | sed 's/^/# installed: /'

# 4. the installed tool, in the chroot
v=$(in_root hvmmio qemu -version 2>&1)
grep -q 'QEMU emulator version 10.2' <<<"$v" && ok "hvmmio qemu -version: $(head -1 <<<"$v")" ||
	nok "hvmmio qemu -version" "$v"
[ -x "$root/usr/libexec/hvmmio/qemu-system-x86_64" ] && [ ! -e "$root/usr/bin/qemu-system-x86_64" ] &&
	ok "QEMU is /usr/libexec/hvmmio/qemu-system-x86_64 (no /usr/bin/qemu-system-x86_64)" ||
	nok "QEMU's place"
out=$(in_root apt-get install -s -q qemu-system-x86 2>&1)
if [ $? = 0 ] && ! grep -qE '^Remv (hvmmio|libmmiotrace)' <<<"$out"; then
	ok "Debian's qemu-system-x86 installs beside it (apt-get -s)"
else
	nok "qemu-system-x86 beside hvmmio" "$out"
fi

# a qtest trace: map edu's BAR0 at 0xfe000000, write its liveness register (reads back
# inverted), read it and the ID, leave through isa-debug-exit
t0=$(date +%s)
printf '%s\n' 'outl 0xcf8 0x80001010' 'outl 0xcfc 0xfe000000' 'outl 0xcf8 0x80001004' \
	'outw 0xcfc 0x2' 'writel 0xfe000004 0x12345678' 'readl 0xfe000004' 'readl 0xfe000000' \
	'outl 0xf4 0' >"$root/tmp/qtest.in"
in_root sh -c 'cd /tmp && exec hvmmio qemu -machine q35 -accel qtest -display none \
	-nodefaults -device isa-debug-exit,iobase=0xf4,iosize=4 \
	-device edu,addr=02.0,id=edu0,mmiotrace=on,mmiotrace-file=/tmp/edu.txt \
	-qtest stdio <qtest.in >qtest.out 2>qtest.err'
trace=$root/tmp/edu.txt
if grep -q '^W 4 .* 0xfe000004 0x12345678 .*dev=edu0' "$trace" 2>/dev/null &&
	grep -q '^R 4 .* 0xfe000004 0xedcba987 .*dev=edu0' "$trace" &&
	grep -q '^R 4 .* 0xfe000000 0x10000ed .*dev=edu0' "$trace"; then
	ok "a qtest trace from the installed QEMU: W 0x12345678, R 0xedcba987, R ID 0x010000ed ($(($(date +%s) - t0)) s)"
else
	nok "qtest trace" "$(cat "$trace" "$root/tmp/qtest.out" "$root/tmp/qtest.err" 2>&1)"
fi
s=$(in_root hvmmio stat --json /tmp/edu.txt 2>&1)
python3 -c 'import json, sys; t = json.loads(sys.argv[1])["total"]["by_type"]; sys.exit(not (t["R"] == 2 and t["W"] == 1))' "$s" 2>/dev/null &&
	ok "hvmmio stat reads it: 2 reads, 1 write" || nok "hvmmio stat" "$s"

# the test device and its private libvfio-user; the guest image; the library
l=$(in_root ldd /usr/bin/hvmmio-testdev 2>&1)
h=$(in_root hvmmio-testdev --help 2>&1)
grep -qE 'libvfio-user.so.0 => /usr/(bin/\.\./)?lib/hvmmio/libvfio-user.so.0' <<<"$l" && grep -q '^Usage:' <<<"$h" &&
	ok "hvmmio-testdev runs, with its libvfio-user from /usr/lib/hvmmio" || nok "hvmmio-testdev" "$l$h"
s=$(in_root hvmmio run --list-scenarios 2>&1)
grep -qx testdrv <<<"$s" && ok "hvmmio run --list-scenarios: the installed guest image ($(wc -l <<<"$s") scenarios)" ||
	nok "hvmmio run --list-scenarios" "$s"
p=$(in_root pkg-config --cflags --libs libmmiotrace 2>&1 | xargs)
c=$(in_root ldconfig -p 2>&1) # whole: a grep -q ending the pipe early is a SIGPIPE under pipefail
[ "$p" = "-I/usr/include/hvmmio -lmmiotrace" ] && grep -q 'libmmiotrace.so.0 ' <<<"$c" &&
	ok "libmmiotrace: pkg-config gives '$p', ldconfig knows libmmiotrace.so.0" || nok "libmmiotrace" "$p"

# a scenario: the installed guest image boots under the installed QEMU (TCG) and drives the
# installed test device
t0=$(date +%s)
if out=$(in_root hvmmio run --accel tcg -q -t 240 -o /tmp/testdrv --testdev testdrv 2>&1); then
	ok "hvmmio run --testdev testdrv in the chroot ($(($(date +%s) - t0)) s)"
else
	nok "hvmmio run --testdev testdrv" "$out"
fi
finish
