#!/usr/bin/env bash
# bench/mtk.sh — time from open to identified chip, against the simulated
# Preloader on a real pty: shakedown info vs the physical floor.
#
# Over USB the bytes on the wire cost nothing measurable; the floor is the
# device's own answer time times the number of round trips. Here the device
# is `shakedown sim mtk` behind a pty, so its answer time is the pty's
# round trip, measured directly (one byte out, its complement back).
# mtkclient is not installable on this machine (its Python dependencies
# come only from its own registry): the comparison with it is not run.
#
# usage: bench/mtk.sh [runs]   (default 20; needs a built ./build/shakedown
#                               or SHAKEDOWN=path)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
SD=${SHAKEDOWN:-./build/shakedown}
[ -x "$SD" ] || { echo "bench: build first (cmake -S . -B build && cmake --build build)" >&2; exit 2; }
tmp=$(mktemp -d)
"$SD" sim mtk mode=preloader hwcode=0x0959 config=0x07 window_ms=3600000 >"$tmp/sim.out" 2>/dev/null &
sim=$!
trap 'kill $sim 2>/dev/null; wait $sim 2>/dev/null; rm -rf "$tmp"' EXIT
for _ in $(seq 1 100); do pty=$(head -n1 "$tmp/sim.out" 2>/dev/null || true); [ -n "$pty" ] && break; sleep 0.05; done
[ -n "$pty" ] || { echo "bench: sim did not start" >&2; exit 1; }

# The floor: one-byte round trips on this pty to this device (A0 -> 5F).
rtt_us=$(python3 - "$pty" <<'PY'
import os, sys, tty, time, select
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
time.sleep(0.05)
while select.select([fd], [], [], 0.05)[0]:
    os.read(fd, 4096)          # "READY" and anything stale
n, t = 200, []
for _ in range(n):
    t0 = time.perf_counter()
    os.write(fd, b"\xa0")
    b = b""
    while not b:
        b = os.read(fd, 1)
    t.append(time.perf_counter() - t0)
t.sort()
print(int(t[len(t) // 2] * 1e6))
PY
)

wall=() ; internal=() ; rt=0 ; chip=""
for i in $(seq 1 "$runs"); do
  t0=$(date +%s%N)
  out=$("$SD" info --json mtk "$pty")
  t1=$(date +%s%N)
  wall+=($(( (t1 - t0) / 1000 )))
  internal+=($(python3 -c 'import json,sys; print(json.load(sys.stdin)["elapsed_ms"])' <<<"$out"))
  rt=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["info"]["round_trips"])' <<<"$out")
  chip=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["answered_by"]["mode"], "/", d["answered_by"]["chip"])' <<<"$out")
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
wall_med=$(median "${wall[@]}")
int_med=$(median "${internal[@]}")
floor_us=$(( rt * rtt_us ))
echo "bench mtk: shakedown info against the simulated Preloader on a pty, $runs runs"
echo "  identified:             $chip"
echo "  round trips:            $rt (4 handshake + 7 read-only queries)"
echo "  pty round trip:         ${rtt_us} us (median of 200 one-byte exchanges)"
echo "  physical floor:         $(awk -v u="$floor_us" 'BEGIN{printf "%.2f", u/1000}') ms (round trips x pty round trip)"
echo "  shakedown (in-process): $([ "$int_med" -eq 0 ] && echo "<1" || echo "$int_med") ms median (open to report, elapsed_ms, whole ms)"
echo "  shakedown (process):    $(awk -v u="$wall_med" 'BEGIN{printf "%.2f", u/1000}') ms median (fork/exec to exit)"
echo "  ratio to the floor:     $(awk -v a="$wall_med" -v b="$floor_us" 'BEGIN{ if (b>0) printf "%.1fx", a/b; else print "n/a"}') (process)"
echo "  mtkclient:              not run (not installable here)"
