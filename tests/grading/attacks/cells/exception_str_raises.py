"""Raises an exception whose message cannot even be computed."""


class Sneaky(Exception):
    def __str__(self):
        raise RuntimeError("no message for you")


raise Sneaky()
