"""Grading results into nbgrader's gradebook, with an append-only log that shows a regrade matches.

The grader computes a :class:`SubmissionResult` per submission (in worker processes); one
:class:`GradeRecorder`, in the grader's main process, writes it into nbgrader's own database (any SQLAlchemy
URL: the course's ``sqlite:///<course>/gradebook.db`` by default, or ``postgresql://...`` for several
graders), so formgrader, manual grading and ``nbgrader export`` keep working. The rules:

- the assignment, its notebooks and grade cells must already be there (``autograder release`` runs
  ``nbgrader generate_assignment``, which puts them there); the student and the submission are created when
  missing, with the structure nbgrader's ``Gradebook.add_submission`` gives them;
- only ``auto_score`` (and ``needs_manual_grade``) is written: a ``manual_score`` entered in formgrader is
  never overwritten, and when the autograder's score under it changes the cell is flagged for review again;
- one submission is one transaction, retried on SQLite's "database is locked", PostgreSQL's serialization
  failures and deadlocks, and a unique-key race with another writer creating the same student; recording the
  same result twice leaves the same gradebook;
- after the commit, one JSON line per recorded submission is appended to the log (``grading-log.jsonl`` beside
  the gradebook by default) with ``O_APPEND`` and ``fsync``: the submission's and the test bundle's SHA-256,
  the seed, the grader's version, the flags and every cell's score. An exclusive ``flock`` on the log is held
  from the transaction to the fsync, so writers sharing a log record in the same order in both.

A ``kill -9`` at any moment loses nothing that a rerun does not restore: before the commit nothing was
written; between the commit and the log line :meth:`GradeRecorder.already_graded` answers False (it needs the
log line *and* the gradebook to agree), so ``--only-new`` records it again, to the same state. A torn last
line is ignored by :func:`read_log` and closed with a newline by the next writer. :func:`verify_log` checks that
the last logged score of every (student, assignment) is what the gradebook holds.

The autograder issue's sections "What users get" and "Durability" are the specification; ``autograder grade``
uses it and :mod:`autograder.export` reads what it wrote.
"""

from __future__ import annotations

import fcntl
import json
import math
import os
import random
import re
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, inspect, select
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

from autograder.course import COURSE_DIR
from autograder.gradelog import (
    LOG_VERSION,
    LogCheck,
    LogContents,
    _differences,
    _last_by_submission,
    _parse_lines,
    default_log_path,
    read_log,
    verify_log,
)

__all__ = [
    "CellScore",
    "GradeRecorder",
    "GradebookError",
    "LogCheck",
    "LogContents",
    "Recorded",
    "SubmissionResult",
    "default_db_url",
    "default_log_path",
    "open_gradebook",
    "read_log",
    "verify_log",
]

_SHA256 = re.compile(r"[0-9a-f]{64}")
_NBGRADER_TABLES = {"assignment", "notebook", "base_cell", "grade_cells", "student", "submitted_assignment",
                    "submitted_notebook", "grade", "comment"}
# SQLSTATEs worth a retry: serialization failure, deadlock, unique violation (a concurrent writer created the row).
_RETRY_SQLSTATES = {"40001", "40P01", "23505"}


class GradebookError(RuntimeError):
    """The result cannot be recorded as it is; the message says what to do."""


@dataclass(frozen=True)
class CellScore:
    """The autograder's verdict on one graded cell.

    Parameters
    ----------
    auto_score : float or None
        Points earned, in ``[0, max_score]``; None when the cell needs a person (a written answer).
    max_score : float
        The cell's points; must equal the gradebook's (a difference means the gradebook holds another release).
    message : str
        What the student is told (logged; nbgrader's schema has no place for it).
    """

    auto_score: float | None
    max_score: float
    message: str = ""

    def __post_init__(self) -> None:
        if not isinstance(self.max_score, (int, float)) or not math.isfinite(self.max_score) or self.max_score < 0:
            raise ValueError(f"CellScore: max_score must be a finite number >= 0. Received: max_score={self.max_score!r}")
        if self.auto_score is not None and (
            not isinstance(self.auto_score, (int, float)) or not 0 <= self.auto_score <= self.max_score
        ):
            raise ValueError(
                f"CellScore: auto_score must be None or a number in [0, max_score={self.max_score:g}]. "
                f"Received: auto_score={self.auto_score!r}"
            )
        if not isinstance(self.message, str):
            raise TypeError(f"CellScore: message must be a str. Received: message={self.message!r}")
        object.__setattr__(self, "max_score", float(self.max_score))
        if self.auto_score is not None:
            object.__setattr__(self, "auto_score", float(self.auto_score))


