"""What a student changed of the instructor's notebook, and where each cell of the submission is graded.

:func:`expected_cells` replays ``nbgrader generate_assignment`` in memory on the instructor's source notebook
(solutions replaced by the stubs, hidden tests removed, checksums computed as nbgrader computes them): what
every cell of the release was. :func:`reconcile` matches the cells of a submission to those without trusting
the student's metadata. Each pair of (student cell, instructor cell) scores its evidence:

- the cell's nbgrader ``grade_id`` names the instructor's cell (4);
- the cell's id is the instructor's cell id (2);
- the source is the released one, white space aside (8; locked cells, test cells and the course's code), or an
  answer cell keeps at least half of the released lines around its stub, its ``def`` line say (5).

Pairs are taken greedily, strongest first; ties go to the *last* candidate for an answer (its definitions are
the ones in force when the tests run) and to the *first* for any other cell (a pasted copy goes below its
original). Answers and the course's code cells only match code cells. A cell matched to nothing is the
student's own. A cell with claim or content evidence for a cell that another one took is a copy: copies of
test cells and locked cells are dropped, other copies stay the student's own cells.

The instructor's cells keep the instructor's order. Which matched cells the student moved is decided by the
heaviest subsequence in instructor order (code cells weigh most, then test cells, then text), and each cell
of the student's own goes right after the nearest cell before it, in the student's order, that was not moved:
a helper written above an answer stays above it.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from autograder.course import HIDDEN_BEGIN, HIDDEN_END
from autograder.inprocess import BEGIN_SOLUTION, CODE_STUB, END_SOLUTION

__all__ = [
    "TEXT_STUB",
    "Expected",
    "Placed",
    "StudentCell",
    "cell_numbers",
    "checksum",
    "expected_cells",
    "normalise_text",
    "notebook_cell",
    "reconcile",
    "release_notebook",
]

TEXT_STUB = "YOUR ANSWER HERE"  # ClearSolutions.text_stub in assignments/nbgrader_config.py
Kind = Literal["answer", "test", "written", "locked", "given", "text"]
_DESCRIBE = {
    "answer": "answer cell",
    "test": "test cell",
    "written": "written answer",
    "locked": "locked cell",
    "given": "the assignment's code cell",
    "text": "instruction cell",
}
_COMPARED = ("grade_id", "cell_type", "grade", "solution", "locked", "points", "task", "checksum")
_CLAIM, _ID, _CONTENT, _FRAME = 4, 2, 8, 5


@dataclass(frozen=True)
class Expected:
    """One cell of the release: its ``key`` (grade_id, or the cell id of a cell without nbgrader metadata).

    ``released`` is the source the student received (a test cell's visible tests, an answer's stub) and
    ``metadata`` the cell metadata nbgrader wrote into the release (checksum included).
    """

    index: int
    key: str
    kind: Kind
    cell_type: str
    released: str
    metadata: dict[str, Any]
    points: float | None

    def describe(self) -> str:
        """``test cell test_relu``: how messages name the cell."""
        return f"{_DESCRIBE[self.kind]} {self.key}"


@dataclass(frozen=True)
class StudentCell:
    """One cell as submitted, already read safely: ``index`` is its 0-based position in the submission."""

    index: int
    cell_type: str
    source: str
    cell_id: str | None = None
    nbgrader: Mapping[str, Any] | None = None
    attachments: Mapping[str, Any] | None = None
    too_long: bool = False

    @property
    def claim(self) -> str | None:
        """The ``grade_id`` its nbgrader metadata claims, if any."""
        grade_id = (self.nbgrader or {}).get("grade_id")
        return grade_id if isinstance(grade_id, str) else None


@dataclass(frozen=True)
class Placed:
    """One slot of the reconciled notebook: an instructor cell (``expected``) with the student cell matched to
    it (``student``, None when it is missing), or a cell of the student's own (``expected`` is None)."""

    expected: Expected | None
    student: StudentCell | None


def normalise_text(text: str) -> str:
    """``text`` with line endings unified, trailing spaces and surrounding blank lines removed."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    return "\n".join(line.rstrip() for line in lines).strip("\n")


def _cut_regions(source: str, begin: str, end: str, stub: str | None) -> tuple[str, bool]:
    """nbgrader's region replacement: lines ``begin`` .. ``end`` replaced by ``stub`` (indented) or removed."""
    kept, inside, found = [], False, False
    for line in source.split("\n"):
        if begin in line:
            inside = found = True
            if stub is not None:
                indent = line[: len(line) - len(line.lstrip())]
                kept += [indent + stub_line for stub_line in stub.split("\n")]
        elif end in line:
            inside = False
        elif not inside:
            kept.append(line)
    return "\n".join(kept), found


