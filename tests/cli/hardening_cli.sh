#!/usr/bin/env bash
# Issue 11, CLI-wide: clean usage errors (exit 2, one line naming what is
# wrong), verbosity that repeats, and no raw control byte from an argument,
# a file or a device on the terminal.
. "$(dirname "$0")/lib.sh"

ESC=$'\e'
noesc() { # noesc TEXT: no ESC and no other C0 control but TAB/LF in TEXT
  ! printf '%s' "$1" | LC_ALL=C grep -q "[$ESC"$'\x01-\x08\x0b-\x1a\x1c-\x1f\x7f]'
}

# explain: the real limit, not "'41' is not a hex byte"
big=$(printf '41%.0s' $(seq 1 4097))
run "$SHAKEDOWN" explain "$big"
check "explain 4097 bytes: exit 2" [ "$rc" -eq 2 ]
check "explain 4097 bytes: says the limit" grep -q "more than 4096 bytes" <<<"$err"
check "explain 4097 bytes: not 'not a hex byte'" bash -c '! grep -q "not a hex byte" <<<"$1"' _ "$err"
check "explain 4097 bytes: one line" [ "$(lines "$err")" -eq 1 ]
run "$SHAKEDOWN" explain "${big:2}"
check "explain 4096 bytes: exit 0" [ "$rc" -eq 0 ]
run "$SHAKEDOWN" explain 41 41 "$big"
check "explain: limit across several tokens" grep -q "more than 4096 bytes" <<<"$err"
run "$SHAKEDOWN" explain --sent "$big" 41
check "explain --sent 4097 bytes: exit 2, the limit" bash -c '[ "$1" -eq 2 ] && grep -q "more than 4096 bytes" <<<"$2"' _ "$rc" "$err"
run "$SHAKEDOWN" explain --text "$(printf 'A%.0s' $(seq 1 4097))"
check "explain --text 4097 bytes: exit 2, the limit" bash -c '[ "$1" -eq 2 ] && grep -q "more than 4096 bytes" <<<"$2"' _ "$rc" "$err"
run "$SHAKEDOWN" explain --text 'bad\q'
check "explain --text bad escape: exit 2, says escape" bash -c '[ "$1" -eq 2 ] && grep -q "bad escape" <<<"$2"' _ "$rc" "$err"

# serial: without a path
for t in serial: 'serial:?baud=9600'; do
  run "$SHAKEDOWN" probe "$t"
  check "probe '$t': exit 2" [ "$rc" -eq 2 ]
  check "probe '$t': names the missing path" grep -q "needs a device path" <<<"$err"
done
run "$SHAKEDOWN" sync stm32 serial:
check "sync stm32 serial:: exit 2" [ "$rc" -eq 2 ]

# duplicate keys
run "$SHAKEDOWN" probe 'sim:app?text=a&text=b'
check "sim:app?text=a&text=b: exit 2" [ "$rc" -eq 2 ]
check "sim:app?text=a&text=b: names the key" grep -q "option 'text' is given twice" <<<"$err"
check "duplicate key: one line" [ "$(lines "$err")" -eq 1 ]
run "$SHAKEDOWN" probe 'serial:/dev/x?baud=1&baud=2'
check "serial:/dev/x?baud=1&baud=2: exit 2, names baud" bash -c '[ "$1" -eq 2 ] && grep -q "option .baud. is given twice" <<<"$2"' _ "$rc" "$err"
run "$SHAKEDOWN" sim app text=a text=b
check "sim app text=a text=b: exit 2, names text" bash -c '[ "$1" -eq 2 ] && grep -q "option .text. is given twice" <<<"$2"' _ "$rc" "$err"
run "$SHAKEDOWN" probe 'sim:app?text=a&mode=app'
check "distinct keys still work" [ "$rc" -ne 2 ]

# -v repeats in every spelling
for v in -v -vv -vvv -vvvv "--verbose --verbose --verbose" "-v -vv"; do
  # shellcheck disable=SC2086
  run "$SHAKEDOWN" $v explain 41
  check "verbosity '$v' accepted" [ "$rc" -eq 0 ]
done
run "$SHAKEDOWN" -vx explain 41
check "-vx is still refused" [ "$rc" -eq 2 ]

