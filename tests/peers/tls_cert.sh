#!/usr/bin/env bash
# shakedown tls: certificates as causes. Each server is openssl s_server
# with a certificate made here (openssl req / x509 / ca in the temp dir), one
# fault each: expired, not yet valid, wrong name, self-signed, missing
# intermediate, RSA-1024, SHA-1, an interception CA; and a sound chain.
# For each fault, curl (the real client) is run too, and the message our
# finding quotes must be the one curl printed.
. "$(dirname "$0")/tls_common.bash"
need curl
D=$TMP/pki
mkdir -p "$D"
cd "$D" || exit 1
cat >ca.cnf <<'EOF'
[ca]
default_ca = c
[c]
dir = .
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
copy_extensions = copy
unique_subject = no
[p]
commonName = supplied
[ca_ext]
basicConstraints = critical,CA:true
keyUsage = critical,keyCertSign,cRLSign
[leaf]
basicConstraints = CA:false
EOF
touch index.txt
echo 01 >serial
q() { "$@" >/dev/null 2>>"$D/openssl.log"; }
# root CA, an intermediate, an "interception" CA
q openssl req -x509 -newkey rsa:2048 -nodes -keyout root.key -out root.pem -days 30 -subj "/CN=Shakedown Test Root" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
q openssl req -newkey rsa:2048 -nodes -keyout inter.key -out inter.csr -subj "/CN=Shakedown Test Intermediate"
q openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -in inter.csr -out inter.pem -days 30 -extensions ca_ext -notext
q openssl req -x509 -newkey rsa:2048 -nodes -keyout mitmca.key -out mitmca.pem -days 30 -subj "/O=mitmproxy/CN=mitmproxy" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
# leaf NAME KEYSPEC SAN CAKEY CACERT [ca args...]: a leaf signed by a CA
leaf() {
  local name=$1 keyspec=$2 san=$3 cakey=$4 cacert=$5; shift 5
  q openssl req -newkey "$keyspec" -nodes -keyout "$name.key" -out "$name.csr" -subj /CN=localhost -addext "subjectAltName=$san"
  q openssl ca -batch -config ca.cnf -cert "$cacert" -keyfile "$cakey" -in "$name.csr" -out "$name.pem" -extensions leaf -notext "$@"
}
GOOD_SAN="DNS:localhost,IP:127.0.0.1"
leaf good rsa:2048 "$GOOD_SAN" root.key root.pem -days 30
leaf expired rsa:2048 "$GOOD_SAN" root.key root.pem -startdate 20240101000000Z -enddate 20240201000000Z
leaf future rsa:2048 "$GOOD_SAN" root.key root.pem -startdate 20991201000000Z -enddate 21000101000000Z
leaf wrongname rsa:2048 "DNS:other.example" root.key root.pem -days 30
leaf viainter rsa:2048 "$GOOD_SAN" inter.key inter.pem -days 30
leaf rsa1024 rsa:1024 "$GOOD_SAN" root.key root.pem -days 30
leaf sha1 rsa:2048 "$GOOD_SAN" root.key root.pem -days 30 -md sha1
leaf mitm rsa:2048 "$GOOD_SAN" mitmca.key mitmca.pem -days 30
q openssl req -x509 -newkey rsa:2048 -nodes -keyout self.key -out self.pem -days 30 -subj /CN=localhost -addext "subjectAltName=$GOOD_SAN"
for f in good expired future wrongname viainter rsa1024 sha1 mitm self; do
  [ -s "$f.pem" ] || { bad "could not make the $f certificate (see below)"; cat "$D/openssl.log"; finish; exit 1; }
done