def checksum(cell_type: str, source: str, nbgrader: Mapping[str, Any]) -> str:
    """nbgrader's ``compute_checksum`` of a cell (``nbgrader.utils``), without importing nbgrader."""
    grade, solution = bool(nbgrader.get("grade", False)), bool(nbgrader.get("solution", False))
    locked = False if solution else True if grade else bool(nbgrader.get("locked", False))
    digest = hashlib.md5()  # noqa: S324 - nbgrader's checksum, not a security boundary
    for part in (source, cell_type, str(grade), str(solution), str(locked), str(nbgrader["grade_id"])):
        digest.update(part.encode("utf-8"))
    if grade:
        digest.update(str(float(nbgrader["points"])).encode("utf-8"))
    return digest.hexdigest()


def _kind(cell_type: str, nbgrader: Mapping[str, Any] | None) -> Kind:
    if not nbgrader:
        return "given" if cell_type == "code" else "text"
    if nbgrader.get("solution"):
        return "answer" if cell_type == "code" else "written"
    if nbgrader.get("grade") and cell_type == "code":
        return "test"
    return "locked" if cell_type == "code" else "text"


def expected_cells(source_notebook: Any) -> list[Expected]:
    """Every cell of the release of ``source_notebook`` (as :func:`autograder.course.load_source` returns it)."""
    expected = []
    for index, cell in enumerate(source_notebook["cells"]):
        cell_type, source = cell["cell_type"], cell["source"]
        nbgrader = dict(cell.get("metadata", {}).get("nbgrader") or {})
        kind = _kind(cell_type, nbgrader)
        stub = CODE_STUB if cell_type == "code" else TEXT_STUB
        released, cleared = _cut_regions(source, BEGIN_SOLUTION, END_SOLUTION, stub)
        if kind in ("answer", "written") and not cleared:
            released = stub
        released = _cut_regions(released, HIDDEN_BEGIN, HIDDEN_END, None)[0]
        metadata: dict[str, Any] = {}
        if nbgrader:
            nbgrader["cell_type"] = cell_type
            nbgrader["checksum"] = checksum(cell_type, released, nbgrader)
            metadata = {"deletable": False, "nbgrader": nbgrader}
            if kind not in ("answer", "written"):
                metadata["editable"] = False
        points = nbgrader.get("points") if nbgrader.get("grade") else None
        key = nbgrader.get("grade_id") or cell.get("id") or f"cell-{index:02d}"
        expected.append(Expected(index, str(key), kind, cell_type, released, metadata, points))
    return expected


