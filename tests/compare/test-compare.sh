#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Tests of `hvmmio compare` (TAP): the real e1000e pairs pass; planted faults fail and name the
# planted record (the expected FILE:LINE is derived from what was planted, not from compare's
# output); UNKNOWN runs, explained host records and anchors on small synthetic pairs.
# Environment: HVMMIO (the built binary), FIXTURES (tests/fixtures).
set -u
: "${HVMMIO:?}" "${FIXTURES:?}"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
failed=0

ok() {
    n=$((n + 1))
    echo "ok $n - $1"
}
not_ok() {
    n=$((n + 1))
    echo "not ok $n - $1"
    failed=1
    sed 's/^/# /' "$tmp/out" | head -60
}

# expect STATUS NAME GUEST HOST [PATTERN...]: exit status and fixed strings in the output
# ($compare_args: more options; $whole_lines=x: each PATTERN is a whole line)
expect() {
    want=$1 name=$2 guest=$3 host=$4
    shift 4
    # shellcheck disable=SC2086
    "$HVMMIO" compare ${compare_args-} "$guest" "$host" >"$tmp/out" 2>&1
    got=$?
    if [ "$got" -ne "$want" ]; then
        echo "# exit status $got, expected $want"
        not_ok "$name"
        return
    fi
    for pat in "$@"; do
        if ! grep -q${whole_lines-}F -- "$pat" "$tmp/out"; then
            echo "# output lacks: $pat"
            not_ok "$name"
            return
        fi
    done
    ok "$name"
}

# ---- the real pairs ----
for pair in "guest host-insn" "guest-pc host-pc" "guest-2 host-2"; do
    set -- $pair
    expect 0 "real pair e1000e-$1 vs e1000e-$2 passes" \
        "$FIXTURES/compare-e1000e-$1.txt.gz" "$FIXTURES/compare-e1000e-$2.txt.gz" \
        "RESULT: PASS" "unexplained                     0"
done
gunzip -c "$FIXTURES/compare-e1000e-guest.txt.gz" >"$tmp/guest.txt"
gunzip -c "$FIXTURES/compare-e1000e-host-insn.txt.gz" >"$tmp/host.txt"
"$HVMMIO" compare --json "$tmp/guest.txt" "$tmp/host.txt" >"$tmp/out" 2>&1
if [ $? -eq 0 ] && grep -q '"result":"PASS"' "$tmp/out" && grep -q '"guest_rw_matched":3567' "$tmp/out"; then
    ok "--json on a real pair"
else
    not_ok "--json on a real pair"
fi

