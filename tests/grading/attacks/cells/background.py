"""Leaves processes behind: a shell loop in a new session and a double-forked daemon, both writing heartbeats."""
import os
import subprocess
import time

subprocess.Popen(["sh", "-c", "while true; do echo beat >> heartbeat-shell; sleep 0.1; done"], start_new_session=True)
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        while True:
            with open("heartbeat-daemon", "a") as handle:
                handle.write("beat\n")
            time.sleep(0.1)
    os._exit(0)
print("left running")
