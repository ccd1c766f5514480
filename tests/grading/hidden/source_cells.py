"""What the hidden-test unit tests of every assignment need from its source: its code cells, and in-process grades.

Each ``test_<id>.py`` checks the same things of its assignment (the reference passes, the blank release fails
every test cell, each mutant fails exactly its rubric); these helpers read the source and grade it once per
session, so that the modules only hold what is particular to their assignment.
"""

from __future__ import annotations

from functools import cache

from autograder.course import load_source
from autograder.inprocess import InProcessGrade, grade_in_process
from autograder.mutants import mutants_of

__all__ = ["answer_cells", "answer_source", "code_cells", "graded", "test_cells"]


@cache
def code_cells(assignment: str) -> tuple[tuple[str | None, bool, bool, str], ...]:
    """``(grade_id, is_answer, is_test, source)`` of every code cell of the source notebook, in order."""
    cells = []
    for cell in load_source(assignment).cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        is_answer = bool(meta.get("solution"))
        cells.append((meta.get("grade_id"), is_answer, bool(meta.get("grade")) and not is_answer, cell.source))
    return tuple(cells)


def test_cells(assignment: str) -> list[str]:
    """The ``grade_id`` of every test cell, in order."""
    return [grade_id for grade_id, _, is_test, _ in code_cells(assignment) if is_test]


test_cells.__test__ = False  # a helper, not a test pytest should collect


def answer_cells(assignment: str) -> list[str]:
    """The ``grade_id`` of every answer cell, in order."""
    return [grade_id for grade_id, is_answer, _, _ in code_cells(assignment) if is_answer]


def answer_source(assignment: str, grade_id: str) -> str:
    """The reference source of one answer cell."""
    return {g: source for g, is_answer, _, source in code_cells(assignment) if is_answer}[grade_id]


@cache
def graded(assignment: str, variant: str) -> InProcessGrade:
    """The in-process grade of ``"reference"``, ``"blank"`` or a mutant's name (each run once per session)."""
    if variant == "reference":
        return grade_in_process(assignment)
    if variant == "blank":
        return grade_in_process(assignment, blank=True)
    mutant = next(m for m in mutants_of(assignment) if m.name == variant)
    return grade_in_process(assignment, replace=mutant.replace)
