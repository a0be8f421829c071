#!/usr/bin/env bash
# Bounded fuzzing: build the libFuzzer targets with clang (library and
# targets with ASan+UBSan, buddy compiled in) in build/fuzz, then run each
# target for SECONDS seconds (default 60), seeded with a scratch copy of the
# committed corpus. Fails if a target finds a crash; the input that did it
# is left in build/fuzz/artifacts/.
# Usage: scripts/fuzz.sh [SECONDS [HARDENING]]
#   HARDENING: off, header, tail or full (default: the library's default);
#   a level other than the default builds in build/fuzz-HARDENING.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-60}
level=${2:-}

# clang and its libFuzzer runtime (Debian packages), if missing
need=()
command -v cmake >/dev/null 2>&1 || need+=(cmake)
command -v make >/dev/null 2>&1 || need+=(make)
command -v clang >/dev/null 2>&1 || need+=(clang)
probe=$(mktemp -d)
trap 'rm -rf "$probe"' EXIT
printf '#include <stddef.h>\n#include <stdint.h>\nint LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }\n' >"$probe/t.c"
if ! clang -fsanitize=fuzzer "$probe/t.c" -o "$probe/t" >/dev/null 2>&1; then
  need+=(libclang-rt-14-dev)
fi
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi

mkdir -p build
dir=build/fuzz${level:+-$level}
cmake -S . -B "$dir" -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug \
  -DONEHEAP_SANITIZE=address,undefined -DONEHEAP_ALG_BUDDY=ON -DONEHEAP_FUZZ=ON \
  ${level:+-DONEHEAP_HARDENING=$level} \
  -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF >"$dir.log" 2>&1 || { tail -n 40 "$dir.log"; exit 1; }
cmake --build "$dir" -j"$(nproc)" --target fuzz_ops fuzz_regions >>"$dir.log" 2>&1 || { tail -n 40 "$dir.log"; exit 1; }

mkdir -p "$dir/artifacts"
failed=()
for t in ops regions; do
  work="$dir/corpus-$t"
  rm -rf "$work"
  mkdir -p "$work"
  cp tests/fuzz/corpus/$t/* "$work/"
  echo "=== fuzz_$t for ${secs} s"
  if ! "$dir/tests/fuzz/fuzz_$t" -max_total_time="$secs" -print_final_stats=1 \
       -artifact_prefix="$dir/artifacts/$t-" "$work" >"$dir/fuzz_$t.log" 2>&1; then
    tail -n 60 "$dir/fuzz_$t.log"
    failed+=("fuzz_$t")
  fi
  grep -E '^stat::(number_of_executed_units|average_exec_per_sec|new_units_added)' "$dir/fuzz_$t.log" || true
  grep -E '^#[0-9]+.*(cov|DONE)' "$dir/fuzz_$t.log" | tail -n 1 || true
done

if [ ${#failed[@]} -gt 0 ]; then
  echo "FUZZING FOUND CRASHES in: ${failed[*]} (inputs in $dir/artifacts/)"
  exit 1
fi
echo "fuzzing passed: fuzz_ops and fuzz_regions, ${secs} s each"
