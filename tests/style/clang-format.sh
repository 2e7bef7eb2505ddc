#!/usr/bin/env bash
# style: every C file of the project's own code (trace/, tools/, tests/, examples/) is as .clang-format
# says. QEMU-side code (hw/mmiotrace/) follows QEMU's style instead and is not checked here.
# Prints TAP: one line per file.
set -euo pipefail
top=${HVMMIO_TOP:?}
cd "$top"
command -v clang-format >/dev/null || { echo "1..0 # SKIP clang-format is not installed"; exit 0; }
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	mapfile -t files < <(git ls-files -co --exclude-standard 'trace/*.[ch]' 'tools/*.[ch]' 'tests/*.[ch]' 'examples/*.[ch]')
else
	mapfile -t files < <(find trace tools tests examples -name '*.[ch]' | sort)
fi
n=0 bad=0
for f in "${files[@]}"; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	if out=$(clang-format --dry-run --Werror "$f" 2>&1); then
		echo "ok $n - $f"
	else
		bad=$((bad + 1))
		echo "not ok $n - $f (run: clang-format -i $f)"
		printf '%s\n' "$out" | head -6 | sed 's/^/#   /'
	fi
done
echo "1..$n"
[ $bad = 0 ]
