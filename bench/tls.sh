#!/usr/bin/env bash
# bench/tls.sh — shakedown tls against sslscan and nmap ssl-enum-ciphers (and
# testssl.sh -p -E with --slow), on the same local servers, in one run:
# wall time (median of 21 runs for shakedown, 3 for the peers) and TCP
# connections per server, with ratios; then
# the probe rate against one local server and --targets over 100 endpoints.
#
# usage: bench/tls.sh [--slow]      (SHAKEDOWN=path, default build/shakedown)
#
# Connections are counted as the change of the kernel's TCP ActiveOpens
# counter (/proc/net/snmp) across the first run of each tool: exact on a
# quiet machine; other processes opening connections at the same time add
# to it. nmap runs as a connect scan (-sT), so its port scan counts as one.
set -u
cd "$(dirname "$0")/.."
SRCDIR=$PWD
SHAKEDOWN=${SHAKEDOWN:-$PWD/build/shakedown}
export SHAKEDOWN SRCDIR
slow=0
[ "${1:-}" = "--slow" ] && slow=1
[ -x "$SHAKEDOWN" ] || { echo "build first: cmake -S . -B build && cmake --build build" >&2; exit 2; }
. tests/peers/tls_common.bash
need sslscan nmap nginx socat

make_cert
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$TMP/dh.pem" >/dev/null 2>&1
read -r P12 PMOD PLEG PHTTP PSMTP <<<"$(free_port 5 | tr '\n' ' ')"
s_server "$P12" -tls1_2 -serverpref -cipher 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA'
s_server "$PLEG" -min_protocol TLSv1 -max_protocol TLSv1.1 -cipher 'ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA:@SECLEVEL=0'
many=$(free_port 100)
listens=""
for p in $many; do listens+="listen 127.0.0.1:$p ssl; "; done
nginx_start "
  server {
    listen 127.0.0.1:$PMOD ssl; $listens
    ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem; ssl_dhparam $TMP/dh.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    return 200 \"ok\\n\";
  }
  server { listen 127.0.0.1:$PHTTP; return 200 \"plain\\n\"; }
" || { echo "nginx did not start" >&2; exit 1; }
printf '%s\n' "printf '220 localhost ESMTP\\r\\n'" "while read -r l; do printf '500 unknown\\r\\n'; done" >"$TMP/smtp.sh"
socat "TCP-LISTEN:$PSMTP,bind=127.0.0.1,reuseaddr,fork" "EXEC:bash $TMP/smtp.sh" >/dev/null 2>&1 &
PIDS+=($!)
for p in "$PMOD" "$PHTTP" "$PSMTP"; do wait_port "$p"; done

active_opens() { awk '/^Tcp:/ { if (h) print $6; h = 1 }' /proc/net/snmp; }
now_ns() { local t=${EPOCHREALTIME/[.,]/}; echo "${t}000"; } # no fork: bash 5
# measure TOOL PORT: prints "median_seconds connections". shakedown runs 21
# times (a run is ~10 ms, so 3 runs would be at the mercy of one scheduler
# hiccup), the peers 3 times (they take 0.2-1.7 s a run).
measure() {
  local tool=$1 port=$2 times=() conns=0 runs=3
  case $tool in shakedown*) runs=21 ;; esac
  for i in $(seq "$runs"); do
    local a t0 t1
    a=$(active_opens); t0=${EPOCHREALTIME/[.,]/}000
    case $tool in
      shakedown) "$SHAKEDOWN" tls --json "127.0.0.1:$port" >/dev/null 2>&1 ;;
      shakedown-ng) "$SHAKEDOWN" tls --json --no-groups "127.0.0.1:$port" >/dev/null 2>&1 ;;
      sslscan) sslscan --no-colour "127.0.0.1:$port" >/dev/null 2>&1 ;;
      nmap) nmap -n -Pn -sT -p "$port" --script +ssl-enum-ciphers 127.0.0.1 >/dev/null 2>&1 ;;
      testssl) testssl.sh -p -E -n none --warnings batch "127.0.0.1:$port" >/dev/null 2>&1 ;;
    esac
    t1=${EPOCHREALTIME/[.,]/}000
    [ "$i" -eq 1 ] && conns=$(( $(active_opens) - a ))
    times+=("$(( (t1 - t0) / 1000 ))")
  done
  local med
  med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (runs + 1) / 2 ))p")
  printf '%s %s\n' "$(python3 -c "print('%.4f' % ($med / 1e6))")" "$conns"
}

