#!/usr/bin/env bash
# Cross builds of the library at -Os with -Werror: Cortex-M0+, M3, M4F, M7,
# M33 (arm-none-eabi-gcc) and RV32IMAC (riscv64-unknown-elf-gcc,
# freestanding), and a code-size table (text + data of liboneheap.a) for
# first-fit only (default and small build), buddy only, both, and both with
# trace and memory pools; what a minimal linked firmware pays;
# the shipped defconfigs through Kconfig; then the test firmware under
# qemu-system-arm (its output is part of this script's).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

if ! command -v arm-none-eabi-gcc >/dev/null || ! command -v riscv64-unknown-elf-gcc >/dev/null; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq gcc-arm-none-eabi libnewlib-arm-none-eabi gcc-riscv64-unknown-elf >/dev/null
fi
scripts/deps.sh     # qemu-system-arm and kconfiglib for the firmware test below

# name|toolchain|extra cmake flags
targets=(
  "cortex-m0plus|arm-none-eabi|-DONEHEAP_MCPU=cortex-m0plus"
  "cortex-m3|arm-none-eabi|-DONEHEAP_MCPU=cortex-m3"
  "cortex-m4f|arm-none-eabi|-DONEHEAP_MCPU=cortex-m4"
  "cortex-m7|arm-none-eabi|-DONEHEAP_MCPU=cortex-m7"
  "cortex-m33|arm-none-eabi|-DONEHEAP_MCPU=cortex-m33"
  "rv32imac|riscv32-elf|"
)
# name|flags
configs=(
  "first-fit, trace off|-DONEHEAP_ALG_FIRSTFIT=ON -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_TRACE=OFF -DONEHEAP_MEM_POOL=OFF"
  "first-fit, trace off, small|-DONEHEAP_ALG_FIRSTFIT=ON -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_TRACE=OFF -DONEHEAP_MEM_POOL=OFF -DONEHEAP_SMALL=ON -DONEHEAP_HARDENING=off"
  "buddy, trace off|-DONEHEAP_ALG_FIRSTFIT=OFF -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_TRACE=OFF -DONEHEAP_MEM_POOL=OFF"
  "both, trace off|-DONEHEAP_ALG_FIRSTFIT=ON -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_TRACE=OFF -DONEHEAP_MEM_POOL=OFF"
  "both, trace, pools|-DONEHEAP_ALG_FIRSTFIT=ON -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_TRACE=ON -DONEHEAP_MEM_POOL=ON"
)

size_of() {   # text + data of an archive
  local tool=$1 lib=$2
  "$tool" -t "$lib" | awk '/\(TOTALS\)/ { print $1 + $2 }'
}

printf '| target |'; for c in "${configs[@]}"; do printf ' %s |' "${c%%|*}"; done; echo
printf '|---|'; for c in "${configs[@]}"; do printf -- '---:|'; done; echo

# build_lib DIR TARGET-NAME TOOLCHAIN "EXTRA FLAGS" "CONFIG FLAGS": liboneheap.a in DIR.
build_lib() {
  local dir=$1 name=$2 tc=$3 extra=$4 flags=$5 float=()
  mkdir -p "$(dirname "$dir")"
  [ "$name" = cortex-m4f ] && float=("-DONEHEAP_MFLOAT=-mfloat-abi=hard -mfpu=fpv4-sp-d16")
  # shellcheck disable=SC2086
  if ! cmake -S "$ROOT" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/$tc.cmake" \
        -DCMAKE_BUILD_TYPE=MinSizeRel -DONEHEAP_PORT=baremetal -DONEHEAP_TESTS=OFF \
        -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF $extra "${float[@]}" $flags >"$dir.log" 2>&1 ||
     ! cmake --build "$dir" -j"$(nproc)" >>"$dir.log" 2>&1; then
    echo; tail -n 30 "$dir.log"; echo "cross build failed: $dir"; exit 1
  fi
}

for t in "${targets[@]}"; do
  IFS='|' read -r name tc extra <<<"$t"
  size_tool=arm-none-eabi-size
  [ "$tc" = riscv32-elf ] && size_tool=riscv64-unknown-elf-size
  printf '| %s |' "$name"
  for c in "${configs[@]}"; do
    dir="$ROOT/build/cross-$name-$(echo "${c%%|*}" | tr -c 'a-z0-9' '-')"
    build_lib "$dir" "$name" "$tc" "$extra" "${c#*|}"
    printf ' %s |' "$(size_of "$size_tool" "$dir/liboneheap.a")"
  done
  echo
done

