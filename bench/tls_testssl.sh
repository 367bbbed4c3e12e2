#!/usr/bin/env bash
# bench/tls_testssl.sh — issue 12's "time to a full diagnosis" figure:
# `shakedown tls` (enumeration, certificate, the default client's fit) next
# to testssl.sh's default run (Debian's testssl.sh package) on the same
# local server, one run each (testssl.sh takes minutes), and the ratio.
# The server: openssl s_server, TLS 1.2 only, a self-signed certificate for
# CN=localhost probed by address (so both tools have a finding to make).
# usage: bench/tls_testssl.sh   (SHAKEDOWN=path; apt-get install testssl.sh)
set -u
cd "$(dirname "$0")/.."
SD=${SHAKEDOWN:-$PWD/build/shakedown}
[ -x "$SD" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
command -v testssl >/dev/null || { echo "testssl.sh not installed (apt-get install testssl.sh)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'kill $SS 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"' EXIT
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/k.pem" -out "$TMP/c.pem" -days 30 -subj /CN=localhost 2>/dev/null
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
openssl s_server -accept "$PORT" -cert "$TMP/c.pem" -key "$TMP/k.pem" -tls1_2 -www -quiet >/dev/null 2>&1 &
SS=$!
sleep 0.5
t() { local s e; s=$(date +%s.%N); "$@" >"$TMP/out" 2>&1; e=$(date +%s.%N); python3 -c "print(round($e - $s, 3))"; }
sd=$(t "$SD" tls --ca "$TMP/c.pem" "127.0.0.1:$PORT")
first=$(grep -m1 -E '^ 1\. ' "$TMP/out")
ts=$(t testssl --quiet --color 0 "127.0.0.1:$PORT")
echo "server: openssl s_server -tls1_2 (self-signed CN=localhost, probed by address)"
echo "shakedown tls (full diagnosis)  ${sd} s   first finding: ${first# }"
echo "testssl.sh (default run)        ${ts} s"
python3 -c "print('ratio (testssl / shakedown): %.0fx' % ($ts / max($sd, 0.001)))"
