#!/usr/bin/env bash
# The driver corpus (suite 'corpus'): real Linux drivers of the guest image on QEMU's emulated
# devices, each device traced by hvmmio (mmiotrace=on) into its own host file while the guest
# kernel's own mmiotrace logs the whole machine (kernel-guest/scenarios/corpus.sh loads the
# modules, waits for each device and runs a small workload: link up for a NIC; read, write,
# read back for a disk; the root hub for a USB host controller; start, ping, stop a watchdog).
#
# For each driver, `hvmmio compare GUEST HOST-OF-THAT-DEVICE` must pass with every guest R/W
# and UNKNOWN inside that device's BARs matched and nothing unexplained (the other devices'
# accesses are outside the host trace's devices: counted, not compared); the expected counts
# are computed here from the logs, not taken from compare. Then a value altered, a record
# dropped and two records swapped in the guest log, at one of the device's accesses, must each
# make compare fail and name the record.
#
# Usage: corpus.sh GROUP (net: NICs; storage: disk controllers; usb-scsi: USB hosts, SCSI HBAs
# and a watchdog); environment: HVMMIO, OUT (this group's
# folder; the summary table goes to OUT/../fidelity.md).
set -euo pipefail
: "${HVMMIO:?}" "${OUT:?}"
group=${1:?usage: corpus.sh GROUP}
rm -rf "$OUT"
mkdir -p "$OUT"
fail() { echo "FAIL: $*" >&2; exit 1; }
pass() { echo "ok: $*"; }

trace=mmiotrace=on
devs=()    # "ID|DRIVER|CLASS|QEMU DEVICE|FW" per traced device; FW 1: SeaBIOS or the kernel's
           # early quirks access it before its driver (checked)
args=()    # scenario arguments
qemu=()    # more QEMU arguments (disks)
disk() {   # disk ID: a 4 MiB raw image as drive dID
	truncate -s 4M "$OUT/$1.img"
	qemu+=(-drive "file=$OUT/$1.img,if=none,id=d$1,format=raw")
}
case $group in
net)
	devs=("e1000e0|e1000e|NIC|e1000e,addr=03.0|0" "e10000|e1000|NIC|e1000,addr=04.0|0"
		"igb0|igb|NIC|igb,addr=05.0|0"
		"vnet0|virtio_net|virtio modern (net)|virtio-net-pci,addr=06.0,disable-legacy=on|0"
		"vmx0|vmxnet3|NIC|vmxnet3,addr=07.0|0" "e1000|e100|NIC|i82557b,addr=08.0|0"
		"rtl0|8139cp|NIC (MMIO BAR aliasing the I/O BAR)|rtl8139,addr=09.0|0")
	args=(mod:e1000e net:00:03.0 mod:e1000 net:00:04.0 mod:igb net:00:05.0 mod:virtio_pci
		mod:virtio_net net:00:06.0 mod:vmxnet3 net:00:07.0 mod:e100 net:00:08.0
		mod:8139cp net:00:09.0)
	;;
storage)
	devs=("nvme0|nvme|NVMe|nvme,addr=04.0,serial=corpus,drive=dnvme0|1"
		"vblk0|virtio_blk|virtio modern (block)|virtio-blk-pci,addr=05.0,disable-legacy=on,drive=dvblk0|1"
		"ahci0|ahci|SATA|ich9-ahci,addr=06.0|1" "mega0|megaraid_sas|SCSI (RAID)|megasas,addr=07.0|0"
		"sdhci0|sdhci-pci|SD/MMC|sdhci-pci,addr=08.0|1")
	for d in nvme0 vblk0 ahci0 mega0 sdhci0; do disk $d; done
	qemu+=(-device ide-hd,drive=dahci0,bus=ahci0.0 -device scsi-hd,drive=dmega0,bus=mega0.0
		-device sd-card,drive=dsdhci0)
	args=(mod:nvme blk:00:04.0 mod:virtio_pci mod:virtio_blk blk:00:05.0 mod:ahci mod:sd_mod
		blk:00:06.0 mod:megaraid_sas blk:00:07.0 mod:sdhci-pci mod:mmc_block blk:00:08.0)
	;;
usb-scsi)
	devs=("xhci0|xhci-pci|USB 3 host|qemu-xhci,addr=03.0|1" "ehci0|ehci-pci|USB 2 host|usb-ehci,addr=04.0|1"
		"ohci0|ohci-pci|USB 1.1 host|pci-ohci,addr=05.0|1" "lsi0|sym53c8xx|SCSI|lsi53c895a,addr=06.0|0"
		"pvs0|vmw_pvscsi|SCSI (paravirtual)|pvscsi,addr=07.0|1"
		"wdt0|i6300esb|watchdog|i6300esb,addr=08.0|0")
	for d in lsi0 pvs0; do disk $d; done
	qemu+=(-device scsi-hd,drive=dlsi0,bus=lsi0.0 -device scsi-hd,drive=dpvs0,bus=pvs0.0)
	args=(mod:xhci-pci usb:00:03.0 mod:ehci-pci usb:00:04.0 mod:ohci-pci usb:00:05.0 mod:sd_mod
		mod:sym53c8xx blk:00:06.0 mod:vmw_pvscsi blk:00:07.0 mod:i6300esb wdt:00:08.0)
	;;
