#!/usr/bin/env bash
# Global options, help, exit codes, and one-line errors for bad arguments.
. "$(dirname "$0")/lib.sh"

run "$SHAKEDOWN" --version
check "--version prints the version" [ "$rc" -eq 0 ] && [[ "$out" =~ ^shakedown\ [0-9]+\.[0-9]+\.[0-9]+$ ]]

run "$SHAKEDOWN" --help
check "--help exits 0 and lists commands" [ "$rc" -eq 0 ]
main_help=$out
for c in probe explain replay sim; do
  check "--help lists $c" grep -q "^  $c " <<<"$main_help"
  run "$SHAKEDOWN" "$c" --help
  check "$c --help exits 0 with a usage line" [ "$rc" -eq 0 ]
  check "$c --help starts with usage" grep -q "^usage: shakedown $c" <<<"$out"
done

run "$SHAKEDOWN"
check "no command: exit 2" [ "$rc" -eq 2 ]

run "$SHAKEDOWN" frobnicate
check "unknown command: exit 2" [ "$rc" -eq 2 ]
check "unknown command: one line naming it" [ "$(lines "$err")" -eq 1 ]
check "unknown command: names it" grep -q "frobnicate" <<<"$err"

run "$SHAKEDOWN" --timeout banana probe 'sim:app'
check "bad --timeout: exit 2, one line" [ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]

run "$SHAKEDOWN" probe --trace
check "--trace without a file: exit 2" [ "$rc" -eq 2 ]

run "$SHAKEDOWN" probe --baud 12x 'sim:app'
check "bad --baud: exit 2, one line" [ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]

run "$SHAKEDOWN" probe --bogus 'sim:app'
check "unknown probe option: exit 2" [ "$rc" -eq 2 ] && grep -q -- "--bogus" <<<"$err"

run "$SHAKEDOWN" probe
check "probe without target: exit 2" [ "$rc" -eq 2 ]

# hostile arguments: long, binary-ish, many
long=$(head -c 100000 /dev/zero | tr '\0' 'A')
run "$SHAKEDOWN" probe "$long"
check "a 100 kB target: clean exit 2 or 3" bash -c '[ "$1" -eq 2 ] || [ "$1" -eq 3 ]' _ "$rc"
check "a 100 kB target: one line" [ "$(lines "$err")" -eq 1 ]
run "$SHAKEDOWN" probe $'sim:app?text=\x01\x02'
check "control characters in a target: no crash" [ "$rc" -le 3 ]

# options may follow the operands, as in avrdude or stm32flash
run "$SHAKEDOWN" sync stm32 'sim:stm32?mode=app' --enter 'boot0=rts:high,nrst=dtr:pulse-low:20ms' --json
check "options after the operands: applied" json 'd["ok"] and d["answered_by"]["mode"] == "bootloader"' <<<"$out"
run "$SHAKEDOWN" probe 'sim:app' --listen nope
check "a bad option after the operand: exit 2" [ "$rc" -eq 2 ]

finish
