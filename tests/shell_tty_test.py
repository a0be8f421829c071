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
import termios
import time

shell = sys.argv[1]
pid, fd = pty.fork()
if pid == 0:
    env = dict(os.environ, TERM="vt100")     # a plain, known terminal for libedit
    os.execve(shell, [shell], env)

out = b""
pos = 0     # everything before pos has been matched already


def fail(why):
    print("%s; output so far:\n%s" % (why, out.decode(errors="replace")))
    os.kill(pid, 9)
    sys.exit(1)


def wait_for(text, limit=60.0):
    """Read until `text` appears after the last match."""
    global out, pos
    end = time.monotonic() + limit
    while out.find(text, pos) < 0:
        if time.monotonic() > end:
            fail("timed out waiting for %r" % text)
        ready, _, _ = select.select([fd], [], [], 0.2)
        if ready:
            try:
                out += os.read(fd, 4096)
            except OSError:
                break
    pos = out.find(text, pos) + len(text)


def editing():
    """Wait until libedit has the terminal (canonical mode off): keys typed
    before that would be edited by the terminal driver instead."""
    end = time.monotonic() + 60.0
    while termios.tcgetattr(fd)[3] & termios.ICANON:
        if time.monotonic() > end:
            fail("the terminal never left canonical mode")
        time.sleep(0.01)


def send(keys):
    editing()
    os.write(fd, keys)


# Each input goes in once the shell shows the prompt that follows the
# previous command's output and libedit has the terminal.
wait_for(b"sh>")
send(b"show_mem\n")
wait_for(b"total memory")
wait_for(b"sh>")
send(b"\x1b[A\n")                   # up arrow: the last command again
wait_for(b"total memory")
wait_for(b"sh>")
send(b"check_meem\x1b[D\x1b[D\x7f\n")  # typo, two lefts, backspace: check_mem
wait_for(b"heap check: OK")
wait_for(b"sh>")
send(b"quit\n")
end = time.monotonic() + 60.0
while os.waitpid(pid, os.WNOHANG) == (0, 0):
    if time.monotonic() > end:
        fail("the shell did not exit after quit")
    ready, _, _ = select.select([fd], [], [], 0.2)
    if ready:
        try:
            out += os.read(fd, 4096)
        except OSError:
            pass
print(out.decode(errors="replace"))
print("shell at a terminal: history and line editing work")
