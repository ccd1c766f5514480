"""Looks for the hidden tests, the source notebook, the gradebook and other students' work.

``TARGETS`` (paths on the grading machine) is defined by an earlier cell. Prints a JSON report: what each
target gave, which instructor modules could be imported, and every file found outside the system folders.
"""
import importlib
import json
import os
import sys

report = {"targets": {}, "imports": {}, "found": []}
for target in TARGETS:  # noqa: F821 - defined by the test's previous cell
    try:
        if os.path.isdir(target):
            report["targets"][target] = "listed: " + ", ".join(os.listdir(target))
        else:
            with open(target, "rb") as handle:
                report["targets"][target] = "read: " + handle.read(100).decode(errors="replace")
    except OSError as error:
        report["targets"][target] = f"{type(error).__name__}: {error.strerror}"
instructor = ["autograder.hidden._selftest", "autograder.hidden", "autograder.kernel", "autograder.mutants"]
instructor.append("autograder.cli")
for module in instructor:
    try:
        importlib.import_module(module)
        report["imports"][module] = "imported"
    except Exception as error:
        report["imports"][module] = type(error).__name__
coursepkg = os.path.dirname(importlib.import_module("coursepkg").__file__)
skip = {"/proc", "/sys", "/dev", "/usr", sys.prefix, sys.base_prefix, coursepkg}
for root, folders, files in os.walk("/"):
    folders[:] = [f for f in folders if os.path.join(root, f) not in skip]
    report["found"] += [os.path.join(root, name) for name in files]
print(json.dumps(report))
