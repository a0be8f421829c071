#!/usr/bin/env bash
# Utilisation of a 1 MiB first-fit region (sizes log-uniform 16..2048) and
# its control data, for each OS_MEM_FF_SL_BITS setting, as a Markdown table.
# Native runs (no valgrind): utilisation does not depend on the instruction count.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
echo "| OS_MEM_FF_SL_BITS | first fill | refill, first failure | refill, exhausted | control data (1 MiB region) |"
echo "|---|---|---|---|---|"
for sl in 0 1 2 3 4 5; do
  b="$ROOT/build/util-sl-$sl"
  cmake -S "$ROOT" -B "$b" -DONEHEAP_FF_SL_BITS=$sl -DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF \
        -DCMAKE_BUILD_TYPE=Release -DONEHEAP_TESTS=OFF -DONEHEAP_BENCH=ON -DONEHEAP_TOOLS=OFF >/dev/null
  cmake --build "$b" --target oneheap-bench -j"$(nproc)" >/dev/null
  line=$("$b/bench/oneheap-bench" oneheap fill | grep '^RESULT')
  get() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$line"; }
  awk -v sl="$sl" -v f="$(get util_fill)" -v r="$(get util_refill)" -v x="$(get util_exhaust)" \
      -v t="$(get mem_total)" \
      'BEGIN { printf "| %s | %.1f %% | %.1f %% | %.1f %% | %d bytes |\n", sl, 100*f, 100*r, 100*x, 1048576 - t }'
done
