#!/usr/bin/env bash
# test.sh: set everything up (scripts/setup.sh), then run the whole test suite:
# the unit tests under AddressSanitizer and UndefinedBehaviorSanitizer, then every suite
# (unit, integration, fuzz) of the normal build. Ends with "N passed, N failed".
set -euo pipefail
HVMMIO_LOG_TAG=test
. "$(dirname "$0")/common.sh"
cd "$HVMMIO_TOP"

scripts/setup.sh

build=${HVMMIO_BUILD_DIR:-build}
san=$build-sanitize
# meson's b_sanitize: the hvmmio command the tests run is sanitized too, not only the tests
san_opts=(-Dsanitize=true -Db_sanitize=address,undefined -Db_lundef=false)
if [ -f "$san/build.ninja" ]; then
	meson configure "$san" "${san_opts[@]}" >/dev/null
else
	meson setup "$san" "${san_opts[@]}" >/dev/null
fi
log "unit tests under ASan+UBSan ($san)"
san_rc=0
meson test -C "$san" --suite unit --print-errorlogs || san_rc=$?

log "all suites ($build)"
rc=0
meson test -C "$build" --no-suite bench --print-errorlogs "$@" || rc=$?

# one closing line over both runs
python3 - "$san/meson-logs/testlog.json" "$build/meson-logs/testlog.json" <<'PY'
import json, sys
ok = bad = skip = 0
for path in sys.argv[1:]:
    try:
        lines = open(path).readlines()
    except OSError:
        lines = []
    for line in lines:
        if not line.strip():
            continue
        try:
            r = json.loads(line)["result"]
        except (ValueError, KeyError):
            bad += 1    # a log line that is not a test result: count it against the run
            continue
        if r in ("OK", "EXPECTEDFAIL"): ok += 1
        elif r == "SKIP": skip += 1
        else: bad += 1
print(f"{ok} passed, {bad} failed, {skip} skipped")
PY
[ $san_rc = 0 ] && [ $rc = 0 ]
