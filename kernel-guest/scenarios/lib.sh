# Helpers for scenario scripts (sourced: `. /scenarios/lib.sh`).
# Results go in the current directory (/results), which the host gets back.
T=/sys/kernel/debug/tracing

step() { echo "hvmmio: step $*" >/dev/console; echo "== $*"; }
fail() { echo "FAIL: $*"; exit 1; }

# mmiotrace_start FILE: turn on the guest kernel's mmiotrace and stream it into FILE.
# Only ioremaps made after this are traced: load drivers afterwards.
mmiotrace_start() {
	echo 64000 >$T/buffer_size_kb || fail "cannot size the trace buffer"
	echo mmiotrace >$T/current_tracer || fail "cannot select the mmiotrace tracer"
	echo 1 >$T/tracing_on
	cat $T/trace_pipe >"$1" &
	MMIOTRACE_READER=$!
	MMIOTRACE_FILE=$1
}

mark() { echo "$*" >$T/trace_marker; }

# mmiotrace_stop: stop recording, let the reader drain the buffer (trace_pipe ends by
# itself once tracing is off and it is empty), record the ring buffer's overrun count.
mmiotrace_stop() {
	echo 0 >$T/tracing_on
	n=0
	while kill -0 "$MMIOTRACE_READER" 2>/dev/null && [ $n -lt 150 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	if kill -0 "$MMIOTRACE_READER" 2>/dev/null; then
		echo "warning: trace reader did not finish in 15 s; stopped it"
		kill "$MMIOTRACE_READER"
	fi
	wait "$MMIOTRACE_READER" 2>/dev/null
	grep -h overrun $T/per_cpu/cpu*/stats | awk '{s += $2} END {print s + 0}' >"$MMIOTRACE_FILE.overrun"
	echo nop >$T/current_tracer
	echo 1 >$T/tracing_on
	echo "guest mmiotrace: $(wc -l <"$MMIOTRACE_FILE") lines, overrun $(cat "$MMIOTRACE_FILE.overrun")"
	save_symbols
}

# ---- module symbols, for `hvmmio decode/symbolize/stat --symbols` (docs/regmap.md) ----
# Each module's text symbols and section addresses are taken right after it loads (modprobe,
# insmod), again when the guest tracer stops, and kept: a module unloaded before the end
# still names its PCs, and one loaded again elsewhere is a new instance. Every load and
# unload is numbered in order (event numbers), so that the host tools know which instance
# held an address when several did in turn. Written to the results at each change:
#   kallsyms-modules.txt.gz  per instance "# hvmmio-module NAME TEXT SIZE loaded=N
#                            unloaded=N|-", then its text symbols from /proc/kallsyms
#   module-text.txt          "NAME TEXT" per instance (a FILE.ko@TEXT for --symbols)
#   module-sections.txt      "NAME loaded=N unloaded=N|- SECTION=ADDR ..." per instance
MODSYMS=/tmp/hvmmio-modsyms

# modsyms_next: print the next event number
modsyms_next() {
	mkdir -p $MODSYMS
	echo $(($(cat $MODSYMS/seq 2>/dev/null || echo 0) + 1)) >$MODSYMS/seq
	cat $MODSYMS/seq
}

# (the functions below keep their variables local, prefixed ms_: scenarios' own survive)

# modsyms_snap N: every loaded module not yet saved at its .text address, as an instance
# loaded at event N
modsyms_snap() {
	local ms_t ms_m ms_i ms_s ms_new=
	mkdir -p $MODSYMS
	for ms_t in /sys/module/*/sections/.text; do
		[ -r "$ms_t" ] || continue
		ms_m=${ms_t#/sys/module/}
		ms_m=${ms_m%/sections/.text}
		ms_i=$MODSYMS/$ms_m@$(cat "$ms_t")
		if [ -e "$ms_i.loaded" ]; then
			rm -f "$ms_i.unloaded" # loaded again at the same address: the same symbols
			continue
		fi
		echo "$1" >"$ms_i.loaded"
		cat "/sys/module/$ms_m/coresize" >"$ms_i.size" 2>/dev/null || echo 0 >"$ms_i.size"
		for ms_s in "/sys/module/$ms_m/sections/".[a-z]* "/sys/module/$ms_m/sections/"*; do
			[ -r "$ms_s" ] && printf ' %s=%s' "${ms_s##*/}" "$(cat "$ms_s")"
		done >"$ms_i.sections"
		ms_new="$ms_new $ms_i"
	done
	[ -n "$ms_new" ] || return 0
	grep -E '^[0-9a-f]+ [tTwW] .*\[' /proc/kallsyms >$MODSYMS/kallsyms # once: it is slow
	for ms_i in $ms_new; do
		ms_m=${ms_i##*/}
		grep "$(printf '\t')\\[${ms_m%@*}\\]\$" $MODSYMS/kallsyms >"$ms_i.syms"
	done
	modsyms_save
}

# modsyms_unloaded NAME...: note their instances' unloading
modsyms_unloaded() {
	local ms_n ms_m ms_l
	ms_n=$(modsyms_next)
	for ms_m in "$@"; do
		case $ms_m in -*) continue ;; esac
		ms_m=$(echo "${ms_m%.ko}" | tr - _)
		for ms_l in "$MODSYMS/${ms_m##*/}"@*.loaded; do
			[ -e "$ms_l" ] && [ ! -e "${ms_l%.loaded}.unloaded" ] && echo "$ms_n" >"${ms_l%.loaded}.unloaded"
		done
	done
	modsyms_save
}

