#!/usr/bin/env bash
# shakedown sync|info esp: exit codes, the one-line cause, the JSON report
# (answered_by.chip, info facts) on the in-process simulator in each mode,
# and the simulator on a real pty (no DTR/RTS there: no reset, listen only).
. "$(dirname "$0")/lib.sh"

for c in esp32:ESP32 esp32s3:ESP32-S3 esp32c3:ESP32-C3 esp8266:ESP8266; do
  run "$SHAKEDOWN" info --json esp "sim:esp?chip=${c%%:*}"
  check "${c%%:*}: exit 0, chip ${c#*:}" eval '[ "$rc" -eq 0 ] && json "d[\"answered_by\"][\"chip\"] == \"${c#*:}\" and d[\"ok\"] is True" <<<"$out"'
  check "${c%%:*}: a MAC, verified" json 'len(d["info"]["mac"]) == 17 and "mac" in d["info"]["verified"].split()' <<<"$out"
done

run "$SHAKEDOWN" info --json esp 'sim:esp?chip=esp32s3&mode=sdm'
check "sdm: still in sync (exit 0), read-protected first" eval '[ "$rc" -eq 0 ] && json "d[\"findings\"][0][\"cause\"] == \"read-protected\"" <<<"$out"'

for m in 'mode=app&wired=en:wrong-boot-mode' 'chip=esp32c3&mode=usb:wrong-boot-mode' 'mode=brownout:brownout' \
         'mode=silent:silent' 'mode=echo:echo' 'stuck=0x01:stuck-bit' 'replies=0:tx-path-dead' 'mode=rx-dead:tx-path-dead' \
         'mode=app&wired=0:app-running'; do
  run "$SHAKEDOWN" sync --json esp "sim:esp?${m%%:*}"
  check "${m%%:*}: exit 1, ${m#*:} first" eval '[ "$rc" -eq 1 ] && json "d[\"findings\"][0][\"cause\"] == \"${m#*:}\"" <<<"$out"'
done

# a board 800 ms away, not reset: its boot log itself comes during our
# SYNCs (once, not a boot loop), then the replies; still in sync
run "$SHAKEDOWN" sync --json --no-reset esp 'sim:esp?delay_ms=800'
check "800 ms away, --no-reset: in sync, overlapping-syncs, the late boot log kept" eval '[ "$rc" -eq 0 ] && json "d[\"findings\"][0][\"cause\"] == \"overlapping-syncs\" and int(d[\"info\"][\"round_trip\"].split(\" ms\")[0].split()[-1]) >= 795 and \"DOWNLOAD_BOOT\" in d[\"info\"][\"boot_log\"]" <<<"$out"'
run "$SHAKEDOWN" sync --json --no-reset esp 'sim:esp?delay_ms=800&replies=0'
check "800 ms away, no reply at all: tx-path-dead (the late log is not an answer)" eval '[ "$rc" -eq 1 ] && json "d[\"findings\"][0][\"cause\"] == \"tx-path-dead\"" <<<"$out"'
# replies later than a SYNC's wait: counted, read off, reported; still in sync
run "$SHAKEDOWN" sync --json esp 'sim:esp?delay_ms=250'
check "replies 250 ms late: exit 0, overlapping-syncs first" eval '[ "$rc" -eq 0 ] && json "d[\"findings\"][0][\"cause\"] == \"overlapping-syncs\" and \"SYNC 1\" in d[\"info\"][\"round_trip\"]" <<<"$out"'

run "$SHAKEDOWN" sync esp 'sim:esp?chip=esp32c3&mode=app&wired=en'
check "C3 wrong boot mode: the one-line cause names GPIO9" grep -q "GPIO9" <<<"$out"
run "$SHAKEDOWN" sync esp 'sim:esp?chip=esp32c3&mode=usb'
check "C3 USB_BOOT: USB only, not 'firmware runs'" eval 'grep -q "USB only" <<<"$out" && ! grep -q "firmware runs" <<<"$out"'

# the reset race: the classic sequence loses it on a slow driver, tight wins
classic='dtr:high,rts:low,100ms,dtr:low,rts:high,50ms,dtr:high'
run "$SHAKEDOWN" sync --enter "$classic" esp 'sim:esp?mode=app&lag_ms=20'
check "classic reset, 20 ms between writes: wrong boot mode" eval '[ "$rc" -eq 1 ] && grep -q "wrong-boot-mode" <<<"$out"'
run "$SHAKEDOWN" sync --json esp 'sim:esp?mode=app&lag_ms=20'
check "default strategies: unix-tight wins and is named" json 'd["ok"] and d["info"]["reset"].startswith("unix-tight")' <<<"$out"

