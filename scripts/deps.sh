#!/usr/bin/env bash
# Install what the build, the tests and the benchmark need, if it is missing
# (Debian packages; needs root or sudo). Safe to run again.
set -euo pipefail

need=()
have() { command -v "$1" >/dev/null 2>&1; }
have cmake      || need+=(cmake)
have make       || need+=(make)
have gcc        || need+=(gcc)
have clang      || need+=(clang)
have pkg-config || need+=(pkg-config)
have valgrind   || need+=(valgrind)
have python3    || need+=(python3)
have rsvg-convert || need+=(librsvg2-bin)   # renders the heap picture in its test
[ -f /usr/include/editline/readline.h ] || need+=(libedit-dev)   # line editing in oneheap-sh
# programs the malloc-override test runs with the preload
have sqlite3    || need+=(sqlite3)
have xz         || need+=(xz-utils)
have git        || need+=(git)
have perl       || need+=(perl)
[ -f /usr/include/valgrind/callgrind.h ] || need+=(valgrind)
# Kconfig builds (-DONEHEAP_KCONFIG=...) and the emulated Cortex-M test firmware
# (Debian's module is in the system python's path, which may not be the python3 on PATH)
{ /usr/bin/python3 -c 'import kconfiglib' || python3 -c 'import kconfiglib'; } >/dev/null 2>&1 || need+=(python3-kconfiglib)
have qemu-system-arm || need+=(qemu-system-arm)

# 32-bit host builds (gcc -m32)
if ! echo 'int main(void){return 0;}' | gcc -m32 -x c - -o /dev/null >/dev/null 2>&1; then
  need+=(gcc-multilib)
fi

if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  echo "installing: ${need[*]}"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${need[@]}" >/dev/null
fi
