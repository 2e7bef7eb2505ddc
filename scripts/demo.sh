#!/usr/bin/env bash
# demo.sh: set up (scripts/setup.sh), then show hvmmio at work: boot a guest under hvmmio's
# QEMU with an emulated e1000e, let the real e1000e driver probe it with the guest's own
# mmiotrace on, bring the trace back and summarise it.
set -euo pipefail
HVMMIO_LOG_TAG=demo
. "$(dirname "$0")/common.sh"
cd "$HVMMIO_TOP"

scripts/setup.sh
hvmmio=${HVMMIO_BUILD_DIR:-build}/tools/hvmmio
out=${1:-hvmmio-out/demo}

echo
echo "== Booting a guest: the real e1000e driver probes an emulated e1000e"
"$hvmmio" run -d e1000e -o "$out" e1000e-probe
echo
echo "== The guest kernel's own mmiotrace of that probe"
"$hvmmio" stat --top 8 "$out/guest-mmiotrace.txt"
echo
echo "Files: $out/ (guest-mmiotrace.txt, console.log, scenario.log, qemu.cmdline)"
