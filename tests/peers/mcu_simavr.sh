#!/usr/bin/env bash
# Real peer, on an emulated microcontroller: examples/arduino (the compact
# STK500 client, core run/link/expect, the interrupt-driven UART link and
# millisecond tick) built for the ATmega328P by the MCU build, run in
# simavr against the real optiboot firmware (tests/peers/optiboot/build.sh)
# on a second simulated ATmega328P, UART0 to UART0, the example's D9 on the
# other's RESET (tests/peers/mcu/twin.c; simulated time, no wall clock).
# It must read the signature 1e 95 0f and version 4.4, confirmed; with no
# loader on the other side it must report silence, not a signature.
# Skips (77) without avr-gcc, libsimavr-dev or the optiboot source.
set -u
: "${SRCDIR:=$(cd "$(dirname "$0")/../.." && pwd)}"
export LC_ALL=C
PASS=0 FAIL=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; exit $?; }

bash "$SRCDIR/tests/peers/optiboot/build.sh" "$TMP/ob" >"$TMP/ob.log" 2>&1
brc=$?
[ "$brc" -eq 77 ] && { echo "skip: $(tail -n 1 "$TMP/ob.log")"; exit 77; }
[ "$brc" -eq 0 ] || { cat "$TMP/ob.log"; bad "optiboot builds"; finish; }
cc -O2 -o "$TMP/twin" "$SRCDIR/tests/peers/mcu/twin.c" -lsimavr 2>"$TMP/cc.log" ||
  { cat "$TMP/cc.log"; bad "the two-AVR simavr runner builds"; finish; }
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

# No loader on the other side: a firmware that never answers (a spin loop).
printf 'int main(void) { for (;;) ; }\n' >"$TMP/mute.c"
avr-gcc -mmcu=atmega328p -Os -Wl,--section-start=.text=0x7e00 -o "$TMP/mute.elf" "$TMP/mute.c"
out=$(timeout 60 "$TMP/twin" "$elf" "$TMP/mute.elf" "$addr" "$len" 10 2>>"$TMP/twin.err"); rc=$?
echo "$out"
res=$(awk '$1 == "result" { $1 = ""; print substr($0, 2) }' <<<"$out")
# err SD_ERR_TIMEOUT (-3 = fd), cause silent (1), nothing confirmed
check "a silent board: timeout, cause silent, no field reported" [ "$(cut -d' ' -f1-4 <<<"$res")" = "01 fd 01 00" ]
finish
