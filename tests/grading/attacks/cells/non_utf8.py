"""Writes bytes that are not UTF-8 to stdout and stderr."""
import os
import sys

sys.stdout.buffer.write(b"caf\xe9 \xff\xfe\n")
sys.stdout.flush()
os.write(2, b"\x80\x81 broken \xc3")