# serve NAME [s_server args]: s_server with that leaf on a free port ($PORT)
serve() {
  local name=$1; shift
  PORT=$(free_port)
  openssl s_server -accept "127.0.0.1:$PORT" -cert "$D/$name.pem" -key "$D/$name.key" -www -quiet "$@" \
    >"$TMP/s_server.$PORT.log" 2>&1 </dev/null &
  SPID=$!
  PIDS+=("$SPID")
  wait_port "$PORT"
}
stop() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
# scan [args]: shakedown tls --json on localhost:$PORT; $out, $rc
scan() {
  out=$(timeout 60 "$SHAKEDOWN" tls --json --versions 1.2,1.3 --no-order --no-groups "$@" "localhost:$PORT" 2>"$TMP/err")
  rc=$?
}
# curl_says [curl args]: curl's one-line complaint (its first stderr line)
curl_says() { timeout 20 curl -sS -o /dev/null "$@" "https://localhost:$PORT/" 2>&1 | head -n 1; }
# quoted: the message the first finding says curl prints
# py_says: what Python's ssl module raises (default context, the same trust)
py_says() { python3 - "$PORT" "${1:-}" <<'PY'
import socket, ssl, sys
c = ssl.create_default_context(cafile=sys.argv[2] or None)
try:
    c.wrap_socket(socket.create_connection(("localhost", int(sys.argv[1])), 5), server_hostname="localhost").close()
except Exception as e:
    print(e)
PY
}
quoted() { python3 -c '
import json,sys
d=json.load(sys.stdin)
for line in d["findings"][0].get("detail", []):
    if line.startswith("curl fails: "):
        print(line[len("curl fails: "):]); break' <<<"$out"; }
first_cause() { python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"][0]["cause"])' <<<"$out"; }
# case NAME CAUSE [shakedown and curl trust args]: the fault is the first finding,
# exit 1, and curl's own message is the one quoted
expect_case() {
  local name=$1 cause=$2; shift 2
  scan "$@"
  local got said q2
  got=$(first_cause)
  check "$name: exit 1" [ "$rc" -eq 1 ]
  check "$name: first finding $cause (got $got)" [ "$got" = "$cause" ]
  said=$(curl_says ${CURL_TRUST:-})
  q2=$(quoted)
  echo "# $name: curl printed: $said"
  check "$name: the finding quotes curl's message ('$q2')" [ -n "$q2" ] && [ "$said" = "$q2" ]
  said=$(py_says "${PY_TRUST:-}")
  q2=$(python3 -c '
import json,sys
d=json.load(sys.stdin)
print(next((l[len("Python ssl fails: "):] for l in d["findings"][0].get("detail", []) if l.startswith("Python ssl fails: ")), ""))' <<<"$out")
  echo "# $name: Python raised: $said"
  check "$name: the finding quotes Python's message" [ -n "$q2" ] && [ "${said#"$q2"}" != "$said" ]
}

# client_differs FAULT WHY S_CLIENT_WORDS: the fit of --client default refuses
# the certificate by its own rule and openssl-1.0.2 / java8 take it, as the
# real openssl s_client does at its default level and at @SECLEVEL=0
client_differs() {
  local fault=$1 why=$2 words=$3 said0 said2
  said2=$(echo | timeout 10 openssl s_client -connect "localhost:$PORT" -CAfile "$D/root.pem" -verify_return_error 2>&1 |
    grep -m1 -o "Verification error: .*\|Verify return code: 0 (ok)")
  said0=$(echo | timeout 10 openssl s_client -connect "localhost:$PORT" -CAfile "$D/root.pem" -verify_return_error \
    -cipher DEFAULT:@SECLEVEL=0 2>&1 | grep -m1 -o "Verification error: .*\|Verify return code: 0 (ok)")
  echo "# $fault: s_client at its default level: $said2; at @SECLEVEL=0: $said0"
  check "$fault: s_client fails at its default level ($words)" [ "$said2" = "Verification error: $words" ]
  check "$fault: s_client at @SECLEVEL=0 verifies" [ "$said0" = "Verify return code: 0 (ok)" ]
  scan --ca "$D/root.pem" --client default
  check "$fault, --client default: the fit fails on the certificate's field" json \
    "d['info']['client'].startswith('default: fails: ') and '$why' in d['info']['client'] and d['info']['client_cert_fit'].startswith('default refuses the ')" <<<"$out"
  check "$fault, --client default: the cert-weak finding names this client's refusal and s_client's words" json \
    "d['findings'][0]['cause'] == 'cert-weak' and 'client ' + d['info']['client_cert_fit'] in d['findings'][0]['detail'] and 'openssl s_client says: verify error:num=' + str(d['findings'][0]['detail']).split('verify error:num=')[1][:2] + ':$words' in d['findings'][0]['detail']" <<<"$out"
  for cl in openssl-1.0.2 java8; do
    scan --ca "$D/root.pem" --client "$cl"
    check "$fault, --client $cl: gets through, accepting the certificate's fields" json \
      "d['info']['client'].startswith('$cl: gets through') and d['info']['client_cert_fit'].startswith('$cl accepts the RSA-')" <<<"$out"
    check "$fault, --client $cl: the cert-weak finding says this client takes it" json \
      "d['findings'][0]['cause'] == 'cert-weak' and any(l.startswith('client $cl gets through: it accepts') for l in d['findings'][0]['detail'])" <<<"$out"
  done
}

serve good
scan --ca "$D/root.pem"
check "sound chain: exit 0" [ "$rc" -eq 0 ]
check "sound chain: verify ok, days left and fields in info" json \
  'd["ok"] and d["info"]["cert_verify"] == "ok" and 28 <= int(d["info"]["cert_days_left"]) <= 30 and "DNS:localhost" in d["info"]["cert_san"] and d["info"]["cert_key"] == "RSA 2048 bits"' <<<"$out"
check "sound chain: curl agrees (no complaint)" [ -z "$(curl_says --cacert "$D/root.pem")" ]
scan
check "sound chain, system store: untrusted (a private CA), exit 1" bash -c '[ "$1" -eq 1 ]' _ "$rc"
scan --ca "$D/root.pem" --expect 'cert-valid,cert-days>=14,key-bits>=2048,tls13'
check "sound chain: the policy is met, exit 0" bash -c '[ "$1" -eq 0 ]' _ "$rc"
check "sound chain: JSON policy met, no deviation" json 'd["policy"]["met"] and d["policy"]["deviations"] == []' <<<"$out"
scan --ca "$D/root.pem" --expect 'cert-days>=60'
check "cert-days>=60 on a 30-day certificate: exit 1, the days said" json \
  'not d["ok"] and d["policy"]["deviations"][0]["rule"] == "cert-days>=60" and "has 29 days" in d["policy"]["deviations"][0]["found"]' <<<"$out"
printf '# policy of the CI job\nmin=1.3 # only TLS 1.3\ncert-days>=14\n' >"$TMP/policy"
scan --ca "$D/root.pem" --expect "@$TMP/policy"
check "--expect @FILE: min=1.3 fails on TLS 1.2" json \
  'set(x["rule"] for x in d["policy"]["deviations"]) == {"min=1.3"} and d["policy"]["deviations"][0]["found"] == "TLSv1.2 is accepted (20 suites)" and "not probed" in d["policy"]["deviations"][1]["found"]' <<<"$out"
check "--expect @FILE: exit 1" [ "$rc" -eq 1 ]
scan --ca "$D/root.pem" --no-cert
check "--no-cert: no certificate read, exit 0" json 'd["ok"] and "cert_verify" not in d.get("info", {})' <<<"$out"
stop

# OCSP stapling: a response made by openssl ocsp from the CA's index, good
# and then revoked; without -status_file, none
serve good
scan --ca "$D/root.pem"
check "no OCSP response stapled: said so" json 'd["info"]["cert_ocsp"] == "not stapled"' <<<"$out"
stop
q openssl ocsp -index index.txt -rsigner root.pem -rkey root.key -CA root.pem -issuer root.pem -cert good.pem -respout good.ocsp -ndays 1
serve good -status_file "$D/good.ocsp"
scan --ca "$D/root.pem"
check "OCSP stapled, good: exit 0, the status and dates in info" \
  json 'd["ok"] and d["info"]["cert_ocsp"].startswith("stapled: good (this update 20")' <<<"$out"
check "OCSP stapled, good: its signature verified, the signer named" \
  json 'd["info"]["cert_ocsp_signature"] == "valid (signed by /CN=Shakedown Test Root)" and d["info"]["cert_ocsp"].endswith("; signature valid)")' <<<"$out"
check "  openssl ocsp agrees: the response verifies against the CA" \
  bash -c "openssl ocsp -respin '$D/good.ocsp' -CAfile '$D/root.pem' -issuer '$D/root.pem' -cert '$D/good.pem' -no_nonce 2>&1 | grep -q 'Response verify OK'"
stop
# signed by the wrong key: a responder certificate with the root's name and
# another key (openssl ocsp will not sign with a key its -rsigner lacks)
q openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rogue.key
q openssl req -x509 -key rogue.key -out rogue.pem -days 30 -subj "/CN=Shakedown Test Root" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
q openssl ocsp -index index.txt -rsigner rogue.pem -rkey rogue.key -CA root.pem -issuer root.pem -cert good.pem -respout rogue.ocsp -ndays 1
serve good -status_file "$D/rogue.ocsp"
scan --ca "$D/root.pem"
check "OCSP staple signed by the wrong key: exit 1, ocsp-staple-invalid first (got $(first_cause))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "ocsp-staple-invalid" and "does not verify: " in d["findings"][0]["summary"] and d["info"]["cert_ocsp_signature"].startswith("INVALID: ")' <<<"$out"
check "  never a silent good: the status is said unverified" \
  json 'd["info"]["cert_ocsp"].endswith("signature INVALID, so unverified)")' <<<"$out"
check "  openssl ocsp agrees: it does not verify" \
  bash -c "! openssl ocsp -respin '$D/rogue.ocsp' -CAfile '$D/root.pem' -issuer '$D/root.pem' -cert '$D/good.pem' -no_nonce 2>&1 | grep -q 'Response verify OK'"
stop
# a sound response, but about another certificate of the same CA
q openssl ocsp -index index.txt -rsigner root.pem -rkey root.key -CA root.pem -issuer root.pem -cert wrongname.pem -respout other.ocsp -ndays 1
serve good -status_file "$D/other.ocsp"
scan --ca "$D/root.pem"
check "OCSP staple about another certificate: exit 1, ocsp-staple-invalid naming both serials (got $(first_cause))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "ocsp-staple-invalid" and "is about serial" in d["findings"][0]["summary"]' <<<"$out"
stop
# signed right, without the CA's certificate in it (the signer is the
# leaf's issuer, found in the trust store), but out of date: thisUpdate 8
# days ago, nextUpdate yesterday (openssl ocsp makes no past dates; Python's
# cryptography does)
if python3 - "$D" <<'PY'
import datetime, sys
from cryptography import x509
from cryptography.x509 import ocsp
from cryptography.hazmat.primitives import hashes, serialization
d = sys.argv[1]
load = lambda f: x509.load_pem_x509_certificate(open(f"{d}/{f}", "rb").read())
root, cert = load("root.pem"), load("good.pem")
key = serialization.load_pem_private_key(open(f"{d}/root.key", "rb").read(), None)
now = datetime.datetime.utcnow()
r = ocsp.OCSPResponseBuilder().add_response(
    cert=cert, issuer=root, algorithm=hashes.SHA1(), cert_status=ocsp.OCSPCertStatus.GOOD,
    this_update=now - datetime.timedelta(days=8), next_update=now - datetime.timedelta(days=1),
    revocation_time=None, revocation_reason=None).responder_id(ocsp.OCSPResponderEncoding.NAME, root)
open(f"{d}/stale.ocsp", "wb").write(r.sign(key, hashes.SHA256()).public_bytes(serialization.Encoding.DER))
PY
then
  serve good -status_file "$D/stale.ocsp"
  scan --ca "$D/root.pem"
  check "OCSP staple out of date: its signature valid (signer from the trust store), ocsp-staple-invalid 'out of date', exit 1" \
    json 'not d["ok"] and d["findings"][0]["cause"] == "ocsp-staple-invalid" and "out of date" in d["findings"][0]["summary"] and ", STALE; signature valid)" in d["info"]["cert_ocsp"] and d["info"]["cert_ocsp_signature"] == "valid (signed by /CN=Shakedown Test Root)"' <<<"$out"
  stop
else
  echo "# python3-cryptography missing: the stale-staple case skipped"
fi
# the root's own response with one bit of its signature flipped
python3 -c '
import sys
b = bytearray(open(sys.argv[1], "rb").read())
i = b.find(b"\x03\x82\x01\x01\x00")  # the BIT STRING of an RSA-2048 signature: the first is the response'"'"'s
b[i + 5 + 100] ^= 1
open(sys.argv[2], "wb").write(b)' "$D/good.ocsp" "$D/flipped.ocsp"
serve good -status_file "$D/flipped.ocsp"
scan --ca "$D/root.pem"
check "OCSP staple with a broken signature: exit 1, ocsp-staple-invalid 'signature failure' (got $(first_cause))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "ocsp-staple-invalid" and "signature failure" in d["findings"][0]["summary"]' <<<"$out"
stop
q openssl ca -batch -config ca.cnf -cert root.pem -keyfile root.key -revoke good.pem
q openssl ocsp -index index.txt -rsigner root.pem -rkey root.key -CA root.pem -issuer root.pem -cert good.pem -respout revoked.ocsp -ndays 1
serve good -status_file "$D/revoked.ocsp"
scan --ca "$D/root.pem"
check "OCSP stapled, revoked: exit 1, cert-untrusted first saying revoked" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "cert-untrusted" and "revoked" in d["findings"][0]["summary"]' <<<"$out"
stop

# a client certificate required (s_server -Verify 1), TLS 1.3 and TLS 1.2
for v in "" -tls1_2; do
  serve good -Verify 1 $v
  scan --ca "$D/root.pem"
  check "client certificate required ${v:-TLS 1.3}: exit 1, tls-client-cert-required first (got $(first_cause))" \
    json 'd["findings"][0]["cause"] == "tls-client-cert-required" and not d["ok"] and "requires a client certificate" in d["info"]["client"]' <<<"$out"
  said=$(curl_says --cacert "$D/root.pem")
  echo "# client certificate required ${v:-TLS 1.3}: curl printed: $said"
  check "  curl fails too, on the alert the finding names" \
    python3 -c 'import json,sys; d=json.loads(sys.argv[2]); said=sys.argv[1]; why=d["findings"][0]["summary"].split("(")[-1].rstrip(")")
sys.exit(0 if said.startswith("curl: (") and why and why in said else 1)' "$said" "$out"
  stop
done
CURL_TRUST="--cacert $D/root.pem"
PY_TRUST=$D/root.pem
serve expired
expect_case expired cert-expired --ca "$D/root.pem"
check "expired: the date and the days in the summary" json \
  '"2024-02-01 00:00:00 UTC" in d["findings"][0]["summary"] and "days ago" in d["findings"][0]["summary"]' <<<"$out"
scan --ca "$D/root.pem" --expect 'cert-days>=14'
check "expired, --expect cert-days>=14: the deviation says expired" json \
  '"expired" in d["policy"]["deviations"][0]["found"] and not d["policy"]["met"]' <<<"$out"
stop
serve future
expect_case "not yet valid" cert-not-yet-valid --ca "$D/root.pem"
check "not yet valid: the start date in the summary" json '"2099-12-01" in d["findings"][0]["summary"]' <<<"$out"
stop
serve wrongname
expect_case "wrong name" cert-hostname --ca "$D/root.pem"
check "wrong name: the SAN and the name checked" json \
  '"DNS:other.example" in d["findings"][0]["summary"] and "localhost" in d["findings"][0]["summary"]' <<<"$out"
check "  the fix names a DNS entry for a host name" json '"subjectAltName=DNS:localhost" in d["findings"][0]["fix"]' <<<"$out"
scan --ca "$D/root.pem" --name 127.0.0.1
check "  and an IP entry for an address (got $(first_cause))" json \
  'd["findings"][0]["cause"] == "cert-hostname" and "subjectAltName=IP:127.0.0.1" in d["findings"][0]["fix"]' <<<"$out"
stop
serve viainter
expect_case "missing intermediate" cert-incomplete-chain --ca "$D/root.pem"
check "missing intermediate: names the issuer" json '"Shakedown Test Intermediate" in d["findings"][0]["summary"]' <<<"$out"
stop
serve viainter -cert_chain "$D/inter.pem"
scan --ca "$D/root.pem"
check "intermediate sent (-cert_chain): exit 0, 2 certificates" json 'd["ok"] and d["info"]["cert_chain"].startswith("2 certificates")' <<<"$out"
stop
serve rsa1024 -cipher ALL:@SECLEVEL=0
expect_case "RSA-1024" cert-weak --ca "$D/root.pem"
check "RSA-1024: the key size and the level" json '"RSA-1024" in d["findings"][0]["summary"] and "level 2" in d["findings"][0]["summary"]' <<<"$out"
client_differs RSA-1024 "key is below the 2048 bits" "EE certificate key too weak"
stop
serve sha1 -cipher ALL:@SECLEVEL=0
expect_case "SHA-1" cert-weak --ca "$D/root.pem"
check "SHA-1: the signature algorithm" json '"sha1WithRSAEncryption" in d["findings"][0]["summary"]' <<<"$out"
client_differs SHA-1 "signed with SHA-1 (sha1WithRSAEncryption)" "CA signature digest algorithm too weak"
stop
CURL_TRUST=
PY_TRUST=
serve self
expect_case "self-signed" cert-untrusted
check "self-signed: says so" json '"self-signed" in d["findings"][0]["summary"]' <<<"$out"
stop
serve mitm
scan --ca "$D/mitmca.pem"
check "interception CA: exit 1 although the chain verifies" [ "$rc" -eq 1 ]
check "interception CA: tls-interception, naming the issuer" json \
  'd["findings"][0]["cause"] == "tls-interception" and "mitmproxy" in d["findings"][0]["summary"]' <<<"$out"
stop
finish
