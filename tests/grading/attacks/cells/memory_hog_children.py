"""Spreads memory over child processes, each under the per-process limit: the outside watch stops the sandbox."""
import os
import time

import numpy as np

for _ in range(4):
    if os.fork() == 0:
        ballast = np.ones(40_000_000)  # 320 MB touched in each child
        time.sleep(3600)
        os._exit(0)
time.sleep(3600)
