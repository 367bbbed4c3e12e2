#!/usr/bin/env bash
# A real LDAP server from Debian (slapd, OpenLDAP over GnuTLS): a private
# instance on free loopback ports with a throw-away slapd.conf and
# certificate, STARTTLS on one port and LDAPS on another, and a second
# instance without TLS. --starttls ldap must enumerate through its StartTLS
# what openssl s_client -starttls ldap sees (versions, TLS 1.2 suites), read
# the certificate through it, quote slapd's own refusal when it has no TLS,
# and name the LDAPS port probed with --starttls.
. "$(dirname "$0")/tls_common.bash"
PATH=$PATH:/usr/sbin
need slapd
make_cert
read -r p_ldap p_ldaps p_plain < <(free_port 3 | tr '\n' ' ')
D=$TMP/slapd
mkdir -p "$D"
# GnuTLS priority string (Debian's slapd links GnuTLS): TLS 1.2 and 1.3,
# AES-GCM only, so that the lists below are the server's, not a default
cat >"$D/tls.conf" <<EOC
include /etc/ldap/schema/core.schema
pidfile $D/tls.pid
argsfile $D/tls.args
TLSCertificateFile $TMP/cert.pem
TLSCertificateKeyFile $TMP/key.pem
TLSCipherSuite NORMAL:-VERS-ALL:+VERS-TLS1.2:+VERS-TLS1.3:-CIPHER-ALL:+AES-256-GCM:+AES-128-GCM
EOC
cat >"$D/plain.conf" <<EOC
include /etc/ldap/schema/core.schema
pidfile $D/plain.pid
argsfile $D/plain.args
EOC
slapd -f "$D/tls.conf" -h "ldap://127.0.0.1:$p_ldap/ ldaps://127.0.0.1:$p_ldaps/" -d 0 >"$D/tls.log" 2>&1 &
PIDS+=($!)
slapd -f "$D/plain.conf" -h "ldap://127.0.0.1:$p_plain/" -d 0 >"$D/plain.log" 2>&1 &
PIDS+=($!)
for p in "$p_ldap" "$p_ldaps" "$p_plain"; do
  wait_port "$p" || { bad "slapd listens on $p"; tail -5 "$D"/*.log; finish; exit 1; }
done
first() { python3 -c 'import json,sys; d=json.load(sys.stdin); f=d["findings"]; print(f[0]["cause"] + ": " + f[0]["summary"] + " / " + f[0]["fix"] if f else "")' <<<"$out"; }

out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --starttls ldap --no-groups --no-order "127.0.0.1:$p_ldap"); rc=$?
check "slapd StartTLS: exit 0 (got: $(first))" [ "$rc" -eq 0 ]
check "slapd StartTLS: starttls ldap, certificate read and verified through it" \
  json 'd["info"]["starttls"] == "ldap" and d["info"]["cert_verify"] == "ok" and d["info"]["cert_subject"] == "/CN=localhost"' <<<"$out"

versions_as_s_client "slapd StartTLS" "$out" "$p_ldap" -starttls ldap

# the TLS 1.2 suites, as s_client -starttls ldap -cipher X gets them (RSA
# certificate). Not the DHE ones: slapd has no DH parameters, so GnuTLS
# does DHE only with an RFC 7919 group from the client's supported_groups,
# which our hellos offer and OpenSSL 3.0's TLS 1.2 hello never does.
want=""
for s in AES128-GCM-SHA256:0x009C AES256-GCM-SHA384:0x009D \
         ECDHE-RSA-AES128-GCM-SHA256:0xC02F ECDHE-RSA-AES256-GCM-SHA384:0xC030 \
         ECDHE-RSA-CHACHA20-POLY1305:0xCCA8 ECDHE-RSA-AES128-SHA:0xC013 \
         ECDHE-RSA-AES256-SHA:0xC014 AES128-SHA:0x002F AES256-SHA:0x0035 AES128-SHA256:0x003C \
         ECDHE-RSA-AES128-SHA256:0xC027 AES128-CCM:0xC09C; do
  if echo | timeout 10 openssl s_client -connect "127.0.0.1:$p_ldap" -starttls ldap -tls1_2 \
       -cipher "${s%%:*}:@SECLEVEL=0" 2>&1 | grep -q "Cipher is ${s%%:*}\$"; then
    want+="${s##*:} "
  fi
done
check "slapd StartTLS: our TLS 1.2 suites = s_client -starttls ldap's ($want)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
ours = [s for s in d["versions"]["TLSv1.2"]["suites"] if s not in ("0x009E", "0x009F", "0xCCAA", "0xC09E", "0xC09F")]
sys.exit(0 if sorted(ours) == sorted(sys.argv[2].split()) and sys.argv[2].strip() else 1)' "$out" "$want"

# slapd without a certificate: its own words (RFC 4511 4.12 protocolError)
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --starttls ldap "127.0.0.1:$p_plain"); rc=$?
check "slapd without TLS: exit 1, starttls-not-offered quoting its resultCode and message (got: $(first))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "starttls-not-offered" and "resultCode 2 (protocolError): unsupported extended operation" in d["findings"][0]["summary"]' <<<"$out"
check "s_client -starttls ldap agrees that it has no TLS" \
  bash -c "echo | timeout 10 openssl s_client -connect 127.0.0.1:$p_plain -starttls ldap 2>&1 | grep -q 'Cipher is (NONE)\|STARTTLS failed\|error'"

# the LDAPS port probed with --starttls ldap: named as TLS on connect
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --starttls ldap --wait 1500 "127.0.0.1:$p_ldaps"); rc=$?
check "slapd's LDAPS port with --starttls ldap: exit 1, the fix says --starttls none and 636 (got: $(first))" \
  json 'not d["ok"] and "--starttls none" in d["findings"][0]["fix"] and "636" in d["findings"][0]["fix"]' <<<"$out"
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --no-groups --no-order "127.0.0.1:$p_ldaps"); rc=$?
check "slapd's LDAPS port without --starttls: exit 0, TLS 1.2 and 1.3" \
  json 'd["ok"] and sorted(d["versions"]) == ["TLSv1.2", "TLSv1.3"]' <<<"$out"
finish
