#!/usr/bin/env bash
# The man pages (tools/gen-man.py) and the bash completion (tools/hvmmio-completion.bash):
# every command has a page that renders without warnings and names every option of its
# --help; completion offers the commands, a command's options and run's scenarios.
# Environment: HVMMIO, MANDIR (the generated pages), COMPLETION. Prints TAP.
set -uo pipefail
: "${HVMMIO:?}" "${MANDIR:?}" "${COMPLETION:?}"
n=0 bad=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); bad=$((bad + 1)); echo "not ok $n - $1"; [ -n "${2:-}" ] && echo "#   $2"; }

commands=$("$HVMMIO" --help | awk '/^Commands:/ { f = 1; next } f && /^  [a-z]/ { print $1 }')
[ -n "$commands" ] && ok "hvmmio --help lists commands" || nok "hvmmio --help lists no command"
for page in hvmmio $(printf 'hvmmio-%s\n' $commands); do
	f=$MANDIR/$page.1
	if [ ! -f "$f" ]; then
		nok "$page.1 exists"
		continue
	fi
	if command -v groff >/dev/null; then
		w=$(groff -man -Tutf8 -ww -z "$f" 2>&1)
		[ -z "$w" ] && ok "$page.1 renders without warnings" || nok "$page.1 renders" "$w"
	fi
done
for c in $commands; do
	[ "$c" = qemu ] && continue # its options are QEMU's
	missing=
	text=$(sed 's/\\-/-/g' "$MANDIR/hvmmio-$c.1")
	for o in $("$HVMMIO" "$c" --help 2>&1 | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -qF -- "$o" <<<"$text" || missing="$missing $o"
	done
	[ -z "$missing" ] && ok "hvmmio-$c.1 names every option of hvmmio $c --help" ||
		nok "hvmmio-$c.1 misses options" "$missing"
done

# completion, as bash runs it
complete_words() { # complete_words WORD...: what completing the last word offers
	bash -c '. "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$((${#COMP_WORDS[@]} - 1));
		_hvmmio; printf "%s\n" "${COMPREPLY[@]}"' _ "$COMPLETION" "$@"
}
PATH=$(dirname "$HVMMIO"):$PATH
got=$(complete_words hvmmio st)
grep -qx stat <<<"$got" && ok "completion: 'hvmmio st' offers stat" || nok "completion: st" "$got"
got=$(complete_words hvmmio stat --to)
grep -qx -- --top <<<"$got" && ok "completion: 'hvmmio stat --to' offers --top" ||
	nok "completion: stat --to" "$got"
got=$(complete_words hvmmio compare --max)
grep -qx -- --max-report <<<"$got" && ok "completion: 'hvmmio compare --max' offers --max-report" ||
	nok "completion: compare --max" "$got"
if scen=$("$HVMMIO" run --list-scenarios 2>/dev/null) && [ -n "$scen" ]; then
	first=$(head -1 <<<"$scen")
	got=$(complete_words hvmmio run "${first:0:3}")
	grep -qx -- "$first" <<<"$got" && ok "completion: 'hvmmio run ${first:0:3}' offers $first" ||
		nok "completion: run scenarios" "$got"
else
	echo "ok $((n += 1)) - completion of scenarios # SKIP no guest image"
fi
echo "1..$n"
[ $bad = 0 ]
