"""``autograder export [--db URL] [--to FILE] [--format nbgrader|canvas]``: the gradebook as a CSV.

``--format nbgrader`` (the default) writes exactly what ``nbgrader export`` writes: the same eleven columns in the
same order (``assignment, duedate, timestamp, student_id, last_name, first_name, email, raw_score,
late_submission_penalty, score, max_score``), one row per assignment and student in nbgrader's order
(assignments by due date then name, students by last then first name), the same values (``str()`` of each,
``''`` for none; a student without a submission gets ``0.0``; ``score = max(0, raw_score - penalty)``), ``\\n``
line ends. One deliberate difference: a field holding a comma, a quote or a newline (``"O'Brien, Jr."``) is
quoted as RFC 4180 says, where nbgrader writes it bare and breaks the row.

``--format canvas`` writes what Canvas's gradebook import reads (Grades > Import), in the layout of Canvas's own
gradebook export: ``Student, ID, SIS User ID, SIS Login ID, Section`` then one column per assignment, headed
``<assignment> (<Canvas assignment id>)``, and a second row ``Points Possible`` with each assignment's points.
Canvas matches each row to a student by ``ID`` (its numeric user id: nbgrader keeps it as the student's
``lms_user_id``), else ``SIS User ID`` (here nbgrader's student id, usually the university login), else
``SIS Login ID``; ``Student`` (``Last, First``) and ``Section`` are only shown. A column whose heading carries a
Canvas assignment id updates that assignment; one without an id makes Canvas create a new assignment of that
name. A blank cell (no submission) changes nothing in Canvas; a number overwrites the grade there. The points
are nbgrader's ``score`` (after any late penalty), manual grades included.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

from sqlalchemy.orm import Session

from autograder.gradebook import open_gradebook

__all__ = ["CANVAS_FIXED_COLUMNS", "NBGRADER_COLUMNS", "canvas_rows", "export_grades", "nbgrader_rows"]

NBGRADER_COLUMNS: tuple[str, ...] = (
    "assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email",
    "raw_score", "late_submission_penalty", "score", "max_score",
)
CANVAS_FIXED_COLUMNS: tuple[str, ...] = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
CANVAS_POINTS_ROW = "    Points Possible"  # as Canvas writes it in its own export


def _selected(session: Session, assignments: Sequence[str], students: Sequence[str]) -> tuple[list[Any], list[Any]]:
    """nbgrader export's assignments and students, in its order; an unknown id in a filter is an error."""
    from nbgrader.api import Assignment, Student

    all_assignments = session.query(Assignment).order_by(Assignment.duedate, Assignment.name).all()
    all_students = session.query(Student).order_by(Student.last_name, Student.first_name).all()
    for kind, wanted, known in (("assignment", assignments, [a.name for a in all_assignments]),
                                ("student", students, [s.id for s in all_students])):
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            raise ValueError(f"export: {kind}(s) {unknown} are not in the gradebook; it has: {', '.join(known) or 'none'}")
    return ([a for a in all_assignments if not assignments or a.name in assignments],
            [s for s in all_students if not students or s.id in students])


def _submission(session: Session, assignment: str, student: str) -> Any | None:
    """``Gradebook.find_submission``'s query (nbgrader's Gradebook itself would create tables and a course row)."""
    from nbgrader.api import Assignment, Student, SubmittedAssignment

    return session.query(SubmittedAssignment)\
        .join(Assignment, Assignment.id == SubmittedAssignment.assignment_id)\
        .join(Student, Student.id == SubmittedAssignment.student_id)\
        .filter(Assignment.name == assignment, Student.id == student)\
        .one_or_none()


def _text(value: Any) -> str:
    return "" if value is None else value if isinstance(value, str) else str(value)


def nbgrader_rows(db_url: str, *, assignments: Sequence[str] = (), students: Sequence[str] = ()) -> list[dict[str, str]]:
    """The rows ``nbgrader export`` writes, as strings keyed by :data:`NBGRADER_COLUMNS`."""
    engine = open_gradebook(db_url)
    rows = []
    try:
        with Session(engine) as session:
            chosen_assignments, chosen_students = _selected(session, assignments, students)
            for assignment in chosen_assignments:
                for student in chosen_students:
                    row: dict[str, Any] = {
                        "assignment": assignment.name, "duedate": assignment.duedate, "student_id": student.id,
                        "last_name": student.last_name, "first_name": student.first_name, "email": student.email,
                        "max_score": assignment.max_score,
                    }
                    submission = _submission(session, assignment.name, student.id)
                    if submission is None:
                        row.update(timestamp="", raw_score=0.0, late_submission_penalty=0.0, score=0.0)
                    else:
                        penalty = submission.late_submission_penalty
                        row.update(timestamp=submission.timestamp, raw_score=submission.score,
                                   late_submission_penalty=penalty, score=max(0.0, submission.score - penalty))
                    rows.append({key: _text(row[key]) for key in NBGRADER_COLUMNS})
    finally:
        engine.dispose()
    return rows


