"""The nbgrader course directory, and the conversion of the MyST sources of the assignments into notebooks.

Assignments are written as MyST Markdown notebooks, ``assignments/source/<id>/<id>.md`` (diffable,
reviewable), with each graded cell's nbgrader metadata in its YAML options. Only what differs between cells
needs writing; :func:`nbgrader_metadata` completes the rest:

- an answer cell: ``nbgrader: {grade_id: conv2d, solution: true}``;
- a test cell: ``nbgrader: {grade_id: test_conv2d, points: 2}``;
- a manually graded written answer (a Markdown cell): ``+++ {"nbgrader": {"grade_id": "why", "solution": true,
  "points": 2}}``;
- every other Markdown cell becomes a read-only instruction cell.

:func:`build_source` writes ``<id>.ipynb`` beside the ``.md`` (git ignores it), which is what nbgrader reads.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

__all__ = [
    "ASSIGNMENTS",
    "COURSE_DIR",
    "REPO_ROOT",
    "SourceError",
    "build_source",
    "hidden_cell_ids",
    "load_source",
    "nbgrader_metadata",
    "source_dir",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
COURSE_DIR = REPO_ROOT / "assignments"
ASSIGNMENTS: tuple[str, ...] = ("conv", "pooling_cnn", "architectures", "rnn", "transfer")

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
_RUN_HIDDEN = re.compile(r"run_hidden\(\s*['\"](?P<assignment>\w+)['\"]\s*,\s*['\"](?P<cell>[\w-]+)['\"]")


class SourceError(ValueError):
    """An assignment's source breaks a rule nbgrader or the autograder relies on; the message says where."""


def source_dir(assignment: str, course_dir: Path = COURSE_DIR) -> Path:
    """``<course>/source/<id>``; in the course itself, a ``ValueError`` lists the known ids for an unknown one."""
    if course_dir == COURSE_DIR and assignment not in ASSIGNMENTS:
        raise ValueError(f"unknown assignment {assignment!r}; the assignments are {', '.join(ASSIGNMENTS)}")
    return course_dir / "source" / assignment


def nbgrader_metadata(cell: dict[str, Any], index: int) -> dict[str, Any] | None:
    """The complete nbgrader metadata of a cell from the short form written in the source (see module doc)."""
    short = dict(cell.get("metadata", {}).get("nbgrader", {}))
    if not short:
        if cell["cell_type"] != "markdown":
            return None
        short = {"grade_id": f"instructions_{index:02d}", "locked": True}
    unknown = set(short) - {"grade_id", "solution", "grade", "points", "locked", "task", "schema_version"}
    if unknown:
        raise SourceError(f"cell {index}: unknown nbgrader keys {sorted(unknown)}")
    if "grade_id" not in short:
        raise SourceError(f"cell {index}: nbgrader metadata without a grade_id: {short}")
    solution = bool(short.get("solution", False))
    points = short.get("points")
    grade = bool(short.get("grade", points is not None))
    if grade and not (isinstance(points, (int, float)) and points > 0):
        raise SourceError(f"cell {index} ({short['grade_id']}): a graded cell needs points > 0, got {points!r}")
    metadata = {
        "grade": grade,
        "grade_id": str(short["grade_id"]),
        "locked": bool(short.get("locked", not solution)),
        "schema_version": 3,
        "solution": solution,
        "task": bool(short.get("task", False)),
    }
    if grade:
        metadata["points"] = points
    return metadata


def hidden_cell_ids(source: str) -> list[tuple[str, str]]:
    """The ``(assignment, cell)`` pairs that the hidden blocks of a cell's source pass to ``run_hidden``."""
    return [(match["assignment"], match["cell"]) for match in _RUN_HIDDEN.finditer(source)]


def _check_hidden_block(cell: dict[str, Any], metadata: dict[str, Any] | None, assignment: str) -> None:
    source = cell["source"]
    begins, ends = source.count(HIDDEN_BEGIN), source.count(HIDDEN_END)
    if begins != ends or begins > 1:
        raise SourceError(f"cell {metadata and metadata['grade_id']}: unbalanced or repeated hidden-test markers")
    if not begins:
        return
    if metadata is None or not metadata["grade"] or metadata["solution"]:
        raise SourceError("a hidden-test block may only sit in a test cell (graded, not a solution)")
    for owner, cell_id in hidden_cell_ids(source):
        if (owner, cell_id) != (assignment, metadata["grade_id"]):
            raise SourceError(
                f"test cell {metadata['grade_id']!r} runs the hidden checks of {owner}/{cell_id}; "
                f"it must run its own ({assignment}/{metadata['grade_id']})"
            )


def load_source(assignment: str, course_dir: Path = COURSE_DIR) -> Any:
    """Read ``<id>.md`` and return the nbformat notebook with complete nbgrader metadata, no outputs."""
    import jupytext
    import nbformat

    path = source_dir(assignment, course_dir) / f"{assignment}.md"
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist: write the assignment's MyST source there")
    notebook = jupytext.read(path, fmt="md:myst")
    seen: set[str] = set()
    for index, cell in enumerate(notebook.cells):
        metadata = nbgrader_metadata(cell, index)
        cell["id"] = metadata["grade_id"] if metadata else f"cell-{index:02d}"  # stable ids: a stable .ipynb
        _check_hidden_block(cell, metadata, assignment)
        if metadata is None:
            continue
        if metadata["grade_id"] in seen:
            raise SourceError(f"{path}: the grade_id {metadata['grade_id']!r} is used twice")
        seen.add(metadata["grade_id"])
        cell.metadata["nbgrader"] = metadata
        if cell["cell_type"] == "code":
            cell.outputs, cell.execution_count = [], None
    notebook.metadata.pop("jupytext", None)
    notebook.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    notebook.metadata["language_info"] = {"name": "python"}
    nbformat.validate(notebook)
    return notebook


def build_source(assignment: str, course_dir: Path = COURSE_DIR) -> Path:
    """Write ``source/<id>/<id>.ipynb`` from the ``.md`` (only when it changed) and return its path."""
    import nbformat

    notebook = load_source(assignment, course_dir)
    target = source_dir(assignment, course_dir) / f"{assignment}.ipynb"
    text = nbformat.writes(notebook) + "\n"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return target
