# Scenario (nested image only, kernel-guest/nested/): the kernel's vfio-pci takes devices of
# this level-1 guest (behind QEMU's emulated Intel IOMMU), and hvmmio's QEMU, run here under
# qtest (level 2), gets them as assigned devices: qtest-run drives it with a script.
# /opt/hvmmio/files/nested.env (built into the image) says what to do:
#   NESTED_DEVS       slots on bus 0 to give to vfio-pci, e.g. "04.0 05.0"
#   NESTED_SCRIPT     the qtest-run script (a file in /opt/hvmmio/files)
#   NESTED_DEFINES    qtest-run options, e.g. "-D DEV=4 -D BAR=0xe0000000"
#   NESTED_QEMU_ARGS  level-2 QEMU arguments (machine, memory, -device vfio-pci,...)
# Results: level2.out (qtest-run -v: every exchange and QMP reply), level2.err, qemu-l2.log,
# the traces QEMU wrote (relative mmiotrace-file paths land here), dmesg, timing.txt.
. /scenarios/lib.sh
O=/opt/hvmmio
uptime() { cut -d' ' -f1 /proc/uptime; }
t0=$(uptime)

step vfio-modules
modprobe vfio_iommu_type1 || fail "modprobe vfio_iommu_type1 failed"
modprobe vfio-pci || fail "modprobe vfio-pci failed"
dmesg | grep -iE 'DMAR|IOMMU|remapping' >iommu-dmesg.txt
# no fallbacks: type1 refuses devices without interrupt remapping unless this is Y
cat /sys/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts >allow_unsafe_interrupts
grep -q 'Enabled IRQ remapping' iommu-dmesg.txt || echo "warning: no 'Enabled IRQ remapping' in dmesg"
[ -n "$(ls /sys/kernel/iommu_groups)" ] || fail "no IOMMU groups: the IOMMU is off"

. $O/files/nested.env
step bind $NESTED_DEVS
for d in $NESTED_DEVS; do
	p=/sys/bus/pci/devices/0000:00:$d
	[ -e $p ] || fail "no PCI device 0000:00:$d"
	[ -e $p/iommu_group ] || fail "0000:00:$d is in no IOMMU group"
	g=$(basename "$(readlink $p/iommu_group)")
	echo "0000:00:$d $(cat $p/vendor):$(cat $p/device) iommu group $g: $(ls $p/iommu_group/devices | tr '\n' ' ')" |
		tee -a groups.txt
	[ -e $p/driver ] && echo 0000:00:$d >$p/driver/unbind
	echo vfio-pci >$p/driver_override
	echo 0000:00:$d >/sys/bus/pci/drivers_probe
	[ "$(basename "$(readlink $p/driver)")" = vfio-pci ] || fail "vfio-pci did not take 0000:00:$d"
	[ -c /dev/vfio/$g ] || fail "no /dev/vfio/$g"
done
ls -l /dev/vfio
t1=$(uptime)

step level2
# shellcheck disable=SC2086
$O/bin/qtest-run -v --qemu $O/bin/qemu-system-x86_64 --qmp /tmp/qmp.sock -l qemu-l2.log \
	-t 120 $NESTED_DEFINES $O/files/$NESTED_SCRIPT -- -L $O/share $NESTED_QEMU_ARGS \
	>level2.out 2>level2.err
rc=$?
t2=$(uptime)
cat level2.err
tail -1 level2.out
dmesg | grep -iE 'vfio|DMAR|dmar' >vfio-dmesg.txt
dmesg >dmesg.txt
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "modules and binding %.1f s, level 2 (qtest-run) %.1f s\n", b - a, c - b }' >timing.txt
cat timing.txt
[ $rc = 0 ] || fail "level-2 qtest-run failed (exit $rc)"
