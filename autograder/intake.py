"""Submission intake: whatever a student handed in, turned into a safe, deterministic grading plan.

:func:`read_submission` never raises for a bad submission: every problem becomes a flag (graded anyway) or a
``fatal`` reason (zero points, and the batch goes on). It trusts nothing the student controls:

- reading: the file must be a regular file (no symbolic link, FIFO or device) of at most ``max_bytes``, checked
  before anything is read; bytes that are not UTF-8 are replaced (flagged); invalid JSON, an empty file or JSON
  that is not a notebook is fatal, with the line and column; nbformat 1 to 3 is upgraded, an unknown version
  is read as nbformat 4 if it has a list of cells; outputs, execution counts and the notebook's metadata
  (kernel, language) are ignored; cell ids are checked and re-assigned deterministically;
- matching (:mod:`autograder.tamper`): the release's cells are recognised by grade_id, cell id and content;
  the instructor's test cells, locked cells and instructions are always the instructor's, answers and the
  student's own cells are the student's, deleted answers become the release's stub, copies of graded cells
  are deduplicated, and every change a grader should know of is flagged.

The result is an :class:`Intake`: the code and test steps to execute, in order, the written answers, and a
normalised nbformat 4.5 notebook with the instructor's test cells restored (for formgrader). The same bytes
give the same intake, always; :func:`plan_digest` hashes what will be executed.
"""

from __future__ import annotations

import codecs
import errno
import hashlib
import json
import os
import re
import stat
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from autograder.tamper import (
    Expected,
    Placed,
    StudentCell,
    cell_numbers,
    expected_cells,
    normalise_text,
    notebook_cell,
    reconcile,
)

__all__ = [
    "MAX_BYTES",
    "MAX_CELLS",
    "MAX_CELL_CHARS",
    "CodeStep",
    "Intake",
    "Step",
    "TestStep",
    "plan_digest",
    "read_submission",
]

MAX_BYTES = 20 * 2**20  # a notebook without outputs is rarely over 1 MB
MAX_CELLS = 5_000
MAX_CELL_CHARS = 2**20  # per cell: a longer code cell is not run, a longer text is cut
MAX_ATTACHMENT_CHARS = 8 * 2**20  # per notebook: images in written answers
MAX_FLAGS = 100  # a report lists at most this many; the rest are counted
_CHUNK = 2**20
_VALID_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")


@dataclass(frozen=True)
class CodeStep:
    """Code to execute in the student's process.

    ``kind`` is ``"answer"`` (the answer cell ``grade_id``: the student's code, or the release's stub when the
    cell is missing), ``"instructor"`` (a locked cell, or a course code cell the student left unchanged: the
    instructor's code) or ``"student"`` (a cell the student added, or a course code cell the student edited).
    ``cell_id`` is its id in :attr:`Intake.notebook`; ``index`` its 0-based position in the submission (None
    when it was restored from the instructor's notebook).
    """

    kind: Literal["answer", "instructor", "student"]
    source: str
    cell_id: str
    grade_id: str | None = None
    index: int | None = None


@dataclass(frozen=True)
class TestStep:
    """The instructor's test cell ``grade_id`` worth ``points``: its visible tests only (the hidden ones run from
    ``autograder/hidden/<assignment>.py``, outside the student's reach)."""

    __test__ = False  # not a pytest class, despite its name
    grade_id: str
    points: float
    source: str


Step = CodeStep | TestStep


@dataclass(frozen=True)
class Intake:
    """What :func:`read_submission` made of a submission.

    ``fatal`` is None when it can be graded; otherwise the reason it earns nothing, ``plan`` is empty and
    ``notebook`` None. ``tests`` always lists the instructor's test cells in order (a report lists each, with
    zero points when fatal). ``written_answers`` maps each written answer's grade_id to the student's text (the
    release's stub when missing), in instructor order.
    """

    fatal: str | None
    flags: list[str]
    submission_sha256: str | None
    plan: list[Step] = field(default_factory=list)
    tests: list[TestStep] = field(default_factory=list)
    written_answers: dict[str, str] = field(default_factory=dict)
    notebook: Any | None = None

    @property
    def digest(self) -> str:
        """:func:`plan_digest` of the plan."""
        return plan_digest(self.plan)


def plan_digest(plan: Sequence[Step]) -> str:
    """SHA-256 of what will be executed: each step's kind, grade_id, points and source, in order.

    Cell ids and positions are left out: two submissions that differ only in notes or layout digest the same,
    so a regrade can be skipped or shown to match.
    """
    payload = [
        ["test", step.grade_id, step.points, step.source]
        if isinstance(step, TestStep)
        else [step.kind, step.grade_id, step.source]
        for step in plan
    ]
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


