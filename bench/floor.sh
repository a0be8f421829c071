#!/usr/bin/env bash
# bench/floor.sh - what first-fit's structure costs with its validation taken
# out: the floor under the figures of bench/run.sh.
#
#   bench/floor.sh [bench/run.sh OPTIONS...]
#
# Copies the source tree (without build/ and .git) to a temporary directory,
# applies bench/floor.patch to that copy of src/alg/firstfit.c, and runs the
# copy's bench/run.sh --configs baremetal,header there. The patch removes:
# the header check (w[1] holds the flags alone, so free no longer tells a
# stale or interior pointer from a block), the test of a free block's list
# links against its neighbours before it is unlinked, the test of the block
# a search chose (used bit, size, footer, links), the header and footer
# tests of a free neighbour before a merge, and the test that a left
# neighbour's header agrees with its footer. What is left is the structure:
# size classes, the two-level bitmap, the lists, split and merge, top, the
# statistics and the calls. The patched library is a measurement only and
# is never installed. Compare with bench/run.sh's baremetal and header
# columns.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
die() { echo "floor.sh: $*" >&2; exit 1; }

command -v git >/dev/null || die "git not found (apt-get install git): it applies the patch"
TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
tar -C "$ROOT" --exclude=./build --exclude=./.git -cf - . | tar -C "$TMP" -xf -
(cd "$TMP" && git apply bench/floor.patch) ||
    die "bench/floor.patch does not apply to src/alg/firstfit.c any more: make it again from the current source"
echo "### first-fit with its checks taken out (bench/floor.patch)"
"$TMP/bench/run.sh" --configs baremetal,header "$@"
