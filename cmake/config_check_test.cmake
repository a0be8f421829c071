# ctest config_refused: impossible configurations must not compile, and the
# compiler must say why; bad values of the CMake options must stop the
# configure step with a message (option_refused, at the end). Each case of
# the first kind writes a oneos_config.h and compiles a file that includes
# port/port.h (what every library source sees); a valid configuration must
# compile, so the probe itself is known to work.
#
#   cmake -DSRC=<source dir> -DCC=<host compiler> -DWORK=<scratch dir>
#         [-DCROSS_CC=arm-none-eabi-gcc] -P config_check_test.cmake

set(_base "#define OS_USING_SYS_HEAP\n#define OS_USING_MEM_HEAP\n#define OS_USING_ALG_FIRSTFIT\n")
set(_failed 0)

# probe(name expect_ok compiler flags config message)
function(probe name expect_ok compiler flags config message)
  set(dir "${WORK}/${name}")
  file(MAKE_DIRECTORY "${dir}")
  file(WRITE "${dir}/oneos_config.h" "#ifndef ONEOS_CONFIG_H\n#define ONEOS_CONFIG_H\n${config}#endif\n")
  file(WRITE "${dir}/probe.c" "#include \"port.h\"\nint oh_probe_symbol;\n")
  separate_arguments(_flags UNIX_COMMAND "${flags}")
  execute_process(
    COMMAND ${compiler} ${_flags} -std=c11 -fsyntax-only -I${dir} -I${SRC}/include -I${SRC}/src -I${SRC}/port
            ${dir}/probe.c
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(expect_ok)
    if(NOT rc EQUAL 0)
      message("FAIL ${name}: a valid configuration did not compile:\n${err}")
      set(_failed 1 PARENT_SCOPE)
      return()
    endif()
    message("ok   ${name}: compiles")
  else()
    if(rc EQUAL 0)
      message("FAIL ${name}: compiled, but must be refused")
      set(_failed 1 PARENT_SCOPE)
      return()
    endif()
    string(FIND "${err}" "${message}" at)
    if(at EQUAL -1)
      message("FAIL ${name}: refused without the message '${message}':\n${err}")
      set(_failed 1 PARENT_SCOPE)
      return()
    endif()
    message("ok   ${name}: refused: ${message}")
  endif()
endfunction()

probe(valid_posix TRUE "${CC}" "" "${_base}#define OS_MEM_PORT_POSIX\n" "")
probe(valid_baremetal TRUE "${CC}" "" "${_base}#define OS_MEM_PORT_BAREMETAL\n#define OS_MEM_PORT_NO_LOCK\n" "")
probe(no_algorithm FALSE "${CC}" ""
      "#define OS_USING_MEM_HEAP\n#define OS_MEM_PORT_POSIX\n"
      "enable at least one algorithm")
probe(check_tag_without_pools FALSE "${CC}" ""
      "${_base}#define OS_USING_MP_CHECK_TAG\n#define OS_MEM_PORT_POSIX\n"
      "OS_USING_MP_CHECK_TAG (pool check tag) needs OS_USING_MEM_POOL")
probe(no_mem_heap FALSE "${CC}" ""
      "#define OS_USING_ALG_FIRSTFIT\n#define OS_MEM_PORT_POSIX\n"
      "OS_USING_MEM_HEAP is not set")
probe(name_max_negative FALSE "${CC}" ""
      "${_base}#define OS_MEM_PORT_POSIX\n#define OS_NAME_MAX -5\n"
      "OS_NAME_MAX (characters kept of a heap's or pool's name) must be 0 or more")
probe(hardening_out_of_range FALSE "${CC}" ""
      "${_base}#define OS_MEM_PORT_POSIX\n#define OS_MEM_HARDENING 4\n"
      "OS_MEM_HARDENING must be 0 (off)")
probe(search_max_out_of_range FALSE "${CC}" ""
      "${_base}#define OS_MEM_PORT_POSIX\n#define OS_MEM_FF_SEARCH_MAX 70000\n"
      "OS_MEM_FF_SEARCH_MAX must be 0 (no bound) .. 65535")
probe(buddy_quick_out_of_range FALSE "${CC}" ""
      "${_base}#define OS_MEM_PORT_POSIX\n#define OS_MEM_BUDDY_QUICK 17\n"
      "OS_MEM_BUDDY_QUICK must be 0..16")
probe(two_ports FALSE "${CC}" ""
      "${_base}#define OS_MEM_PORT_POSIX\n#define OS_MEM_PORT_BAREMETAL\n"
      "more than one port selected")
probe(no_lock_on_posix FALSE "${CC}" ""
      "${_base}#define OS_MEM_PORT_POSIX\n#define OS_MEM_PORT_NO_LOCK\n"
      "OS_MEM_PORT_NO_LOCK is for single-threaded bare-metal systems")
probe(cortexm_port_on_host FALSE "${CC}" ""
      "${_base}#define OS_MEM_PORT_CORTEXM\n#define OS_MEM_PORT_BAREMETAL\n"
      "OS_MEM_PORT_CORTEXM needs a Cortex-M")
if(CROSS_CC)
  set(_m "-mcpu=cortex-m3 -mthumb")
  probe(cross_valid_cortexm TRUE "${CROSS_CC}" "${_m}"
        "${_base}#define OS_MEM_PORT_CORTEXM\n#define OS_MEM_PORT_BAREMETAL\n" "")
  probe(posix_port_on_bare_metal FALSE "${CROSS_CC}" "${_m}"
        "${_base}#define OS_MEM_PORT_POSIX\n"
        "the POSIX port needs a POSIX system")
else()
  message("--   posix_port_on_bare_metal: not tried (no arm-none-eabi-gcc)")
endif()

# The CMake options: a value out of range or not a number stops the
# configure step with a message naming the option (not a compiler error).
# configure_refused(LABEL DIR MESSAGE CMAKE-ARGS...): configuring in DIR
# with the arguments must fail, and say MESSAGE.
function(configure_refused label dir message)
  execute_process(
    COMMAND ${CMAKE_COMMAND} -S ${SRC} -B ${dir} -DCMAKE_C_COMPILER=${CC} -DONEHEAP_TESTS=OFF -DONEHEAP_BENCH=OFF
            -DONEHEAP_TOOLS=OFF ${ARGN}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(REPLACE "\n" " " err "${err}")
  string(REGEX REPLACE "[ ]+" " " err "${err}")
  string(FIND "${err}" "${message}" at)
  if(rc EQUAL 0 OR at EQUAL -1)
    message("FAIL ${label}: not refused with '${message}':\n${err}")
    set(_failed 1 PARENT_SCOPE)
    return()
  endif()
  message("ok   ${label}: refused: ${message}")
endfunction()

function(option_refused name value message)
  set(dir "${WORK}/option-${name}")
  file(REMOVE_RECURSE "${dir}")
  configure_refused("option ${name}='${value}'" "${dir}" "${message}" "-D${name}=${value}")
  set(_failed ${_failed} PARENT_SCOPE)
endfunction()

option_refused(ONEHEAP_NAME_MAX "abc" "ONEHEAP_NAME_MAX must be 0..65535")
option_refused(ONEHEAP_NAME_MAX "" "ONEHEAP_NAME_MAX must be 0..65535")
option_refused(ONEHEAP_FF_SL_BITS "6" "ONEHEAP_FF_SL_BITS must be 0..5")
option_refused(ONEHEAP_FF_SL_BITS "abc" "ONEHEAP_FF_SL_BITS must be 0..5")
option_refused(ONEHEAP_ALIGN "12" "ONEHEAP_ALIGN must be 8, 16, 32 or 64")
option_refused(ONEHEAP_ALIGN "" "ONEHEAP_ALIGN must be 8, 16, 32 or 64")
option_refused(ONEHEAP_TRACE_TASKS "1" "ONEHEAP_TRACE_TASKS must be 2..4096")
option_refused(ONEHEAP_BUDDY_QUICK "17" "ONEHEAP_BUDDY_QUICK must be 0..16")
option_refused(ONEHEAP_HARDENING "FULL" "ONEHEAP_HARDENING must be off, header, tail or full")
# C reads 010 as octal 8: a leading zero is refused, not passed on
option_refused(ONEHEAP_BUDDY_QUICK "010" "ONEHEAP_BUDDY_QUICK must be 0..16")
option_refused(ONEHEAP_TRACE_TASKS "0100" "ONEHEAP_TRACE_TASKS must be 2..4096")

# A .config through Kconfig (-DONEHEAP_KCONFIG): values the build cannot
# honour stop the configure step with a message naming the symbol.
function(kconfig_refused name lines message)
  set(dir "${WORK}/kconfig-${name}")
  file(REMOVE_RECURSE "${dir}")
  file(MAKE_DIRECTORY "${dir}")
  string(REPLACE ";" "\n" text "${lines}")
  file(WRITE "${dir}/test.config" "${text}\n")
  configure_refused("kconfig ${name}" "${dir}/build" "${message}" "-DONEHEAP_KCONFIG=${dir}/test.config")
  set(_failed ${_failed} PARENT_SCOPE)
endfunction()

# (the build looks for kconfiglib in /usr/bin/python3 first, then python3 on PATH: so does this)
set(_kc 1)
find_program(_path_python NAMES python3)
foreach(_py /usr/bin/python3 ${_path_python})
  if(EXISTS "${_py}" AND NOT _kc EQUAL 0)
    execute_process(COMMAND "${_py}" -c "import kconfiglib" RESULT_VARIABLE _kc OUTPUT_QUIET ERROR_QUIET)
  endif()
endforeach()
if(_kc EQUAL 0)
  kconfig_refused(octal "CONFIG_OS_USING_ALG_BUDDY=y;CONFIG_OS_MEM_BUDDY_QUICK=010"
                  "CONFIG_OS_MEM_BUDDY_QUICK=010: write the number without leading zeros")
else()
  message("--   kconfig: not tried (no python3 with kconfiglib)")
endif()

if(_failed)
  message(FATAL_ERROR "config_refused: some configurations were not handled as expected")
endif()
