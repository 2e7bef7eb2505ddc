# Scenario: the guest driver hvmmio_testdrv's SMP mode (seq=smp): one kernel thread bound to
# each online CPU hammers the test device (`hvmmio run --testdev --smp N smp`), and an
# emulated e1000e if one is present (`-d e1000e,...`), all at once; see testdrv_smp() in
# kernel-guest/modules/hvmmio_testdrv. The guest's own mmiotrace stays off: it would take
# every CPU but one offline. Arguments (hvmmio run --args N[,BENCH_N]): iterations per CPU
# and phase (default 1000), and timed e1000e reads per CPU (default 0: no bench phase).
# Results: verdict (the driver's counts, per CPU), testdrv.log (its kernel log lines).
. /scenarios/lib.sh

P=/sys/module/hvmmio_testdrv/parameters
grep -qx 0x4d4d /sys/bus/pci/devices/*/device 2>/dev/null || fail "no PCI device 1234:4d4d: run with --testdev"
echo "online CPUs: $(cat /sys/devices/system/cpu/online)"

step load-testdrv-smp
modprobe hvmmio_testdrv seq=smp smp_n="${1:-1000}" smp_bench_n="${2:-0}" ||
	fail "modprobe hvmmio_testdrv seq=smp failed"
n=0
while [ "$(cat $P/result)" = -1 ] && [ $n -lt 100 ]; do sleep 0.1; n=$((n + 1)); done
result=$(cat $P/result)
{
	echo "seq smp"
	for p in result checks smp_n smp_cpus smp_accesses smp_e1000e_accesses smp_bench_n smp_bench_ps; do
		echo "$p $(cat $P/$p)"
	done
} >verdict
cat verdict
step unload-testdrv
rmmod hvmmio_testdrv || fail "rmmod hvmmio_testdrv failed"

dmesg | grep 'hvmmio_testdrv' >testdrv.log
cat testdrv.log
[ "$result" != -1 ] || fail "hvmmio_testdrv did not probe the device (see testdrv.log)"
[ "$result" = 0 ] || fail "hvmmio_testdrv: FAIL $result checks (see testdrv.log)"
echo "hvmmio_testdrv smp: PASS"
