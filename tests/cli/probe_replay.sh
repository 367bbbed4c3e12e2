#!/usr/bin/env bash
# replay of every in-process probe matrix cell (tests/unit/test_probe.c)
# agrees with the live verdict: the same exit code and first-ranked cause,
# every recorded write and read re-derived, "agrees": true. The pty cells
# are replayed in tests/cli/probe_matrix.sh.
. "$(dirname "$0")/lib.sh"

targets=(
  sim:stk500 'sim:stk500?mode=old' 'sim:stk500?mode=stk500v2' 'sim:stk500?mode=caterina'
  'sim:stk500?mode=urboot' 'sim:stk500?mode=app' 'sim:stk500?mode=noreset'
  'sim:stk500?mode=silent' 'sim:stk500?mode=echo' 'sim:stk500?noise=1e-3&seed=3'
  'sim:stk500?flood=2048'
  sim:stm32 'sim:stm32?mode=app' 'sim:stm32?mode=app&wired=0' 'sim:stm32?mode=rdp' 'sim:stm32?mode=glitch'
  'sim:stm32?mode=silent' 'sim:stm32?mode=echo' 'sim:stm32?noise=1e-3&seed=3'
  sim:mtk 'sim:mtk?mode=preloader' 'sim:mtk?mode=da' 'sim:mtk?mode=echo' 'sim:mtk?mode=bootloop'
  'sim:app?text=hello' 'sim:app?text=hello%20world%0D%0A&baud=9600'
  'sim:app?text=hello%20world%0D%0A&baud=57600' 'sim:app?mode=silent' 'sim:app?mode=echo'
  'sim:app?mode=bootloop' 'sim:app?text=hello&disconnect_after=3'
)
printf '%-48s %-16s %-16s %s\n' "target" "live" "replayed" ""
for t in "${targets[@]}"; do
  run "$SHAKEDOWN" --trace "$TMP/t.jsonl" probe --json "$t"
  live_rc=$rc
  live=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"][0]["cause"])' <<<"$out" 2>/dev/null)
  run "$SHAKEDOWN" replay --json "$TMP/t.jsonl"
  again=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"][0]["cause"])' <<<"$out" 2>/dev/null)
  if check "$t: replay agrees ($live -> $again, exit $live_rc -> $rc)" json \
       'd["replayed"]["agrees"] is True and d["replayed"]["rerun"] is True and d["findings"][0]["cause"] == "'"$live"'"' <<<"$out" &&
     check "$t: same exit code" [ "$rc" -eq "$live_rc" ]; then
    printf '# %-46s %-16s %-16s pass\n' "$t" "$live" "$again"
  else
    printf '# %-46s %-16s %-16s FAIL\n' "$t" "$live" "$again"
  fi
done
finish
