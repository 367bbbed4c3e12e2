#!/usr/bin/env bash
# shakedown ports: exit 0 and well-formed output whatever is (not) plugged
# in (CI machines have no USB devices: the naming and joining are unit-
# tested on recordings in test_ports and test_usbid); --watch ends on
# --timeout with one JSON object a line; bad options exit 2.
. "$(dirname "$0")/lib.sh"

run "$SHAKEDOWN" ports
check "ports: exit 0" [ "$rc" -eq 0 ]
check "ports: says something on stdout" [ -n "$out" ]
check "ports: at most one note on stderr per missing half" [ "$(lines "$err")" -le 2 ]

run "$SHAKEDOWN" ports --json
check "ports --json: exit 0" [ "$rc" -eq 0 ]
check "ports --json: one array of rows" json 'isinstance(d, list)' <<<"$out"
check "ports --json: every row has the documented keys" json 'all({"port","transport","usb","kind","name","manufacturer","product","serial","bus","address","driver","serial_driver"} <= set(r) for r in d)' <<<"$out"
check "ports --json: a row is a port or a usb: target" json 'all((r["port"] is None) == ("target" in r) for r in d)' <<<"$out"
check "ports --json: kinds from the table's names" json 'all(r["kind"] in {"other","bridge","mtk-brom","mtk-preloader","mtk-da","mtk-booted","bootloader","board"} for r in d)' <<<"$out"
check "ports --json: stdout is only the JSON" [ "$(lines "$out")" -eq 1 ]

run "$SHAKEDOWN" ports --watch --interval 20 --timeout 0.3 --json
check "ports --watch --json: ends on --timeout with exit 0" [ "$rc" -eq 0 ]
check "ports --watch --json: every line is an event object" python3 -c '
import json, sys
for line in filter(None, sys.stdin.read().splitlines()):
    e = json.loads(line)
    assert e["event"] in ("arrived", "left", "bootloop", "mode-change"), e
' <<<"$out"

run "$SHAKEDOWN" ports --watch --interval 20 --timeout 0.2
check "ports --watch: ends on --timeout with exit 0" [ "$rc" -eq 0 ]
check "ports --watch: says what it watches" grep -q "^watching serial ports and USB devices" <<<"$out"

run "$SHAKEDOWN" ports --interval 5
check "ports --interval 5: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
run "$SHAKEDOWN" ports /dev/ttyUSB0
check "ports with an argument: exit 2" eval '[ "$rc" -eq 2 ] && grep -q "takes no arguments" <<<"$err"'
run "$SHAKEDOWN" ports --bogus
check "ports --bogus: exit 2" eval '[ "$rc" -eq 2 ] && grep -q -- "--bogus" <<<"$err"'

finish
