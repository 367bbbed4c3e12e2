#!/usr/bin/env bash
# shakedown tls against hostile servers (tests/cli/tls_hostile_server.py on
# 127.0.0.1): each case has its expected finding, a non-zero exit and a
# bounded run time. Also the usage errors of --sni, --alpn and --targets.
. "$(dirname "$0")/lib.sh"
command -v python3 >/dev/null || { echo "skip: python3 not installed"; exit 0; }

MODES="drip endless oversized giant zerolen garbage nullsuite unoffered silence reset"
# shellcheck disable=SC2086
python3 "$SRCDIR/tests/cli/tls_hostile_server.py" $MODES >"$TMP/srv.out" 2>"$TMP/srv.err" &
SIM_PID=$! # lib.sh's trap stops it
for _ in $(seq 100); do grep -q '^ready' "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
check "hostile server ready" grep -q '^ready' "$TMP/srv.out" || { cat "$TMP/srv.err"; finish; exit 1; }
port() { awk -v m="$1" '$1 == m { print $2 }' "$TMP/srv.out"; }

# hostile MODE MAX_MS [args...]: runs tls --json on MODE's port; $out, $rc,
# $ms (wall time), and a line with the time for the report
hostile() {
  local mode=$1 max=$2 t0
  shift 2
  t0=$(date +%s%N)
  run "$SHAKEDOWN" tls --json "$@" "127.0.0.1:$(port "$mode")"
  ms=$(( ($(date +%s%N) - t0) / 1000000 ))
  echo "# $mode $*: exit $rc in $ms ms"
  check "$mode $*: exit 1" [ "$rc" -eq 1 ]
  check "$mode $*: done in under $max ms" [ "$ms" -lt "$max" ]
  check "$mode $*: no alert that was never sent" bash -c '! grep -q close_notify <<<"$1"' _ "$out"
}
# expect CAUSE REGEX [PYEXPR]: the first finding has CAUSE and a summary
# matching REGEX (python's re), the report is not ok, and PYEXPR on the
# report d holds: one python run per case (python starts slowly here)
expect() {
  python3 -c 'import json, re, sys
d = json.load(sys.stdin); f = d["findings"][0]
good = f["cause"] == sys.argv[1] and re.search(sys.argv[2], f["summary"]) and not d["ok"] and eval(sys.argv[3])
if not good: print("got:", f["cause"], f["summary"])
sys.exit(0 if good else 1)' "$1" "$2" "${3:-True}" <<<"$out"
}

# a ServerHello a byte a second: one probe, cut by its own --wait (3 s,
# absolute), then the run ends; the finding says how many bytes and when
hostile drip 7000
check "drip: tls-timeout; bytes, --wait and the time measured" expect tls-timeout 'sent [1-4] bytes? of an answer.*--wait stopped the probe after (29[5-9][0-9]|3[0-9]{3}) ms'
hostile drip 2500 --wait 1000 --no-order
check "drip --wait 1000: stopped at 1 s" expect tls-timeout '--wait stopped the probe after (9[5-9][0-9]|1[0-9]{3}) ms'
run "$SHAKEDOWN" --timeout 1 tls --json "127.0.0.1:$(port drip)"
check "drip --timeout 1: exit 1" [ "$rc" -eq 1 ]
check "drip --timeout 1: the measured time and --timeout named" expect tls-timeout '--timeout stopped the probe after (9[5-9][0-9]|1[0-9]{3}) ms'

hostile endless 10000
check "endless: tls-protocol-violation; a buffer of records without a ServerHello" expect tls-protocol-violation 'without a ServerHello'
hostile oversized 10000
check "oversized record: tls-protocol-violation; its length named, in the JSON violations" \
  expect tls-protocol-violation 'claims 65535 bytes' "'record at byte 0' in d['violations'].get('TLSv1.3', '')"
hostile giant 10000
check "16 MiB handshake message: tls-protocol-violation; its length named" expect tls-protocol-violation 'claims 16777215 bytes'
hostile zerolen 10000
check "zero-length records: tls-protocol-violation; named" expect tls-protocol-violation 'empty record of type 22'
hostile garbage 10000
check "garbage after ServerHello: tls-protocol-violation; named" expect tls-protocol-violation 'after the ServerHello'
hostile nullsuite 10000
check "accepts every suite: tls-protocol-violation, not ok, no ok finding; NULL_WITH_NULL_NULL named" \
  expect tls-protocol-violation 'TLS_NULL_WITH_NULL_NULL' "all(g['cause'] != 'ok' for g in d['findings'])"
hostile unoffered 10000
check "a suite nobody offered: tls-protocol-violation; named" expect tls-protocol-violation 'did not offer'

hostile silence 7000
check "silence: silent; the time measured, --wait named" expect silent 'nothing came back in (29[5-9][0-9]|3[0-9]{3}) ms.*--wait'
run "$SHAKEDOWN" --timeout 1 tls --json "127.0.0.1:$(port silence)"
check "silence --timeout 1: exit 1" [ "$rc" -eq 1 ]
check "silence --timeout 1: 1 s measured, not 3000 ms" expect silent 'nothing came back in (9[5-9][0-9]|1[0-9]{3}) ms.*--timeout'
hostile reset 10000
check "reset: middlebox-reset; said so" expect middlebox-reset 'reset right after our ClientHello, without a byte'

# text: a broken version is "unknown", never "not offered"
run "$SHAKEDOWN" tls "127.0.0.1:$(port oversized)"
check "text: the broken version is unknown" grep -q "^TLSv1.3  unknown: the server broke the protocol" <<<"$out"
check "text: no close_notify" bash -c '! grep -q close_notify <<<"$1"' _ "$out"

# usage errors: exit 2 with one line, never exit 4
for bad in ",,," "h2,,x" "" "$(printf 'a%.0s' $(seq 300))" "$(printf 'ab,%.0s' $(seq 400))"; do
  run "$SHAKEDOWN" tls --alpn "$bad" 127.0.0.1:1
  check "--alpn '${bad:0:12}...': exit 2, one line" bash -c '[ "$1" -eq 2 ] && [ "$(printf "%s" "$2" | grep -c "")" -eq 1 ]' _ "$rc" "$err"
done
run "$SHAKEDOWN" tls --sni "$(printf 'a%.0s' $(seq 300))" 127.0.0.1:1
check "--sni of 300 bytes: exit 2, one line" bash -c '[ "$1" -eq 2 ] && [ "$(printf "%s" "$2" | grep -c "")" -eq 1 ]' _ "$rc" "$err"
run "$SHAKEDOWN" tls --targets "$TMP"
check "--targets DIR: exit 2" [ "$rc" -eq 2 ]
check "--targets DIR: says so" grep -q "is a directory" <<<"$err"
run "$SHAKEDOWN" tls --targets "$TMP/none"
check "--targets missing file: exit 3, one line" bash -c '[ "$1" -eq 3 ] && [ "$(printf "%s" "$2" | grep -c "")" -eq 1 ]' _ "$rc" "$err"
: >"$TMP/empty"
run "$SHAKEDOWN" tls --targets "$TMP/empty"
check "--targets empty file: exit 2" [ "$rc" -eq 2 ]
python3 -c "print('a' * 600)" >"$TMP/long"
run "$SHAKEDOWN" tls --targets "$TMP/long"
check "--targets line over 511 bytes: exit 2, the line named" bash -c '[ "$1" -eq 2 ] && grep -q "line 1 is longer" <<<"$2"' _ "$rc" "$err"
finish
