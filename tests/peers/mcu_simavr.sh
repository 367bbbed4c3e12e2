#!/usr/bin/env bash
# Real peer, on an emulated microcontroller: examples/arduino (the compact
# STK500 client, core run/link/expect, the interrupt-driven UART link and
# millisecond tick) built for the ATmega328P by the MCU build, run in
# simavr against the real optiboot firmware (tests/peers/optiboot/build.sh)
# on a second simulated ATmega328P, UART0 to UART0, the example's D9 on the
# other's RESET (tests/peers/mcu/twin.c; simulated time, no wall clock).
# It must read the signature 1e 95 0f and version 4.4, confirmed; with no
# loader on the other side it must report silence, not a signature.
# Then the same firmware, and its STM32 build (-DEX_STM32), against the
# project's simulators served on a pty (`shakedown sim stk500|stm32`,
# tests/peers/mcu/bridge.c): the fields the simulators answer, and only
# read-only commands in their logs.
# Skips (77) without avr-gcc, libsimavr-dev or the optiboot source.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export LC_ALL=C
PASS=0 FAIL=0 SIMPID=
TMP=$(mktemp -d)
trap '[ -n "$SIMPID" ] && kill "$SIMPID" 2>/dev/null; rm -rf "$TMP"' EXIT
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

bash "$SRCDIR/tests/peers/optiboot/build.sh" "$TMP/ob" >"$TMP/ob.log" 2>&1
brc=$?
[ "$brc" -eq 77 ] && { echo "skip: $(tail -n 1 "$TMP/ob.log")"; exit 77; }
[ "$brc" -eq 0 ] || { cat "$TMP/ob.log"; bad "optiboot builds"; finish; }
cc -O2 -o "$TMP/twin" "$SRCDIR/tests/peers/mcu/twin.c" -lsimavr 2>"$TMP/cc.log" &&
cc -O2 -o "$TMP/bridge" "$SRCDIR/tests/peers/mcu/bridge.c" -lsimavr 2>>"$TMP/cc.log" ||
  { cat "$TMP/cc.log"; bad "the simavr runners build"; finish; }
if ! cmake -S "$SRCDIR" -B "$TMP/avr" --toolchain "$SRCDIR/cmake/toolchains/avr-atmega328p.cmake" \
     -DCMAKE_BUILD_TYPE=MinSizeRel >"$TMP/cmake.log" 2>&1 ||
   ! cmake --build "$TMP/avr" -j2 >>"$TMP/cmake.log" 2>&1; then
  tail -n 30 "$TMP/cmake.log"; bad "examples/arduino builds for the ATmega328P"; finish
fi
ok "examples/arduino builds for the ATmega328P"
elf=$TMP/avr/sync_stk500.elf
read -r addr len < <(avr-nm -S "$elf" | awk '$4 == "ex_result_v" { print "0x" $1, "0x" $2 }')
check "the example exports its result record" [ -n "${addr:-}" ]

# ex_result: done, err, cause, have, sig[3], major, minor, ms (LE 16)
out=$(timeout 60 "$TMP/twin" "$elf" "$TMP/ob/optiboot.elf" "$addr" "$len" 10 2>"$TMP/twin.err"); rc=$?
echo "$out"
check "the example ran to its end against optiboot" [ "$rc" -eq 0 ]
res=$(awk '$1 == "result" { $1 = ""; print substr($0, 2) }' <<<"$out")
check "sd_run returned SD_OK, cause ok" [ "$(cut -d' ' -f1-3 <<<"$res")" = "01 00 00" ]
check "sync, version and signature confirmed (have 07)" [ "$(cut -d' ' -f4 <<<"$res")" = "07" ]
check "signature 1e 95 0f (ATmega328P)" [ "$(cut -d' ' -f5-7 <<<"$res")" = "1e 95 0f" ]
check "optiboot version 4.4" [ "$(cut -d' ' -f8-9 <<<"$res")" = "04 04" ]
check "it reset the other board through D9 once" grep -qx "resets 1" <<<"$out"
stack=$(awk '$1 == "stack_bytes" { print $2 }' <<<"$out")
check "the whole example's deepest stack, interrupts included, is under 200 bytes (${stack:-?})" \
  [ -n "$stack" ] && [ "$stack" -lt 200 ]

# No loader on the other side: a firmware that never answers (a spin loop).
printf 'int main(void) { for (;;) ; }\n' >"$TMP/mute.c"
avr-gcc -mmcu=atmega328p -Os -Wl,--section-start=.text=0x7e00 -o "$TMP/mute.elf" "$TMP/mute.c"
out=$(timeout 60 "$TMP/twin" "$elf" "$TMP/mute.elf" "$addr" "$len" 10 2>>"$TMP/twin.err"); rc=$?
echo "$out"
res=$(awk '$1 == "result" { $1 = ""; print substr($0, 2) }' <<<"$out")
# err SD_ERR_TIMEOUT (-3 = fd), cause silent (1), nothing confirmed
check "a silent board: timeout, cause silent, no field reported" [ "$(cut -d' ' -f1-4 <<<"$res")" = "01 fd 01 00" ]

# against_sim PROTO ELF -> $res (the result record), $TMP/sim.log (its commands)
against_sim() {
  local proto=$1 fw=$2 a l pty=
  "$SHAKEDOWN" sim -v "$proto" >"$TMP/sim.out" 2>"$TMP/sim.log" &
  SIMPID=$!
  for _ in $(seq 1 200); do
    pty=$(head -n 1 "$TMP/sim.out" 2>/dev/null); [ -n "$pty" ] && break; sleep 0.01
  done
  read -r a l < <(avr-nm -S "$fw" | awk '$4 == "ex_result_v" { print "0x" $1, "0x" $2 }')
  out=$(timeout 60 "$TMP/bridge" "$fw" "$pty" "$a" "$l" 10 2>>"$TMP/bridge.err"); rc=$?
  kill "$SIMPID" 2>/dev/null; wait "$SIMPID" 2>/dev/null; SIMPID=
  echo "$out"
  res=$(awk '$1 == "result" { $1 = ""; print substr($0, 2) }' <<<"$out")
  [ "$rc" -eq 0 ]
}
only_cmds() { # the sim's log holds commands from this set only, and some
  local bad
  bad=$(grep -o 'cmd 0x[0-9a-f]*' "$TMP/sim.log" | awk -v ok="$1" 'BEGIN { n = split(ok, a, " "); for (i = 1; i <= n; i++) okset[a[i]] = 1 } !($2 in okset)')
  grep -q 'cmd 0x' "$TMP/sim.log" && [ -z "$bad" ]
}

check "the STK500 build against shakedown sim stk500 on a pty" against_sim stk500 "$elf"
check "  confirmed: signature 1e 95 0f, version 8.3" [ "$(cut -d' ' -f1-9 <<<"$res")" = "01 00 00 07 1e 95 0f 08 03" ]
check "  it sent only GET_SYNC, GET_PARAMETER, READ_SIGN" only_cmds "0x30 0x41 0x75"
check "the STM32 build against shakedown sim stm32 on a pty" against_sim stm32 "$TMP/avr/sync_stm32.elf"
# ex_result for STM32: done err cause have pid_hi pid_lo version
check "  confirmed: product id 0x410, loader 3.1" [ "$(cut -d' ' -f1-7 <<<"$res")" = "01 00 00 07 04 10 31" ]
check "  it sent only 0x7F, Get, Get ID" only_cmds "0x7f 0x00 0x02"
finish
