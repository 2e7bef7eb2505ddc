# Scenario: timed MMIO loops for `hvmmio bench` (docs/benchmarks.md), with the guest module
# hvmmio_bench. Arguments (hvmmio run --args A,B,...), in order:
#   gtrace           turn the guest kernel's mmiotrace on for the measurements
#   emu:N            e1000e (8086:10d3) BAR0: N reads of STATUS (0x8), N writes of 0xffffffff
#                    to IMC (0xd8; masks interrupts, which nothing here enables)
#   vfio:N           hvmmio's vfio-user test device (1234:4d4d) BAR0: N reads and N writes of
#                    SCRATCH32 (0x8)
#   bar2:N           the test device's BAR2 page 0 (memory; the mmap fast path when untrapped)
#   hold:S           then print "hvmmio: step bench-done" and wait S seconds (the host
#                    queries QEMU meanwhile)
# Results: bench.txt, one line per measurement: NAME N READ_PS WRITE_PS ACCESSES RESULT;
# with gtrace, guest-mmiotrace.count (R/W records the guest's mmiotrace logged; the log
# itself is not sent back).
. /scenarios/lib.sh

P=/sys/module/hvmmio_bench/parameters
gtrace=
: >bench.txt
for a in "$@"; do
	case $a in
	gtrace)
		step mmiotrace-on
		mmiotrace_start /tmp/guest-mmiotrace.txt
		gtrace=1
		;;
	emu:* | vfio:* | bar2:*)
		name=${a%%:*} n=${a#*:}
		case $name in
		emu) p="vendor=0x8086 device=0x10d3 bar=0 roff=0x8 woff=0xd8 wval=0xffffffff" ;;
		vfio) p="vendor=0x1234 device=0x4d4d bar=0 roff=0x8 woff=0x8 wval=0x5a5a5a5a" ;;
		bar2) p="vendor=0x1234 device=0x4d4d bar=2 roff=0x0 woff=0x0 wval=0x5a5a5a5a" ;;
		esac
		step "bench $name n=$n"
		# shellcheck disable=SC2086
		modprobe hvmmio_bench $p n="$n" || fail "modprobe hvmmio_bench $p n=$n failed"
		r=$(cat $P/result)
		echo "$name $n $(cat $P/read_ps) $(cat $P/write_ps) $(cat $P/accesses) $r" >>bench.txt
		rmmod hvmmio_bench || fail "rmmod hvmmio_bench failed"
		tail -n 1 bench.txt
		[ "$r" = 0 ] || fail "hvmmio_bench $name failed: $(dmesg | grep hvmmio_bench | tail -n 2)"
		;;
	hold:*)
		[ -z "$gtrace" ] || { mmiotrace_stop; gtrace=; }
		step bench-done
		sleep "${a#*:}"
		;;
	*) fail "bench: unknown argument '$a'" ;;
	esac
done
if [ -n "$gtrace" ]; then
	step mmiotrace-off
	mmiotrace_stop
fi
if [ -f /tmp/guest-mmiotrace.txt ]; then
	grep -cE '^[RW] ' /tmp/guest-mmiotrace.txt >guest-mmiotrace.count
	cp /tmp/guest-mmiotrace.txt.overrun guest-mmiotrace.overrun 2>/dev/null
	rm -f /tmp/guest-mmiotrace.txt
fi
dmesg | grep hvmmio_bench >bench.log
cat bench.txt
