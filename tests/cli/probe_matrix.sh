#!/usr/bin/env bash
# The probe matrix on real ptys: `shakedown sim KIND key=value` serves each
# simulated device on a pty (no modem lines, no parity: resets cannot reach
# it, as on a port whose adapter has no DTR), `shakedown probe PTY` must rank
# the right finding first, and the simulator's command log (-v) must hold no
# destructive command. The in-process matrix, with resets, is
# tests/unit/test_probe.c. Prints the matrix as a table; every cell is a test.
. "$(dirname "$0")/lib.sh"

# sim spec | expected first cause | expected exit | answered_by.protocol ("-" = none)
cells=(
  "stk500|ok|0|stk500"
  "stk500 mode=app|app-running|1|-"
  "stk500 mode=stk500v2|wrong-protocol|0|stk500v2"
  "stk500 mode=silent|silent|1|-"
  "stk500 mode=echo|echo|1|-"
  "stk500 noise=1e-3 seed=5|ok|0|stk500"
  "stm32|ok|0|stm32"
  "stm32 mode=rdp|ok|0|stm32"
  "stm32 mode=app|app-running|1|-"
  "mtk|ok|0|mtk"
  "mtk mode=preloader|ok|0|mtk"
  "mtk mode=bootloop|bootloop|1|-"
  "esp|ok|0|esp"
  "esp chip=esp32c3|ok|0|esp"
  "esp mode=app|wrong-boot-mode|1|-"   # its boot log (flash boot) waits in the pty
  "app text=hello|app-running|1|-"
  "app mode=echo|echo|1|-"
  "app mode=silent|silent|1|-"
  "app mode=bootloop|bootloop|1|-"
  "stk500 +reader|port-busy|1|-"   # another process reads the same pty
)

table=()
for c in "${cells[@]}"; do
  IFS='|' read -r spec want_cause want_rc want_proto <<<"$c"
  reader=0
  case $spec in *" +reader") reader=1 ;; esac
  # shellcheck disable=SC2086
  if ! start_sim ${spec% +reader} -v; then
    bad "$spec: the simulator started"
    table+=("$(printf '%-26s %-16s %-16s %s' "$spec" "$want_cause" "-" "FAIL")")
    continue
  fi
  RPID=
  if [ $reader -eq 1 ]; then
    cat "$PTY" >/dev/null 2>&1 &
    RPID=$!
    sleep 0.2   # real-peer pacing: the reader must hold the port first
  fi
  run "$SHAKEDOWN" --trace "$TMP/cell.jsonl" probe --json "$PTY"
  [ -n "$RPID" ] && { kill "$RPID" 2>/dev/null; wait "$RPID" 2>/dev/null; }
  stop_sim
  got=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["findings"][0]["cause"] if d["findings"] else "-")' <<<"$out" 2>/dev/null || echo "?")
  proto=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["answered_by"]["protocol"] or "-")' <<<"$out" 2>/dev/null || echo "?")
  cmds=$(grep -c " cmd " "$TMP/sim.err")
  pass=1
  check "$spec: first finding $want_cause (got $got)" [ "$got" = "$want_cause" ] || pass=0
  check "$spec: exit $want_rc (got $rc)" [ "$rc" -eq "$want_rc" ] || pass=0
  if [ $reader -eq 1 ]; then
    check "$spec: the reader is named with its PID" grep -q "process $RPID (cat)" <<<"$out" || pass=0
  fi
  check "$spec: answered by $want_proto (got $proto)" [ "$proto" = "$want_proto" ] || pass=0
  check "$spec: no destructive command in the simulator's log ($cmds commands)" \
    bash -c '! grep -q "(destructive)" "$1"' _ "$TMP/sim.err" || pass=0
  # replay re-derives the same verdict from the trace (the host checks read
  # this machine, not the trace: the reader cell is the live run's alone)
  if [ $reader -eq 0 ]; then
    live_rc=$rc
    run "$SHAKEDOWN" replay --json "$TMP/cell.jsonl"
    check "$spec: replay agrees (exit $rc, live $live_rc)" json \
      'd["replayed"]["agrees"] is True and d["findings"][0]["cause"] == "'"$want_cause"'"' <<<"$out" || pass=0
  fi
  [ $pass -eq 1 ] || { echo "# report:"; sed 's/^/#   /' <<<"$out" | head -40; echo "# sim log:"; sed 's/^/#   /' "$TMP/sim.err" | tail -20; }
  table+=("$(printf '%-26s %-16s %-16s %-6s %s' "$spec" "$want_cause" "$got" "$cmds" "$([ $pass -eq 1 ] && echo pass || echo FAIL)")")
done

echo
printf '%-26s %-16s %-16s %-6s %s\n' "pty sim" "expected" "got" "cmds" ""
printf '%s\n' "${table[@]}"
finish
