#!/usr/bin/env bash
# One-byte round trip through a pty pair with an echoing peer: shakedown's
# links next to raw poll/read/write, median and p99, ratio printed.
# usage: bench/link-rtt.sh [rounds]
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
cmake -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DSD_TESTS=OFF -DSD_BENCH=ON >/dev/null
cmake --build build-bench -j"$(nproc)" --target bench_link_rtt >/dev/null
exec ./build-bench/bench_link_rtt "${1:-5000}"
