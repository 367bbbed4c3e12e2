#!/usr/bin/env bash
# Real peer: the real optiboot firmware (Debian arduino-core-avr's source,
# built here with gcc-avr, LED flashes off) running in simavr with UART0 on a
# pty (tests/peers/optiboot/runner.c). `shakedown info stk500` must identify
# it; then one scripted session runs against the real firmware and against
# `shakedown sim stk500` (as the same 4.4 build: version=4.4 eeprom=0, a
# silent application) and their answers must be equal byte for byte.
# Skips (77) without avr-gcc, libsimavr-dev or the optiboot source.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export LC_ALL=C
PASS=0 FAIL=0 PIDS=
TMP=$(mktemp -d)
cleanup() {
  for p in $PIDS; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  rm -rf "$TMP"
}
trap cleanup EXIT INT TERM
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

bash "$SRCDIR/tests/peers/optiboot/build.sh" "$TMP"
brc=$?
[ "$brc" -eq 77 ] && { echo "skip"; exit 77; }
[ "$brc" -eq 0 ] || { bad "optiboot and the simavr runner build"; finish; }
size=$(avr-size -A "$TMP/optiboot.elf" | awk '$1 == ".text" { print $2 }')
check "optiboot builds and fits the 512-byte boot section ($size bytes)" [ "$size" -le 512 ]

# start_peer NAME CMD... -> PTY; a fresh power-up with EXTRF: the loader
# leaves after 1 s of silence, so every use starts its own.
start_peer() {
  local name=$1; shift
  "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
  PIDS="$PIDS $!"
  LAST=$!
  PTY=
  for _ in $(seq 1 200); do
    PTY=$(head -n 1 "$TMP/$name.out" 2>/dev/null); [ -n "$PTY" ] && return 0; sleep 0.01
  done
  return 1
}
stop_peer() { kill -TERM "$LAST" 2>/dev/null; wait "$LAST" 2>/dev/null; }

check "simavr runs optiboot on a pty" start_peer real1 "$TMP/runner" "$TMP/optiboot.elf"
out=$(timeout 30 "$SHAKEDOWN" info --json stk500 "$PTY"); rc=$?
stop_peer
check "shakedown info identifies real optiboot: exit 0" [ "$rc" -eq 0 ]
py() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
check "chip ATmega328P" py 'd["answered_by"]["chip"] == "ATmega328P"' <<<"$out"
check "signature 1e 95 0f" py 'd["info"]["signature"] == "1e 95 0f"' <<<"$out"
check "optiboot version 4.4" py 'd["info"]["bootloader_version"] == "4.4"' <<<"$out"

# One scripted session: sync, parameters, signature, a page read, a page
# write and read-back, UNIVERSAL, an unknown opcode, then a malformed frame
# (after which a loader must stay silent).
cat >"$TMP/session.py" <<'PY'
import os, sys, time, select, tty
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
def xfer(frame, quiet=0.06, limit=0.5):
    os.write(fd, frame)
    out, end, last = b"", time.time() + limit, time.time()
    while time.time() < end and time.time() - last < quiet:
        if select.select([fd], [], [], 0.01)[0]:
            out += os.read(fd, 4096); last = time.time()
    return out
page = bytes(((i // 2) * 37) & 0xFF if i % 2 == 0 else 0xE0 | ((i // 2) & 0x0F) for i in range(128))
steps = [
    b"\x30\x20", b"\x30\x20", b"\x41\x81\x20", b"\x41\x82\x20", b"\x41\x80\x20", b"\x41\x98\x20",
    b"\x42" + bytes([0x86, 0, 0, 1, 1, 1, 1, 3, 0xff, 0xff, 0xff, 0xff, 0, 0x80, 4, 0, 0, 0, 0x80, 0]) + b"\x20",
    b"\x45\x05\x04\xd7\xc2\x01\x20", b"\x50\x20", b"\x75\x20",
    b"\x55\x00\x08\x20", b"\x74\x00\x80\x46\x20",
    b"\x55\x00\x08\x20", b"\x64\x00\x80\x46" + page + b"\x20",
    b"\x55\x00\x08\x20", b"\x74\x00\x80\x46\x20",
    b"\x56\xa0\x00\x00\x00\x20", b"\x99\x20",
    b"\x30\x30\x30\x20",
]
for s in steps:
    print(s[:8].hex(), xfer(s).hex())
PY
export RUNNER_HOLD=1 # powered up by the session's first byte (runner.c)
check "the real firmware, fresh" start_peer real2 "$TMP/runner" "$TMP/optiboot.elf"
unset RUNNER_HOLD
timeout 30 python3 "$TMP/session.py" "$PTY" >"$TMP/real.txt" 2>&1
stop_peer
check "the simulator as optiboot 4.4" start_peer sim "$SHAKEDOWN" sim stk500 version=4.4 eeprom=0 text=
timeout 30 python3 "$TMP/session.py" "$PTY" >"$TMP/sim.txt" 2>&1
stop_peer
check "the real firmware answered the session" grep -q "^3020 1410$" "$TMP/real.txt"
if diff -u "$TMP/real.txt" "$TMP/sim.txt" >"$TMP/diff.txt"; then
  ok "real optiboot and sim:stk500 answer byte for byte alike ($(wc -l <"$TMP/real.txt") frames)"
else
  bad "real optiboot and sim:stk500 differ (a simulator bug):"; cat "$TMP/diff.txt"
fi
check "the page written reads back on the real firmware" \
  bash -c '[ "$(grep -c "^7400804620 14" "$1")" -eq 2 ] && [ "$(grep "^7400804620 14" "$1" | sort -u | wc -l)" -eq 2 ]' _ "$TMP/real.txt"
finish
