#!/usr/bin/env bash
# Builds the real optiboot (Debian arduino-core-avr's source, the Makefile's
# atmega328 target with the start-up LED flashes off) and the simavr runner
# into OUTDIR. Exit 77 when a tool or the source is missing.
# usage: tests/peers/optiboot/build.sh OUTDIR
set -u
out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
OB=/usr/share/arduino/hardware/arduino/avr/bootloaders/optiboot
command -v avr-gcc >/dev/null || { echo "no avr-gcc" >&2; exit 77; }
[ -f "$OB/optiboot.c" ] || { echo "no optiboot source ($OB)" >&2; exit 77; }
[ -f /usr/include/simavr/sim_avr.h ] || { echo "no libsimavr-dev" >&2; exit 77; }
mkdir -p "$out"
cp "$OB"/optiboot.c "$OB"/boot.h "$OB"/pin_defs.h "$OB"/stk500.h "$out"/
# The prebuilt .hex in the package is broken (532 bytes in a 512-byte boot
# section); this build is 496 bytes.
avr-gcc -Os -fno-inline-small-functions -fno-split-wide-types -mshort-calls \
  -mmcu=atmega328p -DF_CPU=16000000L -DBAUD_RATE=115200 -DLED_START_FLASHES=0 \
  -Wl,--section-start=.text=0x7e00 -Wl,--section-start=.version=0x7ffe -Wl,--relax \
  -nostartfiles -nostdlib -o "$out/optiboot.elf" "$out/optiboot.c" 2>"$out/avr-gcc.log" ||
  { cat "$out/avr-gcc.log" >&2; exit 1; }
cc -O2 -o "$out/runner" "$here/runner.c" -lsimavr 2>"$out/cc.log" ||
  { cat "$out/cc.log" >&2; echo "cannot build the simavr runner" >&2; exit 77; }