class _Refused(Exception):
    """The submission cannot be graded; the message is the ``fatal`` reason (``sha256``: of a refused file)."""

    def __init__(self, reason: str, sha256: str | None = None):
        super().__init__(reason)
        self.sha256 = sha256


def _read_bytes(path: Path, max_bytes: int) -> tuple[bytes, str]:
    """The file's bytes and their SHA-256; refuses (``_Refused``) what is not a regular file of <= max_bytes.

    The size is checked before reading; a larger file is hashed in chunks, never held in memory.
    """
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise _Refused("the submitted file does not exist") from None
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise _Refused("the submission is a symbolic link; submit the notebook file itself") from None
        raise _Refused(f"the submitted file cannot be opened: {error.strerror}") from None
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise _Refused("the submission is not a regular file (a folder, pipe or device); submit the .ipynb file")
    with os.fdopen(fd, "rb") as handle:
        digest, size = hashlib.sha256(), os.fstat(fd).st_size
        data = handle.read(size + 1) if size <= max_bytes else b""
        digest.update(data)
        if size > max_bytes or len(data) > max_bytes:  # too large from the start, or grew while being read
            size = len(data)
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
                size += len(chunk)
            raise _Refused(
                f"the file is {size:,} bytes, over the limit of {max_bytes:,}; it was not read "
                f"(clear the outputs, Edit > Clear Outputs of All Cells, save and submit again)",
                digest.hexdigest(),
            )
    return data, digest.hexdigest()


def _decode(raw: bytes, flags: list[str]) -> str:
    for bom, encoding in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                          (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if raw.startswith(bom):
            flags.append(f"the file is {encoding.upper()}, not UTF-8; it was read as {encoding.upper()}")
            return raw.decode(encoding, errors="replace")
    raw = raw.removeprefix(codecs.BOM_UTF8)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        flags.append(
            f"the file is not valid UTF-8 (the first bad byte is at offset {error.start}); bytes that could not "
            f"be decoded were replaced by U+FFFD"
        )
        return raw.decode("utf-8", errors="replace")


def _json_type(value: Any) -> str:
    names = {dict: "an object", list: "a list", str: "a string", bool: "a boolean", type(None): "null"}
    return names.get(type(value), "a number")


def _parse_int(digits: str) -> int | float:
    """JSON integers; one too long for Python's int conversion (4,300 digits) becomes a float, not an error."""
    return int(digits) if len(digits) < 4000 else float(digits)


def _parse(text: str) -> Any:
    if not text.strip():
        raise _Refused(f"the file is empty ({len(text.encode('utf-8', 'replace')):,} bytes, no notebook)")
    try:
        return json.loads(text, parse_int=_parse_int)
    except json.JSONDecodeError as error:
        raise _Refused(
            f"the notebook is not valid JSON (line {error.lineno}, column {error.colno}): {error.msg}; the file "
            f"may be cut short or edited by hand: open it in Jupyter, save it and submit again"
        ) from None
    except (RecursionError, ValueError) as error:
        raise _Refused(f"the notebook is not JSON that can be read: {str(error)[:200]}") from None


def _upgrade(document: dict[str, Any], major: int, flags: list[str]) -> dict[str, Any]:
    """An nbformat 1-3 notebook as a plain nbformat 4 dict. Outputs are emptied and what is not a cell is
    dropped first: nbformat's converters fail on either, and neither is graded."""
    import nbformat

    if not isinstance(document.get("metadata"), dict):
        document["metadata"] = {}
    holders = document.get("worksheets") if major > 1 else [document]
    ignored = 0
    for holder in holders if isinstance(holders, list) else []:
        if isinstance(holder, dict) and isinstance(holder.get("cells"), list):
            ignored += sum(not isinstance(cell, dict) for cell in holder["cells"])
            holder["cells"] = [cell for cell in holder["cells"] if isinstance(cell, dict)]
            for cell in holder["cells"]:
                if cell.get("cell_type") == "code":
                    cell["outputs"] = []
    if ignored:
        flags.append(f"{ignored} cell(s) of the nbformat {major} notebook were not objects; they were ignored")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            notebook = nbformat.converter.convert(nbformat.reader.reads(json.dumps(document)), 4)
        upgraded = json.loads(json.dumps(notebook))
    except Exception as error:  # noqa: BLE001 - any failure of the converter is the file's
        reason = f"the notebook is nbformat {major} and could not be upgraded to nbformat 4: {str(error)[:200]}"
        raise _Refused(reason) from None
    for cell in upgraded.get("cells", []):
        cell.pop("id", None)  # nbformat draws random ids: ours are assigned deterministically
    return upgraded


def _notebook_cells(document: Any, flags: list[str]) -> tuple[list[Any], dict[str, Any], bool]:
    """The raw cells and metadata of a notebook of any version, and whether its cells must carry ids."""
    if not isinstance(document, dict):
        raise _Refused(
            f"the file is valid JSON but not a notebook: it is {_json_type(document)}, where a notebook is an "
            f"object with 'cells', 'metadata' and 'nbformat'"
        )
    major, minor = document.get("nbformat"), document.get("nbformat_minor")
    has_cells = isinstance(document.get("cells"), list)
    if isinstance(major, bool) or not isinstance(major, int):
        if not has_cells:
            raise _Refused(
                "the file is valid JSON but not a notebook: it has no 'nbformat' version and no list of 'cells'"
            )
        flags.append(
            f"the notebook's nbformat version is {_json_type(major)}, not a number; its cells were read as nbformat 4"
        )
    elif major in (1, 2, 3):
        document = _upgrade(document, major, flags)
        flags.append(f"the notebook is nbformat {major}; it was upgraded to nbformat 4")
    elif major != 4:
        if not has_cells:
            raise _Refused(
                f"nbformat {major} is not a version the grader reads (1 to 4), and the file has no list of 'cells'"
            )
        flags.append(f"nbformat {major} is not a version the grader knows (1 to 4); its cells were read as nbformat 4")
    cells = document.get("cells")
    if not isinstance(cells, list):
        raise _Refused(f"the notebook's 'cells' is {_json_type(cells)}, not a list of cells")
    if len(cells) > MAX_CELLS:
        raise _Refused(f"the notebook has {len(cells):,} cells, over the limit of {MAX_CELLS:,}")
    metadata = document.get("metadata")
    wants_ids = major == 4 and isinstance(minor, int) and not isinstance(minor, bool) and minor >= 5
    return cells, metadata if isinstance(metadata, dict) else {}, wants_ids


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(line, str) for line in value):
        return "".join(value)
    return None


