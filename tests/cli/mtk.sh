#!/usr/bin/env bash
# MediaTek: every mode of the simulated phone, probed in-process (sim:) and
# through a real pty (shakedown sim mtk + shakedown info mtk PTY), is named
# with its mode, chip and flags; the device logs no destructive command.
. "$(dirname "$0")/lib.sh"


# matrix: name | sim keys | expected python check on the JSON report
matrix() {
  cat <<'EOF'
brom|mode=brom&hwcode=0x0707&config=0x05|d["ok"] and d["answered_by"]=={"protocol":"mtk","mode":"brom","chip":"MT6768/MT6769 (Helio P65/G85)"} and d["info"]["target_config"]=="0x00000005" and d["info"]["secure_boot"].startswith("on") and d["info"]["sla"].startswith("off") and d["info"]["daa"].startswith("on") and len(d["info"]["me_id"])==32
preloader|mode=preloader&hwcode=0x0959&config=0x02&window_ms=30000|d["ok"] and d["answered_by"]=={"protocol":"mtk","mode":"preloader","chip":"MT6877 (Dimensity 900/1080)"} and d["info"]["sla"].startswith("on: a stock DA needs an auth file") and d["info"]["secure_boot"].startswith("off") and any(f["cause"]=="preloader-not-brom" for f in d["findings"])
da|mode=da|not d["ok"] and d["answered_by"]["mode"]=="da" and d["findings"][0]["cause"]=="da-mode"
echo|mode=echo|not d["ok"] and d["findings"][0]["cause"]=="echo" and d["info"]["round_trips"]=="2"
bootloop|mode=bootloop&period_ms=300&cycles=5|not d["ok"] and d["findings"][0]["cause"]=="bootloop"
late|mode=brom&hwcode=0x0707&delay_ms=200|d["ok"] and d["info"]["hw_code"]=="0x0707" and 200 <= float(d["info"]["round_trip"].split()[0]) < 500 and "hw_code" in d["info"]["verified"].split() and all(f["cause"] not in ("boot-log","unknown") for f in d["findings"])
hang|mode=brom&hang_after_bytes=12|not d["ok"] and d["findings"][0]["cause"]=="stopped-answering" and all(f["cause"]!="ok" for f in d["findings"])
EOF
}

while IFS='|' read -r name keys expect; do
  run "$SHAKEDOWN" info --json mtk "sim:mtk?$keys"
  check "sim: $name named correctly" json "$expect" <<<"$out"
  if [ "$name" = brom ] || [ "$name" = preloader ] || [ "$name" = late ]; then
    check "sim: $name exit 0" [ "$rc" -eq 0 ]
  else
    check "sim: $name exit 1" [ "$rc" -eq 1 ]
  fi

  opts=$(tr '&' ' ' <<<"$keys")
  # shellcheck disable=SC2086
  if start_sim mtk -v $opts; then
    run "$SHAKEDOWN" info --json mtk "$PTY"
    check "pty: $name named correctly" json "$expect" <<<"$out" ||
      { echo "# rc=$rc out: $out"; echo "# err: $err"; sed 's/^/# sim: /' "$TMP/sim.err" | tail -20; }
    stop_sim
    check "pty: $name: the device logged commands" grep -q "cmd 0x" "$TMP/sim.err"
    check "pty: $name: nothing destructive" bash -c '! grep -q "destructive" "$1"' _ "$TMP/sim.err"
  else
    bad "pty: $name: sim did not start"
  fi
done < <(matrix)

# The identification is read-only, command by command, on the device's log.
start_sim mtk -v mode=brom window_ms=30000
run "$SHAKEDOWN" info mtk "$PTY"
stop_sim
for c in GET_HW_CODE GET_BL_VER GET_HW_SW_VER GET_TARGET_CONFIG GET_VERSION GET_ME_ID GET_SOC_ID; do
  check "pty: info sent $c" grep -q " $c" "$TMP/sim.err"
done
check "pty: no write, upload or jump" bash -c '! grep -Eq "WRITE|SEND_DA|JUMP|SLA|AUTH" "$1"' _ "$TMP/sim.err"

# sync: handshake plus code and mode only
run "$SHAKEDOWN" sync --json mtk 'sim:mtk?mode=preloader&hwcode=0x1208'
check "sync: preloader, patched chip says Preloader only" json 'd["ok"] and d["answered_by"]["mode"]=="preloader" and any("Preloader only" in f["fix"] for f in d["findings"])' <<<"$out"
check "sync: no target config read" json '"target_config" not in d["info"]' <<<"$out"

# The port vanishing mid-handshake, and the Preloader window on virtual time.
run "$SHAKEDOWN" info --json mtk 'sim:mtk?mode=brom&disconnect_after=2'
check "vanish: disconnected first" json 'd["findings"][0]["cause"]=="disconnected" and "retry immediately" in d["findings"][0]["fix"]' <<<"$out"

# Text output names the cause in one look.
run "$SHAKEDOWN" info mtk 'sim:mtk?mode=preloader'
check "text: preloader-not-brom shown with the way to BROM" grep -q "preloader-not-brom" <<<"$out"
check "text: chip shown" grep -q "chip MT6768/MT6769 (Helio P65/G85)" <<<"$out"

# ports: lists whatever this host has (no hardware needed), JSON is a list
run "$SHAKEDOWN" ports
check "ports: exit 0" [ "$rc" -eq 0 ]
run "$SHAKEDOWN" --json ports
check "ports --json: a list of ports with kind" json 'isinstance(d, list) and all("kind" in p and "port" in p for p in d)' <<<"$out"
run "$SHAKEDOWN" ports --watch --interval 50 --timeout 0.3
check "ports --watch ends at --timeout (exit 0)" [ "$rc" -eq 0 ]
run "$SHAKEDOWN" ports /dev/ttyACM0
check "ports: an argument is a usage error" [ "$rc" -eq 2 ]

# usb: no phone attached here: a clean one-line "no such device", exit 3
run "$SHAKEDOWN" --json info mtk 'usb:0e8d:7f7f'
check "usb: absent device exits 3" [ "$rc" -eq 3 ]
check "usb: one line on stderr naming the device" bash -c '[ "$(printf "%s" "$1" | grep -c "")" -eq 1 ] && grep -q "0e8d:7f7f" <<<"$1"' _ "$err"
check "usb: --json names no-device" json 'd["findings"][0]["cause"]=="no-device"' <<<"$out"
run "$SHAKEDOWN" info mtk 'usb:0e8d:0003?detach=maybe'
check "usb: bad option is a usage error" [ "$rc" -eq 2 ]

run "$SHAKEDOWN" sim mtk hwcode=0x10000
check "sim: bad hwcode refused (exit 2)" [ "$rc" -eq 2 ]

finish
