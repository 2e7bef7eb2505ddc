# Scenario: the guest driver hvmmio_testdrv checks hvmmio's vfio-user test device
# (docs/testdev.md; `hvmmio run --testdev testdrv`) with the guest's mmiotrace on, then is
# unloaded. Arguments (hvmmio run --args SEQ[,BENCH_N]): the driver's sequence, all (default),
# basic or bench, and bench_n for bench; bench runs without the guest's mmiotrace (it would
# dominate the timing).
# Results: guest-mmiotrace.txt, testdrv.log (the driver's kernel log lines), verdict.
. /scenarios/lib.sh

seq=${1:-all}
P=/sys/module/hvmmio_testdrv/parameters
grep -qx 0x1234 /sys/bus/pci/devices/*/vendor 2>/dev/null &&
	grep -qx 0x4d4d /sys/bus/pci/devices/*/device ||
	fail "no PCI device 1234:4d4d: run with --testdev"

if [ "$seq" != bench ]; then
	step mmiotrace-on
	mmiotrace_start guest-mmiotrace.txt
	mark "hvmmio: testdrv seq=$seq load"
fi
step load-testdrv
modprobe hvmmio_testdrv seq="$seq" ${2:+bench_n="$2"} ||
	fail "modprobe hvmmio_testdrv seq=$seq ${2:+bench_n=$2} failed"
# probing an existing device happens inside modprobe; allow for an asynchronous probe anyway
n=0
while [ "$(cat $P/result)" = -1 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
result=$(cat $P/result)
{
	echo "seq $seq"
	for p in result checks bench_read_ns bench_write_ns; do echo "$p $(cat $P/$p)"; done
} >verdict
step unload-testdrv
rmmod hvmmio_testdrv || fail "rmmod hvmmio_testdrv failed"
if [ "$seq" != bench ]; then
	mark "hvmmio: testdrv unloaded"
	step mmiotrace-off
	mmiotrace_stop
fi

dmesg | grep 'hvmmio_testdrv' >testdrv.log
cat testdrv.log
[ "$result" != -1 ] || fail "hvmmio_testdrv did not probe the device (see testdrv.log)"
[ "$result" = 0 ] || fail "hvmmio_testdrv: FAIL $result checks (see testdrv.log)"
echo "hvmmio_testdrv: PASS"
