#!/usr/bin/env bash
# workbench.sh: throughput and peak memory of hvmmio decode, symbolize, convert --to perfetto,
# stat --regs and report
# (docs/regmap.md) on a generated e1000e host trace (extended lines: ns, vcpu, dev, bar/off, PC
# in module symbols) at two sizes, so that flat memory shows as equal peaks. Prints a table:
# records/s by wall clock and by CPU time, and the peak resident set (KiB).
#   tests/bench/workbench.sh [-n RECORDS] [-o DIR]     (default 2000000 records, and 4x that)
# Needs build/tools/hvmmio (or $HVMMIO) and GNU time (/usr/bin/time).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
HVMMIO=${HVMMIO:-$here/../../build/tools/hvmmio}
maps=$here/../../regmaps
n=2000000 out=
while getopts n:o: o; do
	case $o in
	n) n=$OPTARG ;; o) out=$OPTARG ;;
	*) echo "usage: $0 [-n RECORDS] [-o DIR]" >&2; exit 2 ;;
	esac
done
if [ -z "$out" ]; then
	out=$(mktemp -d)
	trap 'rm -rf "$out"' EXIT
fi
mkdir -p "$out"

# module symbols: 400 functions of 0x100 bytes in "e1000e" from 0xffffffffc0a00000
awk 'BEGIN { for (i = 0; i < 400; i++) printf "%x t fn_%d\t[e1000e]\n", 0xc0a00000 + i * 256, i }' |
	sed 's/^/ffffffff/' >"$out/kallsyms.txt"

# N accesses to 64 e1000e registers (reads and writes), PCs spread over the 400 functions
gen() {
	awk -v n="$1" 'BEGIN {
		srand(1)
		print "VERSION 20070824"
		print "PCIDEV 0008 808610d3 a feba0000 febc0000 c041 febe0000 0 0 0 20000 20000 20 4000 0 0 0  dev=nic0"
		print "MAP 0.001000 1 0xfeba0000 0x0 0x20000 0x0 0 ns=1000000 dev=nic0 bar=0 off=0x0"
		split("0 8 10 14 18 20 c0 c4 c8 d0 d8 100 400 2800 2804 2808 2810 2818 3800 3804 3808 3810 3818 5400 5404 5408 540c 5200 5204 5b50 f00 5820", offs, " ")
		for (i = 0; i < n; i++) {
			off = offs[1 + (i * 7) % 32]
			o = strtonum("0x" off)
			ns = 2000000 + i * 250
			pc = 3231711232 + ((i * 13) % 400) * 256 + 16
			printf "%s 4 %d.%06d 1 0x%x 0x%x 0xffffffff%x 0 ns=%d vcpu=%d dev=nic0 bar=0 off=0x%s\n",
				(i % 3 ? "R" : "W"), int(ns / 1e9), int((ns % 1e9 + 500) / 1000), 4273602560 + o,
				(i * 2654435761) % 4294967296, pc, ns, i % 2, off
		}
	}'
}

t() { # label records command...: one row of the table
	local label=$1 recs=$2
	shift 2
	/usr/bin/time -f '%e %U %S %M' -o "$out/time" "$@" >/dev/null 2>"$out/err" ||
		{ cat "$out/err" >&2; exit 1; }
	read -r wall user sys rss <"$out/time"
	awk -v l="$label" -v n="$recs" -v w="$wall" -v u="$user" -v s="$sys" -v r="$rss" 'BEGIN {
		cpu = u + s; if (w < 0.01) w = 0.01; if (cpu < 0.01) cpu = 0.01
		printf "%-34s %10d %8.2f %12.0f %12.0f %10d\n", l, n, w, n / w, n / cpu, r }'
}

printf '%-34s %10s %8s %12s %12s %10s\n' command records wall-s "rec/s wall" "rec/s CPU" "peak KiB"
for size in "$n" $((4 * n)); do
	gen "$size" >"$out/trace.txt"
	recs=$((size + 3))
	t "decode --regs --symbols" $recs "$HVMMIO" decode "$out/trace.txt" --regs "$maps/e1000e.yaml" \
		--symbols "$out/kallsyms.txt" -o /dev/null
	t "symbolize" $recs "$HVMMIO" symbolize "$out/trace.txt" --symbols "$out/kallsyms.txt" \
		-o /dev/null
	t "convert --to perfetto --regs --symbols" $recs "$HVMMIO" convert "$out/trace.txt" - --to perfetto \
		--regs "$maps/e1000e.yaml" --symbols "$out/kallsyms.txt" -q
	t "stat --regs --top-functions" $recs "$HVMMIO" stat "$out/trace.txt" --regs "$maps/e1000e.yaml" \
		--symbols "$out/kallsyms.txt"
	t "report --regs --symbols" $recs "$HVMMIO" report "$out/trace.txt" --regs "$maps/e1000e.yaml" \
		--symbols "$out/kallsyms.txt" -o "$out/report.html"
	echo "  (report.html: $(wc -c <"$out/report.html") bytes)"
done
