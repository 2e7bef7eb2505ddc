#!/usr/bin/env bash
# Install exactly the Debian packages hvmmio needs; a second run installs nothing.
# Meson >= 1.5 comes from bookworm-backports; its apt source entry is derived from the
# machine's own Debian source configuration (no host name is written here).
set -euo pipefail

PACKAGES=(
	# project build
	build-essential pkg-config ninja-build libglib2.0-dev libcapstone-dev
	zlib1g-dev liblzma-dev libzstd-dev libdeflate-dev
	# QEMU build (see shared notes: machine-facts)
	libpixman-1-dev libfdt-dev flex bison python3-venv python3-pycotap
	libjson-c-dev libcmocka-dev dpkg-dev xz-utils curl ca-certificates
	# hvmmio decode/symbolize: register maps (YAML, rules-ng-ng XML) and ELF symbols
	libyaml-dev libxml2-dev libelf-dev
	# hvmmio report: Chart.js (inlined at build time); its test renders the page in Chromium
	libjs-chart.js chromium-headless-shell
	# fuzzing and sanitizers (libFuzzer ships in clang's runtime package)
	clang libclang-rt-14-dev
	# guest image: module dependencies, initramfs, firmware
	kmod cpio gzip seabios qemu-system-data
	# tests (clang-format: the style suite; binutils' nm/objcopy: the kvm-probe guest)
	gawk clang-format binutils
	# Debian packages (scripts/build-deb.sh) and their install test in a bookworm chroot
	debhelper chrpath help2man debootstrap
	# libvirt (test libvirt, docs/libvirt.md): the system daemon, its QEMU driver and virsh
	libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients
)
# Without systemd as init, libvirt's sysv flavour: the systemd one (apt's first choice)
# would install systemd-sysv. The two conflict: keep the one already installed.
if [ ! -d /run/systemd/system ] &&
	! dpkg-query -W -f='${Status}\n' libvirt-daemon-system-systemd 2>/dev/null | grep -q 'ok installed'; then
	PACKAGES+=(libvirt-daemon-system-sysv)
fi
MESON_MIN=1.5

log() { printf 'install-deps: %s\n' "$*" >&2; }

sudo_cmd=()
[ "$(id -u)" = 0 ] || sudo_cmd=(sudo)

missing() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -q '^install ok installed$' ||
			printf '%s\n' "$p"
	done
}

meson_ok() {
	command -v meson >/dev/null 2>&1 || return 1
	dpkg --compare-versions "$(meson --version 2>/dev/null || echo 0)" ge "$MESON_MIN"
}

# Derive a bookworm-backports entry from the first Debian source already configured.
add_backports() {
	local dst=/etc/apt/sources.list.d/hvmmio-backports.sources src uris keyring
	[ -f "$dst" ] && return 0
	for src in /etc/apt/sources.list.d/*.sources; do
		[ -f "$src" ] || continue
		uris=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' "$src")
		keyring=$(awk '/^Signed-By:/ {print $2; exit}' "$src")
		[ -n "$uris" ] && break
	done
	if [ -z "${uris:-}" ] && [ -f /etc/apt/sources.list ]; then
		uris=$(awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {print $2; exit}' /etc/apt/sources.list)
	fi
	if [ -z "${uris:-}" ]; then
		log "cannot find a Debian archive in apt's configuration to derive bookworm-backports from"
		exit 1
	fi
	log "adding bookworm-backports (derived from apt's configuration) for meson >= $MESON_MIN"
	{
		echo "Types: deb"
		echo "URIs: $uris"
		echo "Suites: bookworm-backports"
		echo "Components: main"
		[ -n "${keyring:-}" ] && echo "Signed-By: $keyring"
	} | "${sudo_cmd[@]}" tee "$dst" >/dev/null
	"${sudo_cmd[@]}" apt-get update -qq
}

need=$(missing "${PACKAGES[@]}")
meson_needed=0
meson_ok || meson_needed=1
if [ -z "$need" ] && [ $meson_needed = 0 ]; then
	log "all packages present"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
add_backports   # meson and python3-pycotap come from bookworm-backports
"${sudo_cmd[@]}" apt-get update -qq
if [ -n "$need" ]; then
	log "installing: $(echo $need)"
	# shellcheck disable=SC2086
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends $need >/dev/null
fi
if [ $meson_needed = 1 ]; then
	log "installing meson from bookworm-backports"
	"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends -t bookworm-backports meson >/dev/null
	meson_ok || { log "meson >= $MESON_MIN still missing after install"; exit 1; }
fi
log "done"
