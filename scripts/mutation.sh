#!/usr/bin/env bash
# scripts/mutation.sh - which of the library's reports would no test miss?
#
#   scripts/mutation.sh [--from N] [--hardening LEVEL] [SOURCE ...]
#       (default sources: src/alg/firstfit.c src/alg/buddy.c src/heap.c
#        src/region.c src/mempool.c src/tail.c; default level: header)
#
# Every `if (COND)` of the given sources whose next lines report or refuse
# (a call or label named *bad*, *report*, *refus*, *corrupt*, *fail*, or
# `return OS_ERROR`) becomes `if (0 && (COND))`, one at a time, in a copy of
# the tree (build/mutation/src; your working tree is never touched). The copy
# is built once (gcc, both algorithms, default options but the hardening
# level, -O2 -g) and, for each
# mutant, rebuilt and run through ctest (fuzz tests left out). A line says
#
#   killed        some test failed: the check is tested
#   SURVIVED      every test passed without the check: it has no test here
#   not-compiled  the object file did not change (the check is not in this
#                 configuration, or the compiler proved it redundant)
#   build-fail    the mutant does not compile (e.g. a variable only the
#                 condition assigned)
#
# A survivor is a place to look, not a verdict: the check may be tested in
# another configuration (scripts/test.sh), or guard memory safety only
# (a bounds test before a read that a later check would also refuse).
# Results go to stdout and build/mutation[-LEVEL]/results.txt; a full run
# takes one to two hours on 2 cores. --from N resumes at the Nth mutant.
# src/tail.c and the control-data seals of src/region.c are compiled only
# from level tail: run them with --hardening tail.
set -euo pipefail
cd "$(dirname "$0")/.."
from=0
level=header
while [ $# -gt 0 ]; do
  case $1 in
    --from) from=$2; shift 2 ;;
    --hardening) level=$2; shift 2 ;;
    *) break ;;
  esac
done
sources=("$@")
[ ${#sources[@]} -gt 0 ] || sources=(src/alg/firstfit.c src/alg/buddy.c src/heap.c src/region.c src/mempool.c src/tail.c)

work=build/mutation
[ "$level" = header ] || work=build/mutation-$level
mkdir -p "$work"
rm -rf "$work/src"
mkdir "$work/src"
git ls-files -z | xargs -0 cp --parents -t "$work/src"
cmake -S "$work/src" -B "$work/b" -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=RelWithDebInfo -DONEHEAP_ALG_BUDDY=ON \
      -DONEHEAP_HARDENING="$level" \
      -DONEHEAP_QEMU_TEST=OFF -DONEHEAP_BENCH=OFF -DONEHEAP_TOOLS=OFF >"$work/configure.log"
cmake --build "$work/b" -j"$(nproc)" >"$work/build.log"

python3 - "$work" "$from" "${sources[@]}" <<'EOF'
import hashlib, os, re, subprocess, sys

work, start, sources = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
src, build = os.path.join(work, "src"), os.path.join(work, "b")
says = re.compile(r"bad|report|refus|corrupt|fail|return OS_ERROR", re.I)

def sites(name):
    """(first line, last line, column of '(', column of ')') of each reporting if."""
    lines = open(os.path.join(src, name)).read().split("\n")
    for i, text in enumerate(lines):
        m = re.match(r"\s*(?:else )?if \(", text)
        if not m:
            continue
        depth, j, col = 0, i, m.end() - 1
        open_at = col
        while j < len(lines):
            for k in range(col, len(lines[j])):
                depth += {"(": 1, ")": -1}.get(lines[j][k], 0)
                if depth == 0:
                    break
            else:
                j, col = j + 1, 0
                continue
            break
        if j < len(lines) and says.search("\n".join(lines[j + 1:j + 5])):
            yield i, j, open_at, k

def obj(name):
    path = os.path.join(build, "CMakeFiles", "oneheap.dir", name + ".o")
    return hashlib.md5(open(path, "rb").read()).hexdigest() if os.path.exists(path) else None

todo = [(name, s) for name in sources for s in sites(name)]
base = {name: obj(name) for name in sources}
out = open(os.path.join(work, "results.txt"), "a")
for n, (name, (a, b, lo, hi)) in enumerate(todo):
    if n < start:
        continue
    path = os.path.join(src, name)
    orig = open(path).read()
    lines = orig.split("\n")
    lines[b] = lines[b][:hi] + "))" + lines[b][hi + 1:]
    lines[a] = lines[a][:lo] + "(0 && (" + lines[a][lo + 1:]
    open(path, "w").write("\n".join(lines))
    try:
        if subprocess.run(["cmake", "--build", build, "-j2"], capture_output=True).returncode != 0:
            verdict = "build-fail"
        elif obj(name) == base[name]:
            verdict = "not-compiled"
        else:
            t = subprocess.run(["ctest", "-j2", "--timeout", "300", "-E", "fuzz"], cwd=build,
                               capture_output=True, text=True)
            verdict = "SURVIVED" if t.returncode == 0 else "killed"
    finally:
        open(path, "w").write(orig)
    line = "%d %s:%d %s" % (n, name, a + 1, verdict)
    print(line, flush=True)
    out.write(line + "\n")
    out.flush()
subprocess.run(["cmake", "--build", build, "-j2"], capture_output=True)
EOF
