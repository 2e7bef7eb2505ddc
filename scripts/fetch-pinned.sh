#!/usr/bin/env bash
# fetch-pinned.sh FILE... : put each pinned file in the download cache, verified.
#
# Every file must be listed in scripts/pins.sha256. Binary packages are fetched with
# `apt-get download`, QEMU's source files from the Debian pool of the archive apt is
# configured with. If the registry does not serve a file, it is taken from the folder
# named by $HVMMIO_VENDOR_DIR. A file whose SHA-256 differs from its pin is an error.
set -euo pipefail
HVMMIO_LOG_TAG=fetch
. "$(dirname "$0")/common.sh"

dl=$HVMMIO_CACHE_DIR/downloads
mkdir -p "$dl"

pin_of() { awk -v f="$1" '$2 == f {print $1}' "$HVMMIO_PINS"; }

verify() { # verify FILE PATH
	local want got
	want=$(pin_of "$1")
	got=$(sha256sum <"$2" | cut -c1-64)
	[ "$want" = "$got" ]
}

debian_archive() {
	local src u
	for src in /etc/apt/sources.list.d/*.sources; do
		[ -f "$src" ] || continue
		u=$(awk '/^URIs:/ && $2 ~ /\/debian\/?$/ {print $2; exit}' "$src")
		[ -n "$u" ] && { echo "${u%/}"; return; }
	done
	[ -f /etc/apt/sources.list ] &&
		awk '$1 == "deb" && $2 ~ /\/debian\/?$/ {sub(/\/$/, "", $2); print $2; exit}' /etc/apt/sources.list
}

from_registry() { # from_registry FILE TMPDIR
	local f=$1 tmp=$2 pkg ver arch archive
	case $f in
	*.deb)
		IFS=_ read -r pkg ver arch <<<"${f%.deb}"
		# the pinned name drops the epoch; apt wants it: take it from the index
		local full
		full=$(apt-cache madison "$pkg" 2>/dev/null | awk -F'|' -v v="$ver" '
			{gsub(/ /, "", $2); s = $2; sub(/^[0-9]+:/, "", s); if (s == v) {print $2; exit}}')
		[ -n "$full" ] || return 1
		(cd "$tmp" && apt-get download -qq "$pkg=$full" >/dev/null 2>&1) || return 1
		local got
		got=$(ls "$tmp"/"${pkg}"_*.deb) || return 1
		[ "$got" = "$tmp/$f" ] || mv "$got" "$tmp/$f"
		;;
	qemu_*)
		archive=$(debian_archive) || return 1
		[ -n "$archive" ] || return 1
		curl -fsSL --retry 2 -o "$tmp/$f" "$archive/pool/main/q/qemu/$f" || return 1
		;;
	*) return 1 ;;
	esac
}

[ $# -gt 0 ] || die "usage: fetch-pinned.sh FILE..."
for f in "$@"; do
	[ -n "$(pin_of "$f")" ] || die "$f is not pinned in scripts/pins.sha256"
	if [ -f "$dl/$f" ] && verify "$f" "$dl/$f"; then
		continue
	fi
	tmp=$(mktemp -d "$dl/.tmp.XXXXXX")
	trap 'rm -rf "$tmp"' EXIT
	if from_registry "$f" "$tmp"; then
		origin=registry
	elif [ -n "${HVMMIO_VENDOR_DIR:-}" ] && [ -f "$HVMMIO_VENDOR_DIR/$f" ]; then
		cp "$HVMMIO_VENDOR_DIR/$f" "$tmp/$f"
		origin=$HVMMIO_VENDOR_DIR
	else
		die "cannot fetch $f: the registry does not serve it and it is not in \$HVMMIO_VENDOR_DIR (${HVMMIO_VENDOR_DIR:-unset})"
	fi
	if ! verify "$f" "$tmp/$f"; then
		die "checksum mismatch for $f (from $origin): expected $(pin_of "$f"), got $(sha256sum <"$tmp/$f" | cut -c1-64)"
	fi
	mv "$tmp/$f" "$dl/$f"
	rm -rf "$tmp"
	trap - EXIT
	log "fetched $f from $origin"
done
