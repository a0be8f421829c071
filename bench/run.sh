#!/usr/bin/env bash
# bench/run.sh - instruction counts per allocator call and utilisation of
# oneheap, with glibc malloc as a reference, measured in the same run.
#
#   bench/run.sh [--quick] [--with-buddy] [--configs LIST] [--skip-build] [--jobs N]
#                [--keep] [-- EXTRA CMAKE ARGS...]
#
# 1. Configures and builds oneheap + oneheap-bench in build/bench-<config>:
#      baremetal  -DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF   (headline)
#      nolock     as baremetal, -DONEHEAP_NO_LOCK=ON (single-threaded: no lock hooks at all)
#      posix      -DONEHEAP_PORT=posix     -DONEHEAP_TRACE=OFF   (lock cost)
#      trace      -DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=ON    (tracing cost)
#      header     as baremetal, -DONEHEAP_HARDENING=header (the default level's cost)
#      tail       as baremetal, -DONEHEAP_HARDENING=tail (header and tail canaries)
#      full       as baremetal, -DONEHEAP_HARDENING=full (canaries, freed blocks filled)
#      buddy      as baremetal, -DONEHEAP_ALG_BUDDY=ON, --algo buddy (--with-buddy)
#    all with -DCMAKE_BUILD_TYPE=Release and -O2 (CMAKE_C_FLAGS_RELEASE).
# 2. Runs every workload under
#      valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file=...
#    for oneheap (each configuration), for glibc and for the two segfit
#    references (first-fit's structure with no checks, bench/segfit.c; alloc
#    and free workloads only), all three on the baremetal binary.
#    The program switches collection on around each allocator call only.
# 3. Ir per call = (total Ir - calls * Ir of one empty window) / calls, where
#    the empty-window cost comes from the "empty" workload of the same binary.
#    Worst-case rows are single calls: total Ir - one empty window.
#    Prints a Markdown table. Exits non-zero if any build or run fails.
#
# --quick uses small op counts (for a fast check; numbers are less stable).
# --configs baremetal,header,... builds and measures only those
# configurations (baremetal must be one of them: glibc runs on its binary).
# Extra CMake arguments after "--" go to every configuration (for example
# -DONEHEAP_FF_SL_BITS=4); --keep keeps valgrind's own messages (*.err).
# Raw callgrind files and program output: build/bench-<config>/callgrind/.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QUICK=0
BUDDY=0
SKIP_BUILD=0
KEEP=0
JOBS="$(nproc 2>/dev/null || echo 2)"
EXTRA=()
ONLY=""

usage() {
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'
}

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --with-buddy) BUDDY=1 ;;
        --configs) ONLY="$2"; shift ;;
        --skip-build) SKIP_BUILD=1 ;;
        --keep) KEEP=1 ;;
        --jobs) JOBS="$2"; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; EXTRA=("$@"); break ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
    shift
done

die() { echo "run.sh: $*" >&2; exit 1; }

command -v valgrind >/dev/null || die "valgrind not found (apt-get install valgrind)"
command -v cmake >/dev/null || die "cmake not found"

COMMON=(-DCMAKE_BUILD_TYPE=Release "-DCMAKE_C_FLAGS_RELEASE=-O2 -DNDEBUG"
        -DONEHEAP_TESTS=OFF -DONEHEAP_TOOLS=OFF -DONEHEAP_BENCH=ON
        -DONEHEAP_ALG_FIRSTFIT=ON -DONEHEAP_SYS_HEAP=ON -DONEHEAP_FF_SL_BITS=5
        -DONEHEAP_ALIGN=8 -DONEHEAP_ERROR_ASSERT=OFF -DONEHEAP_SANITIZE= -DONEHEAP_STATS=OFF
        -DONEHEAP_FAULT_INJECT=OFF -DONEHEAP_VALGRIND=OFF -DONEHEAP_ASAN_POISON=OFF -DONEHEAP_SMALL=OFF)