# What a firmware pays: link the smallest useful program (system heap,
# malloc, realloc, free) with --gc-sections, minus an empty firmware; with
# the default build (hardening header) and with the small one (ONEHEAP_SMALL,
# hardening off), each also with link-time optimisation (the library built
# with -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON, the firmware linked with
# -flto).
echo
echo "| linked firmware, first-fit only, trace off (text + data added) | default | small (ONEHEAP_SMALL, hardening off) | default, LTO | small, LTO |"
echo "|---|---:|---:|---:|---:|"
for cpu in cortex-m0plus cortex-m3 cortex-m4f; do
  flags=(-mcpu=${cpu%f} -mthumb -Os -ffunction-sections -fdata-sections -specs=nosys.specs -Wl,--gc-sections)
  [ "$cpu" = cortex-m4f ] && flags+=(-mfloat-abi=hard -mfpu=fpv4-sp-d16)
  tmp=$(mktemp -d)
  echo 'int main(void) { return 0; }' > "$tmp/empty.c"
  arm-none-eabi-gcc "${flags[@]}" "$tmp/empty.c" -o "$tmp/empty.elf"
  a=$(arm-none-eabi-size "$tmp/empty.elf" | awk 'NR == 2 { print $1 + $2 }')
  printf '| %s |' "$cpu"
  for lto in "" -lto; do
    for c in "${configs[0]}" "${configs[1]}"; do     # first-fit, trace off: default and small
      lib="$ROOT/build/cross-$cpu-$(echo "${c%%|*}" | tr -c 'a-z0-9' '-')"
      lto_flags=()
      if [ -n "$lto" ]; then
        lib="$lib$lto"
        build_lib "$lib" "$cpu" arm-none-eabi "-DONEHEAP_MCPU=${cpu%f}" "${c#*|} -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON"
        lto_flags=(-flto)
      fi
      arm-none-eabi-gcc "${flags[@]}" "${lto_flags[@]}" -I"$ROOT/include" -I"$lib/include" \
          "$ROOT/tools/fwsize/fw_size.c" "$lib/liboneheap.a" -o "$tmp/fw.elf"
      b=$(arm-none-eabi-size "$tmp/fw.elf" | awk 'NR == 2 { print $1 + $2 }')
      printf ' %s |' "$((b - a))"
    done
  done
  echo
  rm -rf "$tmp"
done
# The shipped defconfigs, through Kconfig (-DONEHEAP_KCONFIG).
echo
echo "| defconfig (Kconfig build) | target | liboneheap.a text + data |"
echo "|---|---|---:|"
for d in "cortex_m0plus_min|arm-none-eabi|-DONEHEAP_MCPU=cortex-m0plus" \
         "cortex_m4_full|arm-none-eabi|-DONEHEAP_MCPU=cortex-m4" \
         "riscv32|riscv32-elf|"; do
  IFS='|' read -r cfg tc extra <<<"$d"
  dir="$ROOT/build/cross-kconfig-$cfg"
  size_tool=arm-none-eabi-size
  [ "$tc" = riscv32-elf ] && size_tool=riscv64-unknown-elf-size
  # shellcheck disable=SC2086
  if ! cmake -S "$ROOT" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/$tc.cmake" \
        -DCMAKE_BUILD_TYPE=MinSizeRel -DONEHEAP_KCONFIG="$ROOT/configs/${cfg}_defconfig" -DONEHEAP_TESTS=OFF \
        -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF $extra >"$dir.log" 2>&1 ||
     ! cmake --build "$dir" -j"$(nproc)" >>"$dir.log" 2>&1; then
    tail -n 30 "$dir.log"; echo "Kconfig cross build failed: $cfg"; exit 1
  fi
  echo "| configs/${cfg}_defconfig | ${extra#-DONEHEAP_MCPU=}${extra:+ }$tc | $(size_of "$size_tool" "$dir/liboneheap.a") |"
done

# The toolchain's target flags hold with a -DCMAKE_C_FLAGS of the user's own
# (which replaces CMake's initial flags), and follow ONEHEAP_MCPU when it is
# changed on an existing build directory.
echo
dir="$ROOT/build/cross-flags"
rm -rf "$dir"
arch_of() { arm-none-eabi-readelf -A "$(find "$dir" -name heap.c.obj | head -n 1)" | sed -n 's/.*Tag_CPU_arch: //p'; }
for step in "cortex-m0plus|v6S-M" "cortex-m4|v7E-M"; do
  IFS='|' read -r cpu want <<<"$step"
  if ! cmake -S "$ROOT" -B "$dir" -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchains/arm-none-eabi.cmake" \
        -DONEHEAP_MCPU="$cpu" -DCMAKE_C_FLAGS="-DONEHEAP_USER_FLAG=1" -DONEHEAP_PORT=baremetal \
        -DONEHEAP_TESTS=OFF -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF >"$dir.log" 2>&1 ||
     ! cmake --build "$dir" -j"$(nproc)" >>"$dir.log" 2>&1 || [ "$(arch_of)" != "$want" ]; then
    tail -n 20 "$dir.log"; echo "target flags lost: -mcpu=$cpu with CMAKE_C_FLAGS set gave '$(arch_of)', not $want"; exit 1
  fi
  echo "-mcpu=$cpu with CMAKE_C_FLAGS of the user's own: $want code"
done

# The test firmware on emulated Cortex-M4 and Cortex-M0+ code (tests/qemu):
# newlib bridge, Cortex-M port, test_spec, test_corrupt, test_model.
echo
tests/qemu/run_cross.sh "$ROOT" "$ROOT/build/cross-qemu" cmake
echo "cross builds: all passed"
