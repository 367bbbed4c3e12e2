#!/usr/bin/env bash
# Real peer: Debian's avrdude (-c arduino) against `shakedown sim stk500` on a
# pty. A pty has no DTR, so avrdude's reset pulse fails (it says so and goes
# on) and the simulated board waits in its loader. Reads the signature,
# writes a hex file to flash and EEPROM, verifies, reads both back.
# Then -c urclock (read-only) and -c arduino against the simulated urboot.
# Skips (77) when avrdude or objcopy is missing.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
command -v avrdude >/dev/null || { echo "avrdude not installed: skip"; exit 77; }
command -v objcopy >/dev/null || { echo "objcopy not installed: skip"; exit 77; }
export LC_ALL=C
PASS=0 FAIL=0 SIM_PID=
TMP=$(mktemp -d)
cleanup() {
  if [ -n "$SIM_PID" ]; then kill -TERM "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }

"$SHAKEDOWN" sim stk500 -v >"$TMP/sim.out" 2>"$TMP/sim.err" &
SIM_PID=$!
PTY=
for _ in $(seq 1 100); do
  PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null)
  [ -n "$PTY" ] && break
  sleep 0.05
done
check "sim stk500 serves a pty" [ -n "$PTY" ]
[ -n "$PTY" ] || { echo "$PASS passed, $FAIL failed"; exit 1; }

AVR="timeout 120 avrdude -c arduino -p m328p -P $PTY -b 115200"

$AVR -U signature:r:"$TMP/sig.hex":h >"$TMP/a1.log" 2>&1
check "avrdude reads the signature: rc 0" [ $? -eq 0 ]
check "signature is 1e 95 0f" grep -qi "0x1e,0x95,0xf" "$TMP/sig.hex"

# 2000 bytes of flash (16 pages, the last one partial) and 60 of EEPROM
python3 -c "import random; r=random.Random(7); open('$TMP/f.bin','wb').write(bytes(r.randrange(256) for _ in range(2000))); open('$TMP/e.bin','wb').write(bytes(r.randrange(256) for _ in range(60)))"
objcopy -I binary -O ihex "$TMP/f.bin" "$TMP/f.hex"
objcopy -I binary -O ihex "$TMP/e.bin" "$TMP/e.hex"
$AVR -U flash:w:"$TMP/f.hex":i -U eeprom:w:"$TMP/e.hex":i >"$TMP/a2.log" 2>&1
check "avrdude writes and verifies flash and EEPROM: rc 0" [ $? -eq 0 ]
check "flash verified" grep -q "2000 bytes of flash verified" "$TMP/a2.log"
check "eeprom verified" grep -q "60 bytes of eeprom verified" "$TMP/a2.log"

$AVR -U flash:r:"$TMP/fb.bin":r -U eeprom:r:"$TMP/eb.bin":r >"$TMP/a3.log" 2>&1
check "avrdude reads flash and EEPROM back: rc 0" [ $? -eq 0 ]
check "flash read back equals what was written" cmp -s <(head -c 2000 "$TMP/fb.bin") "$TMP/f.bin"
check "eeprom read back equals what was written" cmp -s <(head -c 60 "$TMP/eb.bin") "$TMP/e.bin"
check "the rest of flash is erased (0xff)" python3 -c "import sys; d=open('$TMP/fb.bin','rb').read(); sys.exit(0 if len(d)>2048 and set(d[2048:])=={255} else 1)"
check "the simulator logged the writes as destructive" grep -q "PROG_PAGE (destructive)" "$TMP/sim.err"

# urboot: avrdude -c urclock against `shakedown sim stk500 mode=urboot`,
# read-only (the signature comes from the MCU id in urboot's sync pair;
# avrdude also reads urboot's table at the top of flash). -c arduino must
# fail on the same board the way it does on real urboot: resp=0x20.
kill -TERM "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=
"$SHAKEDOWN" sim stk500 -v mode=urboot >"$TMP/usim.out" 2>"$TMP/usim.err" &
SIM_PID=$!
PTY=
for _ in $(seq 1 100); do
  PTY=$(head -n 1 "$TMP/usim.out" 2>/dev/null)
  [ -n "$PTY" ] && break
  sleep 0.05
done
check "sim stk500 mode=urboot serves a pty" [ -n "$PTY" ]
timeout 60 avrdude -c urclock -p m328p -P "$PTY" -b 115200 -v -U signature:r:"$TMP/usig.hex":h >"$TMP/a4.log" 2>&1
check "avrdude -c urclock reads the signature: rc 0" [ $? -eq 0 ]
check "urclock: signature is 1e 95 0f" grep -qi "0x1e,0x95,0xf" "$TMP/usig.hex"
check "urclock: avrdude says urboot protocol for ATmega328P" grep -q "Urboot protocol for ATmega328P" "$TMP/a4.log"
check "urclock: avrdude read urboot's table (UR_READ_PAGE_FL)" grep -q "UR_READ_PAGE_FL" "$TMP/usim.err"
check "urclock: no page was written" bash -c '! grep -q "UR_PROG_PAGE" "$1"' _ "$TMP/usim.err"
timeout 60 avrdude -c arduino -p m328p -P "$PTY" -b 115200 -U signature:r:"$TMP/asig.hex":h >"$TMP/a5.log" 2>&1
check "avrdude -c arduino fails against urboot: rc 1" [ $? -eq 1 ]
check "arduino: not in sync: resp=0x20" grep -q "not in sync: resp=0x20" "$TMP/a5.log"

if [ "$FAIL" -ne 0 ]; then
  for f in "$TMP"/a*.log; do echo "== $f"; grep -v TIOCM "$f" | tail -15; done
fi
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
