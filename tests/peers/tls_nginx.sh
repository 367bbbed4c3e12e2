#!/usr/bin/env bash
# nginx with TLS 1.2 + 1.3, a modern list, client order and an ffdhe2048
# dhparam; and a plain-HTTP port on the same server, which we must name.
. "$(dirname "$0")/tls_common.bash"
need nginx
make_cert
openssl genpkey -genparam -algorithm DH -pkeyopt group:ffdhe2048 -out "$TMP/dh.pem" >/dev/null 2>&1
tport=$(free_port)
hport=$(free_port)
nginx_start "
  server {
    listen 127.0.0.1:$tport ssl;
    ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;
    ssl_dhparam $TMP/dh.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
    ssl_prefer_server_ciphers off;
    return 200 \"ok\\n\";
  }
  server { listen 127.0.0.1:$hport; return 200 \"plain\\n\"; }
" || { bad "nginx started"; finish; exit; }
wait_port "$tport"; wait_port "$hport"

out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" "127.0.0.1:$tport"); rc=$?
check "exit 0" [ "$rc" -eq 0 ]
check "TLSv1.3 and TLSv1.2" json 'sorted(d["versions"]) == ["TLSv1.2", "TLSv1.3"]' <<<"$out"
check "TLSv1.3: the three default suites" \
  json 'sorted(d["versions"]["TLSv1.3"]["suites"]) == ["0x1301", "0x1302", "0x1303"]' <<<"$out"
check "TLSv1.2: the six RSA suites incl. DHE" \
  json 'sorted(d["versions"]["TLSv1.2"]["suites"]) == ["0x009E", "0x009F", "0xC02F", "0xC030", "0xCCA8", "0xCCAA"]' <<<"$out"
check "client order on both" json 'all(v["order"] == "client" for v in d["versions"].values())' <<<"$out"
check "TLSv1.3 groups include the FFDHE ones (via HelloRetryRequest)" \
  json '"ffdhe2048" in d["versions"]["TLSv1.3"]["groups"] and d["versions"]["TLSv1.3"]["groups"][0] == "x25519"' <<<"$out"
# The groups found must be the ones OpenSSL's own client can negotiate.
check_groups nginx "$out" TLSv1.3 "$tport" -tls1_3
check_groups nginx "$out" TLSv1.2 "$tport" -tls1_2
# Connections: N + 2V for the suites and their order (9 suites, 5
# versions: 19), and G + 1 more per version for its groups, as the issue
# budgets them. TLS 1.3 reads its groups from the server's list (its
# EncryptedExtensions), TLS 1.2 finds them by probes.
check "connections within N + 2V + (G + 1) ($(python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"])' <<<"$out"))" \
  json 'd["connections"] <= 9 + 2 * 5 + sum(len(v.get("groups") or []) + 1 for v in d["versions"].values())' <<<"$out"
check "TLSv1.3 groups_from server-list, TLSv1.2 from probes" \
  json 'd["versions"]["TLSv1.3"]["groups_from"] == "server-list" and d["versions"]["TLSv1.2"]["groups_from"] == "probes"' <<<"$out"
out_ng=$(timeout 60 "$SHAKEDOWN" tls --json --no-cert --no-groups "127.0.0.1:$tport")
check "connections without groups within N + 2V ($(python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"])' <<<"$out_ng"))" \
  json 'd["connections"] <= 9 + 2 * 5' <<<"$out_ng"
# versions in parallel (default) and one at a time give the same answer
# (the parallel run may spend a connection more per part of a search)
seq_out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --per-host 1 "127.0.0.1:$tport")
check "--per-host 1 (sequential) finds the same as the parallel run" python3 -c '
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
sys.exit(0 if a["versions"] == b["versions"] and b["probes_in_a_row"] == b["connections"] else 1)' "$out" "$seq_out"
compare_with_scanners "$tport" "nginx TLS 1.2+1.3"

# The plain-HTTP port: one connection, plaintext-service, the fix.
out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$hport"); rc=$?
check "http: exit 1" [ "$rc" -eq 1 ]
check "http: service http, cause plaintext-service" \
  json 'd["service"] == "http" and d["findings"][0]["cause"] == "plaintext-service"' <<<"$out"
check "http: the fix says http://" json '"http://" in d["findings"][0]["fix"]' <<<"$out"
check "http: one connection" json 'd["connections"] == 1' <<<"$out"
check "http: the evidence is the reply" json 'd["findings"][0]["evidence"]["received"].startswith("485454502f")' <<<"$out"
finish
