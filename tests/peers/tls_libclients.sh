#!/usr/bin/env bash
# The library client profiles against the real libraries Debian 12 has:
# wolfSSL 5.5.4 (libwolfssl-dev) and Mbed TLS 2.28.3 (libmbedtls-dev). A
# client is built here on each with the library's defaults
# (tests/peers/wolfssl_client.c, mbedtls_client.c); it sends its ClientHello
# to a listener that records it, and the `wolfssl` / `mbedtls-2.28` profile
# must be that hello (versions, suites in order, groups in order, SNI). Then
# the fit of --client wolfssl / mbedtls-2.28 against s_server fixtures must
# agree with what the real client does (gets through, or fails and why).
# The `mbedtls` profile is Mbed TLS 3.6 LTS, which Debian 12 does not ship:
# its fit is checked against the same servers without a real peer (the unit
# tests hold its source facts).
. "$(dirname "$0")/tls_common.bash"
need cc pkg-config
pkg-config --exists wolfssl || { echo "skip: libwolfssl-dev not installed"; exit 77; }
cc -std=c11 -D_POSIX_C_SOURCE=200809L -o "$TMP/wolfssl_client" "$SRCDIR/tests/peers/wolfssl_client.c" \
  $(pkg-config --cflags --libs wolfssl) 2>"$TMP/cc.log" || { bad "wolfssl_client builds"; cat "$TMP/cc.log"; finish; exit; }
