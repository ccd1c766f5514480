"""An assignment's test bundle: the instructor's source, its hidden checks with their cases, and one hash of it all.

The grader loads the bundle once per worker process (checks hold functions, so it is rebuilt where it is used
rather than sent), draws every check's cases once, and identifies the bundle by :attr:`TestBundle.sha256`:
the hash of the source, the hidden module, the mutants and the judging code. A score recorded with a bundle
hash can be reproduced by regrading with the same bundle; ``--only-new`` skips submissions already graded
with it.
"""

from __future__ import annotations

import hashlib
import importlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from autograder import __version__
from autograder.checks import Call, Check
from autograder.course import COURSE_DIR, REPO_ROOT, load_source, source_dir
from autograder.hygiene import instructor_text
from autograder.kernel import hidden_checks

__all__ = ["CheckPlan", "TestBundle", "TestCell", "load_bundle"]

_JUDGING_CODE = ("checks.py", "kernel.py", "probe.py", "operations.py", "bundle.py", "runner.py")


@dataclass(frozen=True)
class CheckPlan:
    """One hidden check with its cases drawn and the calls of each case built."""

    check: Check
    cases: tuple[Any, ...]
    calls: tuple[tuple[Call, ...], ...]


@dataclass(frozen=True)
class TestCell:
    """An instructor's test cell: its ``grade_id``, points and hidden checks."""

    grade_id: str
    points: float
    checks: tuple[CheckPlan, ...]


@dataclass(frozen=True)
class TestBundle:
    """Everything the grader needs of one assignment, built from the instructor's files."""

    assignment: str
    course_dir: Path
    source: Any
    cells: dict[str, TestCell]
    written: dict[str, float]
    sha256: str
    secret: dict[str, str]
    seed: int
    """The assignment's seed (``SEED`` of its hidden module): the student's process is seeded with it."""

    @property
    def max_score(self) -> float:
        """Autograded points available."""
        return sum(cell.points for cell in self.cells.values())


def _hidden_files(assignment: str) -> list[Path]:
    package = REPO_ROOT / "autograder"
    files = [package / "hidden" / f"{assignment}.py", package / "mutants" / f"{assignment}.py"]
    return [path for path in files if path.exists()]


def _digest(assignment: str, course_dir: Path) -> str:
    digest = hashlib.sha256(f"autograder {__version__}\n".encode())
    paths = [source_dir(assignment, course_dir) / f"{assignment}.md", *_hidden_files(assignment)]
    paths += [REPO_ROOT / "autograder" / name for name in _JUDGING_CODE]
    for path in paths:
        digest.update(f"{path.name}\n".encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


@cache
def load_bundle(assignment: str, course_dir: Path = COURSE_DIR) -> TestBundle:
    """Build (once per process) the bundle of ``assignment``; every test cell must have hidden checks."""
    source = load_source(assignment, course_dir)
    cells: dict[str, TestCell] = {}
    written: dict[str, float] = {}
    for cell in source.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("grade"):
            continue
        if meta.get("solution"):
            written[meta["grade_id"]] = float(meta["points"])
            continue
        plans = []
        for check in hidden_checks(assignment, meta["grade_id"]):
            cases = tuple(check.cases())
            plans.append(CheckPlan(check, cases, tuple(tuple(check.calls(case)) for case in cases)))
        if not plans:
            raise ValueError(f"{assignment}: test cell {meta['grade_id']!r} has no hidden checks to grade it by")
        cells[meta["grade_id"]] = TestCell(meta["grade_id"], float(meta["points"]), tuple(plans))
    secret = instructor_text(source, _hidden_files(assignment))
    digest = _digest(assignment, course_dir)
    return TestBundle(assignment, course_dir, source, cells, written, digest, secret, assignment_seed(assignment))


def assignment_seed(assignment: str) -> int:
    """``SEED`` of the assignment's hidden module: what the grader seeds the student's process with."""
    module = importlib.import_module(f"autograder.hidden.{assignment}")
    seed = getattr(module, "SEED", None)
    if type(seed) is not int or not 0 <= seed < 2**32:
        raise ValueError(
            f"autograder.hidden.{assignment} must define SEED, an int in [0, 2**32): the seed of the student's "
            f"process, documented in the assignment. Found: SEED={seed!r}"
        )
    return seed
