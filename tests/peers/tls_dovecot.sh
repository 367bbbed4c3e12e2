#!/usr/bin/env bash
# A real IMAP server from Debian (dovecot-imapd), private instance on a free
# port with a throw-away certificate: --starttls imap enumerates behind its
# STARTTLS, the certificate is read through it, and openssl s_client
# -starttls imap agrees on the versions.
. "$(dirname "$0")/tls_common.bash"
need dovecot
[ "$(id -u)" -eq 0 ] || { echo "skip: a private dovecot needs root here (its login users)"; exit 77; }
make_cert
port=$(free_port)
D=$TMP/dovecot
mkdir -p "$D/run" "$D/state"
cat >"$D/dovecot.conf" <<EOC
base_dir = $D/run
state_dir = $D/state
log_path = $D/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = yes
ssl_cert = <$TMP/cert.pem
ssl_key = <$TMP/key.pem
ssl_min_protocol = TLSv1.2
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = $port
  }
  inet_listener imaps {
    port = 0
  }
  chroot =
}
service anvil {
  chroot =
}
passdb {
  driver = static
  args = password=unused
}
userdb {
  driver = static
  args = uid=nobody gid=nogroup home=$D/home
}
EOC
dovecot -F -c "$D/dovecot.conf" >"$D/stdout" 2>&1 &
PIDS+=($!)
wait_port "$port" || { bad "dovecot started"; cat "$D/dovecot.log" "$D/stdout" 2>/dev/null | tail -5; finish; exit 1; }

out=$(timeout 60 "$SHAKEDOWN" tls --json --ca "$TMP/cert.pem" --starttls imap --no-groups --no-order "127.0.0.1:$port"); rc=$?
check "dovecot STARTTLS: exit 0" [ "$rc" -eq 0 ]
check "dovecot STARTTLS: TLS 1.2 and 1.3 behind it, certificate read through it" \
  json 'sorted(d["versions"]) == ["TLSv1.2", "TLSv1.3"] and d["info"]["starttls"] == "imap" and d["info"]["cert_verify"] == "ok"' <<<"$out"
for v in tls1_2 tls1_3; do
  check "s_client -starttls imap -$v agrees" bash -c "echo | timeout 10 openssl s_client -connect 127.0.0.1:$port -starttls imap -$v 2>&1 | grep -q 'Cipher is [A-Z]'"
done
# (s_client prints the Protocol it tried even when it failed: the cipher tells)
check "s_client -starttls imap -tls1_1 is refused, as we say" bash -c "echo | timeout 10 openssl s_client -connect 127.0.0.1:$port -starttls imap -tls1_1 -cipher DEFAULT:@SECLEVEL=0 2>&1 | grep -q 'Cipher is (NONE)'"
out=$(timeout 60 "$SHAKEDOWN" tls --json --no-cert --starttls smtp --wait 1000 "127.0.0.1:$port"); rc=$?
check "the IMAP port probed as SMTP: exit 1, no SMTP reply (got $(python3 -c 'import json,sys; print(json.load(sys.stdin)["findings"][0]["cause"])' <<<"$out"))" \
  json 'not d["ok"] and d["findings"][0]["cause"] == "wrong-protocol"' <<<"$out"
finish
