#!/usr/bin/env bash
# shakedown vs avrdude 7.x (-c arduino) against the simulated optiboot board
# served on a pty (`shakedown sim stk500`), one run, ratios printed:
#   1. time to a confirmed identification (info vs -U signature:r:-:h)
#   2. time to a verdict on a silent line, application text, and echo
#   3. success over N seeded runs with noise (BER 1e-4, 1e-3) and a text
#      flood before the first real byte
# A pty carries no DTR: avrdude's reset fails (it says so and goes on) and
# the simulated board waits in its loader. Section 1 also times both tools
# against the real optiboot firmware in simavr (tests/peers/optiboot/), a
# fresh power-up per run (its loader leaves after 1 s of silence).
# usage: bench/stk500.sh [build-dir]   (N=50 runs; SKIP_SLOW=1 skips the
# 56 s avrdude silent case)
set -u
cd "$(dirname "$0")/.."
B0=${1:-build}/shakedown
N=${N:-50}
[ -x "$B0" ] || { echo "build first: cmake -S . -B build && cmake --build build"; exit 2; }
command -v avrdude >/dev/null || { echo "avrdude not installed"; exit 2; }
TMP=$(mktemp -d)
B=$TMP/shakedown   # a copy: a rebuild during the run must not pull it away
cp "$B0" "$B"
SIM_PID=
cleanup() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

start_sim() {
  "$B" sim stk500 "$@" >"$TMP/sim.out" 2>/dev/null &
  SIM_PID=$!
  PTY=
  for _ in $(seq 1 500); do
    PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null); [ -n "$PTY" ] && return 0; sleep 0.01
  done
  echo "sim did not start"; exit 1
}
stop_sim() { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=; }
now_ms() { date +%s%3N; }
# time_ms CMD... -> sets T (ms) and RC
time_ms() { local s; s=$(now_ms); timeout 120 "$@" >"$TMP/last.out" 2>&1; RC=$?; T=$(( $(now_ms) - s )); }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1fx", a / b; else print "inf" }'; }

echo "== 1. time to a confirmed identification (signature 1e 95 0f)"
start_sim
time_ms "$B" info stk500 "$PTY"; sd=$T; sdrc=$RC
grep -q "1e 95 0f" "$TMP/last.out" || sdrc=99
time_ms avrdude -c arduino -p m328p -P "$PTY" -b 115200 -U signature:r:-:h; av=$T; avrc=$RC
grep -qi "0x1e,0x95,0xf" "$TMP/last.out" || avrc=99
stop_sim
printf "   sim:stk500 on a pty:          shakedown %5d ms (rc %d)   avrdude %5d ms (rc %d)   shakedown is %s faster\n" "$sd" "$sdrc" "$av" "$avrc" "$(ratio "$av" "$sd")"

if bash tests/peers/optiboot/build.sh "$TMP/ob" >/dev/null 2>&1; then
  start_real() {
    "$TMP/ob/runner" "$TMP/ob/optiboot.elf" >"$TMP/real.out" 2>/dev/null &
    SIM_PID=$!
    PTY=
    for _ in $(seq 1 500); do
      PTY=$(head -n 1 "$TMP/real.out" 2>/dev/null); [ -n "$PTY" ] && return 0; sleep 0.002
    done
  }
  start_real
  time_ms "$B" info stk500 "$PTY"; sd=$T; sdrc=$RC
  grep -q "1e 95 0f" "$TMP/last.out" || sdrc=99
  stop_sim
  start_real
  time_ms avrdude -c arduino -p m328p -P "$PTY" -b 115200 -U signature:r:-:h; av=$T; avrc=$RC
  grep -qi "0x1e,0x95,0xf" "$TMP/last.out" || avrc=99
  stop_sim
  printf "   real optiboot 4.4 in simavr: shakedown %5d ms (rc %d)   avrdude %5d ms (rc %d)   shakedown is %s faster\n" \
    "$sd" "$sdrc" "$av" "$avrc" "$(ratio "$av" "$sd")"
else
  echo "   (real optiboot in simavr: gcc-avr, libsimavr-dev or the optiboot source missing)"
fi

echo "== 2. time to a verdict"
for mode in silent app echo; do
  start_sim mode=$mode
  time_ms "$B" sync stk500 "$PTY"; sd=$T
  cause=$(grep -m1 '^ 1\. ' "$TMP/last.out" | awk '{print $2}')
  if [ "$mode" = silent ] && [ "${SKIP_SLOW:-0}" = 1 ]; then
    av=56400; resp="(skipped; fact sheet: 56.4 s)"
  else
    time_ms avrdude -c arduino -p m328p -P "$PTY" -b 115200; av=$T
    resp=$(grep -o 'resp=0x[0-9a-f]*' "$TMP/last.out" | tail -n 1)
  fi
  stop_sim
  printf "   %-6s shakedown %5d ms: %-16s avrdude %6d ms: %-10s shakedown is %s faster\n" \
    "$mode" "$sd" "$cause" "$av" "$resp" "$(ratio "$av" "$sd")"
done

echo "== 3. success over $N seeded runs"
for cond in "noise=0.0001" "noise=0.001" "flood=4000 flood_kind=text"; do
  sdok=0 avok=0
  for seed in $(seq 1 "$N"); do
    # shellcheck disable=SC2086
    start_sim $cond seed=$seed
    timeout 60 "$B" info stk500 "$PTY" >"$TMP/r.out" 2>&1 && grep -q "1e 95 0f" "$TMP/r.out" && sdok=$((sdok + 1))
    stop_sim
    # shellcheck disable=SC2086
    start_sim $cond seed=$seed
    timeout 60 avrdude -c arduino -p m328p -P "$PTY" -b 115200 -U signature:r:-:h >"$TMP/a.out" 2>&1 &&
      grep -qi "0x1e,0x95,0xf" "$TMP/a.out" && avok=$((avok + 1))
    stop_sim
  done
  printf "   %-26s shakedown %3d/%d   avrdude %3d/%d\n" "$cond" "$sdok" "$N" "$avok" "$N"
done
