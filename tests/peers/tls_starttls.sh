#!/usr/bin/env bash
# --starttls against scripted greeters (tests/peers/tls_starttls_server.py):
# a working upgrade to a real TLS server (Python's ssl), and the refusals a
# user meets, each quoted in the server's own words (421 Too many
# connections, 454 TLS not available, no STARTTLS in EHLO, a refusal on a
# later connection), and TLS-on-connect probed with --starttls; XMPP, LDAP
# and MySQL: the upgrade through each, and their refusals in their own words
# (a stream error, <failure/>, an LDAP resultCode and diagnosticMessage, a
# MySQL ERR packet or a greeting without CLIENT_SSL).
. "$(dirname "$0")/tls_common.bash"
make_cert
MODES="smtp-ok smtp-421 smtp-454 smtp-nostarttls smtp-later421 imap-ok pop3-ok implicit
  xmpp-ok xmpp-host xmpp-nostarttls xmpp-failure ldap-ok ldap-unavail ldap-unknown
  mysql-ok mysql-nossl mysql-host mysql-many"
# the interpreter itself in the background, not the python3 function: $!
# must be the greeter's pid for the cleanup to end it (a function runs in a
# subshell, whose death left the greeter running)
# shellcheck disable=SC2086
"$PY" "$SRCDIR/tests/peers/tls_starttls_server.py" "$TMP/cert.pem" "$TMP/key.pem" $MODES >"$TMP/srv.out" 2>"$TMP/srv.err" &
PIDS+=($!)
for _ in $(seq 100); do grep -q '^ready' "$TMP/srv.out" 2>/dev/null && break; sleep 0.05; done
check "greeters ready" grep -q '^ready' "$TMP/srv.out" || { cat "$TMP/srv.err"; finish; exit 1; }
port() { awk -v m="$1" '$1 == m { print $2 }' "$TMP/srv.out"; }
st() { local mode=$1; shift; out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --no-groups --no-order --wait 1500 "$@" "127.0.0.1:$(port "$mode")"); rc=$?; }
first() { python3 -c 'import json,sys; d=json.load(sys.stdin); f=d["findings"]; print(f[0]["cause"] + ": " + f[0]["summary"] if f else "")' <<<"$out"; }

st smtp-ok --starttls smtp
check "smtp STARTTLS: exit 0, TLS enumerated behind it (got: $(first))" [ "$rc" -eq 0 ]
check "smtp STARTTLS: versions and a verified certificate" \
  json 'd["service"] == "tls" and "TLSv1.3" in d["versions"] and d["info"]["starttls"] == "smtp" and d["info"]["cert_verify"] == "ok"' <<<"$out"
st imap-ok --starttls imap
check "imap STARTTLS: exit 0 (got: $(first))" [ "$rc" -eq 0 ]
st pop3-ok --starttls pop3
check "pop3 STLS: exit 0 (got: $(first))" [ "$rc" -eq 0 ]
st smtp-421 --starttls smtp
check "smtp 421 at the greeting: exit 1" [ "$rc" -eq 1 ]
check "smtp 421: starttls-refused quoting '421 ... Too many connections'" \
  json 'd["findings"][0]["cause"] == "starttls-refused" and "421 4.7.0 mail.example Too many connections, try later" in d["findings"][0]["summary"] and "smtpd_client_connection_count_limit" in d["findings"][0]["fix"]' <<<"$out"
st smtp-454 --starttls smtp
check "smtp 454 to STARTTLS: starttls-refused quoting it (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-refused" and "454 4.7.0 TLS not available due to local problem" in d["findings"][0]["summary"]' <<<"$out"
st smtp-nostarttls --starttls smtp
check "no STARTTLS in EHLO: starttls-not-offered (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-not-offered" and "250 8BITMIME" in d["findings"][0]["summary"]' <<<"$out"
st smtp-later421 --starttls smtp --per-host 1
check "421 on a later connection: exit 1, starttls-refused, incomplete (got: $(first))" \
  json 'not d["ok"] and any(f["cause"] == "starttls-refused" and "later" in f["summary"] and "421" in f["summary"] for f in d["findings"]) and not d["complete"]' <<<"$out"
st implicit --starttls smtp
check "TLS-on-connect probed with --starttls: says so (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-not-offered" and "TLS-on-connect" in d["findings"][0]["summary"]' <<<"$out"
st implicit
check "TLS-on-connect without --starttls: exit 0" [ "$rc" -eq 0 ]

