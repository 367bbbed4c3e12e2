#!/usr/bin/env bash
# shakedown sim on a real pty: the path comes first, text flows, echo works,
# our own probe reads it, SIGTERM ends it cleanly, bad keys are refused.
. "$(dirname "$0")/lib.sh"


check "sim app starts and prints a pty path" start_sim app 'text=hello\r\n' period_ms=20
check "the path is a pty" [ -c "$PTY" ]
check "the first line is the path alone" [ "$(wc -l <"$TMP/sim.out")" -eq 1 ]
got=$(timeout 5 python3 - "$PTY" <<'PY'
import os, sys, termios, tty, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
buf = b""
end = time.time() + 3
while b"hello" not in buf and time.time() < end:
    buf += os.read(fd, 64)
print(buf.decode("latin-1"))
PY
)
check "text arrives on the pty" grep -q hello <<<"$got"

run "$SHAKEDOWN" probe --json "$PTY"
check "probe of the pty: app-running first" json 'd["findings"][0]["cause"] == "app-running"' <<<"$out"
stop_sim
check "SIGTERM: exit 0" [ "$SIM_RC" -eq 0 ]

check "sim echo starts" start_sim app mode=echo -v
got=$(timeout 5 python3 - "$PTY" <<'PY'
import os, sys, tty, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_NOCTTY)
tty.setraw(fd)
os.write(fd, b"\x30\x20")
buf = b""
end = time.time() + 3
while len(buf) < 2 and time.time() < end:
    buf += os.read(fd, 64)
print(buf.hex())
PY
)
check "echo mode returns our bytes" [ "$got" = "3020" ]
stop_sim
check "-v logs what the device received" grep -q "cmd 0x30" "$TMP/sim.err"

run "$SHAKEDOWN" sim app txet=hello
check "bad key: exit 2" [ "$rc" -eq 2 ]
check "bad key: one line naming it" [ "$(lines "$err")" -eq 1 ] && grep -q txet <<<"$err"
run "$SHAKEDOWN" sim nosuch
check "unknown device: exit 2" [ "$rc" -eq 2 ]
run "$SHAKEDOWN" sim --list
check "--list names app and its modes" grep -q "app-\?.*\|app " <<<"$out" && grep -q "bootloop" <<<"$out"

finish
