#!/usr/bin/env bash
# demo.sh: set up (scripts/setup.sh), then show hvmmio at work, traced from both sides:
#   - a guest boots under hvmmio's QEMU (TCG here; KVM where it is fast) with two devices
#     traced by the hypervisor into one file: hvmmio's vfio-user test device (served by
#     hvmmio-testdev) and QEMU's emulated e1000e;
#   - inside, the guest kernel's own mmiotrace is on while the guest test driver checks
#     the test device and the real e1000e driver probes the e1000e and brings its link up;
#   - hvmmio compare cross-checks the guest's log against the host's, hvmmio stat
#     summarises the host trace.
# Usage: scripts/demo.sh [OUTPUT-DIR]   (default hvmmio-out/demo)
set -euo pipefail
HVMMIO_LOG_TAG=demo
. "$(dirname "$0")/common.sh"
cd "$HVMMIO_TOP"

scripts/setup.sh
hvmmio=${HVMMIO_BUILD_DIR:-build}/tools/hvmmio
out=${1:-hvmmio-out/demo}
trace=host-mmiotrace.txt
props=mmiotrace=on,mmiotrace-file=$trace,mmiotrace-insn=on,mmiotrace-dma=on
t0=$(date +%s%N)

cat <<EOT

== 1. Boot a guest with two traced devices (the hypervisor writes $out/$trace)
   hvmmio run --testdev=$props -d e1000e,id=nic0,$props demo
EOT
"$hvmmio" run --testdev="$props" -d "e1000e,id=nic0,$props" -o "$out" demo
echo
sed -n 's/^/   guest: /p' "$out/scenario.log" | grep -E 'PASS|MAC|mmiotrace:' || true

cat <<EOT

== 2. Cross-check: the guest kernel's own mmiotrace log against the hypervisor's trace
   hvmmio compare $out/guest-mmiotrace.txt $out/$trace
EOT
rc=0
"$hvmmio" compare "$out/guest-mmiotrace.txt" "$out/$trace" | sed 's/^/   /' || rc=$?

cat <<EOT

== 3. What the hypervisor saw (accesses, interrupts, DMA): hvmmio stat $out/$trace
EOT
"$hvmmio" stat --top 6 "$out/$trace" | sed 's/^/   /'

cat <<EOT

== 4. A few host records: the kernel's fields first (demmio reads them), then hvmmio's
EOT
grep -m1 '^R .*dev=testdev' "$out/$trace" | cut -c1-160 | sed 's/^/   /'
grep -m1 '^W .*dev=nic0' "$out/$trace" | cut -c1-160 | sed 's/^/   /'

# module symbols are saved as each module loads (kernel-guest/scenarios/lib.sh): the test
# driver's too, though it was unloaded before e1000e was loaded (at the same address, often)
syms=$out/kallsyms-modules.txt.gz
nic_syms=()
[ -f "$syms" ] && nic_syms=(--symbols "$syms")
cat <<EOT

== 5. The same records by name: register maps (regmaps/) and the guest module's functions
   hvmmio decode --accesses --regs nic0=regmaps/e1000e.yaml ${nic_syms[*]} (the e1000e's records)
   hvmmio decode --accesses --regs testdev=regmaps/hvmmio-testdev.yaml ${nic_syms[*]} (the test device's)
EOT
grep -v ' dev=testdev' "$out/$trace" |
	"$hvmmio" decode --accesses --regs nic0=regmaps/e1000e.yaml "${nic_syms[@]}" - \
		>"$out/decoded-nic0.txt" || rc=1
grep -v ' dev=nic0' "$out/$trace" |
	"$hvmmio" decode --accesses --regs testdev=regmaps/hvmmio-testdev.yaml "${nic_syms[@]}" - \
		>"$out/decoded-testdev.txt" || rc=1
{ grep -m3 -E ' (CTRL|STATUS) = ' "$out/decoded-nic0.txt"; grep -m2 ' SCRATCH' "$out/decoded-testdev.txt"; } |
	cut -c1-150 | sed 's/^/   /' || true
elapsed=$((($(date +%s%N) - t0) / 1000000000))

cat <<EOT

Files in $out/:
  $trace        the hypervisor's trace of both devices (mmiotrace format + hvmmio's facts)
  guest-mmiotrace.txt      the guest kernel's own mmiotrace log, brought back from the guest
  decoded-nic0.txt, decoded-testdev.txt   the host trace by register name, field and function
  console.log, scenario.log, testdrv.log, qemu.cmdline, testdev.log
Demo run (after set-up): ${elapsed} s. Next: hvmmio replay, hvmmio --help, README.md.
EOT
exit $rc
