# Option sets shared by scripts/test.sh and scripts/coverage.sh (sourced):
# the library's options for configurations both of them build; each script
# adds its own compiler, build type and tool flags.
# shellcheck shell=bash disable=SC2034
# one class per octave, 16-byte alignment, pool tags, the portable find-first-set,
# no system heap, hardening full, both algorithms
opts_small="-DONEHEAP_FF_SL_BITS=0 -DONEHEAP_ALIGN=16 -DONEHEAP_MP_CHECK_TAG=ON -DONEHEAP_NO_INTRINSICS=ON -DONEHEAP_SYS_HEAP=OFF -DONEHEAP_HARDENING=full -DONEHEAP_ALG_BUDDY=ON"
# the small-footprint build: ONEHEAP_SMALL, bare metal, hardening and trace off
opts_footprint="-DONEHEAP_HARDENING=off -DONEHEAP_SMALL=ON -DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=OFF"
# the bare-metal port with trace and both algorithms
opts_baremetal="-DONEHEAP_PORT=baremetal -DONEHEAP_TRACE=ON -DONEHEAP_ALG_BUDDY=ON"