def _clean(text: str) -> tuple[str, bool]:
    """``text`` safe to encode as UTF-8 (lone surrogates replaced), and whether anything was replaced."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", errors="replace").decode("utf-8"), True
    return text, False


def _attachments(value: Any, budget: list[int]) -> tuple[dict[str, Any] | None, bool]:
    """Well-formed attachments within the notebook's budget, and whether some were dropped."""
    if value is None:
        return None, False
    if not isinstance(value, dict):
        return None, True
    kept: dict[str, Any] = {}
    for name, bundle in value.items():
        texts = {mime: _text(data) for mime, data in bundle.items()} if isinstance(bundle, dict) else {}
        broken = any(text is None or _clean(mime + text)[1] for mime, text in texts.items())
        if not texts or broken or _clean(name)[1]:
            return None, True
        kept[name] = texts
    size = sum(len(text) for texts in kept.values() for text in texts.values())
    if size > budget[0]:
        return None, True
    budget[0] -= size
    return kept or None, False


def _student_cells(raw_cells: Sequence[Any], wants_ids: bool, flags: list[str]) -> list[StudentCell]:
    cells, missing, budget = [], [], [MAX_ATTACHMENT_CHARS]
    for index, cell in enumerate(raw_cells):
        number = index + 1
        if not isinstance(cell, dict):
            flags.append(f"cell {number} is {_json_type(cell)}, not a cell; it was ignored")
            continue
        cell_type = cell.get("cell_type")
        if cell_type in ("heading", "html"):
            cell_type = "markdown"
        elif cell_type not in ("code", "markdown", "raw"):
            shown = json.dumps(cell_type, default=str)[:40]
            flags.append(f"cell {number} has the unknown type {shown}; it is kept as a raw cell and not run")
            cell_type = "raw"
        source = _text(cell.get("source", ""))
        if source is None:
            flags.append(f"cell {number}'s source is {_json_type(cell.get('source'))}, not text; it was read as empty")
            source = ""
        source, replaced = _clean(source)
        if replaced:
            flags.append(f"cell {number} holds invalid Unicode (lone surrogates); it was replaced by '?'")
        too_long = len(source) > MAX_CELL_CHARS
        metadata = cell.get("metadata") if isinstance(cell.get("metadata"), dict) else {}
        nbgrader = metadata.get("nbgrader") if isinstance(metadata.get("nbgrader"), dict) else None
        cell_id = cell.get("id") if isinstance(cell.get("id"), str) and _VALID_ID.match(cell["id"]) else None
        if cell_id is None and (wants_ids or "id" in cell):
            missing.append(index)
        attachments, dropped = _attachments(cell.get("attachments"), budget) if cell_type != "code" else (None, False)
        if dropped:
            flags.append(
                f"the attachments of cell {number} were dropped (malformed, or over {MAX_ATTACHMENT_CHARS:,} "
                f"characters in all)"
            )
        cells.append(StudentCell(index, cell_type, source, cell_id, nbgrader, attachments, too_long))
    if missing:
        flags.append(f"{len(missing)} cell(s) have no valid id (cells {cell_numbers(missing)}); ids were assigned")
    seen: dict[str, list[int]] = {}
    for cell in cells:
        if cell.cell_id is not None:
            seen.setdefault(cell.cell_id, []).append(cell.index)
    for cell_id, positions in seen.items():
        if len(positions) > 1:
            flags.append(
                f"the cell id {cell_id!r} is used by {len(positions)} cells ({cell_numbers(positions)}); "
                f"each got its own id"
            )
    return cells


