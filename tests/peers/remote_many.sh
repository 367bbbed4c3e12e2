#!/usr/bin/env bash
# probe --targets over many remote ports: ser2net 4 (one process, one
# RFC 2217 accepter per port) in front of `shakedown sim` ptys in six kinds
# (STK500, STM32 and MediaTek loaders, an application printing text, a
# silent board, a TX-RX echo), plus a refused port. Every port gets the
# verdict its kind should get, each exactly once, JSON lines in finish
# order; a labgrid exporter YAML for the same ports gives the same.
# REMOTE_PORTS (default 54, a multiple of 6: the issue asks for more than
# 50 in CI) scales it.
. "$(dirname "$0")/remote_lib.bash"

N=${REMOTE_PORTS:-54}
kinds=("stk500" "stm32" "mtk" "app" "app mode=silent" "app mode=echo")
free_ports "$N"
s2n_begin
: >"$TMP/targets.txt"
printf 'rack-1:\n' >"$TMP/exporter.yaml"
for i in $(seq 0 $((N - 1))); do
  k=${kinds[$((i % 6))]}
  # shellcheck disable=SC2086
  sim "s$i" $k || { echo "sim $i failed"; exit 1; }
  eval pty=\$PTY_s$i
  s2n_conn "c$i" "telnet(rfc2217),tcp,127.0.0.1,${PORTS[$i]}" "$pty"
  echo "rfc2217://127.0.0.1:${PORTS[$i]}" >>"$TMP/targets.txt"
  printf '  port%d:\n    cls: NetworkSerialPort\n    host: 127.0.0.1\n    port: %d\n' "$i" "${PORTS[$i]}" >>"$TMP/exporter.yaml"
  printf '%s\n' "${PORTS[$i]} ${k/ mode=/}" >>"$TMP/kinds"
done
echo "rfc2217://127.0.0.1:1" >>"$TMP/targets.txt"   # nothing listens there
check "ser2net with $N accepters starts" s2n_start "${PORTS[@]}" || { cat "$TMP/ser2net.log"; finish; exit 1; }

# verdicts FILE: checks each JSON line against the port's kind
verdicts() {
  "$PY" - "$TMP/kinds" "$1" <<'PYEOF'
import json, sys
kind = {}
for line in open(sys.argv[1]):
    port, k = line.split()
    kind[port] = k
want = {  # ok, protocol, mode-or-None, top cause, another cause that must be there
    "stk500": (True, "stk500", None, "ok", None),
    "stm32": (True, "stm32", "bootloader", "ok", None),
    "mtk": (True, "mtk", "brom", "ok", None),
    # ser2net on a pty never acknowledges DTR/RTS: named first, the bytes' reading kept
    "app": (False, None, "application", "remote-no-lines", "app-running"),
    "appsilent": (False, None, None, "remote-no-lines", "silent"),
    "appecho": (False, None, "echo", "echo", None),
}
seen, bad = set(), 0
for line in open(sys.argv[2]):
    d = json.loads(line)
    port = d["target"].rsplit(":", 1)[1].split("?")[0]
    if port == "1":
        ok = not d["ok"] and d["findings"][0]["cause"] == "no-device"
        seen.add(port)
    else:
        k = kind[port]
        ok_, proto, mode, top, other = want[k]
        causes = [f["cause"] for f in d["findings"]]
        ok = (d["ok"] == ok_ and (proto is None or d["answered_by"]["protocol"] == proto)
              and (mode is None or d["answered_by"]["mode"] == mode)
              and causes and causes[0] == top and (other is None or other in causes))
        if port in seen:
            ok = False
        seen.add(port)
    if not ok:
        bad += 1
        print("wrong verdict for %s (%s): %s" % (d["target"], kind.get(port), line[:400]))
missing = set(kind) - seen
if missing:
    print("no verdict for", sorted(missing))
sys.exit(1 if bad or missing else 0)
PYEOF
}

start=$(date +%s.%N)
run "$SHAKEDOWN" probe --json --jobs 8 --targets "$TMP/targets.txt"
end=$(date +%s.%N)
printf '%s\n' "$out" >"$TMP/lines.json"
check "--targets: exit 1 (some ports are sick)" [ "$rc" -eq 1 ]
check "--targets: one JSON line per target ($((N + 1)))" [ "$(grep -c '^{' "$TMP/lines.json")" -eq $((N + 1)) ]
check "--targets: every port its kind's verdict" verdicts "$TMP/lines.json"
check "--targets: the summary table on stderr" grep -q "summary: $((N + 1)) targets, $((N / 2)) answered" <<<"$err" || echo "$err"
echo "# $N+1 remote ports at --jobs 8: $("$PY" -c "print(round($end - $start, 2))") s"

run "$SHAKEDOWN" probe --jobs 16 --targets "$TMP/exporter.yaml"
# the boards keep their state from the first round (loaders already in
# sync): only the count and the names are compared here
check "labgrid exporter YAML: $N targets, text lines and the table" grep -q "summary: $N targets, " <<<"$out" || echo "$out$err"
check "... one text line per target" [ "$(grep -c '^\[' <<<"$out")" -eq "$N" ]
check "... names from the YAML" grep -q "(rack-1/port0)" <<<"$out"

run "$SHAKEDOWN" probe --targets "$TMP/nope.txt"
check "unreadable targets file: exit 3" [ "$rc" -eq 3 ]
printf 'a:\n  NetworkSerialPort: {host: h}\n' >"$TMP/bad.yaml"
run "$SHAKEDOWN" probe --targets "$TMP/bad.yaml"
check "bad YAML entry: exit 2, line named" [ "$rc" -eq 2 ] && grep -q "line 2" <<<"$err"
run "$SHAKEDOWN" probe --targets "$TMP/targets.txt" sim:app
check "--targets with a TARGET: usage" [ "$rc" -eq 2 ]
finish
