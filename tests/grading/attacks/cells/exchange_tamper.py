"""Forges the runner's answer to a probe, pointing the grader at a link to one of its own files, or at a FIFO.

Student code can reach everything in its process, the protocol channel and the id of the request being
served included; what it cannot do is make the grader follow a link or block on a FIFO. ``HOST_FILE`` (a path
on the grading machine) and ``KIND`` (``"symlink"`` or ``"fifo"``) are defined by an earlier cell.
"""
import gc
import json
import os
import sys

import numpy as np


def relu(x):
    frame = sys._getframe()
    while frame is not None and "request" not in frame.f_locals:
        frame = frame.f_back
    request_id = frame.f_locals["request"]["id"]
    path = "/run/io/out-9.npy"
    if KIND == "symlink":  # noqa: F821 - defined by the test's previous cell
        os.symlink(HOST_FILE, path)  # noqa: F821
    else:
        os.mkfifo(path)
    outcome = {"value": {"$npy": "out-9.npy"}, "error": None, "seconds": 0.0, "forbidden": []}
    runner = next(o for o in gc.get_objects() if type(o).__name__ == "_Runner")
    runner.responses.write(json.dumps({"id": request_id, "outcomes": [outcome]}).encode() + b"\n")
    runner.responses.flush()
    return np.maximum(x, 0)
