# Scenario: real drivers of the guest image, with the guest kernel's mmiotrace on, each with a
# small workload (the driver corpus, tests/corpus/). Arguments, in order:
#   mod:NAME      load module NAME (modprobe: with its dependencies)
#   net:BB:DD.F   wait for the network interface of PCI device 0000:BB:DD.F, bring it up,
#                 wait (5 s at most) for its carrier
#   blk:BB:DD.F   wait for a disk behind PCI device 0000:BB:DD.F; read its block 8, write a
#                 pattern there, drop the page cache and read it back (they must be equal)
#   usb:BB:DD.F   wait for the USB root hub of host controller 0000:BB:DD.F
#   wdt:BB:DD.F   wait for a driver bound to PCI device 0000:BB:DD.F, then start the machine's
#                 (only) watchdog, ping it, stop it (the magic close)
# The guest's own mmiotrace log is guest-mmiotrace.txt; devices.txt lists what was found:
#   "net 00:03.0 eth0 carrier=1", "blk 00:04.0 nvme0n1 ok", "usb 00:05.0 usb1",
#   "wdt 00:06.0 watchdog0 ok".
. /scenarios/lib.sh

# dev_of CLASS_DIR BB:DD.F: the first entry of CLASS_DIR whose device is under that PCI device
dev_of() {
	for e in "$1"/*; do
		[ -e "$e" ] || continue
		case $(readlink -f "$e") in
		*/0000:"$2"/*) basename "$e"; return 0 ;;
		esac
	done
	return 1
}

# wait_dev CLASS_DIR BB:DD.F: wait (20 s at most) for it; prints the name
wait_dev() {
	n=0
	while ! dev_of "$1" "$2" >/dev/null && [ $n -lt 200 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	dev_of "$1" "$2"
}

net_up() {
	ifc=$(wait_dev /sys/class/net "$1") || fail "no network interface behind $1"
	ip link set "$ifc" up || fail "cannot bring $ifc up"
	n=0
	while [ "$(cat "/sys/class/net/$ifc/carrier" 2>/dev/null)" != 1 ] && [ $n -lt 50 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	echo "net $1 $ifc carrier=$(cat "/sys/class/net/$ifc/carrier" 2>/dev/null)" >>devices.txt
}

# read block 8, write a pattern, read it back past the page cache
blk_rw() {
	disk=$(wait_dev /sys/block "$1") || fail "no disk behind $1"
	dev=/dev/$disk
	n=0
	while [ ! -b "$dev" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	dd if="$dev" of=/tmp/before bs=4096 skip=8 count=1 2>/dev/null || fail "cannot read $dev"
	for i in $(seq 1 128); do printf 'hvmmio corpus %s block 8 line %03d......\n' "$disk" "$i"; done |
		head -c 4096 >/tmp/pattern
	dd if=/tmp/pattern of="$dev" bs=4096 seek=8 count=1 conv=fsync 2>/dev/null ||
		fail "cannot write $dev"
	echo 3 >/proc/sys/vm/drop_caches
	dd if="$dev" of=/tmp/after bs=4096 skip=8 count=1 2>/dev/null || fail "cannot read $dev back"
	cmp -s /tmp/pattern /tmp/after || fail "$dev: the block read back differs from the one written"
	echo "blk $1 $disk ok" >>devices.txt
}

wdt_cycle() {
	# the watchdog device has no parent in sysfs (i6300esb): the driver is bound to the PCI
	# device, and the machine has no other watchdog
	n=0
	while [ ! -e "/sys/bus/pci/devices/0000:$1/driver" ] && [ $n -lt 200 ]; do
		sleep 0.1
		n=$((n + 1))
	done
	[ -e "/sys/bus/pci/devices/0000:$1/driver" ] || fail "no driver bound to $1"
	[ "$(ls /sys/class/watchdog | wc -l)" = 1 ] ||
		fail "not one watchdog: $(ls /sys/class/watchdog | tr '\n' ' ')"
	wdt=$(ls /sys/class/watchdog)
	n=0
	while [ ! -c "/dev/$wdt" ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
	# open: start; write: ping; 'V' then close: stop
	printf 'xV' >"/dev/$wdt" || fail "cannot drive /dev/$wdt"
	echo "wdt $1 $wdt ok" >>devices.txt
}

usb_hub() {
	hub=$(wait_dev /sys/bus/usb/devices "$1") || fail "no USB root hub behind $1"
	echo "usb $1 $hub" >>devices.txt
}

: >devices.txt
trap 'dmesg >dmesg.txt' EXIT # the kernel's messages, for a failure's cause
step mmiotrace-on
mmiotrace_start guest-mmiotrace.txt
for a in "$@"; do
	case $a in
	mod:*)
		step "load ${a#mod:}"
		modprobe "${a#mod:}" || fail "modprobe ${a#mod:} failed"
		;;
	net:*) step "net ${a#net:}"; net_up "${a#net:}" ;;
	blk:*) step "blk ${a#blk:}"; blk_rw "${a#blk:}" ;;
	usb:*) step "usb ${a#usb:}"; usb_hub "${a#usb:}" ;;
	wdt:*) step "wdt ${a#wdt:}"; wdt_cycle "${a#wdt:}" ;;
	*) fail "unknown argument '$a' (mod:, net:, blk:, usb:, wdt:)" ;;
	esac
done
mark "hvmmio: corpus done"
step mmiotrace-off
mmiotrace_stop
cat devices.txt
