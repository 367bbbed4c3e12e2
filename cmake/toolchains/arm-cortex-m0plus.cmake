# arm-none-eabi-gcc for a Cortex-M0+ (the example targets an STM32G0's
# USART2 and SysTick): Debian gcc-arm-none-eabi + libnewlib-arm-none-eabi.
# cmake --preset cortex-m0plus (CMakePresets.json) or
# cmake -S . -B build-m0 --toolchain cmake/toolchains/arm-cortex-m0plus.cmake
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "-mcpu=cortex-m0plus -mthumb")
set(CMAKE_EXE_LINKER_FLAGS_INIT "-mcpu=cortex-m0plus -mthumb --specs=nano.specs -nostartfiles")
set(SD_MCU ON CACHE BOOL "freestanding engine layer and MCU examples only")
set(SD_MCU_TARGET m0plus CACHE STRING "the name scripts/mcu.sh prints")
set(SD_MCU_SIZE arm-none-eabi-size CACHE STRING "size tool")
