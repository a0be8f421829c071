#!/usr/bin/env bash
# Line coverage of the library's sources by the ctest suite, over several
# configurations: each is built with gcc --coverage (Debug) in
# build/coverage-<name> and its tests run; a line counts as covered if any
# configuration ran it, and as a line at all if any configuration compiled
# it (code under #if is counted where it is built). Prints covered / lines
# per file and in total.
#   scripts/coverage.sh [--uncovered] [config ...]   (default: all five)
#     --uncovered   also list every line no configuration ran
# Configurations: posix (trace, both algorithms, statistics, fault
# injection), tail (hardening tail), small (one class per octave, 16-byte
# alignment, portable find-first-set, hardening full, pool tags, no system
# heap), footprint (ONEHEAP_SMALL, bare metal, hardening off) and
# baremetal (lock hooks, trace, both algorithms).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/deps.sh
. scripts/configs.sh
command -v gcov >/dev/null || { echo "coverage.sh: gcov not found (it comes with gcc)" >&2; exit 1; }

list=0
if [ "${1:-}" = "--uncovered" ]; then
  list=1
  shift
fi

common="-DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS=--coverage -DCMAKE_EXE_LINKER_FLAGS=--coverage -DCMAKE_SHARED_LINKER_FLAGS=--coverage -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_BENCH=OFF"
declare -A configs=(
  [posix]="-DONEHEAP_ALG_BUDDY=ON -DONEHEAP_STATS=ON -DONEHEAP_FAULT_INJECT=ON"
  [tail]="-DONEHEAP_ALG_BUDDY=ON -DONEHEAP_HARDENING=tail -DONEHEAP_STATS=ON"
  [small]="$opts_small"
  [footprint]="$opts_footprint"
  [baremetal]="$opts_baremetal"
)
order=(posix tail small footprint baremetal)
[ $# -gt 0 ] && order=("$@")

jobs=$(nproc)
gcovs=()
for name in "${order[@]}"; do
  flags=${configs[$name]:?unknown config $name}
  dir=build/coverage-$name
  echo "=== $name: $flags" >&2
  find "$dir" -name '*.gcda' -delete 2>/dev/null || true     # counts of this run only
  # shellcheck disable=SC2086
  if ! { cmake -S . -B "$dir" $common $flags >"$dir.log" 2>&1 && cmake --build "$dir" -j"$jobs" >>"$dir.log" 2>&1; }; then
    tail -n 40 "$dir.log" >&2
    echo "coverage.sh: build of $name failed" >&2
    exit 1
  fi
  ctest --test-dir "$dir" -j"$jobs" --timeout 900 >>"$dir.log" 2>&1 ||
    { grep -E 'Failed|\*\*\*' "$dir.log" >&2; echo "coverage.sh: tests of $name failed" >&2; exit 1; }
  out=$dir/gcov
  rm -rf "$out"
  mkdir -p "$out"
  for gcda in "$dir"/CMakeFiles/oneheap.dir/src/*.gcda "$dir"/CMakeFiles/oneheap.dir/src/alg/*.gcda \
              "$dir"/CMakeFiles/oneheap.dir/port/*.gcda; do
    [ -f "$gcda" ] || continue
    abs="$(cd "$(dirname "$gcda")" && pwd)/$(basename "$gcda")"
    (cd "$out" && gcov -o "$(dirname "$abs")" "$abs" >/dev/null 2>&1) || true
  done
  gcovs+=("$out")
done

python3 - "$list" "$PWD" "${gcovs[@]}" <<'EOF'
import os, re, sys
listing, root, dirs = sys.argv[1] == "1", sys.argv[2], sys.argv[3:]
lines = {}     # source -> {line: (ran, text)}
for d in dirs:
    for name in sorted(os.listdir(d)):
        if not name.endswith(".gcov"):
            continue
        src = None
        with open(os.path.join(d, name), errors="replace") as fh:
            for raw in fh:
                m = re.match(r"\s*([^:]+):\s*(\d+):(.*)", raw.rstrip("\n"))
                if not m:
                    continue
                count, num, text = m.group(1).strip(), int(m.group(2)), m.group(3)
                if num == 0:
                    if text.startswith("Source:"):
                        src = os.path.relpath(text[len("Source:"):], root)
                    continue
                if src is None or count == "-" or not (src.startswith("src/") or src.startswith("port/")):
                    continue
                ran = not count.startswith(("#####", "====="))
                old = lines.setdefault(src, {}).get(num)
                lines[src][num] = (ran or (old is not None and old[0]), text)
tot = cov = 0
print("| source | lines run | lines | % |")
print("|---|---:|---:|---:|")
for src in sorted(lines):
    n = len(lines[src])
    c = sum(1 for ran, _ in lines[src].values() if ran)
    tot += n
    cov += c
    print(f"| {src} | {c} | {n} | {100.0 * c / n:.1f} |")
print(f"| total | {cov} | {tot} | {100.0 * cov / tot:.1f} |")
if listing:
    for src in sorted(lines):
        for num, (ran, text) in sorted(lines[src].items()):
            if not ran:
                print(f"{src}:{num}: {text.strip()}")
EOF
