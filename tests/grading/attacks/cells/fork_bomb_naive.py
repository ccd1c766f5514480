"""Forks until fork fails: the cell gets the error, the forked copies leave without speaking the protocol."""
import os

while True:
    os.fork()
