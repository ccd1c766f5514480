"""Returns an array larger than the largest file the process may write."""
import numpy as np


def relu(x):
    return np.zeros(2**20)  # 8 MiB
