#!/usr/bin/env bash
# smp-scale.sh: the cost of a traced access when every vCPU hammers at once (docs/benchmarks.md,
# "Several vCPUs"). For each -smp N in SMPS and each repetition, two boots under TCG (MTTCG):
# the e1000e untraced, then traced into a file (kernel-compatible lines, the default ring);
# in each the guest driver's seq=smp bench phase has a thread on every vCPU time BENCH_N
# reads of e1000e STATUS at the same time. Prints one line per boot and, per N, the medians
# of the per-vCPU mean cost and of traced/untraced.
#   tests/bench/smp-scale.sh [-n BENCH_N] [-r REPS] [-s "1 2 4"] [-o DIR] [-x EXTRA_PROPS]
# Needs build/tools/hvmmio (or $HVMMIO) and a guest image with the smp scenario.
set -euo pipefail
HVMMIO=${HVMMIO:-$(dirname "$0")/../../build/tools/hvmmio}
n=300000 reps=3 smps="1 2 4" out=hvmmio-out/smp-scale extra=
while getopts n:r:s:o:x: o; do
	case $o in
	n) n=$OPTARG ;; r) reps=$OPTARG ;; s) smps=$OPTARG ;; o) out=$OPTARG ;; x) extra=,$OPTARG ;;
	*) echo "usage: $0 [-n BENCH_N] [-r REPS] [-s SMPS] [-o DIR] [-x EXTRA_PROPS]" >&2; exit 2 ;;
	esac
done
mkdir -p "$out"
res=$out/results.txt
: >"$res"
for r in $(seq "$reps"); do
	for s in $smps; do
		for mode in untraced traced; do
			props=
			[ $mode = traced ] && props=",mmiotrace=on,mmiotrace-file=host.txt,mmiotrace-compat=on$extra"
			d=$out/smp$s-$mode-$r
			"$HVMMIO" run -q --accel tcg --smp "$s" --testdev -o "$d" --args "0,$n" \
				-d "e1000e,id=nic0$props" smp >/dev/null || { echo "boot $d failed" >&2; exit 1; }
			ps=$(awk '$1 == "smp_bench_ps" {print $2}' "$d/verdict")
			mean=$(echo "$ps" | tr ',' '\n' | awk '{s += $1; k++} END {printf "%.0f", s / k / 1000}')
			echo "smp $s $mode rep $r ns/read per vCPU: $(echo "$ps" | tr ',' '\n' | awk '{printf "%s%.0f", (NR > 1 ? "," : ""), $1 / 1000}') mean $mean" | tee -a "$res"
			rm -f "$d/host.txt"
		done
	done
done
echo "medians over $reps boots (ns per read, mean over the vCPUs):"
for s in $smps; do
	u=$(awk -v s="$s" '$2 == s && $3 == "untraced" {print $NF}' "$res" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
	t=$(awk -v s="$s" '$2 == s && $3 == "traced" {print $NF}' "$res" | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
	# the ratio of each repetition's pair, then their median
	ratio=$(for r in $(seq "$reps"); do
		awk -v s="$s" -v r="$r" '$2 == s && $5 == r {v[$3] = $NF} END {printf "%.3f\n", v["traced"] / v["untraced"]}' "$res"
	done | sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}')
	echo "smp $s: untraced $u, traced $t, traced/untraced $ratio"
done
