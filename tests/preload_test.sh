#!/bin/sh
# Real programs with liboneheap-malloc.so preloaded: each must print exactly
# what it prints without it, exit the same way, and leave a sound heap
# (OS_MEMHEAP_CHECK_ON_EXIT=1 makes a failed check exit with status 99).
# Then bad frees through the override must each be reported (with
# ONEHEAP_ERROR_ASSERT, the first one the heap itself finds must abort).
# Usage: preload_test.sh LIB STRESS_BIN BADFREE_BIN [assert]
lib=$1
stress=$2
badfree=$3
asserts=${4:-}
tmp=$(mktemp -d /tmp/oneheap-preload.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
status=0
ran=0

# run NAME CMD...: compare stdout and exit status with and without the preload
run() {
    name=$1
    shift
    if ! command -v "$1" >/dev/null 2>&1; then
        echo "$name: skipped ($1 not installed)"
        return
    fi
    (cd "$tmp" && "$@") >"$tmp/$name.ref" 2>/dev/null
    ref=$?
    (cd "$tmp" && LD_PRELOAD=$lib OS_MEMHEAP_CHECK_ON_EXIT=1 "$@") >"$tmp/$name.out" 2>"$tmp/$name.err"
    got=$?
    ran=$((ran + 1))
    if [ "$ref" != "$got" ] || ! cmp -s "$tmp/$name.ref" "$tmp/$name.out"; then
        echo "$name: FAILED (exit $ref without, $got with the preload)"
        diff "$tmp/$name.ref" "$tmp/$name.out" | head -n 20
        head -n 20 "$tmp/$name.err"
        status=1
    elif grep -q '^oneheap:' "$tmp/$name.err"; then
        echo "$name: FAILED (the heap reported a problem)"
        grep '^oneheap:' "$tmp/$name.err" | head -n 10
        status=1
    else
        echo "$name: same output ($(wc -c <"$tmp/$name.out") bytes)"
    fi
}

cat >"$tmp/alloc.py" <<'PY'
import collections, json, re, random
random.seed(7)
d = {str(i): [random.random() for _ in range(i % 40)] for i in range(30000)}
s = json.dumps(d, sort_keys=True)
e = json.loads(s)
words = re.findall(r"[0-9]+", s)
c = collections.Counter(w[:3] for w in words)
print(len(s), len(words), c.most_common(5))
print(sum(len(v) for v in e.values()), sorted(set(map(len, e.values())))[:10])
PY
run python3 python3 "$tmp/alloc.py"

run sqlite3 sqlite3 :memory: "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50000)
  SELECT count(*), sum(i % 97), group_concat(i, ',') IS NOT NULL FROM n;
  CREATE TABLE t(a INTEGER PRIMARY KEY, b TEXT, c REAL);
  WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
  INSERT INTO t SELECT i, printf('row-%08d-%s', i, hex(i * 7919)), i * 0.5 FROM n;
  CREATE INDEX tb ON t(b);
  SELECT count(*), min(b), max(b), sum(c) FROM t WHERE b LIKE 'row-0001%';
  SELECT substr(b, 1, 12), count(*) FROM t GROUP BY a % 7 ORDER BY 1;"

cat >"$tmp/big.c" <<'CC'
#include <stdio.h>
#define F(n) static int f##n(int x) { int s = 0; for (int i = 0; i < x; i++) s += i * n ^ (s >> 3); return s; }
#define G(n) F(n##0) F(n##1) F(n##2) F(n##3) F(n##4) F(n##5) F(n##6) F(n##7) F(n##8) F(n##9)
G(1) G(2) G(3) G(4) G(5) G(6) G(7) G(8) G(9)
int main(void) { printf("%d\n", f10(10) + f99(20)); return 0; }
CC
run gcc gcc -O2 -S -o - "$tmp/big.c"

run git sh -c 'rm -rf repo && git init -q repo && cd repo && git config user.email t@example.org && git config user.name t &&
  for i in 1 2 3 4 5 6 7 8; do seq 1 $((i * 500)) > f$i; git add f$i;
    GIT_AUTHOR_DATE="2000-01-0${i}T00:00:00Z" GIT_COMMITTER_DATE="2000-01-0${i}T00:00:00Z" git commit -q -m "c$i"; done &&
  git log --stat --format="%H %s" && git gc -q && git count-objects -v | grep -v size'

run perl perl -e 'my %h; for my $i (1..200000) { $h{"k$i"} = [$i, "v" x ($i % 30)] } my $s = 0;
  for my $k (sort keys %h) { $s += $h{$k}[0] if $k =~ /7/ } my @w = map { join ",", @$_ } grep { $_->[0] % 1000 == 0 } values %h;
  print scalar(keys %h), " $s ", scalar(@w), "\n";'

seq 1 300000 >"$tmp/numbers.txt"
run xz sh -c "xz -9 -c numbers.txt | xz -d -c | md5sum && xz -6 -c numbers.txt | md5sum"

run malloc_stress "$stress"

# Bad frees: six reports, one per mistake, the right words, a sound heap at
# exit. The thread cache finds the two double frees of a cached block and
# the realloc of one (ONEHEAP_TEST_TCACHE=1), else the heap does.
if [ "${ONEHEAP_TEST_TCACHE:-1}" = 1 ]; then
    cache_said() { grep -q "double free (block is in this thread's cache) at 0x" "$1" &&
                   grep -q "double free (block is in another thread's cache) at 0x" "$1" &&
                   grep -q "realloc of a freed block (block is in this thread's cache) at 0x" "$1"; }
else
    cache_said() { true; }
fi
LD_PRELOAD=$lib OS_MEMHEAP_CHECK_ON_EXIT=1 "$badfree" >"$tmp/bad.out" 2>"$tmp/bad.err"
got=$?
reports=$(grep -c '^oneheap:' "$tmp/bad.err")
if [ "$asserts" = assert ]; then
    # the thread cache reports the first double free; the heap reports the second and asserts
    if [ "$got" -lt 128 ] || [ "$reports" -lt 2 ] || ! grep -q "assertion: .*double free" "$tmp/bad.err"; then
        echo "bad frees: FAILED (assert build: exit $got, $reports reports)"
        cat "$tmp/bad.err"
        status=1
    else
        echo "bad frees: reported, and the heap's first finding aborted (assert build)"
    fi
elif [ "$got" != 0 ] || [ "$(cat "$tmp/bad.out")" != done ] || [ "$reports" != 6 ] || ! cache_said "$tmp/bad.err" ||
   [ "$(grep -c 'double free' "$tmp/bad.err")" -lt 3 ] ||    # the cache's two and the heap's (ONEHEAP_SMALL: no detail)
   ! grep -q 'not in this heap' "$tmp/bad.err" ||
   ! grep -q 'not a block' "$tmp/bad.err"; then
    echo "bad frees: FAILED (exit $got, $reports reports)"
    cat "$tmp/bad.err"
    status=1
else
    echo "bad frees: each of the 6 reported"
fi

# A live block holding a cached block's key in all but one bit is no cached block.
if [ "${ONEHEAP_TEST_TCACHE:-1}" = 1 ]; then
    LD_PRELOAD=$lib OS_MEMHEAP_CHECK_ON_EXIT=1 "$badfree" nearkey >"$tmp/near.out" 2>"$tmp/near.err"
    got=$?
    if [ "$got" != 0 ] || grep -q '^oneheap:' "$tmp/near.err"; then
        echo "a block holding 63 bits of the key: FAILED (exit $got)"
        cat "$tmp/near.err"
        status=1
    else
        echo "a block holding 63 bits of the key: freed as live"
    fi
    LD_PRELOAD=$lib OS_MEMHEAP_CHECK_ON_EXIT=1 "$badfree" cachewrite >"$tmp/cw.out" 2>"$tmp/cw.err"
    got=$?
    # (the cache reports through the override's own hook: no assert build aborts here)
    if [ "$got" != 0 ] || [ "$(grep -c '^oneheap:' "$tmp/cw.err")" != 2 ] ||
         [ "$(grep -c 'freed block in the thread cache overwritten' "$tmp/cw.err")" != 2 ]; then
        echo "writes into cached blocks: FAILED (exit $got)"
        cat "$tmp/cw.err"
        status=1
    else
        echo "writes into cached blocks: each reported, no such block handed out"
    fi
fi

# A failed check at exit (status 99) keeps what the program wrote to a file.
LD_PRELOAD=$lib OS_MEMHEAP_CHECK_ON_EXIT=1 "$badfree" overrun >"$tmp/over.out" 2>"$tmp/over.err"
got=$?
if [ "$asserts" = assert ]; then
    : # the overrun itself is what the assert build stops at
elif [ "$got" != 99 ] || [ "$(cat "$tmp/over.out")" != "written before the failed check" ]; then
    echo "failed exit check: FAILED (exit $got, stdout '$(cat "$tmp/over.out")')"
    cat "$tmp/over.err"
    status=1
else
    echo "failed exit check: status 99, the program's output kept"
fi

# An address-space limit with no room for a full-size region per arena:
# an arena falls back to a region just large enough, then to other heaps.
# (64-bit builds: a 32-bit program may run under an emulator that needs
# more address space than the limit itself.)
if [ "$(od -An -tx1 -j4 -N1 "$stress" | tr -d ' ')" != 02 ]; then
    echo "4 threads under ulimit -v 250000: skipped (not a 64-bit program)"
elif ! (ulimit -v 1000000 && LD_PRELOAD=$lib ONEHEAP_ALG=firstfit OS_MEMHEAP_CHECK_ON_EXIT=1 exec "$stress" big 300) \
        >"$tmp/big.out" 2>&1 && ! grep -q '^oneheap: ONEHEAP_ALG' "$tmp/big.out"; then
    # (first-fit: a region just large enough; buddy needs twice the power of two above)
    echo "malloc(300 MiB) under ulimit -v 1000000 (first-fit): FAILED"
    cat "$tmp/big.out"
    status=1
elif (ulimit -v 250000 && LD_PRELOAD=$lib OS_MEMHEAP_CHECK_ON_EXIT=1 exec "$stress") >"$tmp/as.out" 2>&1; then
    echo "4 threads under ulimit -v 250000: served"
else
    echo "4 threads under ulimit -v 250000: FAILED (exit $?)"
    tail -n 5 "$tmp/as.out"
    status=1
fi

# errno kept by posix_memalign while regions are added after a refusal, and by
# a free whose pages are locked (64-bit builds, as above).
if [ "$(od -An -tx1 -j4 -N1 "$stress" | tr -d ' ')" != 02 ]; then
    echo "errno kept: skipped (not a 64-bit program)"
elif (ulimit -v 250000 && LD_PRELOAD=$lib exec "$stress" errno) >"$tmp/errno.out" 2>&1; then
    echo "errno kept: $(tr '\n' ';' <"$tmp/errno.out")"
else
    echo "errno kept: FAILED (exit $?)"
    cat "$tmp/errno.out"
    status=1
fi

# fork while another thread adds regions: no deadlock (alarm), every child's heap works.
if LD_PRELOAD=$lib ONEHEAP_REGION_SIZE=64K "$stress" fork >"$tmp/fork.out" 2>&1; then
    cat "$tmp/fork.out"
else
    echo "fork while growing: FAILED (exit $?)"
    cat "$tmp/fork.out"
    status=1
fi

# An allocation made while the override registers its fork and exit handlers
# (inside the first allocation) is served; a wait for the setup would hang.
if LD_PRELOAD=$lib timeout 60 "$stress" startup >"$tmp/startup.out" 2>&1; then
    cat "$tmp/startup.out"
else
    echo "allocation during setup: FAILED (exit $?)"
    cat "$tmp/startup.out"
    status=1
fi

# Frees from thread-specific-data destructors, and from the C library's clean-up
# after the last destructor round, after the thread cache was flushed reach the
# heap: "used" at exit stays small (about 4 KB; blocks left in dead threads'
# caches would be about 4 MB from the destructors, 48 KB from the clean-up,
# 140 KB from the threads whose only frees come in the clean-up).
LD_PRELOAD=$lib OS_MEMHEAP_STATS_ON_EXIT=1 "$stress" tsd >"$tmp/tsd.out" 2>"$tmp/tsd.err"
got=$?
used=$(sed -n 's/.* used \([0-9]*\),.*/\1/p' "$tmp/tsd.err" "$tmp/tsd.out" | head -n 1)
if [ "$got" != 0 ] || [ -z "$used" ] || [ "$used" -gt 32768 ]; then
    echo "tsd destructors: FAILED (exit $got, used at exit '${used}')"
    cat "$tmp/tsd.out" "$tmp/tsd.err"
    status=1
else
    echo "tsd destructors: nothing left in dead threads' caches (used at exit $used)"
fi

# The override's own promises (errno, valloc/pvalloc, realloc(p, 0), calloc of
# reused memory, a region per large or very aligned request), on each algorithm.
for alg in firstfit buddy; do
    if LD_PRELOAD=$lib ONEHEAP_ALG=$alg "$stress" corner >"$tmp/corner.out" 2>"$tmp/corner.err" &&
       ! grep -q '^oneheap: ONEHEAP_ALG' "$tmp/corner.err"; then
        echo "corner cases ($alg): passed"
    elif grep -q '^oneheap: ONEHEAP_ALG' "$tmp/corner.err"; then
        echo "corner cases ($alg): skipped (not built)"
    else
        echo "corner cases ($alg): FAILED"
        cat "$tmp/corner.out" "$tmp/corner.err"
        status=1
    fi
done

# An algorithm the library was not built with: said once on stderr, the default used.
LD_PRELOAD=$lib ONEHEAP_ALG=no-such-algorithm "$stress" >/dev/null 2>"$tmp/alg.err"
got=$?
if [ "$got" != 0 ] || [ "$(grep -c 'ONEHEAP_ALG names an algorithm' "$tmp/alg.err")" != 1 ]; then
    echo "unknown ONEHEAP_ALG: FAILED (exit $got)"
    cat "$tmp/alg.err"
    status=1
else
    echo "unknown ONEHEAP_ALG: reported, default used"
fi

# Out-of-range or malformed settings (too small, a number that overflows,
# trailing characters): each said once on stderr, the default used.
for settings in "0 12" "3x 17179869185G" "18446744073709551617 64MB"; do
    set -- $settings
    LD_PRELOAD=$lib ONEHEAP_ARENAS=$1 ONEHEAP_REGION_SIZE=$2 "$stress" \
        >"$tmp/env.out" 2>"$tmp/env.err"
    got=$?
    if [ "$got" != 0 ] || [ "$(grep -c 'ONEHEAP_ARENAS is not' "$tmp/env.err")" != 1 ] ||
       [ "$(grep -c 'ONEHEAP_REGION_SIZE is not' "$tmp/env.err")" != 1 ]; then
        echo "settings ONEHEAP_ARENAS=$1 ONEHEAP_REGION_SIZE=$2: FAILED (exit $got)"
        cat "$tmp/env.err"
        status=1
    else
        echo "settings ONEHEAP_ARENAS=$1 ONEHEAP_REGION_SIZE=$2: reported, defaults used"
    fi
done

echo "$ran programs run with the preload"
exit $status
