#!/usr/bin/env bash
# shakedown explain: the 0x68 case, JSON ranking, echo, TLS, banners, errors.
. "$(dirname "$0")/lib.sh"

run "$SHAKEDOWN" explain 0x68
check "0x68: exit 0" [ "$rc" -eq 0 ]
check "0x68: ASCII 'h'" grep -q "ASCII 'h'" <<<"$out"
check "0x68: start of text from application firmware" grep -q "start of text from running application firmware" <<<"$out"
check "0x68: app-running ranked first" bash -c 'grep -E "^ +1\. " <<<"$1" | grep -q app-running' _ "$out"
check "0x68: baud mismatches listed" grep -q "baud-rate mismatches that give these bytes" <<<"$out"
check "0x68: not a TLS record: plaintext on a TLS port" grep -q "not a TLS content type.*plaintext reply on a TLS port" <<<"$out"
for p in stk500 stm32 mtk esp; do
  check "0x68: says what $p expected" grep -Eq "^  $p +.*expected" <<<"$out"
done

run "$SHAKEDOWN" explain --json 68 65 6c 6c 6f
check "hello --json: exit 0" [ "$rc" -eq 0 ]
check "hello --json: app-running first" json 'd["findings"][0]["cause"] == "app-running"' <<<"$out"
check "hello --json: text evidence" json 'd["findings"][0]["evidence"]["text"] == "hello"' <<<"$out"
check "hello --json: bytes and ascii" json 'd["bytes"] == "68656c6c6f" and d["ascii"] == "hello"' <<<"$out"
check "hello --json: a meaning per protocol" json 'set(m["proto"] for m in d["meanings"]) >= {"ascii","stk500","stm32","mtk","esp","tls"}' <<<"$out"
check "hello --json: contract members" json 'all(k in d for k in ("target","command","ok","answered_by","findings","elapsed_ms"))' <<<"$out"

run "$SHAKEDOWN" explain --json 0x68
check "0x68 --json: baud pairs computed" json 'len(d["baud_pairs"]) > 0 and all(p["device_baud"] != p["host_baud"] for p in d["baud_pairs"])' <<<"$out"

run "$SHAKEDOWN" explain --json --sent 3020 30 20
check "echo of GET_SYNC: echo first" json 'd["findings"][0]["cause"] == "echo"' <<<"$out"

run "$SHAKEDOWN" explain --json 15 03 03 00 02 02 28
check "TLS alert: named" json 'd["findings"][0]["cause"] == "tls-alert" and "handshake_failure" in d["findings"][0]["summary"]' <<<"$out"

run "$SHAKEDOWN" explain --json --net --text 'HTTP/1.1 400 Bad Request\r\n'
check "HTTP on a TLS port: plaintext-service first" json 'd["findings"][0]["cause"] == "plaintext-service" and "HTTP" in d["findings"][0]["summary"]' <<<"$out"

run "$SHAKEDOWN" explain --json --text 'rst:0x1 (POWERON_RESET),boot:0x13 (SPI_FAST_FLASH_BOOT)\r\n'
check "ESP flash boot: wrong-boot-mode first" json 'd["findings"][0]["cause"] == "wrong-boot-mode"' <<<"$out"

run "$SHAKEDOWN" explain --json --expect stm32 14 10
check "STK500 answer when STM32 expected: wrong-protocol" json 'd["findings"][0]["cause"] == "wrong-protocol"' <<<"$out"

run "$SHAKEDOWN" explain --json 00 00 00 00
check "four zeros: idle-line first" json 'd["findings"][0]["cause"] == "idle-line"' <<<"$out"

run "$SHAKEDOWN" explain zz
check "bad byte: exit 2" [ "$rc" -eq 2 ]
check "bad byte: one line naming it" [ "$(lines "$err")" -eq 1 ] && grep -q "'zz'" <<<"$err"
run "$SHAKEDOWN" explain
check "no bytes: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" explain --expect nosuch 68
check "unknown protocol: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" explain 6
check "odd hex digits: exit 2" [ "$rc" -eq 2 ]

finish
