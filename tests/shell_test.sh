#!/bin/sh
# The host shell runs the OneOS documentation's samples on the 128 KiB first-fit system heap
# and prints what that documentation shows: 1..65536 bytes succeed and 131072 fails;
# the user heap inside a 2048-byte block serves 1..1024 bytes, fails at 2048,
# and reallocates 64 -> 68 -> 60 bytes at one address; the heap checks sound.
sh_bin=$1
asserts=${2:-}      # "assert": a build that aborts on a bad pointer (ONEHEAP_ERROR_ASSERT)
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
# The block commands: a refused free says so; realloc of address 0 is a
# malloc; a malformed number is a usage error, never a size of 0 (which
# would make realloc free the block).
bad_free='free 1234\n'
[ "$asserts" = assert ] && bad_free=''
out=$(printf "malloc 100\n${bad_free}"'free 0\nrealloc 0x0 64\nrealloc 0 abc\nrealloc 0 -1\nmalloc 99999999999999999999\naligned 64 x\nfree zz\nshow_heap\nquit\n' | "$sh_bin" 2>&1)
# (the system heap's name, "sys_heap", cut to OS_NAME_MAX characters)
sys="'[sys_heap]*'"
[ "$asserts" = assert ] || expect "^free 0x1234 in $sys: refused$"
expect "^free (nil) in $sys\$"
expect "^realloc (nil) to 64 in $sys: 0x"
for cmd in realloc malloc aligned free; do
    n=$(printf '%s\n' "$out" | grep -c "^usage: $cmd ")
    want=1; [ $cmd = realloc ] && want=2
    if [ "$n" != $want ]; then
        echo "$cmd: $n usage errors, expected $want"
        status=1
    fi
done
[ $status -eq 0 ] || printf '%s\n' "$out"
# An over-long line is refused whole (never run in pieces); a heap name
# longer than OS_NAME_MAX is refused; a heap whose region was refused is
# not left behind.
long=$(printf 'malloc 1%600s0' '')
name=$(printf 'n%0250d' 0)      # longer than OS_NAME_MAX but in configurations above 250
out=$(printf '%s\nheap_create %s 1K\nheap_create h 8\nheap_create h 1K\nshow_heap\nquit\n' "$long" "$name" | "$sh_bin" 2>&1)
expect '^line too long: at most 510 characters; not run$'
# (a name of 251 characters fits an OS_NAME_MAX above 250: then it is taken)
printf '%s\n' "$out" | grep -q "added to '$name'" || expect '^a heap name has at most [0-9]* characters$'
# (with OS_NAME_MAX 0 every name is too long, "h" too)
printf '%s\n' "$out" | grep -q '^a heap name has at most 0 characters$' || expect "^region .* added to 'h'$"
if printf '%s\n' "$out" | grep -q -e '^malloc ' -e 'command not found' -e 'exists already'; then
    echo "an over-long line ran, or a refused heap_create left its heap behind"
    status=1
fi
[ $status -eq 0 ] || printf '%s\n' "$out"
# A line holding a NUL byte is refused whole and the next line still runs;
# a picture that cannot be written is reported, not announced as written.
out=$(printf 'malloc 1\000 2\nmalloc 24\nheap_map /dev/full\nquit\n' | "$sh_bin" 2>&1)
expect '^line holds a NUL byte; not run$'
expect "^malloc 24 from $sys: 0x"
expect '^heap_map: cannot write /dev/full$'
if printf '%s\n' "$out" | grep -q -e '^malloc 1 from' -e '^heap_map: wrote'; then
    echo "a line with a NUL byte ran, or a failed picture was announced as written"
    status=1
fi
[ $status -eq 0 ] || printf '%s\n' "$out"
# A region the system heap refuses: status 1, and its memory is given back
# (a leak checker, in the sanitizer builds, would say what was lost)
out=$("$sh_bin" --region 1 -c show_mem 2>&1)
if [ $? -ne 1 ] || printf '%s\n' "$out" | grep -q -e 'LeakSanitizer' -e 'leaked'; then
    echo "a refused --region did not exit with status 1, or lost its memory:"
    printf '%s\n' "$out"
    status=1
fi
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
