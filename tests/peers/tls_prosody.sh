#!/usr/bin/env bash
# A real XMPP server from Debian (prosody): a private instance on free
# loopback ports with a throw-away config and certificate, STARTTLS on the
# client port and the server-to-server port, direct TLS (XEP-0368) on a
# third. --starttls xmpp must enumerate
# through its STARTTLS what openssl s_client -starttls xmpp sees (versions,
# TLS 1.2 suites), name the stream's domain (to=) after HOST, quote
# Prosody's own stream error for a domain it does not serve, name the
# direct-TLS port probed with --starttls, and name XMPP when the STARTTLS
# port is probed without it.
. "$(dirname "$0")/tls_common.bash"
need prosody
make_cert
read -r p_c2s p_tls p_s2s < <(free_port 3 | tr '\n' ' ')
D=$TMP/prosody
mkdir -p "$D/data"
cat >"$D/prosody.cfg.lua" <<EOC
pidfile = "$D/prosody.pid"
data_path = "$D/data"
daemonize = false
run_as_root = true -- when the tests run as root; harmless otherwise
log = { info = "$D/prosody.log" }
interfaces = { "127.0.0.1" }
c2s_ports = { $p_c2s }
c2s_direct_tls_ports = { $p_tls }
s2s_ports = { $p_s2s }
modules_enabled = { "tls", "saslauth", "disco", "roster", "ping" }
certificates = "$D/none"
ssl = { certificate = "$TMP/cert.pem", key = "$TMP/key.pem" }
c2s_direct_tls_ssl = { certificate = "$TMP/cert.pem", key = "$TMP/key.pem" }
VirtualHost "localhost"
  ssl = { certificate = "$TMP/cert.pem", key = "$TMP/key.pem" }
EOC
prosody --config "$D/prosody.cfg.lua" -F >"$D/stdout" 2>&1 &
PIDS+=($!)
for p in "$p_c2s" "$p_tls" "$p_s2s"; do
  wait_port "$p" || { bad "prosody listens on $p"; tail -5 "$D/prosody.log" "$D/stdout"; finish; exit 1; }
done
first() { python3 -c 'import json,sys; d=json.load(sys.stdin); f=d["findings"]; print(f[0]["cause"] + ": " + f[0]["summary"] + " / " + f[0]["fix"] if f else "")' <<<"$out"; }

# by name: the stream header says to='localhost', the VirtualHost Prosody serves
out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --starttls xmpp --no-groups --no-order "localhost:$p_c2s"); rc=$?
check "prosody STARTTLS: exit 0 (got: $(first))" [ "$rc" -eq 0 ]
check "prosody STARTTLS: starttls xmpp, certificate read and verified through it" \
  json 'd["info"]["starttls"] == "xmpp" and d["info"]["cert_verify"] == "ok" and d["info"]["cert_subject"] == "/CN=localhost"' <<<"$out"
versions_as_s_client "prosody STARTTLS" "$out" "$p_c2s" -starttls xmpp -xmpphost localhost
want=""
for s in AES128-GCM-SHA256:0x009C AES256-GCM-SHA384:0x009D DHE-RSA-AES128-GCM-SHA256:0x009E \
         ECDHE-RSA-AES128-GCM-SHA256:0xC02F ECDHE-RSA-AES256-GCM-SHA384:0xC030 \
         ECDHE-RSA-CHACHA20-POLY1305:0xCCA8 ECDHE-RSA-AES128-SHA:0xC013 ECDHE-RSA-AES256-SHA:0xC014 \
         AES128-SHA:0x002F AES256-SHA:0x0035 ECDHE-RSA-AES128-SHA256:0xC027 ECDHE-RSA-AES256-SHA384:0xC028; do
  if echo | timeout 10 openssl s_client -connect "127.0.0.1:$p_c2s" -starttls xmpp -xmpphost localhost -tls1_2 \
       -cipher "${s%%:*}:@SECLEVEL=0" 2>&1 | grep -q "Cipher is ${s%%:*}\$"; then
    want+="${s##*:} "
  fi
done
check "prosody STARTTLS: our TLS 1.2 suites = s_client -starttls xmpp's ($want)" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
sys.exit(0 if sorted(d["versions"]["TLSv1.2"]["suites"]) == sorted(sys.argv[2].split()) and sys.argv[2].strip() else 1)' "$out" "$want"

# server to server (jabber:server), as s_client -starttls xmpp-server sees it
out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --starttls xmpp-server --no-groups --no-order "localhost:$p_s2s"); rc=$?
check "prosody s2s STARTTLS (xmpp-server): exit 0, TLS 1.3 (got: $(first))" \
  json 'd["ok"] and "TLSv1.3" in d["versions"] and d["info"]["starttls"] == "xmpp-server" and d["info"]["cert_verify"] == "ok"' <<<"$out"
check "  s_client -starttls xmpp-server gets through too" \
  bash -c "echo | timeout 10 openssl s_client -connect 127.0.0.1:$p_s2s -starttls xmpp-server -xmpphost localhost 2>&1 | grep -q 'Cipher is [A-Z]'"

# by address: to='127.0.0.1', a domain Prosody does not serve: its own words
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --starttls xmpp "127.0.0.1:$p_c2s"); rc=$?
check "prosody, a domain it does not serve: exit 1, starttls-refused quoting its stream error (got: $(first))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "starttls-refused" and "<stream:error> host-unknown" in d["findings"][0]["summary"] and "127.0.0.1" in d["findings"][0]["summary"]' <<<"$out"

# by address with --sni localhost: every connection's stream names localhost
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --no-groups --no-order --sni localhost --starttls xmpp "127.0.0.1:$p_c2s"); rc=$?
check "prosody by address, --sni localhost: the stream's to= is the --sni name, TLS enumerated (got: $(first))" \
  json 'd["ok"] and d["service"] == "tls" and "TLSv1.2" in d["versions"]' <<<"$out"

# the direct-TLS port probed with --starttls xmpp; the STARTTLS port without it
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --starttls xmpp --wait 1500 "localhost:$p_tls"); rc=$?
check "prosody's direct-TLS port with --starttls xmpp: exit 1, the fix says --starttls none and 5223 (got: $(first))" \
  json 'not d["ok"] and "--starttls none" in d["findings"][0]["fix"] and "5223" in d["findings"][0]["fix"]' <<<"$out"
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --no-groups --no-order "localhost:$p_tls"); rc=$?
check "prosody's direct-TLS port without --starttls: exit 0, TLS 1.2 and 1.3" \
  json 'd["ok"] and sorted(d["versions"]) == ["TLSv1.2", "TLSv1.3"]' <<<"$out"
out=$(timeout 30 "$SHAKEDOWN" tls --json --no-cert --starttls none "localhost:$p_c2s"); rc=$?
check "prosody's STARTTLS port without it: exit 1, named XMPP, --starttls xmpp in the fix (got: $(first))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "plaintext-service" and "XMPP" in d["findings"][0]["summary"] and "--starttls xmpp" in d["findings"][0]["fix"]' <<<"$out"
finish
