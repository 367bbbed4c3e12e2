#!/usr/bin/env bash
# probe against simulated targets: the report contract, ranking, exit codes,
# speed, and --trace -> replay round trips.
. "$(dirname "$0")/lib.sh"

# The acceptance case: a board running its application and printing "hello".
start=$(date +%s%N)
run "$SHAKEDOWN" probe --json 'sim:app?text=hello'
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "app: exit 1 (no bootloader answered)" [ "$rc" -eq 1 ]
check "app: valid JSON" json 'True' <<<"$out"
check "app: app-running ranked first" json 'd["findings"][0]["cause"] == "app-running"' <<<"$out"
check "app: the text is the evidence" json '"hello" in d["findings"][0]["evidence"]["text"]' <<<"$out"
check "app: received hex starts with 68" json 'd["findings"][0]["evidence"]["received"].startswith("68656c6c6f")' <<<"$out"
check "app: contract members" json 'all(k in d for k in ("target","command","ok","answered_by","findings","elapsed_ms")) and d["ok"] is False and d["command"] == "probe"' <<<"$out"
check "app: ranks count from 1" json '[f["rank"] for f in d["findings"]] == list(range(1, len(d["findings"]) + 1))' <<<"$out"
check "app: mode application" json 'd["answered_by"]["mode"] == "application"' <<<"$out"
check "app: under 1 s wall time (${ms} ms)" [ "$ms" -lt 1000 ]
check "app: probes sent nothing to a talking board" json '"sent" not in d["findings"][0]["evidence"] or d["findings"][0]["evidence"]["sent"] == ""' <<<"$out"

# Text output: the cause, the text, the fix, no colour when NO_COLOR is set.
run "$SHAKEDOWN" probe 'sim:app?text=hello%20world%0D%0A'
check "text: names app-running" grep -q "app-running" <<<"$out"
check "text: shows the fix" grep -q "fix:" <<<"$out"
check "text: no escape codes" bash -c '! grep -q $'"'"'\033'"'"' <<<"$1"' _ "$out"

# A silent line: probe pokes once, says silent.
run "$SHAKEDOWN" probe --json 'sim:app?mode=silent'
check "silent: exit 1" [ "$rc" -eq 1 ]
check "silent: silent first" json 'd["findings"][0]["cause"] == "silent"' <<<"$out"

# in the safe order: 0x7F first (the STM32 loader takes it only as the first
# byte after reset), then MediaTek's A0, then GET_SYNC (optiboot gets its
# own reset later), then the Espressif SYNC (C0 00 08 ... C0)
check "silent: every protocol's read-only first frame, once each, in the safe order" json 'd["findings"][0]["evidence"]["sent"] == "7fa03020c00008240000000000070712205555555555555555555555555555555555555555555555555555555555555555c0"' <<<"$out"

# probe walks the protocol table: whichever loader is there answers its own
# first frame.
for t in stm32 mtk; do
  run "$SHAKEDOWN" probe --json "sim:$t"
  check "walk: $t answers, exit 0" [ "$rc" -eq 0 ]
  check "walk: answered_by $t" json 'd["answered_by"]["protocol"] == "'"$t"'" and d["ok"] is True' <<<"$out"
done
# A Preloader that announces itself ("READY") is poked with its own frame only.
run "$SHAKEDOWN" probe --json --trace "$TMP/pl.jsonl" 'sim:mtk?mode=preloader'
check "walk: READY claimed by mtk" json 'd["answered_by"]["protocol"] == "mtk"' <<<"$out"
check "walk: only A0 sent to a talking Preloader" bash -c '[ "$(grep -o "\"tx\":\"[0-9a-f]*\"" "$1" | head -1)" = "\"tx\":\"a0\"" ]' _ "$TMP/pl.jsonl"

# An echoing line: our own poke comes back.
run "$SHAKEDOWN" probe --json 'sim:app?mode=echo'
check "echo: echo first" json 'd["findings"][0]["cause"] == "echo"' <<<"$out"

# --no-poke sends nothing at all.
run "$SHAKEDOWN" probe --no-poke --json --trace "$TMP/np.jsonl" 'sim:app?mode=echo'
check "no-poke: nothing sent" bash -c '! grep -q "\"tx\"" "$1"' _ "$TMP/np.jsonl"

# A device at another baud: bytes, not text.
run "$SHAKEDOWN" probe --json 'sim:app?text=hello%20world%0D%0A&baud=9600'
check "baud 9600 vs 115200: baud-mismatch first" json 'd["findings"][0]["cause"] == "baud-mismatch"' <<<"$out"

# A device that vanishes.
run "$SHAKEDOWN" probe --json 'sim:app?text=hello&disconnect_after=3'
check "disconnect: disconnected is reported" json 'any(f["cause"] == "disconnected" for f in d["findings"])' <<<"$out"
check "disconnect: exit 1" [ "$rc" -eq 1 ]

# Targets that cannot be opened: one line, exit 3 (or 2 for a bad URI).
run "$SHAKEDOWN" probe /dev/ttyDOESNOTEXIST9
check "missing port: exit 3" [ "$rc" -eq 3 ]
check "missing port: one line" [ "$(lines "$err")" -eq 1 ]
run "$SHAKEDOWN" probe --json /dev/ttyDOESNOTEXIST9
check "missing port --json: no-device" json 'd["findings"][0]["cause"] == "no-device"' <<<"$out"
run "$SHAKEDOWN" probe 'sim:nosuchdevice'
check "unknown sim: exit 2, one line" [ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]
run "$SHAKEDOWN" probe 'sim:app?txet=hello'
check "unknown sim key: exit 2, names the key" [ "$rc" -eq 2 ] && grep -q "txet" <<<"$err"
run "$SHAKEDOWN" probe 'gopher://x'
check "unknown scheme: exit 2" [ "$rc" -eq 2 ]

# --trace, then replay: the bytes round-trip exactly.
run "$SHAKEDOWN" probe --trace "$TMP/a.jsonl" 'sim:app?text=hello'
check "trace: written" [ -s "$TMP/a.jsonl" ]
check "trace: every line is JSON" python3 -c '
import json,sys
for l in open(sys.argv[1]): json.loads(l)' "$TMP/a.jsonl"
run "$SHAKEDOWN" replay --trace "$TMP/b.jsonl" "$TMP/a.jsonl"
check "replay: exit 1, the verdict of the probe it replays (no bootloader)" [ "$rc" -eq 1 ]
check "replay: --trace re-emits the file byte for byte" cmp -s "$TMP/a.jsonl" "$TMP/b.jsonl"
check "replay: shows the text" grep -q "hello" <<<"$out"
check "replay: diagnoses app-running" grep -q "app-running" <<<"$out"
rx_trace=$(python3 -c '
import json,sys
print("".join(json.loads(l).get("rx","") for l in open(sys.argv[1])))' "$TMP/a.jsonl")
run "$SHAKEDOWN" replay --json "$TMP/a.jsonl"
check "replay --json: same received bytes as the trace" json "d['findings'][0]['evidence']['received'] == '$rx_trace'[:len(d['findings'][0]['evidence']['received'])] and len(d['findings'][0]['evidence']['received']) > 0" <<<"$out"

run "$SHAKEDOWN" probe --trace /nonexistent-dir/x.jsonl 'sim:app'
check "unwritable trace: exit 3, one line" [ "$rc" -eq 3 ] && [ "$(lines "$err")" -eq 1 ]

finish
