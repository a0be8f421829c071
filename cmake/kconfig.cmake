# Kconfig-driven configuration: -DONEHEAP_KCONFIG=path/to/.config-or-defconfig.
#
# kconfiglib (python3-kconfiglib) expands the file against the top-level
# Kconfig; every symbol then sets the ONEHEAP_* cache variable that carries
# the same macro into oneos_config.h, so the rest of the build does not know
# where its configuration came from. The expanded .config is kept in the
# build directory (kconfig/.config); editing the input re-runs CMake.
# Included by CMakeLists.txt before the options are declared.

set(_kc_in "${ONEHEAP_KCONFIG}")
if(NOT IS_ABSOLUTE "${_kc_in}")
  # relative to the source tree first (configs/...), else to the build directory
  if(EXISTS "${PROJECT_SOURCE_DIR}/${_kc_in}")
    set(_kc_in "${PROJECT_SOURCE_DIR}/${_kc_in}")
  else()
    set(_kc_in "${CMAKE_BINARY_DIR}/${_kc_in}")
  endif()
endif()
if(NOT EXISTS "${_kc_in}")
  message(FATAL_ERROR "ONEHEAP_KCONFIG: no such file: ${ONEHEAP_KCONFIG}")
endif()

# A python that has kconfiglib: Debian installs it for the system python,
# which need not be the first python3 on PATH.
if(NOT ONEHEAP_KCONFIG_PYTHON)
  find_program(_kc_path_python NAMES python3)
  foreach(_py /usr/bin/python3 ${_kc_path_python})
    if(EXISTS "${_py}")
      execute_process(COMMAND "${_py}" -c "import kconfiglib"
                      RESULT_VARIABLE _kc_rc OUTPUT_QUIET ERROR_QUIET)
      if(_kc_rc EQUAL 0)
        set(ONEHEAP_KCONFIG_PYTHON "${_py}" CACHE FILEPATH "python3 with kconfiglib")
        break()
      endif()
    endif()
  endforeach()
endif()
if(NOT ONEHEAP_KCONFIG_PYTHON)
  message(FATAL_ERROR "ONEHEAP_KCONFIG needs python3 with kconfiglib "
                      "(Debian: apt-get install python3-kconfiglib; scripts/deps.sh installs it)")
endif()

set(_kc_dir "${CMAKE_BINARY_DIR}/kconfig")
file(MAKE_DIRECTORY "${_kc_dir}")
execute_process(
  COMMAND "${ONEHEAP_KCONFIG_PYTHON}" "${PROJECT_SOURCE_DIR}/cmake/kconfig.py"
          "${PROJECT_SOURCE_DIR}/Kconfig" "${_kc_in}" "${_kc_dir}/.config" "${_kc_dir}/values.txt"
  WORKING_DIRECTORY "${PROJECT_SOURCE_DIR}"
  RESULT_VARIABLE _kc_rc
  ERROR_VARIABLE _kc_err)
if(NOT _kc_rc EQUAL 0)
  message(FATAL_ERROR "Kconfig: ${_kc_in} cannot be used as written:\n${_kc_err}")
endif()
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS
             "${_kc_in}" "${PROJECT_SOURCE_DIR}/Kconfig" "${PROJECT_SOURCE_DIR}/cmake/kconfig.py")

file(STRINGS "${_kc_dir}/values.txt" _kc_lines)
foreach(_line IN LISTS _kc_lines)
  if(_line MATCHES "^([A-Za-z0-9_]+)=(.*)$")
    set(_kc_${CMAKE_MATCH_1} "${CMAKE_MATCH_2}")
  endif()
endforeach()

if(NOT _kc_OS_USING_MEM_HEAP STREQUAL "y")
  message(FATAL_ERROR "Kconfig: OS_USING_MEM_HEAP is off in ${_kc_in}, but oneheap is the memory heap "
                      "(the system heap is a user heap too): enable it")
endif()

# bool symbol -> ON/OFF cache variable
function(_kc_bool sym var doc)
  if(_kc_${sym} STREQUAL "y")
    set(${var} ON CACHE BOOL "${doc}" FORCE)
  else()
    set(${var} OFF CACHE BOOL "${doc}" FORCE)
  endif()
