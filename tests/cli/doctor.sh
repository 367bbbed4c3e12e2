#!/usr/bin/env bash
# shakedown doctor on a real pty: a process holding the port is named with
# its PID (exit 1); with it gone the check passes; a missing node exits 3
# with one line; no target runs the system checks; --json parses; --root
# reads a fixture tree; sim: targets have no host side.
. "$(dirname "$0")/lib.sh"

check "sim app starts" start_sim app 'text=hi\r\n' period_ms=500
sleep 600 <"$PTY" &
HOLDER=$!
# lib.sh's cleanup, plus the holder: a failed check must not leave it behind
trap 'kill "$HOLDER" 2>/dev/null; [ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

run "$SHAKEDOWN" doctor "$PTY"
check "held port: exit 1" [ "$rc" -eq 1 ]
check "held port: the holders check fails" grep -q "^FAIL holders .*process $HOLDER (sleep) has $PTY open" <<<"$out"
check "held port: the fix kills that PID" grep -q "fix: kill $HOLDER\$" <<<"$out"
check "the sim's own fd is named, not blamed" grep -q "shakedown sim, serving this pty" <<<"$out"
check "a pty has no driver to check" grep -q "^SKIP driver" <<<"$out"

run "$SHAKEDOWN" doctor --json "$PTY"
check "--json: parses, not ok, port-busy" json \
  'd["command"] == "doctor" and d["ok"] is False and d["findings"][0]["cause"] == "port-busy"' <<<"$out"
check "--json: the holder's pid and comm" json \
  "any(h['pid'] == $HOLDER and h['comm'] == 'sleep' and not h['benign'] for h in d['holders'])" <<<"$out"
check "--json: checks carry id, status, summary" json \
  'all(set(("id","status","summary")) <= set(c) for c in d["checks"]) and d["device"]["path"] == "'"$PTY"'"' <<<"$out"

kill "$HOLDER"; wait "$HOLDER" 2>/dev/null
run "$SHAKEDOWN" doctor "$PTY"
check "holder gone: exit 0" [ "$rc" -eq 0 ]
check "holder gone: the holders check passes" grep -q "^PASS holders " <<<"$out"
stop_sim

run "$SHAKEDOWN" doctor /dev/does-not-exist
check "missing node: exit 3" [ "$rc" -eq 3 ]
check "missing node: one line on stderr" [ "$(lines "$err")" -eq 1 ] && grep -q "does-not-exist does not exist" <<<"$err"

run "$SHAKEDOWN" doctor
check "no target: exit 0 or 1" [ "$rc" -le 1 ]
check "no target: the system checks" grep -q " groups " <<<"$out" && grep -q " modem-manager " <<<"$out" \
  && grep -q " brltty " <<<"$out"
run "$SHAKEDOWN" doctor --json
check "no target --json parses" json 'd["command"] == "doctor" and len(d["checks"]) == 3' <<<"$out"

run "$SHAKEDOWN" doctor 'sim:app?text=hi'
check "sim: target: exit 0, one SKIP line" [ "$rc" -eq 0 ] && grep -q "^SKIP target " <<<"$out"

# a fixture tree: ModemManager running without an ignore rule, brltty's rule
run "$SHAKEDOWN" doctor --root "$SRCDIR/tests/data/env/mm"
check "--root: ModemManager found in the fixture" grep -q "^WARN modem-manager .*PID 812" <<<"$out"
run "$SHAKEDOWN" doctor --root "$SRCDIR/tests/data/env/brltty" /dev/ttyUSB0
check "--root brltty: exit 3 (no ttyUSB0)" [ "$rc" -eq 3 ]
check "--root brltty: brltty named as the cause" grep -q "^FAIL brltty .*1a86:7523" <<<"$out"

run "$SHAKEDOWN" doctor a b
check "two targets: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" doctor --bogus
check "unknown option: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" doctor 'usb:zz:1'
check "bad usb target: exit 2, one line" [ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]

finish
