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

# save_symbols: the loaded modules' text symbols from /proc/kallsyms (gzip'ed) and each
# module's .text address, for `hvmmio decode/symbolize --symbols` (docs/regmap.md). The
# kernel's own symbols are left out: /proc/kallsyms whole is ~6 MB for the results channel.
save_symbols() {
	grep -E '^[0-9a-f]+ [tTwW] .*\[' /proc/kallsyms | gzip -c >kallsyms-modules.txt.gz
	for m in /sys/module/*/sections/.text; do
		[ -r "$m" ] && echo "${m#/sys/module/}" "$(cat "$m")"
	done | sed 's|/sections/.text||' >module-text.txt
}
