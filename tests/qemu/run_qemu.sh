#!/bin/sh
# run_qemu.sh MACHINE FIRMWARE.elf - run the test firmware on an emulated
# MPS2 board with semihosting (its output on stdout, its exit status as
# QEMU's). Passes only if the firmware exits with 0 and its last line is
# PASS. Skipped (77) without qemu-system-arm; a hang fails after 300 s.
machine=$1
elf=$2
if ! command -v qemu-system-arm >/dev/null 2>&1; then
  echo "qemu-system-arm not found: skipped"
  exit 77
fi
out=$(mktemp)
trap 'rm -f "$out"' EXIT
timeout -k 10 300 qemu-system-arm -M "$machine" -nographic -monitor none -serial none \
  -semihosting-config enable=on,target=native -kernel "$elf" >"$out" 2>&1
rc=$?
cat "$out"
if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
  echo "qemu_cortex_m: the firmware did not finish within 300 s"
  exit 1
fi
last=$(tail -n 1 "$out" | tr -d '\r')
if [ $rc -ne 0 ] || [ "$last" != "PASS" ]; then
  echo "qemu_cortex_m: exit status $rc, last line '$last'"
  exit 1
fi
exit 0