tools=(shakedown shakedown-ng sslscan nmap)
[ "$slow" -eq 1 ] && command -v testssl.sh >/dev/null && tools+=(testssl)
servers=("tls12:$P12" "modern:$PMOD" "legacy:$PLEG" "http:$PHTTP" "smtp:$PSMTP")
declare -A T C
for s in "${servers[@]}"; do
  for t in "${tools[@]}"; do
    read -r T["$s/$t"] C["$s/$t"] <<<"$(measure "$t" "${s#*:}")"
  done
done

echo "wall time s (median: shakedown of 21 runs, peers of 3) / connections; shakedown-ng = --no-groups"
printf '%-8s' server; for t in "${tools[@]}"; do printf ' %16s' "$t"; done
printf ' %14s %14s\n' "sslscan/ours" "nmap/ours"
for s in "${servers[@]}"; do
  printf '%-8s' "${s%%:*}"
  for t in "${tools[@]}"; do printf ' %9s / %4s' "${T[$s/$t]}" "${C[$s/$t]}"; done
  python3 -c "
o=max(float('${T[$s/shakedown]}'),1e-4)
print(' %13.0fx %13.0fx' % (float('${T[$s/sslscan]}')/o, float('${T[$s/nmap]}')/o))"
done

# The issue's connection budget: N + 2V, N = accepted (version, suite)
# pairs, V = 5 versions probed (SSLv3 .. TLS 1.3), with and without groups.
echo
echo "connections against N + 2V (N from shakedown's own JSON, V = 5):"
printf '  %-8s %4s %7s %10s %8s\n' server N budget "w/ groups" "ng"
for s in "${servers[@]}"; do
  n=$("$SHAKEDOWN" tls --json "127.0.0.1:${s#*:}" 2>/dev/null |
      python3 -c 'import json,sys; d=json.load(sys.stdin); print(sum(len(v["suites"]) for v in d["versions"].values()))')
  b=$(( n + 2 * 5 ))
  printf '  %-8s %4s %7s %6s %-3s %4s %s\n' "${s%%:*}" "$n" "$b" "${C[$s/shakedown]}" \
    "$([ "${C[$s/shakedown]}" -le "$b" ] && echo ok || echo over)" "${C[$s/shakedown-ng]}" \
    "$([ "${C[$s/shakedown-ng]}" -le "$b" ] && echo ok || echo over)"
done

# What bounds our wall time where it is not our work: starting any process
# from this shell, the server's own answer latency (plaintext ports; no
# process started, bash's /dev/tcp), and the CPU the single-worker nginx
# spends per enumeration (utime+stime of the worker, /proc/PID/stat).
spawn_us() { # spawn_us CMD...: median of 21 runs, microseconds
  local ts=()
  for _ in $(seq 21); do
    local t0=${EPOCHREALTIME/[.,]/}; "$@" >/dev/null 2>&1; ts+=($(( ${EPOCHREALTIME/[.,]/} - t0 )))
  done
  printf '%s\n' "${ts[@]}" | sort -n | sed -n 11p
}
first_answer_us() { # first_answer_us PORT: connect, send a line, read one line back; median of 21
  local ts=() line
  for _ in $(seq 21); do
    local t0=${EPOCHREALTIME/[.,]/}
    exec 3<>"/dev/tcp/127.0.0.1/$1"; printf 'X\r\n\r\n' >&3; read -r -t 3 line <&3; exec 3<&-
    ts+=($(( ${EPOCHREALTIME/[.,]/} - t0 )))
  done
  printf '%s\n' "${ts[@]}" | sort -n | sed -n 11p
}
ng_worker=$(cat "/proc/$(cat "$TMP/ng/nginx.pid")/task/$(cat "$TMP/ng/nginx.pid")/children" | awk '{print $1}')
ng_cpu_us() { awk '{ print ($14 + $15) * 10000 }' "/proc/$ng_worker/stat"; } # 100 ticks/s
c0=$(ng_cpu_us); t0=${EPOCHREALTIME/[.,]/}
for _ in $(seq 50); do "$SHAKEDOWN" tls --json "127.0.0.1:$PMOD" >/dev/null 2>&1; done
ng_wall=$(( (${EPOCHREALTIME/[.,]/} - t0) / 50 )); ng_cpu=$(( ($(ng_cpu_us) - c0) / 50 ))
sp_true=$(spawn_us /bin/true); sp_us=$(spawn_us "$SHAKEDOWN" --version); sp_ssl=$(spawn_us sslscan --version)
fa_http=$(first_answer_us "$PHTTP"); fa_smtp=$(first_answer_us "$PSMTP")
echo
echo "floors (microseconds, median of 21):"
echo "  start a process from this shell: /bin/true $sp_true, shakedown --version $sp_us, sslscan --version $sp_ssl"
echo "  first answer of the server, no process: http $fa_http, smtp $fa_smtp (socat forks bash per connection)"
python3 -c "
for n, s, fa in (('http', float('${T["http:$PHTTP/sslscan"]}'), $fa_http), ('smtp', float('${T["smtp:$PSMTP/sslscan"]}'), $fa_smtp)):
    print('  %s: best ratio any client started from the shell can reach vs sslscan = %.3f s / (%d + %d us) = %.1fx' % (n, s, $sp_true, fa, s / (($sp_true + fa) / 1e6)))"
echo "  modern: nginx worker CPU per enumeration $ng_cpu us (50 runs, wall $ng_wall us each): the floor is about start + server CPU"

# Probe rate on one server: repeated enumerations for ~2 s each.
rate() { # rate PORT ARGS...: prints probes per second (connections / wall time)
  local port=$1; shift
  local a t0 t1 n=0
  a=$(active_opens); t0=${EPOCHREALTIME/[.,]/}000
  while [ $(( ${EPOCHREALTIME/[.,]/}000 - t0 )) -lt 2000000000 ]; do
    "$SHAKEDOWN" tls --json "$@" "127.0.0.1:$port" >/dev/null 2>&1; n=$((n + 1))
  done
  t1=${EPOCHREALTIME/[.,]/}000
  python3 -c "print('%.0f probes/s (%d runs, %d connections)' % (($(active_opens) - $a) / (($t1 - $t0) / 1e9), $n, $(active_opens) - $a))"
}
echo
echo "probe rate = connections / wall time of the runs above (one process, versions in parallel):"
for s in "${servers[@]}"; do
  python3 -c "print('  %-7s %6.0f probes/s' % ('${s%%:*}', ${C[$s/shakedown]} / max(float('${T[$s/shakedown]}'), 1e-4)))"
done
echo "probe rate in a loop of whole runs (includes ~2 ms of process start-up per run):"
echo "  nginx TLS 1.2, 6 accepted + 1 refused per run: $(rate "$PMOD" --versions 1.2 --no-order --no-groups)"
echo "  nginx TLS 1.1, 1 refused per run:             $(rate "$PMOD" --versions 1.1 --no-order --no-groups)"

# --targets over 100 endpoints (one nginx, 100 ports).
for p in $many; do echo "127.0.0.1:$p"; done >"$TMP/targets"
a=$(active_opens); t0=$(now_ns)
"$SHAKEDOWN" tls --targets "$TMP/targets" >"$TMP/targets.out" 2>/dev/null
t1=$(now_ns)
n=$(grep -c '"ok":true' "$TMP/targets.out")
python3 -c "print('--targets: %d/100 endpoints ok in %.3f s (%.0f endpoints/s, %d connections; --jobs 16, --per-host 4)' % ($n, ($t1 - $t0) / 1e9, 100 / (($t1 - $t0) / 1e9), $(active_opens) - $a))"
