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

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
install() {
  echo "installing: $*"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "$@" >/dev/null
}
[ ${#need[@]} -eq 0 ] || install "${need[@]}"

# 32-bit programs must also run. A kernel can have IA-32 emulation built in
# but switched off; they then run under qemu-i386, through binfmt_misc.
runs32() {
  local t rc
  t=$(mktemp)
  echo 'int main(void){return 0;}' | gcc -m32 -x c - -o "$t" >/dev/null 2>&1 && "$t" >/dev/null 2>&1
  rc=$?
  rm -f "$t"
  return $rc
}
if ! runs32; then
  have qemu-i386 || install qemu-user
  misc=/proc/sys/fs/binfmt_misc
  [ -e $misc/register ] || $sudo mount -t binfmt_misc binfmt_misc $misc
  if [ ! -e $misc/oneheap-i386 ]; then
    # i386 ELF (e_machine 3) executables, PIE ones included (e_type 2 or 3)
    printf '%s' ':oneheap-i386:M::\x7fELF\x01\x01\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x03\x00:\xff\xff\xff\xff\xff\xfe\xfe\x00\xff\xff\xff\xff\xff\xff\xff\xff\xfe\xff\xff\xff:'"$(command -v qemu-i386)"':' |
      $sudo tee $misc/register >/dev/null
  fi
  runs32 || { echo "deps.sh: 32-bit programs cannot run on this machine" >&2; exit 1; }
  echo "32-bit programs run under qemu-i386 (binfmt_misc)"
fi