endfunction()
_kc_bool(OS_USING_SYS_HEAP ONEHEAP_SYS_HEAP "System heap (from Kconfig)")
_kc_bool(OS_USING_ALG_FIRSTFIT ONEHEAP_ALG_FIRSTFIT "First-fit algorithm (from Kconfig)")
_kc_bool(OS_USING_ALG_BUDDY ONEHEAP_ALG_BUDDY "Buddy algorithm (from Kconfig)")
_kc_bool(OS_USING_MEM_TRACE ONEHEAP_TRACE "Memory trace (from Kconfig)")
_kc_bool(OS_USING_MEM_POOL ONEHEAP_MEM_POOL "Memory pools (from Kconfig)")
_kc_bool(OS_USING_MP_CHECK_TAG ONEHEAP_MP_CHECK_TAG "Memory pool check tag (from Kconfig)")
_kc_bool(OS_MEM_PORT_NO_LOCK ONEHEAP_NO_LOCK "No lock (from Kconfig)")
_kc_bool(OS_MEM_ERROR_ASSERT ONEHEAP_ERROR_ASSERT "Assert on corruption (from Kconfig)")
_kc_bool(OS_MEM_NO_INTRINSICS ONEHEAP_NO_INTRINSICS "Portable find-first-set (from Kconfig)")
_kc_bool(OS_MEM_SMALL ONEHEAP_SMALL "Small footprint (from Kconfig)")
_kc_bool(OS_MEM_STATS ONEHEAP_STATS "Extended statistics (from Kconfig)")
_kc_bool(OS_MEM_FF_WIDE_HEADER ONEHEAP_FF_WIDE_HEADER "First-fit 8-byte header on 32-bit targets (from Kconfig)")
set(ONEHEAP_FF_SL_BITS "${_kc_OS_MEM_FF_SL_BITS}" CACHE STRING "First-fit classes (from Kconfig)" FORCE)
if(NOT "${_kc_OS_MEM_FF_SEARCH_MAX}" STREQUAL "")
  set(ONEHEAP_FF_SEARCH_MAX "${_kc_OS_MEM_FF_SEARCH_MAX}" CACHE STRING "First-fit search bound (from Kconfig)" FORCE)
endif()
if(NOT "${_kc_OS_MEM_BUDDY_QUICK}" STREQUAL "")
  set(ONEHEAP_BUDDY_QUICK "${_kc_OS_MEM_BUDDY_QUICK}" CACHE STRING "Buddy quick lists (from Kconfig)" FORCE)
endif()
set(ONEHEAP_ALIGN "${_kc_OS_MEM_ALIGN_SIZE}" CACHE STRING "Minimum alignment (from Kconfig)" FORCE)
set(ONEHEAP_NAME_MAX "${_kc_OS_NAME_MAX}" CACHE STRING "OS_NAME_MAX (from Kconfig)" FORCE)
if(NOT "${_kc_OS_MEM_TRACE_TASKS}" STREQUAL "")
  set(ONEHEAP_TRACE_TASKS "${_kc_OS_MEM_TRACE_TASKS}" CACHE STRING "Per-task rows (from Kconfig)" FORCE)
endif()
# A port of your own (ONEHEAP_PORT_DIR) is chosen with -DONEHEAP_PORT, not in Kconfig.
if(NOT ONEHEAP_PORT_DIR)
  foreach(_port posix baremetal cortexm)
    string(TOUPPER ${_port} _up)
    if(_kc_OS_MEM_PORT_${_up} STREQUAL "y")
      set(ONEHEAP_PORT ${_port} CACHE STRING "Port layer (from Kconfig)" FORCE)
    endif()
  endforeach()
endif()
set(_kc_levels off header tail full)
list(GET _kc_levels ${_kc_OS_MEM_HARDENING} _kc_level)
set(ONEHEAP_HARDENING ${_kc_level} CACHE STRING "Hardening level (from Kconfig)" FORCE)
message(STATUS "oneheap: configuration from Kconfig ${_kc_in} (expanded: ${_kc_dir}/.config)")
