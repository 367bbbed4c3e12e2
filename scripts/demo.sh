#!/usr/bin/env bash
# The main job, on a fresh machine: install what is missing, build, and probe
# a target. With no argument the target is the built-in simulated board that
# runs its application and prints "hello" (the classic "resp=0x68" case).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
if [ $# -eq 0 ]; then
  set -- probe 'sim:app?text=hello'
fi
exec ./build/shakedown "$@"
