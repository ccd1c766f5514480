"""The grading log: one JSON line per recorded submission, appended beside nbgrader's gradebook.

:class:`autograder.gradebook.GradeRecorder` writes it (with ``O_APPEND``, ``fsync`` and an ``flock``, after the
gradebook's transaction commits); this module reads it (:func:`read_log`, which skips a line a killed writer
left half written) and checks it against the gradebook (:func:`verify_log`): the last logged score of every
(student, assignment) must be what the gradebook holds, so a regrade can be shown to match. Each record holds
the submission's and the test bundle's SHA-256, the assignment's seed, the grader's version, the flags and
every cell's score.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from autograder.course import COURSE_DIR

__all__ = ["LOG_NAME", "LOG_VERSION", "LogCheck", "LogContents", "default_log_path", "read_log", "verify_log"]

LOG_NAME = "grading-log.jsonl"
LOG_VERSION = 1


@dataclass(frozen=True)
class LogContents:
    """The log's records, oldest first; ``torn_lines`` counts lines a killed writer left half written."""

    records: tuple[dict[str, Any], ...]
    torn_lines: int


@dataclass(frozen=True)
class LogCheck:
    """:func:`verify_log`'s answer: ``ok`` when every last logged score is the gradebook's."""

    checked: int
    mismatches: tuple[str, ...]
    unlogged: tuple[str, ...]
    torn_lines: int

    @property
    def ok(self) -> bool:
        """No mismatch, and every autograded submission of a logged assignment has a log record."""
        return not self.mismatches and not self.unlogged

    def render(self) -> str:
        """One line per problem, for a person."""
        lines = [f"grading log: {self.checked} submission(s) checked against the gradebook"
                 + (f", {self.torn_lines} torn line(s) skipped" if self.torn_lines else "")]
        lines += [f"  MISMATCH: {line}" for line in self.mismatches]
        lines += [f"  NOT LOGGED: {line}" for line in self.unlogged]
        return "\n".join(lines + ([] if not self.ok else ["  every recorded score matches the gradebook"]))


def default_log_path(db_url: str, course_dir: Path = COURSE_DIR) -> Path:
    """Beside an SQLite gradebook; in the course directory for a server database."""
    url = make_url(db_url)
    if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
        return Path(url.database).resolve().parent / LOG_NAME
    return Path(course_dir).resolve() / LOG_NAME


def _differences(session: Session, record: Mapping[str, Any]) -> list[str]:
    """How the gradebook's auto scores differ from a log record's (empty: they agree)."""
    from nbgrader.api import Assignment, BaseCell, Grade, Notebook, SubmittedAssignment, SubmittedNotebook

    who = f"{record['student']}/{record['assignment']}"
    rows = session.execute(
        select(Notebook.name, BaseCell.name, Grade.auto_score)
        .select_from(Grade)
        .join(SubmittedNotebook, SubmittedNotebook.id == Grade.notebook_id)
        .join(Notebook, Notebook.id == SubmittedNotebook.notebook_id)
        .join(BaseCell, BaseCell.id == Grade.cell_id)
        .join(SubmittedAssignment, SubmittedAssignment.id == SubmittedNotebook.assignment_id)
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
        .where(Assignment.name == record["assignment"], SubmittedAssignment.student_id == record["student"])
    ).all()
    if not rows:
        return [f"{who}: logged at {record.get('recorded_at')} but the gradebook has no such submission"]
    held = {(notebook, cell): auto for notebook, cell, auto in rows}
    problems = []
    for notebook, cells in record["notebooks"].items():
        for cell, logged in cells.items():
            key = (notebook, cell)
            if key not in held:
                problems.append(f"{who}/{notebook}/{cell}: logged, but the gradebook has no such grade")
            elif held[key] != logged["auto_score"]:
                problems.append(
                    f"{who}/{notebook}/{cell}: logged auto_score {logged['auto_score']} (at {record.get('recorded_at')}) "
                    f"but the gradebook holds {held[key]}"
                )
    return problems


def _parse_lines(data: bytes) -> tuple[list[dict[str, Any]], int]:
    records, torn = [], 0
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except (UnicodeDecodeError, json.JSONDecodeError):
            record = None
        if isinstance(record, dict) and record.get("v") == LOG_VERSION and "notebooks" in record:
            records.append(record)
        else:
            torn += 1
    return records, torn


def read_log(path: Path | str) -> LogContents:
    """Every complete record of a grading log; a half-written last line (a killed writer) is left out.

    A half line that a later writer closed with a newline is counted in ``torn_lines`` and skipped: it never
    hides the records after it. A missing log reads as empty.
    """
    try:
        data = Path(path).read_bytes()
    except FileNotFoundError:
        return LogContents((), 0)
    complete = data[: data.rfind(b"\n") + 1]  # the bytes after the last newline are a line still being written
    records, torn = _parse_lines(complete)
    return LogContents(tuple(records), torn)


def _last_by_submission(records: tuple[dict[str, Any], ...] | list[dict[str, Any]]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(record["student"], record["assignment"]): record for record in records}


def verify_log(db_url: str, log_path: Path | str, *, busy_timeout: float = 30.0) -> LogCheck:
    """Check the last logged score of each (student, assignment) against the gradebook.

    Returns a :class:`LogCheck` listing every cell whose gradebook ``auto_score`` differs from the last log
    record (a manual grade does not count: it sits beside the auto score), every logged submission missing from
    the gradebook, and every autograded submission of a logged assignment that has no log record.
    """
    from nbgrader.api import Assignment, Grade, SubmittedAssignment, SubmittedNotebook

    from autograder.gradebook import open_gradebook

    contents = read_log(log_path)
    last = _last_by_submission(contents.records)
    engine = open_gradebook(db_url, write=False, busy_timeout=busy_timeout)
    try:
        with Session(engine) as session:
            mismatches = [problem for record in last.values() for problem in _differences(session, record)]
            assignments = {assignment for _, assignment in last}
            graded = session.execute(
                select(SubmittedAssignment.student_id, Assignment.name).distinct()
                .select_from(SubmittedAssignment)
                .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)
                .join(SubmittedNotebook, SubmittedNotebook.assignment_id == SubmittedAssignment.id)
                .join(Grade, Grade.notebook_id == SubmittedNotebook.id)
                .where(Assignment.name.in_(assignments), Grade.auto_score.is_not(None))
            ).all()
    finally:
        engine.dispose()
    unlogged = sorted(f"{student}/{assignment}: autograded in the gradebook, no log record"
                      for student, assignment in graded if (student, assignment) not in last)
    return LogCheck(len(last), tuple(mismatches), tuple(unlogged), contents.torn_lines)
