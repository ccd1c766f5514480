"""Grade an assignment's source in this process: the fast twin of the nbgrader round trip, for unit tests.

``autograder verify`` grades through nbgrader (release, submission, ``nbgrader autograde``, gradebook); that
takes a kernel per notebook. To test hidden checks and mutants in seconds, :func:`grade_in_process` executes
the source notebook's code cells here, in order and in one namespace, with a mutant's replacements or with the
answers cleared as in the release, and reports which test cells pass. It follows nbgrader's rules: a test cell
fails if it raises or writes to ``sys.stderr``.

Student code runs in this very process: use it on the course's own solutions and mutants, never on
submissions.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import traceback
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.course import COURSE_DIR, load_source, source_dir

__all__ = ["CellResult", "InProcessGrade", "clear_answers", "grade_in_process"]

CODE_STUB = "# YOUR CODE HERE\nraise NotImplementedError()"
BEGIN_SOLUTION = "### BEGIN SOLUTION"
END_SOLUTION = "### END SOLUTION"


@dataclass(frozen=True)
class CellResult:
    """One test cell: ``passed`` and the message of its failure (empty when it passed)."""

    passed: bool
    message: str = ""


@dataclass
class InProcessGrade:
    """Per test cell results (by ``grade_id``), and errors raised by other code cells (by cell id)."""

    tests: dict[str, CellResult] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def failed(self) -> set[str]:
        """The ``grade_id`` of every failing test cell."""
        return {cell for cell, result in self.tests.items() if not result.passed}


def clear_answers(source: str) -> str:
    """An answer cell as the release has it: each solution region replaced by the stub, indentation kept.

    A cell without solution markers is replaced entirely, as nbgrader does.
    """
    if BEGIN_SOLUTION not in source:
        return CODE_STUB
    lines, cleared, inside = source.splitlines(), [], False
    for line in lines:
        if line.strip() == BEGIN_SOLUTION:
            inside = True
            indent = line[: len(line) - len(line.lstrip())]
            cleared += [indent + stub for stub in CODE_STUB.splitlines()]
        elif line.strip() == END_SOLUTION:
            inside = False
        elif not inside:
            cleared.append(line)
    return "\n".join(cleared)


@contextlib.contextmanager
def _inside(directory: Path) -> Iterator[None]:
    previous = Path.cwd()
    os.chdir(directory)
    try:
        yield
    finally:
        os.chdir(previous)


def _run(source: str, namespace: dict[str, Any], name: str) -> tuple[str | None, str]:
    """Execute one cell; return (error text or None, what it wrote to stderr)."""
    stderr = io.StringIO()
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(stderr):
            exec(compile(source, f"<cell {name}>", "exec"), namespace)  # noqa: S102 - the course's own code
    except Exception as error:  # noqa: BLE001 - a failing cell is a result
        summary = "".join(traceback.format_exception_only(type(error), error)).strip()
        return summary, stderr.getvalue()
    return None, stderr.getvalue()


def grade_in_process(
    assignment: str,
    *,
    replace: Mapping[str, str] | None = None,
    blank: bool = False,
    course_dir: Path = COURSE_DIR,
) -> InProcessGrade:
    """Execute the source of ``assignment`` here and return which test cells pass.

    Parameters
    ----------
    replace : mapping, optional
        Answer cell ``grade_id`` -> new source (a mutant's ``replace``).
    blank : bool
        Clear every answer as the release does (the student's untouched notebook).
    """
    notebook = load_source(assignment, course_dir)
    replace = dict(replace or {})
    ids = {cell.metadata.get("nbgrader", {}).get("grade_id") for cell in notebook.cells}
    unknown = set(replace) - ids
    if unknown:
        raise KeyError(f"{assignment}: no answer cells named {sorted(unknown)}")
    grade = InProcessGrade()
    namespace: dict[str, Any] = {"__name__": "__main__"}
    import numpy as np

    printoptions = np.get_printoptions()  # a notebook's np.set_printoptions must not outlive it
    os.environ.setdefault("MPLBACKEND", "Agg")
    with _inside(source_dir(assignment, course_dir)):
        for cell in notebook.cells:
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            cell_id = meta.get("grade_id", cell.get("id", "?"))
            source = cell.source
            if meta.get("solution"):
                source = replace.get(cell_id, clear_answers(source) if blank else source)
            error, stderr = _run(source, namespace, cell_id)
            if meta.get("grade") and not meta.get("solution"):
                if error is not None:
                    grade.tests[cell_id] = CellResult(False, error)
                elif stderr:
                    grade.tests[cell_id] = CellResult(False, f"wrote to stderr: {stderr.strip()[:500]}")
                else:
                    grade.tests[cell_id] = CellResult(True)
            elif error is not None:
                grade.errors[cell_id] = error
    np.set_printoptions(**printoptions)
    if "matplotlib.pyplot" in sys.modules:  # the notebook's figures, so that repeated runs do not pile up
        sys.modules["matplotlib.pyplot"].close("all")
    return grade
