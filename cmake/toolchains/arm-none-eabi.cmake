# Cortex-M with arm-none-eabi-gcc (newlib). Pick the core with
#   -DONEHEAP_MCPU=cortex-m0plus|cortex-m3|cortex-m4|cortex-m7|cortex-m33
# and, for an FPU build, -DONEHEAP_MFLOAT="-mfloat-abi=hard -mfpu=fpv4-sp-d16".
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(ONEHEAP_MCPU cortex-m4 CACHE STRING "Cortex-M core (-mcpu)")
set(ONEHEAP_MFLOAT "" CACHE STRING "Float ABI flags")
# CMakeLists.txt adds these to every compile and link: a -DCMAKE_C_FLAGS of
# your own (which replaces CMAKE_C_FLAGS_INIT) adds to them, and a changed
# ONEHEAP_MCPU or ONEHEAP_MFLOAT takes effect at the next configure.
set(ONEHEAP_TARGET_FLAGS "-mcpu=${ONEHEAP_MCPU} -mthumb ${ONEHEAP_MFLOAT} -ffunction-sections -fdata-sections")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
