#!/usr/bin/env bash
# Middleboxes written for the test (tests/peers/tls_middlebox_proxy.py) in
# front of openssl s_server: one resets hellos that carry a given SNI, one
# stalls hellos over 512 bytes, one answers hellos with ALPN with an alert.
# shakedown must name what each keys on, with the outcomes side by side,
# and never say ok.
. "$(dirname "$0")/tls_common.bash"
make_cert
up=$(free_port)
s_server "$up" || { bad "s_server started"; finish; exit; }
"$PY" "$SRCDIR/tests/peers/tls_middlebox_proxy.py" "$up" reset-sni:blocked.example stall-big alert-alpn >"$TMP/mb.out" 2>"$TMP/mb.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^ready' "$TMP/mb.out" 2>/dev/null && break; sleep 0.05; done
check "middleboxes ready" grep -q '^ready' "$TMP/mb.out" || { cat "$TMP/mb.err"; finish; exit 1; }
port() { awk -v m="$1" '$1 == m { print $2 }' "$TMP/mb.out"; }
mb() { local mode=$1; shift; out=$(timeout 90 "$SHAKEDOWN" tls --json --no-cert --wait 1000 "$@" "127.0.0.1:$(port "$mode")"); rc=$?; }
has() { # has CAUSE REGEX: a finding of CAUSE whose summary matches
  python3 -c 'import json, re, sys
d = json.load(sys.stdin)
ok = any(f["cause"] == sys.argv[1] and re.search(sys.argv[2], f["summary"]) for f in d["findings"])
if not ok: print("got:", [(f["cause"], f["summary"]) for f in d["findings"]][:3])
sys.exit(0 if ok and not d["ok"] else 1)' "$1" "$2" <<<"$out"
}

mb reset-sni:blocked.example --sni blocked.example
check "SNI filter: exit 1" [ "$rc" -eq 1 ]
check "SNI filter: drops hellos that carry the server name, side by side" \
  has middlebox-reset 'drops hellos that carry the server name: the hello with it gets a reset, the same hello without SNI gets a ServerHello'
check "SNI filter: the outcomes listed" json 'any("without SNI" in l for f in d["findings"] for l in f.get("detail", []))' <<<"$out"
mb reset-sni:blocked.example --sni other.example
check "SNI filter, another name: passes (exit 0)" [ "$rc" -eq 0 ]

mb stall-big
check "size filter: exit 1, never ok" [ "$rc" -eq 1 ]
check "size filter: drops hellos over 512 bytes" has middlebox-size 'drops hellos that are over 512 bytes: over 512 bytes \([0-9]+ bytes\) gets silence'

mb alert-alpn --alpn h2,http/1.1
check "ALPN filter: exit 1" [ "$rc" -eq 1 ]
check "ALPN filter: hellos that offer ALPN get an alert" has middlebox-reset 'drops hellos that offer ALPN h2,http/1.1: with ALPN .* gets the alert handshake_failure'
finish
