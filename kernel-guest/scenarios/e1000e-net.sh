# Scenario: the real e1000e driver moves data: it brings the link up, transmits an ARP
# request for 10.0.2.2 (busybox arping) and receives the reply. PASS when arping got the
# reply and the interface counted at least one frame each way (issue 18: a data-moving
# driver, recorded with mmiotrace-dma=on and replayed, docs/replay-dma.md).
# The host gives the device a peer that answers, tests/lib/net-responder.py on a dgram
# netdev (this QEMU has no user network): see tests/integration/replay-dma-e1000e.sh.
# ARP, not ping: a replay delivers the recorded frames, and an ARP reply's bytes are the same
# in every run, while an echo reply carries the ping's process id and time.
# Short on purpose: done before the driver's 2-second watchdog runs again.
. /scenarios/lib.sh

step load-e1000e
load_e1000e
# no IPv6: its router solicitations and DAD would send frames at random times
[ -e /proc/sys/net/ipv6/conf/eth0/disable_ipv6 ] && echo 1 >/proc/sys/net/ipv6/conf/eth0/disable_ipv6
step link-up
ip addr add 10.0.2.15/24 dev eth0 || fail "cannot set eth0's address"
ip link set eth0 up || fail "cannot bring eth0 up"
n=0
while [ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" != 1 ] && [ $n -lt 50 ]; do
	sleep 0.1
	n=$((n + 1))
done
[ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] || fail "eth0 has no carrier"
step arping
arping -f -c 1 -w 3 -I eth0 10.0.2.2 >arping.txt 2>&1
arping_rc=$?
cat arping.txt
rx=$(cat /sys/class/net/eth0/statistics/rx_packets)
tx=$(cat /sys/class/net/eth0/statistics/tx_packets)
echo "frames rx $rx tx $tx" | tee frames.txt
[ $arping_rc = 0 ] && grep -q 'Received 1 response' arping.txt || fail "no ARP reply from 10.0.2.2"
[ "$rx" -ge 1 ] && [ "$tx" -ge 1 ] || fail "eth0 counted rx $rx, tx $tx frames"
echo "e1000e-net: PASS rx=$rx tx=$tx"
