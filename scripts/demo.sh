#!/usr/bin/env bash
# The main job, on a fresh machine: install what is missing, build, and probe.
# With no argument it probes two built-in simulated boards and exits 0 when
# both showed what they are there to show:
#   1. sim:app?text=hello — a board that runs its application and prints
#      "hello" (the classic "resp=0x68"): the diagnosis names it;
#   2. sim:stk500 — an Arduino with optiboot behind the usual DTR-to-reset
#      capacitor, running its sketch: probe resets it into its loader and
#      says which avrdude line will work.
# With arguments, they are shakedown's (e.g. `probe /dev/ttyUSB0`), and the
# exit status is shakedown's.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
if [ $# -gt 0 ]; then
  exec ./build/shakedown "$@"
fi

echo "\$ shakedown probe 'sim:app?text=hello'    # a board that never entered its bootloader"
rc1=0; ./build/shakedown probe 'sim:app?text=hello' || rc1=$?
echo
echo "\$ shakedown probe sim:stk500               # an Arduino running its sketch; probe resets it"
rc2=0; ./build/shakedown probe sim:stk500 || rc2=$?
echo
# The first is a failed handshake by design (exit 1, diagnosis printed); the
# second must succeed. Anything else means the demo did not show its point.
if [ "$rc1" -eq 1 ] && [ "$rc2" -eq 0 ]; then
  echo "demo: a diagnosis and a working handshake, as expected"
  exit 0
fi
echo "demo: unexpected exit codes ($rc1, $rc2): expected 1 (diagnosis) and 0 (handshake)" >&2
exit 1
