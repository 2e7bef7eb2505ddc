#!/usr/bin/env bash
# hvmmio's tools on odd outputs and odd inputs:
# - convert writes devices, FIFOs and '-' directly and never replaces them (as root,
#   'convert x /dev/null' used to replace /dev/null); follows symlinks deliberately (the
#   target is written, the link stays; a dangling one is refused); refuses OUT = IN (also
#   through a link), a directory, and leaves OUT untouched when the conversion fails;
# - stat fails on random bytes; a NUL hole (copytruncate) is named as such;
# - run: an unknown scenario fails before any guest boots; the --help example
#   'run --testdev testdrv' works.
. "$(dirname "$0")/../integration/lib.sh"
top=${HVMMIO_TOP:?}
cd "$OUT"
gunzip -c "$top/tests/fixtures/replay-testdrv.trace.gz" >in.txt
records=$(grep -c '' in.txt)

# ---- convert ----
if [ "$(id -u)" = 0 ]; then
	before=$(stat -c '%F %t:%T %i' /dev/null)
	"$HVMMIO" convert in.txt /dev/null || fail "convert to /dev/null failed"
	[ "$(stat -c '%F %t:%T %i' /dev/null)" = "$before" ] || fail "/dev/null was replaced"
	echo x >/dev/null || fail "/dev/null no longer works"
	pass "convert to /dev/null writes it, /dev/null stays ($before)"
fi

mkfifo fifo
cat fifo >fifo.out &
reader=$!
"$HVMMIO" convert in.txt fifo || fail "convert to a FIFO failed"
wait $reader
[ -p fifo ] || fail "the FIFO was replaced"
[ "$(grep -c '' fifo.out)" = "$records" ] || fail "the FIFO's reader got $(grep -c '' fifo.out) lines"
pass "convert to a FIFO writes it ($records lines), the FIFO stays"

"$HVMMIO" convert in.txt - | cmp -s - in.txt || fail "convert to '-' differs from the input"
pass "convert to '-' writes stdout"

echo old >target.txt
chmod 600 target.txt
ln -s target.txt link.txt
"$HVMMIO" convert in.txt link.txt || fail "convert to a symlink failed"
[ -L link.txt ] || fail "the symlink was replaced"
cmp -s target.txt in.txt || fail "the symlink's target was not written"
[ "$(stat -c %a target.txt)" = 600 ] || fail "the target lost its permissions"
pass "convert to a symlink writes its target (the link and the target's mode stay)"

ln -s nowhere dangling.txt
if "$HVMMIO" convert in.txt dangling.txt 2>err; then fail "a dangling symlink was accepted"; fi
grep -q "is a symbolic link to nothing" err || { cat err; fail "message"; }
[ -L dangling.txt ] && [ ! -e nowhere ] || fail "the dangling link was changed"
pass "a dangling symlink is refused: $(cat err)"

cp in.txt same.txt
ln -s same.txt same-link.txt
ln same.txt same-hard.txt
for out in same.txt same-link.txt same-hard.txt; do
	if "$HVMMIO" convert same.txt $out 2>err; then fail "convert same.txt $out was accepted"; fi
	grep -q "IN and OUT are the same file" err || { cat err; fail "message"; }
	cmp -s same.txt in.txt || fail "same.txt was damaged by convert same.txt $out"
done
pass "OUT = IN is refused, also through a symlink or a hard link: $(cat err)"

mkdir dir.txt
if "$HVMMIO" convert in.txt dir.txt 2>err; then fail "a directory was accepted"; fi
grep -q "is a directory" err || { cat err; fail "message"; }
pass "a directory is refused"

echo keep >kept.txt
printf 'VERSION 20070824\nthis is not a record\n' >bad.txt
if "$HVMMIO" convert bad.txt kept.txt 2>err; then fail "a bad input converted"; fi
[ "$(cat kept.txt)" = keep ] || fail "a failed conversion changed OUT"
ls kept.txt.tmp-* >/dev/null 2>&1 && fail "a failed conversion left a temporary file"
pass "a failed conversion leaves OUT as it was"

# ---- stat and the reader ----
head -c 65536 /dev/urandom >random.bin
if "$HVMMIO" stat random.bin >/dev/null 2>err; then fail "stat exits 0 on random bytes"; fi
grep -q "not an mmiotrace: no valid record" err || { cat err; fail "message"; }
pass "stat fails on random bytes: $(tail -1 err)"
"$HVMMIO" stat in.txt >/dev/null || fail "stat fails on a trace"

{ head -3 in.txt; head -c 100000 /dev/zero; tail -2 in.txt; } >holed.txt
if "$HVMMIO" stat --strict holed.txt >/dev/null 2>err; then fail "a NUL hole was accepted"; fi
grep -q "holed.txt:4: NUL bytes (the file was truncated while being written?" err ||
	{ cat err; fail "message"; }
pass "a NUL hole is named: $(cat err)"
{ head -3 in.txt; head -c 1000 /dev/zero; tail -2 in.txt; } >short-hole.txt
if "$HVMMIO" stat --strict short-hole.txt >/dev/null 2>err; then fail "a short NUL hole was accepted"; fi
grep -q "short-hole.txt:4: NUL bytes (the file was truncated" err || { cat err; fail "message"; }
pass "a short NUL hole (shorter than a line's limit) too"

# ---- run ----
start=$(date +%s)
if "$HVMMIO" run nosuch-scenario 2>err; then fail "an unknown scenario ran"; fi
grep -q "has no scenario 'nosuch-scenario' (it has: .*testdrv" err || { cat err; fail "message"; }
[ $(($(date +%s) - start)) -lt 5 ] || fail "it took $(($(date +%s) - start)) s (a guest booted?)"
pass "an unknown scenario fails at once: $(cat err)"
if "$HVMMIO" replay in.txt --scenario nosuch-scenario >out 2>err; then fail "replay ran"; fi
grep -q "has no scenario 'nosuch-scenario'" err || { cat err; fail "message"; }
grep -q "no replay report" err && fail "replay reports a missing report"
pass "replay with an unknown scenario fails at once"

if [ -n "${TESTDEV:-}" ]; then
	export HVMMIO_TESTDEV=$TESTDEV
	"$HVMMIO" run -q --testdev testdrv -o "$OUT/run-testdev" --timeout 240 >run.out 2>&1 ||
		{ tail -20 run.out; fail "the --help example 'run --testdev testdrv' failed"; }
	pass "the --help example 'hvmmio run --testdev testdrv' passes"
fi
echo "all tool cases passed"