def _utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass(frozen=True)
class SubmissionResult:
    """Everything the grader decided about one submission, as plain data.

    Parameters
    ----------
    assignment, student : str
        nbgrader's assignment id and student id (``submitted/<student>/<assignment>/``).
    notebooks : mapping of str to mapping of str to CellScore
        ``{notebook name: {grade_id: CellScore}}``, covering every notebook of the assignment and every grade
        cell of each (nbgrader's ``grade_id`` is unique within a notebook).
    submission_sha256, bundle_sha256 : str
        Hex SHA-256 of the submitted files and of the test bundle they were graded with.
    seed : int
        The assignment's seed, which the student's process was seeded with (``SEED`` of its hidden module).
    grader_version : str
        The autograder's version (``autograder.__version__``).
    flags : tuple of str
        What the report must say, e.g. ``"tampering: test_relu edited"``, ``"unsafe-no-sandbox"``.
    timestamp : datetime or str or None
        When the student submitted: a datetime (naive means UTC, as in nbgrader) or the text of nbgrader's
        ``timestamp.txt`` (``"2025-03-01 09:30:00.250000 UTC"``); stored, in UTC, as the submission's timestamp
        (nbgrader's late penalties use it). None leaves the gradebook's as it is.
    graded_at : datetime
        When it was graded (logged).
    """

    assignment: str
    student: str
    notebooks: Mapping[str, Mapping[str, CellScore]]
    submission_sha256: str
    bundle_sha256: str
    seed: int
    grader_version: str
    flags: tuple[str, ...] = ()
    timestamp: datetime | str | None = None
    graded_at: datetime = field(default_factory=_utcnow)

    def __post_init__(self) -> None:
        for name in ("assignment", "student", "grader_version"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise ValueError(f"SubmissionResult: {name} must be a non-empty str. Received: {name}={value!r}")
        for name in ("submission_sha256", "bundle_sha256"):
            value = getattr(self, name)
            if not isinstance(value, str) or not _SHA256.fullmatch(value):
                raise ValueError(
                    f"SubmissionResult: {name} must be 64 lowercase hex digits (hashlib.sha256(...).hexdigest()). "
                    f"Received: {name}={value!r}"
                )
        if not isinstance(self.seed, int) or isinstance(self.seed, bool):
            raise TypeError(f"SubmissionResult: seed must be an int. Received: seed={self.seed!r}")
        if isinstance(self.flags, str) or not all(isinstance(flag, str) for flag in self.flags):
            raise TypeError(f"SubmissionResult: flags must be a tuple of str. Received: flags={self.flags!r}")
        object.__setattr__(self, "flags", tuple(self.flags))
        if self.timestamp is not None and not isinstance(self.timestamp, (datetime, str)):
            raise TypeError(f"SubmissionResult: timestamp must be a datetime, a str or None. Received: {self.timestamp!r}")
        if not self.notebooks:
            raise ValueError(f"SubmissionResult: {self.student}/{self.assignment} has no notebooks.")
        for notebook, cells in self.notebooks.items():
            for grade_id, score in cells.items():
                if not isinstance(score, CellScore):
                    raise TypeError(
                        f"SubmissionResult: notebooks[{notebook!r}][{grade_id!r}] must be a CellScore. Received: {score!r}"
                    )

    @property
    def score(self) -> float:
        """The autograded points (cells left to a person count 0)."""
        return sum(cell.auto_score or 0.0 for cells in self.notebooks.values() for cell in cells.values())

    def log_record(self) -> dict[str, Any]:
        """The JSON object the log holds for this result (without ``recorded_at`` and ``manual_kept``)."""
        from nbgrader.utils import parse_utc

        return {
            "v": LOG_VERSION,
            "student": self.student,
            "assignment": self.assignment,
            "submission_sha256": self.submission_sha256,
            "bundle_sha256": self.bundle_sha256,
            "seed": self.seed,
            "grader_version": self.grader_version,
            "flags": list(self.flags),
            "timestamp": None if self.timestamp is None else parse_utc(self.timestamp).isoformat(),
            "graded_at": self.graded_at.isoformat(),
            "score": self.score,
            "notebooks": {
                notebook: {
                    grade_id: {"auto_score": cell.auto_score, "max_score": cell.max_score, "message": cell.message}
                    for grade_id, cell in sorted(cells.items())
                }
                for notebook, cells in sorted(self.notebooks.items())
            },
        }


@dataclass(frozen=True)
class Recorded:
    """What :meth:`GradeRecorder.record` did: whether the gradebook changed, in how many attempts, and the
    cells (``notebook/grade_id``) whose manual grade was kept over the autograder's score."""

    changed: bool
    attempts: int
    manual_kept: tuple[str, ...]


def default_db_url(course_dir: Path = COURSE_DIR) -> str:
    """nbgrader's default: ``sqlite:///<course>/gradebook.db``."""
    return f"sqlite:///{Path(course_dir).resolve() / 'gradebook.db'}"


def _shown(db_url: str) -> str:
    return make_url(db_url).render_as_string(hide_password=True)


def open_gradebook(db_url: str, *, write: bool = False, busy_timeout: float = 30.0) -> Engine:
    """An SQLAlchemy engine on an existing nbgrader gradebook; never creates one (a typo must not make an empty one).

    ``write=True`` on SQLite begins every transaction with ``BEGIN IMMEDIATE``; on PostgreSQL transactions are
    SERIALIZABLE. Raises :class:`GradebookError` saying what to run when there is no gradebook at ``db_url``.
    """
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite":
        if url.database in (None, "", ":memory:") or not Path(url.database).is_file():
            raise GradebookError(
                f"no gradebook at {_shown(db_url)}: run `autograder release <id>` (nbgrader generate_assignment) "
                "in the course first, or pass --db with the gradebook's URL."
            )
        engine = create_engine(url, connect_args={"timeout": busy_timeout})
        if write:
            # Take the write lock when the transaction begins: a read lock upgraded later fails at once
            # ("database is locked") whatever the busy timeout, where BEGIN IMMEDIATE waits for it.
            @event.listens_for(engine, "connect")
            def _manual_transactions(dbapi_connection: Any, record: Any) -> None:
                dbapi_connection.isolation_level = None

            @event.listens_for(engine, "begin")
            def _begin_immediate(connection: Any) -> None:
                connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        engine = create_engine(url, isolation_level="SERIALIZABLE", pool_pre_ping=True)
    try:
        tables = set(inspect(engine).get_table_names())
    except DBAPIError as error:
        engine.dispose()
        raise GradebookError(f"cannot open the gradebook at {_shown(db_url)}: {error.orig}") from error
    if not _NBGRADER_TABLES <= tables:
        engine.dispose()
        raise GradebookError(
            f"{_shown(db_url)} holds no nbgrader gradebook (tables {sorted(_NBGRADER_TABLES - tables)} are missing): "
            "run `autograder release <id>` (nbgrader generate_assignment) with this database first."
        )
    return engine


def _transient(error: DBAPIError) -> bool:
    """Worth another attempt: a lock, a serialization failure, a lost connection, a concurrent insert."""
    if error.connection_invalidated:
        return True
    orig = error.orig
    state = getattr(orig, "pgcode", None) or getattr(orig, "sqlstate", None)
    if state in _RETRY_SQLSTATES:
        return True
    text = str(orig).lower()
    if isinstance(error, OperationalError) and ("database is locked" in text or "database is busy" in text):
        return True
    return isinstance(error, IntegrityError) and "unique constraint failed" in text


def _write(session: Session, result: SubmissionResult, shown_url: str) -> tuple[bool, tuple[str, ...]]:
    """Create what is missing and set the auto scores, in the session's transaction; (changed, manual kept)."""
    from nbgrader.api import Assignment, Comment, Grade, Student, SubmittedAssignment, SubmittedNotebook
    from nbgrader.utils import parse_utc

    assignment = session.scalars(select(Assignment).where(Assignment.name == result.assignment)).one_or_none()
    if assignment is None:
        raise GradebookError(
            f"assignment {result.assignment!r} is not in the gradebook {shown_url}: run "
            f"`autograder release {result.assignment}` (nbgrader generate_assignment) against this database first."
        )
    notebooks = {notebook.name: notebook for notebook in assignment.notebooks}
    if set(result.notebooks) != set(notebooks):
        raise GradebookError(
            f"{result.student}/{result.assignment}: the result has notebooks {sorted(result.notebooks)}, the "
            f"gradebook {sorted(notebooks)}: grade every notebook of the release (a missing one scores 0), or "
            "re-release the assignment if the gradebook is stale."
        )
    for name, notebook in notebooks.items():
        graded = {cell.name: cell for cell in list(notebook.grade_cells) + list(notebook.task_cells)}
        required = {cell.name for cell in notebook.grade_cells}
        cells = result.notebooks[name]
        unknown, missing = set(cells) - set(graded), required - set(cells)
        if unknown or missing:
            raise GradebookError(
                f"{result.student}/{result.assignment}/{name}: the result and the gradebook's grade cells differ "
                f"(not in the gradebook: {sorted(unknown)}; not in the result: {sorted(missing)}): report every "
                "grade cell (auto_score=None for a written answer), or re-release if the gradebook is stale."
            )
        for grade_id, score in cells.items():
            if abs(graded[grade_id].max_score - score.max_score) > 1e-9:
                raise GradebookError(
                    f"{result.student}/{result.assignment}/{name}: cell {grade_id!r} is worth "
                    f"{graded[grade_id].max_score:g} point(s) in the gradebook but {score.max_score:g} in the result: "
                    "the gradebook holds another release of the assignment; re-release it, then regrade."
                )

    changed = False
    student = session.get(Student, result.student)
    if student is None:
        student = Student(id=result.student)
        session.add(student)
        changed = True
    submission = session.scalars(select(SubmittedAssignment).where(
        SubmittedAssignment.assignment_id == assignment.id, SubmittedAssignment.student_id == student.id,
    )).one_or_none()
    if submission is None:  # the structure nbgrader's Gradebook.add_submission builds
        submission = SubmittedAssignment(assignment=assignment, student=student)
        session.add(submission)
        changed = True
    if result.timestamp is not None and submission.timestamp != parse_utc(result.timestamp):
        submission.timestamp = parse_utc(result.timestamp)
        changed = True

    manual_kept = []
    for name, notebook in notebooks.items():
        submitted = next((sub for sub in submission.notebooks if sub.notebook_id == notebook.id), None)
        if submitted is None:
            submitted = SubmittedNotebook(notebook=notebook, assignment=submission)
            session.add(submitted)  # SQLAlchemy 2 does not cascade new objects into the session along backrefs
            changed = True
        grades = {grade.cell_id: grade for grade in submitted.grades}
        comments = {comment.cell_id for comment in submitted.comments}
        for cell in list(notebook.solution_cells) + list(notebook.task_cells):
            if cell.id not in comments:
                session.add(Comment(cell_id=cell.id, notebook=submitted))
                comments.add(cell.id)
        for cell in list(notebook.grade_cells) + list(notebook.task_cells):
            if cell.id not in grades:
                grades[cell.id] = Grade(cell_id=cell.id, notebook=submitted, needs_manual_grade=True)
                session.add(grades[cell.id])
            score = result.notebooks[name].get(cell.name)
            if score is None:  # a task cell: a person grades it
                continue
            grade = grades[cell.id]
            new = None if score.auto_score is None else float(score.auto_score)
            if grade.manual_score is not None:
                manual_kept.append(f"{name}/{cell.name}")
                # A changed score under a manual grade asks the grader to look again (as nbgrader autograde does).
                needs = True if grade.auto_score != new else bool(grade.needs_manual_grade)
            else:
                needs = new is None
            if grade.auto_score != new or grade.needs_manual_grade != needs:
                grade.auto_score, grade.needs_manual_grade = new, needs
                changed = True
    return changed, tuple(manual_kept)


class GradeRecorder:
    """Writes :class:`SubmissionResult` s into an nbgrader gradebook and appends them to the grading log.

    Create it in the process that writes (the grader's main process; engines do not survive ``fork``), use it
    as a context manager, and hand it results as workers finish.

    Parameters
    ----------
    db_url : str
        SQLAlchemy URL of an existing gradebook (see :func:`default_db_url`).
    log_path : Path or str, optional
        The append-only log; :func:`default_log_path` when None.
    busy_timeout : float
        Seconds SQLite waits for a lock before an attempt fails (and is retried).
    max_attempts : int
        Attempts per submission before :class:`GradebookError`.

    Raises
    ------
    GradebookError
        If ``db_url`` holds no nbgrader gradebook (it is never created here).
    """

    def __init__(self, db_url: str, log_path: Path | str | None = None, *, busy_timeout: float = 30.0,
                 max_attempts: int = 12) -> None:
        if max_attempts < 1:
            raise ValueError(f"GradeRecorder: max_attempts must be >= 1. Received: max_attempts={max_attempts}")
        self.db_url = db_url
        self.log_path = Path(log_path) if log_path is not None else default_log_path(db_url)
        self.max_attempts = max_attempts
        self._shown = _shown(db_url)
        self._write_engine = open_gradebook(db_url, write=True, busy_timeout=busy_timeout)
        sqlite = make_url(db_url).get_backend_name() == "sqlite"
        self._read_engine = open_gradebook(db_url, write=False, busy_timeout=busy_timeout) if sqlite else self._write_engine
        self._lock = threading.Lock()
        self._jitter = random.Random()  # backoff jitter only; no result depends on it
        self._log_offset = 0
        self._last: dict[tuple[str, str], dict[str, Any]] = {}

    def __enter__(self) -> GradeRecorder:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Release the database connections."""
        self._write_engine.dispose()
        self._read_engine.dispose()

    @contextmanager
    def _locked_log(self) -> Iterator[int]:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.log_path.exists()
        fd = os.open(self.log_path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            if new:  # make the file's name durable too
                directory = os.open(self.log_path.parent, os.O_RDONLY)
                try:
                    os.fsync(directory)
                finally:
                    os.close(directory)
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield fd
        finally:
            os.close(fd)  # releases the flock

    def _append(self, fd: int, record: dict[str, Any]) -> None:
        # ASCII-only JSON: a message holding undecodable student output (lone surrogates) still encodes.
        line = json.dumps(record, sort_keys=True, ensure_ascii=True, allow_nan=False, separators=(",", ":"))
        data = line.encode("utf-8") + b"\n"
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            data = b"\n" + data  # close a line a killed writer left half written
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        os.fsync(fd)

    def record(self, result: SubmissionResult) -> Recorded:
        """Write one submission's scores (one transaction, retried) and append its log line.

        Raises
        ------
        GradebookError
            If the assignment, its notebooks or its grade cells are not what the result says (nothing is
            written), or the database still refuses after ``max_attempts``.
        """
        if not isinstance(result, SubmissionResult):
            raise TypeError(f"record() takes a SubmissionResult. Received: {type(result).__name__}")
        with self._lock, self._locked_log() as fd:
            for attempt in range(1, self.max_attempts + 1):
                try:
                    with Session(self._write_engine) as session, session.begin():
                        changed, manual_kept = _write(session, result, self._shown)
                    break
                except DBAPIError as error:
                    if not _transient(error) or attempt == self.max_attempts:
                        raise GradebookError(
                            f"could not record {result.student}/{result.assignment} in {self._shown} "
                            f"(attempt {attempt} of {self.max_attempts}): {error.orig}. Nothing was written for "
                            "it; rerun the grader with --only-new once the database accepts writes."
                        ) from error
                    time.sleep(min(2.0, 0.05 * 2 ** (attempt - 1)) * (0.5 + self._jitter.random()))
            record = {**result.log_record(), "recorded_at": _utcnow().isoformat(), "manual_kept": list(manual_kept)}
            try:
                self._append(fd, record)
            except OSError as error:
                raise GradebookError(
                    f"{result.student}/{result.assignment} is in the gradebook but its line could not be appended "
                    f"to {self.log_path} ({error}): free the disk, then rerun with --only-new to record it again."
                ) from error
        return Recorded(changed, attempt, manual_kept)

    def _refresh(self) -> None:
        """Read what was appended to the log since the last call (complete lines only)."""
        try:
            with open(self.log_path, "rb") as handle:
                handle.seek(self._log_offset)
                data = handle.read()
        except FileNotFoundError:
            return
        end = data.rfind(b"\n") + 1
        records, _ = _parse_lines(data[:end])
        self._last.update(_last_by_submission(records))
        self._log_offset += end

    def already_graded(self, student: str, assignment: str, submission_sha256: str, bundle_sha256: str) -> bool:
        """True when this exact submission was graded with this exact test bundle and the gradebook still says so.

        That is: the last log record of (student, assignment) has these two hashes, and every cell's
        ``auto_score`` in the gradebook is the one it logged. For ``--only-new``.
        """
        self._refresh()
        record = self._last.get((student, assignment))
        if record is None or (record["submission_sha256"], record["bundle_sha256"]) != (submission_sha256, bundle_sha256):
            return False
        with Session(self._read_engine) as session:
            return not _differences(session, record)
