#!/bin/sh
# install_test.sh BUILD_DIR TESTS_DIR CC CMAKE [CONFIG] [EXTRA_FLAGS]
#
# Installs the build in BUILD_DIR into a temporary prefix, then
#  1. compiles install_app.c with the flags pkg-config gives for oneheap and runs it;
#  2. configures, builds and runs tests/install_cmake (find_package(oneheap)).
# EXTRA_FLAGS (e.g. -fsanitize=address) are passed to both consumers.
# Both parts always run; the script fails if either failed.
set -u

build=$1
tests=$2
cc=$3
cmake=$4
config=${5:-}
extra=${6:-}

tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT INT TERM
prefix=$tmp/prefix
failed=0

fail() {
    echo "FAILED: $*"
    failed=1
}

if [ -n "$config" ]; then
    "$cmake" --install "$build" --prefix "$prefix" --config "$config" || { echo "FAILED: install"; exit 1; }
else
    "$cmake" --install "$build" --prefix "$prefix" || { echo "FAILED: install"; exit 1; }
fi
for f in os_memory.h os_types.h os_errno.h oneos_config.h; do
    [ -f "$prefix/include/$f" ] || fail "$f was not installed in $prefix/include"
done

# 1. pkg-config
pc=$(find "$prefix" -name oneheap.pc | head -n 1)
if [ -z "$pc" ]; then
    fail "oneheap.pc was not installed under $prefix"
elif ! command -v pkg-config >/dev/null 2>&1; then
    echo "pkg-config not found: pkg-config consumer not tested"
else
    pcdir=$(dirname "$pc")
    flags=$(PKG_CONFIG_PATH=$pcdir pkg-config --cflags --libs oneheap)
    echo "pkg-config --cflags --libs oneheap: $flags"
    incdir=$(PKG_CONFIG_PATH=$pcdir pkg-config --variable=includedir oneheap)
    # The same directory, however it is spelled (the .pc file is relocatable).
    if [ ! -d "$incdir" ] || [ "$(cd "$incdir" && pwd -P)" != "$(cd "$prefix/include" && pwd -P)" ]; then
        fail "oneheap.pc installed in $pcdir gives includedir '$incdir', not '$prefix/include' (not relocatable)"
    # shellcheck disable=SC2086
    elif "$cc" -std=c11 $extra "$tests/install_app.c" $flags -o "$tmp/app_pc" && "$tmp/app_pc"; then
        echo "pkg-config consumer: ok"
    else
        fail "pkg-config consumer did not build or run"
    fi
fi

# 2. find_package(oneheap)
if "$cmake" -S "$tests/install_cmake" -B "$tmp/consumer" \
        -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_C_COMPILER="$cc" \
        -DCMAKE_C_FLAGS="$extra" -DCMAKE_EXE_LINKER_FLAGS="$extra" \
        ${config:+-DCMAKE_BUILD_TYPE=$config} &&
   "$cmake" --build "$tmp/consumer" ${config:+--config $config}; then
    app=$(find "$tmp/consumer" -type f -name 'oneheap_consumer' | head -n 1)
    if [ -n "$app" ] && "$app"; then
        echo "find_package consumer: ok"
    else
        fail "find_package consumer did not run"
    fi
else
    fail "find_package consumer did not configure or build"
fi

exit $failed
