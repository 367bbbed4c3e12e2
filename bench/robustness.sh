#!/usr/bin/env bash
# bench/robustness.sh — issue 11's table: shakedown next to the reference
# tools (stm32flash, avrdude) against the same simulator on a pty, behind a
# bit-flipping proxy, RUNS runs per cell. For each tool and cell it counts
#   right   exit 0 and every value it printed is the simulator's truth
#   WRONG   exit 0 with a wrong value printed (the number that must be 0)
#   failed  a non-zero exit (an honest failure)
# shakedown's fields marked unverified (JSON fact `unverified`) are not
# claims: they count neither as right nor as wrong values, and runs that
# had any are counted again in the "some unverified" column.
#
# The proxy flips each bit of every byte, both ways, with probability BER,
# from a seed (the same seed, the same flips for both tools). The flood cell
# has no proxy: the simulator's preamble=2048 sends 2 KiB of text before its
# first ACK, the pty form of a flood before sync.
#
# usage: SHAKEDOWN=build/shakedown RUNS=30 bench/robustness.sh [stm32|stk500|all]
#        BEFORE=/path/to/older/shakedown adds a column for that binary
#        (e.g. main's, to measure a change the same way).
set -u
SD=${SHAKEDOWN:-build/shakedown}
RUNS=${RUNS:-30}
BEFORE=${BEFORE:-}
export LC_ALL=C
TMP=$(mktemp -d)
SIM_PID= PROXY_PID=
stop_all() {
  for p in $PROXY_PID $SIM_PID; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
  SIM_PID= PROXY_PID=
}
trap 'stop_all; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

# ---- shared: a simulator on a pty, and the bit-flipping proxy ------------

# start_sim PROTO KEY=VALUE...: sets SIM_PTY (a fresh simulator each run: a
# loader left synchronised by the last tool would change the next run)
start_sim() {
  rm -f "$TMP/sim.out"
  "$SD" sim "$@" >"$TMP/sim.out" 2>/dev/null &
  SIM_PID=$!
  SIM_PTY=
  for _ in $(seq 1 300); do
    SIM_PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null); [ -n "$SIM_PTY" ] && return 0; sleep 0.01
  done
  echo "bench: the simulator did not start" >&2; exit 1
}

