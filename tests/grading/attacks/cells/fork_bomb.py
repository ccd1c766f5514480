"""Forks for ever and ignores failures: RLIMIT_NPROC caps the processes, the wall clock ends it."""
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
