#!/usr/bin/env bash
# bench/stm32.sh — shakedown vs stm32flash against the same simulated STM32
# (`shakedown sim stm32` on a pty, stm32flash -m 8n1), in one run:
#   1. identification time (stm32flash PORT = identify and exit, vs
#      shakedown info stm32 PORT, which also reads 256 bytes of flash):
#      the ratio must be <= 1.0;
#   2. time to a verdict when the board runs its application ("hello world")
#      and when the line is silent: shakedown must name the cause < 1.5 s;
#   3. robustness over RUNS seeded runs each: BER 1e-4 and 1e-3 (on a pty
#      the fault link corrupts the host's bytes as the device reads them),
#      a 2 KiB text preamble before the loader's first ACK, a 0x00 glitch
#      before the ACK: success rates side by side;
#   4. the same faults in process (shakedown only: sim: targets put the
#      faults on the device's bytes, which a pty simulator cannot).
# Every measurement gets a freshly started simulator (a loader that was
# already synchronised would cost stm32flash its 0.5 s retry).
# usage: SHAKEDOWN=build/shakedown RUNS=50 bench/stm32.sh
set -u
SD=${SHAKEDOWN:-build/shakedown}
RUNS=${RUNS:-50}
REPS=${REPS:-21}
command -v stm32flash >/dev/null || { echo "bench/stm32.sh: needs stm32flash"; exit 77; }
export LC_ALL=C
TMP=$(mktemp -d)
SIM_PID=
stop_sim() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
  SIM_PID=
}
trap 'stop_sim; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
start_sim() {
  stop_sim
  # A fresh file: the old one still names the last simulator's pty until
  # the new process truncates it, and head could read it first.
  rm -f "$TMP/sim.out"
  "$SD" sim stm32 "$@" >"$TMP/sim.out" 2>/dev/null &
  SIM_PID=$!
  PTY=
  for _ in $(seq 1 200); do
    PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null); [ -n "$PTY" ] && return 0; sleep 0.01
  done
  echo "bench: the simulator did not start" >&2; exit 1
}
now_us() { echo $(( $(date +%s%N) / 1000 )); }
T=0
timed() { local t0; t0=$(now_us); "$@" >"$TMP/out" 2>&1; RC=$?; T=$(( $(now_us) - t0 )); }
sd_ok() { python3 -c "import json,sys; d=json.load(open('$TMP/out')); sys.exit(0 if d['ok'] and d['answered_by']['chip']=='STM32F1 medium-density' else 1)" 2>/dev/null; }
sd_cause() { python3 -c "import json; d=json.load(open('$TMP/out')); print(d['findings'][0]['cause'] if d['findings'] else '-')" 2>/dev/null; }
ms() { awk -v u="$1" 'BEGIN { printf "%.1f", u / 1000 }'; }

echo "# bench/stm32.sh: $("$SD" --version 2>/dev/null | head -1) vs stm32flash $(dpkg-query -W -f '${Version}' stm32flash 2>/dev/null || echo "(version unknown)"), $RUNS seeds"

# 1. identification time: interleaved runs on fresh simulators, median of
# each, timed in one python process (a shell's $(date) forks cost as much
# as the exchange being measured)
python3 - "$SD" "$REPS" <<'PY'
import statistics, subprocess, sys, time
sd, reps = sys.argv[1], int(sys.argv[2])
def fresh():
    p = subprocess.Popen([sd, "sim", "stm32"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    return p, p.stdout.readline().decode().strip()
# "stm32flash+read" does the same work as shakedown info (which also reads
# the first 256 bytes of flash): identify, then Read Memory of 256 bytes.
tools = {"stm32flash": lambda pty: ["stm32flash", "-m", "8n1", pty],
         "stm32flash+read": lambda pty: ["stm32flash", "-m", "8n1", "-S", "0x08000000:256",
                                         "-r", "/dev/null", pty],
         "shakedown": lambda pty: [sd, "info", "--json", "stm32", pty]}
t = {k: [] for k in tools}
for _ in range(reps):
    for k, argv in tools.items():
        p, pty = fresh()
        t0 = time.perf_counter()
        r = subprocess.run(argv(pty), capture_output=True, text=True)
        t[k].append(time.perf_counter() - t0)
        p.terminate(); p.wait()
        ok = ("0x0410" in r.stdout) if k.startswith("stm32flash") else '"chip":"STM32F1 medium-density"' in r.stdout
        if r.returncode != 0 or not ok:
            print(f"bench: {k} did not identify", file=sys.stderr)
a, b = statistics.median(t["shakedown"]), statistics.median(t["stm32flash"])
c = statistics.median(t["stm32flash+read"])
print(f"identify (median of {reps}): stm32flash {b*1000:.2f} ms, shakedown {a*1000:.2f} ms, "
      f"ratio {a/b:.2f} (must be <= 1.0)")
print(f"identify + read 256 B of flash, the same work: stm32flash {c*1000:.2f} ms, "
      f"shakedown {a*1000:.2f} ms, ratio {a/c:.2f}")
PY

# 2. time to a verdict
for m in app silent; do
  start_sim mode=$m; timed timeout 10 stm32flash -m 8n1 "$PTY"
  sfmsg=$(grep -m1 -i "fail" "$TMP/out"); sft=$T
  start_sim mode=$m; timed timeout 10 "$SD" sync --json stm32 "$PTY"
  echo "verdict, mode=$m: stm32flash $(ms $sft) ms (\"$sfmsg\"), shakedown $(ms $T) ms (cause $(sd_cause)) (must be < 1500 ms)"
done

# 3. robustness
printf '%-28s %12s %12s\n' "robustness ($RUNS seeds)" shakedown stm32flash
for sc in noise=0.0001 noise=0.001 preamble=2048 mode=glitch; do
  a=0 b=0
  for seed in $(seq 1 "$RUNS"); do
    start_sim "$sc" seed="$seed"
    timed timeout 20 "$SD" info --json stm32 "$PTY"; sd_ok && a=$((a + 1))
    start_sim "$sc" seed="$seed"
    timed timeout 20 stm32flash -m 8n1 "$PTY"
    [ "$RC" -eq 0 ] && grep -q "Device ID    : 0x0410" "$TMP/out" && b=$((b + 1))
  done
  printf '%-28s %11d%% %11d%%\n' "$sc" $((100 * a / RUNS)) $((100 * b / RUNS))
done

# 4. in process: faults on the device's bytes (virtual time)
printf '%-28s %12s\n' "in process ($RUNS seeds)" shakedown
for sc in noise=0.0001 noise=0.001 "flood=2048&flood_kind=text" mode=glitch; do
  a=0
  for seed in $(seq 1 "$RUNS"); do
    timed "$SD" info --json stm32 "sim:stm32?$sc&seed=$seed"; sd_ok && a=$((a + 1))
  done
  printf '%-28s %11d%%\n' "$sc" $((100 * a / RUNS))
done