# modsyms_save: the instances into the results
modsyms_save() {
	local ms_out=${HVMMIO_RESULTS:-.} ms_l ms_i ms_n ms_u
	: >"$ms_out/module-text.txt"
	: >"$ms_out/module-sections.txt"
	for ms_l in "$MODSYMS"/*.loaded; do
		[ -e "$ms_l" ] || continue
		ms_i=${ms_l%.loaded}
		ms_n=${ms_i##*/}
		ms_u=$(cat "$ms_i.unloaded" 2>/dev/null || echo -)
		echo "# hvmmio-module ${ms_n%@*} ${ms_n#*@} $(cat "$ms_i.size") loaded=$(cat "$ms_l") unloaded=$ms_u"
		cat "$ms_i.syms"
		echo "${ms_n%@*} ${ms_n#*@}" >>"$ms_out/module-text.txt"
		echo "${ms_n%@*} loaded=$(cat "$ms_l") unloaded=$ms_u$(cat "$ms_i.sections")" >>"$ms_out/module-sections.txt"
	done | gzip -c >"$ms_out/kallsyms-modules.txt.gz"
}

# modprobe, insmod, rmmod: the commands, with the module snapshots above
modprobe() {
	local ms_n ms_rc=0
	case $1 in
	-r) shift; rmmod "$@"; return ;;
	-*) command modprobe "$@"; return ;;
	esac
	ms_n=$(modsyms_next)
	command modprobe "$@" || ms_rc=$?
	modsyms_snap "$ms_n"
	return $ms_rc
}
insmod() {
	local ms_n ms_rc=0
	ms_n=$(modsyms_next)
	command insmod "$@" || ms_rc=$?
	modsyms_snap "$ms_n"
	return $ms_rc
}
rmmod() {
	command rmmod "$@" || return
	modsyms_unloaded "$@"
}

# save_symbols: the modules loaded by other means too (when the guest tracer stops). The
# kernel's own symbols are left out: /proc/kallsyms whole is ~6 MB for the results channel.
save_symbols() {
	modsyms_snap "$(modsyms_next)"
}

# Load the e1000e driver and wait (up to 5 s) for its eth0.
load_e1000e() {
	modprobe e1000e || fail "modprobe e1000e failed"
	n=0
	while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	[ -e /sys/class/net/eth0 ] || fail "no eth0 after loading e1000e"
}
