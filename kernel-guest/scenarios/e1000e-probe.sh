# Scenario: the guest kernel's mmiotrace records the real e1000e driver probing an
# emulated e1000e and bringing its link up.
# Arguments (hvmmio run/replay --args A,B), for recordings that hvmmio replay --learn compares
# (docs/replay-learn.md):
#   noipv6  IPv6 off on eth0 before link-up: no router solicitation or DAD frames, which the
#           stack sends at random times
#   down    eth0 brought down after the last step: the driver's watchdog and interrupts stop
#           before the scenario ends, so that what the device sees after it (the driver's
#           shutdown at poweroff) does not depend on how long the guest takes to end
. /scenarios/lib.sh

noipv6=
down=
for a in "$@"; do
	case $a in
	noipv6) noipv6=1 ;;
	down) down=1 ;;
	*) fail "unknown argument '$a' (have: noipv6, down)" ;;
	esac
done

step mmiotrace-on
mmiotrace_start guest-mmiotrace.txt
mark "hvmmio: e1000e probe"
step load-e1000e
load_e1000e
if [ -n "$noipv6" ]; then
	echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6 || fail "cannot disable IPv6 on eth0"
fi
step link-up
ip link set eth0 up || fail "cannot bring eth0 up"
sleep 1
cat /sys/class/net/eth0/address >mac.txt
mark "hvmmio: e1000e up"
if [ -n "$down" ]; then
	step link-down
	ip link set eth0 down || fail "cannot bring eth0 down"
fi
step mmiotrace-off
mmiotrace_stop
echo "mac $(cat mac.txt)"
