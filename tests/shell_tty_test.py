#!/usr/bin/env python3
"""oneheap-sh at a terminal: line editing and history (libedit).

Runs the shell on a pseudo-terminal, types a command, then recalls it with
the up arrow and edits a typo with the left arrow, and checks the shell ran
each command. Each input waits for the shell's next prompt; the time limit
is only there to end a hung shell. Usage: shell_tty_test.py PATH/TO/oneheap-sh
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
pos = 0     # everything before pos has been matched already


def wait_for(text, limit=120.0):
    """Read until `text` appears after the last match."""
    global out, pos
    end = time.monotonic() + limit
    while out.find(text, pos) < 0:
        if time.monotonic() > end:
            print("timed out waiting for %r; output so far:\n%s" % (text, out.decode(errors="replace")))
            sys.exit(1)
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    pos = out.find(text, pos) + len(text)


# Each input goes in only once the shell shows the prompt that follows the
# previous command's output (the terminal is in libedit's mode by then).
wait_for(b"sh>")
os.write(fd, b"show_mem\n")
wait_for(b"total memory")
wait_for(b"sh>")
os.write(fd, b"\x1b[A\n")                   # up arrow: the last command again
wait_for(b"total memory")
wait_for(b"sh>")
os.write(fd, b"check_meem\x1b[D\x1b[D\x7f\n")  # typo, two lefts, backspace: check_mem
wait_for(b"heap check: OK")
wait_for(b"sh>")
os.write(fd, b"quit\n")
os.waitpid(pid, 0)
print(out.decode(errors="replace"))
print("shell at a terminal: history and line editing work")
