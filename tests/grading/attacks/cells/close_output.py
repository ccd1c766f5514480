"""Closes its stdout and stderr, and points fd 1 at a file: the grader's channel and later cells are unaffected."""
import os

os.close(2)
os.close(1)
os.open("hijacked.txt", os.O_WRONLY | os.O_CREAT)  # takes fd 1