WOLF=$TMP/wolfssl_client
echo "# libwolfssl $(pkg-config --modversion wolfssl)"
MBED=
if grep -qs 'MBEDTLS_VERSION_STRING *"2\.28' /usr/include/mbedtls/version.h; then
  cc -std=c11 -D_POSIX_C_SOURCE=200809L -o "$TMP/mbedtls_client" "$SRCDIR/tests/peers/mbedtls_client.c" \
    -lmbedtls -lmbedx509 -lmbedcrypto 2>"$TMP/cc.log" || { bad "mbedtls_client builds"; cat "$TMP/cc.log"; }
  [ -x "$TMP/mbedtls_client" ] && MBED=$TMP/mbedtls_client
  echo "# libmbedtls $(sed -n 's/.*MBEDTLS_VERSION_STRING *"\([^"]*\)".*/\1/p' /usr/include/mbedtls/version.h)"
else
  echo "# no Mbed TLS 2.28 headers (libmbedtls-dev): the mbedtls-2.28 checks are skipped"
fi

# capture CLIENT [NAME]: the ClientHello of that client program, as JSON in $hello
capture() {
  local port ready=$TMP/ready.$RANDOM
  port=$(free_port)
  "$PY" "$SRCDIR/tests/peers/hello_capture.py" "$port" "$ready" >"$TMP/hello.json" 2>"$TMP/hello.err" &
  local cap=$!
  for _ in $(seq 100); do [ -e "$ready" ] && break; sleep 0.05; done
  timeout 10 "$1" 127.0.0.1 "$port" "${2:--}" >/dev/null 2>&1
  wait "$cap"
  hello=$(cat "$TMP/hello.json")
}
# profile_is_hello PROFILE: the profile, read from its data file, is the
# measured hello: suites in order (the renegotiation SCSV and the draft
# ChaCha20 code points aside), groups in order, versions (without
# supported_versions: the highest is the hello's), SNI sent only when set
profile_is_hello() {
  python3 - "$SRCDIR" "$hello" "$1" <<'PY'
import json, re, sys
src, hello, profile = sys.argv[1], json.loads(sys.argv[2]), sys.argv[3]
suite = {}
for l in open(src + "/src/proto/tls/suites.c"):
    m = re.search(r'\{ 0x([0-9A-Fa-f]{4}), "([A-Za-z0-9_]+)"', l)
    if m:
        suite[m.group(2)] = int(m.group(1), 16)
group = {}
for l in open(src + "/src/proto/tls/hello.c"):
    m = re.search(r'\{ 0x([0-9A-Fa-f]{4}), "([A-Za-z0-9]+)"', l)
    if m:
        group[m.group(2)] = int(m.group(1), 16)
text = open(src + "/src/diag/tls_clients.def").read()
block = text[text.index('CLIENT("%s",' % profile):]
tokens = re.findall(r'"((?:[^"\\]|\\.)*)"|(\b(?:0x[0-9a-fA-F]+|-?\d+|NULL)\b)', block)
args = [s if s or not b else b for s, b in tokens]
name, source, versions, cs, suites, suites13, groups, level, sni = args[:9]
want_suites = [suite[n] for n in (suites13.split(":") if suites13 else []) + suites.split(":")]
got_suites = [s for s in hello["suites"] if s not in (0x00FF, 0xCC13, 0xCC14, 0xCC15)]
if "versions" in hello:
    vmask = sum(1 << (int(v, 16) - 0x0300) for v in hello["versions"])
else:  # the hello's version is the highest; the lower ones the handshakes below tell
    top = 1 << (int(hello["hello_version"], 16) - 0x0300)
    vmask = int(versions, 16) if top == 1 << (int(versions, 16).bit_length() - 1) else top
ok = True
for what, want, got in (("suites", want_suites, got_suites), ("groups", [group[g] for g in groups.split(":")], hello["groups"]),
                        ("versions", int(versions, 16), vmask), ("sni", int(sni), int(0 in hello["extensions"]))):
    if want != got:
        ok = False
        print("# %s differ: profile %s, hello %s" % (what, want, got))
print("# measured: %d suites (%d in the profile), %d groups, versions %s, key share %s" %
      (len(hello["suites"]), len(want_suites), len(hello["groups"]), hello.get("versions", "none sent"), hello.get("key_share")))
sys.exit(0 if ok else 1)
PY
}
capture "$WOLF"
check "the wolfSSL client's hello was captured" json '"suites" in d' <<<"$hello"
check "wolfSSL's default hello carries no SNI" json '0 not in d["extensions"]' <<<"$hello"
check "the wolfssl profile is the measured hello: versions, suites in order, groups in order" profile_is_hello wolfssl
capture "$WOLF" app.example
check "with wolfSSL_UseSNI it sends the name (the capture reads SNI)" json 'd.get("sni") == "app.example"' <<<"$hello"
if [ -n "$MBED" ]; then
  capture "$MBED" app.example
  check "Mbed TLS 2.28 with the host name set sends it as SNI" json 'd.get("sni") == "app.example"' <<<"$hello"
  check "the mbedtls-2.28 profile is the measured hello: suites in order, groups in order, TLS 1.2 at most" \
    profile_is_hello mbedtls-2.28
fi

# a small PKI: a root, leaves of RSA-2048, RSA-1024, RSA-768
D=$TMP/pki
mkdir -p "$D"
q() { "$@" >/dev/null 2>>"$D/openssl.log"; }
q openssl req -x509 -newkey rsa:2048 -nodes -keyout "$D/root.key" -out "$D/root.pem" -days 30 -subj "/CN=Shakedown Lib Root" \
  -addext basicConstraints=critical,CA:true -addext keyUsage=critical,keyCertSign,cRLSign
for bits in 2048 1024 768; do
  q openssl req -newkey "rsa:$bits" -nodes -keyout "$D/r$bits.key" -out "$D/r$bits.csr" -subj /CN=localhost \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1"
  q openssl x509 -req -in "$D/r$bits.csr" -CA "$D/root.pem" -CAkey "$D/root.key" -CAcreateserial -out "$D/r$bits.pem" \
    -days 30 -copy_extensions copy
  [ -s "$D/r$bits.pem" ] || { bad "could not make the RSA-$bits certificate"; cat "$D/openssl.log"; finish; exit; }
done
# and an RSA-2048 leaf signed with SHA-1 (served as "sha1")
cp "$D/r2048.key" "$D/rsha1.key"
q openssl x509 -req -in "$D/r2048.csr" -CA "$D/root.pem" -CAkey "$D/root.key" -CAcreateserial -out "$D/rsha1.pem" \
  -days 30 -sha1 -copy_extensions copy
# serve BITS [s_server args]: that leaf on a free port ($PORT)
serve() {
  local bits=$1; shift
  PORT=$(free_port)
  openssl s_server -accept "127.0.0.1:$PORT" -cert "$D/r$bits.pem" -key "$D/r$bits.key" -www -quiet "$@" \
    >"$TMP/s_server.$PORT.log" 2>&1 </dev/null &
  SPID=$!
  PIDS+=("$SPID")
  wait_port "$PORT"
}
stop() { kill "$SPID" 2>/dev/null; wait "$SPID" 2>/dev/null; }
fit() { out=$(timeout 60 "$SHAKEDOWN" tls --json --no-order --ca "$D/root.pem" --client "$@" "localhost:$PORT"); }
client() { python3 -c 'import json,sys; print(json.load(sys.stdin)["info"].get("client",""))' <<<"$out"; }
real() { said=$(timeout 10 "$WOLF" localhost "$PORT" localhost "$D/root.pem"); echo "# wolfssl_client: $said"; }
# mbed PROFILE_VERDICT REAL_GLOB WHAT: --client mbedtls-2.28 says PROFILE_VERDICT
# (a Python test on info.client, c) and the real Mbed TLS 2.28 client's line
# matches REAL_GLOB
mbed() {
  [ -n "$MBED" ] || return 0
  local msaid
  fit mbedtls-2.28
  msaid=$(timeout 10 "$MBED" localhost "$PORT" localhost "$D/root.pem")
  echo "# mbedtls_client: $msaid"
  check "$3: --client mbedtls-2.28 ($(client))" python3 -c "import json,sys; c=json.load(sys.stdin)['info']['client']; sys.exit(0 if ($1) else 1)" <<<"$out"
  check "  and the real Mbed TLS 2.28 client agrees ($2)" bash -c '[[ "$1" == $2 ]]' _ "$msaid" "$2"
}

serve 1024 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0
fit wolfssl; real
check "RSA-1024, TLS 1.2: --client wolfssl gets through ($(client))" \
  json 'd["info"]["client"] == "wolfssl: gets through with TLSv1.2, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, secp521r1"' <<<"$out"
check "  and the real wolfSSL client does, on the same curve (its first: secp521r1)" [ "$said" = "OK TLSv1.2 ECDHE-RSA-AES128-GCM-SHA256 SECP521R1" ]
check "  its certificate rule said (RSA >= 1024)" json 'd["info"]["client_cert_fit"].startswith("wolfssl accepts the RSA-1024 key")' <<<"$out"
fit mbedtls
check "RSA-1024: --client mbedtls refuses it (x509 default profile: RSA >= 2048) ($(client))" \
  json '"its RSA-1024 key is below the 2048 bits it requires" in d["info"]["client"]' <<<"$out"
mbed '"its RSA-1024 key is below the 2048 bits it requires" in c' 'FAIL*verify 0x10000*' "RSA-1024"
stop

serve 768 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0
fit wolfssl; real
check "RSA-768: --client wolfssl fails on the key size ($(client))" \
  json '"its RSA-768 key is below the 1024 bits it requires" in d["info"]["client"] and d["findings"][0]["cause"] == "cert-weak"' <<<"$out"
check "  and the real wolfSSL client fails: RSA key too small" bash -c '[[ "$1" == FAIL*"RSA key too small"* ]]' _ "$said"
mbed '"its RSA-768 key is below the 2048 bits it requires" in c' 'FAIL*verify 0x10000*' "RSA-768"
stop

serve sha1 -tls1_2 -cipher 'ECDHE-RSA-AES128-GCM-SHA256:@SECLEVEL=0'
fit wolfssl; real
check "SHA-1-signed: --client wolfssl takes it ($(client))" json 'd["info"]["client"].startswith("wolfssl: gets through with TLSv1.2")' <<<"$out"
check "  and the real wolfSSL client does" [ "${said%% *}" = OK ]
mbed '"signed with SHA-1 (sha1WithRSAEncryption)" in c' 'FAIL*verify 0x4000*' "SHA-1-signed"
stop

serve 2048 -tls1 -cipher 'AES128-SHA:@SECLEVEL=0'
fit wolfssl; real
check "TLS 1.0 only: --client wolfssl, no common version ($(client))" \
  json 'd["info"]["client"].startswith("wolfssl: fails: no common version: it offers TLSv1.3, TLSv1.2, TLSv1.1; the server accepts TLSv1.0")' <<<"$out"
check "  and the real wolfSSL client fails" [ "${said%% *}" = FAIL ]
fit mbedtls
check "TLS 1.0 only: --client mbedtls, no common version" json 'd["info"]["client"].startswith("mbedtls: fails: no common version")' <<<"$out"
mbed 'c == "mbedtls-2.28: gets through with TLSv1.0, TLS_RSA_WITH_AES_128_CBC_SHA"' 'OK TLSv1.0 *' "TLS 1.0 only"
stop

serve 2048 -tls1_2 -cipher 'AES128-SHA'
fit wolfssl; real
check "TLS 1.2 with static-RSA AES128-SHA only: --client wolfssl, no common suite ($(client))" \
  json 'd["info"]["client"].startswith("wolfssl: fails: no common suite in TLSv1.2")' <<<"$out"
check "  and the real wolfSSL client fails" [ "${said%% *}" = FAIL ]
fit mbedtls
check "  --client mbedtls has it (TLS_RSA_WITH_AES_128_CBC_SHA in ciphersuite_preference)" \
  json 'd["info"]["client"] == "mbedtls: gets through with TLSv1.2, TLS_RSA_WITH_AES_128_CBC_SHA"' <<<"$out"
mbed 'c == "mbedtls-2.28: gets through with TLSv1.2, TLS_RSA_WITH_AES_128_CBC_SHA"' 'OK TLSv1.2 TLS-RSA-WITH-AES-128-CBC-SHA' "TLS 1.2 static-RSA only"
stop

serve 2048 -tls1_3 -groups X25519
fit wolfssl; real
check "TLS 1.3 with x25519 only: --client wolfssl gets through ($(client))" \
  json 'd["info"]["client"].startswith("wolfssl: gets through with TLSv1.3") and d["info"]["client"].endswith("x25519")' <<<"$out"
check "  and the real wolfSSL client does, on x25519 (after a HelloRetryRequest: its key share is secp256r1)" \
  bash -c '[[ "$1" == "OK TLSv1.3 "*" X25519" ]]' _ "$said"
mbed 'c.startswith("mbedtls-2.28: fails: no common version: it offers TLSv1.2, TLSv1.1, TLSv1.0; the server accepts TLSv1.3")' 'FAIL *' "TLS 1.3 only"
stop
finish
