# Shared by the tests/peers/tls_*.sh scripts (sourced; not a test itself).
# Servers run on 127.0.0.1 only, on free ports, with a throw-away certificate,
# and are always killed on exit (trap). Exit 77 = skip when a peer is absent.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
: "${SRCDIR:?set SRCDIR to the source tree}"
export LC_ALL=C NO_COLOR=1
need() { for t in "$@"; do command -v "$t" >/dev/null 2>&1 || { echo "skip: $t not installed"; exit 77; }; done; }
need openssl python3 timeout
# Debian's interpreter where there is one (its packages: python3-serial,
# python3-cryptography; and a pyenv shim costs 0.7 s a call here). A server
# started in the background must be "$PY" itself, so that $! is the
# server's pid and the cleanup ends it (the python3 function runs in a
# subshell of its own)
PY=$([ -x /usr/bin/python3 ] && echo /usr/bin/python3 || type -P python3)
python3() { "$PY" "$@"; }
PASS=0
FAIL=0
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  if [ -f "$TMP/ng/nginx.pid" ]; then kill "$(cat "$TMP/ng/nginx.pid")" 2>/dev/null; fi
  wait 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
ok()   { PASS=$((PASS + 1)); echo "ok - $*"; }
bad()  { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

# A free port below the ephemeral range, so that the many client connections
# of parallel tests (which take ephemeral ports) cannot be sitting on it.
# free_port [N]: N such ports (default 1), one a line.
free_port() {
  python3 - "${1:-1}" <<'PY'
import random, socket, sys
lo = int(open("/proc/sys/net/ipv4/ip_local_port_range").read().split()[0])
want, got = int(sys.argv[1]), set()
while len(got) < want:
    p = random.randrange(10000, max(lo, 10001))
    s = socket.socket()
    try:
        s.bind(("127.0.0.1", p))
        got.add(p)
    except OSError:
        pass
    finally:
        s.close()
print("\n".join(map(str, sorted(got))))
PY
}
make_cert() {
  openssl req -x509 -newkey rsa:2048 -nodes -keyout "$TMP/key.pem" -out "$TMP/cert.pem" -days 30 \
    -subj /CN=localhost -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" >/dev/null 2>&1
}
wait_port() { # wait_port PORT: until something listens (5 s at most)
  for _ in $(seq 100); do
    if python3 -c 'import socket,sys; socket.create_connection(("127.0.0.1",int(sys.argv[1])),0.2).close()' "$1" 2>/dev/null; then
      return 0
    fi
    sleep 0.05
  done
  return 1
}
# s_server PORT ARGS...: openssl s_server in the background
s_server() {
  local port=$1; shift
  openssl s_server -accept "127.0.0.1:$port" -cert "$TMP/cert.pem" -key "$TMP/key.pem" -www -quiet "$@" \
    >"$TMP/s_server.$port.log" 2>&1 </dev/null &
  PIDS+=($!)
  wait_port "$port"
}
# nginx_start CONF_BODY: a private nginx (temp prefix, pid and logs in $TMP/ng)
nginx_start() {
  need nginx
  mkdir -p "$TMP/ng/logs" "$TMP/ng/tmp"
  cat >"$TMP/ng/nginx.conf" <<NGX
worker_processes 1;
pid $TMP/ng/nginx.pid;
error_log $TMP/ng/logs/error.log;
daemon on;
events { worker_connections 256; }
http {
  access_log off;
  client_body_temp_path $TMP/ng/tmp; proxy_temp_path $TMP/ng/tmp; fastcgi_temp_path $TMP/ng/tmp;
  uwsgi_temp_path $TMP/ng/tmp; scgi_temp_path $TMP/ng/tmp;
  $1
}
NGX
  if ! nginx -p "$TMP/ng" -c "$TMP/ng/nginx.conf" -e "$TMP/ng/logs/error.log" >"$TMP/ng/start.log" 2>&1; then
    cat "$TMP/ng/start.log" "$TMP/ng/logs/error.log" 2>/dev/null | tail -5
    return 1
  fi
}
# compare_with_scanners PORT NAME: our (version, suite) set must equal sslscan's
# and nmap ssl-enum-ciphers'; our order verdict must equal nmap's.
# versions_as_s_client NAME JSON PORT S_CLIENT_ARGS...: the versions in our
# JSON must be those openssl s_client with these arguments (-starttls ...)
# negotiates, one version at a time (the Protocol line is printed for a
# failed try too: the cipher tells).
versions_as_s_client() {
  local name=$1 out=$2 port=$3 want="" v; shift 3
  for v in tls1:TLSv1.0 tls1_1:TLSv1.1 tls1_2:TLSv1.2 tls1_3:TLSv1.3; do
    if echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" "$@" "-${v%%:*}" \
         -cipher DEFAULT:@SECLEVEL=0 2>&1 | grep -q 'Cipher is [A-Z]'; then
      want+="${v##*:} "
    fi
  done
  check "$name: our versions = s_client $*'s ($want)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if sorted(d["versions"]) == sorted(sys.argv[2].split()) and sys.argv[2].strip() else 1)' "$out" "$want"
}
compare_with_scanners() {
  local port=$1 name=$2
  timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" "127.0.0.1:$port" >"$TMP/ours.json" 2>"$TMP/ours.err"
  if command -v sslscan >/dev/null 2>&1; then
    timeout 120 sslscan --no-colour --xml="$TMP/sslscan.xml" "127.0.0.1:$port" >/dev/null 2>&1
    check "$name: same (version, suite) pairs as sslscan" \
      python3 "$SRCDIR/tests/peers/tls_compare.py" sslscan "$TMP/ours.json" "$TMP/sslscan.xml" "$SRCDIR"
  else
    echo "# sslscan not installed: comparison skipped"
  fi
  if command -v nmap >/dev/null 2>&1; then
    timeout 120 nmap -n -Pn -sT -p "$port" --script +ssl-enum-ciphers -oX "$TMP/nmap.xml" 127.0.0.1 >/dev/null 2>&1
    check "$name: same (version, suite) pairs as nmap ssl-enum-ciphers" \
      python3 "$SRCDIR/tests/peers/tls_compare.py" nmap "$TMP/ours.json" "$TMP/nmap.xml" "$SRCDIR"
    check "$name: same order verdict as nmap" \
      python3 "$SRCDIR/tests/peers/tls_compare.py" nmap-order "$TMP/ours.json" "$TMP/nmap.xml" "$SRCDIR"
  else
    echo "# nmap not installed: comparison skipped"
  fi
}
# s_client_groups PORT FLAG [ARGS...]: the groups openssl s_client negotiates
# with the server, one offered at a time (FLAG: -tls1_3, -tls1_2, -tls1 ...),
# as our IANA names, space-separated. TLS <= 1.2 counts only ECDHE curves
# (a refused curve falls back to a DHE suite there). Tried: what OpenSSL 3.0
# can offer. Compare with: check_groups NAME JSON VERSION PORT FLAG [ARGS...]
s_client_groups() {
  local port=$1 flag=$2; shift 2
  local -A oname=([x25519]=X25519 [secp256r1]=P-256 [x448]=X448 [secp521r1]=P-521 [secp384r1]=P-384
    [ffdhe2048]=ffdhe2048 [ffdhe3072]=ffdhe3072 [ffdhe4096]=ffdhe4096 [ffdhe6144]=ffdhe6144
    [ffdhe8192]=ffdhe8192 [brainpoolP256r1]=brainpoolP256r1 [secp256k1]=secp256k1)
  local g a out=""
  for g in x25519 secp256r1 x448 secp521r1 secp384r1 ffdhe2048 ffdhe3072 ffdhe4096 ffdhe6144 ffdhe8192 brainpoolP256r1 secp256k1; do
    a=$(echo | timeout 5 openssl s_client -connect "127.0.0.1:$port" "$flag" -groups "${oname[$g]}" "$@" 2>&1 |
      grep -E "Server Temp Key" | head -1)
    case "$flag:$a" in
      -tls1_3:*Temp*|*:*ECDH*|*:*X25519*|*:*X448*) out+="$g ";;
    esac
  done
  echo "$out"
}
check_groups() { # check_groups NAME JSON VERSION PORT FLAG [ARGS...]
  local name=$1 js=$2 v=$3 want; shift 3
  want=$(s_client_groups "$@")
  check "$name: $v groups = what openssl s_client -groups negotiates ($want)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if sorted(d["versions"][sys.argv[2]]["groups"]) == sorted(sys.argv[3].split()) else 1)' "$js" "$v" "$want"
}