def _kernel_flags(metadata: Mapping[str, Any], source_notebook: Any) -> list[str]:
    course = source_notebook.get("metadata", {})
    wanted = {
        "kernel": course.get("kernelspec", {}).get("name"),
        "language": course.get("kernelspec", {}).get("language") or course.get("language_info", {}).get("name"),
    }
    kernelspec = metadata.get("kernelspec") if isinstance(metadata.get("kernelspec"), dict) else {}
    info = metadata.get("language_info") if isinstance(metadata.get("language_info"), dict) else {}
    claimed = {"kernel": kernelspec.get("name"), "language": kernelspec.get("language") or info.get("name")}
    differ = [f"{what} {json.dumps(value, default=str)[:40]}" for what, value in claimed.items()
              if value is not None and wanted[what] is not None and value != wanted[what]]
    if not differ:
        return []
    return [f"the notebook's metadata names the {' and '.join(differ)}; it is ignored and the course's kernel "
            f"({wanted['kernel']}) is used"]


def _ids(placed: Iterable[Placed]) -> dict[int, str]:
    """Notebook ids for the student's own cells (by position in the submission): their own when valid and
    unique, ``student-<n>`` otherwise; instructor cells keep the instructor's."""
    placed = list(placed)
    used = {slot.expected.key for slot in placed if slot.expected is not None}
    ids: dict[int, str] = {}
    own = [slot.student for slot in placed if slot.expected is None and slot.student is not None]
    for cell in own:
        if cell.cell_id is not None and cell.cell_id not in used:
            ids[cell.index] = cell.cell_id
            used.add(cell.cell_id)
    for cell in own:
        if cell.index not in ids:
            candidate, n = f"student-{cell.index + 1}", 2
            while candidate in used:
                candidate, n = f"student-{cell.index + 1}-{n}", n + 1
            ids[cell.index] = candidate
            used.add(candidate)
    return ids


def _test_step(cell: Expected) -> TestStep:
    return TestStep(cell.key, float(cell.points or 0), cell.released)


def _too_long(name: str, cell: StudentCell, consequence: str) -> str:
    size = f"{len(cell.source):,} characters, over the limit of {MAX_CELL_CHARS:,} per cell"
    return f"{name} holds {size}; {consequence}"


