#!/usr/bin/env bash
# Build and run every test, in each configuration that matters:
#   gcc default (POSIX port, trace on, also -Wpedantic), clang (the POSIX lock naming its
#   holder by a per-thread byte, not the thread pointer), ASan+UBSan, ASan with every
#   region poisoned outside live blocks (asanpoison), TSan, Valgrind client
#   requests compiled in (valgrind: its ctests run memcheck), first-fit
#   with buddy (every test over buddy and mixed heaps), buddy only (with
#   quick lists off: ONEHEAP_BUDDY_QUICK=0, and with the default quick lists
#   on the bare-metal port: buddyquick, so buddy is also the default
#   algorithm and the lock-hook tests run on it), 64-byte alignment with
#   both algorithms at hardening full (bigalign: buddy's 64-byte headers
#   under the freed-block fill and the sealed control data), 32-bit
#   (gcc -m32: 16-bit first-fit headers; m32full: 32-bit first-fit header
#   words, hardening full, pool check tags and trace off; m32scrub: 16-bit
#   words with hardening full, whose freed-block fill meets 8-byte
#   blocks), bare-metal port
#   with trace (a table of 4 task rows, so an index past it meets the
#   interrupt test) and buddy (its lock-hook tests over mixed heaps), bare-metal without a lock, assert-on-corruption, the smallest first-fit class setting with 16-byte
#   alignment, pool check tags and the portable find-first-set; the POSIX port with trace
#   off; without the system heap; a Kconfig build of configs/host_defconfig;
#   the small-footprint build (footprint: ONEHEAP_SMALL, bare metal, trace
#   off, built with link-time optimisation, as scripts/cross.sh measures
#   it too); and the port template of examples/port_template with trace
#   off, built by clang as a small build with both algorithms (customport).
#   The tail configuration also builds with OS_NAME_MAX 200, traceoff with first-fit's
#   search bounded to 8 blocks (ONEHEAP_FF_SEARCH_MAX=8).
#   The gcc configuration also builds the Cortex-M test firmware and runs it
#   under QEMU (ctest qemu_cortex_m; it does not depend on the host flags).
# Usage: scripts/test.sh [config ...]   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
. scripts/configs.sh

jobs=$(nproc)
declare -A configs=(
  [gcc]="-DCMAKE_C_COMPILER=gcc -DCMAKE_C_FLAGS=-Wpedantic -DONEHEAP_FAULT_INJECT=ON -DONEHEAP_STATS=ON"
  [clang]="-DCMAKE_C_COMPILER=clang -DCMAKE_C_FLAGS=-DOH_POSIX_NO_THREAD_POINTER -DONEHEAP_QEMU_TEST=OFF"
  [asan]="-DCMAKE_C_COMPILER=clang -DONEHEAP_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_FAULT_INJECT=ON -DONEHEAP_STATS=ON"
  [tsan]="-DCMAKE_C_COMPILER=clang -DONEHEAP_SANITIZE=thread -DCMAKE_BUILD_TYPE=Debug -DONEHEAP_BENCH=OFF -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_STATS=ON"
  [baremetal]="-DCMAKE_C_COMPILER=gcc $opts_baremetal -DONEHEAP_TRACE_TASKS=4 -DCMAKE_BUILD_TYPE=Release -DONEHEAP_QEMU_TEST=OFF"
  [buddy]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_STATS=ON -DONEHEAP_HARDENING=off -DONEHEAP_ALIGN=32"
  [buddyonly]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_ALG_FIRSTFIT=OFF -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_BUDDY_QUICK=0 -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [buddyquick]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_ALG_FIRSTFIT=OFF -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_PORT=baremetal -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [m32]="-DCMAKE_C_COMPILER=gcc -DCMAKE_C_FLAGS=-m32 -DCMAKE_EXE_LINKER_FLAGS=-m32 -DCMAKE_SHARED_LINKER_FLAGS=-m32 -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_BENCH=ON -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_STATS=ON"
  [bigalign]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_ALIGN=64 -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_HARDENING=full -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [m32full]="-DCMAKE_C_COMPILER=gcc -DCMAKE_C_FLAGS=-m32 -DCMAKE_EXE_LINKER_FLAGS=-m32 -DCMAKE_SHARED_LINKER_FLAGS=-m32 -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_FF_WIDE_HEADER=ON -DONEHEAP_HARDENING=full -DONEHEAP_MP_CHECK_TAG=ON -DONEHEAP_TRACE=OFF -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [m32scrub]="-DCMAKE_C_COMPILER=gcc -DCMAKE_C_FLAGS=-m32 -DCMAKE_EXE_LINKER_FLAGS=-m32 -DCMAKE_SHARED_LINKER_FLAGS=-m32 -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_HARDENING=full -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_STATS=ON"
  [nolock]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_PORT=baremetal -DONEHEAP_NO_LOCK=ON -DONEHEAP_TRACE=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_HARDENING=off -DONEHEAP_STATS=ON"
  [assert]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_ERROR_ASSERT=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [small]="-DCMAKE_C_COMPILER=gcc $opts_small -DONEHEAP_QEMU_TEST=OFF"
  [traceoff]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_TRACE=OFF -DONEHEAP_FF_SEARCH_MAX=8 -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [nosysheap]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_SYS_HEAP=OFF -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [asanpoison]="-DCMAKE_C_COMPILER=clang -DONEHEAP_SANITIZE=address,undefined -DONEHEAP_ASAN_POISON=ON -DCMAKE_BUILD_TYPE=Debug -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [valgrind]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_VALGRIND=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [kconfig]="-DCMAKE_C_COMPILER=gcc -DONEHEAP_KCONFIG=configs/host_defconfig -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [tail]="-DCMAKE_C_COMPILER=clang -DONEHEAP_SANITIZE=address,undefined -DCMAKE_BUILD_TYPE=Debug -DONEHEAP_HARDENING=tail -DONEHEAP_NAME_MAX=200 -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [footprint]="-DCMAKE_C_COMPILER=gcc $opts_footprint -DCMAKE_INTERPROCEDURAL_OPTIMIZATION=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
  [customport]="-DCMAKE_C_COMPILER=clang -DONEHEAP_PORT=template -DONEHEAP_PORT_DIR=examples/port_template -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_SMALL=ON -DONEHEAP_BENCH=OFF -DONEHEAP_QEMU_TEST=OFF"
)
order=(gcc clang asan asanpoison tsan valgrind buddy buddyonly buddyquick bigalign m32 m32full m32scrub baremetal nolock assert small traceoff nosysheap kconfig tail footprint customport)
[ $# -gt 0 ] && order=("$@")

mkdir -p build
failed=()
for name in "${order[@]}"; do
  flags=${configs[$name]:?unknown config $name}
  dir=build/test-$name
  echo "=== $name: $flags"
  # shellcheck disable=SC2086
  if cmake -S . -B "$dir" $flags >"$dir.log" 2>&1 &&
     cmake --build "$dir" -j"$jobs" >>"$dir.log" 2>&1; then
    ctest --test-dir "$dir" -j"$jobs" --output-on-failure --timeout 600 || failed+=("$name")
  else
    tail -n 40 "$dir.log"
    failed+=("$name (build)")
  fi
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FAILED configurations: ${failed[*]}"
  exit 1
fi
echo "all configurations passed: ${order[*]}"
