#!/usr/bin/env bash
# hvmmio-testdev through QEMU's vfio-user-pci under qtest (no guest): every register of
# docs/testdev.md (testdev-registers.qtest), then what the server's log shows about how the
# accesses arrived: BAR0 accesses as one message each at the width the CPU used, BAR2 never
# (QEMU maps it) except while an INTx is pending.
. "$(dirname "$0")/lib.sh"
here=$(cd "$(dirname "$0")" && pwd)

qtest_testdev "$here/testdev-registers.qtest" "$OUT/testdev.sock" registers ||
	fail "register checks (see above; logs in $OUT)"
pass "every register behaves as documented"

log=$OUT/registers-server.log
grep -q '^hvmmio-testdev: bar0 R 8 0x010 0x0123456789abcdef$' "$log" ||
	fail "no single 8-byte read of REG64 reached the server"
grep -q '^hvmmio-testdev: bar0 W 1 0xfff 0x5a$' "$log" || fail "no 1-byte write at 0xfff"
grep -q '^hvmmio-testdev: bar0 R 2 0xffe 0xcafe$' "$log" || fail "no 2-byte read at 0xffe"
grep -q '^hvmmio-testdev: bar0 R 1 0x041 0xaa$' "$log" ||
	fail "the unaligned readw did not arrive as byte accesses"
# BAR2 is memory QEMU maps, but an INTx turns vfio-pci's BAR mmaps off (until 1100 ms of
# virtual time after the EOI): BAR2 reads before the INTx stay in QEMU, the one after it
# (offset 0x2000) reaches the server
bar2=$(grep '^hvmmio-testdev: bar2 ' "$log" || true)
[ "$bar2" = "hvmmio-testdev: bar2 R 4 0x2000 (message)" ] ||
	fail "BAR2 accesses other than the one during the INTx reached the server: ${bar2:-none}"
pass "BAR0 accesses arrive one message each at their width; BAR2 is mapped by QEMU"
grep -q 'client disconnected' "$log" || fail "the server did not see QEMU leave"
pass "the server exited 0 and removed its socket when QEMU left"
