#!/usr/bin/env bash
# replay re-runs what a trace recorded: for each command below, record with
# --trace, replay, and the re-derived verdict (exit code, first cause) is the
# live one and agrees; a tampered trace does not agree; an old trace (no run
# record) is still classified; binary input ends at once, memory bounded.
. "$(dirname "$0")/lib.sh"

first_cause() { # the first finding's cause in the JSON on stdin, or "none"
  python3 -c 'import json,sys; d=json.load(sys.stdin); f=d["findings"]; print(f[0]["cause"] if f else "none")'
}

i=0
while IFS= read -r cmd; do
  i=$((i + 1))
  # shellcheck disable=SC2086 # the command's words
  eval "set -- $cmd"
  run "$SHAKEDOWN" --json --trace "$TMP/r$i.jsonl" "$@"
  live_rc=$rc
  live_cause=$(first_cause <<<"$out")
  run "$SHAKEDOWN" --json replay "$TMP/r$i.jsonl"
  check "$cmd: replay exits $live_rc as the live run did (got $rc)" [ "$rc" -eq "$live_rc" ]
  check "$cmd: same first cause ($live_cause)" [ "$(first_cause <<<"$out")" = "$live_cause" ]
  check "$cmd: re-run, agrees, no divergence" json 'd["replayed"]["rerun"] and d["replayed"]["agrees"] is True and d["replayed"]["diverged_at"] is None and d["replayed"]["command"] == "'"$1"'"' <<<"$out"
  check "$cmd: the recorded verdict is in the trace" json 'd["replayed"]["recorded_ok"] == ('"$live_rc"' == 0)' <<<"$out"
  run "$SHAKEDOWN" replay --trace "$TMP/r$i.again" "$TMP/r$i.jsonl"
  check "$cmd: replay --trace re-emits the file byte for byte" cmp -s "$TMP/r$i.jsonl" "$TMP/r$i.again"
  check "$cmd: text says it agrees" grep -q "agrees with the recording" <<<"$out"
done <<'EOF'
sync stk500 sim:stk500
info stk500 sim:stk500
sync stk500 'sim:stk500?mode=app'
info stm32 sim:stm32
info stm32 'sim:stm32?mode=rdp'
sync mtk 'sim:mtk?mode=preloader'
info mtk sim:mtk
sync --retries 1 --enter 'dtr:pulse-low:20ms,50ms' stk500 'sim:stk500?mode=app'
EOF
run "$SHAKEDOWN" --json --trace "$TMP/fail.jsonl" sync stk500 'sim:stk500?mode=app'
check "the failing case fails live (exit 1)" [ "$rc" -eq 1 ]

# A real-time trace: the device served on a pty (no modem lines; times
# from the real clock, replayed within the link's slack).
if start_sim stk500; then
  run "$SHAKEDOWN" --json --trace "$TMP/pty.jsonl" info stk500 "$PTY"
  live_rc=$rc
  run "$SHAKEDOWN" --json replay "$TMP/pty.jsonl"
  check "pty trace: replay exits $live_rc as live (got $rc)" [ "$rc" -eq "$live_rc" ]
  check "pty trace: agrees" json 'd["replayed"]["agrees"] is True' <<<"$out"
  stop_sim
else
  bad "pty trace: shakedown sim did not start"
fi

# Time moves in an in-process STM32 trace (it once read t = 0 throughout):
# never backwards, and every answer comes after the request it answers.
"$SHAKEDOWN" --trace "$TMP/stm32.jsonl" info stm32 sim:stm32 >/dev/null 2>&1
check "stm32 trace: t increases" python3 - "$TMP/stm32.jsonl" <<'EOF'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])][1:]
ts = [r["t"] for r in recs]
assert all(a <= b for a, b in zip(ts, ts[1:])), ts
assert ts[-1] > 0, ts
last_tx = None
for r in recs:
    if "tx" in r: last_tx = r["t"]
    if "rx" in r and last_tx is not None: assert r["t"] > last_tx, (r, last_tx)
assert len(set(ts)) > 5, ts
EOF

