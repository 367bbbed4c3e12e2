#!/usr/bin/env bash
# Builds the libFuzzer targets with clang and runs each briefly on a copy of
# its corpus (so a run never writes into the repository).
# usage: scripts/fuzz.sh [seconds-per-target]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
bash scripts/deps.sh
CC=clang cmake -S . -B build-fuzz -DSD_FUZZ=ON -DSD_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
status=0
for src in fuzz/fuzz_*.c; do
  name=$(basename "$src" .c)
  corpus=fuzz/corpus/${name#fuzz_}
  mkdir -p "$work/$name"
  [ -d "$corpus" ] && cp -r "$corpus"/. "$work/$name"/
  echo "fuzz: $name for ${secs}s" >&2
  if ! ./build-fuzz/"$name" -max_total_time="$secs" -max_len=65536 -timeout=10 \
       -rss_limit_mb=2048 -print_final_stats=0 -artifact_prefix="$work/$name-" \
       "$work/$name" >"$work/$name.log" 2>&1; then
    echo "fuzz: $name FAILED; its log:" >&2
    tail -n 60 "$work/$name.log" >&2
    status=1
  fi
done
exit $status