# XMPP, LDAP, MySQL: through the upgrade, the certificate read behind it
for p in xmpp ldap mysql; do
  st "$p-ok" --starttls "$p"
  check "$p STARTTLS: exit 0 (got: $(first))" [ "$rc" -eq 0 ]
  check "$p STARTTLS: TLS 1.2 and 1.3 behind it, verified certificate" \
    json 'sorted(d["versions"]) == ["TLSv1.2", "TLSv1.3"] and d["info"]["starttls"] == "'"$p"'" and d["info"]["cert_verify"] == "ok"' <<<"$out"
done
st xmpp-host --starttls xmpp
check "xmpp host-unknown: starttls-refused quoting the stream error and our to= (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-refused" and "<stream:error> host-unknown: This server does not serve 127.0.0.1" in d["findings"][0]["summary"]' <<<"$out"
st xmpp-nostarttls --starttls xmpp
check "xmpp features without <starttls>: starttls-not-offered naming them (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-not-offered" and "<stream:features> mechanisms" in d["findings"][0]["summary"] and "5223" in d["findings"][0]["fix"]' <<<"$out"
st xmpp-failure --starttls xmpp
check "xmpp <failure/>: starttls-refused (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-refused" and "<failure/>" in d["findings"][0]["summary"]' <<<"$out"
st ldap-unavail --starttls ldap
check "ldap resultCode 52: starttls-refused quoting the diagnosticMessage (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-refused" and "resultCode 52 (unavailable): Could not initialize TLS" in d["findings"][0]["summary"] and "olcTLSCertificateFile" in d["findings"][0]["fix"]' <<<"$out"
st ldap-unknown --starttls ldap
check "ldap protocolError: starttls-not-offered (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-not-offered" and "resultCode 2 (protocolError)" in d["findings"][0]["summary"]' <<<"$out"
st mysql-nossl --starttls mysql
check "mysql without CLIENT_SSL: starttls-not-offered quoting its version (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-not-offered" and "8.0.36-test" in d["findings"][0]["summary"] and "CLIENT_SSL" in d["findings"][0]["summary"]' <<<"$out"
st mysql-host --starttls mysql
check "mysql ERR 1130: quoted verbatim (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-refused" and "ERROR 1130: Host '"'"'127.0.0.1'"'"' is not allowed to connect to this MySQL server" in d["findings"][0]["summary"]' <<<"$out"
st mysql-many --starttls mysql
check "mysql ERR 1040: quoted, max_connections in the fix (got: $(first))" \
  json 'd["findings"][0]["cause"] == "starttls-refused" and "ERROR 1040 (08004): Too many connections" in d["findings"][0]["summary"] and "max_connections" in d["findings"][0]["fix"]' <<<"$out"
st implicit --starttls ldap
check "TLS-on-connect probed with --starttls ldap: the fix says --starttls none and 636 (got: $(first))" \
  json 'not d["ok"] and "--starttls none" in d["findings"][0]["fix"] and "636" in d["findings"][0]["fix"]' <<<"$out"
st implicit --starttls xmpp
check "TLS-on-connect probed with --starttls xmpp: the fix says --starttls none and 5223 (got: $(first))" \
  json 'not d["ok"] and "--starttls none" in d["findings"][0]["fix"] and "5223" in d["findings"][0]["fix"]' <<<"$out"
st xmpp-ok --starttls none --no-cert
check "an XMPP port probed without --starttls: named XMPP, --starttls xmpp in the fix (got: $(first))" \
  json 'not d["ok"] and any(f["cause"] == "plaintext-service" and "XMPP" in f["summary"] and "--starttls xmpp" in f["fix"] for f in d["findings"])' <<<"$out"
st mysql-ok --starttls none --no-cert
check "a MySQL port probed without --starttls: --starttls mysql in the fix (got: $(first))" \
  json 'not d["ok"] and any(f["cause"] == "plaintext-service" and "MySQL" in f["summary"] and "--starttls mysql" in f["fix"] for f in d["findings"])' <<<"$out"
out=$(timeout 10 "$SHAKEDOWN" tls --starttls gopher 127.0.0.1:1 2>&1); rc=$?
check "--starttls gopher: exit 2" [ "$rc" -eq 2 ]
finish
