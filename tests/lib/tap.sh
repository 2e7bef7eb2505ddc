# SPDX-License-Identifier: GPL-2.0-or-later
# TAP for the shell tests: check NAME EXPR prints "ok N - NAME" if the shell expression
# EXPR succeeds, else "not ok N - NAME" (sourced: . "$(dirname "$0")/../lib/tap.sh").
n=0
check() {
	n=$((n + 1))
	if eval "$2"; then echo "ok $n - $1"; else echo "not ok $n - $1"; fi
}
