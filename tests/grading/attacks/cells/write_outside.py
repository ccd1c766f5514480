"""Tries to write everywhere but its own folder. Prints what each attempt gave."""
import json
import os
import sys

import autograder.checks  # the grader's own generic modules: read-only like everything else
import coursepkg

results = {}
targets = [
    "/usr/lib/evil",
    "/etc/passwd",
    "/evil",
    os.path.join(sys.prefix, "evil"),
    os.path.join(sys.base_prefix, "evil"),
    os.path.join(os.path.dirname(coursepkg.__file__), "evil.py"),
    "/proc/sys/kernel/hostname",
    "/home/evil",
    os.path.expanduser("~/mine.txt"),
    "/tmp/mine.txt",
]
targets.append(os.path.join(os.path.dirname(autograder.checks.__file__), "checks.py"))
for target in targets:
    try:
        with open(target, "a") as handle:
            handle.write("owned")
        results[target] = "written"
    except OSError as error:
        results[target] = f"{type(error).__name__}: {error.strerror}"
try:
    with open("big.bin", "wb") as handle:
        handle.write(b"\0" * (3 * 2**20))
    results["big"] = "written"
except OSError as error:
    results["big"] = f"{type(error).__name__}: {error.strerror}"
print(json.dumps(results))
