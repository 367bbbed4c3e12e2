#!/usr/bin/env bash
# shakedown sync|info stm32: exit codes, the one-line cause, the JSON report
# (answered_by.chip, info facts), entry sequences on the in-process sim, and
# the 8N1 fallback on a real pty (which cannot carry parity).
. "$(dirname "$0")/lib.sh"

run "$SHAKEDOWN" info --json stm32 'sim:stm32'
check "loader: exit 0" [ "$rc" -eq 0 ]
check "loader: answered_by.chip names the family" json 'd["answered_by"]["chip"] == "STM32F1 medium-density" and d["answered_by"]["protocol"] == "stm32"' <<<"$out"
check "loader: facts under info" json 'd["info"]["pid"] == "0x410" and d["info"]["bootloader_version"] == "3.1" and d["info"]["flash_first_bytes"].startswith("00 50 00 20")' <<<"$out"
check "loader: ok with no findings" json 'd["ok"] is True and d["findings"] == []' <<<"$out"

run "$SHAKEDOWN" info --json stm32 'sim:stm32?pid=0x450&blver=2.2'
check "H7 by PID, v2.2 lists Erase 0x43" json 'd["answered_by"]["chip"] == "STM32H74x/H75x" and "0x43" in d["info"]["erase_command"]' <<<"$out"

start=$(date +%s%N)
run "$SHAKEDOWN" sync stm32 'sim:stm32?mode=app'
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "app: exit 1" [ "$rc" -eq 1 ]
check "app: the cause in one line" grep -q "app-running" <<<"$out"
check "app: the text is shown" grep -q "hello world" <<<"$out"
check "app: the fix names BOOT0" grep -q "fix: .*BOOT0" <<<"$out"
check "app: verdict in ${ms} ms (< 1500)" [ "$ms" -lt 1500 ]

run "$SHAKEDOWN" sync --enter 'boot0=rts:high,nrst=dtr:pulse-low:20ms' stm32 'sim:stm32?mode=app'
check "app + entry sequence: in sync" [ "$rc" -eq 0 ]

for m in silent:silent echo:echo rdp:read-protected; do
  run "$SHAKEDOWN" info --json stm32 "sim:stm32?mode=${m%%:*}"
  check "${m%%:*}: ${m#*:} first" json "d['findings'][0]['cause'] == '${m#*:}'" <<<"$out"
done
check "rdp: still identified (exit 0)" [ "$rc" -eq 0 ]
run "$SHAKEDOWN" info --json stm32 'sim:stm32?drop_parity=1'
check "adapter drops parity: exit 1, parity-mismatch" json 'd["findings"][0]["cause"] == "parity-mismatch"' <<<"$out"
check "adapter drops parity: exit 1" [ "$rc" -eq 1 ]

run "$SHAKEDOWN" sync --no-reset --enter 'rts:high' stm32 'sim:stm32'
check "--no-reset with --enter: usage error (2)" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" sync stm32 'sim:stm32?mode=sleepy'
check "bad sim mode: usage error (2) naming it" [ "$rc" -eq 2 ]
check "bad sim mode: the reason names the modes" grep -q "modes: bootloader" <<<"$err"

# On a pty: the sim serves, the client falls back to 8N1 and says so.
start_sim stm32
check "sim stm32 serves a pty" [ -c "$PTY" ]
run "$SHAKEDOWN" info --json stm32 "$PTY"
check "pty: identified" json 'd["ok"] is True and d["answered_by"]["chip"] == "STM32F1 medium-density"' <<<"$out"
check "pty: 8N1 fallback kept as a fact" json '"parity" in d["info"]["warning"] and d["info"]["line"] == "115200 8N1"' <<<"$out"
run "$SHAKEDOWN" info --json stm32 "$PTY"
check "pty, second run: the loader is already synchronised (NACK to 0x7F)" json 'd["ok"] is True and "NACK" in d["info"]["synced_by"]' <<<"$out"
stop_sim
finish
