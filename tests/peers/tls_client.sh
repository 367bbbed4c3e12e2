#!/usr/bin/env bash
# Client fit (--client PROFILE, --client-*): decided from the enumeration,
# without a new scan, against s_server fixtures; each verdict is checked
# against what the real client (openssl s_client, curl) prints.
. "$(dirname "$0")/tls_common.bash"
need curl
make_cert
port=$(free_port)
first() { python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["findings"][0]["cause"] if d["findings"] else "")' <<<"$out"; }
tls() { out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --no-order "$@" "127.0.0.1:$port"); rc=$?; }

# 1. TLS 1.0/1.1 only, ECDHE first: the default client (OpenSSL 3, level 2)
s_server "$port" -min_protocol TLSv1 -max_protocol TLSv1.1 \
  -cipher 'ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA:@SECLEVEL=0' || { bad "s_server started"; finish; exit; }
tls
check "legacy, default client: exit 1" [ "$rc" -eq 1 ]
check "legacy, default client: tls-sigalg-refused first (got $(first))" [ "$(first)" = tls-sigalg-refused ]
said=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" 2>&1 | grep -o 'legacy sigalg disallowed or unsupported' | head -1)
curl_said=$(timeout 10 curl -sS -o /dev/null --cacert "$TMP/cert.pem" "https://127.0.0.1:$port/" 2>&1 | head -1)
echo "# s_client: $said"
echo "# curl: $curl_said"
check "legacy: the message quoted is s_client's and curl's" \
  json "'default says: ' + '$said' in d['findings'][0]['detail'] and '$said' != '' and '$said' in '''$curl_said'''" <<<"$out"
check "legacy: the fix names both sides" json '"ssl_protocols TLSv1.2" in d["findings"][0]["fix"] and "@SECLEVEL=0" in d["findings"][0]["fix"]' <<<"$out"
tls --client openssl-level0
check "legacy, --client openssl-level0: exit 0" [ "$rc" -eq 0 ]
check "legacy, openssl-level0: the handshake named" json 'd["info"]["client"].startswith("openssl-level0: gets through with TLSv1.1, TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA")' <<<"$out"
check "s_client at level 0 agrees: it connects" bash -c "echo | timeout 10 openssl s_client -connect 127.0.0.1:$port -cipher DEFAULT:@SECLEVEL=0 2>&1 | grep -q 'Protocol  : TLSv1.1'"
tls --client java8
check "legacy, java8: tls-version-mismatch (TLS 1.2 only) (got $(first))" [ "$(first)" = tls-version-mismatch ]
check "legacy, java8: says what each side has" json '"it offers TLSv1.2; the server accepts TLSv1.1, TLSv1.0" in d["findings"][0]["summary"]' <<<"$out"
tls --client tls10-embedded
check "legacy, tls10-embedded: exit 0 (TLS 1.0 with RSA key exchange)" [ "$rc" -eq 0 ]
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null

# 2. TLS 1.3 only, x25519 only
port=$(free_port)
s_server "$port" -tls1_3 -groups X25519 || { bad "s_server started"; finish; exit; }
tls --client java8
check "TLS 1.3 only, java8: tls-version-mismatch (got $(first))" [ "$(first)" = tls-version-mismatch ]
said=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 2>&1 | grep -o 'alert protocol version' | head -1)
echo "# s_client -tls1_2: $said"
check "s_client as a TLS 1.2 client agrees (alert protocol version)" [ -n "$said" ]
tls --client-groups P-256
check "TLS 1.3 x25519, --client-groups P-256: tls-no-shared-group (got $(first))" [ "$(first)" = tls-no-shared-group ]
check "  the fix: ssl_ecdh_curve / -groups" json '"ssl_ecdh_curve" in d["findings"][0]["fix"] and "-groups X25519" in d["findings"][0]["fix"]' <<<"$out"
said=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -groups P-256 2>&1 | grep -o 'handshake failure' | head -1)
echo "# s_client -groups P-256: $said"
check "s_client -groups P-256 agrees (handshake failure)" [ -n "$said" ]
tls
check "TLS 1.3 x25519, default client: exit 0, x25519" json 'd["ok"] and d["info"]["client"].endswith("x25519")' <<<"$out"
kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null

# 3. TLS 1.2 with ChaCha20 only: no common suite for Java 8 or a client of AES-GCM only
port=$(free_port)
s_server "$port" -tls1_2 -cipher ECDHE-RSA-CHACHA20-POLY1305 || { bad "s_server started"; finish; exit; }
tls --client java8
check "ChaCha20 only, java8: tls-no-shared-cipher (got $(first))" [ "$(first)" = tls-no-shared-cipher ]
tls --client-ciphers 'ECDHE+AESGCM'
check "ChaCha20 only, --client-ciphers ECDHE+AESGCM: tls-no-shared-cipher (got $(first))" [ "$(first)" = tls-no-shared-cipher ]
check "  the fix names a suite for each side" json '"ssl_ciphers" in d["findings"][0]["fix"] and "ECDHE-RSA-CHACHA20-POLY1305" in d["findings"][0]["fix"]' <<<"$out"
said=$(echo | timeout 10 openssl s_client -connect "127.0.0.1:$port" -tls1_2 -cipher 'ECDHE+AESGCM' 2>&1 | grep -o 'handshake failure' | head -1)
check "s_client -cipher ECDHE+AESGCM agrees (handshake failure)" [ -n "$said" ]
run_json_usage() { out=$(timeout 10 "$SHAKEDOWN" tls "$@" 127.0.0.1:1 2>&1); rc=$?; }
run_json_usage --client netscape
check "--client netscape: exit 2 listing the profiles" bash -c '[ "$1" -eq 2 ] && grep -q java8 <<<"$2"' _ "$rc" "$out"
finish
