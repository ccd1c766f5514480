"""Asks for 64 GiB at once: RLIMIT_AS refuses it."""
hog = bytearray(64 * 2**30)
