# Scenario: load the TEST-ONLY driver hvmmio_fuzztarget (a planted bug: a register's value
# used unchecked as a table index) on hvmmio's test device or a replay of it, the target of
# `hvmmio replay --fuzz` (docs/replay-fuzz.md). Record it with
#   hvmmio run --testdev=mmiotrace=on,mmiotrace-file=host.txt fuzztarget
# Results: verdict (the driver's result: 0 passed, else the errno of its failed step).
# The scenario fails if the driver did not pass; a kernel oops in the probe kills modprobe.
. /scenarios/lib.sh

P=/sys/module/hvmmio_fuzztarget/parameters
step load-fuzztarget
modprobe hvmmio_fuzztarget || echo "modprobe hvmmio_fuzztarget failed"
n=0
while [ "$(cat $P/result 2>/dev/null)" = -1 ] && [ $n -lt 50 ]; do sleep 0.1; n=$((n + 1)); done
result=$(cat $P/result 2>/dev/null || echo none)
echo "result $result" >verdict
step unload-fuzztarget
rmmod hvmmio_fuzztarget || fail "rmmod hvmmio_fuzztarget failed"
dmesg | grep 'hvmmio_fuzztarget' >fuzztarget.log || true
cat fuzztarget.log
[ "$result" = 0 ] || fail "hvmmio_fuzztarget: result $result (see fuzztarget.log)"
echo "hvmmio_fuzztarget: PASS"
