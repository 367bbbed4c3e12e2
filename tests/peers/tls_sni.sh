#!/usr/bin/env bash
# nginx whose default server rejects handshakes without a known name
# (ssl_reject_handshake on: alert unrecognized_name, 112), and a named
# server behind it. Probed by IP (no SNI): the finding is tls-sni-required,
# not the TLS 1.1 probe's routine protocol_version refusal. Probed with
# --sni the name: it answers. Also python3 -m http.server on a port: HTTP.
. "$(dirname "$0")/tls_common.bash"
need nginx
make_cert
tport=$(free_port)
nginx_start "
  server {
    listen 127.0.0.1:$tport ssl default_server;
    ssl_reject_handshake on;
  }
  server {
    listen 127.0.0.1:$tport ssl;
    server_name app.example;
    ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    return 200 \"ok\\n\";
  }
" || { bad "nginx started"; finish; exit; }
wait_port "$tport"

out=$(timeout 60 "$SHAKEDOWN" tls --json --no-cert "127.0.0.1:$tport"); rc=$?
check "by IP (no SNI): exit 1" [ "$rc" -eq 1 ]
check "by IP: first finding tls-sni-required (got $(python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"][0]["cause"])' <<<"$out"))" \
  json 'd["findings"][0]["cause"] == "tls-sni-required"' <<<"$out"
check "by IP: the alert named, and the fix says --sni / -servername" \
  json '"unrecognized_name" in d["findings"][0]["summary"] and "-servername" in d["findings"][0]["fix"]' <<<"$out"
check "by IP: no tls-version-mismatch ahead of it" \
  json 'all(f["cause"] != "tls-version-mismatch" or f["rank"] > 1 for f in d["findings"])' <<<"$out"
said=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$tport" 2>&1 | grep -m1 -o 'alert unrecognized name\|tlsv13 alert unrecognized name\|unrecognized name')
echo "# openssl s_client without a name: $said"
check "s_client agrees: the server alerts unrecognized name" [ -n "$said" ]
curl_said=$(timeout 10 curl -sS -o /dev/null "https://127.0.0.1:$tport/" 2>&1 | head -n 1)
echo "# curl by IP: $curl_said"
check "curl's message is the one quoted (without its OpenSSL version)" \
  python3 -c '
import json, sys
said, d = sys.argv[1], json.loads(sys.argv[2])
q = next(l for l in d["findings"][0]["detail"] if l.startswith("curl fails: "))
q = q[len("curl fails: "):].replace(" (after its OpenSSL version)", "")
head, tail = q.split(" ", 2)[:2], q.split(" ", 2)[2]
sys.exit(0 if said.startswith(" ".join(head)) and said.endswith(tail) else 1)' "$curl_said" "$(timeout 60 "$SHAKEDOWN" tls --json --no-cert "127.0.0.1:$tport")"
# the client fit when nothing was accepted: it names the mismatch (SNI), not nothing
out=$(timeout 60 "$SHAKEDOWN" tls --json --no-cert --client default "127.0.0.1:$tport"); rc=$?
check "by IP, --client default: the fit says SNI required, by address" \
  json 'd["info"]["client"].startswith("default: fails: SNI required: by address it sends no server name") and "unrecognized_name" in d["info"]["client"]' <<<"$out"
check "by IP, --client default: one finding (tls-sni-required), the client's verdict a line of it" \
  json 'd["findings"][0]["cause"] == "tls-sni-required" and sum(f["cause"] == "tls-sni-required" for f in d["findings"]) == 1 and "the judged client, default, fails on this (info.client)" in d["findings"][0]["detail"]' <<<"$out"
# probed by name, judged for a client that sends no SNI: one hello of its own
# without SNI tells; s_client with -noservername and the same suite agrees
out=$(timeout 60 "$SHAKEDOWN" tls --json --no-cert --sni app.example --client tls10-embedded --client-versions 1.2 "127.0.0.1:$tport"); rc=$?
check "by name, a client without SNI (tls10-embedded at TLS 1.2): exit 1, tls-sni-required for that client" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "tls-sni-required" and d["findings"][0]["summary"].startswith("client tls10-embedded: it sends no server name")' <<<"$out"
check "  the evidence: its own hello without SNI met unrecognized_name" \
  json 'd["info"]["client_sni_probe"].startswith("tls10-embedded\x27s own TLSv1.2 hello (3 suites) without SNI got alert unrecognized_name (112)")' <<<"$out"
said=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$tport" -tls1_2 -cipher AES128-SHA -noservername 2>&1 | grep -m1 -o 'unrecognized name')
echo "# openssl s_client -tls1_2 -cipher AES128-SHA -noservername: $said"
check "  s_client without a name agrees (unrecognized name)" [ -n "$said" ]
out=$(timeout 60 "$SHAKEDOWN" tls --json --no-cert --sni app.example --client default "127.0.0.1:$tport"); rc=$?
check "by name, --client default (sends SNI): exit 0, no SNI probe" \
  json 'd["ok"] and d["info"]["client"].startswith("default: gets through") and "client_sni_probe" not in d["info"]' <<<"$out"
out=$(timeout 60 "$SHAKEDOWN" tls --json --sni app.example --ca "$TMP/cert.pem" --name localhost "127.0.0.1:$tport"); rc=$?
check "--sni app.example: exit 0" \
  bash -c '[ "$1" -eq 0 ]' _ "$rc"
# nginx takes the protocols of the default server, which has no certificate:
# TLS 1.3 is refused even for app.example (s_client -tls1_3 -servername agrees)
check "--sni app.example: TLS 1.2 listed, verified chain" json '"TLSv1.2" in d["versions"] and d["info"]["cert_verify"] == "ok"' <<<"$out"

hport=$(free_port)
(cd "$TMP" && exec python3 -m http.server --bind 127.0.0.1 "$hport" >/dev/null 2>&1) &
PIDS+=($!)
wait_port "$hport"
out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$hport"); rc=$?
check "python3 -m http.server: exit 1" [ "$rc" -eq 1 ]
check "python3 -m http.server: service http (got $(python3 -c 'import json,sys; print(json.load(sys.stdin)["service"])' <<<"$out"))" \
  json 'd["service"] == "http"' <<<"$out"
finish