# a port that is the chip's own USB-Serial/JTAG (303a:1001): esptool's USB-JTAG reset, said why
run "$SHAKEDOWN" sync --json esp 'sim:esp?chip=esp32c3&wired=usbjtag&mode=app'
check "303a:1001: usb-jtag reset chosen and explained, in sync" json 'd["ok"] and d["info"]["reset"].startswith("usb-jtag") and "303a:1001" in d["info"]["reset_why"]' <<<"$out"
run "$SHAKEDOWN" sync --trace "$TMP/jtag.sdt" esp 'sim:esp?chip=esp32c3&wired=usbjtag&mode=app'
run "$SHAKEDOWN" replay "$TMP/jtag.sdt"
check "303a:1001: the trace keeps the port's identity, its replay agrees" eval 'grep -q "\"usb\":\"303a:1001\"" "$TMP/jtag.sdt" && grep -q "agrees with the recording" <<<"$out"'
run "$SHAKEDOWN" sync --json esp 'sim:esp?chip=esp32c3&wired=usbjtag&mode=app&usbid=none'
check "same chip, identity unknown: the bridge sequences boot it from flash" eval '[ "$rc" -eq 1 ] && json "d[\"findings\"][0][\"cause\"] == \"wrong-boot-mode\"" <<<"$out"'

run "$SHAKEDOWN" sync esp 'sim:esp?mode=nap'
check "bad sim mode: usage error (2) naming the modes" eval '[ "$rc" -eq 2 ] && grep -q "modes: download" <<<"$err"'

# On a pty: the simulated ROM loader serves external tools; no DTR/RTS.
start_sim esp chip=esp32c3
check "sim esp serves a pty" [ -c "$PTY" ]
run "$SHAKEDOWN" info --json esp "$PTY"
check "pty: identified as ESP32-C3" json 'd["ok"] is True and d["answered_by"]["chip"] == "ESP32-C3"' <<<"$out"
stop_sim
start_sim esp -v
run "$SHAKEDOWN" info esp "$PTY"
stop_sim
check "pty: the device logged only sync and read-reg" eval 'grep -q "sync" "$TMP/sim.err" && ! grep -q "destructive" "$TMP/sim.err"'
start_sim esp mode=rx-dead -v
run "$SHAKEDOWN" sync --json esp "$PTY"
stop_sim
check "pty, board RX dead: tx-path-dead first, the board heard no SYNC" eval 'json "d[\"findings\"][0][\"cause\"] == \"tx-path-dead\"" <<<"$out" && ! grep -q "sync" "$TMP/sim.err"'
start_sim esp delay_ms=250
run "$SHAKEDOWN" info --json esp "$PTY"
stop_sim
before=$FAIL
# 250 ms is a SYNC's 100 ms wait plus its 50 ms pause past the next SYNC:
# its replies land at the next wait's very end, read in it (overlapping
# SYNCs) or flushed after it, and then heard in the listen after the last
# SYNC (sync_late). Either way the round trip is stated, at 250 ms or more.
check "pty, replies 250 ms late: identified, the round trip stated either way, MAC verified" json 'd["ok"] is True and d["answered_by"]["chip"] == "ESP32" and (d["findings"][0]["cause"] == "overlapping-syncs" if d["findings"] else "sync_late" in d["info"]) and int(d["info"]["round_trip"].split(" ms")[0].split()[-1]) >= 245 and "mac" in d["info"]["verified"].split() and d["info"]["mac"] == "24:0a:c4:12:34:56"' <<<"$out"
[ "$FAIL" -gt "$before" ] && echo "# report: $out"
# 200 ms: the replies come 50 ms into the next SYNC's wait, every time
start_sim esp delay_ms=200
run "$SHAKEDOWN" sync --json esp "$PTY"
stop_sim
check "pty, replies 200 ms late: overlapping-syncs first, round trip 200 ms or more" json 'd["ok"] is True and d["findings"][0]["cause"] == "overlapping-syncs" and int(d["info"]["round_trip"].split(" ms")[0].split()[-1]) >= 195' <<<"$out"
start_sim esp mode=app
run "$SHAKEDOWN" sync --json esp "$PTY"
check "pty, application printing: its boot log (still in the pty) says flash boot" json 'd["findings"][0]["cause"] == "wrong-boot-mode"' <<<"$out"
run "$SHAKEDOWN" sync --json esp "$PTY"
check "pty, application printing, boot log read already: app-running" json 'd["findings"][0]["cause"] == "app-running"' <<<"$out"
stop_sim

finish
