# RV32IMAC, freestanding (no libc headers), with riscv64-unknown-elf-gcc.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# CMakeLists.txt adds these to every compile and link, whatever CMAKE_C_FLAGS
# says; the compiler's own checks need the 32-bit ABI as well.
set(ONEHEAP_TARGET_FLAGS "-march=rv32imac -mabi=ilp32 -ffreestanding -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "-march=rv32imac -mabi=ilp32")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
