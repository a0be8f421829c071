#!/usr/bin/env bash
# Build the host shell and run the OneOS samples on the embedded-default
# system heap (a static 128 KiB first-fit region), then the memory commands.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
cmake -S . -B build/demo -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONEHEAP_TESTS=OFF -DONEHEAP_BENCH=OFF >/dev/null
cmake --build build/demo -j"$(nproc)" --target oneheap-sh >/dev/null
printf 'help\nsys_heap_sample\nuser_heap_sample\nshow_mem\ncheck_mem\ntrace_mem\nquit\n' | build/demo/tools/demo/oneheap-sh