*) fail "unknown group '$group' (net, storage, usb-scsi)" ;;
esac

run_args=(run --accel tcg -q -t 400 -o "$OUT/run")
for d in "${devs[@]}"; do
	IFS='|' read -r id _ _ spec _ <<<"$d"
	run_args+=(-d "$spec,id=$id,$trace,mmiotrace-file=host-$id.txt")
done
start=$(date +%s.%N)
"$HVMMIO" "${run_args[@]}" --args="$(IFS=,; echo "${args[*]}")" corpus -- "${qemu[@]}" ||
	fail "the corpus scenario failed (see $OUT/run)"
boot=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }')
guest=$OUT/run/guest-mmiotrace.txt
[ "$(cat "$guest.overrun")" = 0 ] || fail "the guest's trace buffer overran"
cat "$OUT/run/devices.txt"
# every workload did its part
while read -r kind slot name state; do
	case $kind in
	net) [ "$state" = carrier=1 ] || fail "$name ($slot): no carrier" ;;
	blk) [ "$state" = ok ] || fail "$name ($slot): the block read back differs" ;;
	wdt) [ "$state" = ok ] || fail "$name ($slot): the watchdog was not driven" ;;
	esac
done <"$OUT/run/devices.txt"
[ "$(wc -l <"$OUT/run/devices.txt")" -eq "${#devs[@]}" ] || fail "not every device was found"
pass "$group: ${#devs[@]} devices probed and exercised in $(printf '%.1f' "$boot") s"

# inscope HOST GUEST: line numbers, op, width, addr, value of the guest's R/W and UNKNOWN inside
# the BARs the host trace maps (its MAP records)
inscope() {
	awk 'FNR == NR { if ($1 == "MAP") { lo[n] = strtonum($4); len[n++] = strtonum($6) } next }
		$1 == "R" || $1 == "W" || $1 == "UNKNOWN" { a = strtonum($1 == "UNKNOWN" ? $4 : $5)
			for (i = 0; i < n; i++) if (a >= lo[i] && a < lo[i] + len[i]) { print FNR, $1, $2, $5, $6; break } }' \
		"$1" "$2"
}

named() { # named OUT TEXT: compare's report OUT has TEXT not followed by a digit
	awk -v s="$2" '{ i = index($0, s); if (i && substr($0, i + length(s), 1) !~ /[0-9]/) f = 1 }
		END { exit !f }' "$1"
}

plant() { # plant FAULT LINE [LINE2] <guest >planted
	case $1 in
	alter) awk -v l="$2" 'NR == l { $6 = ($6 == "0xdeadbeef" ? "0xdeadbeee" : "0xdeadbeef") } { print }' ;;
	drop) awk -v l="$2" 'NR != l' ;;
	swap) awk -v a="$2" -v b="$3" '{ line[NR] = $0 } END { t = line[a]; line[a] = line[b]; line[b] = t
		for (i = 1; i <= NR; i++) print line[i] }' ;;
	esac
}

rows=$OUT/rows.md
: >"$rows"
for d in "${devs[@]}"; do
	IFS='|' read -r id driver class spec fw <<<"$d"
	host=$OUT/run/host-$id.txt
	inscope "$host" "$guest" >"$OUT/$id.scope"
	grw=$(awk '$2 != "UNKNOWN"' "$OUT/$id.scope" | wc -l)
	gunk=$(awk '$2 == "UNKNOWN"' "$OUT/$id.scope" | wc -l)
	[ "$grw" -ge 10 ] || fail "$driver: only $grw guest R/W in the device's BARs"
	t0=$(date +%s.%N)
	"$HVMMIO" compare --json "$guest" "$host" >"$OUT/$id.json" ||
		{ "$HVMMIO" compare "$guest" "$host" >"$OUT/$id.txt" || true
		  fail "$driver: compare found discrepancies (see $OUT/$id.txt)"; }
	ct=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
	python3 - "$OUT/$id.json" "$grw" "$gunk" "$driver" <<'PY' >>"$rows" || fail "$driver: compare's figures"
