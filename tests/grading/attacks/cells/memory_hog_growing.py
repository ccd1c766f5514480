"""Grows a list of arrays until the address-space limit says no."""
import numpy as np

hog = []
while True:
    hog.append(np.ones(2**24))  # 128 MiB each, touched
