#!/usr/bin/env bash
# shakedown sync|info stk500 against the simulated board: exit codes, the
# one-line cause, the JSON contract (answered_by.chip), and on a real pty
# that sync, info and probe send nothing destructive (the sim logs it).
. "$(dirname "$0")/lib.sh"

run "$SHAKEDOWN" info --json stk500 'sim:stk500'
check "info: exit 0" [ "$rc" -eq 0 ]
check "info: answered_by.chip ATmega328P" json 'd["answered_by"]["chip"] == "ATmega328P" and d["answered_by"]["protocol"] == "stk500"' <<<"$out"
check "info: signature and version facts" json 'd["info"]["signature"] == "1e 95 0f" and d["info"]["bootloader_version"] == "8.3"' <<<"$out"
check "info: flash size" json 'd["info"]["flash_size"] == "32768"' <<<"$out"

check "info: verified lists the signature" json '"signature" in d["info"]["verified"].split() and "bootloader_version" in d["info"]["verified"].split()' <<<"$out"

# issue 11: a link 200 ms slow (the answers to several GET_SYNCs in flight)
run "$SHAKEDOWN" info --json stk500 'sim:stk500?delay_ms=200'
check "200 ms late: exit 0" [ "$rc" -eq 0 ]
check "200 ms late: the right signature" json 'd["info"]["signature"] == "1e 95 0f" and d["info"]["bootloader_version"] == "8.3"' <<<"$out"
check "200 ms late: round trip measured" json '200 <= float(d["info"]["round_trip"].split()[0]) < 210' <<<"$out"
run "$SHAKEDOWN" info stk500 'sim:stk500?delay_ms=300'
check "300 ms late: says avrdude fails there" grep -q "above avrdude's 250 ms drain" <<<"$out"
# a loader that hangs after sync: named, never ok
run "$SHAKEDOWN" info --json stk500 'sim:stk500?hang_after_bytes=10'
check "hang: exit 1" [ "$rc" -eq 1 ]
check "hang: stopped-answering first, no ok finding" json 'd["findings"][0]["cause"] == "stopped-answering" and all(f["cause"] != "ok" for f in d["findings"])' <<<"$out"
check "hang: says after how many commands" json '"stopped answering after" in d["findings"][0]["summary"]' <<<"$out"

run "$SHAKEDOWN" sync stk500 'sim:stk500?mode=old'
check "old loader: sync exit 0" [ "$rc" -eq 0 ]
check "old loader: says 57600" grep -q "57600" <<<"$out"

run "$SHAKEDOWN" info --part m2560 stk500 'sim:stk500'
check "wrong --part: exit 1" [ "$rc" -eq 1 ]
check "wrong --part: part-mismatch first" grep -q "^ 1\. part-mismatch" <<<"$out"

# one failure per mode: exit 1 and the cause on the first finding's line
for pair in app:app-running noreset:app-running silent:silent echo:echo \
            stk500v2:wrong-protocol caterina:wrong-protocol urboot:wrong-protocol; do
  mode=${pair%%:*} cause=${pair#*:}
  run "$SHAKEDOWN" sync stk500 "sim:stk500?mode=$mode"
  check "$mode: exit 1" [ "$rc" -eq 1 ]
  first=$(grep -m1 '^ 1\. ' <<<"$out")
  check "$mode: first finding is $cause ($first)" grep -q " $cause " <<<"$first "
  summary=$(grep -m1 -A1 '^ 1\. ' <<<"$out" | tail -n 1)
  check "$mode: a one-line summary follows" [ -n "$summary" ]
done
run "$SHAKEDOWN" sync stk500 'sim:stk500?mode=stk500v2'
check "stk500v2: names avrdude -c wiring" grep -q "c wiring" <<<"$out"
run "$SHAKEDOWN" sync stk500 'sim:stk500?mode=caterina'
check "caterina: names avrdude -c avr109 and the touch" grep -q "avr109.*1200" <<<"$out"
run "$SHAKEDOWN" info --json stk500 'sim:stk500?mode=urboot'
check "urboot: exit 1" [ "$rc" -eq 1 ]
check "urboot: chip from the sync pair, version from its table" json 'd["answered_by"]["chip"] == "ATmega328P" and d["answered_by"]["mode"] == "urboot 8.0" and d["info"]["urboot_pair"] == "20 78"' <<<"$out"
run "$SHAKEDOWN" info --json stk500 'sim:stk500?mode=urboot&compat=1'
check "urboot 7.7 in STK500v1 mode: exit 0" [ "$rc" -eq 0 ]
check "urboot 7.7 in STK500v1 mode: named from its table" json 'd["answered_by"]["mode"] == "urboot 7.7" and "urclock" in d["info"]["avrdude"]' <<<"$out"
run "$SHAKEDOWN" sync stk500 'sim:stk500?mode=urboot'
check "urboot: names avrdude -c urclock" grep -q "avrdude -c urclock -p m328p" <<<"$out"
check "urboot: says why -c arduino fails (resp=0x20)" grep -q "resp=0x20" <<<"$out"

run "$SHAKEDOWN" sync --baud 9600x stk500 'sim:stk500'
check "bad --baud: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" sync stk500 'sim:stk500?mode=sleepy'
check "bad sim mode: exit 2, names the modes" [ "$rc" -eq 2 ] && grep -q "noreset" <<<"$err"

# On a pty: the board waits in its loader (nothing can reset it there).
check "sim stk500 on a pty" start_sim stk500 -v
run "$SHAKEDOWN" info --json stk500 "$PTY"
check "pty: info exit 0" [ "$rc" -eq 0 ]
check "pty: chip named" json 'd["answered_by"]["chip"] == "ATmega328P"' <<<"$out"
run "$SHAKEDOWN" sync stk500 "$PTY"
check "pty: sync exit 0" [ "$rc" -eq 0 ]
run "$SHAKEDOWN" probe "$PTY"
stop_sim
check "pty: the sim saw commands" grep -q "GET_SYNC" "$TMP/sim.err"
check "pty: sync/info/probe sent nothing destructive" bash -c '! grep -q "(destructive)" "$1"' _ "$TMP/sim.err"

check "pty, urboot: starts" start_sim stk500 -v mode=urboot
run "$SHAKEDOWN" info stk500 "$PTY"
stop_sim
check "pty, urboot: named, with avrdude -c urclock" grep -q "urboot 8.0.*ATmega328P" <<<"$out" && grep -q "c urclock" <<<"$out"
check "pty, urboot: its table read with UR_READ_PAGE_FL" grep -q "UR_READ_PAGE_FL" "$TMP/sim.err"
check "pty, urboot: nothing destructive sent" bash -c '! grep -q "(destructive)" "$1"' _ "$TMP/sim.err"

check "pty, app running: starts" start_sim stk500 -v mode=app
run "$SHAKEDOWN" sync stk500 "$PTY"
stop_sim
check "pty, app running: exit 1" [ "$rc" -eq 1 ]
check "pty, app running: says the port cannot pulse DTR" grep -q "cannot pulse DTR" <<<"$out"

finish
