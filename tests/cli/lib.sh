# Shared helpers for the CLI shell tests (sourced). Each test file ends with
# the plain summary line "N passed, N failed" and exits non-zero on failure.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
export LC_ALL=C NO_COLOR=1
PASS=0
FAIL=0
TMP=$(mktemp -d)
SIM_PID=
trap '[ -n "$SIM_PID" ] && kill -TERM "$SIM_PID" 2>/dev/null; rm -rf "$TMP"' EXIT

ok()   { PASS=$((PASS + 1)); echo "ok - $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { # check "name" command...   (passes when the command succeeds;
  local name=$1; shift  # returns non-zero on failure, for `check ... || explain`)
  if "$@"; then ok "$name"; else bad "$name"; return 1; fi
}
# run CMD...: sets $out, $err, $rc (stdin closed; a hang is a failure)
run() {
  out=$(timeout 30 "$@" 2>"$TMP/err" </dev/null); rc=$?
  err=$(cat "$TMP/err")
}
lines() { printf '%s' "$1" | grep -c '' ; }
json() { # json 'python expression on d' <<< "$out"
  python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"
}
# start_sim KIND [key=value|-v ...]: `shakedown sim` in the background;
# sets SIM_PID and PTY (its first line of output), its stderr in $TMP/sim.err.
start_sim() {
  "$SHAKEDOWN" sim "$@" >"$TMP/sim.out" 2>"$TMP/sim.err" &
  SIM_PID=$!
  PTY=
  for _ in $(seq 1 100); do
    PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null)
    [ -n "$PTY" ] && return 0
    sleep 0.05
  done
  return 1
}
# stop_sim: SIGTERM, wait; its exit status in SIM_RC.
stop_sim() {
  kill -TERM "$SIM_PID" 2>/dev/null
  wait "$SIM_PID"
  SIM_RC=$?
  SIM_PID=
}
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}