def notebook_cell(
    cell_type: str,
    cell_id: str,
    source: str,
    metadata: Mapping[str, Any],
    attachments: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An nbformat 4.5 cell as a plain dict: no outputs, no execution count; attachments only off code cells."""
    cell: dict[str, Any] = {"cell_type": cell_type, "id": cell_id, "metadata": copy.deepcopy(dict(metadata))}
    cell["source"] = source
    if cell_type == "code":
        cell.update(outputs=[], execution_count=None)
    elif attachments:
        cell["attachments"] = copy.deepcopy(dict(attachments))
    return cell


def release_notebook(source_notebook: Any) -> Any:
    """The notebook ``nbgrader generate_assignment`` releases from ``source_notebook``, built in memory."""
    import nbformat

    released = expected_cells(source_notebook)
    cells = [notebook_cell(cell.cell_type, cell.key, cell.released, cell.metadata) for cell in released]
    metadata = copy.deepcopy(dict(source_notebook.get("metadata", {})))
    return nbformat.from_dict({"cells": cells, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5})


def _compatible(cell: StudentCell, expected: Expected) -> bool:
    return cell.cell_type == "code" or expected.kind not in ("answer", "given")


def _frame(expected: Expected) -> set[str]:
    """The lines around an answer's stub (its ``def`` line, docstring ...): what a student's answer keeps."""
    stub = {line.strip() for line in CODE_STUB.split("\n")}
    return {line.strip() for line in expected.released.split("\n") if line.strip() and line.strip() not in stub}


def _evidence(cells: Sequence[StudentCell], expected: Sequence[Expected]) -> dict[tuple[int, int], int]:
    """(position in ``cells``, instructor index) -> evidence score, for every pair with some evidence."""
    by_key = {cell.key: cell.index for cell in expected}
    by_text: dict[str, list[int]] = defaultdict(list)
    for cell in expected:
        if cell.kind in ("test", "locked", "given", "text") and normalise_text(cell.released):
            by_text[normalise_text(cell.released)].append(cell.index)
    frames = {cell.index: frame for cell in expected if cell.kind == "answer" and (frame := _frame(cell))}
    scores: dict[tuple[int, int], int] = defaultdict(int)
    for position, cell in enumerate(cells):
        if cell.claim in by_key:
            scores[position, by_key[cell.claim]] += _CLAIM
        if cell.cell_id in by_key:
            scores[position, by_key[cell.cell_id]] += _ID
        text = normalise_text(cell.source)
        for index in by_text.get(text, []) if text else []:
            scores[position, index] += _CONTENT
        if cell.cell_type == "code" and frames:
            lines = {line.strip() for line in cell.source.split("\n")}
            for index, frame in frames.items():
                if 2 * len(frame & lines) >= len(frame):
                    scores[position, index] += _FRAME
    return dict(scores)


def _in_place(matched: Sequence[tuple[int, Expected]]) -> set[int]:
    """Instructor indices of the matched cells that were not moved: the heaviest subsequence of ``matched``
    (sorted by student position) in instructor order; code cells outweigh all tests, tests all text."""
    n = len(matched) + 1
    weight = {"test": n, "text": 1, "written": 1}
    weights = [weight.get(cell.kind, n * n) for _, cell in matched]
    best, previous = list(weights), [-1] * len(matched)
    for i, (_, cell) in enumerate(matched):
        for j in range(i):
            if matched[j][1].index < cell.index and best[j] + weights[i] > best[i]:
                best[i], previous[i] = best[j] + weights[i], j
    kept: set[int] = set()
    i = max(range(len(matched)), key=lambda k: (best[k], -k), default=-1)
    while i >= 0:
        kept.add(matched[i][1].index)
        i = previous[i]
    return kept


def cell_numbers(positions: Sequence[int], limit: int = 10) -> str:
    """``3, 5, 9`` (1-based cell numbers from 0-based positions), the first ``limit`` of them and a count."""
    shown = ", ".join(str(position + 1) for position in positions[:limit])
    return shown + (f", ... ({len(positions)} in all)" if len(positions) > limit else "")


def _quote(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 40 else text[:37] + "..."


def _metadata_changes(cell: StudentCell, expected: Expected) -> list[str]:
    wanted = expected.metadata.get("nbgrader")
    if expected.kind == "text":
        return []
    if not wanted:
        return ["nbgrader metadata was added"] if cell.nbgrader else []
    if not isinstance(cell.nbgrader, Mapping) or not cell.nbgrader:
        return ["its nbgrader metadata was removed"]
    changes = []
    for name in _COMPARED:
        have, want = cell.nbgrader.get(name, "missing"), wanted.get(name, "missing")
        if name == "points" and isinstance(have, (int, float)) and isinstance(want, (int, float)):
            same = float(have) == float(want) and not isinstance(have, bool)
        else:
            same = have == want and type(have) is type(want)
        if not same:
            changes.append("checksum changed" if name == "checksum" else f"{name}: {_quote(want)} -> {_quote(have)}")
    return [f"nbgrader metadata altered ({', '.join(changes)})"] if changes else []


def _cell_flags(expected: Expected, cell: StudentCell | None, moved: bool, after: Expected | None) -> list[str]:
    name, kind = expected.describe(), expected.kind
    if kind == "text":
        return []
    if cell is None:
        return [{
            "test": f"{name} was deleted; the instructor's version is used",
            "locked": f"{name} was deleted; the instructor's version is used",
            "answer": f"{name} is missing (deleted?); the release's stub runs in its place",
            "written": f"{name} is missing (deleted?); it is graded as unanswered",
            "given": f"{name} was deleted; it is not run (the student may change or delete it)",
        }[kind]]
    keeps = "the instructor's version is used" if kind in ("test", "locked") else ""
    flags = []
    if kind in ("test", "locked") and cell.cell_type != "code":
        flags.append(f"{name} was turned into {'Markdown' if cell.cell_type == 'markdown' else 'a raw cell'}; {keeps}")
    elif kind in ("test", "locked") and normalise_text(cell.source) != normalise_text(expected.released):
        flags.append(f"{name} was edited; {keeps}")
    if kind == "written" and cell.cell_type == "code":
        flags.append(f"{name} was turned into a code cell; its text is kept as the answer and not run")
    if moved and kind != "written":
        where = f" (after {after.describe()})" if after else " (at the start)"
        runs = "the instructor's version runs" if keeps else "it runs"
        flags.append(f"{name} was moved; {runs} at its place in the assignment{where}")
    flags += [f"{name}: {change}; the instructor's is used" for change in _metadata_changes(cell, expected)]
    return flags


def _copy_flag(
    expected: Expected, kept: StudentCell, copies: list[StudentCell], kept_score: int, scores: list[int]
) -> str:
    numbers = cell_numbers(sorted(cell.index for cell in [kept, *copies]))
    if kept.cell_id == expected.key and all(cell.cell_id != expected.key for cell in copies):
        why = "it keeps the instructor's cell id"
    elif kept_score > max(scores):
        why = "its source is the released one" if kept_score >= _CONTENT else "it carries the instructor's grade_id"
    elif expected.kind == "answer":
        why = "it is the last, whose definitions are in force when the tests run"
    else:
        why = "it is the first; a pasted copy goes below its original"
    others = {
        "test": "the copies are not run",
        "locked": "the copies are not run",
        "answer": "the others run as the student's own code",
    }.get(expected.kind, "the others are kept as the student's own cells")
    role = "graded" if expected.kind in ("answer", "written") else "used"
    return (
        f"{expected.describe()} appears {len(copies) + 1} times (cells {numbers}); cell {kept.index + 1} is "
        f"{role} ({why}) and {others}"
    )


def reconcile(cells: Sequence[StudentCell], expected: Sequence[Expected]) -> tuple[list[Placed], list[str]]:
    """Match the submission's ``cells`` to the release's ``expected`` ones (as :func:`expected_cells` returns
    them; see the module docstring).

    Returns the reconciled notebook (every instructor cell exactly once, in instructor order, with the
    student's own cells between them) and one flag per change a grader should know of.
    """
    scores = _evidence(cells, expected)
    pairs = sorted(
        (pair for pair in scores.items() if _compatible(cells[pair[0][0]], expected[pair[0][1]])),
        key=lambda pair: (
            -pair[1],
            -pair[0][0] if expected[pair[0][1]].kind == "answer" else pair[0][0],
            pair[0][1],
        ),
    )
    cell_of: dict[int, int] = {}  # instructor index -> position in cells
    match_of: dict[int, int] = {}  # position -> instructor index
    for (position, index), _ in pairs:
        if position not in match_of and index not in cell_of:
            cell_of[index], match_of[position] = position, index

    flags: list[str] = []
    copies: dict[int, list[int]] = defaultdict(list)
    dropped: set[int] = set()
    strong: dict[int, list[tuple[int, int]]] = defaultdict(list)  # position -> (-score, index): claim or content
    for (position, index), score in scores.items():
        if score >= _CLAIM and position not in match_of:
            strong[position].append((-score, index))
    for position, cell in enumerate(cells):
        if position in match_of:
            continue
        if strong[position]:
            like = expected[min(strong[position])[1]]
            if like.index in cell_of:
                copies[like.index].append(position)
                if like.kind in ("test", "locked"):
                    dropped.add(position)
            else:
                flags.append(
                    f"cell {cell.index + 1} looks like {like.describe()} but is a {cell.cell_type} cell; it is kept "
                    f"as the student's own cell"
                )
        elif cell.claim is not None and any((cell.nbgrader or {}).get(flag) for flag in ("grade", "solution")):
            flags.append(
                f"cell {cell.index + 1} claims to be the graded cell {_quote(cell.claim)}, which this assignment "
                f"does not have; its metadata is ignored and it counts as the student's own cell"
            )

    matched = sorted(((position, expected[index]) for index, position in cell_of.items()), key=lambda item: item[0])
    in_place = _in_place(matched)
    anchor, chunks = -1, defaultdict(list)
    for position, cell in enumerate(cells):
        if position in match_of:
            anchor = match_of[position] if match_of[position] in in_place else anchor
        elif position not in dropped:
            chunks[anchor].append(cell)

    placed = [Placed(None, cell) for cell in chunks[-1]]
    previous_code: Expected | None = None
    for cell in expected:
        student = cells[cell_of[cell.index]] if cell.index in cell_of else None
        placed.append(Placed(cell, student))
        placed += [Placed(None, own) for own in chunks[cell.index]]
        moved = student is not None and cell.index not in in_place
        flags += _cell_flags(cell, student, moved, previous_code)
        if cell.index in copies and student is not None and cell.kind not in ("given", "text"):
            others = [cells[position] for position in copies[cell.index]]
            flags.append(_copy_flag(cell, student, others, scores[cell_of[cell.index], cell.index],
                                    [scores[position, cell.index] for position in copies[cell.index]]))
        if cell.cell_type == "code":
            previous_code = cell
    return placed, flags
