#!/usr/bin/env bash
# bench/tls_delay.sh — the three TLS servers of bench/tls.sh behind a
# delaying proxy (bench/delay_proxy.py: RTT/2 each way per chunk; the TCP
# connect is not delayed, so a probe costs one round trip here, not two),
# at 20 and 100 ms: wall time of shakedown's full diagnosis (enumeration,
# certificate, client fit), of its enumeration alone (--no-cert), and of
# sslscan and nmap ssl-enum-ciphers through the same proxy; one run each.
#
# usage: bench/tls_delay.sh [RTT_MS...]   (default 20 100; SHAKEDOWN=path,
#        PER_HOST=N for --per-host N)
set -u
cd "$(dirname "$0")/.."
SRCDIR=$PWD
SHAKEDOWN=${SHAKEDOWN:-$PWD/build/shakedown}
export SHAKEDOWN SRCDIR
[ -x "$SHAKEDOWN" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
. tests/peers/tls_common.bash
need sslscan nmap nginx
rtts=("$@")
[ ${#rtts[@]} -gt 0 ] || rtts=(20 100)

make_cert
read -r P12 PMOD PLEG <<<"$(free_port 3 | tr '\n' ' ')"
# All three in nginx, which serves connections at once as real servers do
# (openssl s_server takes one connection at a time: behind a delay it
# serializes any parallel scan, which then measures s_server, not the scan).
nginx_start "
  server {
    listen 127.0.0.1:$P12 ssl;
    ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2;
    ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA;
    ssl_prefer_server_ciphers on;
    return 200 \"ok\\n\";
  }
  server {
    listen 127.0.0.1:$PLEG ssl;
    ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1 TLSv1.1;
    ssl_ciphers ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA:@SECLEVEL=0;
    ssl_prefer_server_ciphers off;
    return 200 \"ok\\n\";
  }
  server {
    listen 127.0.0.1:$PMOD ssl;
    ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    return 200 \"ok\\n\";
  }
" || { echo "nginx did not start" >&2; exit 1; }
wait_port "$P12"; wait_port "$PLEG"; wait_port "$PMOD"

secs() { local t0=${EPOCHREALTIME/[.,]/}; "$@" >/dev/null 2>&1; python3 -c "print('%.2f' % ((${EPOCHREALTIME/[.,]/} - $t0) / 1e6))"; }
# the diagnosis once more, for what it says of itself: its connections and
# the longest chain of probes it made one after another (goal: 5)
chain() { "$SHAKEDOWN" tls --json --no-cert --no-client "${PH[@]}" "$1" 2>/dev/null |
  python3 -c 'import json,sys; d=json.load(sys.stdin); print("%d/%d" % (d["probes_in_a_row"], d["connections"]))'; }
PH=()
[ -n "${PER_HOST:-}" ] && PH=(--per-host "$PER_HOST")
echo "per-host: ${PER_HOST:-4 (default)}"
printf '%-6s %-7s %10s %10s %11s %9s %9s %14s %12s\n' rtt server diagnosis "--no-cert" "row/conns" sslscan nmap "sslscan/diag" "nmap/diag"
for rtt in "${rtts[@]}"; do
  for s in "tls12:$P12" "modern:$PMOD" "legacy:$PLEG"; do
    pp=$(free_port)
    "$PY" "$SRCDIR/bench/delay_proxy.py" "$pp" "${s#*:}" "$rtt" >"$TMP/proxy.$pp" 2>&1 &
    PIDS+=($!)
    wait_port "$pp"
    d=$(secs "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" "${PH[@]}" "127.0.0.1:$pp")
    n=$(secs "$SHAKEDOWN" tls --json --no-cert --no-client "${PH[@]}" "127.0.0.1:$pp")
    c=$(chain "127.0.0.1:$pp")
    ss=$(secs sslscan --no-colour "127.0.0.1:$pp")
    nm=$(secs nmap -n -Pn -sT -p "$pp" --script +ssl-enum-ciphers 127.0.0.1)
    printf '%-6s %-7s %9ss %9ss %11s %8ss %8ss %13sx %11sx\n' "${rtt}ms" "${s%%:*}" "$d" "$n" "$c" "$ss" "$nm" \
      "$(python3 -c "print('%.1f' % ($ss / $d))")" "$(python3 -c "print('%.1f' % ($nm / $d))")"
    kill "${PIDS[-1]}" 2>/dev/null
  done
done
