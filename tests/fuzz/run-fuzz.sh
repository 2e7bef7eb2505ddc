#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run a libFuzzer harness for a bounded time over the checked-in seeds plus the fixtures.
# Usage: run-fuzz.sh FUZZER SEED_DIR FIXTURES_DIR WORK_DIR SECONDS [libFuzzer options...]
# Exits non-zero (libFuzzer's status) on a crash, sanitizer report, leak or timeout; the
# reproducer is left in WORK_DIR/artifacts/.
set -eu
fuzzer=$1 seeds=$2 fixtures=$3 work=$4 secs=$5
shift 5
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$work/corpus" "$work/artifacts" "$work/fixtures"
if [ "$(basename "$fuzzer")" = fuzz-reader ]; then
	# fuzz-reader's first byte picks the mode: 0 = text as is, 1 = compressed as is
	for f in "$fixtures"/*.mmiotrace "$fixtures"/*.mmiotrace.gz "$fixtures"/*.mmiotrace.xz \
		"$fixtures"/*.mmiotrace.zst; do
		[ -f "$f" ] || continue
		case $f in *.mmiotrace) m='\000' ;; *) m='\001' ;; esac
		{ printf "$m"; cat "$f"; } >"$work/fixtures/$(basename "$f")"
	done
fi
exec "$fuzzer" -max_total_time="$secs" -rss_limit_mb=512 -timeout=10 -max_len=200000 \
	-dict="$here/mmiotrace.dict" -artifact_prefix="$work/artifacts/" -print_final_stats=1 -error_exitcode=1 -timeout_exitcode=1 \
	"$@" "$work/corpus" "$seeds" "$work/fixtures"
