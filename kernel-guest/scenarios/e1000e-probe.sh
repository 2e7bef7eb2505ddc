# Scenario: the guest kernel's mmiotrace records the real e1000e driver probing an
# emulated e1000e and bringing its link up.
. /scenarios/lib.sh

step mmiotrace-on
mmiotrace_start guest-mmiotrace.txt
mark "hvmmio: e1000e probe"
step load-e1000e
load_e1000e
step link-up
ip link set eth0 up || fail "cannot bring eth0 up"
sleep 1
cat /sys/class/net/eth0/address >mac.txt
mark "hvmmio: e1000e up"
step mmiotrace-off
mmiotrace_stop
echo "mac $(cat mac.txt)"
