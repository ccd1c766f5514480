"""Hostile submissions: each file of ``cells/`` is one attack, as the source of a notebook cell.

``test_attacks.py`` runs every one through :class:`autograder.sandbox.Sandbox` and asserts what must happen
to it: the grader survives, the attack fails, and the reason given is one a student can act on. Grow the
folder whenever you think of a new way to cheat; a notebook-level suite can build submissions from
:func:`cell`.
"""

from pathlib import Path

CELLS = Path(__file__).resolve().parent / "cells"


def cell(name: str) -> str:
    """The source of the attack ``cells/<name>.py``."""
    return (CELLS / f"{name}.py").read_text()