def _points(value: float) -> str:
    return format(value, ".15g")


def canvas_rows(db_url: str, *, assignments: Sequence[str] = (), students: Sequence[str] = (),
                canvas_ids: Mapping[str, str | int] | None = None) -> list[list[str]]:
    """The Canvas import table (module docstring): header, ``Points Possible`` row, one row per student.

    ``canvas_ids`` maps an nbgrader assignment id to its Canvas assignment id (the number in the assignment's
    Canvas URL); assignments without one are headed by their name alone.
    """
    canvas_ids = dict(canvas_ids or {})
    engine = open_gradebook(db_url)
    try:
        with Session(engine) as session:
            chosen_assignments, chosen_students = _selected(session, assignments, students)
            unknown = sorted(set(canvas_ids) - {a.name for a in chosen_assignments})
            if unknown:
                raise ValueError(f"export: canvas_ids names assignments {unknown} that are not exported")
            header = [*CANVAS_FIXED_COLUMNS, *(
                f"{a.name} ({canvas_ids[a.name]})" if a.name in canvas_ids else a.name for a in chosen_assignments)]
            table = [header, [CANVAS_POINTS_ROW, "", "", "", "", *(_points(a.max_score) for a in chosen_assignments)]]
            for student in chosen_students:
                name = ", ".join(part for part in (student.last_name, student.first_name) if part) or student.id
                row = [name, _text(student.lms_user_id), student.id, "", ""]
                for assignment in chosen_assignments:
                    submission = _submission(session, assignment.name, student.id)
                    row.append("" if submission is None else
                               _points(max(0.0, submission.score - submission.late_submission_penalty)))
                table.append(row)
    finally:
        engine.dispose()
    return table


def export_grades(db_url: str, to: Path | str | None = None, *, format: Literal["nbgrader", "canvas"] = "nbgrader",
                  assignments: Sequence[str] = (), students: Sequence[str] = (),
                  canvas_ids: Mapping[str, str | int] | None = None) -> Path:
    """Write the CSV and return its path.

    Parameters
    ----------
    db_url : str
        SQLAlchemy URL of the gradebook (``autograder.gradebook.default_db_url()`` for the course's).
    to : Path or str, optional
        Destination; ``grades.csv`` (``grades-canvas.csv`` for Canvas) in the working directory by default, as
        nbgrader does. Written to a temporary file first and renamed: never left half written.
    format : {"nbgrader", "canvas"}
        See the module docstring.
    assignments, students : sequence of str
        Only these (nbgrader export's ``--assignment`` / ``--student``); all when empty.
    canvas_ids : mapping, optional
        nbgrader assignment id -> Canvas assignment id, for ``format="canvas"``.

    Raises
    ------
    ValueError
        For an unknown format, or a filter naming what the gradebook does not hold.
    autograder.gradebook.GradebookError
        If there is no gradebook at ``db_url`` (none is created).
    """
    if format == "nbgrader":
        if canvas_ids:
            raise ValueError("export: canvas_ids only applies to format='canvas'")
        table = [list(NBGRADER_COLUMNS)] + [[row[key] for key in NBGRADER_COLUMNS]
                                            for row in nbgrader_rows(db_url, assignments=assignments, students=students)]
    elif format == "canvas":
        table = canvas_rows(db_url, assignments=assignments, students=students, canvas_ids=canvas_ids)
    else:
        raise ValueError(f"export: format must be 'nbgrader' or 'canvas'. Received: format={format!r}")
    destination = Path(to) if to is not None else Path("grades.csv" if format == "nbgrader" else "grades-canvas.csv")
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerows(table)
    destination.parent.mkdir(parents=True, exist_ok=True)
    temporary = destination.with_name(f".{destination.name}.{os.getpid()}.tmp")
    try:
        with open(temporary, "w", encoding="utf-8", newline="") as handle:
            handle.write(buffer.getvalue())
        os.replace(temporary, destination)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return destination
