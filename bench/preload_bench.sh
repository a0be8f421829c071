#!/usr/bin/env bash
# Wall time and peak RSS of real programs with liboneheap-malloc.so preloaded
# against glibc malloc, median of 5 runs each, measured in one run of this
# script (/usr/bin/time). Prints a Markdown table.
# Usage: bench/preload_bench.sh [path/to/liboneheap-malloc.so]
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
LIB=${1:-}
if [[ -z $LIB ]]; then
  cmake -S "$ROOT" -B "$ROOT/build/preload" -DCMAKE_BUILD_TYPE=Release -DONEHEAP_TESTS=OFF \
        -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF >/dev/null
  cmake --build "$ROOT/build/preload" --target oneheap-malloc -j"$(nproc)" >/dev/null
  LIB="$ROOT/build/preload/libc/liboneheap-malloc.so"
fi
[[ -x /usr/bin/time ]] || { echo "needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cd "$tmp"

cat > alloc.py <<'PY'
import collections, json, random
random.seed(7)
d = {str(i): [random.random() for _ in range(i % 40)] for i in range(60000)}
s = json.dumps(d, sort_keys=True)
e = json.loads(s)
print(len(s), sum(len(v) for v in e.values()))
PY
seq 1 1000000 > numbers.txt
cat > big.c <<'CC'
#define F(n) int f##n(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * n ^ (s >> 3); return s; }
#define G(n) F(n##0) F(n##1) F(n##2) F(n##3) F(n##4) F(n##5) F(n##6) F(n##7) F(n##8) F(n##9)
#define H(n) G(n##1) G(n##2) G(n##3) G(n##4) G(n##5) G(n##6) G(n##7) G(n##8) G(n##9)
H(1) H(2) H(3) H(4) H(5) H(6) H(7) H(8)
int main(void) { return f110(3); }
CC

declare -A CMDS=(
  [python3]="python3 alloc.py"
  [sqlite3]="sqlite3 :memory: \"WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i+1 FROM n WHERE i<300000) SELECT count(*), sum(length(printf('%08d-%d', i, i*i))) FROM (SELECT i FROM n ORDER BY i % 1000, i DESC);\""
  [gcc]="gcc -O2 -c big.c -o big.o"
  [perl]="perl -e 'my %h; \$h{\"k\$_\"} = [\$_, \"v\" x (\$_ % 30)] for 1..400000; print scalar(keys %h), \"\\n\"'"
  [xz]="xz -6 -T1 -c numbers.txt > numbers.xz"
)
order=(python3 sqlite3 gcc perl xz)

median() { sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
measure() {   # measure PRELOAD CMD -> "seconds kilobytes" medians of 5
  local pre=$1 cmd=$2 i t=() m=()
  for i in 1 2 3 4 5; do
    out=$(env ${pre:+LD_PRELOAD=$pre} /usr/bin/time -f '%e %M' sh -c "$cmd" 2>&1 >/dev/null | tail -n 1)
    t+=("${out% *}"); m+=("${out#* }")
  done
  echo "$(printf '%s\n' "${t[@]}" | median) $(printf '%s\n' "${m[@]}" | median)"
}

echo "| program | glibc time (s) | oneheap time (s) | ratio | glibc peak RSS (KiB) | oneheap peak RSS (KiB) | ratio |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for p in "${order[@]}"; do
  command -v "$p" >/dev/null || continue
  read -r gt gm < <(measure "" "${CMDS[$p]}")
  read -r ot om < <(measure "$LIB" "${CMDS[$p]}")
  awk -v p="$p" -v gt="$gt" -v ot="$ot" -v gm="$gm" -v om="$om" \
    'BEGIN { printf "| %s | %.2f | %.2f | %.2f | %d | %d | %.2f |\n", p, gt, ot, (gt > 0 ? ot / gt : 0), gm, om, om / gm }'
done
