#!/usr/bin/env bash
# libvirt (docs/libvirt.md): Debian's real libvirtd runs a domain whose <emulator> is hvmmio's
# QEMU, with the e1000e of an <interface> traced through <qemu:override> (mmiotrace,
# mmiotrace-file, mmiotrace-pc as frontend properties of the device libvirt names ua-nic0),
# and the firmware-free probe guest (tests/kvm-probe/) under TCG as its kernel. The test
# drives the trace over `virsh qemu-monitor-command` and checks the file:
#  - the override reached QEMU (bool, string and unsigned properties): the device is traced,
#    to the file named, with PCs;
#  - QEMU runs as libvirt's user (libvirt-qemu) and writes the trace into a directory that
#    user owns (/var/lib/libvirt/qemu/mmiotrace, the place docs/libvirt.md recommends), the
#    file owned by it; a trace file where that user may not write makes `virsh start` fail
#    with QEMU's reason;
#  - mmiotrace-mark, query-mmiotrace, mmiotrace-stop and mmiotrace-start: the probe's four
#    e1000e accesses (RDBAL/RDBAH written and read back) are in the trace between the marks,
#    with their values and the PCs of the probe's instructions; after mmiotrace-stop a
#    second run of the probe (virsh reset) leaves no record; after mmiotrace-start a third
#    run gives the same four records again; `hvmmio stat` counts them; mmiotrace-rotate
#    goes on in a second file that starts with the headers; the HMP form works too;
#  - a Linux guest (the guest image, scenario e1000e-mac): the real e1000e driver reads the MAC
#    libvirt gave the traced NIC, the domain shuts off by itself, and the trace holds the
#    mark made before boot and then the driver's accesses;
#  - a <hostdev> vfio device gets the same override (its command line only: no IOMMU here).
#
# The daemon is the system one (root, qemu:///system, QEMU as libvirt-qemu with DAC labels),
# started by this test in private mount and PID namespaces: tmpfs over /etc/libvirt,
# /run/libvirt, /var/lib/libvirt, /var/cache/libvirt and /var/log/libvirt, so it touches
# nothing of the machine's libvirt, and everything is gone when the test ends (the domain is
# destroyed and the daemon stopped on any exit; if the test is killed, the PID namespace
# takes them with it). No systemd is needed. It reports SKIP with the reason where libvirt
# cannot run: not root, libvirt or its user not installed, no namespaces.
# Prints TAP. Environment: HVMMIO, HVMMIO_QEMU, PROBE, OUT; HVMMIO_GUEST_IMAGE (optional).
set -uo pipefail
: "${HVMMIO:?}" "${HVMMIO_QEMU:?}" "${PROBE:?}" "${OUT:?}"

skip() {
	echo "1..0 # SKIP $*"
	exit 0
}

if [ -z "${HVMMIO_LIBVIRT_NS:-}" ]; then
	[ "$(id -u)" = 0 ] || skip "libvirt's system daemon (QEMU as libvirt-qemu) needs root"
	for p in libvirtd virsh; do
		command -v "$p" >/dev/null 2>&1 || PATH=$PATH:/usr/sbin:/sbin
		command -v "$p" >/dev/null 2>&1 ||
			skip "$p is not installed (scripts/install-deps.sh installs libvirt-daemon-system)"
	done
	getent passwd libvirt-qemu >/dev/null ||
		skip "no user libvirt-qemu (created by Debian's libvirt-daemon-system)"
	[ -x "$HVMMIO_QEMU" ] || skip "hvmmio's QEMU is not built: $HVMMIO_QEMU"
	# A host whose AppArmor confines libvirtd (Debian's usr.sbin.libvirtd profile) lets it
	# execute QEMUs under /usr only; the test does not change the host's policy
	if [ "$(cat /sys/module/apparmor/parameters/enabled 2>/dev/null)" = Y ] &&
		grep -q 'libvirtd' /sys/kernel/security/apparmor/profiles 2>/dev/null; then
		skip "AppArmor confines libvirtd here and would not let it run a QEMU outside /usr (the rules to add are in docs/libvirt.md)"
	fi
	ns=(unshare --mount --propagation private --pid --fork --mount-proc)
	why=$("${ns[@]}" true 2>&1) ||
		skip "no private mount and PID namespace for the test's own libvirtd (unshare: $why)"
	rm -rf "$OUT"
	mkdir -p "$OUT"
	# This script is PID 1 of the new PID namespace: if it is killed (meson's timeout sends
	# SIGTERM, then SIGKILL 0.5 s later), the kernel kills libvirtd and QEMU with it.
	HVMMIO_LIBVIRT_NS=1 exec "${ns[@]}" "$0" "$@"
