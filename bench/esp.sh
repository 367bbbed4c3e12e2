#!/usr/bin/env bash
# bench/esp.sh — shakedown vs esptool-js (npm, under node) against the same
# simulated ESP (`shakedown sim esp` on a pty), in one run:
#   1. open -> chip named: `shakedown info esp PTY` (which also reads MAC and
#      revision, each twice) vs esptool-js ESPLoader.detectChip through
#      tests/peers/esptool_js_peer.mjs: medians over REPS runs and the ratio;
#   2. time to the "wrong boot mode" verdict for a board that boots from
#      flash (mode=app): shakedown sync esp PTY (its boot log still waits in
#      the pty) vs esptool-js's connect, which makes 7 attempts before
#      giving up;
#   3. the same verdict in process with the reset circuit modelled
#      (sim:esp?mode=app&wired=en: EN wired, GPIO0 not), all four reset
#      strategies tried: the session's own waits on the link clock; and a
#      chip on its own USB-Serial/JTAG port (303a:1001) reset into its loader;
#   4. replies 250 ms late (sim delay_ms=250: SYNC replies overlap):
#      shakedown sync and info (overlapping-syncs reported) vs esptool-js.
# A pty carries no DTR/RTS: on it neither tool can reset the chip.
# usage: SHAKEDOWN=build/shakedown [NPMDIR=build/esptool-js] REPS=5 bench/esp.sh
set -u
SD=${SHAKEDOWN:-build/shakedown}
REPS=${REPS:-5}
SRC=$(cd "$(dirname "$0")/.." && pwd)
NPMDIR=${NPMDIR:-$(dirname "$SD")/esptool-js}
export LC_ALL=C
command -v node >/dev/null || { echo "bench/esp.sh: needs node (apt-get install nodejs npm)"; exit 77; }
if [ ! -f "$NPMDIR/node_modules/esptool-js/package.json" ]; then
  mkdir -p "$NPMDIR" && echo '{"name":"sd-esptool-peer","private":true}' >"$NPMDIR/package.json"
  (cd "$NPMDIR" && npm install --no-audit --no-fund --prefer-offline esptool-js@0.7.0 >/dev/null 2>&1) ||
    { echo "bench/esp.sh: npm could not install esptool-js"; exit 77; }
fi
TMP=$(mktemp -d)
SIM_PID=
stop_sim() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null; wait "$SIM_PID" 2>/dev/null; fi
  SIM_PID=
}
trap 'stop_sim; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
start_sim() {
  stop_sim
  rm -f "$TMP/sim.out"
  "$SD" sim esp "$@" >"$TMP/sim.out" 2>/dev/null &
  SIM_PID=$!
  PTY=
  for _ in $(seq 1 200); do
    PTY=$(head -n 1 "$TMP/sim.out" 2>/dev/null)
    [ -n "$PTY" ] && return 0
    sleep 0.05
  done
  echo "bench/esp.sh: the simulator did not start" >&2
  exit 1
}
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

