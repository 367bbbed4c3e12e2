#!/usr/bin/env bash
# Time to the first-ranked correct verdict of `shakedown probe`, per cell of
# the probe matrix, on a pty served by `shakedown sim` (wall clock, median of
# R runs, a fresh simulator per run). Next to it, where a peer tool gives any
# verdict at all, the peer's time to its own success or error message on the
# same simulated device: avrdude -c arduino (STK500 and plain boards) and
# stm32flash (STM32). A pty has no DTR/RTS, so no tool can reset the board.
# usage: bench/probe.sh [build-dir]   (R=5 runs; PEER_CAP=15 s per peer run)
set -u
cd "$(dirname "$0")/.."
B0=${1:-build}/shakedown
R=${R:-5}
CAP=${PEER_CAP:-15}
[ -x "$B0" ] || { echo "build first: cmake -S . -B build && cmake --build build"; exit 2; }
TMP=$(mktemp -d)
B=$TMP/shakedown   # a copy: a rebuild during the run must not pull it away
cp "$B0" "$B"
SIM_PID=
cleanup() { [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

start_sim() {
  "$B" sim "$@" >"$TMP/sim.out" 2>/dev/null &
  SIM_PID=$!
  PTY=
  for _ in $(seq 1 500); do
    PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null); [ -n "$PTY" ] && return 0; sleep 0.01
  done
  echo "sim did not start: $*"; exit 1
}
stop_sim() { kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; SIM_PID=; }
now_ms() { date +%s%3N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

# cell: sim spec | expected first cause | peer (avrdude, stm32flash, -)
cells=(
  "stk500|ok|avrdude"
  "stk500 mode=app|app-running|avrdude"
  "stk500 mode=silent|silent|avrdude"
  "stk500 mode=echo|echo|avrdude"
  "stk500 mode=stk500v2|wrong-protocol|avrdude"
  "stm32|ok|stm32flash"
  "stm32 mode=rdp|ok|stm32flash"
  "stm32 mode=app|app-running|stm32flash"
  "mtk|ok|-"
  "mtk mode=preloader|ok|-"
  "app text=hello|app-running|avrdude"
  "app mode=silent|silent|stm32flash"
  "app mode=bootloop|bootloop|-"
)

peer_cmd() { # peer PTY -> the command line
  case $1 in
    avrdude) echo "avrdude -c arduino -p m328p -b 115200 -P $2 -U signature:r:-:h" ;;
    stm32flash) echo "stm32flash -b 115200 -m 8n1 $2" ;;
  esac
}

printf '%-24s %-15s %8s %6s   %-10s %9s %7s\n' "cell" "verdict" "probe" "right" "peer" "peer" "ratio"
answering=()
for c in "${cells[@]}"; do
  IFS='|' read -r spec want peer <<<"$c"
  ts=(); right=0
  for _ in $(seq 1 "$R"); do
    # shellcheck disable=SC2086
    start_sim $spec
    s=$(now_ms)
    timeout 30 "$B" probe --json "$PTY" >"$TMP/p.json" 2>/dev/null
    ts+=($(( $(now_ms) - s )))
    stop_sim
    got=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["findings"][0]["cause"])' "$TMP/p.json" 2>/dev/null)
    [ "$got" = "$want" ] && right=$((right + 1))
  done
  med=$(printf '%s\n' "${ts[@]}" | median)
  [ "$want" = ok ] || [ "$want" = wrong-protocol ] && answering+=("$med")
  pt="-"; ratio="-"
  if [ "$peer" != "-" ] && command -v "$peer" >/dev/null; then
    pts=()
    for _ in $(seq 1 "$R"); do
      # shellcheck disable=SC2086
      start_sim $spec
      s=$(now_ms)
      # shellcheck disable=SC2046
      timeout "$CAP" $(peer_cmd "$peer" "$PTY") >/dev/null 2>&1
      prc=$?
      pts+=($(( $(now_ms) - s )))
      stop_sim
    done
    pm=$(printf '%s\n' "${pts[@]}" | median)
    pt=$pm; [ "$prc" -eq 124 ] && pt=">$((CAP * 1000))"
    ratio=$(awk -v a="$pm" -v b="$med" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')
  fi
  printf '%-24s %-15s %6d ms %3d/%-2d   %-10s %6s ms %7s\n' "$spec" "$want" "$med" "$right" "$R" "$peer" "$pt" "$ratio"
done
echo
printf 'median over the answering cells: %d ms (goal: under 1000 ms)\n' \
  "$(printf '%s\n' "${answering[@]}" | median)"
echo "(ratio = peer time / shakedown time to a verdict; above 1 means shakedown is faster)"