CONFIGS=(baremetal nolock posix trace header tail full)
[[ $BUDDY -eq 1 ]] && CONFIGS+=(buddy)
if [[ -n $ONLY ]]; then
    IFS=, read -ra CONFIGS <<<"$ONLY"
    [[ " ${CONFIGS[*]} " == *" baremetal "* ]] || die "--configs must include baremetal"
    for c in "${CONFIGS[@]}"; do
        [[ " baremetal nolock posix trace header tail full buddy " == *" $c "* ]] || die "unknown configuration '$c'"
    done
fi

config_flags() {
    case "$1" in
        baremetal) echo "-DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_HARDENING=off" ;;
        nolock)    echo "-DONEHEAP_PORT=baremetal -DONEHEAP_NO_LOCK=ON -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_HARDENING=off" ;;
        posix)     echo "-DONEHEAP_PORT=posix -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_HARDENING=off" ;;
        trace)     echo "-DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=ON -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_HARDENING=off" ;;
        header)    echo "-DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_HARDENING=header" ;;
        tail)      echo "-DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_HARDENING=tail" ;;
        full)      echo "-DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=OFF -DONEHEAP_HARDENING=full" ;;
        buddy)     echo "-DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_HARDENING=off" ;;
    esac
}

build_dir() { echo "$ROOT/build/bench-$1"; }

# ---- 1. build ------------------------------------------------------------------
for c in "${CONFIGS[@]}"; do
    dir="$(build_dir "$c")"
    if [[ $SKIP_BUILD -eq 0 ]]; then
        mkdir -p "$dir"
        # shellcheck disable=SC2046
        if ! cmake -S "$ROOT" -B "$dir" "${COMMON[@]}" $(config_flags "$c") "${EXTRA[@]}" \
                >"$dir/configure.log" 2>&1; then
            cat "$dir/configure.log" >&2
            die "configure of '$c' failed"
        fi
        if ! cmake --build "$dir" --target oneheap-bench -j "$JOBS" >"$dir/build.log" 2>&1; then
            cat "$dir/build.log" >&2
            die "build of '$c' failed"
        fi
    fi
    [[ -x "$dir/bench/oneheap-bench" ]] || die "no $dir/bench/oneheap-bench"
done

# ---- 2. run --------------------------------------------------------------------
BIN0="$(build_dir baremetal)/bench/oneheap-bench"
mapfile -t WORKLOADS < <("$BIN0" --list)
QARG=()
[[ $QUICK -eq 1 ]] && QARG=(--quick)

declare -A IR CALLS LINE

# run_cg COLUMN BINARY ALLOCATOR WORKLOAD [EXTRA ARGS...]
run_cg() {
    local col="$1" bin="$2" alloc="$3" wl="$4"
    shift 4
    local out="$CGDIR/$col-$wl"
    rm -f "$out.cg"
    local rc=0
    valgrind --tool=callgrind --collect-atstart=no --callgrind-out-file="$out.cg" \
        "$bin" "${QARG[@]}" "$@" "$alloc" "$wl" >"$out.log" 2>"$out.err" || rc=$?
    if [[ $rc -ne 0 ]] || ! grep -q ' status=ok' "$out.log"; then
        cat "$out.log" "$out.err" >&2
        die "$col $wl failed (exit $rc): valgrind --tool=callgrind $bin ${QARG[*]} $* $alloc $wl"
    fi
    local ir calls
    ir="$(awk '/^totals:/ { print $2; found = 1; exit } /^summary:/ { s = $2 } END { if (!found && s != "") print s }' "$out.cg")"
    calls="$(sed -n 's/.* calls=\([0-9]*\).*/\1/p' "$out.log")"
    [[ -n "$ir" && -n "$calls" && "$calls" -gt 0 ]] || die "$col $wl: no totals or calls in $out.cg / $out.log"
    if [[ $wl == empty && $ir -eq 0 ]]; then
        die "$bin counts nothing under callgrind: it was built without valgrind/callgrind.h"
    fi
    IR["$col:$wl"]="$ir"
    CALLS["$col:$wl"]="$calls"
    LINE["$col:$wl"]="$(grep '^RESULT' "$out.log")"
    if [[ $KEEP -eq 0 ]]; then rm -f "$out.err"; fi
}

