#!/usr/bin/env bash
# How much of the fill workload's utilisation is luck: the fill workload
# (1 MiB region, sizes log-uniform 16..2048: fill to the first failure, free
# every other block, refill) run with N different seeds, for first-fit,
# buddy and an exact best-fit reference over the same arena (O(n) search,
# same 8-byte chunks and header), in one run. Prints min / median / max of
# each figure as a Markdown table. Native runs: utilisation does not depend
# on the instruction count.
#   bench/util_seeds.sh [N]     (default 32 seeds: 0..N-1; seed 0 is the published run)
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N=${1:-32}
b="$ROOT/build/util-seeds"
cmake -S "$ROOT" -B "$b" -DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=ON \
      -DCMAKE_BUILD_TYPE=Release -DONEHEAP_TESTS=OFF -DONEHEAP_BENCH=ON -DONEHEAP_TOOLS=OFF >/dev/null
cmake --build "$b" --target oneheap-bench -j"$(nproc)" >/dev/null
bench="$b/bench/oneheap-bench"

# stats FIELD: min / median / max (in %) of FIELD over the RESULT lines on stdin
stats() {
  sed -n "s/.* $1=\([^ ]*\).*/\1/p" | sort -g |
    awk '{ v[NR] = $1 } END { printf "%.1f / %.1f / %.1f %%", 100*v[1], 100*v[int((NR+1)/2)], 100*v[NR] }'
}

echo "| allocator ($N seeds) | first fill | refill, first failure | refill, until 100 failures in a row |"
echo "|---|---|---|---|"
for who in "oneheap --algo firstfit:first-fit" "oneheap --algo buddy:buddy" "bestfit:best fit (O(n) reference)"; do
  args=${who%%:*}
  name=${who#*:}
  out=$(for s in $(seq 0 $((N - 1))); do
          # shellcheck disable=SC2086
          "$bench" --seed "$s" $args fill | grep '^RESULT'
        done)
  echo "| $name | $(stats util_fill <<<"$out") | $(stats util_refill <<<"$out") | $(stats util_exhaust <<<"$out") |"
done
