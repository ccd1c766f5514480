"""Dereferences a null pointer through ctypes."""
import ctypes

ctypes.string_at(0)
