#!/usr/bin/env bash
# A real MySQL-protocol server from Debian (mariadb-server): a private
# instance on a free loopback port with a throw-away data directory and
# certificate. --starttls mysql must enumerate through its SSLRequest what
# openssl s_client -starttls mysql sees (versions, TLS 1.2 suites) and read
# the certificate through it; restarted without a certificate, the missing
# CLIENT_SSL is named with the server's own version string.
. "$(dirname "$0")/tls_common.bash"
PATH=$PATH:/usr/sbin
need mariadbd mariadb-install-db
make_cert
port=$(free_port)
D=$TMP/mariadb
mkdir -p "$D"
if ! mariadb-install-db --no-defaults --datadir="$D/data" --user="$(id -un)" --auth-root-authentication-method=normal \
     --skip-test-db >"$D/install.log" 2>&1; then
  bad "mariadb-install-db"; tail -5 "$D/install.log"; finish; exit 1
fi
# start [args]: mariadbd on $port; stop: until its pid file is gone
start() {
  mariadbd --no-defaults --datadir="$D/data" --user="$(id -un)" --bind-address=127.0.0.1 --port="$port" \
    --socket="$D/sock" --pid-file="$D/pid" --log-error="$D/err.log" "$@" >/dev/null 2>&1 &
  MPID=$!
  PIDS+=("$MPID")
  wait_port "$port" || { bad "mariadbd listens on $port"; tail -5 "$D/err.log"; finish; exit 1; }
}
stop() { kill "$MPID" 2>/dev/null; wait "$MPID" 2>/dev/null; }
first() { python3 -c 'import json,sys; d=json.load(sys.stdin); f=d["findings"]; print(f[0]["cause"] + ": " + f[0]["summary"] + " / " + f[0]["fix"] if f else "")' <<<"$out"; }

start --ssl-cert="$TMP/cert.pem" --ssl-key="$TMP/key.pem"
out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --starttls mysql --no-groups --no-order "127.0.0.1:$port"); rc=$?
check "mariadb SSLRequest: exit 0 (got: $(first))" [ "$rc" -eq 0 ]
check "mariadb SSLRequest: starttls mysql, certificate read and verified through it" \
  json 'd["info"]["starttls"] == "mysql" and d["info"]["cert_verify"] == "ok" and d["info"]["cert_subject"] == "/CN=localhost"' <<<"$out"
versions_as_s_client "mariadb SSLRequest" "$out" "$port" -starttls mysql
want=""
for s in AES128-GCM-SHA256:0x009C AES256-GCM-SHA384:0x009D DHE-RSA-AES128-GCM-SHA256:0x009E \
         ECDHE-RSA-AES128-GCM-SHA256:0xC02F ECDHE-RSA-AES256-GCM-SHA384:0xC030 \
         ECDHE-RSA-CHACHA20-POLY1305:0xCCA8 ECDHE-RSA-AES128-SHA:0xC013 ECDHE-RSA-AES256-SHA:0xC014 \
         AES128-SHA:0x002F AES256-SHA:0x0035 ECDHE-RSA-AES128-SHA256:0xC027 ECDHE-RSA-AES256-SHA384:0xC028; do
  if echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -starttls mysql -tls1_2 \
       -cipher "${s%%:*}:@SECLEVEL=0" 2>&1 | grep -q "Cipher is ${s%%:*}\$"; then
    want+="${s##*:} "
  fi
done
check "mariadb SSLRequest: our TLS 1.2 suites, of those tried, = s_client -starttls mysql's ($want)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
tried = set(sys.argv[3].split())
ours = [s for s in d["versions"]["TLSv1.2"]["suites"] if s in tried]
sys.exit(0 if sorted(ours) == sorted(sys.argv[2].split()) and sys.argv[2].strip() else 1)' "$out" "$want" \
  "0x009C 0x009D 0x009E 0xC02F 0xC030 0xCCA8 0xC013 0xC014 0x002F 0x0035 0xC027 0xC028"
stop

# without a certificate: no CLIENT_SSL, its version string quoted
start
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --starttls mysql "127.0.0.1:$port"); rc=$?
check "mariadb without TLS: exit 1, starttls-not-offered quoting its version (got: $(first))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "starttls-not-offered" and "-MariaDB" in d["findings"][0]["summary"] and "without CLIENT_SSL" in d["findings"][0]["summary"]' <<<"$out"
check "s_client -starttls mysql agrees" \
  bash -c "echo | timeout 10 openssl s_client -connect 127.0.0.1:$port -starttls mysql 2>&1 | grep -q 'does not support SSL'"
stop
finish
