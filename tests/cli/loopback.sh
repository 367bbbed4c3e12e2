#!/usr/bin/env bash
# shakedown loopback on real ptys: a socat PIPE is a jumper from TX to RX
# (exit 0, every rate good); the echoing sim with noise corrupts bytes
# (exit 1, bit errors counted near the injected rate); the silent sim is
# no loop (exit 1, "not looped"); bad options are exit 2 with one line.
. "$(dirname "$0")/lib.sh"

SOCAT_PID=
trap '[ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null; [ -n "$SOCAT_PID" ] && kill -TERM "$SOCAT_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

# run with a bound of a few seconds (lib.sh's run allows 30)
run5() {
  out=$(timeout 5 "$@" 2>"$TMP/err" </dev/null); rc=$?
  err=$(cat "$TMP/err")
}

# ---- a looped pty: socat echoes every byte back ----------------------------
if command -v socat >/dev/null; then
  socat pty,raw,echo=0,link="$TMP/lp" PIPE 2>"$TMP/socat.err" &
  SOCAT_PID=$!
  for _ in $(seq 1 100); do [ -e "$TMP/lp" ] && break; sleep 0.05; done
  check "socat made the looped pty" [ -e "$TMP/lp" ]

  run5 "$SHAKEDOWN" loopback "$TMP/lp"
  check "socat loop: exit 0" [ "$rc" -eq 0 ] || printf '%s\n%s\n' "$out" "$err"
  check "socat loop: a row per rate, all good" \
    [ "$(grep -c ' good$' <<<"$out")" -ge 10 ]
  check "socat loop: no row is bad" bash -c '! grep -Eq " (errors|partial|none|foreign)$" <<<"$1"' _ "$out"
  check "socat loop: the verdict is adapter and cable good" grep -q "adapter and cable good" <<<"$out"
  check "socat loop: a pty has no modem lines, said so" grep -q "cannot test modem lines on this link" <<<"$out"
  check "socat loop: a pty has no parity, said so" grep -q "no parity" <<<"$out"

  run5 "$SHAKEDOWN" loopback --json --rates 9600,115200,921600 --bytes 4096 "$TMP/lp"
  check "socat loop --json: exit 0" [ "$rc" -eq 0 ]
  check "socat loop --json: ok, cause ok, 3 good passes, 0 bit errors" json '
    d["ok"] and d["command"] == "loopback" and d["findings"][0]["cause"] == "ok"
    and [p["result"] for p in d["loopback"]["passes"]] == ["good"] * 3
    and d["loopback"]["bit_errors"] == 0 and d["loopback"]["parity_tested"] is False
    and d["loopback"]["passes"][1]["baud"] == 115200 and d["loopback"]["passes"][1]["sent"] == 4096
    and d["loopback"]["modem_lines"]["test"] == "unsupported"
    and d["loopback"]["rtt_median_us"] is not None' <<<"$out"
  t0=$(date +%s%N)
  run5 "$SHAKEDOWN" loopback --timeout 1 "$TMP/lp"
  t1=$(date +%s%N)
  check "socat loop --timeout 1: exit 0 within the budget" \
    eval '[ "$rc" -eq 0 ] && [ $(( (t1 - t0) / 1000000 )) -lt 1500 ]'

  run5 "$SHAKEDOWN" probe --json "$TMP/lp"
  check "probe on the loop: echo, and the fix points to shakedown loopback" json '
    d["findings"][0]["cause"] == "echo" and "shakedown loopback" in d["findings"][0]["fix"]' <<<"$out"
  kill -TERM "$SOCAT_PID" 2>/dev/null; wait "$SOCAT_PID" 2>/dev/null; SOCAT_PID=
else
  bad "socat is not installed (scripts/deps.sh)"
fi

# ---- an echoing device whose line corrupts bytes ---------------------------
check "sim echo with noise starts" start_sim app mode=echo noise=2e-3 seed=7
run5 "$SHAKEDOWN" loopback --json --rates 115200,460800 --bytes 8192 "$PTY"
check "noisy echo: exit 1" [ "$rc" -eq 1 ] || printf '%s\n%s\n' "$out" "$err"
check "noisy echo: noise first, bit errors counted near 2e-3" json '
  not d["ok"] and d["findings"][0]["cause"] == "noise"
  and "bit errors" in d["findings"][0]["summary"]
  and all(p["result"] == "errors" for p in d["loopback"]["passes"])
  and 1.2e-3 < d["loopback"]["ber"] < 2.8e-3
  and d["loopback"]["passes"][0]["lost"] == 0' <<<"$out"
run5 "$SHAKEDOWN" loopback --rates 115200 "$PTY"
check "noisy echo, text: exit 1 and the fix names the cable or adapter" \
  eval '[ "$rc" -eq 1 ] && grep -q "cable or adapter bad" <<<"$out"'
stop_sim

# ---- nothing looped: a silent device ----------------------------------------
check "sim silent starts" start_sim app mode=silent
t0=$(date +%s%N)
run5 "$SHAKEDOWN" loopback "$PTY"
t1=$(date +%s%N)
check "silent: exit 1" [ "$rc" -eq 1 ]
check "silent: not looped, and what to do" \
  eval 'grep -q "TX is not looped to RX" <<<"$out" && grep -q "put a jumper from TX to RX" <<<"$out"'
check "silent: done within 2 s" [ $(( (t1 - t0) / 1000000 )) -lt 2000 ]
stop_sim

# ---- a device printing text: not ours --------------------------------------
check "sim app (text) starts" start_sim app 'text=hello world\r\n' period_ms=10
run5 "$SHAKEDOWN" loopback --json --rates 115200 "$PTY"
check "text device: exit 1" [ "$rc" -eq 1 ]
check "text device: not ours" json '
  d["findings"][0]["cause"] == "app-running" and "not ours" in d["findings"][0]["summary"]' <<<"$out"
stop_sim

# ---- usage and open errors -------------------------------------------------
run5 "$SHAKEDOWN" loopback
check "no target: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
run5 "$SHAKEDOWN" loopback --rates 9600,fast /dev/null
check "bad --rates: exit 2, one line naming it" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ] && grep -q fast <<<"$err"'
run5 "$SHAKEDOWN" loopback --parity evens /dev/null
check "bad --parity: exit 2, one line naming it" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ] && grep -q evens <<<"$err"'
run5 "$SHAKEDOWN" loopback --bytes 0 /dev/null
check "bad --bytes: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
run5 "$SHAKEDOWN" loopback --seed -1 /dev/null
check "bad --seed: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
run5 "$SHAKEDOWN" loopback --frobnicate /dev/null
check "unknown option: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
run5 "$SHAKEDOWN" loopback --rates
check "--rates without a value: exit 2, one line" eval '[ "$rc" -eq 2 ] && [ "$(lines "$err")" -eq 1 ]'
run5 "$SHAKEDOWN" loopback /dev/does-not-exist
check "missing port: exit 3" [ "$rc" -eq 3 ]
run5 "$SHAKEDOWN" loopback --help
check "--help: exit 0, names the jumper" eval '[ "$rc" -eq 0 ] && grep -q "jumper from TX to RX" <<<"$out"'

finish
