# Scenario: load the real e1000e driver and report the MAC address it reads from the
# device (probe only: no link up, so no DMA ring addresses or random RSS keys are
# written — the regression corpus replays this one in strict mode).
. /scenarios/lib.sh

step load-e1000e
load_e1000e
cat /sys/class/net/eth0/address >mac.txt
echo "mac $(cat mac.txt)"
