# shellcheck shell=bash
# Shared helpers for hvmmio's set-up scripts (sourced, not run).

HVMMIO_TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HVMMIO_CACHE_DIR=${HVMMIO_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/hvmmio}
HVMMIO_PINS=${HVMMIO_PINS:-$HVMMIO_TOP/scripts/pins.sha256}
export HVMMIO_TOP HVMMIO_CACHE_DIR

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