cat >"$TMP/flip.py" <<'PY'
# A pty for the tool, relayed to the simulator's pty; every bit of every
# byte, both ways, flipped with probability BER (seeded).
import os, random, select, sys, tty
sim, ber, seed = sys.argv[1], float(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
m, s = os.openpty()
tty.setraw(s)            # the tool's end, raw until the tool sets it up
d = os.open(sim, os.O_RDWR | os.O_NOCTTY)
tty.setraw(d)
print(os.ttyname(s), flush=True)
def flip(b):
    if ber <= 0:
        return b
    out = bytearray(b)
    for i in range(len(out)):
        for k in range(8):
            if rng.random() < ber:
                out[i] ^= 1 << k
    return bytes(out)
while True:
    r, _, _ = select.select([m, d], [], [])
    for fd in r:
        try:
            data = os.read(fd, 4096)
        except OSError:
            if fd == d:
                sys.exit(0)  # the simulator is gone
            continue
        if data:
            os.write(d if fd == m else m, flip(data))
PY

# start_proxy BER SEED: sets PTY, the tool's end of the proxy
start_proxy() {
  rm -f "$TMP/proxy.out"
  python3 "$TMP/flip.py" "$SIM_PTY" "$1" "$2" >"$TMP/proxy.out" 2>/dev/null &
  PROXY_PID=$!
  PTY=
  for _ in $(seq 1 300); do
    PTY=$(head -n 1 "$TMP/proxy.out" 2>/dev/null); [ -n "$PTY" ] && return 0; sleep 0.01
  done
  echo "bench: the proxy did not start" >&2; exit 1
}

# cell_target CELL SEED PROTO SIMKEYS...: a fresh simulator (and proxy) for
# one run; sets PTY. CELL is a BER, or "flood".
cell_target() {
  local cell=$1 seed=$2; shift 2
  stop_all
  if [ "$cell" = flood ]; then
    start_sim "$@" preamble=2048; PTY=$SIM_PTY
  else
    start_sim "$@"; start_proxy "$cell" "$seed"
  fi
}

## STM32 (stm32flash)
# shakedown info stm32 vs stm32flash (identify: version, option bytes, PID)
# and stm32flash -r (identify + Read Memory of the same 256 bytes that info
# reads). Truth: the simulator's defaults (PID 0x410, loader 3.1, option
# bytes 00 00, the flash image's vector table then FF).
stm32_judge_sd() { # FILE RC -> right | right-unverified | WRONG | failed
  python3 - "$1" "$2" <<'PY'
import json, sys
f, rc = sys.argv[1], int(sys.argv[2])
if rc != 0:
    print("failed"); sys.exit()
try:
    d = json.load(open(f))
except Exception:
    print("WRONG"); sys.exit()  # exit 0 without a readable report
truth = {"bootloader_version": "3.1", "commands": "00 01 02 11 21 31 44 63 73 82 92",
         "erase_command": "0x44 Extended Erase (v3.x)", "option_bytes": "00 00", "pid": "0x410",
         "family": "STM32F1 medium-density",
         "flash_first_bytes": "00 50 00 20 01 01 00 08" + " ff" * 24,
         "flash": "programmed: initial SP 0x20005000, reset handler 0x08000101"}
info = d.get("info", {})
unv = set(info.get("unverified", "").split())
wrong = d["answered_by"].get("chip") != "STM32F1 medium-density"
wrong |= any(k in info and k not in unv and info[k] != v for k, v in truth.items())
print("WRONG" if wrong else "right-unverified" if unv else "right")
PY
}
stm32_judge_sf() { # FILE RC [READFILE] -> right | WRONG | failed
  python3 - "$@" <<'PY'
import sys
f, rc = sys.argv[1], int(sys.argv[2])
rd = sys.argv[3] if len(sys.argv) > 3 else None
if rc != 0:
    print("failed"); sys.exit()
out = open(f, errors="replace").read()
want = {"Version": "0x31", "Option 1": "0x00", "Option 2": "0x00", "Device ID": "0x0410"}
got = {}
for line in out.splitlines():
    if ":" in line:
        k, v = line.split(":", 1)
        if k.strip() in want:
            got[k.strip()] = v.split()[0] if v.split() else ""
wrong = any(k in got and got[k] != v for k, v in want.items())
if rd is not None:
    img = bytes([0x00, 0x50, 0x00, 0x20, 0x01, 0x01, 0x00, 0x08]) + b"\xff" * 248
    try:
        wrong |= open(rd, "rb").read() != img
    except OSError:
        wrong = True
print("WRONG" if wrong else "right" if len(got) == len(want) else "failed")
PY
}

stm32_part() {
  command -v stm32flash >/dev/null || { echo "## STM32: skipped (needs stm32flash)"; return 0; }
  echo "## STM32: $("$SD" --version 2>/dev/null | head -1) vs stm32flash $(dpkg-query -W -f '${Version}' stm32flash 2>/dev/null || echo '(version unknown)'), $RUNS runs a cell"
  local tools="shakedown stm32flash stm32flash-r"
  [ -n "$BEFORE" ] && tools="before $tools"
  printf '%-10s %-14s %6s %6s %6s %s\n' cell tool right WRONG failed "(right with some fields unverified)"
  local cell tool i o rc
  for cell in 0.0001 0.001 0.01 flood; do
    for tool in $tools; do
      declare -A n=([right]=0 [WRONG]=0 [failed]=0 [right-unverified]=0)
      for i in $(seq 1 "$RUNS"); do
        cell_target "$cell" "$i" stm32
        case $tool in
          shakedown|before)
            bin=$SD; [ "$tool" = before ] && bin=$BEFORE
            timeout 60 "$bin" info --json stm32 "$PTY" >"$TMP/out" 2>/dev/null; rc=$?
            o=$(stm32_judge_sd "$TMP/out" "$rc") ;;
          stm32flash)
            timeout 60 stm32flash -m 8n1 "$PTY" >"$TMP/out" 2>&1; rc=$?
            o=$(stm32_judge_sf "$TMP/out" "$rc") ;;
          stm32flash-r)
            rm -f "$TMP/rd.bin"
            timeout 60 stm32flash -m 8n1 -S 0x08000000:256 -r "$TMP/rd.bin" "$PTY" >"$TMP/out" 2>&1; rc=$?
            o=$(stm32_judge_sf "$TMP/out" "$rc" "$TMP/rd.bin") ;;
        esac
        n[$o]=$(( ${n[$o]} + 1 ))
      done
      stop_all
      printf '%-10s %-14s %6d %6d %6d %s\n' "$([ "$cell" = flood ] && echo "flood 2KiB" || echo "BER $cell")" "$tool" \
        $(( n[right] + n[right-unverified] )) "${n[WRONG]}" "${n[failed]}" "(${n[right-unverified]})"
      unset n
    done
  done
}

## STK500 (avrdude)
# Its own script (the sim's fault keys on the board's side, not the proxy):
# bench/robustness_stk500.sh, with the same right / wrong / failed counts.
stk500_part() {
  echo "## STK500: shakedown info stk500 next to avrdude -c arduino"
  N=${RUNS:-30} bash "$(dirname "$0")/robustness_stk500.sh" "$(dirname "$SD")"
}

case ${1:-all} in
  stm32) stm32_part ;;
  stk500) if declare -F stk500_part >/dev/null; then stk500_part; else echo "## STK500: not written yet"; fi ;;
  all) stm32_part
       if declare -F stk500_part >/dev/null; then stk500_part; fi ;;
  *) echo "usage: bench/robustness.sh [stm32|stk500|all]" >&2; exit 2 ;;
esac
