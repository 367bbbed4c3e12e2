# Shared helpers for the CLI shell tests (sourced). Each test file ends with
# the plain summary line "N passed, N failed" and exits non-zero on failure.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
export LC_ALL=C NO_COLOR=1
PASS=0
FAIL=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

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
finish() {
  echo "$PASS passed, $FAIL failed"
  [ "$FAIL" -eq 0 ]
}
