#!/bin/sh
# The host shell runs the seed's samples on the 128 KiB first-fit system heap
# and prints what the seed shows: 1..65536 bytes succeed and 131072 fails;
# the user heap inside a 2048-byte block serves 1..1024 bytes, fails at 2048,
# and reallocates 64 -> 68 -> 60 bytes at one address; the heap checks sound.
sh_bin=$1
out=$(printf 'sys_heap_sample\nuser_heap_sample\nshow_mem\ncheck_mem\nquit\n' | "$sh_bin" 2>&1)
status=0
expect() {
    if printf '%s\n' "$out" | grep -q -- "$1"; then :; else
        echo "missing: $1"
        status=1
    fi
}
expect 'W/TEST: malloc memory:.* size:65536$'
expect 'W/TEST: try to get 131072 byte memory failed!'
expect 'W/TEST: init memheap_test successfully'
expect 'W/TEST: memheap_alloc:.* size:1024$'
expect 'W/TEST: try to memheap_alloc 2048 byte failed'
expect 'system heap check: OK'
expect '^used memory : 0$'
# 64 -> 68 -> 60 at one address
addrs=$(printf '%s\n' "$out" | sed -n 's/^W\/TEST: memheap_realloc memory:\([^ ]*\) size:\(64\|68\|60\)$/\1/p' | sort -u)
if [ "$(printf '%s\n' "$addrs" | grep -c .)" != 1 ]; then
    echo "realloc 64/68/60 did not stay at one address: $addrs"
    status=1
fi
if printf '%s\n' "$out" | grep -q '^oneheap:'; then
    echo "unexpected error report:"
    printf '%s\n' "$out" | grep '^oneheap:'
    status=1
fi
[ $status -eq 0 ] && echo "shell samples: ok" || printf '%s\n' "$out"
# --help: the usage on stdout, status 0; an unknown option: status 2
if ! help=$("$sh_bin" --help 2>/dev/null) || ! printf '%s\n' "$help" | grep -q '^usage: oneheap-sh'; then
    echo "--help: no usage on stdout, or a failure status"
    status=1
fi
"$sh_bin" --no-such-option 2>/dev/null
if [ $? -ne 2 ]; then
    echo "an unknown option did not exit with status 2"
    status=1
fi
exit $status
