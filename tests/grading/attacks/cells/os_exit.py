"""Leaves the process at once, bypassing every handler."""
import os

os._exit(7)
