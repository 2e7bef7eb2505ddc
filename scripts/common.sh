# shellcheck shell=bash
# Shared helpers for hvmmio's set-up scripts (sourced, not run).

HVMMIO_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HVMMIO_CACHE_DIR=${HVMMIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hvmmio}
HVMMIO_PINS=${HVMMIO_PINS:-$HVMMIO_TOP/scripts/pins.sha256}
export HVMMIO_TOP HVMMIO_CACHE_DIR

# The pinned QEMU source (Debian's 1:10.2.2+ds-1, checksums in pins.sha256): build-qemu.sh
# builds hvmmio's QEMU from it, tests/bench/build-plugin-qemu.sh a stock one with TCG plugins
QEMU_VERSION=10.2.2
QEMU_FILES=(qemu_10.2.2+ds-1.dsc qemu_10.2.2+ds.orig.tar.xz qemu_10.2.2+ds-1.debian.tar.xz)

log() { printf '%s: %s\n' "${HVMMIO_LOG_TAG:-hvmmio}" "$*" >&2; }
die() { log "error: $*"; exit 1; }

# sha256 of a list of files and strings, for cache keys
hash_inputs() {
	local f
	for f in "$@"; do
		if [ -f "$f" ]; then
			printf '%s %s\n' "${f#"$HVMMIO_TOP"/}" "$(sha256sum <"$f" | cut -c1-64)"
		else
			printf 'str %s\n' "$f"
		fi
	done | sha256sum | cut -c1-16
}
