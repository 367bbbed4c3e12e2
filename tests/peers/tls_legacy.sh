#!/usr/bin/env bash
# openssl s_server speaking only TLS 1.0 and 1.1 at @SECLEVEL=0 (testssl.sh
# with OpenSSL 3 cannot test it at all): raw hellos still enumerate it.
. "$(dirname "$0")/tls_common.bash"
make_cert
port=$(free_port)
s_server "$port" -min_protocol TLSv1 -max_protocol TLSv1.1 \
  -cipher 'ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA:@SECLEVEL=0' || { bad "s_server started"; finish; exit; }

# the client judged: OpenSSL at level 0, which can reach it (the default one
# cannot: tests/peers/tls_client.sh)
out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --client openssl-level0 "127.0.0.1:$port"); rc=$?
check "exit 0" [ "$rc" -eq 0 ]
check "TLSv1.1 and TLSv1.0, nothing else" json 'sorted(d["versions"]) == ["TLSv1.0", "TLSv1.1"]' <<<"$out"
for v in TLSv1.0 TLSv1.1; do
  check "$v: the three configured suites" \
    json "sorted(d['versions']['$v']['suites']) == ['0x002F', '0x0035', '0xC013']" <<<"$out"
  check "$v: client order" json "d['versions']['$v']['order'] == 'client'" <<<"$out"
done
check "ok first, then the warning that today's clients refuse TLS 1.0/1.1" \
  json 'd["findings"][0]["cause"] == "ok" and d["findings"][1]["cause"] == "tls-version-mismatch" and "RFC 8996" in d["findings"][1]["summary"]' <<<"$out"
# CI: a TLS 1.0/1.1-only server fails a job that expects 1.2
pout=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --no-groups --no-order --expect 'min=1.2,no-cbc' "127.0.0.1:$port"); rc=$?
check "--expect min=1.2: exit 1" [ "$rc" -eq 1 ]
check "--expect min=1.2: policy-deviation first, both old versions and the CBC suites listed in JSON" \
  json 'd["findings"][0]["cause"] == "policy-deviation" and not d["policy"]["met"] and sorted(x["found"].split()[0] for x in d["policy"]["deviations"] if x["rule"] == "min=1.2") == ["TLSv1.0", "TLSv1.1"] and any(x["rule"] == "no-cbc" for x in d["policy"]["deviations"])' <<<"$pout"
check_groups legacy "$out" TLSv1.0 "$port" -tls1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
check_groups legacy "$out" TLSv1.1 "$port" -tls1_1 -cipher 'ECDHE-RSA-AES128-SHA:@SECLEVEL=0'
compare_with_scanners "$port" "s_server TLS 1.0/1.1"
finish
