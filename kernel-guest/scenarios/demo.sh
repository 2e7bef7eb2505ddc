# Scenario for the demo (scripts/demo.sh): with the guest kernel's own mmiotrace on, the
# guest driver hvmmio_testdrv checks the vfio-user test device, then the real e1000e driver
# probes an emulated e1000e and brings its link up. Needs `hvmmio run --testdev -d e1000e`.
# Results: guest-mmiotrace.txt, testdrv.log, verdict, mac.txt.
. /scenarios/lib.sh

P=/sys/module/hvmmio_testdrv/parameters
step mmiotrace-on
mmiotrace_start guest-mmiotrace.txt
mark "hvmmio demo: test device"
step testdrv
modprobe hvmmio_testdrv seq=all || fail "modprobe hvmmio_testdrv failed"
result=$(cat $P/result)
echo "result $result checks $(cat $P/checks)" >verdict
rmmod hvmmio_testdrv
mark "hvmmio demo: e1000e"
step e1000e
load_e1000e
ip link set eth0 up || fail "cannot bring eth0 up"
sleep 1
cat /sys/class/net/eth0/address >mac.txt
mark "hvmmio demo: end"
step mmiotrace-off
mmiotrace_stop
dmesg | grep 'hvmmio_testdrv' >testdrv.log
[ "$result" = 0 ] || fail "hvmmio_testdrv: FAIL $result checks (see testdrv.log)"
echo "hvmmio_testdrv: PASS ($(cat $P/checks 2>/dev/null || grep -o '[0-9]* checks' testdrv.log | tail -1))"
echo "e1000e: MAC $(cat mac.txt)"
