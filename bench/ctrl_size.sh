#!/usr/bin/env bash
# Control data of one first-fit region (bytes) for each OS_MEM_FF_SL_BITS
# setting and a few region sizes, as a Markdown table. Host build, trace and
# hardening off.
# Usage: bench/ctrl_size.sh [--m32]   (--m32: a 32-bit build, 16-bit headers)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FLAGS=()
SUFFIX=""
if [[ ${1:-} == --m32 ]]; then
  FLAGS=(-DCMAKE_C_FLAGS=-m32 -DCMAKE_EXE_LINKER_FLAGS=-m32)
  SUFFIX="-m32"
fi
echo "| OS_MEM_FF_SL_BITS | 2 KiB region | 16 KiB | 128 KiB | 1 MiB |"
echo "|---|---|---|---|---|"
for sl in 0 1 2 3 4 5; do
  b="$ROOT/build/ctrl-size-$sl$SUFFIX"
  cmake -S "$ROOT" -B "$b" "${FLAGS[@]}" -DONEHEAP_FF_SL_BITS=$sl -DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF -DONEHEAP_HARDENING=off \
        -DONEHEAP_TESTS=OFF -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=ON >/dev/null
  cmake --build "$b" --target oneheap-ctrl-size -j"$(nproc)" >/dev/null
  printf '| %s' "$sl"
  "$b/tools/ctrlsize/oneheap-ctrl-size"
done
