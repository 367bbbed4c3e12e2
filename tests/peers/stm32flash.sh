#!/usr/bin/env bash
# Real peer: Debian's stm32flash against `shakedown sim stm32` on a pty, with
# -m 8n1 (a Linux pty carries no parity): identify, read 4 KiB, write a
# file, read it back identical, mass erase, read back 0xFF; the same with a
# 2.x loader (Erase 0x43); then `shakedown info stm32` on the same pty.
# Exit 77 (skip) without stm32flash. The simulator is killed on every exit.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
command -v stm32flash >/dev/null 2>&1 || { echo "stm32flash not installed: skip"; exit 77; }
export LC_ALL=C
TMP=$(mktemp -d)
SIM_PID=
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }

start_sim() { # start_sim KEY=VAL... -> SIM_PID, PTY
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  # A fresh file: the old one still names the last simulator's pty until
  # the new process truncates it, and head could read it first.
  rm -f "$TMP/sim.out"
  "$SHAKEDOWN" sim -v stm32 "$@" >"$TMP/sim.out" 2>"$TMP/sim.err" &
  SIM_PID=$!
  PTY=
  for _ in $(seq 1 100); do
    PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null); [ -n "$PTY" ] && return 0; sleep 0.05
  done
  return 1
}
flash() { timeout 60 stm32flash -m 8n1 "$@" "$PTY" >"$TMP/out" 2>&1; }

for ver in 3.1 2.2; do
  check "v$ver: sim starts" start_sim blver=$ver flash_kb=64
  check "v$ver: stm32flash identifies" flash
  check "v$ver: Device ID 0x0410" grep -q "Device ID    : 0x0410" "$TMP/out"
  check "v$ver: Version 0x${ver/./}" grep -q "Version      : 0x${ver/./}" "$TMP/out"
  check "v$ver: read 4 KiB" flash -r "$TMP/r4k.bin" -S 0x08000000:4096
  check "v$ver: 4096 bytes read" [ "$(stat -c %s "$TMP/r4k.bin" 2>/dev/null)" = 4096 ]
  check "v$ver: the vector table is in it" bash -c "od -An -tx1 -N8 '$TMP/r4k.bin' | grep -q '00 50 00 20 01 01 00 08'"
  head -c 5000 /dev/urandom >"$TMP/fw.bin"
  check "v$ver: write 5000 bytes" flash -w "$TMP/fw.bin"
  check "v$ver: stm32flash erased the pages it writes" grep -q "page erase" "$TMP/sim.err"
  check "v$ver: read back" flash -r "$TMP/back.bin" -S 0x08000000:5000
  check "v$ver: identical" cmp -s "$TMP/fw.bin" "$TMP/back.bin"
  check "v$ver: mass erase (-o)" flash -o
  check "v$ver: the device saw a mass (0x44) or global (0x43) erase" grep -Eq "(mass|global) erase" "$TMP/sim.err"
  check "v$ver: read after erase" flash -r "$TMP/erased.bin" -S 0x08000000:4096
  check "v$ver: all 0xFF" bash -c "[ \"\$(od -An -tx1 -v '$TMP/erased.bin' | tr -s ' \n' '\n\n' | sort -u | grep -v '^$')\" = ff ]"
  "$SHAKEDOWN" info --json stm32 "$PTY" >"$TMP/info.json" 2>"$TMP/info.err"; rc=$?
  check "v$ver: shakedown info on the same pty: exit 0" [ "$rc" -eq 0 ]
  check "v$ver: shakedown info: chip and version" python3 -c "
import json,sys; d=json.load(open('$TMP/info.json'))
sys.exit(0 if d['answered_by']['chip']=='STM32F1 medium-density' and d['info']['bootloader_version']=='$ver' and d['info']['flash']=='erased (the first 256 bytes are FF)' else 1)"
  check "v$ver: stm32flash after shakedown still identifies" flash
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