# ---- real pairs where firmware or early-boot code touched the device first ----
# (tests/fixtures/make-fixtures.sh) The guest's first access is in the host trace more than
# once: SeaBIOS (nvme) or the kernel's early USB quirk (xhci) made it, with the same value,
# before the guest tracer started; compare must place the guest log at the driver's own run.
for dev in nvme xhci; do
    gunzip -c "$FIXTURES/compare-$dev-guest.txt.gz" >"$tmp/$dev-g.txt"
    gunzip -c "$FIXTURES/compare-$dev-host.txt.gz" >"$tmp/$dev-h.txt"
    first=$(awk '$1 == "R" || $1 == "W" { print $1, $2, $5, $6; exit }' "$tmp/$dev-g.txt")
    seen=$(awk -v f="$first" '($1 == "R" || $1 == "W") && $1 " " $2 " " $5 " " $6 == f' \
        "$tmp/$dev-h.txt" | wc -l)
    grw=$(grep -c '^[RW] ' "$tmp/$dev-g.txt")
    if [ "$seen" -ge 2 ]; then
        ok "fixture $dev: the guest's first access ($first) is $seen times in the host trace"
    else
        not_ok "fixture $dev: the guest's first access is repeated in the host trace ($seen)"
    fi
    # where the driver's run starts: the one host line from which the host's R/W are the
    # guest's first 20 R/W, in order
    start=$(awk 'FNR == NR { if (($1 == "R" || $1 == "W") && g < 20) want[g++] = $1 " " $2 " " $5 " " $6; next }
        $1 == "R" || $1 == "W" { key[n] = $1 " " $2 " " $5 " " $6; ln[n++] = FNR }
        END { for (i = 0; i + 20 <= n; i++) { for (j = 0; j < 20 && key[i + j] == want[j]; j++) ;
              if (j == 20) print ln[i] } }' "$tmp/$dev-g.txt" "$tmp/$dev-h.txt")
    if [ "$(echo "$start" | wc -w)" -eq 1 ]; then
        ok "fixture $dev: the guest's first 20 R/W are the host's from line $start on, only there"
    else
        not_ok "fixture $dev: one host line starts the guest's first 20 R/W ($start)"
    fi
    expect 0 "real pair $dev (firmware/early accesses first) passes, every R/W matched" \
        "$tmp/$dev-g.txt" "$tmp/$dev-h.txt" "guest R/W matched $(printf '%15s / %-8s' "$grw" "$grw")" \
        "starts at host line $start " "unexplained                     0" "RESULT: PASS"
    # with look-ahead windows far shorter than the host records before the driver's start, the
    # windows slide to it
    for w in 16 64; do
        "$HVMMIO" compare --window $w "$tmp/$dev-g.txt" "$tmp/$dev-h.txt" >"$tmp/out" 2>&1
        if [ $? -eq 0 ] && grep -qF "starts at host line $start " "$tmp/out"; then
            ok "real pair $dev with --window $w: placed at host line $start"
        else
            not_ok "real pair $dev with --window $w: placed at host line $start"
        fi
    done
    # a fault planted in the guest's first access, in its 10th, in its last: caught, named
    for k in 1 10 $grw; do
        l=$(awk -v k="$k" '$1 == "R" || $1 == "W" { if (++n == k) { print NR; exit } }' "$tmp/$dev-g.txt")
        awk -v l="$l" 'NR == l { $6 = ($6 == "0xdeadbeef" ? "0xdeadbeee" : "0xdeadbeef") } { print }' \
            "$tmp/$dev-g.txt" >"$tmp/$dev-alt.txt"
        expect 1 "$dev: value altered in guest access $k is named" "$tmp/$dev-alt.txt" "$tmp/$dev-h.txt" \
            "value mismatch at guest $tmp/$dev-alt.txt:$l" "RESULT: FAIL"
    done
done
# the guest's first access is followed by a MAP of another BAR (nvme: the MSI-X table): the
# accesses through it are found where the guest log is placed
l=$(awk '$1 == "R" || $1 == "W" { n++ } $1 == "MAP" && n == 1 { print NR; exit }' "$tmp/nvme-g.txt")
if [ -n "$l" ]; then
    ok "fixture nvme: a MAP (guest line $l) follows the guest's first access"
else
    not_ok "fixture nvme: a MAP follows the guest's first access"
fi

# ---- scope: the driver also bound a device the host did not trace ----
gunzip -c "$FIXTURES/compare-ahci2-guest.txt.gz" >"$tmp/ahci2-g.txt"
gunzip -c "$FIXTURES/compare-ahci2-host.txt.gz" >"$tmp/ahci2-h.txt"
# guest R/W outside every host MAP range (the host-traced BARs), counted here independently
outside=$(awk 'FNR == NR { if ($1 == "MAP") { lo[n] = strtonum($4); len[n++] = strtonum($6) } next }
    $1 == "R" || $1 == "W" { a = strtonum($5); in_ = 0
        for (i = 0; i < n; i++) if (a >= lo[i] && a < lo[i] + len[i]) in_ = 1
        if (!in_) out++ }
    END { print out + 0 }' "$tmp/ahci2-h.txt" "$tmp/ahci2-g.txt")
inside=$(($(grep -c '^[RW] ' "$tmp/ahci2-g.txt") - outside))
if [ "$outside" -gt 0 ] && [ "$inside" -gt 0 ]; then
    ok "fixture ahci2: $outside guest R/W outside the host-traced BARs, $inside inside"
else
    not_ok "fixture ahci2: guest R/W both outside ($outside) and inside ($inside) the host's BARs"
fi
expect 0 "accesses to a device the host did not trace are counted, listed, and do not fail" \
    "$tmp/ahci2-g.txt" "$tmp/ahci2-h.txt" "outside host devices $(printf '%12s' "$outside") R/W, 0 UNKNOWN in 1 range" \
    "guest R/W matched $(printf '%15s / %-8s' "$inside" "$inside")" "RESULT: PASS"
"$HVMMIO" compare "$tmp/ahci2-g.txt" - <"$tmp/ahci2-h.txt" >"$tmp/out" 2>&1
if [ $? -eq 0 ] && grep -qF "outside host devices $(printf '%12s' "$outside") R/W" "$tmp/out"; then
    ok "the same with the host trace on standard input (scope read as it comes)"
else
    not_ok "the same with the host trace on standard input (scope read as it comes)"
fi
"$HVMMIO" compare --strict-scope "$tmp/ahci2-g.txt" "$tmp/ahci2-h.txt" >"$tmp/out" 2>&1
if [ $? -eq 1 ] && grep -qF "$outside guest accesses outside the host-traced devices (--strict-scope)" "$tmp/out"; then
    ok "--strict-scope fails on them"
else
    not_ok "--strict-scope fails on them"
fi
"$HVMMIO" compare --json "$tmp/ahci2-g.txt" "$tmp/ahci2-h.txt" >"$tmp/out" 2>&1
if python3 -c '
import json, sys
j = json.load(open(sys.argv[1]))
o = j["guest_outside_host_devices"]
assert o["rw"] == int(sys.argv[2]) and len(o["ranges"]) == 1 and o["ranges"][0]["rw"] == o["rw"], o
assert j["guest_compared"] == int(sys.argv[3]) and j["result"] == "PASS", j
' "$tmp/out" "$outside" "$inside"; then
    ok "--json lists the range outside the host's devices"
else
    not_ok "--json lists the range outside the host's devices"
fi

# ---- planted faults ----
# Line numbers of the R/W records of each log; in these captures the guest's R/W sequence is the
# beginning of the host's (checked here), so the k-th R/W of one is the k-th of the other.
awk '$1 == "R" || $1 == "W" { print NR, $1, $2, $5, $6 }' "$tmp/guest.txt" >"$tmp/g.rw"
awk '$1 == "R" || $1 == "W" { print NR, $1, $2, $5, $6 }' "$tmp/host.txt" >"$tmp/h.rw"
gn=$(wc -l <"$tmp/g.rw")
if cut -d' ' -f2- "$tmp/g.rw" | cmp -s - "$(head -n "$gn" "$tmp/h.rw" | cut -d' ' -f2- >"$tmp/h.pre"; echo "$tmp/h.pre")"; then
    ok "fixture: the guest R/W sequence is the beginning of the host's"
else
    not_ok "fixture: the guest R/W sequence is the beginning of the host's"
fi
# k: the first R/W from the 1500th on that differs from both neighbours, as does the next one,
# and whose next record is the next R/W in both files (so swaps are of adjacent lines)
k=$(paste -d' ' "$tmp/g.rw" "$(head -n "$gn" "$tmp/h.rw" >"$tmp/h.rwp"; echo "$tmp/h.rwp")" | awk '
    { gl[NR] = $1; key[NR] = $2 " " $3 " " $4 " " $5; hl[NR] = $6 }
    END {
        for (i = 1500; i < NR - 2; i++)
            if (key[i] != key[i - 1] && key[i] != key[i + 1] && key[i + 1] != key[i + 2] &&
                gl[i + 1] == gl[i] + 1 && hl[i + 1] == hl[i] + 1) { print i; exit }
    }')
lg=$(sed -n "${k}p" "$tmp/g.rw" | cut -d' ' -f1)
lh=$(sed -n "${k}p" "$tmp/h.rw" | cut -d' ' -f1)
echo "# planting at R/W #$k: guest line $lg, host line $lh"

# alter: the value field (6th) of line L becomes a different value
alter() { awk -v l="$2" 'NR == l { $6 = ($6 == "0xdeadbeef" ? "0xdeadbeee" : "0xdeadbeef") } { print }' "$1"; }
drop() { awk -v l="$2" 'NR != l' "$1"; }
swap() { awk -v l="$2" 'NR == l { held = $0; next } { print } NR == l + 1 { print held }' "$1"; }

for fault in alter drop swap; do
    $fault "$tmp/guest.txt" "$lg" >"$tmp/g-$fault.txt"
    $fault "$tmp/host.txt" "$lh" >"$tmp/h-$fault.txt"
done
# guest-side faults: the guest line is named; host-side: the host line is named. A record dropped
# from one log is named in the other (it is the one without a partner).
expect 1 "value altered in the guest log: named" "$tmp/g-alter.txt" "$tmp/host.txt" \
    "value mismatch at guest $tmp/g-alter.txt:$lg" "host $tmp/host.txt:$lh" "RESULT: FAIL"
expect 1 "value altered in the host log: named" "$tmp/guest.txt" "$tmp/h-alter.txt" \
    "value mismatch at guest $tmp/guest.txt:$lg / host $tmp/h-alter.txt:$lh" "RESULT: FAIL"
expect 1 "record dropped from the guest log: its host partner is named" \
    "$tmp/g-drop.txt" "$tmp/host.txt" "host-only inside a guest-traced mapping at host $tmp/host.txt:$lh" \
    "RESULT: FAIL"
expect 1 "record dropped from the host log: its guest partner is named" \
    "$tmp/guest.txt" "$tmp/h-drop.txt" "guest-only at guest $tmp/guest.txt:$lg" "RESULT: FAIL"
expect 1 "adjacent records swapped in the guest log: named" "$tmp/g-swap.txt" "$tmp/host.txt" \
    "out of order at guest $tmp/g-swap.txt:$lg" "RESULT: FAIL"
expect 1 "adjacent records swapped in the host log: named" "$tmp/guest.txt" "$tmp/h-swap.txt" \
    "out of order at guest $tmp/guest.txt:$lg / host $tmp/h-swap.txt:$((lh + 1))" \
    "host $tmp/h-swap.txt:$lh" "RESULT: FAIL"
# the same faults compressed (the reader decompresses)
gzip -c "$tmp/g-alter.txt" >"$tmp/g-alter.txt.gz"
expect 1 "value altered in a gzipped guest log: named" "$tmp/g-alter.txt.gz" "$tmp/host.txt" \
    "value mismatch at guest $tmp/g-alter.txt.gz:$lg"
# a fault near the start and at the very end
alter "$tmp/guest.txt" "$(sed -n 2p "$tmp/g.rw" | cut -d' ' -f1)" >"$tmp/g-alter2.txt"
expect 1 "value altered in the guest log's 2nd access: named" "$tmp/g-alter2.txt" "$tmp/host.txt" \
    "at guest $tmp/g-alter2.txt:$(sed -n 2p "$tmp/g.rw" | cut -d' ' -f1)"
last=$(tail -n 1 "$tmp/g.rw" | cut -d' ' -f1)
alter "$tmp/guest.txt" "$last" >"$tmp/g-alter3.txt"
expect 1 "value altered in the guest log's last access: named" "$tmp/g-alter3.txt" "$tmp/host.txt" \
    "at guest $tmp/g-alter3.txt:$last"

# ---- synthetic pairs ----
# guest: the kernel's format; host: hvmmio's extended format
G0='VERSION 20070824
MAP 1.000000 1 0xfe000000 0xffffc90000000000 0x1000 0x0 0
W 4 1.000001 1 0xfe000000 0x1 0x0 0'
H0='VERSION 20070824
MAP 0.000001 1 0xfe000000 0x0 0x1000 0x0 0 ns=1000 dev=t0 bar=0 off=0x0
W 4 2.000001 1 0xfe000000 0x1 0xffffffff81000010 0 ns=2000001000 vcpu=0'
GEND='R 4 1.000009 1 0xfe000010 0x5 0x0 0'
HEND='R 4 2.000009 1 0xfe000010 0x5 0xffffffff81000020 0 ns=2000009000 vcpu=0'

# host run of COUNT W 4 from ADDR stepping 4 with PC (0 = none)
host_run() {
    awk -v addr="$1" -v count="$2" -v pc="$3" 'BEGIN {
        for (i = 0; i < count; i++)
            printf "W 4 2.000002 1 0x%x 0x%x 0x%s 0 ns=2000002000 vcpu=0\n", addr + 4 * i, i, pc }'
}
P=4261413120 # 0xfe000100
{ echo "$G0"; echo "UNKNOWN 1.000002 1 0xfe000100 f3,a5,00 0x0 0"; echo "$GEND"; } >"$tmp/u-g.txt"
{ echo "$H0"; host_run $P 16 ffffffff81000030; echo "$HEND"; } >"$tmp/u-h-pc.txt"
{ echo "$H0"; host_run $P 16 0; echo "$HEND"; } >"$tmp/u-h-nopc.txt"
expect 0 "UNKNOWN f3,a5 matched to a host run of 16 W with one PC" "$tmp/u-g.txt" "$tmp/u-h-pc.txt" \
    "guest UNKNOWN matched           1 / 1" "16 in UNKNOWN runs" "RESULT: PASS"
expect 0 "UNKNOWN f3,a5 matched to a host run of 16 W without PCs (constant stride)" \
    "$tmp/u-g.txt" "$tmp/u-h-nopc.txt" "guest UNKNOWN matched           1 / 1" "16 in UNKNOWN runs" \
    "RESULT: PASS"
# without PCs, the run stops before the access the guest logs next, even if it continues the stride
{ echo "$G0"; echo "UNKNOWN 1.000002 1 0xfe000100 f3,a5,00 0x0 0"
  echo "W 4 1.000003 1 0xfe000140 0x10 0x0 0"; echo "$GEND"; } >"$tmp/u2-g.txt"
{ echo "$H0"; host_run $P 17 0; echo "$HEND"; } >"$tmp/u2-h.txt"
expect 0 "without PCs the run stops before the guest's next access" "$tmp/u2-g.txt" "$tmp/u2-h.txt" \
    "16 in UNKNOWN runs" "guest R/W matched               3 / 3" "RESULT: PASS"
# a guest that logs one UNKNOWN per iteration (single-stepping a rep string instruction)
{ echo "$G0"; for a in 100 104 108 10c; do echo "UNKNOWN 1.000002 1 0xfe000$a f3,a5,00 0x0 0"; done
  echo "$GEND"; } >"$tmp/u3-g.txt"
{ echo "$H0"; host_run $P 4 ffffffff81000030; echo "$HEND"; } >"$tmp/u3-h.txt"
expect 0 "one guest UNKNOWN per iteration matches the same run" "$tmp/u3-g.txt" "$tmp/u3-h.txt" \
    "guest UNKNOWN matched           4 / 4" "RESULT: PASS"
# an UNKNOWN without a host run: guest-only
{ echo "$H0"; echo "$HEND"; } >"$tmp/u4-h.txt"
expect 1 "UNKNOWN without a host run fails" "$tmp/u-g.txt" "$tmp/u4-h.txt" \
    "guest-only at guest $tmp/u-g.txt:4"
# a read-modify-write (UNKNOWN 83 /1 = or) without PCs: R then W of one address
{ echo "$G0"; echo "UNKNOWN 1.000002 1 0xfe000100 83,48,00 0x0 0"; echo "$GEND"; } >"$tmp/u5-g.txt"
{ echo "$H0"; echo "R 4 2.000002 1 0xfe000100 0x1 0x0 0 vcpu=0"
  echo "W 4 2.000003 1 0xfe000100 0x3 0x0 0 vcpu=0"; echo "$HEND"; } >"$tmp/u5-h.txt"
expect 0 "read-modify-write UNKNOWN without PCs takes the read and the write" \
    "$tmp/u5-g.txt" "$tmp/u5-h.txt" "2 in UNKNOWN runs" "RESULT: PASS"

# host-only access inside a traced mapping while the tracer was on: fail, named
{ echo "$G0"; echo "W 4 1.000002 1 0xfe000004 0x2 0x0 0"; echo "$GEND"; } >"$tmp/s-g.txt"
{ echo "$H0"; echo "W 4 2.000002 1 0xfe000004 0x2 0x0 0 vcpu=0"
  echo "W 4 2.000003 1 0xfe000008 0x3 0x0 0 vcpu=0"; echo "$HEND"; } >"$tmp/s-h.txt"
expect 1 "host-only access inside a traced mapping while on fails" "$tmp/s-g.txt" "$tmp/s-h.txt" \
    "host-only inside a guest-traced mapping at host $tmp/s-h.txt:5" "RESULT: FAIL"
# explained host records: outside the guest's mappings, by QEMU itself, before/after the guest log
{ echo "$H0" | head -2; echo "W 4 0.5 1 0xfe000000 0x9 0x0 0 vcpu=0"
  echo "$H0" | tail -1
  echo "W 4 2.000002 1 0xfe001000 0x7 0x0 0 vcpu=0"
  echo "R 4 2.000002 1 0xfe000004 0x7 0x0 0 vcpu=none"
  echo "W 4 2.000002 1 0xfe000004 0x2 0x0 0 vcpu=0"
  echo "$HEND"; echo "R 4 3 1 0xfe000010 0x5 0x0 0 vcpu=0"; } >"$tmp/e-h.txt"
expect 0 "outside mappings, QEMU's own and tracer-off host records are explained" \
    "$tmp/s-g.txt" "$tmp/e-h.txt" \
    "host records explained          4: 2 while the guest tracer was off, 1 outside guest mappings, 1 by QEMU itself" \
    "RESULT: PASS"
# anchors: a marker in both logs; a host-only access between the guest's last access before the
# marker and the host's marker is inside the traced period: fail
{ echo "$G0"; echo "MARK 1.000002 step"; echo "$GEND"; } >"$tmp/a-g.txt"
{ echo "$H0"; echo "MARK 2.000002 step"; echo "$HEND"; } >"$tmp/a-h.txt"
{ echo "$H0"; echo "W 4 2.000002 1 0xfe000008 0x3 0x0 0 vcpu=0"; echo "MARK 2.000002 step"
  echo "$HEND"; } >"$tmp/a-h2.txt"
expect 0 "a marker in both logs is an anchor" "$tmp/a-g.txt" "$tmp/a-h.txt" \
    "anchors                         1 marker in both logs" "RESULT: PASS"
expect 1 "a host-only access before an anchor fails" "$tmp/a-g.txt" "$tmp/a-h2.txt" \
    "host-only inside a guest-traced mapping at host $tmp/a-h2.txt:4"
# a marker only in the guest log is no anchor
expect 1 "a marker in one log only is no anchor" "$tmp/a-g.txt" "$tmp/s-h.txt" \
    "anchors                         0 markers" "RESULT: FAIL"

# ---- nothing to compare; the report limit ----
: >"$tmp/empty.txt"
printf 'VERSION 20070824\nMARK 1.000000 hello\n' >"$tmp/noaccess.txt"
expect 1 "an empty guest log fails" "$tmp/empty.txt" "$tmp/host.txt" \
    "RESULT: FAIL — the guest log $tmp/empty.txt has no R/W or UNKNOWN record: nothing was compared"
expect 1 "an empty guest and host fail" "$tmp/empty.txt" "$tmp/empty.txt" "RESULT: FAIL"
expect 1 "a guest log without accesses fails" "$tmp/noaccess.txt" "$tmp/host.txt" \
    "has no R/W or UNKNOWN record"
"$HVMMIO" compare - - </dev/null >"$tmp/out" 2>&1
[ $? -eq 2 ] && grep -q "cannot both be '-'" "$tmp/out" && ok "'-' for both inputs is a usage error" ||
    not_ok "'-' for both inputs is a usage error"
"$HVMMIO" compare - "$tmp/host.txt" <"$tmp/guest.txt" >"$tmp/out" 2>&1
[ $? -eq 0 ] && ok "the guest log from standard input" || not_ok "the guest log from standard input"
# every guest read's value changed: far more discrepancies than the limit
awk '$1 == "R" { $6 = "0xdeadbeef" } { print }' "$tmp/guest.txt" >"$tmp/g-allbad.txt"
nbad=$(grep -c '^R ' "$tmp/g-allbad.txt")
for lim in 1000 50; do
    opt=
    [ $lim = 1000 ] || opt="--max-report $lim"
    "$HVMMIO" compare $opt "$tmp/g-allbad.txt" "$tmp/host.txt" >"$tmp/out" 2>&1
    if [ $? -eq 1 ] && [ "$nbad" -gt 1000 ] &&
        grep -qE "^  unexplained +$lim:" "$tmp/out" && grep -q "STOPPED after $lim discrepancies" "$tmp/out"; then
        ok "the report stops at $lim discrepancies (${opt:-default}; $nbad reads altered)"
    else
        not_ok "the report stops at $lim discrepancies (${opt:-default})"
    fi
done

# ---- --regs: register names and fields (the 82574's CTRL and STATUS, as in docs/regmap.md) ----
cat >"$tmp/r-g.txt" <<'EOF2'
VERSION 20070824
MAP 1.000000 1 0xfeba0000 0xffffc90000000000 0x20000 0x0 0
W 4 1.000001 1 0xfeba0000 0xc000040 0x0 0
R 4 1.000002 1 0xfeba0008 0x80283 0x0 0
W 4 1.000003 1 0xfeba0000 0x140245 0x0 0
R 4 1.000004 1 0xfeba0004 0x0 0x0 0
EOF2
cat >"$tmp/r-h.txt" <<'EOF2'
VERSION 20070824
PCIDEV 0008 808610d3 a feba0000 febc0000 c041 febe0000 0 0 0 20000 20000 20 4000 0 0 0  dev=nic0
MAP 0.010000 1 0xfeba0000 0x0 0x20000 0x0 0 ns=10000000 dev=nic0 bar=0 off=0x0
W 4 2.000001 1 0xfeba0000 0xc000040 0x0 0 vcpu=0 dev=nic0 bar=0 off=0x0
R 4 2.000002 1 0xfeba0008 0x80283 0x0 0 vcpu=0 dev=nic0 bar=0 off=0x8
W 4 2.000003 1 0xfeba0000 0x140241 0x0 0 vcpu=0 dev=nic0 bar=0 off=0x0
R 4 2.000004 1 0xfeba0004 0x0 0x0 0 vcpu=0 dev=nic0 bar=0 off=0x4
EOF2
e1000e_map="$FIXTURES/../../regmaps/e1000e.yaml"
# compare_regs NAME STATUS PATTERN...: the pair above with $regs_args, each PATTERN a whole line
compare_regs() {
    name=$1 want=$2
    shift 2
    compare_args=$regs_args whole_lines=x
    expect "$want" "$name" "$tmp/r-g.txt" "$tmp/r-h.txt" "$@"
    compare_args='' whole_lines=''
}
regs_args="--regs $e1000e_map"
compare_regs "--regs names the mismatched register and decodes both values' fields" 1 \
    "  guest $tmp/r-g.txt:5: W 4 1.000003 1 0xfeba0000 0x140245 0x0 0  BAR0+0x0 CTRL = 0x00140245 {FD, GIO_MASTER_DISABLE, SLU, SPEED=1000M, SWDPIN0, ADVD3WUC}" \
    "  host  $tmp/r-h.txt:6: W 4 2.000003 1 0xfeba0000 0x140241 0x0 0  BAR0+0x0 CTRL = 0x00140241 {FD, SLU, SPEED=1000M, SWDPIN0, ADVD3WUC}" \
    "             4  R 4 1.000002 1 0xfeba0008 0x80283 0x0 0  BAR0+0x8 STATUS = 0x00080283 {FD, LU, SPEED=1000M, ASDV=2, GIO_MASTER_ENABLE}" \
    "             7  R 4 2.000004 1 0xfeba0004 0x0 0x0 0  BAR0+0x4 ? = 0x00000000" \
    "             2  MAP 1.000000 1 0xfeba0000 0xffffc90000000000 0x20000 0x0 0" \
    "  unexplained                     1: 1 value mismatch" \
    "  unexplained by register  CTRL 1"
regs_args=""
compare_regs "without --regs the records are as they were" 1 \
    "  guest $tmp/r-g.txt:5: W 4 1.000003 1 0xfeba0000 0x140245 0x0 0" \
    "  host  $tmp/r-h.txt:6: W 4 2.000003 1 0xfeba0000 0x140241 0x0 0"
grep -q "CTRL\|BAR0+" "$tmp/out" && not_ok "without --regs no register is named" ||
    ok "without --regs no register is named"
# several maps: the one with the 82574's ids names it; DEV=MAP binds by the host's dev= name
regs_args="--regs $FIXTURES/../../regmaps/nvme.yaml --regs nic0=$e1000e_map"
compare_regs "--regs twice, DEV=MAP names the guest's accesses through the host's header" 1 \
    "  guest $tmp/r-g.txt:5: W 4 1.000003 1 0xfeba0000 0x140245 0x0 0  BAR0+0x0 CTRL = 0x00140245 {FD, GIO_MASTER_DISABLE, SLU, SPEED=1000M, SWDPIN0, ADVD3WUC}"
regs_args="--regs $FIXTURES/../../regmaps/nvme.yaml"
compare_regs "a map for other PCI ids names nothing" 1 \
    "  guest $tmp/r-g.txt:5: W 4 1.000003 1 0xfeba0000 0x140245 0x0 0"
regs_args="--json --regs $e1000e_map"
compare_regs "--json --regs: the records carry their register" 1
grep -qF '"record":"W 4 2.000003 1 0xfeba0000 0x140241 0x0 0  BAR0+0x0 CTRL = 0x00140241 {FD, SLU, SPEED=1000M, SWDPIN0, ADVD3WUC}"' "$tmp/out" &&
    ok "--json --regs: the host record is named" || not_ok "--json --regs: the host record is named"
grep -qF '"unexplained_by_register":{' "$tmp/out" && grep -qF '"CTRL":1' "$tmp/out" &&
    ok "--json --regs: the discrepancies by register" ||
    not_ok "--json --regs: the discrepancies by register"
printf 'registers:\n  A: {offset: zero}\n' >"$tmp/bad.yaml"
regs_args="--regs $tmp/bad.yaml"
compare_regs "a map that does not parse: the loader's FILE:LINE, exit 2" 2 \
    "hvmmio compare: $tmp/bad.yaml:2: offset: 'zero' is not a number (decimal or 0x hex)"
regs_args="--regs $tmp/nonexistent.yaml"
compare_regs "an unknown map file: exit 2" 2
grep -qF "nonexistent.yaml" "$tmp/out" && ok "an unknown map file is named" ||
    not_ok "an unknown map file is named"

# ---- errors ----
{ echo "$G0"; echo "W 4 1.000002 1 0xfe000004"; echo "$GEND"; } >"$tmp/bad-g.txt"
expect 2 "a malformed line stops with FILE:LINE" "$tmp/bad-g.txt" "$tmp/s-h.txt" "$tmp/bad-g.txt:4:"
"$HVMMIO" compare --skip-bad "$tmp/bad-g.txt" "$tmp/s-h.txt" >"$tmp/out" 2>&1
[ $? -eq 1 ] && grep -q "line skipped" "$tmp/out" && ok "--skip-bad skips it with a warning" ||
    not_ok "--skip-bad skips it with a warning"
expect 2 "a missing file is a usage error" "$tmp/nonexistent" "$tmp/s-h.txt" "nonexistent"
"$HVMMIO" compare "$tmp/s-g.txt" >"$tmp/out" 2>&1
[ $? -eq 2 ] && ok "one argument is a usage error" || not_ok "one argument is a usage error"

echo "1..$n"
exit $failed
