# Scenario: load the real e1000e driver and report the MAC address it reads from the
# device (probe only: no link up, so no DMA ring addresses or random RSS keys are
# written — the regression corpus replays this one in strict mode).
. /scenarios/lib.sh

step load-e1000e
modprobe e1000e || fail "modprobe e1000e failed"
n=0
while [ ! -e /sys/class/net/eth0 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
[ -e /sys/class/net/eth0 ] || fail "no eth0 after loading e1000e"
cat /sys/class/net/eth0/address >mac.txt
echo "mac $(cat mac.txt)"
