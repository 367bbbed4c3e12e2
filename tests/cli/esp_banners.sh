#!/usr/bin/env bash
# Real Espressif ROM boot banners, quoted in public issues and forum threads
# (tests/cli/esp_banners/*.txt, the first line names the thread), through
# `shakedown explain --expect esp`: the first-ranked cause and the words the
# banner itself supports (chip, strap pin, boot mode). Each banner is read as
# quoted (LF) and as the ROM sends it (CR LF). The expectations come from the
# banner and esp.md / esptool's docs, not from what the decoder printed.
. "$(dirname "$0")/lib.sh"
DIR="$(dirname "$0")/esp_banners"

# expect FILE CAUSE 'WORD|WORD...' ['ANY:WORD|...'] ['NOT:WORD|...']
#   CAUSE   the first-ranked cause
#   WORDS   each in the first finding's summary or fix
#   ANY:    each in some finding's summary or fix
#   NOT:    in no finding's summary or fix (a cause name there: no such finding)
expect() {
  local f=$1 cause=$2 words=$3 any=${4:-} not=${5:-}
  [ -f "$DIR/$f" ] || { bad "$f: missing"; return; }
  head -n 1 "$DIR/$f" | grep -q '^# source: http' || bad "$f: first line names no source"
  local text crlf
  text=$(tail -n +2 "$DIR/$f")
  crlf=$(printf '%s\n' "$text" | sed 's/$/\r/')
  for form in lf crlf; do
    if [ "$form" = lf ]; then run "$SHAKEDOWN" explain --json --expect esp --text "$text"
    else run "$SHAKEDOWN" explain --json --expect esp --text "$crlf"; fi
    printf '%s' "$out" >"$TMP/out.json"
    check "$f ($form): exit 0, $cause first${words:+, says $words}" \
      python3 - "$cause" "$words" "${any#ANY:}" "${not#NOT:}" "$rc" "$TMP/out.json" <<'PY'
import json, sys
cause, words, any_, not_, rc, path = sys.argv[1:7]
try:
    d = json.load(open(path))
except ValueError:
    d = {}
fs = d.get("findings", [])
ok = rc == "0" and bool(fs) and fs[0]["cause"] == cause
text = lambda x: x.get("summary", "") + " | " + (x.get("fix") or "")
if ok:
    ok = all(w in text(fs[0]) for w in words.split("|") if w)
if ok:
    ok = all(any(w in text(x) for x in fs) for w in any_.split("|") if w)
if ok:
    ok = not any(w in text(x) or w == x["cause"] for x in fs for w in not_.split("|") if w)
if not ok:
    for x in fs[:3]:
        print("   got:", x["cause"], "|", text(x), file=sys.stderr)
sys.exit(0 if ok else 1)
PY
  done
}

# ESP32 (ROM "ets Jun  8 2016" / ECO3 "ets Jul 29 2019"), GPIO0 straps
expect esp32_brownout_cam.txt        brownout        'esp32|brown-out'
expect esp32_brownout_rst0xf.txt     brownout        'esp32|brown-out'
expect esp32_download_0x3.txt        boot-log        'esp32|waiting for a download on this UART|boot:0x3' '' 'NOT:wrong-boot-mode'
expect esp32_download_0x23.txt       boot-log        'esp32|waiting for a download on this UART|boot:0x23' '' 'NOT:wrong-boot-mode'
expect esp32_wdt_loop.txt            bootloop        'esp32|3 times|watchdog|GPIO0'
expect esp32_invalid_header_loop.txt bootloop        '0xffffffff|erased|resets over and over|GPIO0' 'ANY:esp32'
expect esp32_invalid_header_other.txt wrong-boot-mode 'boot:0x13|GPIO0' 'ANY:0x88a0f530' 'NOT:0xffffffff|erased'
# ESP32-S2 / S3: GPIO0, USB-OTG download shares the DOWNLOAD(...) name
expect esp32s2_brownout.txt          brownout        'esp32s2|brown-out'
expect esp32s3_download.txt          boot-log        'esp32s3|waiting for a download on this UART|boot:0x0' '' 'NOT:wrong-boot-mode|USB only'
# ESP32-C3 / C6: GPIO9 with GPIO8 high
expect esp32c3_usb_boot.txt          wrong-boot-mode 'esp32c3|USB only|GPIO9|GPIO8' '' 'NOT:GPIO0|waiting for a download on this UART'
expect esp32c3_download_saved_pc.txt boot-log        'esp32c3|waiting for a download on this UART|boot:0x4' '' 'NOT:wrong-boot-mode'
expect esp32c3_spi_download.txt      wrong-boot-mode 'esp32c3|SPI|GPIO8|GPIO9' '' 'NOT:GPIO0|waiting for a download on this UART'
expect esp32c3_tg0wdt_invalid_header.txt wrong-boot-mode 'esp32c3|boot:0xf|GPIO9' 'ANY:0xffffff7f' 'NOT:GPIO0|erased'
expect esp32c6_download.txt          boot-log        'esp32c6|waiting for a download on this UART|boot:0x4' '' 'NOT:wrong-boot-mode'
# ESP8266: boot mode:(3,x) flash, (1,x) UART download
expect esp8266_flash_wdt.txt         wrong-boot-mode 'ESP8266|boot mode 3|GPIO0'
expect esp8266_download.txt          boot-log        'ESP8266|waiting for a download on this UART|boot mode 1' '' 'NOT:wrong-boot-mode'

n=$(ls "$DIR"/*.txt | wc -l)
check "every banner file is tested ($n)" [ "$n" -eq 16 ]

finish