def _assemble(
    placed: Sequence[Placed], flags: list[str]
) -> tuple[list[Step], dict[str, str], list[dict[str, Any]]]:
    """The plan, the written answers and the notebook's cells, from the reconciled notebook."""
    ids = _ids(placed)
    cut = f"it was cut to its first {MAX_CELL_CHARS:,} characters"
    plan: list[Step] = []
    written: dict[str, str] = {}
    nodes: list[dict[str, Any]] = []
    for slot in placed:
        cell, student = slot.expected, slot.student
        if cell is None:  # the student's own cell
            if student.too_long:
                consequence = "it is not run" if student.cell_type == "code" else cut
                flags.append(_too_long(f"cell {student.index + 1}", student, consequence))
                if student.cell_type == "code":
                    continue
            source = student.source[:MAX_CELL_CHARS]
            if student.cell_type == "code":
                plan.append(CodeStep("student", source, ids[student.index], None, student.index))
            nodes.append(notebook_cell(student.cell_type, ids[student.index], source, {}, student.attachments))
        elif cell.kind in ("test", "locked", "text"):
            if cell.kind == "test":
                plan.append(_test_step(cell))
            elif cell.kind == "locked":
                index = student.index if student is not None else None
                plan.append(CodeStep("instructor", cell.released, cell.key, cell.key, index))
            nodes.append(notebook_cell(cell.cell_type, cell.key, cell.released, cell.metadata))
        elif cell.kind == "answer":
            used = student is not None and not student.too_long
            if student is not None and student.too_long:
                flags.append(_too_long(cell.describe(), student, "the release's stub runs in its place"))
            source = student.source if used else cell.released
            plan.append(CodeStep("answer", source, cell.key, cell.key, student.index if used else None))
            nodes.append(notebook_cell("code", cell.key, source, cell.metadata))
        elif cell.kind == "written":
            text = student.source[:MAX_CELL_CHARS] if student is not None else cell.released
            if student is not None and student.too_long:
                flags.append(_too_long(cell.describe(), student, cut))
            written[cell.key] = text
            attachments = student.attachments if student is not None else None
            nodes.append(notebook_cell(cell.cell_type, cell.key, text, cell.metadata, attachments))
        elif student is not None:  # a course code cell: the student's to change
            if student.too_long:
                flags.append(_too_long(cell.describe(), student, "it is not run"))
                continue
            unchanged = normalise_text(student.source) == normalise_text(cell.released)
            kind = "instructor" if unchanged else "student"
            plan.append(CodeStep(kind, student.source, cell.key, None, student.index))
            nodes.append(notebook_cell("code", cell.key, student.source, {}))
    return plan, written, nodes


def read_submission(path: Path, source_notebook: Any, *, max_bytes: int = MAX_BYTES) -> Intake:
    """Read the submission at ``path`` against the instructor's ``source_notebook``; never raises for bad input.

    Parameters
    ----------
    path : Path
        The submitted ``.ipynb`` (nbgrader's ``submitted/<student>/<id>/<id>.ipynb``).
    source_notebook : NotebookNode
        The instructor's notebook with complete nbgrader metadata, solutions and hidden tests, as
        :func:`autograder.course.load_source` returns it. Its mistakes raise; the student's never do.
    max_bytes : int
        Larger files are refused before they are read.

    Raises
    ------
    ValueError
        ``max_bytes`` is not a positive integer (the instructor's mistake, not the student's).

    Returns
    -------
    Intake
        ``fatal`` set (and nothing to execute) when the file cannot be graded; otherwise the plan, the flags
        and the normalised notebook. See the module docstring for the rules.
    """
    if not isinstance(max_bytes, int) or max_bytes < 1:
        raise ValueError(f"read_submission: max_bytes must be a positive int. Received: max_bytes={max_bytes!r}")
    expected = expected_cells(source_notebook)
    tests = [_test_step(cell) for cell in expected if cell.kind == "test"]
    flags: list[str] = []
    digest = None
    try:
        raw, digest = _read_bytes(Path(path), max_bytes)
        document = _parse(_decode(raw, flags))
        del raw
        raw_cells, metadata, wants_ids = _notebook_cells(document, flags)
        cells = _student_cells(raw_cells, wants_ids, flags)
        flags += _kernel_flags(metadata, source_notebook)
        placed, matching_flags = reconcile(cells, expected)
        flags += matching_flags
        plan, written, nodes = _assemble(placed, flags)
        notebook = _notebook(nodes, source_notebook)
    except _Refused as refusal:
        return Intake(str(refusal), _capped(flags), refusal.sha256 or digest, [], tests)
    except Exception as error:  # noqa: BLE001 - one submission must never abort a batch
        reason = f"the intake failed on this file ({type(error).__name__}: {str(error)[:200]}); report this bug"
        return Intake(reason, _capped(flags), digest, [], tests)
    return Intake(None, _capped(flags), digest, plan, tests, written, notebook)


def _capped(flags: list[str]) -> list[str]:
    if len(flags) <= MAX_FLAGS:
        return flags
    return [*flags[: MAX_FLAGS - 1], f"... and {len(flags) - MAX_FLAGS + 1:,} more problems of the same kinds"]


def _notebook(nodes: list[dict[str, Any]], source_notebook: Any) -> Any:
    import nbformat

    metadata = json.loads(json.dumps(dict(source_notebook.get("metadata", {}))))
    return nbformat.from_dict({"cells": nodes, "metadata": metadata, "nbformat": 4, "nbformat_minor": 5})
