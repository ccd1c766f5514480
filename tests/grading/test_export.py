"""autograder.export: nbgrader export's CSV byte for byte (compared with the real ``nbgrader export``), and Canvas's."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from autograder.export import CANVAS_FIXED_COLUMNS, NBGRADER_COLUMNS, export_grades
from autograder.gradebook import GradebookError, GradeRecorder
from autograder.release import nbgrader

from tests.grading.postgres import postgres_server  # noqa: F401 - the fixture, for db_url's PostgreSQL side
from tests.grading.selftest import ASSIGNMENT
from tests.grading.test_gradebook import (  # noqa: F401 - fixtures
    NBGRADER_ADD_SUBMISSION_WARNS,
    NOTEBOOK,
    db_url,
    grade_manually,
    released_course,
    result_for,
    sqlite_url,
)


def populate(db_url: str, tmp_path: Path) -> None:
    """Students with and without names and submissions, a manual grade, a late penalty, a second assignment."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        gradebook.add_student("alice", first_name="Alice", last_name="Zed", email="alice@example.org", lms_user_id="1001")
        gradebook.add_student("carol", first_name="Carol", last_name="Adams")  # never submits
        gradebook.add_assignment("quiz", duedate=datetime(2025, 1, 31, 23, 59))
    with GradeRecorder(db_url, tmp_path / "log.jsonl") as recorder:
        recorder.record(result_for("alice", 2, 1, timestamp="2025-03-01 09:30:00.250000 UTC"))
        recorder.record(result_for("bob", 1, 0))
    grade_manually(db_url, "bob", "why_relu", 0.5)
    with Gradebook(db_url) as gradebook:
        gradebook.find_submission_notebook(NOTEBOOK, ASSIGNMENT, "alice").late_submission_penalty = 0.5
        gradebook.db.commit()


def nbgrader_export(db_url: str, course: Path, to: Path, *args: str) -> bytes:
    nbgrader("export", f"--db={db_url}", f"--to={to}", *args, course_dir=course)
    return to.read_bytes()


@NBGRADER_ADD_SUBMISSION_WARNS
def test_the_csv_is_nbgrader_exports_byte_for_byte(db_url, tmp_path, tmp_path_factory):
    populate(db_url, tmp_path)
    theirs = nbgrader_export(db_url, released_course(tmp_path_factory), tmp_path / "theirs.csv")
    ours = export_grades(db_url, tmp_path / "ours.csv").read_bytes()
    assert ours == theirs
    rows = list(csv.DictReader(ours.decode().splitlines()))
    assert tuple(rows[0]) == NBGRADER_COLUMNS and len(rows) == 2 * 3  # two assignments x three students
    alice = next(row for row in rows if row["student_id"] == "alice" and row["assignment"] == ASSIGNMENT)
    assert (alice["timestamp"], alice["raw_score"], alice["late_submission_penalty"], alice["score"]) == (
        "2025-03-01 09:30:00.250000", "3.0", "0.5", "2.5")
    bob = next(row for row in rows if row["student_id"] == "bob" and row["assignment"] == ASSIGNMENT)
    assert bob["raw_score"] == "1.5"  # 1 autograded + 0.5 by hand


def test_filters_match_nbgrader_exports_and_refuse_unknown_ids(sqlite_url, tmp_path, tmp_path_factory):
    populate(sqlite_url, tmp_path)
    theirs = nbgrader_export(sqlite_url, released_course(tmp_path_factory), tmp_path / "theirs.csv",
                             f"--assignment=['{ASSIGNMENT}']", "--student=['alice', 'carol']")
    ours = export_grades(sqlite_url, tmp_path / "ours.csv", assignments=[ASSIGNMENT], students=["alice", "carol"])
    assert ours.read_bytes() == theirs and len(theirs.splitlines()) == 3
    with pytest.raises(ValueError, match=r"export: student\(s\) \['mallory'\] are not in the gradebook; it has: "):
        export_grades(sqlite_url, tmp_path / "x.csv", students=["mallory"])
    assert not (tmp_path / "x.csv").exists()


def test_a_name_with_a_comma_is_quoted_where_nbgrader_breaks_the_row(sqlite_url, tmp_path):
    from nbgrader.api import Gradebook

    with Gradebook(sqlite_url) as gradebook:
        gradebook.add_student("dan", first_name="Dan", last_name="O'Brien, Jr.")
    path = export_grades(sqlite_url, tmp_path / "grades.csv", assignments=[ASSIGNMENT])
    assert '"O\'Brien, Jr."' in path.read_text()
    [row] = list(csv.DictReader(path.open()))
    assert (row["last_name"], row["score"], row["max_score"]) == ("O'Brien, Jr.", "0.0", "4.0")


@NBGRADER_ADD_SUBMISSION_WARNS
def test_the_canvas_csv_has_one_column_per_assignment_and_a_points_row(sqlite_url, tmp_path):
    populate(sqlite_url, tmp_path)
    path = export_grades(sqlite_url, tmp_path / "canvas.csv", format="canvas", canvas_ids={ASSIGNMENT: 4711})
    table = list(csv.reader(path.open()))
    assert table == [
        [*CANVAS_FIXED_COLUMNS, f"{ASSIGNMENT} (4711)", "quiz"],  # nbgrader's order: due date (none first), name
        ["    Points Possible", "", "", "", "", "4", "0"],
        ["bob", "", "bob", "", "", "1.5", ""],  # no name in the gradebook: the id
        ["Adams, Carol", "", "carol", "", "", "", ""],  # no submission: blank, which leaves Canvas as it is
        ["Zed, Alice", "1001", "alice", "", "", "2.5", ""],  # lms_user_id is Canvas's ID; the late penalty applies
    ]
    with pytest.raises(ValueError, match=r"canvas_ids names assignments \['conv'\] that are not exported"):
        export_grades(sqlite_url, tmp_path / "c.csv", format="canvas", canvas_ids={"conv": 1})
    with pytest.raises(ValueError, match=r"format must be 'nbgrader' or 'canvas'. Received: format='xlsx'"):
        export_grades(sqlite_url, tmp_path / "c.csv", format="xlsx")  # type: ignore[arg-type]


def test_no_gradebook_is_an_error_and_no_file_is_written(tmp_path):
    with pytest.raises(GradebookError, match=r"no gradebook at sqlite:///.*missing.db: run `autograder release <id>`"):
        export_grades(f"sqlite:///{tmp_path / 'missing.db'}", tmp_path / "grades.csv")
    assert sorted(tmp_path.iterdir()) == []