fi
export PATH=$PATH:/usr/sbin:/sbin
export LIBVIRT_DEFAULT_URI=qemu:///system

n=0 bad=0
ok() {
	n=$((n + 1))
	echo "ok $n - $1"
}
nok() {
	n=$((n + 1))
	bad=$((bad + 1))
	echo "not ok $n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | tail -12 | sed 's/^/#   /'
	return 0
}
# stop here: the rest depends on what failed
die() {
	nok "$@"
	exit 1
}

DOM=hvmmio-probe
TDIR=/var/lib/libvirt/qemu/mmiotrace # the trace directory, owned by libvirt-qemu
TRACE=$TDIR/$DOM-nic0.txt
TRACE2=$TDIR/$DOM-nic0.2.txt
BIN=/var/lib/libvirt/hvmmio-test # the emulator and the probe, where libvirt-qemu can read them
daemon_pid=

# On any exit: the domain destroyed, the daemon stopped, the logs and traces kept in $OUT.
# (Whatever survives this is killed with the PID namespace when this script ends.)
cleanup() {
	local rc=$? pid
	trap - EXIT INT TERM
	if [ -n "$daemon_pid" ]; then
		timeout 10 virsh -q destroy $DOM >/dev/null 2>&1
		for f in /run/libvirt/qemu/*.pid; do
			[ -f "$f" ] && pid=$(cat "$f") && [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
		done
		kill "$daemon_pid" 2>/dev/null
		for _ in $(seq 50); do kill -0 "$daemon_pid" 2>/dev/null || break; sleep 0.1; done
		kill -9 "$daemon_pid" 2>/dev/null
		wait "$daemon_pid" 2>/dev/null
	fi
	mkdir -p "$OUT/logs"
	cp -r /var/log/libvirt/. "$OUT/logs/" 2>/dev/null
	cp "$TDIR"/* "$OUT/" 2>/dev/null
	exit $rc
}
trap cleanup EXIT
trap 'exit 1' INT TERM

# ---- a private libvirt: the system daemon's directories on tmpfs, in this namespace only
for d in /etc/libvirt /run/libvirt /var/lib/libvirt /var/cache/libvirt /var/log/libvirt; do
	mkdir -p "$d" && mount -t tmpfs -o mode=0755 hvmmio-libvirt "$d" || die "tmpfs on $d"
done
mkdir -p /etc/libvirt/qemu /var/log/libvirt/qemu "$BIN"
install -d -o libvirt-qemu -g libvirt-qemu -m 0750 /var/lib/libvirt/qemu "$TDIR"
cat >/etc/libvirt/libvirtd.conf <<EOF
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:/var/log/libvirt/libvirtd.log"
EOF
# stdio_handler: QEMU's log without virtlogd; no cgroups (no systemd here); no AppArmor
# profiles (they would be written to the host's /etc/apparmor.d and loaded into its kernel):
# libvirt's DAC driver (QEMU as libvirt-qemu, the domain's files labelled) stays
cat >/etc/libvirt/qemu.conf <<EOF
user = "libvirt-qemu"
group = "libvirt-qemu"
dynamic_ownership = 1
security_driver = "none"
stdio_handler = "file"
cgroup_controllers = [ ]
EOF
# The build's QEMU may sit where libvirt-qemu cannot reach it (a home folder): bind it into
# a directory that user can read, as an install would put it (docs/libvirt.md).
touch "$BIN/qemu-system-x86_64" && mount --bind "$HVMMIO_QEMU" "$BIN/qemu-system-x86_64" ||
	die "bind $HVMMIO_QEMU"
cp "$PROBE" "$BIN/kvm-probe.elf"

libvirtd --config /etc/libvirt/libvirtd.conf --pid-file /run/libvirt/hvmmio-test.pid \
	>"$OUT/libvirtd.out" 2>&1 &
daemon_pid=$!
up=0
for _ in $(seq 150); do
	kill -0 "$daemon_pid" 2>/dev/null || break
	virsh -q list --all >/dev/null 2>&1 && up=1 && break
	sleep 0.2
done
[ $up = 1 ] || die "libvirtd started and answers virsh" \
	"$(cat "$OUT/libvirtd.out" /var/log/libvirt/libvirtd.log 2>/dev/null)"
ok "libvirtd $(libvirtd --version | awk '{print $NF}') (system mode, private directories) answers virsh"

# ---- the domain: the probe guest, an e1000e traced through <qemu:override>, edu beside it
port=$((20000 + RANDOM % 20000))
domain_xml() { # NAME TRACE-FILE
	cat <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$1</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>$BIN/kvm-probe.elf</kernel>
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$BIN/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <interface type='udp'>
      <mac address='52:54:00:4d:4d:01'/>
      <source address='127.0.0.1' port='$port'>
        <local address='127.0.0.1' port='$((port + 1))'/>
      </source>
      <model type='e1000e'/>
      <rom enabled='no'/>
      <alias name='ua-nic0'/>
    </interface>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-L'/>
    <qemu:arg value='/usr/share/seabios'/>
    <qemu:arg value='-L'/>
    <qemu:arg value='/usr/share/qemu'/>
    <qemu:arg value='-chardev'/>
    <qemu:arg value='file,id=dbgcon,path=$TDIR/$1-debugcon.log'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='isa-debugcon,iobase=0xe9,chardev=dbgcon'/>
    <qemu:arg value='-device'/>
    <qemu:arg value='edu,id=edu0,bus=pci.0,addr=0x10'/>
  </qemu:commandline>
  <qemu:override>
    <qemu:device alias='ua-nic0'>
      <qemu:frontend>
        <qemu:property name='mmiotrace' type='bool' value='true'/>
        <qemu:property name='mmiotrace-file' type='string' value='$2'/>
        <qemu:property name='mmiotrace-pc' type='bool' value='true'/>
        <qemu:property name='mmiotrace-ring' type='unsigned' value='4096'/>
        <qemu:property name='mmiotrace-mode' type='string' value='lossless'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
EOF
}
domain_xml $DOM "$TRACE" >"$OUT/$DOM.xml"
out=$(virsh define "$OUT/$DOM.xml" 2>&1) || die "virsh define" "$out"
x=$(virsh dumpxml $DOM 2>&1)
grep -q "<qemu:property name='mmiotrace' type='bool' value='true'/>" <<<"$x" &&
	ok "virsh define: libvirt keeps the <qemu:override> of ua-nic0" ||
	nok "the override is not in virsh dumpxml" "$x"

qmp() { virsh qemu-monitor-command $DOM "$1" 2>&1; }
out=$(virsh start --paused $DOM 2>&1) ||
	die "virsh start" "$out
$(tail -5 /var/log/libvirt/qemu/$DOM.log 2>/dev/null)"
ok "virsh start --paused: hvmmio's QEMU runs the domain"

# the override reached QEMU's command line as properties of the e1000e's JSON -device
log=/var/log/libvirt/qemu/$DOM.log
dev=$(grep -o -- "-device '\?{\"driver\":\"e1000e\"[^}]*}" "$log" | head -1)
grep -q '"mmiotrace":true' <<<"$dev" && grep -q "\"mmiotrace-file\":\"$TRACE\"" <<<"$dev" &&
	grep -q '"mmiotrace-pc":true' <<<"$dev" && grep -q '"id":"ua-nic0"' <<<"$dev" &&
	grep -q '"mmiotrace-ring":4096' <<<"$dev" && grep -q '"mmiotrace-mode":"lossless"' <<<"$dev" &&
	ok "the e1000e's -device carries the overridden properties: $dev" ||
	nok "override on QEMU's command line" "$(grep -- -device "$log")"

qpid=$(cat /run/libvirt/qemu/$DOM.pid 2>/dev/null)
uid=$(awk '/^Uid:/ {print $2}' "/proc/$qpid/status" 2>/dev/null)
[ -n "$uid" ] && [ "$uid" = "$(id -u libvirt-qemu)" ] && ok "QEMU (pid $qpid) runs as libvirt-qemu" ||
	nok "QEMU's uid is '$uid', not libvirt-qemu's"

q=$(qmp '{"execute":"query-mmiotrace"}')
grep -q '"device":"ua-nic0"' <<<"$q" && grep -q '"state":"active"' <<<"$q" &&
	grep -q "\"file\":\"$TRACE\"" <<<"$q" &&
	ok "query-mmiotrace over virsh: ua-nic0 active, writing $TRACE" ||
	nok "query-mmiotrace" "$q"
owner=$(stat -c %U "$TRACE" 2>&1)
[ "$owner" = libvirt-qemu ] && ok "the trace file is QEMU's (owner libvirt-qemu) in $TDIR" ||
	nok "trace file owner: $owner"

q=$(qmp '{"execute":"mmiotrace-mark","arguments":{"text":"libvirt-before-boot"}}')
grep -q '"return":{}' <<<"$q" && ok "mmiotrace-mark over virsh" || nok "mmiotrace-mark" "$q"

# RUNS: wait until the probe has printed its verdict RUNS times
await_probe() {
	local i c
	for i in $(seq 600); do
		c=$(grep -c 'RESULT ' "$TDIR/$DOM-debugcon.log" 2>/dev/null)
		[ "${c:-0}" -ge "$1" ] && break
		sleep 0.1
	done
	c=$(grep -c 'RESULT PASS' "$TDIR/$DOM-debugcon.log" 2>/dev/null)
	[ "${c:-0}" = "$1" ]
}
rec_count() { qmp '{"execute":"query-mmiotrace"}' | grep -o '"records":[0-9]*' | head -1 | cut -d: -f2; }

out=$(virsh resume $DOM 2>&1) || die "virsh resume" "$out"
await_probe 1 && ok "run 1: the probe guest passed its checks" ||
	die "run 1: the probe guest" "$(cat "$TDIR/$DOM-debugcon.log" 2>&1)"
qmp '{"execute":"mmiotrace-mark","arguments":{"text":"libvirt-run1-done"}}' >/dev/null
q=$(qmp '{"execute":"mmiotrace-stop"}')
grep -q '"return":{}' <<<"$q" || nok "mmiotrace-stop" "$q"
q=$(qmp '{"execute":"query-mmiotrace"}')
grep -q '"state":"stopped"' <<<"$q" && ok "mmiotrace-stop over virsh: ua-nic0 stopped" ||
	nok "state after mmiotrace-stop" "$q"
r1=$(rec_count)

out=$(virsh reset $DOM 2>&1) || nok "virsh reset" "$out"
await_probe 2 && ok "run 2 (tracing stopped): the probe passed again" ||
	die "run 2" "$(cat "$TDIR/$DOM-debugcon.log" 2>&1)"
r2=$(rec_count)
[ -n "$r1" ] && [ "$r1" = "$r2" ] && ok "no records while stopped ($r1 before and after run 2)" ||
	nok "records grew while stopped: $r1 -> $r2"

q=$(qmp '{"execute":"mmiotrace-start"}')
grep -q '"return":{}' <<<"$q" || nok "mmiotrace-start" "$q"
qmp '{"execute":"mmiotrace-mark","arguments":{"text":"libvirt-restarted"}}' >/dev/null
out=$(virsh reset $DOM 2>&1) || nok "virsh reset" "$out"
await_probe 3 && ok "run 3 (tracing started again): the probe passed" ||
	die "run 3" "$(cat "$TDIR/$DOM-debugcon.log" 2>&1)"
qmp '{"execute":"mmiotrace-mark","arguments":{"text":"libvirt-end"}}' >/dev/null
h=$(virsh qemu-monitor-command --hmp $DOM 'info mmiotrace' 2>&1)
grep -q 'ua-nic0' <<<"$h" && ok "HMP over virsh (--hmp 'info mmiotrace') names ua-nic0" ||
	nok "virsh qemu-monitor-command --hmp 'info mmiotrace'" "$h"
# rotation: the trace goes on in a second file, which starts with the headers
q=$(qmp "{\"execute\":\"mmiotrace-rotate\",\"arguments\":{\"device\":\"ua-nic0\",\"file\":\"$TRACE2\"}}")
grep -q '"return":{}' <<<"$q" || nok "mmiotrace-rotate" "$q"
qmp '{"execute":"mmiotrace-mark","arguments":{"text":"libvirt-rotated"}}' >/dev/null
q=$(qmp '{"execute":"query-mmiotrace"}')
grep -q "\"file\":\"$TRACE2\"" <<<"$q" || nok "query-mmiotrace after mmiotrace-rotate" "$q"
# a mark just before virsh destroy (SIGTERM: QEMU writes the file out as it exits)
qmp '{"execute":"mmiotrace-mark","arguments":{"text":"libvirt-before-destroy"}}' >/dev/null
out=$(virsh destroy $DOM 2>&1) || nok "virsh destroy" "$out"
t2=$(head -c 100000 "$TRACE2" 2>&1)
[ "$(head -n 1 <<<"$t2")" = "VERSION 20070824" ] && grep -q '^PCIDEV .*dev=ua-nic0' <<<"$t2" &&
	grep -Eq '^MARKX? .*libvirt-rotated' <<<"$t2" && ! grep -q 'libvirt-end' <<<"$t2" &&
	grep -Eq '^MARKX? .*libvirt-before-destroy' <<<"$t2" &&
	[ "$(stat -c %U "$TRACE2")" = libvirt-qemu ] &&
	ok "mmiotrace-rotate over virsh: $TRACE2 starts with VERSION and PCIDEV, holds the marks made after it, the last one just before virsh destroy" ||
	nok "the rotated file" "$t2"

# ---- the trace: the e1000e's accesses between the marks, with values and PCs
pcs=$(nm "$PROBE" | awk '$3 ~ /^p_e_rdba/ {printf "%s=0x%s ", substr($3, 3), $1}')
cp "$TRACE" "$OUT/" 2>/dev/null
res=$(gawk -v pcs="$pcs" '
	BEGIN { n = split(pcs, a, " "); for (i = 1; i <= n; i++) { split(a[i], kv, "="); pc[kv[1]] = strtonum(kv[2]) }
		want[1] = "W 0x2800 0x12345670 e_rdbal_w"; want[2] = "W 0x2804 0x9 e_rdbah_w"
		want[3] = "R 0x2800 0x12345670 e_rdbal_r"; want[4] = "R 0x2804 0x9 e_rdbah_r" }
	function fact(k,   i) { for (i = 8; i <= NF; i++) if (index($i, k "=") == 1) return substr($i, length(k) + 2); return "" }
	/^MARKX? / {
		if (index($0, "libvirt-before-boot")) s = 1
		else if (index($0, "libvirt-run1-done")) s = 2
		else if (index($0, "libvirt-restarted")) s = 3
		else if (index($0, "libvirt-end")) s = 4
		order = order s; next }
	($1 == "R" || $1 == "W") && fact("dev") == "ua-nic0" {
		k = ++cnt[s]
		split(want[k], w, " ")
		got = $1 " " fact("off") " " $6
		p = $7
		if (got != w[1] " " w[2] " " w[3]) bad = bad " seg" s "#" k ":" got
		else if (strtonum(p) != pc[w[4]]) bad = bad " seg" s "#" k ":pc=" p
	}
	END { printf "marks=%s seg0=%d seg1=%d seg2=%d seg3=%d seg4=%d bad=%s\n", order, cnt[0], cnt[1], cnt[2], cnt[3], cnt[4], bad }
' "$TRACE" 2>&1)
echo "# $res"
grep -q '^marks=1234 ' <<<"$res" && ok "the four marks are in the trace, in order" ||
	nok "marks" "$res"
grep -q ' seg1=4 seg2=0 seg3=4 seg4=0 bad=$' <<<"$res" &&
	ok "run 1 and run 3: the probe's 4 e1000e accesses with values and PCs; run 2 (stopped): none" ||
	nok "e1000e records between the marks" "$res"
st=$("$HVMMIO" stat "$TRACE" 2>&1)
echo "$st" | sed 's/^/#   /' | head -20
grep -Eq '^ +ua-nic0 +reads 4 +writes 4$' <<<"$st" && ok "hvmmio stat: ua-nic0 reads 4 writes 4" ||
	nok "hvmmio stat" "$st"

# ---- a Linux guest: the project's guest image runs the scenario e1000e-mac, in which the
# real e1000e driver probes the traced NIC and reports the MAC address it read from it
LDOM=hvmmio-linux
LTRACE=$TDIR/$LDOM-nic0.txt
if [ -z "${HVMMIO_GUEST_IMAGE:-}" ] || [ ! -f "$HVMMIO_GUEST_IMAGE/initrd.img" ]; then
	n=$((n + 1))
	echo "ok $n # SKIP Linux guest: no guest image (meson -Dguest_image_dir; scripts/setup.sh builds it)"
else
	cp "$HVMMIO_GUEST_IMAGE/vmlinuz" "$HVMMIO_GUEST_IMAGE/initrd.img" "$BIN/"
	cat >"$OUT/$LDOM.xml" <<XML
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>$LDOM</name>
  <memory unit='MiB'>512</memory>
  <vcpu>1</vcpu>
  <os>
    <type arch='x86_64' machine='q35'>hvm</type>
    <kernel>$BIN/vmlinuz</kernel>
    <initrd>$BIN/initrd.img</initrd>
    <cmdline>console=ttyS0 panic=-1 edd=off quiet hvmmio.scenario=e1000e-mac</cmdline>
  </os>
  <features>
    <acpi/>
  </features>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>$BIN/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='file'>
      <source path='$TDIR/$LDOM-console.log'/>
      <target port='0'/>
    </serial>
    <serial type='file'>
      <source path='$TDIR/$LDOM-results.bin'/>
      <target port='1'/>
    </serial>
    <interface type='udp'>
      <mac address='52:54:00:4d:4d:03'/>
      <source address='127.0.0.1' port='$((port + 4))'>
        <local address='127.0.0.1' port='$((port + 5))'/>
      </source>
      <model type='e1000e'/>
      <rom enabled='no'/>
      <alias name='ua-nic0'/>
    </interface>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-L'/>
    <qemu:arg value='/usr/share/seabios'/>
    <qemu:arg value='-L'/>
    <qemu:arg value='/usr/share/qemu'/>
  </qemu:commandline>
  <qemu:override>
    <qemu:device alias='ua-nic0'>
      <qemu:frontend>
        <qemu:property name='mmiotrace' type='bool' value='true'/>
        <qemu:property name='mmiotrace-file' type='string' value='$LTRACE'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
XML
	t0=$SECONDS
	out=$( (virsh define "$OUT/$LDOM.xml" && virsh start --paused $LDOM) 2>&1) ||
		die "Linux guest: virsh define and start" "$out"
	virsh qemu-monitor-command $LDOM \
		'{"execute":"mmiotrace-mark","arguments":{"text":"libvirt-linux-boot"}}' >/dev/null 2>&1
	virsh resume $LDOM >/dev/null 2>&1
	# the scenario ends with the guest's poweroff: the domain shuts off by itself
	for _ in $(seq 300); do
		[ "$(virsh domstate $LDOM 2>/dev/null | head -1)" = "shut off" ] && break
		sleep 0.5
	done
	st=$(virsh domstate $LDOM 2>&1 | head -1)
	con=$(cat "$TDIR/$LDOM-console.log" 2>&1)
	[ "$st" = "shut off" ] && grep -q 'hvmmio: done rc=0' <<<"$con" ||
		die "Linux guest: state '$st', the scenario did not end with rc=0" "$con"
	# the guest's results (kernel-guest/init): "HVMMIO-RESULTS 1 SIZE SHA256", then a tar
	rb=$TDIR/$LDOM-results.bin
	read -r tag _ size sum <"$rb"
	hdr=$(head -n 1 "$rb")
	tail -c +$((${#hdr} + 2)) "$rb" | head -c "${size:-0}" >"$OUT/$LDOM-results.tar"
	mac=$(tar -xOf "$OUT/$LDOM-results.tar" ./mac.txt 2>&1)
	[ "$tag" = HVMMIO-RESULTS ] && [ "$(sha256sum <"$OUT/$LDOM-results.tar" | cut -d' ' -f1)" = "$sum" ] &&
		[ "$mac" = 52:54:00:4d:4d:03 ] &&
		ok "Linux guest, scenario e1000e-mac: the real e1000e driver read libvirt's MAC $mac from the traced NIC; the guest powered off ($((SECONDS - t0)) s)" ||
		nok "Linux guest: the MAC the driver read is '$mac', not libvirt's 52:54:00:4d:4d:03" "$con"
	res=$(gawk '
		/^MARKX? .*libvirt-linux-boot/ { if (!rw) mark = 1; next }
		($1 == "R" || $1 == "W") && / dev=ua-nic0( |$)/ { rw++; if ($1 == "R" && / bar=0 off=0x8( |$)/) status++ }
		END { printf "mark=%d rw=%d status=%d\n", mark, rw, status }' "$LTRACE" 2>&1)
	gawk '{ split($0, f, "[ =]"); exit !(f[2] == 1 && f[4] >= 100 && f[6] >= 1) }' <<<"$res" &&
		ok "the Linux driver's accesses are in the trace after the mark made before boot: $res (STATUS: reads of BAR0+0x8)" ||
		nok "the Linux guest's trace" "$res"
fi

# ---- a trace file libvirt-qemu may not write: start fails with QEMU's reason
domain_xml $DOM-denied "$BIN/denied.txt" | sed "s/52:54:00:4d:4d:01/52:54:00:4d:4d:02/;s/port='$port'/port='$((port + 2))'/;s/port='$((port + 1))'/port='$((port + 3))'/" \
	>"$OUT/$DOM-denied.xml"
virsh -q define "$OUT/$DOM-denied.xml" >/dev/null 2>&1
if out=$(virsh start --paused $DOM-denied 2>&1); then
	nok "a trace file in a directory libvirt-qemu cannot write ($BIN): the domain started"
else
	why=$(grep -o "cannot open mmiotrace-file '$BIN/denied.txt': Permission denied" <<<"$out" | head -1)
	[ -n "$why" ] && ok "a trace file where libvirt-qemu may not write: virsh start fails: $why" ||
		nok "virsh start with an unwritable trace file failed, but not with EACCES" "$out"
fi

# ---- a <hostdev> (vfio-pci): the same override on the device libvirt makes for it. Only its
# command line is checked (virsh domxml-to-native): starting it needs an IOMMU and a device
# bound to vfio-pci (docs/libvirt.md).
cat >"$OUT/hostdev.xml" <<EOF
<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>hvmmio-vfio</name>
  <memory unit='MiB'>512</memory>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <features><acpi/></features>
  <devices>
    <emulator>$BIN/qemu-system-x86_64</emulator>
    <hostdev mode='subsystem' type='pci' managed='no'>
      <driver name='vfio'/>
      <source><address domain='0x0000' bus='0x0a' slot='0x00' function='0x0'/></source>
      <alias name='ua-dev0'/>
    </hostdev>
  </devices>
  <qemu:override>
    <qemu:device alias='ua-dev0'>
      <qemu:frontend>
        <qemu:property name='mmiotrace' type='bool' value='true'/>
        <qemu:property name='mmiotrace-file' type='string' value='$TDIR/hvmmio-vfio-dev0.txt'/>
        <qemu:property name='mmiotrace-ranges' type='string' value='0:0x0+0x1000'/>
      </qemu:frontend>
    </qemu:device>
  </qemu:override>
</domain>
EOF
argv=$(virsh domxml-to-native --format qemu-argv --xml "$OUT/hostdev.xml" 2>&1)
dev=$(grep -o -- "-device '\?{\"driver\":\"vfio-pci\"[^}]*}" <<<"$argv")
grep -q '"host":"0000:0a:00.0"' <<<"$dev" && grep -q '"id":"ua-dev0"' <<<"$dev" &&
	grep -q '"mmiotrace":true' <<<"$dev" && grep -q '"mmiotrace-ranges":"0:0x0+0x1000"' <<<"$dev" &&
	ok "<hostdev>: libvirt's vfio-pci -device carries the override: $dev" ||
	nok "<hostdev> override (virsh domxml-to-native)" "$argv"

echo "1..$n"
[ $bad = 0 ]
