"""`autograder grade` end to end on the self-test course: hostile submissions, gradebook, feedback, Dask, reruns.

One batch grades the reference, the blank release, a mutant, and hostile or broken submissions with two local
workers in sandboxes; the tests then read nbgrader's gradebook, the log, the feedback pages and the export. A
Dask LocalCluster of two worker processes grades the same submissions to the same scores.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from autograder.export import export_grades
from autograder.grade import grade_all
from autograder.bundle import assignment_seed
from autograder.gradebook import default_db_url, default_log_path, read_log, verify_log
from autograder.grading import GradingOptions
from autograder.mutants import mutants_of
from autograder.release import release
from autograder.sandbox import Limits
from autograder.verify import _answer_sources, _submit

from tests.grading.postgres import postgres_server  # noqa: F401 - the fixture
from tests.grading.selftest import ASSIGNMENT, course_copy

OPTIONS = GradingOptions(limits=Limits(wall_seconds=5))
EXPECTED = {
    "reference": 3, "blank": 0, "mutant-abs": 1, "looper": 1, "exiter": 2, "broken": 0, "tampered": 3,
    "liar": 1, "patcher": 1,
}


def _make_course(tmp: Path) -> Path:
    course = course_copy(tmp)
    release(ASSIGNMENT, course, validate=False)
    reference = _answer_sources(ASSIGNMENT, course, None)
    _submit(course, ASSIGNMENT, "reference", reference)
    _submit(course, ASSIGNMENT, "blank", None)
    _submit(course, ASSIGNMENT, "mutant-abs", _answer_sources(ASSIGNMENT, course, mutants_of(ASSIGNMENT)[0]))
    _submit(course, ASSIGNMENT, "looper", {**reference, "relu": "def relu(x):\n    while True:\n        pass\n"})
    _submit(course, ASSIGNMENT, "exiter", {**reference, "leaky_relu": "import os\nos._exit(3)\n"})
    liar = "class Liar:\n    def __eq__(self, other):\n        return True\n\ndef relu(x):\n    return Liar()\n"
    _submit(course, ASSIGNMENT, "liar", {**reference, "relu": liar})
    patch = ("import numpy as np\nnp.allclose = lambda *a, **k: True\nnp.testing.assert_allclose = lambda *a, **k: None\n"
             "def relu(x):\n    return x\n")
    _submit(course, ASSIGNMENT, "patcher", {**reference, "relu": patch})
    _submit(course, ASSIGNMENT, "tampered", reference)
    path = course / "submitted" / "tampered" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = json.loads(path.read_text())
    for cell in notebook["cells"]:
        if cell["metadata"].get("nbgrader", {}).get("grade_id") == "test_relu":
            cell["source"] = "pass  # all good"
            cell["metadata"]["nbgrader"]["points"] = 100
    path.write_text(json.dumps(notebook))
    broken = course / "submitted" / "broken" / ASSIGNMENT
    broken.mkdir(parents=True)
    (broken / f"{ASSIGNMENT}.ipynb").write_text('{"cells": [')
    return course


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = _make_course(tmp_path_factory.mktemp("grade"))
    report = grade_all(ASSIGNMENT, course_dir=course, workers=2, options=OPTIONS, progress=False)
    return course, report


@pytest.mark.slow
def test_every_submission_gets_the_score_it_deserves(graded):
    course, report = graded
    assert report.failed == {}
    assert {sub.student: sub.score for sub in report.graded} == EXPECTED
    by = {sub.student: sub for sub in report.graded}
    assert "did not finish within" in by["looper"].cells["test_relu"].message
    assert any("exited with status 3" in note for note in by["exiter"].notes)
    assert "not valid JSON" in by["broken"].cells["test_relu"].message
    assert any("test_relu was edited" in note for note in by["tampered"].notes)
    assert "returned a " in by["liar"].cells["test_relu"].message
    assert all(sub.sandboxed for sub in report.graded)


@pytest.mark.slow
def test_scores_are_in_nbgraders_gradebook_and_export(graded, tmp_path):
    course, _ = graded
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course)) as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    assert scores == EXPECTED
    rows = export_grades(default_db_url(course), tmp_path / "grades.csv").read_text().splitlines()
    assert len(rows) == 1 + len(EXPECTED)
    log = default_log_path(default_db_url(course), course)
    check = verify_log(default_db_url(course), log)
    assert check.ok, check.render()
    assert {record["seed"] for record in read_log(log).records} == {assignment_seed(ASSIGNMENT)}


@pytest.mark.slow
def test_feedback_pages_explain_and_never_quote_hidden_tests(graded):
    course, _ = graded
    pages = {path.parts[-3]: path.read_text() for path in (course / "feedback").glob(f"*/{ASSIGNMENT}/*.html")}
    assert set(pages) == set(EXPECTED)
    assert "relu(x): 1 of" in pages["mutant-abs"] and "Hint:" not in pages["reference"]
    assert "test cell test_relu was edited; the instructor&#x27;s version is used" in pages["tampered"]
    for page in pages.values():
        assert "run_hidden" not in page and "BEGIN HIDDEN" not in page and "draw_cases" not in page
    assert (course / "autograded" / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()


@pytest.mark.slow
def test_only_new_regrades_just_what_changed(graded):
    course, _ = graded
    report = grade_all(ASSIGNMENT, course_dir=course, workers=2, options=OPTIONS, only_new=True, progress=False)
    assert report.graded == [] and sorted(report.skipped) == sorted(EXPECTED)
    _submit_again = course / "submitted" / "blank" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"
    notebook = json.loads(_submit_again.read_text())
    notebook["metadata"]["changed"] = True
    _submit_again.write_text(json.dumps(notebook))
    report = grade_all(ASSIGNMENT, course_dir=course, workers=2, options=OPTIONS, only_new=True, progress=False)
    assert [sub.student for sub in report.graded] == ["blank"] and len(report.skipped) == len(EXPECTED) - 1


@pytest.mark.slow
def test_a_dask_cluster_grades_to_the_same_scores(tmp_path):
    from distributed import LocalCluster

    course = _make_course(tmp_path)
    students = ["reference", "blank", "mutant-abs", "exiter", "tampered"]
    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        report = grade_all(
            ASSIGNMENT, course_dir=course, scheduler=cluster.scheduler_address, options=OPTIONS, progress=False,
            students=students,
        )
    assert report.failed == {}
    assert {sub.student: sub.score for sub in report.graded} == {student: EXPECTED[student] for student in students}


@pytest.mark.slow
def test_without_a_sandbox_every_report_says_so(tmp_path):
    course = _make_course(tmp_path)
    options = GradingOptions(limits=Limits(wall_seconds=5), unsafe_no_sandbox=True)
    report = grade_all(ASSIGNMENT, course_dir=course, workers=1, options=options, progress=False, students=["reference"])
    (graded,) = report.graded
    assert not graded.sandboxed and graded.score == 3
    assert "graded without a sandbox" in report.render().lower()
    page = (course / "feedback" / "reference" / ASSIGNMENT / f"{ASSIGNMENT}.html").read_text()
    assert "graded WITHOUT a sandbox" in page
    (record,) = [r for r in read_log(default_log_path(default_db_url(course), course)).records]
    assert "unsafe-no-sandbox" in record["flags"]


@pytest.mark.slow
def test_kill_9_mid_run_then_rerun_loses_and_duplicates_nothing(tmp_path):
    course = _make_course(tmp_path)
    log = default_log_path(default_db_url(course), course)
    script = (
        "from pathlib import Path\nfrom autograder.grade import grade_all\nfrom autograder.grading import GradingOptions\n"
        "from autograder.sandbox import Limits\n"
        f"grade_all({ASSIGNMENT!r}, course_dir=Path({str(course)!r}), workers=1, progress=False,\n"
        "          options=GradingOptions(limits=Limits(wall_seconds=5)))\n"
    )
    process = subprocess.Popen([sys.executable, "-c", script], start_new_session=True)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and process.poll() is None:
        if log.exists() and len(read_log(log).records) >= 2:
            break
        time.sleep(0.2)
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    recorded_before = len(read_log(log).records)
    assert 2 <= recorded_before < len(EXPECTED), "the kill should land mid-run"
    report = grade_all(ASSIGNMENT, course_dir=course, workers=2, options=OPTIONS, only_new=True, progress=False)
    assert len(report.graded) + len(report.skipped) == len(EXPECTED)
    from nbgrader.api import Gradebook

    with Gradebook(default_db_url(course)) as gradebook:
        submissions = gradebook.assignment_submissions(ASSIGNMENT)
        assert sorted(s.student.id for s in submissions) == sorted(EXPECTED)
        assert {s.student.id: s.score for s in submissions} == EXPECTED
    assert verify_log(default_db_url(course), log).ok


@pytest.mark.slow
def test_grading_into_a_postgresql_gradebook(postgres_server, tmp_path):  # noqa: F811 - the fixture
    from nbgrader.api import Gradebook

    from autograder.release import nbgrader

    course = _make_course(tmp_path)
    url = postgres_server.create_database("grade_end_to_end")
    nbgrader("generate_assignment", ASSIGNMENT, "--force", f"--CourseDirectory.db_url={url}", course_dir=course)
    students = ["reference", "blank", "mutant-abs", "tampered"]
    report = grade_all(ASSIGNMENT, course_dir=course, db_url=url, workers=2, options=OPTIONS, progress=False,
                       students=students)
    assert report.failed == {}
    with Gradebook(url) as gradebook:
        scores = {s.student.id: s.score for s in gradebook.assignment_submissions(ASSIGNMENT)}
    assert scores == {student: EXPECTED[student] for student in students}
