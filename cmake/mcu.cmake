# The microcontroller build (SD_MCU, set by cmake/toolchains/*.cmake): the
# freestanding engine layer (core run/link/expect and the compact clients of
# client.h) and the example programs, one per protocol, plus a baseline
# program without the engine that scripts/mcu.sh subtracts to measure the
# engine in the linked image. No host library, no tests here.
set(SD_MCU_DEFS SD_FREESTANDING SD_TIME32 SD_EXPECT_MAXPAT=8)
set(SD_MCU_OPTS -Os -flto -ffunction-sections -fdata-sections ${SD_WARN})
set(SD_MCU_CORE src/core/run.c src/core/link.c src/core/expect.c)
set(SD_MCU_PROTOS stk500)
if(EXISTS ${CMAKE_CURRENT_SOURCE_DIR}/src/proto/stm32_client.c)
  list(APPEND SD_MCU_PROTOS stm32)
endif()

if(CMAKE_SYSTEM_PROCESSOR STREQUAL "avr")
  set(ex_dir examples/arduino)
  set(ex_srcs ${ex_dir}/sync_board.c ${ex_dir}/uart_link.c)
  set(ex_link "")
else()
  set(ex_dir examples/cortex-m0plus)
  set(ex_srcs ${ex_dir}/sync_board.c ${ex_dir}/uart_link.c ${ex_dir}/startup.c)
  set(ex_link -T${CMAKE_CURRENT_SOURCE_DIR}/${ex_dir}/stm32g0.ld)
endif()

function(sd_mcu_program name)
  cmake_parse_arguments(P "" "" "SOURCES;DEFS" ${ARGN})
  add_executable(${name} ${ex_srcs} ${P_SOURCES})
  set_target_properties(${name} PROPERTIES SUFFIX ".elf")
  target_include_directories(${name} PRIVATE include src ${ex_dir})
  target_compile_definitions(${name} PRIVATE ${SD_MCU_DEFS} ${P_DEFS})
  target_compile_options(${name} PRIVATE ${SD_MCU_OPTS})
  target_link_options(${name} PRIVATE -Os -flto -Wl,--gc-sections -Wl,-Map=${name}.map ${ex_link})
endfunction()

# (sd_link_init, which the port calls, stays in the baseline: a few bytes)
sd_mcu_program(sync_baseline SOURCES src/core/link.c DEFS EX_BASELINE)
foreach(p ${SD_MCU_PROTOS})
  string(TOUPPER ${p} P)
  set(defs "")
  if(NOT p STREQUAL "stk500")
    set(defs EX_${P})
  endif()
  sd_mcu_program(sync_${p} SOURCES ${SD_MCU_CORE} src/proto/${p}_client.c DEFS ${defs})
endforeach()
