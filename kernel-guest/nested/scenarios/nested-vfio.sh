# Scenario (nested image only, kernel-guest/nested/): the kernel's vfio-pci takes devices of
# this level-1 guest (behind QEMU's emulated Intel IOMMU), and hvmmio's QEMU, run here under
# qtest (level 2), gets them as assigned devices: /opt/hvmmio/files/nested_accesses.py
# (tests/integration/, with tests/lib/qemu_harness.py beside it) drives it.
# /opt/hvmmio/files/nested.env (built into the image) says what to do:
#   NESTED_DEVS       slots on bus 0 to give to vfio-pci, e.g. "04.0 05.0"
#   NESTED_MMIOTRACE  the devices' mmiotrace property at level 2 (on, or off to see it fail)
# Results: level2.out (the checks, TAP), level2.err, qemu-l2.log, mtree-l2.txt, the traces
# QEMU wrote (l2-*.txt), dmesg, timing.txt.
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
HVMMIO_QEMU=$O/bin/qemu-system-x86_64 HVMMIO_FIRMWARE=$O/share \
	/usr/bin/python3.11 -S -B $O/files/nested_accesses.py 2 "$NESTED_MMIOTRACE" \
	>level2.out 2>level2.err
rc=$?
t2=$(uptime)
cat level2.err
tail -1 level2.out
dmesg | grep -iE 'vfio|DMAR|dmar' >vfio-dmesg.txt
dmesg >dmesg.txt
awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { printf "modules and binding %.1f s, level 2 (qtest) %.1f s\n", b - a, c - b }' >timing.txt
cat timing.txt
[ $rc = 0 ] || fail "level-2 checks failed (exit $rc)"
