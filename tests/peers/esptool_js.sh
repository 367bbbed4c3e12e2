#!/usr/bin/env bash
# Real peer: esptool-js (Espressif's JavaScript loader, from the npm registry)
# under Debian's nodejs, through a small Web Serial stand-in over a pty
# (tests/peers/esptool_js_peer.mjs), against `shakedown sim esp`: it must
# sync and name each simulated chip (ESPLoader.detectChip), the simulator
# must log nothing destructive, and `shakedown info esp` must name the same
# chip on the same pty. esptool-js is installed once into the build
# directory (esptool-js/node_modules, pinned 0.7.0; --prefer-offline reuses
# npm's cache). Exit 77 (skip) without node/npm, or when npm cannot fetch
# the package and no copy is cached (said why).
set -u
: "${SHAKEDOWN:?set SHAKEDOWN to the program}"
: "${SRCDIR:?set SRCDIR to the source tree}"
command -v node >/dev/null 2>&1 || { echo "node not installed (apt-get install nodejs npm): skip"; exit 77; }
command -v npm >/dev/null 2>&1 || { echo "npm not installed (apt-get install npm): skip"; exit 77; }
export LC_ALL=C
NPMDIR=${SD_NPM_DIR:-$PWD/esptool-js}
VERSION=0.7.0
if [ ! -f "$NPMDIR/node_modules/esptool-js/package.json" ] ||
   ! grep -q "\"version\": \"$VERSION\"" "$NPMDIR/node_modules/esptool-js/package.json"; then
  mkdir -p "$NPMDIR"
  [ -f "$NPMDIR/package.json" ] || echo '{"name":"sd-esptool-peer","private":true}' >"$NPMDIR/package.json"
  if ! (cd "$NPMDIR" && timeout 180 npm install --no-audit --no-fund --prefer-offline "esptool-js@$VERSION" >/dev/null 2>&1); then
    echo "npm could not install esptool-js@$VERSION (offline, and not in npm's cache): skip"
    exit 77
  fi
fi
TMP=$(mktemp -d)
SIM_PID=
cleanup() {
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
PASS=0 FAIL=0
ok()  { PASS=$((PASS + 1)); echo "ok - $*"; }
bad() { FAIL=$((FAIL + 1)); echo "not ok - $*"; }
check() { local n=$1; shift; if "$@"; then ok "$n"; else bad "$n"; fi; }

start_sim() { # start_sim KEY=VAL... -> SIM_PID, PTY
  [ -n "$SIM_PID" ] && kill "$SIM_PID" 2>/dev/null && wait "$SIM_PID" 2>/dev/null
  rm -f "$TMP/sim.out"
  "$SHAKEDOWN" sim -v esp "$@" >"$TMP/sim.out" 2>"$TMP/sim.err" &
  SIM_PID=$!
  PTY=
  for _ in $(seq 1 100); do
    PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null)
    [ -n "$PTY" ] && return 0
    sleep 0.05
  done
  return 1
}

echo "# esptool-js $VERSION, node $(node --version)"
for c in esp32:ESP32 esp32s3:ESP32-S3 esp32c3:ESP32-C3 esp8266:ESP8266; do
  chip=${c%%:*} name=${c#*:}
  start_sim chip="$chip" || { bad "$chip: the simulator started"; continue; }
  out=$(timeout 120 node "$SRCDIR/tests/peers/esptool_js_peer.mjs" "$PTY" "$NPMDIR/node_modules" 2>&1)
  check "esptool-js names the simulated $name" grep -qx "CHIP $name" <<<"$out"
  grep -q "^CHIP $name" <<<"$out" || sed 's/^/#   /' <<<"$out" | tail -8
  check "$chip: esptool-js sent nothing destructive" eval '! grep -q "destructive" "$TMP/sim.err"'
  check "$chip: esptool-js synced (the device logged its SYNC)" grep -q "cmd 0x08 sync" "$TMP/sim.err"
  info=$("$SHAKEDOWN" info --json esp "$PTY")
  check "$chip: shakedown info names the same chip on the same pty" python3 -c \
    'import json,sys; d=json.loads(sys.argv[1]); sys.exit(0 if d["answered_by"]["chip"] == sys.argv[2] else 1)' "$info" "$name"
done
echo "$PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
