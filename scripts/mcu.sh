#!/usr/bin/env bash
# Builds the freestanding engine layer and its example programs for both
# microcontroller targets from a clean build tree (cmake/toolchains/), and
# measures each protocol module on the LINKED example image: flash = text +
# data, RAM = data + bss (static RAM; the stack is not in it), each minus the
# same figures of the baseline program (the same UART link, tick and main
# without the engine). Checks them against scripts/mcu-budget.txt: over a
# ceiling exits 1; over issue 15's target is reported (exit 1 with --strict).
# Ends with one line per target and module:
#   TARGET MODULE flash=BYTES ram=BYTES
# A target whose compiler is absent is skipped (exit 77 when both are).
# usage: bash scripts/mcu.sh [--strict]   (SD_MCU_BUILD=DIR: build there)
set -u
cd "$(dirname "$0")/.."
out=${SD_MCU_BUILD:-build-mcu}
strict=0
[ "${1:-}" = --strict ] && strict=1
budget=scripts/mcu-budget.txt
rc=0 built=0
summary=()

limit() { # TARGET MODULE FIELD(3..6) -> number or -
  awk -v t="$1" -v m="$2" -v f="$3" '$1 == t && $2 == m { print $f; found = 1 } END { if (!found) print "-" }' "$budget"
}
sizes() { # ELF SIZE-TOOL -> "text data bss"
  "$2" "$1" | awk 'NR == 2 { print $1, $2, $3 }'
}

for spec in avr:avr-atmega328p:avr-gcc:avr-size m0plus:arm-cortex-m0plus:arm-none-eabi-gcc:arm-none-eabi-size; do
  IFS=: read -r name tc cc size <<<"$spec"
  if ! command -v "$cc" >/dev/null || ! command -v "$size" >/dev/null; then
    echo "$name: $cc not installed: skipped" >&2
    continue
  fi
  dir=$out/$name
  rm -rf "$dir"
  mkdir -p "$out"
  if ! cmake -S . -B "$dir" --toolchain "cmake/toolchains/$tc.cmake" -DCMAKE_BUILD_TYPE=MinSizeRel \
       >"$out/$name.log" 2>&1 || ! cmake --build "$dir" -j2 >>"$out/$name.log" 2>&1; then
    echo "$name: build failed:" >&2
    tail -n 30 "$out/$name.log" >&2
    rc=1
    continue
  fi
  built=$((built + 1))
  read -r bt bd bb < <(sizes "$dir/sync_baseline.elf" "$size")
  for elf in "$dir"/sync_*.elf; do
    proto=$(basename "$elf" .elf)
    proto=${proto#sync_}
    [ "$proto" = baseline ] && continue
    read -r t d b < <(sizes "$elf" "$size")
    module=core+$proto
    flash=$((t + d - bt - bd))
    ram=$((d + b - bd - bb))
    echo "$name $module: image flash=$((t + d)) ram=$((d + b)), baseline flash=$((bt + bd)) ram=$((bd + bb))"
    ft=$(limit "$name" "$module" 3) rt=$(limit "$name" "$module" 4)
    fc=$(limit "$name" "$module" 5) rcap=$(limit "$name" "$module" 6)
    if [ "$fc" != - ] && [ "$flash" -gt "$fc" ]; then
      echo "$name $module: flash $flash > ceiling $fc ($budget): OVER" >&2; rc=1
    fi
    if [ "$rcap" != - ] && [ "$ram" -gt "$rcap" ]; then
      echo "$name $module: ram $ram > ceiling $rcap ($budget): OVER" >&2; rc=1
    fi
    if [ "$ft" != - ] && [ "$flash" -gt "$ft" ]; then
      echo "$name $module: flash $flash > issue 15's target $ft: NOT MET" >&2
      [ $strict -eq 1 ] && rc=1
    fi
    if [ "$rt" != - ] && [ "$ram" -gt "$rt" ]; then
      echo "$name $module: ram $ram > issue 15's target $rt: NOT MET" >&2
      [ $strict -eq 1 ] && rc=1
    fi
    summary+=("$name $module flash=$flash ram=$ram")
  done
done
[ "$built" -eq 0 ] && [ "$rc" -eq 0 ] && { echo "no MCU toolchain installed: skipped" >&2; exit 77; }
printf '%s\n' "${summary[@]}"
exit $rc
