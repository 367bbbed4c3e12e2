# Shared by the remote-port peer tests (sourced): simulators on ptys behind
# ser2net 4 (Debian) and pyserial's RFC 2217 PortManager, on loopback.
# Every process started here is recorded and stopped by PID on exit.
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
: "${SRCDIR:?set SRCDIR to the source tree}"
export LC_ALL=C NO_COLOR=1
PY=/usr/bin/python3   # Debian's, where python3-serial lives
command -v ser2net >/dev/null 2>&1 || { echo "ser2net not installed: skip"; exit 77; }
"$PY" -c 'import serial.rfc2217' 2>/dev/null || { echo "python3-serial not installed: skip"; exit 77; }
TMP=$(mktemp -d)
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null; done
  [ -n "${KEEP_TMP:-}" ] && echo "kept $TMP" || rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; return 1; fi; }
run() { out=$(timeout 60 "$@" 2>"$TMP/err" </dev/null); rc=$?; err=$(cat "$TMP/err"); }
json() { "$PY" -c "import json,sys; d=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
finish() { echo "$PASS passed, $FAIL failed"; [ "$FAIL" -eq 0 ]; }

# free_ports N: N TCP ports free on 127.0.0.1 right now (into PORTS)
free_ports() {
  mapfile -t PORTS < <("$PY" - "$1" <<'PYEOF'
import socket, sys
socks = []
for _ in range(int(sys.argv[1])):
    s = socket.socket(); s.bind(("127.0.0.1", 0)); socks.append(s)
for s in socks:
    print(s.getsockname()[1])
PYEOF
)
}

# sim NAME KIND [key=value ...]: a simulator on a pty; its path in PTY_<NAME>
sim() {
  local name=$1; shift
  rm -f "$TMP/sim_$name.out"
  "$SHAKEDOWN" sim "$@" >"$TMP/sim_$name.out" 2>"$TMP/sim_$name.err" &
  PIDS+=($!)
  local p=
  for _ in $(seq 1 100); do
    p=$(head -n 1 "$TMP/sim_$name.out" 2>/dev/null); [ -n "$p" ] && break; sleep 0.05
  done
  [ -n "$p" ] || return 1
  printf -v "PTY_$name" '%s' "$p"
}

# ser2net_conf FILE: starts the YAML (connections appended with s2n_conn)
S2N_CONF=
s2n_begin() { S2N_CONF=$TMP/ser2net.yaml; printf '%%YAML 1.1\n---\n' >"$S2N_CONF"; }
# s2n_conn NAME ACCEPTER DEVICE: one connection; ACCEPTER e.g.
# 'telnet(rfc2217),tcp,127.0.0.1,PORT' or 'tcp,127.0.0.1,PORT'
s2n_conn() {
  cat >>"$S2N_CONF" <<YAML
connection: &$1
  accepter: $2
  connector: serialdev(nouucplock=true),$3,115200n81,local
  options:
    max-connections: 1
YAML
}
# s2n_start PORT...: ser2net in the foreground, ready when every port listens
s2n_start() {
  ser2net -n -d -c "$S2N_CONF" >"$TMP/ser2net.log" 2>&1 &
  PIDS+=($!)
  wait_ports "$@"
}
# pyserver PORT DEVICE [--lines FIFO]: pyserial's PortManager in front of DEVICE
pyserver() {
  local port=$1; shift
  "$PY" "$SRCDIR/tests/peers/rfc2217_server.py" "$1" "$port" "${@:2}" >"$TMP/py_$port.out" 2>"$TMP/py_$port.err" &
  PIDS+=($!)
  wait_ports "$port"
}
wait_ports() {
  "$PY" - "$@" <<'PYEOF'
import socket, sys, time
end = time.time() + 10
for p in sys.argv[1:]:
    while True:
        s = socket.socket()
        try:
            s.connect(("127.0.0.1", int(p))); s.close(); break
        except OSError:
            s.close()
            if time.time() > end: sys.exit(1)
            time.sleep(0.05)
PYEOF
}