COLUMNS=()
start=$SECONDS
for c in "${CONFIGS[@]}" glibc segfit segfit-pow2; do
    if [[ $c == glibc || $c == segfit* ]]; then
        bin="$BIN0"; alloc="$c"; extra=()
        CGDIR="$(build_dir baremetal)/callgrind"
    else
        bin="$(build_dir "$c")/bench/oneheap-bench"; alloc=oneheap; extra=()
        [[ $c == buddy ]] && extra=(--algo buddy)
        CGDIR="$(build_dir "$c")/callgrind"
    fi
    mkdir -p "$CGDIR"
    for wl in "${WORKLOADS[@]}"; do
        [[ $c == segfit* && " realloc aligned pool_pairs " == *" $wl "* ]] && continue   # alloc and free only
        run_cg "$c" "$bin" "$alloc" "$wl" "${extra[@]}"
    done
    echo "run.sh: $c done ($((SECONDS - start)) s)" >&2
    COLUMNS+=("$c")
done

# ---- 3. report -----------------------------------------------------------------
# has COLUMN WORKLOAD: was it measured? (segfit has no realloc, aligned alloc or pools)
has() { [[ -n ${IR[$1:$2]:-} ]]; }
# per_call COLUMN WORKLOAD: (Ir - calls * window) / calls
per_call() {
    has "$1" "$2" || { echo "-"; return; }
    awk -v ir="${IR[$1:$2]}" -v n="${CALLS[$1:$2]}" -v eir="${IR[$1:empty]}" -v en="${CALLS[$1:empty]}" \
        'BEGIN { w = eir / en; printf "%.1f", (ir - n * w) / n }'
}
# per_pair COLUMN WORKLOAD: 2 * per_call (an alloc and a free)
per_pair() {
    has "$1" "$2" || { echo "-"; return; }
    awk -v ir="${IR[$1:$2]}" -v n="${CALLS[$1:$2]}" -v eir="${IR[$1:empty]}" -v en="${CALLS[$1:empty]}" \
        'BEGIN { w = eir / en; printf "%.1f", 2 * (ir - n * w) / n }'
}
# single COLUMN WORKLOAD: Ir of one call
single() {
    has "$1" "$2" || { echo "-"; return; }
    awk -v ir="${IR[$1:$2]}" -v n="${CALLS[$1:$2]}" -v eir="${IR[$1:empty]}" -v en="${CALLS[$1:empty]}" \
        'BEGIN { w = eir / en; printf "%.0f", ir - n * w }'
}
# worst COLUMN PREFIX: maximum single() over the variants PREFIX_*, with the variant
worst() {
    local best="" bestv="" wl v
    for wl in "${WORKLOADS[@]}"; do
        [[ $wl == "$2"_* ]] || continue
        v="$(single "$1" "$wl")"
        if [[ -z $best || $v -gt $best ]]; then best="$v"; bestv="${wl#"$2"_}"; fi
    done
    echo "$best (v$bestv)"
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" <<<"${LINE[$1:$3]}"; }

header() {
    local h="| $1 |" s="|---|" c
    for c in "${COLUMNS[@]}"; do
        case "$c" in
            baremetal) h+=" oneheap baremetal |" ;;
            nolock) h+=" oneheap baremetal, no lock |" ;;
            posix) h+=" oneheap posix |" ;;
            trace) h+=" oneheap +trace |" ;;
            header) h+=" oneheap hardening header (default) |" ;;
            tail) h+=" oneheap +tail canary |" ;;
            full) h+=" oneheap full hardening |" ;;
            buddy) h+=" oneheap buddy |" ;;
            glibc) h+=" glibc |" ;;
            segfit) h+=" segfit (structure, no checks) |" ;;
            segfit-pow2) h+=" segfit, power-of-two requests |" ;;
        esac
        s+="---:|"
    done
    echo "$h"
    echo "$s"
}
row() {   # row LABEL FUNCTION ARG
    local r="| $1 |" c
    for c in "${COLUMNS[@]}"; do r+=" $($2 "$c" "$3") |"; done
    echo "$r"
}
util() {  # util COLUMN FIELD
    if [[ $1 == glibc ]]; then echo "n/a"; return; fi
    awk -v u="$(field "$1" "$2" fill)" 'BEGIN { printf "%.1f %%", 100 * u }'
}
calls_of() { echo "${CALLS[$1:$2]:--}"; }
window() { awk -v ir="${IR[$1:empty]}" -v n="${CALLS[$1:empty]}" 'BEGIN { printf "%.1f", ir / n }'; }