import json, sys
j = json.load(open(sys.argv[1]))
rw, unk, drv = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
out = j["guest_outside_host_devices"]
assert j["guest"]["rw"] - out["rw"] == rw, f"{drv}: {rw} guest R/W in its BARs, compare says {j['guest']['rw'] - out['rw']}"
assert j["guest_rw_matched"] == rw, f"{drv}: {j['guest_rw_matched']} of {rw} R/W matched"
assert j["guest"]["unknown"] - out["unknown"] == unk and j["guest_unknown_matched"] == unk, f"{drv}: UNKNOWN {j}"
assert j["unexplained"] == 0 and j["result"] == "PASS", f"{drv}: unexplained {j['unexplained']}"
h = j["host_rw"]
print(f"{rw} {unk} {j['host']['rw']} {h['tracer_off']} {h['outside_guest_mappings'] + h['qemu']}",
      j["start"]["host_line"], j["start"]["host_rw_before"])
PY
	read -r r_rw r_unk r_host r_off r_other s_line s_before < <(tail -n 1 "$rows")
	sed -i '$d' "$rows"
	# the vCPUs' host R/W before the line where compare starts the guest log, counted here
	before=$(awk -v l="$s_line" 'FNR < l && ($1 == "R" || $1 == "W") && !/ vcpu=none/' "$host" | wc -l)
	[ "$before" -eq "$s_before" ] || fail "$driver: $before host R/W before line $s_line, compare says $s_before"
	if [ "$fw" = 1 ] && [ "$before" -eq 0 ]; then
		fail "$driver: no host access before the driver's (SeaBIOS or the early quirks should make some)"
	fi
	printf '| %s | %s | `%s` | %s | %s / %s | %s / %s | %s | %s | %s / %s | 0 | %.2f s |\n' "$driver" \
		"$class" "${spec%%,*}" "$r_rw" "$r_rw" "$r_rw" "$r_unk" "$r_unk" "$r_host" "$before" "$r_off" \
		"$r_other" "$ct" >>"$rows"
	pass "$driver ($id): $r_rw guest R/W and $r_unk UNKNOWN matched of $r_host host R/W ($before before the driver's first, $r_off before or after the guest tracer), 0 unexplained"

	# planted faults at one of the device's R/W: one that differs from its neighbours (in the
	# device's own sequence), as does the next one
	k=$(awk '$2 != "UNKNOWN" { n++; key[n] = $2 " " $3 " " $4 " " $5; ln[n] = $1 }
		END { for (i = int(n / 2); i < n - 2; i++)
			if (key[i] != key[i - 1] && key[i] != key[i + 1] && key[i + 1] != key[i + 2]) {
				print ln[i], ln[i + 1]; exit } }' "$OUT/$id.scope")
	read -r la lb <<<"$k"
	[ -n "${la:-}" ] || fail "$driver: no R/W to plant a fault at"
	for fault in alter drop swap; do
		plant $fault "$la" "$lb" <"$guest" >"$OUT/$id-$fault.txt"
		if "$HVMMIO" compare "$OUT/$id-$fault.txt" "$host" >"$OUT/$id-$fault.out" 2>&1; then
			fail "$driver: compare passed a guest log with a record ${fault}ed at line $la"
		fi
		# the discrepancy must name the planted place; its kind depends on the neighbours
		# (two swapped reads of one register differ in value rather than in order)
		case $fault in
		alter) named "$OUT/$id-$fault.out" "at guest $OUT/$id-$fault.txt:$la" ;;
		drop) grep -qF "host-only inside a guest-traced mapping at host" "$OUT/$id-$fault.out" ;;
		swap) named "$OUT/$id-$fault.out" "at guest $OUT/$id-$fault.txt:$la" ||
			named "$OUT/$id-$fault.out" "at guest $OUT/$id-$fault.txt:$lb" ;;
		esac || fail "$driver: the ${fault}ed record is not named (see $OUT/$id-$fault.out)"
	done
	pass "$driver: a value altered, a record dropped and two swapped (guest line $la) are caught"
	rm -f "$OUT/$id"-{alter,drop,swap}.txt
done

# the table of every group that has run (docs: README.md, "Fidelity on real drivers")
echo "$boot" >"$OUT/boot-seconds"
table=$OUT/../fidelity.md
{
	echo "| driver | class | QEMU device | guest R/W | matched | UNKNOWN matched | host R/W | host R/W before the driver | host explained: tracer off / other | unexplained | compare |"
	echo "|---|---|---|---|---|---|---|---|---|---|---|"
	for g in net storage usb-scsi; do
		[ -f "$OUT/../$g/rows.md" ] && cat "$OUT/../$g/rows.md"
	done
	echo
	echo -n "Guest boots (one per group, TCG):"
	for g in net storage usb-scsi; do
		[ -f "$OUT/../$g/boot-seconds" ] && echo -n " $g $(cat "$OUT/../$g/boot-seconds") s;"
	done
	echo
} >"$table.tmp.$$"
mv "$table.tmp.$$" "$table"
echo "table: $table"
