"""Burns CPU in a thread the grader is not waiting on while the cell sleeps: RLIMIT_CPU stops the process."""
import threading
import time


def spin():
    while True:
        pass


threading.Thread(target=spin, daemon=True).start()
time.sleep(3600)
