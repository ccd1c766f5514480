"""100 MB of output written to the file descriptors directly and by a child process, past Python's streams."""
import os
import subprocess

chunk = b"y" * 1_000_000
for _ in range(50):
    os.write(1, chunk)
    os.write(2, chunk)
subprocess.run(["head", "-c", "100000000", "/dev/zero"], check=True)