echo "# esptool-js $(grep -o '"version": "[^"]*"' "$NPMDIR/node_modules/esptool-js/package.json" | cut -d'"' -f4), node $(node --version), REPS=$REPS"
for chip in esp32 esp32s3 esp8266; do
  : >"$TMP/sd" ; : >"$TMP/js"
  for _ in $(seq 1 "$REPS"); do
    start_sim chip=$chip
    t=$(date +%s%N); out=$("$SD" info --json esp "$PTY"); e=$(ms "$t")
    grep -q '"chip":"' <<<"$out" && echo "$e" >>"$TMP/sd"
    start_sim chip=$chip
    t=$(date +%s%N); out=$(timeout 120 node "$SRC/tests/peers/esptool_js_peer.mjs" "$PTY" "$NPMDIR/node_modules" 2>&1); e=$(ms "$t")
    grep -q '^CHIP ' <<<"$out" && echo "$e" >>"$TMP/js"
  done
  a=$(median <"$TMP/sd"); b=$(median <"$TMP/js")
  printf '1. chip named  %-8s shakedown info %5s ms (%s/%s)  esptool-js detectChip %5s ms (%s/%s)  ratio %s\n' \
    "$chip" "$a" "$(wc -l <"$TMP/sd")" "$REPS" "$b" "$(wc -l <"$TMP/js")" "$REPS" \
    "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
done

start_sim mode=app
t=$(date +%s%N); out=$("$SD" sync --json esp "$PTY"); a=$(ms "$t")
va=$(python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["findings"][0]["cause"])' <<<"$out")
start_sim mode=app
t=$(date +%s%N); out=$(timeout 180 node "$SRC/tests/peers/esptool_js_peer.mjs" "$PTY" "$NPMDIR/node_modules" 2>&1); b=$(ms "$t")
vb=$(grep '^ERROR' <<<"$out" | head -1 | cut -c1-90)
printf '2. flash boot  shakedown sync %5s ms: %s\n               esptool-js     %5s ms: %s\n' "$a" "$va" "$b" "${vb:-?}"
printf '               ratio %s\n' "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "-" }')"
stop_sim

: >"$TMP/s4"; : >"$TMP/i4"; : >"$TMP/j4"
for _ in $(seq 1 "$REPS"); do
  start_sim delay_ms=250
  t=$(date +%s%N); out=$("$SD" sync --json esp "$PTY"); e=$(ms "$t")
  grep -q '"cause":"overlapping-syncs"' <<<"$out" && echo "$e" >>"$TMP/s4"
  start_sim delay_ms=250
  t=$(date +%s%N); out=$("$SD" info --json esp "$PTY"); e=$(ms "$t")
  grep -q '"chip":"ESP32"' <<<"$out" && echo "$e" >>"$TMP/i4"
  start_sim delay_ms=250
  t=$(date +%s%N); out=$(timeout 120 node "$SRC/tests/peers/esptool_js_peer.mjs" "$PTY" "$NPMDIR/node_modules" 2>&1); e=$(ms "$t")
  grep -q '^CHIP ESP32' <<<"$out" && echo "$e" >>"$TMP/j4"
done
printf '4. 250 ms late shakedown sync %5s ms (%s/%s, overlapping-syncs)  info %5s ms (%s/%s)  esptool-js detectChip %5s ms (%s/%s)\n' \
  "$(median <"$TMP/s4")" "$(wc -l <"$TMP/s4")" "$REPS" "$(median <"$TMP/i4")" "$(wc -l <"$TMP/i4")" "$REPS" \
  "$(median <"$TMP/j4")" "$(wc -l <"$TMP/j4")" "$REPS"
stop_sim

# 3. in process: the link clock of the session (the waits a real board would cost)
cat >"$TMP/v.c" <<'CEOF'
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "shakedown/shakedown.h"
int main(int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		sd_link *l = NULL;
		if (sd_link_open(argv[i], NULL, &l, NULL, 0))
			return 1;
		const sd_proto *p = sd_proto_find("esp");
		void *ctx = calloc(1, p->ctx_size);
		static sd_report r;
		sd_report_init(&r, "sync", argv[i]);
		sd_proto_args a = { 0 };
		sd_time t0 = sd_now(l->clock);
		p->session(ctx, l, &a, &r);
		sd_diag_sort(&r.diag);
		printf("3. in process  %-40s %5lld ms (link clock): %s\n", argv[i],
		       (long long)((sd_now(l->clock) - t0) / 1000), r.diag.n ? sd_cause_name(r.diag.f[0].cause) : "ok");
		free(ctx);
		sd_link_close(l);
	}
	return 0;
}
CEOF
B=$(dirname "$SD")
LIBS="$B/libshakedown.a $(pkg-config --libs libserialport libcjson 2>/dev/null) -lssl -lcrypto -ldl -lm"
# shellcheck disable=SC2086
if cc -std=c11 -I"$SRC/include" "$TMP/v.c" $LIBS -o "$TMP/v" 2>"$TMP/cc.err" ||
   cc -std=c11 -fsanitize=address,undefined -I"$SRC/include" "$TMP/v.c" $LIBS -o "$TMP/v" 2>"$TMP/cc.err"; then
  "$TMP/v" 'sim:esp?mode=app&wired=en' 'sim:esp?chip=esp32c3&mode=app&wired=en' 'sim:esp?mode=app' 'sim:esp' \
    'sim:esp?chip=esp32c3&wired=usbjtag&mode=app' 'sim:esp?chip=esp32c3&wired=usbjtag&mode=app&usbid=none'
else
  echo "3. (not built: $(head -1 "$TMP/cc.err"))"
fi