# A tampered trace: the STK500 answer 14 10 becomes 14 11.
python3 - "$TMP/r1.jsonl" "$TMP/tampered.jsonl" <<'EOF'
import sys
s = open(sys.argv[1]).read()
assert '"rx":"1410"' in s
open(sys.argv[2], "w").write(s.replace('"rx":"1410"', '"rx":"1411"', 1))
EOF
run "$SHAKEDOWN" --json replay "$TMP/tampered.jsonl"
check "tampered: exit 1" [ "$rc" -eq 1 ]
check "tampered: does not agree, recorded ok" json 'd["replayed"]["agrees"] is False and d["replayed"]["recorded_ok"] is True and d["ok"] is False and isinstance(d["replayed"]["diverged_at"], int)' <<<"$out"
check "tampered: one line says so" [ "$(grep -c 'does not agree' <<<"$err")" -eq 1 ]
grep -q "recorded: ok; replayed: " <<<"$err" && ok "tampered: names both verdicts" || bad "tampered: names both verdicts ($err)"

# An old trace (no run record, as tests/cli/probe.sh wrote them): classified.
cat >"$TMP/old.jsonl" <<'EOF'
{"shakedown_trace":1,"target":"sim:app?text=hello","version":"0.1.0"}
{"t":0,"open":"sim:app?text=hello"}
{"t":0,"rx":"68656c6c6f"}
{"t":100000,"rx":"68656c6c6f"}
{"t":200000,"rx":"68656c6c6f"}
EOF
run "$SHAKEDOWN" --json replay "$TMP/old.jsonl"
check "old trace: exit 0 (classified, as before)" [ "$rc" -eq 0 ]
check "old trace: classified, says why" json 'd["replayed"]["rerun"] is False and "no run record" in d["replayed"]["fallback"] and d["replayed"]["agrees"] is None and d["findings"][0]["cause"] == "app-running"' <<<"$out"
run "$SHAKEDOWN" replay "$TMP/old.jsonl"
check "old trace: text says it was not re-run" grep -q "not re-run: no run record" <<<"$out"

# Binary and endless input: one line, exit 2, at once, memory bounded.
# (peak RSS of the child from getrusage: no GNU time needed)
measure() { # measure CMD...: sets $rc, $err, $rss (KiB), $ms
  python3 - "$@" >"$TMP/m" 2>"$TMP/err" <<'PY'
import resource, subprocess, sys, time
t = time.monotonic()
try:
    p = subprocess.run(sys.argv[1:], stdin=subprocess.DEVNULL, capture_output=True, timeout=30)
    rc = p.returncode
    sys.stderr.write(p.stderr.decode(errors="replace"))
except subprocess.TimeoutExpired:
    rc = 124
print(rc, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, int((time.monotonic() - t) * 1000))
PY
  read -r rc rss ms <"$TMP/m"
  err=$(cat "$TMP/err")
}
for f in /dev/zero /dev/urandom; do
  measure "$SHAKEDOWN" replay "$f"
  check "$f: exit 2" [ "$rc" -eq 2 ]
  check "$f: one line ($err)" [ "$(lines "$err")" -eq 1 ]
  check "$f: ends at once (${ms} ms)" [ "$ms" -lt 5000 ]
  check "$f: memory bounded (${rss} KiB peak)" [ "$rss" -lt 300000 ]
done
# A line longer than 4 MiB, without a NUL: refused with its line number.
python3 -c 'import sys; sys.stdout.write("{\"shakedown_trace\":1,\"target\":\"x\",\"version\":\"0\"}\n{\"t\":0,\"note\":\"" + "a" * (5 << 20))' >"$TMP/long.jsonl"
run "$SHAKEDOWN" replay "$TMP/long.jsonl"
check "long line: exit 2" [ "$rc" -eq 2 ]
check "long line: names line 2 and the limit" grep -q "long.jsonl:2: line longer than 4 MiB" <<<"$err"
# More than 64 MiB in all (lines of nearly 4 MiB, on standard input): refused.
python3 - 2>/dev/null <<'EOF' | timeout 60 "$SHAKEDOWN" replay --quiet - >/dev/null 2>"$TMP/err"
import sys
sys.stdout.write('{"shakedown_trace":1,"target":"x","version":"0"}\n')
line = '{"t":0,"note":"' + "a" * ((4 << 20) - 20) + '"}\n'
try:
    for i in range(40):
        sys.stdout.write(line)
except BrokenPipeError:
    pass
EOF
rc=${PIPESTATUS[1]}
check "more than 64 MiB: exit 2 (got $rc)" [ "$rc" -eq 2 ]
check "more than 64 MiB: one line naming the limit" grep -q "^shakedown replay: -:17: larger than 64 MiB$" "$TMP/err"
run "$SHAKEDOWN" replay "$TMP/does-not-exist.jsonl"
check "missing file: exit 3" [ "$rc" -eq 3 ]

finish
