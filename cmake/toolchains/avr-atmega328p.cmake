# avr-gcc for the ATmega328P (Uno, Nano) at 16 MHz: Debian gcc-avr + avr-libc.
# cmake --preset avr (CMakePresets.json) or
# cmake -S . -B build-avr --toolchain cmake/toolchains/avr-atmega328p.cmake
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR avr)
set(CMAKE_C_COMPILER avr-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mmcu=atmega328p -DF_CPU=16000000UL -mcall-prologues -mstrict-X")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mmcu=atmega328p")
set(SD_MCU ON CACHE BOOL "freestanding engine layer and MCU examples only")
set(SD_MCU_TARGET avr CACHE STRING "the name scripts/mcu.sh prints")
set(SD_MCU_SIZE avr-size CACHE STRING "size tool")
