"""``autograder solutions <id>``: a clean solution notebook to hand out after the deadline.

nbgrader has no such step: its source notebook carries hidden tests and grading metadata, and its release has
no answers. The solution keeps the answers (code without the ``### BEGIN/END SOLUTION`` markers, the model
written answers), drops every hidden-test block and all nbgrader metadata, and has no outputs. It is scanned
for hidden-test text before it is written.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from autograder.course import COURSE_DIR, HIDDEN_BEGIN, HIDDEN_END, load_source, source_dir
from autograder.hygiene import _hidden_lines, scan_text
from autograder.release import ReleaseError

__all__ = ["solution_notebook", "strip_hidden_tests", "strip_solution_markers", "write_solutions"]


def strip_solution_markers(source: str) -> str:
    """The answer code without its ``### BEGIN SOLUTION`` / ``### END SOLUTION`` lines."""
    kept = [line for line in source.splitlines() if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")]
    return "\n".join(kept)


def strip_hidden_tests(source: str) -> str:
    """A test cell's visible tests only: the hidden block (markers included) removed."""
    kept, inside = [], False
    for line in source.splitlines():
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept).rstrip()


def solution_notebook(assignment: str, course_dir: Path = COURSE_DIR):
    """The clean solution of ``assignment`` as an nbformat notebook (see the module docstring)."""
    notebook = load_source(assignment, course_dir)
    hidden: dict[str, str] = {}
    for cell in notebook.cells:
        for line in _hidden_lines(cell.source):
            if line.strip():
                hidden[line.strip()] = "hidden test"
        cell.source = strip_hidden_tests(strip_solution_markers(cell.source))
        cell.metadata.pop("nbgrader", None)
    leaks = [
        f"cell {index}: {what}"
        for index, cell in enumerate(notebook.cells)
        for _, what in scan_text(cell.source, hidden)
        if "instructor path" not in what
    ]
    if leaks:
        raise ReleaseError(f"the solution of {assignment!r} still holds grading material:\n" + "\n".join(leaks))
    return notebook


def write_solutions(assignment: str, course_dir: Path = COURSE_DIR, *, to: Path | None = None) -> Path:
    """Write the clean solution to ``<course>/solutions/<id>/<id>.ipynb`` (or ``to``) and return the path.

    The assignment's data files (everything in its source folder but the ``.md`` and ``.ipynb``) are copied
    beside it, so the solution runs.
    """
    import nbformat

    target = to or course_dir / "solutions" / assignment / f"{assignment}.ipynb"
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(solution_notebook(assignment, course_dir), target)
    source = source_dir(assignment, course_dir)
    for path in source.rglob("*"):
        if path.is_file() and path.suffix not in (".md", ".ipynb") and "__pycache__" not in path.parts:
            destination = target.parent / path.relative_to(source)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, destination)
    return target
