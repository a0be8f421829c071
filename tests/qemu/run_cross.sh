#!/bin/sh
# run_cross.sh SOURCE_DIR BUILD_DIR [CMAKE] - build the Cortex-M test firmware
# and run it under qemu-system-arm, in two variants:
#   cortex-m4      configs/cortex_m4_full_defconfig on mps2-an386 (Cortex-M4)
#   cortex-m0plus  configs/cortex_m0plus_min_defconfig, ARMv6-M code, on
#                  mps2-an385 (a Cortex-M3 runs ARMv6-M code unchanged)
# Exits 77 (skipped) without arm-none-eabi-gcc, qemu-system-arm or
# kconfiglib; 1 if any variant fails to build or to pass.
src=$1
dir=$2
cmake=${3:-cmake}

for tool in arm-none-eabi-gcc qemu-system-arm; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "$tool not found: skipped"
    exit 77
  fi
done
if ! /usr/bin/python3 -c 'import kconfiglib' >/dev/null 2>&1 &&
   ! python3 -c 'import kconfiglib' >/dev/null 2>&1; then
  echo "python3 kconfiglib not found: skipped"
  exit 77
fi

mkdir -p "$dir" || exit 1
status=0
for variant in "cortex-m4 mps2-an386 cortex_m4_full" "cortex-m0plus mps2-an385 cortex_m0plus_min"; do
  set -- $variant
  cpu=$1 machine=$2 config=$3
  b="$dir/$cpu"
  echo "=== firmware: -mcpu=$cpu, configs/${config}_defconfig, qemu -M $machine"
  if ! "$cmake" -S "$src" -B "$b" -DCMAKE_TOOLCHAIN_FILE="$src/cmake/toolchains/arm-none-eabi.cmake" \
         -DONEHEAP_MCPU="$cpu" -DCMAKE_BUILD_TYPE=Release -DONEHEAP_KCONFIG="$src/configs/${config}_defconfig" \
         -DONEHEAP_NEWLIB=ON -DONEHEAP_QEMU_FIRMWARE=ON -DONEHEAP_QEMU_MACHINE="$machine" \
         -DONEHEAP_TESTS=OFF -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF >"$b.log" 2>&1 ||
     ! "$cmake" --build "$b" -j2 >>"$b.log" 2>&1; then
    tail -n 30 "$b.log"
    echo "firmware build failed: $cpu"
    status=1
    continue
  fi
  arm-none-eabi-size "$b/tests/qemu/oneheap_fw.elf"
  sh "$src/tests/qemu/run_qemu.sh" "$machine" "$b/tests/qemu/oneheap_fw.elf" || status=1
done
exit $status
