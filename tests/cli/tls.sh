#!/usr/bin/env bash
# shakedown tls: usage errors and target parsing (no network; the real
# servers are in tests/peers/tls_*.sh).
. "$(dirname "$0")/lib.sh"

run "$SHAKEDOWN" tls
check "no host: exit 2" [ "$rc" -eq 2 ]
check "no host: one line naming the problem" grep -q "which host" <<<"$err"
run "$SHAKEDOWN" tls 127.0.0.1:0
check "port 0: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" tls 127.0.0.1:99999
check "port 99999: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" tls '[::1'
check "unclosed IPv6 bracket: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" tls --versions 1.4 localhost
check "--versions 1.4: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" tls a b
check "two hosts: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" tls --trace "$TMP/t.jsonl" --targets /dev/null
check "--trace with --targets: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" tls --expect min=1.4 localhost
check "--expect with a bad rule: exit 2, naming it" bash -c '[ "$1" -eq 2 ] && grep -q "min=1.4" <<<"$2"' _ "$rc" "$err"
run "$SHAKEDOWN" tls --expect "@$TMP/no-such-policy" localhost
check "--expect @FILE missing: exit 3" [ "$rc" -eq 3 ]
printf 'min=1.2\nbogus\n' >"$TMP/policy"
run "$SHAKEDOWN" tls --expect "@$TMP/policy" localhost
check "--expect @FILE with an unknown rule: exit 2" bash -c '[ "$1" -eq 2 ] && grep -q "bogus" <<<"$2"' _ "$rc" "$err"
run "$SHAKEDOWN" tls --help
check "--help: exit 0 and usage" bash -c '[ "$1" -eq 0 ] && grep -q "HOST\[:PORT\]" <<<"$2"' _ "$rc" "$out"
run "$SHAKEDOWN" --help
check "listed in the command table" grep -q "^  tls " <<<"$out"
# an unknown host: cannot open, exit 3, and --json still reports
run "$SHAKEDOWN" tls --json no-such-host.invalid
check "unknown host: exit 3" [ "$rc" -eq 3 ]
check "unknown host: JSON report with a cause" json 'd["command"] == "tls" and d["findings"][0]["cause"] == "no-device"' <<<"$out"
# explain reads a ServerHello / HelloRetryRequest with the prober's parser
hrr=$(od -An -v -tx1 "$SRCDIR/fuzz/corpus/tls/tls13-hrr-nginx" | tr -d ' \n')
run "$SHAKEDOWN" explain "$hrr"
check "explain: a HelloRetryRequest with its suite and group" \
  grep -q "HelloRetryRequest choosing TLSv1.3, TLS_AES_128_GCM_SHA256 (0x1301), group x25519" <<<"$out"
sh12=$(od -An -v -tx1 "$SRCDIR/fuzz/corpus/tls/tls12-flight-s_server" | tr -d ' \n')
run "$SHAKEDOWN" explain "$sh12"
check "explain: a TLS 1.2 ServerHello with its suite" grep -q "ServerHello choosing TLSv1.2, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384" <<<"$out"
finish
