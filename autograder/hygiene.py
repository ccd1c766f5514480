"""Scan what students will see for anything of the instructor's: solutions, hidden tests, outputs, paths.

``autograder release`` refuses a release in which :func:`scan` finds a problem, and prints where each one is.
What counts as the instructor's:

- solution code: the lines between ``### BEGIN SOLUTION`` and ``### END SOLUTION`` in the source, and the model
  answers of written questions (lines that also appear outside the solutions, a bare ``return out`` say, are
  not evidence and are skipped);
- hidden tests: the hidden blocks of the source's test cells, the text of ``autograder/hidden/<id>.py`` and of
  its mutants, any mention of the ``autograder`` package or its markers;
- reference outputs: any output or execution count left in a released notebook;
- instructor paths: the repository's absolute path, ``assignments/source``, the home directory.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from autograder.course import HIDDEN_BEGIN, HIDDEN_END, REPO_ROOT

__all__ = ["Problem", "instructor_paths", "instructor_text", "scan", "scan_text"]

_MARKERS = (
    "BEGIN SOLUTION",
    "END SOLUTION",
    "BEGIN HIDDEN TESTS",
    "END HIDDEN TESTS",
    "run_hidden",
    "autograder.",
    "import autograder",
)
_MIN_LINE = 16  # shorter lines are too generic to prove a leak
_BINARY_SUFFIXES = {".npz", ".npy", ".png", ".jpg", ".jpeg", ".gif", ".pt", ".h5", ".keras", ".zip", ".gz"}


@dataclass(frozen=True)
class Problem:
    """One leak: the file, where in it (``cell 12`` or ``line 3``) and what leaked."""

    path: Path
    where: str
    what: str

    def __str__(self) -> str:
        return f"{self.path}: {self.where}: {self.what}"


def _significant(line: str) -> str | None:
    text = line.strip()
    if len(text) < _MIN_LINE or text.startswith("#") or set(text) <= set("\"'`-=*_ "):
        return None
    return text


def _solution_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if line.strip() == "### BEGIN SOLUTION":
            inside = True
        elif line.strip() == "### END SOLUTION":
            inside = False
        elif inside:
            lines.append(line)
    return lines


def _hidden_lines(source: str) -> list[str]:
    lines, inside = [], False
    for line in source.splitlines():
        if HIDDEN_BEGIN in line:
            inside = True
        elif HIDDEN_END in line:
            inside = False
        elif inside:
            lines.append(line)
    return lines


def instructor_text(source_notebook: Any, extra_files: Iterable[Path] = ()) -> dict[str, str]:
    """Significant lines of the instructor's material -> what they are ("solution code", "hidden test").

    Lines that also occur in the parts of the source students legitimately get (instructions, visible tests,
    signatures) are left out, so that only real leaks are reported.
    """
    secret: dict[str, str] = {}
    public: set[str] = set()
    for cell in source_notebook.cells:
        meta = cell.metadata.get("nbgrader", {})
        source = cell.source
        if cell.cell_type == "markdown" and meta.get("solution"):
            kinds = [(source.splitlines(), "model answer")]
        else:
            kinds = [(_solution_lines(source), "solution code"), (_hidden_lines(source), "hidden test")]
            secret_lines = {line for lines, _ in kinds for line in lines}
            public.update(
                text for line in source.splitlines() if line not in secret_lines and (text := _significant(line))
            )
        for lines, kind in kinds:
            for line in lines:
                if text := _significant(line):
                    secret.setdefault(text, kind)
    for path in extra_files:
        for line in Path(path).read_text().splitlines():
            if (text := _significant(line)) and len(text) >= 30:
                secret.setdefault(text, f"text of {Path(path).name}")
    return {text: kind for text, kind in secret.items() if text not in public}


def instructor_paths() -> list[str]:
    """Paths whose mention would reveal the instructor's layout: the repository, its sources, the home folder."""
    paths = [str(REPO_ROOT), "assignments/source", str(Path.home())]
    return [path for path in paths if len(path) > 1]


def scan_text(text: str, secret: dict[str, str]) -> list[tuple[str, str]]:
    """``(line number, what)`` for every leak in a piece of text."""
    found = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped in secret:
            found.append((f"line {number}", f"{secret[stripped]}: {stripped[:80]!r}"))
        for marker in _MARKERS:
            if marker in line:
                found.append((f"line {number}", f"grading marker {marker!r}"))
        for path in instructor_paths():
            if path in line:
                found.append((f"line {number}", f"instructor path {path!r}"))
    return found


def _scan_notebook(path: Path, secret: dict[str, str]) -> list[Problem]:
    try:
        notebook = json.loads(path.read_text())
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        return [Problem(path, "file", f"not a readable notebook ({error})")]
    problems = []
    for index, cell in enumerate(notebook.get("cells", [])):
        source = cell.get("source", "")
        source = "".join(source) if isinstance(source, list) else source
        where = f"cell {index} ({cell.get('metadata', {}).get('nbgrader', {}).get('grade_id', cell.get('id', '?'))})"
        if cell.get("outputs"):
            problems.append(Problem(path, where, f"{len(cell['outputs'])} output(s): a release has no outputs"))
        if cell.get("execution_count") is not None:
            problems.append(Problem(path, where, "an execution count: the notebook was run before release"))
        for line, what in scan_text(source, secret):
            problems.append(Problem(path, f"{where} {line}", what))
    metadata_text = json.dumps(notebook.get("metadata", {}))
    for _, what in scan_text(metadata_text, secret):
        problems.append(Problem(path, "notebook metadata", what))
    return problems


def scan(release_dir: Path, source_notebook: Any, extra_files: Iterable[Path] = ()) -> list[Problem]:
    """Every leak of instructor material in the files under ``release_dir``."""
    secret = instructor_text(source_notebook, extra_files)
    problems: list[Problem] = []
    for path in sorted(Path(release_dir).rglob("*")):
        if not path.is_file():
            continue
        if path.suffix == ".ipynb":
            problems += _scan_notebook(path, secret)
        elif path.suffix.lower() in _BINARY_SUFFIXES:
            continue
        else:
            try:
                text = path.read_text()
            except UnicodeDecodeError:
                continue
            problems += [Problem(path, where, what) for where, what in scan_text(text, secret)]
        if re.search(r"(solution|hidden|answer[_-]?key)", path.name, re.IGNORECASE):
            problems.append(Problem(path, "file name", "looks like instructor material"))
    return problems
