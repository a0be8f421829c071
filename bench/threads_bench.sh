#!/usr/bin/env bash
# Throughput of malloc/free with 1, 2 and 4 threads (each thread does the
# same work), glibc against liboneheap-malloc.so, median of 5 wall times.
# Usage: bench/threads_bench.sh [path/to/liboneheap-malloc.so]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB=${1:-}
if [[ -z $LIB ]]; then
  cmake -S "$ROOT" -B "$ROOT/build/preload" -DCMAKE_BUILD_TYPE=Release -DONEHEAP_TESTS=OFF \
        -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF >/dev/null
  cmake --build "$ROOT/build/preload" --target oneheap-malloc -j"$(nproc)" >/dev/null
  LIB="$ROOT/build/preload/libc/liboneheap-malloc.so"
fi
bin=$(mktemp)
trap 'rm -f "$bin"' EXIT
cc -O2 -pthread "$ROOT/bench/threads_bench.c" -o "$bin"
median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
run() { for i in 1 2 3 4 5; do env ${1:+LD_PRELOAD=$1} "$bin" "$2" | cut -d' ' -f2; done | median; }
echo "| threads (2M alloc+free each) | glibc (s) | oneheap (s) | ratio |"
echo "|---|---:|---:|---:|"
for n in 1 2 4; do
  g=$(run "" $n); o=$(run "$LIB" $n)
  awk -v n=$n -v g="$g" -v o="$o" 'BEGIN { printf "| %d | %.3f | %.3f | %.1f |\n", n, g, o, o / g }'
done
