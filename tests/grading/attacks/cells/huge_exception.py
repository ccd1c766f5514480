"""Raises an exception whose message is ten million characters long."""
raise ValueError("x" * 10_000_000)
