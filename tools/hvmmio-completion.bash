# bash completion for hvmmio: commands, each command's options and run/replay's scenarios,
# all read from hvmmio itself (its --help and `hvmmio run --list-scenarios`), so that they
# cannot drift from the program. Installed as share/bash-completion/completions/hvmmio.
_hvmmio() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]} cmd words
	local prog=${COMP_WORDS[0]}
	if [ "$COMP_CWORD" -eq 1 ]; then
		words=$("$prog" --help 2>/dev/null | awk '/^Commands:/ { f = 1; next }
			f && /^  [a-z]/ { print $1 } f && /^[^ ]/ { f = 0 }')
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
	fi
	cmd=${COMP_WORDS[1]}
	if [[ $cur == -* ]]; then
		words=$("$prog" "$cmd" --help 2>/dev/null | grep -oE -- '(^|[ ,])--?[a-zA-Z][a-zA-Z0-9-]*' |
			sed 's/^[ ,]//' | sort -u)
		mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
		return
	fi
	case $cmd in
	run)
		# the scenario: the first word that is not an option or an option's value
		if [[ $prev != -* ]] || [[ $prev == --*=* ]]; then
			words=$("$prog" run --list-scenarios 2>/dev/null)
			mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
			[ ${#COMPREPLY[@]} -gt 0 ] && return
		fi
		;;
	replay)
		if [ "$prev" = --scenario ]; then
			words=$("$prog" run --list-scenarios 2>/dev/null)
			mapfile -t COMPREPLY < <(compgen -W "$words" -- "$cur")
			return
		fi
		;;
	esac
	mapfile -t COMPREPLY < <(compgen -f -- "$cur")
}
complete -o filenames -F _hvmmio hvmmio