# escaping: arguments in error messages
run "$SHAKEDOWN" explain "${ESC}[31mred"
check "ESC in a bad hex byte: exit 2" [ "$rc" -eq 2 ]
check "ESC in a bad hex byte: escaped as \\x1b" grep -qF '\x1b[31mred' <<<"$err"
check "ESC in a bad hex byte: no raw ESC" noesc "$out$err"
run "$SHAKEDOWN" "--${ESC}]0;title${ESC}\\" explain 41
check "ESC in an unknown option: no raw ESC" noesc "$out$err"
run "$SHAKEDOWN" "${ESC}[2J"
check "ESC in an unknown command: exit 2, no raw ESC" bash -c '[ "$1" -eq 2 ]' _ "$rc"
check "ESC in an unknown command: no raw ESC" noesc "$out$err"
run "$SHAKEDOWN" probe "/dev/${ESC}[31mnope"
check "ESC in a target path: exit 2, no raw ESC" bash -c '[ "$1" -eq 2 ]' _ "$rc"
check "ESC in a target path: no raw ESC" noesc "$out$err"
run "$SHAKEDOWN" probe "/tmp/nope-$$-$(printf 'x\xc2\x9by')"
check "C1 CSI (UTF-8 c2 9b) in a target: no raw CSI" bash -c '! printf "%s" "$1" | LC_ALL=C grep -q $'"'"'\xc2\x9b'"'"'' _ "$out$err"
run "$SHAKEDOWN" doctor "/dev/${ESC}[31mnope"
check "doctor: ESC in a target: no raw ESC" noesc "$out$err"
# device bytes: ESC and newlines in text the device sends
run "$SHAKEDOWN" explain --text '\x1b[31mred\r\n\x1b]0;x\x07ok\x9b'
check "explain of device text with ESC: exit 0" [ "$rc" -eq 0 ]
check "explain of device text with ESC: no raw ESC" noesc "$out$err"
check "explain of device text with ESC: no raw C1 byte" bash -c '! printf "%s" "$1" | LC_ALL=C grep -q $'"'"'\x9b'"'"'' _ "$out"
run "$SHAKEDOWN" probe --listen 300 'sim:app?text=red%0D%0Aline%09two'
check "device text with CR LF TAB: the report lines stay lines" noesc "$(grep -v '^$' <<<"$out" | tr -d '\t')"
run "$SHAKEDOWN" probe 'sim:app?text=%1B%5B31m'
check "sim:app?text=%1B%5B31m: refused at the URI (exit 2), no raw ESC" bash -c '[ "$1" -eq 2 ]' _ "$rc"
check "sim:app?text=%1B%5B31m: no raw ESC" noesc "$out$err"
# JSON: cJSON escapes control bytes itself
run "$SHAKEDOWN" explain --json --text '\x1b[31mred\r\n'
check "explain --json of ESC text: valid JSON" json 'd["bytes"].startswith("1b5b")' <<<"$out"
check "explain --json of ESC text: no raw ESC" noesc "$out"
# JSON keeps its meaning but spells DEL and C1 controls as \u escapes
run "$SHAKEDOWN" probe --json "/tmp/nope-$$-$(printf 'x\xc2\x9by')"
check "--json, C1 CSI in a target: no raw CSI" bash -c '! printf "%s" "$1" | LC_ALL=C grep -q $'"'"'\xc2\x9b'"'"'' _ "$out"
check "--json, C1 CSI in a target: same string in JSON" json 'd["target"].endswith("x\u009by")' <<<"$out"
# a trace file whose header names an ESC target
printf '{"shakedown_trace":1,"target":"\\u001b[31mT","clock":"real"}\n' >"$TMP/esc.jsonl"
run "$SHAKEDOWN" replay "$TMP/esc.jsonl"
check "replay of a trace with ESC in its target: no raw ESC" noesc "$out$err"

# bounded: a server stops at --timeout; every command's --help states its time
run "$SHAKEDOWN" --timeout 0.3 sim app text=hi
check "sim --timeout 0.3: stops by itself, exit 0" [ "$rc" -eq 0 ]
check "sim --timeout 0.3: printed its pty first" grep -q '^/dev/' <<<"$out"
for c in probe sync info loopback; do
  run "$SHAKEDOWN" "$c" --help
  check "$c --help states its default time limit" grep -Eq '(default 6)|default the protocol.s own limit' <<<"$out"
done
for c in sim "ports"; do
  run "$SHAKEDOWN" "$c" --help
  check "$c --help says it runs until stopped" grep -Eq 'until (interrupted|stopped)|serves until$' <<<"$out"
done
for c in explain doctor replay; do
  run "$SHAKEDOWN" "$c" --help
  check "$c --help says what bounds it" grep -Eiq 'bounded|no --timeout needed|keeps to the time|at most' <<<"$out"
done

finish
