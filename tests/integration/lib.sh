# Helpers for integration tests (sourced). Each test gets $HVMMIO (the built tool) and
# $OUT (its own output folder) from tests/integration/meson.build.
set -euo pipefail
: "${HVMMIO:?}" "${OUT:?}"
rm -rf "$OUT"
mkdir -p "$OUT"

fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

