#!/usr/bin/env bash
# Not TLS at all: an SMTP greeter, an SSH-like banner, a silent service and a
# service that closes at once. Each is named from the first connection.
. "$(dirname "$0")/tls_common.bash"
need socat
greeter() { # greeter PORT TEXT: answers every connection with TEXT, then reads
  local port=$1 text=$2
  printf '%s\n' "printf -- '$text'" "sleep 1" >"$TMP/greet.$port"
  socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork" "EXEC:bash $TMP/greet.$port" >/dev/null 2>&1 &
  PIDS+=($!)
  wait_port "$port"
}
p1=$(free_port); greeter "$p1" '220 mail.example ESMTP ready\r\n'
out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$p1"); rc=$?
check "smtp: exit 1" [ "$rc" -eq 1 ]
check "smtp: service smtp, plaintext-service" \
  json 'd["service"] == "smtp" and d["findings"][0]["cause"] == "plaintext-service"' <<<"$out"
check "smtp: the fix names --starttls smtp" json '"--starttls smtp" in d["findings"][0]["fix"]' <<<"$out"
check "smtp: one connection" json 'd["connections"] == 1' <<<"$out"
out=$(timeout 30 "$SHAKEDOWN" tls "127.0.0.1:$p1")
check "smtp: text names the greeting" grep -q "220 mail.example" <<<"$out"

p2=$(free_port); greeter "$p2" 'SSH-2.0-OpenSSH_9.2\r\n'
out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$p2")
check "ssh: service ssh" json 'd["service"] == "ssh" and d["findings"][0]["cause"] == "plaintext-service"' <<<"$out"

# More services that speak first (or answer our hello), each named from its first bytes.
while read -r svc text; do
  p=$(free_port); greeter "$p" "$text"
  out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$p")
  check "$svc: named, plaintext-service, one connection" \
    json "d['service'] == '$svc' and d['findings'][0]['cause'] == 'plaintext-service' and d['connections'] == 1" <<<"$out"
done <<'SVCS'
imap * OK [CAPABILITY IMAP4rev1] ready\r\n
pop3 +OK POP3 server ready\r\n
redis -ERR unknown command\r\n
ftp 220 ProFTPD Server (FTP) ready\r\n
mysql \x4a\x00\x00\x00\x0a8.0.36\x00\x08\x00\x00\x00abcdefgh\x00
postgresql E\x00\x00\x00\x54SFATAL\x00C0A000\x00Munsupported frontend protocol\x00\x00
http2 \x00\x00\x12\x04\x00\x00\x00\x00\x00\x00\x03\x00\x00\x00\x64\x00\x04\x00\x01\x00\x00\x00\x05\x00\xff\xff\xff
SVCS

p3=$(free_port)
socat "TCP-LISTEN:$p3,bind=127.0.0.1,reuseaddr,fork" "EXEC:sleep 5" >/dev/null 2>&1 &
PIDS+=($!); wait_port "$p3"
start=$(date +%s%N)
out=$(timeout 30 "$SHAKEDOWN" tls --json --wait 300 "127.0.0.1:$p3"); rc=$?
ms=$(( ($(date +%s%N) - start) / 1000000 ))
check "silent: exit 1" [ "$rc" -eq 1 ]
check "silent: cause silent, one connection" \
  json 'd["service"] == "silent" and d["findings"][0]["cause"] == "silent" and d["connections"] == 1' <<<"$out"
check "silent: bounded by --wait (${ms} ms)" [ "$ms" -lt 3000 ]

p4=$(free_port)
socat "TCP-LISTEN:$p4,bind=127.0.0.1,reuseaddr,fork" "EXEC:true" >/dev/null 2>&1 &
PIDS+=($!); wait_port "$p4"
out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$p4"); rc=$?
check "closed: exit 1" [ "$rc" -eq 1 ]
check "closed: middlebox-reset named" json 'd["findings"][0]["cause"] == "middlebox-reset"' <<<"$out"

# A filter that resets every connection (SO_LINGER 0): service "reset".
p6=$(free_port)
"$PY" - "$p6" <<'PY' &
import socket, struct, sys
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1]))); s.listen(64)
while True:
    c, _ = s.accept()
    c.recv(10)  # the hello has arrived
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PY
PIDS+=($!); wait_port "$p6"
out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$p6"); rc=$?
check "reset: service reset, middlebox-reset, one connection per version" \
  json 'd["service"] == "reset" and d["findings"][0]["cause"] == "middlebox-reset" and "reset" in d["findings"][0]["summary"] and d["connections"] == 5' <<<"$out"

# Nothing listens: cannot connect, exit 3.
p5=$(free_port)
out=$(timeout 30 "$SHAKEDOWN" tls --json "127.0.0.1:$p5"); rc=$?
check "refused: exit 3" [ "$rc" -eq 3 ]
finish