echo
echo "### oneheap-bench: Ir per allocator call (callgrind)$([[ $QUICK -eq 1 ]] && echo ', --quick')"
echo
header "workload"
row "pairs: alloc/free 8..512 (Ir/call)" per_call pairs
row "mix: <=1000 live, 8..4096 log (Ir/call)" per_call mix
row "fill: fill, free half, refill (Ir/call)" per_call fill
row "realloc: growth chains 16..8192 (Ir/call)" per_call realloc
row "aligned: align 16..4096 (Ir/call)" per_call aligned
row "worst_alloc: alloc(256) after 1024 holes (Ir)" single worst_alloc
row "worst_free: max of variants (Ir)" worst worst_free
row "worst_alloc_fallthrough: max of variants (Ir)" worst worst_fall
row "worst_refused: alloc refused, 900 too-small blocks in its class (Ir)" single worst_refused
row "worst_flush: largest alloc after the heap was filled and emptied (Ir)" single worst_flush
if [[ -n ${IR[baremetal:pool_pairs]:-} ]]; then   # absent with -DONEHEAP_MEM_POOL=OFF
    row "pool_pairs: os_mp_alloc(OS_NO_WAIT)/os_mp_free, 64 B (Ir/call; glibc: malloc(64)/free)" per_call pool_pairs
    row "pool_pairs: one alloc + one free (Ir/pair)" per_pair pool_pairs
fi
row "utilisation, first fill (requested / 1 MiB)" util util_fill
row "utilisation, refill to the first failure (requested / 1 MiB)" util util_refill
row "utilisation, refill until 100 requests in a row fail (requested / 1 MiB)" util util_exhaust
echo
wins=()
for c in "${COLUMNS[@]}"; do wins+=("$c $(window "$c")"); done
joined="$(IFS=,; echo "${wins[*]}")"
echo "Empty measurement window, subtracted from every call (Ir): ${joined//,/, }."
for c in "${COLUMNS[@]}"; do
    [[ $c == glibc ]] && continue
    echo "Fill details, $c: $(field "$c" blocks_fill fill) blocks live after the first fill," \
         "$(field "$c" blocks_refill fill) after the refill; heap mem_used / mem_total" \
         "$(field "$c" used_fill fill) / $(field "$c" mem_total fill) and $(field "$c" used_refill fill) / $(field "$c" mem_total fill)."
done
echo "glibc has no fixed region: its fill allocates until the requested bytes would pass 1 MiB (no utilisation)."
echo
echo "#### Worst-case variants (Ir of the one measured call)"
echo
header "variant"
for wl in "${WORKLOADS[@]}"; do
    [[ $wl == worst_* ]] || continue
    row "$wl" single "$wl"
done
echo
echo "#### Measured calls per workload"
echo
header "workload"
for wl in pairs mix fill realloc aligned pool_pairs; do
    [[ -n ${CALLS[baremetal:$wl]:-} ]] && row "$wl" calls_of "$wl"
done
echo
echo "Total time $((SECONDS)) s; valgrind $(valgrind --version | sed 's/valgrind-//'); $(cc --version | head -n1)."
