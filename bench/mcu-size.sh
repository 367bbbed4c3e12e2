#!/usr/bin/env bash
# Flash and RAM of the engine layer per module on both MCU targets
# (scripts/mcu.sh: linked example image minus the same program without the
# engine), next to what firmware authors use today for the same jobs:
#  - optiboot, the device side of STK500 (Debian arduino-core-avr's source,
#    built as tests/peers/optiboot/build.sh builds it: the whole loader);
#  - a hand-rolled client (bench/mcu/handrolled.c, after the pattern of
#    franck102/SerialUploader's Stk500Client.cpp: one timeout per byte, no
#    resync, no confirmation), built with the same flags over the same UART
#    link and measured the same way (image minus baseline).
# Not a test: prints a table. usage: bash bench/mcu-size.sh
set -u
cd "$(dirname "$0")/.."
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
SD_MCU_BUILD=$TMP/mcu bash scripts/mcu.sh >"$TMP/mcu.txt" 2>"$TMP/mcu.err"
echo "# engine layer (scripts/mcu.sh: linked image minus baseline, -Os -flto)"
printf '%-8s %-22s %8s %6s\n' target module flash ram
grep -E '^[a-z0-9]+ core\+[a-z0-9]+ flash=' "$TMP/mcu.txt" | sed 's/flash=//; s/ram=//' |
  while read -r t m f r; do printf '%-8s %-22s %8s %6s\n' "$t" "$m" "$f" "$r"; done

sz() { "$1" "$2" | awk 'NR == 2 { print $1 + $2, $2 + $3 }'; }
if command -v avr-gcc >/dev/null; then
  F=(-mmcu=atmega328p -DF_CPU=16000000UL -mcall-prologues -mstrict-X -Os -flto -std=c11 -ffunction-sections
     -fdata-sections -Wl,--gc-sections -DSD_FREESTANDING -DSD_TIME32 -Iinclude -Isrc -Iexamples/arduino)
  avr-gcc "${F[@]}" -DEX_BASELINE examples/arduino/sync_board.c examples/arduino/uart_link.c src/core/link.c -o "$TMP/base.elf"
  avr-gcc "${F[@]}" bench/mcu/handrolled.c examples/arduino/uart_link.c src/core/link.c -o "$TMP/hr.elf"
  avr-gcc "${F[@]}" -DHR_STM32 bench/mcu/handrolled.c examples/arduino/uart_link.c src/core/link.c -o "$TMP/hr32.elf"
  read -r bf br < <(sz avr-size "$TMP/base.elf")
  read -r hf hr < <(sz avr-size "$TMP/hr.elf")
  read -r sf sr < <(sz avr-size "$TMP/hr32.elf")
  echo
  echo "# for comparison, AVR (avr-gcc $(avr-gcc -dumpversion))"
  printf '%-8s %-22s %8s %6s\n' avr "hand-rolled stk500" $((hf - bf)) $((hr - br))
  printf '%-8s %-22s %8s %6s\n' avr "hand-rolled stm32" $((sf - bf)) $((sr - br))
  if bash tests/peers/optiboot/build.sh "$TMP/ob" >/dev/null 2>&1; then
    read -r of or < <(sz avr-size "$TMP/ob/optiboot.elf")
    printf '%-8s %-22s %8s %6s\n' avr "optiboot (device side)" "$of" "$or"
  fi
fi
if command -v arm-none-eabi-gcc >/dev/null; then
  F=(-mcpu=cortex-m0plus -mthumb -Os -flto -std=c11 -ffunction-sections -fdata-sections
     -Wl,--gc-sections --specs=nano.specs -nostartfiles -Texamples/cortex-m0plus/stm32g0.ld
     -DSD_FREESTANDING -DSD_TIME32 -Iinclude -Isrc -Iexamples/cortex-m0plus)
  E="examples/cortex-m0plus/uart_link.c examples/cortex-m0plus/startup.c src/core/link.c"
  arm-none-eabi-gcc "${F[@]}" -DEX_BASELINE examples/cortex-m0plus/sync_board.c $E -o "$TMP/mbase.elf"
  arm-none-eabi-gcc "${F[@]}" bench/mcu/handrolled.c $E -o "$TMP/mhr.elf"
  arm-none-eabi-gcc "${F[@]}" -DHR_STM32 bench/mcu/handrolled.c $E -o "$TMP/mhr32.elf"
  read -r bf br < <(sz arm-none-eabi-size "$TMP/mbase.elf")
  read -r hf hr < <(sz arm-none-eabi-size "$TMP/mhr.elf")
  read -r sf sr < <(sz arm-none-eabi-size "$TMP/mhr32.elf")
  echo
  echo "# for comparison, Cortex-M0+ (arm-none-eabi-gcc $(arm-none-eabi-gcc -dumpversion))"
  printf '%-8s %-22s %8s %6s\n' m0plus "hand-rolled stk500" $((hf - bf)) $((hr - br))
  printf '%-8s %-22s %8s %6s\n' m0plus "hand-rolled stm32" $((sf - bf)) $((sr - br))
fi
