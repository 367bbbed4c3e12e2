#!/usr/bin/env bash
# --targets: 40 local endpoints (one nginx, 40 ports) plus a dead one, from
# stdin; one JSON line each, each complete, at most --per-host at once.
. "$(dirname "$0")/tls_common.bash"
need nginx
make_cert
listens=""
: >"$TMP/targets"
for p in $(free_port 40); do
  listens+="listen 127.0.0.1:$p ssl; "
  echo "127.0.0.1:$p" >>"$TMP/targets"
done
echo "no-such-host.invalid:443   # comments and blank lines are fine" >>"$TMP/targets"
echo "" >>"$TMP/targets"
nginx_start "
  server {
    $listens
    ssl_certificate $TMP/cert.pem; ssl_certificate_key $TMP/key.pem;
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_ciphers ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384;
    return 200 \"ok\\n\";
  }
" || { bad "nginx started"; finish; exit; }
wait_port "$(head -1 "$TMP/targets" | cut -d: -f2)"

start=$(date +%s%N)
timeout 120 "$SHAKEDOWN" tls --targets - --ca "$TMP/cert.pem" --no-groups <"$TMP/targets" >"$TMP/out.jsonl" 2>"$TMP/err"; rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
echo "# 41 targets in ${ms} ms"
check "exit 3 (one target could not be opened)" [ "$rc" -eq 3 ]
check "41 JSON lines" [ "$(grep -c '' "$TMP/out.jsonl")" -eq 41 ]
check "each line a whole report; 40 ok with the same suites" python3 - "$TMP/out.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
ok = [r for r in rows if r["ok"]]
assert len(ok) == 40, len(ok)
assert len({r["target"] for r in rows}) == 41
for r in ok:
    assert sorted(r["versions"]["TLSv1.2"]["suites"]) == ["0xC02F", "0xC030"], r
    assert sorted(r["versions"]["TLSv1.3"]["suites"]) == ["0x1301", "0x1302", "0x1303"], r
bad = [r for r in rows if not r["ok"]]
assert bad[0]["target"].startswith("no-such-host") and bad[0]["findings"][0]["cause"] == "no-device"
PY
# --per-host 1 serialises them: slower than the default of 4
start=$(date +%s%N)
head -20 "$TMP/targets" | timeout 120 "$SHAKEDOWN" tls --targets - --ca "$TMP/cert.pem" --no-groups --per-host 1 >"$TMP/one.jsonl" 2>/dev/null
ms1=$(( ($(date +%s%N) - start) / 1000000 ))
check "--per-host 1: 20 lines (${ms1} ms)" [ "$(grep -c '' "$TMP/one.jsonl")" -eq 20 ]
finish
