#!/usr/bin/env bash
# style: hvmmio's QEMU-side code (hw/mmiotrace/) and its patch series (qemu-patches/) pass
# QEMU's own scripts/checkpatch.pl
# (from the QEMU source the build uses) without errors. Warnings (lines of 81-90 columns)
# are allowed, as QEMU allows them. One exception, stated here: the property-list macro
# DEFINE_MMIOTRACE_PCI_PROPERTIES cannot be parenthesized (it expands to initializers, as
# QEMU's own DEFINE_*_PROPERTIES do). Prints TAP: one line per file.
set -euo pipefail
top=${HVMMIO_TOP:?}
checkpatch=${QEMU_SRC:-}/scripts/checkpatch.pl
if [ -z "${QEMU_SRC:-}" ] || [ ! -f "$checkpatch" ]; then
	echo "1..0 # SKIP QEMU's source (scripts/checkpatch.pl) is not there: no -Dqemu_build_dir"
	exit 0
fi
cd "$top"
n=0 bad=0
for f in hw/mmiotrace/*.c hw/mmiotrace/*.h; do
	n=$((n + 1))
	errors=$(cd "$QEMU_SRC" && perl scripts/checkpatch.pl --no-tree --terse -f "$top/$f" 2>&1 |
		grep 'ERROR' | grep -v 'mmiotrace\.h:[0-9]*: ERROR: Macros with complex values' || true)
	if [ -z "$errors" ]; then
		echo "ok $n - $f"
	else
		bad=$((bad + 1))
		echo "not ok $n - $f"
		printf '%s\n' "$errors" | head -10 | sed "s|$top/||; s/^/#   /"
	fi
done
# the patch series: QEMU's own rules for patches (Signed-off-by, SPDX of new files, style of
# the lines they add)
while read -r p; do
	case $p in '' | '#'*) continue ;; esac
	n=$((n + 1))
	errors=$(cd "$QEMU_SRC" && perl scripts/checkpatch.pl --no-tree --terse "$top/qemu-patches/$p" 2>&1 |
		grep 'ERROR' || true)
	if [ -z "$errors" ]; then
		echo "ok $n - qemu-patches/$p"
	else
		bad=$((bad + 1))
		echo "not ok $n - qemu-patches/$p"
		printf '%s\n' "$errors" | head -10 | sed "s|$top/||; s/^/#   /"
	fi
done <"$top/qemu-patches/series"
echo "1..$n"
[ $bad = 0 ]
