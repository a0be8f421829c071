#!/usr/bin/env python3
"""oneheap-sh at a terminal: line editing and history (libedit).

Runs the shell on a pseudo-terminal, types a command, then recalls it with
the up arrow and edits a typo with the left arrow, and checks the shell ran
each command. Waits for the expected output, with a generous limit that only
a hung shell reaches. Usage: shell_tty_test.py PATH/TO/oneheap-sh
"""
import os
import pty
import select
import sys
import time

shell = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    os.execv(shell, [shell])

out = b""


def wait_for(text, count=1, limit=30.0):
    """Read until `text` has appeared `count` times in the output."""
    global out
    end = time.monotonic() + limit
    while out.count(text) < count:
        if time.monotonic() > end:
            print("timed out waiting for %r; output so far:\n%s" % (text, out.decode(errors="replace")))
            sys.exit(1)
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break


wait_for(b"sh>")
os.write(fd, b"show_mem\n")
wait_for(b"total memory", 1)
os.write(fd, b"\x1b[A\n")                   # up arrow: the last command again
wait_for(b"total memory", 2)
os.write(fd, b"check_meem\x1b[D\x1b[D\x7f\n")  # typo, two lefts, backspace: check_mem
wait_for(b"heap check: OK", 1)
os.write(fd, b"quit\n")
os.waitpid(pid, 0)
print(out.decode(errors="replace"))
print("shell at a terminal: history and line editing work")
