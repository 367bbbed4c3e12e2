#!/usr/bin/env bash
# openssl s_server, TLS 1.2 only, server order: our suites, their order and
# the version list must match the configuration, sslscan and nmap.
. "$(dirname "$0")/tls_common.bash"
make_cert
port=$(free_port)
s_server "$port" -tls1_2 -serverpref \
  -cipher 'ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA' || { bad "s_server started"; finish; exit; }

out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" "127.0.0.1:$port"); rc=$?
check "exit 0 (a TLS server answered)" [ "$rc" -eq 0 ]
check "service tls" json 'd["service"] == "tls" and d["ok"] is True' <<<"$out"
check "TLSv1.2 only" json 'list(d["versions"]) == ["TLSv1.2"]' <<<"$out"
check "the server's order, as configured" \
  json 'd["versions"]["TLSv1.2"]["suites"] == ["0xC030", "0xC02F", "0x002F"]' <<<"$out"
check "no old-version warning for a TLS 1.2 server" json 'len(d["findings"]) == 1' <<<"$out"
check "order verdict: server" json 'd["versions"]["TLSv1.2"]["order"] == "server"' <<<"$out"
check "groups: OpenSSL 3.0's defaults for TLS 1.2" \
  json 'd["versions"]["TLSv1.2"]["groups"][:2] == ["x25519", "secp256r1"] and len(d["versions"]["TLSv1.2"]["groups"]) == 5' <<<"$out"
# Connections: N + 2V for the suites and their order (3 suites, 5
# versions: 13), and G + 1 more per version for its groups, as the issue
# budgets them (the groups of TLS 1.2 are searched beside its suites, in
# two parts, each ending with a refusal of its own).
check "connections with groups <= N + 2V + (G + 1) ($(python3 -c 'import json,sys; print(json.load(sys.stdin)["connections"])' <<<"$out"))" \
  json 'd["connections"] <= 3 + 2 * 5 + sum(len(v.get("groups") or []) + 1 for v in d["versions"].values())' <<<"$out"
check "probes in a row counted" json '1 <= d["probes_in_a_row"] <= d["connections"]' <<<"$out"
check_groups tls12 "$out" TLSv1.2 "$port" -tls1_2
out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --no-groups "127.0.0.1:$port")
check "connections without groups <= N + 2V" json 'd["connections"] <= 3 + 2 * 5' <<<"$out"

# The text table names IANA and OpenSSL names.
out=$(timeout 60 "$SHAKEDOWN" tls --ca "$TMP/cert.pem" --no-groups "127.0.0.1:$port")
check "table: IANA and OpenSSL names" grep -q "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 *ECDHE-RSA-AES256-GCM-SHA384" <<<"$out"
check "table: TLS 1.0 and SSLv3 ruled out by TLS 1.1's protocol_version" \
  grep -q "^TLSv1.0 *not offered (TLSv1.1 was refused with protocol_version)" <<<"$out"

# --trace: every connection's bytes, one "open" record per connection
out=$(timeout 60 "$SHAKEDOWN" tls --json --no-cert --no-groups --trace "$TMP/trace.jsonl" "127.0.0.1:$port")
check "--trace: one open per connection, and the hellos and answers" python3 - "$TMP/trace.jsonl" "$out" <<'PY'
import json, sys
recs = [json.loads(l) for l in open(sys.argv[1])]
conns = json.loads(sys.argv[2])["connections"]
assert sum("open" in r for r in recs) == conns, (conns, sum("open" in r for r in recs))
assert sum("tx" in r and r["tx"].startswith("1603") for r in recs) == conns
assert any("rx" in r and r["rx"].startswith("16030300") for r in recs)
PY
compare_with_scanners "$port" "s_server TLS 1.2"
finish
