#!/usr/bin/env bash
# `shakedown help [COMMAND]`, the table-derived "unknown command" message,
# and protocol names: each command offers and accepts exactly the rows of
# the protocol table that serve it, and says why not for the rest.
. "$(dirname "$0")/lib.sh"

# The commands, as the main --help lists them (from the table in main.c).
run "$SHAKEDOWN" --help
main_help=$out
cmds=$(sed -n '/^commands:/,/^$/p' <<<"$main_help" | awk 'NF && $1 != "commands:" {print $1}')
check "the main --help lists commands" [ "$(wc -w <<<"$cmds")" -ge 8 ]
check "help is a command" grep -qx help <<<"$cmds"

run "$SHAKEDOWN" help
check "help: exit 0" [ "$rc" -eq 0 ]
check "help: the main usage, on stdout" eval '[ "$out" = "$main_help" ] && [ -z "$err" ]'

run "$SHAKEDOWN" frobnicate
check "unknown command: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
unknown=$err
for c in $cmds; do
  run "$SHAKEDOWN" help "$c"
  check "help $c: exit 0" [ "$rc" -eq 0 ]
  check "help $c: its usage" grep -q "^usage: shakedown $c" <<<"$out"
  help_out=$out
  run "$SHAKEDOWN" "$c" --help
  check "help $c = $c --help" [ "$out" = "$help_out" ]
  check "help $c: no placeholder left" bash -c '! grep -q "{protos:\|{sims}" <<<"$1"' _ "$help_out"
  check "unknown command lists $c" grep -Eq "[ (]$c[,)]" <<<"$unknown"
done

run "$SHAKEDOWN" help frobnicate
check "help of an unknown command: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
check "help of an unknown command: lists the commands" grep -q "commands: probe" <<<"$err"
run "$SHAKEDOWN" help --bogus
check "help --bogus: exit 2, an unknown option" eval '[ "$rc" -eq 2 ] && grep -q "unknown option '\''--bogus'\''" <<<"$err"'
run "$SHAKEDOWN" help sync info
check "help with two commands: exit 2" [ "$rc" -eq 2 ]

# sync / info: the rows with a client
for c in sync info; do
  run "$SHAKEDOWN" "$c" --list --json
  check "$c --list --json: exit 0" [ "$rc" -eq 0 ]
  check "$c --list: stm32, stk500, mtk available" json '{p["name"] for p in d if p["available"]} >= {"stm32","stk500","mtk"}' <<<"$out"
  check "$c --list: tls has its own command" json '[p for p in d if p["name"]=="tls"][0]["why_not"] == "has its own command: shakedown tls HOST[:PORT]"' <<<"$out"
  check "$c --list: esp offered (issue 13)" json '[p for p in d if p["name"]=="esp"][0]["available"] is True' <<<"$out"
  avail=$(python3 -c 'import json,sys; print(", ".join(p["name"] for p in json.load(sys.stdin) if p["available"]))' <<<"$out")
  run "$SHAKEDOWN" help "$c"
  check "help $c offers exactly the rows with a client" grep -q "^PROTO:  $avail " <<<"$out"
  run "$SHAKEDOWN" "$c" --list
  check "$c --list (text): tls under 'not here'" eval 'grep -A5 '\''^not here:'\'' <<<"$out" | grep -q '\''^  tls has its own command'\'''
  run "$SHAKEDOWN" "$c" esp 'sim:esp'
  check "$c esp: exit 0 on the simulated ESP" [ "$rc" -eq 0 ]
  run "$SHAKEDOWN" "$c" tls example.org:443
  check "$c tls: exit 2, points to shakedown tls" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ] && grep -q "tls has its own command: shakedown tls HOST" <<<"$err"'
  run "$SHAKEDOWN" "$c" nosuch 'sim:app'
  check "$c nosuch: exit 2, lists what works" eval '[ "$rc" -eq 2 ] && grep -q "unknown protocol '\''nosuch'\'' ($avail)" <<<"$err"'
done
run "$SHAKEDOWN" sync stm32 'sim:stm32' --json
check "sync stm32 still runs" eval '[ "$rc" -eq 0 ] && json '\''d["ok"]'\'' <<<"$out"'

# probe --expect: the rows with a read-only first frame on a line
run "$SHAKEDOWN" help probe
check "probe --help offers stk500, stm32, mtk, esp for --expect" grep -q -- "--expect PROTO .*(stk500, stm32, mtk, esp)" <<<"$out"
run "$SHAKEDOWN" probe --expect esp --json 'sim:esp'
check "probe --expect esp: the simulated ESP answers (exit 0)" eval '[ "$rc" -eq 0 ] && json '\''d["answered_by"]["protocol"] == "esp"'\'' <<<"$out"'
run "$SHAKEDOWN" probe --expect tls 'sim:app'
check "probe --expect tls: exit 2, points to shakedown tls" eval '[ "$rc" -eq 2 ] && grep -q "shakedown tls HOST" <<<"$err"'
run "$SHAKEDOWN" probe --expect stm32 --listen 50 'sim:stm32' --json
check "probe --expect stm32 still runs" eval '[ "$rc" -eq 0 ] && json '\''d["ok"]'\'' <<<"$out"'

# explain --expect: every row that reads bytes (all of them today)
run "$SHAKEDOWN" help explain
check "explain --help offers all five for --expect" grep -q -- "--expect PROTO .*(stk500, stm32, mtk, esp, tls)" <<<"$out"
run "$SHAKEDOWN" explain --expect esp c0 01 08 c0
check "explain --expect esp works" [ "$rc" -eq 0 ]
run "$SHAKEDOWN" explain --expect nosuch 68
check "explain --expect nosuch: exit 2, lists the names" eval '[ "$rc" -eq 2 ] && grep -q "(stk500, stm32, mtk, esp, tls)" <<<"$err"'

# sim: the device kinds; protocols without one say so
run "$SHAKEDOWN" help sim
check "sim --help offers the device kinds" grep -q "^PROTO: app, stm32, stk500, mtk, esp " <<<"$out"
run "$SHAKEDOWN" sim esp mode=sleepy
check "sim esp mode=sleepy: exit 2, one line naming the modes" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ] && grep -q "modes: download" <<<"$err"'
run "$SHAKEDOWN" sim tls
check "sim tls: exit 2, points to shakedown tls" eval '[ "$rc" -eq 2 ] && grep -q "shakedown tls HOST" <<<"$err"'
run "$SHAKEDOWN" sim --list
check "sim --list: tls under 'not here' (esp has a device)" eval 'grep -A3 '\''^not here:'\'' <<<"$out" | grep -q "tls has no simulated device"'

finish
