#!/bin/sh
# oneheap-replay and liboneheap-record.so:
#  1. a synthetic trace (4 threads, chunks out of order, reused addresses):
#     the replay's peak requested bytes, per thread too, equal the values the
#     generator computed on its own; a big heap has no failure, a tiny one has
#     failures and skipped frees; a two-region layout replays too; the plot is
#     a well-formed SVG with one line pair per algorithm;
#  2. --size-min on the synthetic trace and on recordings of python3 and
#     sqlite3: the reported size has no failure and 1 % less has some;
#  3. speed: 1,000,000 synthetic events (time printed; fails only over 120 s).
# Usage: replay_test.sh REPLAY_BIN RECORDER_SO|none
replay=$1
recorder=$2
tmp=$(mktemp -d /tmp/oneheap-replay.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
status=0

fail() {
    echo "FAILED: $*"
    status=1
}

# value LABEL FILE: the number after "LABEL" on the first line holding it
value() {
    sed -n "s/.*$1 \([0-9][0-9]*\).*/\1/p" "$2" | head -n 1
}

# ---- 0. the example of docs/trace-format.md, byte for byte ------------------------
printf 'OHRT\001\000\010\000T\000\004main' >"$tmp/ex.ohr"
printf 'E\000\000\016\001\000\200\100\030\003\001\000\200\001\144\002\001\000' >>"$tmp/ex.ohr"
"$replay" --heap 4K "$tmp/ex.ohr" >"$tmp/ex.txt" || fail "the documented example"
grep -q '^trace .*: 3 events (1 alloc, 0 aligned, 1 realloc, 1 free), 1 threads$' "$tmp/ex.txt" &&
    grep -q '^trace peak requested: 100 bytes' "$tmp/ex.txt" &&
    grep -q '^  thread 0 main  *peak requested 100 bytes, 3 events$' "$tmp/ex.txt" ||
    { cat "$tmp/ex.txt"; fail "the documented example reads differently"; }

# ---- 1. synthetic trace ------------------------------------------------------------
"$replay" --synth 200000 "$tmp/s.ohr" --seed 3 >"$tmp/synth.txt" || fail "synth"
cat "$tmp/synth.txt"
want=$(value "peak requested" "$tmp/synth.txt")
[ -n "$want" ] && [ "$want" -gt 0 ] || fail "the generator reported no peak"

"$replay" --heap 64M --alg all --svg "$tmp/s.svg" "$tmp/s.ohr" >"$tmp/big.txt" || fail "replay on 64 MiB"
cat "$tmp/big.txt"
[ "$(value "trace peak requested:" "$tmp/big.txt")" = "$want" ] || fail "trace peak requested differs from the generator's $want"
nalg=$(grep -c '^== ' "$tmp/big.txt")
[ "$nalg" -ge 1 ] || fail "no algorithm replayed"
# every algorithm: the generator's peak, no failure, nothing skipped
[ "$(grep -c "^  peak requested  *$want bytes" "$tmp/big.txt")" = "$nalg" ] || fail "replay peak requested is not $want"
[ "$(grep -c '^  failed requests  *0$' "$tmp/big.txt")" = "$nalg" ] || fail "failures on a 64 MiB heap"
[ "$(grep -c '^  skipped frees/reallocs  *0$' "$tmp/big.txt")" = "$nalg" ] || fail "skips on a 64 MiB heap"
grep -q 'HEAP PROBLEM\|unknown blocks\|anomalies' "$tmp/big.txt" && fail "the replay found a problem"
# mem_maxused covers the requested peak
for used in $(sed -n 's/^  peak used (mem_maxused) *\([0-9]*\) .*/\1/p' "$tmp/big.txt"); do
    [ "$used" -ge "$want" ] || fail "mem_maxused $used below the requested peak $want"
done
# per-thread peaks, and the late thread name
for t in 0 1 2 3; do
    line=$(grep "^synth: thread $t " "$tmp/synth.txt")
    name=$(echo "$line" | cut -d' ' -f4)
    peak=$(echo "$line" | sed 's/.*requested \([0-9]*\) bytes/\1/')
    grep -q "^  thread $t $name  *peak requested $peak bytes" "$tmp/big.txt" ||
        fail "thread $t: expected $name with peak $peak"
done
grep -q "synth-ui-late" "$tmp/big.txt" || fail "the renamed thread keeps its old name"

# a heap far too small: failures, and frees of the refused blocks skipped
"$replay" --heap 4K --alg all "$tmp/s.ohr" >"$tmp/small.txt" || fail "replay on 4 KiB"
for n in $(sed -n 's/^  failed requests *\([0-9]*\)$/\1/p' "$tmp/small.txt"); do
    [ "$n" -gt 0 ] || fail "no failure on a 4 KiB heap"
done
for n in $(sed -n 's/^  skipped frees\/reallocs *\([0-9]*\)$/\1/p' "$tmp/small.txt"); do
    [ "$n" -gt 0 ] || fail "no skipped free on a 4 KiB heap"
done

# two regions: a small one that fills up, then a big one
alg=$("$replay" --help | sed -n 's/^algorithms in this build: \([a-z]*\).*/\1/p')
"$replay" --region "16K:$alg" --region "8M:$alg" "$tmp/s.ohr" >"$tmp/regions.txt" || fail "two-region replay"
grep -q "^== regions: 16384 bytes $alg + 8388608 bytes $alg" "$tmp/regions.txt" || fail "two-region layout header"
grep -q "^  failed requests  *0$" "$tmp/regions.txt" || fail "failures on 16 KiB + 8 MiB"
grep -q "^  peak requested  *$want bytes" "$tmp/regions.txt" || fail "two-region peak requested"

# the plot: well-formed, axes labelled, two lines per algorithm
lines=$(grep -c '<polyline' "$tmp/s.svg")
[ "$lines" = $((2 * nalg)) ] || fail "svg has $lines lines, expected $((2 * nalg))"
grep -q 'event index' "$tmp/s.svg" && grep -q 'largest free' "$tmp/s.svg" || fail "svg labels"
if command -v rsvg-convert >/dev/null 2>&1; then
    rsvg-convert -o "$tmp/s.png" "$tmp/s.svg" || fail "rsvg-convert cannot render the plot"
fi

# ---- 2. smallest heap --------------------------------------------------------------
# check_min NAME TRACE: --size-min holds its promise for every algorithm
check_min() {
    "$replay" --size-min "$2" >"$tmp/$1.min" || fail "$1: --size-min"
    sed -n '/^smallest heap/,$p' "$tmp/$1.min"
    n=$(grep -c 'size-min' "$tmp/$1.min")
    [ "$n" = "$nalg" ] || fail "$1: $n size-min lines for $nalg algorithms"
    sed -n 's/^  \([a-z]*\) *size-min \([0-9]*\) bytes.*: \([0-9]*\) failed; at [0-9]* bytes (1 % smaller): \([0-9]*\) failed.*/\1 \2 \3 \4/p' \
        "$tmp/$1.min" | while read -r alg size at below; do
        [ "$at" = "0" ] || echo "FAILED: $1 $alg: $at failures at size-min $size"
        [ "$below" -gt 0 ] || echo "FAILED: $1 $alg: no failure 1 % below $size"
        # and the same, replayed through the ordinary options
        "$replay" --heap "$size" --alg "$alg" "$2" | grep -q '^  failed requests  *0$' ||
            echo "FAILED: $1 $alg: --heap $size fails"
    done >"$tmp/$1.check"
    cat "$tmp/$1.check"
    [ -s "$tmp/$1.check" ] && status=1
}
check_min synthetic "$tmp/s.ohr"

if [ "$recorder" = none ]; then
    echo "real programs: skipped (no recorder for this build)"
else
    ran=0
    if command -v python3 >/dev/null 2>&1; then
        (cd "$tmp" && LD_PRELOAD=$recorder ONEHEAP_RECORD=py.ohr python3 -c '
import json, collections
d = {str(i): [i * 0.5] * (i % 23) for i in range(20000)}
s = json.dumps(d)
c = collections.Counter(len(v) for v in json.loads(s).values())
print(len(s), sorted(c.items())[:3])') || fail "python3 under the recorder"
        ran=$((ran + 1))
        [ -s "$tmp/py.ohr" ] || fail "python3: no trace"
        check_min python3 "$tmp/py.ohr"
    else
        echo "python3: skipped (not installed)"
    fi
    if command -v sqlite3 >/dev/null 2>&1; then
        (cd "$tmp" && LD_PRELOAD=$recorder ONEHEAP_RECORD=sql.ohr sqlite3 :memory: "
          CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT);
          WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
          INSERT INTO t SELECT i, printf('row-%06d', i) FROM n;
          CREATE INDEX tb ON t(b);
          SELECT count(*), max(b) FROM t WHERE b LIKE 'row-00%';") || fail "sqlite3 under the recorder"
        ran=$((ran + 1))
        [ -s "$tmp/sql.ohr" ] || fail "sqlite3: no trace"
        check_min sqlite3 "$tmp/sql.ohr"
    else
        echo "sqlite3: skipped (not installed)"
    fi
    [ "$ran" -gt 0 ] || { echo "no real program installed"; [ $status = 0 ] && exit 77; }
fi

# ---- 3. speed ------------------------------------------------------------------------
"$replay" --synth 1000000 "$tmp/m.ohr" >/dev/null || fail "synth 1M"
start=$(date +%s.%N)
"$replay" --heap 64M --alg all "$tmp/m.ohr" >"$tmp/m.txt" || fail "replay of 1M events"
end=$(date +%s.%N)
secs=$(echo "$start $end" | awk '{ printf "%.2f", $2 - $1 }')
echo "1000000 events, every algorithm: replayed in $secs s (trace $(wc -c <"$tmp/m.ohr") bytes)"
grep -q '^trace .*: 1000000 events' "$tmp/m.txt" || fail "1M trace not read whole"
awk -v s="$secs" 'BEGIN { exit !(s > 120) }' && fail "1M-event replay took $secs s"

[ $status = 0 ] && echo "replay tests passed"
exit $status
