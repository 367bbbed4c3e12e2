#!/usr/bin/env bash
# Remote serial ports, measured on loopback:
# 1. ports probed per second by `probe --targets` over N ports (ser2net 4 in
#    front of `shakedown sim` ptys in six kinds: STK500, STM32, MediaTek,
#    application text, silent, echo) at --jobs 1, 8 and 32; fresh boards and
#    a fresh ser2net for each round (the simulated boards keep state);
# 2. time to identify a board (`info PROTO`, wall clock, median of R runs, a
#    fresh simulator per run) on the local pty, through ser2net (on a pty it
#    never acknowledges DTR/RTS: the first line change waits out the
#    link's answer timeout), through ser2net with ?ign_set_control, and
#    through pyserial's PortManager with the lines forwarded to the sim.
# usage: bench/remote.sh [build-dir]   (N=50 ports, R=5 runs, JOBS="1 8 32")
set -u
cd "$(dirname "$0")/.."
SRC=$PWD
B0=${1:-build}/shakedown
N=${N:-50}
R=${R:-5}
JOBS=${JOBS:-1 8 32}
PY=/usr/bin/python3
[ -x "$B0" ] || { echo "build first: cmake -S . -B build && cmake --build build"; exit 2; }
command -v ser2net >/dev/null || { echo "needs ser2net"; exit 2; }
TMP=$(mktemp -d)
B=$TMP/shakedown   # a copy: a rebuild during the run must not pull it away
cp "$B0" "$B"
PIDS=()
stop_all() { local p; for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done; for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done; PIDS=(); }
trap 'stop_all; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM

free_ports() {
  mapfile -t PORTS < <("$PY" -c '
import socket, sys
s = [socket.socket() for _ in range(int(sys.argv[1]))]
for x in s: x.bind(("127.0.0.1", 0))
for x in s: print(x.getsockname()[1])' "$1")
}
wait_ports() {
  "$PY" -c '
import socket, sys, time
end = time.time() + 20
for p in sys.argv[1:]:
    while True:
        s = socket.socket()
        try: s.connect(("127.0.0.1", int(p))); s.close(); break
        except OSError:
            s.close()
            if time.time() > end: sys.exit(1)
            time.sleep(0.02)' "$@"
}
sim() { # sim OUTVAR KIND...: a fresh simulator, its pty in OUTVAR
  local var=$1 f; shift
  f=$(mktemp "$TMP/sim.XXXXXX")
  "$B" sim "$@" >"$f" 2>/dev/null &
  PIDS+=($!)
  for _ in $(seq 1 500); do
    [ -s "$f" ] && { printf -v "$var" '%s' "$(head -n 1 "$f")"; return 0; }; sleep 0.01
  done
  echo "sim did not start: $*"; exit 1
}
s2n() { # s2n PORT PTY ...: one ser2net with an RFC 2217 accepter per pair
  local conf=$TMP/s2n.yaml i=0 ports=()
  printf '%%YAML 1.1\n---\n' >"$conf"
  while [ $# -gt 0 ]; do
    printf 'connection: &c%d\n  accepter: telnet(rfc2217),tcp,127.0.0.1,%s\n  connector: serialdev(nouucplock=true),%s,115200n81,local\n' \
      "$i" "$1" "$2" >>"$conf"
    ports+=("$1"); shift 2; i=$((i + 1))
  done
  ser2net -n -d -c "$conf" >/dev/null 2>&1 &
  PIDS+=($!)
  wait_ports "${ports[@]}"
}
now_ms() { date +%s%3N; }
median() { sort -n | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : int((a[NR / 2] + a[NR / 2 + 1]) / 2) }'; }

kinds=("stk500" "stm32" "mtk" "app" "app mode=silent" "app mode=echo")
echo "== probe --targets over $N ports behind ser2net $(ser2net -v 2>/dev/null | awk '{print $3}') ($(nproc) cores)"
printf '%-8s %10s %10s   %s\n' "--jobs" "seconds" "ports/s" "verdicts"
for j in $JOBS; do
  free_ports "$N"
  args=()
  : >"$TMP/targets"
  for i in $(seq 0 $((N - 1))); do
    # shellcheck disable=SC2086
    sim pty ${kinds[$((i % 6))]}
    args+=("${PORTS[$i]}" "$pty")
    echo "rfc2217://127.0.0.1:${PORTS[$i]}" >>"$TMP/targets"
  done
  s2n "${args[@]}"
  t0=$(now_ms)
  "$B" probe --jobs "$j" --targets "$TMP/targets" >"$TMP/out" 2>&1
  t1=$(now_ms)
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }')
  rate=$(awk -v a="$t0" -v b="$t1" -v n="$N" 'BEGIN { printf "%.1f", n * 1000 / (b - a) }')
  v=$(awk '/^  (answers|sick)/ { printf "%s%s %s", sep, $2, $NF; sep=", " }' "$TMP/out")
  printf '%-8s %10s %10s   %s\n' "$j" "$secs" "$rate" "$v"
  stop_all
done

echo
echo "== time to identify (info PROTO), median of $R runs, ms"
printf '%-8s %10s %10s %12s %10s\n' "proto" "local pty" "ser2net" "ser2net+ign" "pyserial"
for proto in stk500 stm32 mtk; do
  row=()
  for how in local s2n s2nign py; do
    for r in $(seq 1 "$R"); do
      free_ports 1
      port=${PORTS[0]}
      case $how in
        local) sim pty "$proto"; target=$pty ;;
        s2n) sim pty "$proto"; s2n "$port" "$pty"; target="rfc2217://127.0.0.1:$port" ;;
        s2nign) sim pty "$proto"; s2n "$port" "$pty"; target="rfc2217://127.0.0.1:$port?ign_set_control" ;;
        py) mkfifo "$TMP/l$r$proto"; sim pty "$proto" "lines=$TMP/l$r$proto"
            "$PY" "$SRC/tests/peers/rfc2217_server.py" "$pty" "$port" --lines "$TMP/l$r$proto" >/dev/null 2>&1 &
            PIDS+=($!); wait_ports "$port"; target="rfc2217://127.0.0.1:$port" ;;
      esac
      t0=$(now_ms)
      "$B" info "$proto" "$target" >/dev/null 2>&1 || echo "  (info $proto $how run $r failed)" >&2
      echo $(( $(now_ms) - t0 )) >>"$TMP/t.$proto.$how"
      stop_all
    done
    row+=("$(median <"$TMP/t.$proto.$how")")
  done
  printf '%-8s %10s %10s %12s %10s\n' "$proto" "${row[@]}"
done
