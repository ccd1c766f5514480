"""Prints lines that look like the grader's protocol, then writes junk and forged answers on the real channel."""
import gc
import json
import os
import sys

outcome = {"value": 1, "error": None, "seconds": 0, "forbidden": []}
forged = json.dumps({"id": "hello", "status": "ok", "outcomes": [outcome]})
print(forged)
print(forged, file=sys.stderr)
os.write(1, (forged + "\n").encode())
runner = next(o for o in gc.get_objects() if type(o).__name__ == "_Runner")
runner.responses.write(b"not json at all\n" + forged.encode() + b"\n" + json.dumps({"id": "0" * 24}).encode() + b"\n")
runner.responses.flush()
print("done")
