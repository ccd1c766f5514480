"""Seeded wrong solutions of each assignment: the typical mistakes, and the partial credit each must earn.

``autograder verify <id>`` grades every mutant end to end and checks that exactly the test cells in
``fails`` fail (the rubric's intent). Together with the blank release (every test cell fails) and the
reference solution (none fails), that is the mutation check: a hidden test that no mutant fails is a defect,
and verify reports it.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field

__all__ = ["Mutant", "mutants_of"]


@dataclass(frozen=True)
class Mutant:
    """A wrong solution: the reference with some answer cells replaced.

    Parameters
    ----------
    name : str
        Identifier, used as the pseudo-student's id in the gradebook (``mutant-<name>``).
    why : str
        The mistake it stands for ("flips the kernel: true convolution, not cross-correlation").
    replace : dict
        Answer cell ``grade_id`` -> the whole new source of that cell.
    fails : frozenset of str
        The ``grade_id`` of every test cell that must fail on this mutant, and no other.
    """

    name: str
    why: str
    replace: dict[str, str]
    fails: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        object.__setattr__(self, "fails", frozenset(self.fails))
        if not self.replace:
            raise ValueError(f"mutant {self.name!r} replaces no answer cell")
        if not self.fails:
            raise ValueError(f"mutant {self.name!r} lists no failing test cell: a mutant must cost something")


def mutants_of(assignment: str) -> list[Mutant]:
    """The mutants of an assignment (``autograder.mutants.<id>.MUTANTS``)."""
    return list(importlib.import_module(f"autograder.mutants.{assignment}").MUTANTS)
