"""Waits for input that will never come, and reads the process's stdin (the grader's requests arrive elsewhere)."""
import sys

print(repr(sys.stdin.read()))
input("your answer? ")
