"""autograder.gradebook against nbgrader's real gradebook, on SQLite and on a real PostgreSQL server.

The gradebook comes from ``nbgrader generate_assignment`` of the self-test course (``autograder release`` for
SQLite; the same with ``--CourseDirectory.db_url`` for PostgreSQL), made once per session and copied per test.
Manual grades are entered as formgrader enters them, through ``nbgrader.api.Gradebook``.
"""

from __future__ import annotations

import hashlib
import multiprocessing
import random
import shutil
import threading
import time
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa

from autograder.course import build_source
from autograder.gradebook import (
    CellScore,
    GradebookError,
    GradeRecorder,
    SubmissionResult,
    read_log,
    verify_log,
)
from autograder.release import nbgrader, release

from tests.grading.postgres import PostgresServer, postgres_server  # noqa: F401 - the fixture
from tests.grading.selftest import ASSIGNMENT, course_copy

NOTEBOOK = ASSIGNMENT  # the self-test assignment has one notebook, named like it
PG_TEMPLATE = "selftest_template"
_CACHE: dict[str, object] = {}  # shared by the modules that import these fixtures: one release per session
# nbgrader's own Gradebook.add_submission warns under SQLAlchemy 2 (it builds objects before adding them).
NBGRADER_ADD_SUBMISSION_WARNS = pytest.mark.filterwarnings("ignore:Object of type:sqlalchemy.exc.SAWarning")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def result_for(student: str, relu: float = 2.0, leaky: float = 1.0, *, submission: str = "v1",
               bundle: str = "b1", seed: int = 0, flags: tuple[str, ...] = (), timestamp: str | None = None,
               why: float | None = None) -> SubmissionResult:
    """A result for the self-test notebook: test_relu (2 points), test_leaky_relu (1), why_relu (written, 1)."""
    return SubmissionResult(
        ASSIGNMENT, student,
        {NOTEBOOK: {
            "test_relu": CellScore(relu, 2.0, "relu ok" if relu == 2 else "relu([-1, 0, 2.5]): expected [0, 0, 2.5]"),
            "test_leaky_relu": CellScore(leaky, 1.0),
            "why_relu": CellScore(why, 1.0),
        }},
        sha(f"{student}:{submission}"), sha(bundle), seed, "0.1.0", flags, timestamp,
    )


def expected_for(index: int) -> tuple[float, float]:
    """The (relu, leaky) scores student ``index`` earns in the multi-process tests."""
    return float(index % 3), float(index % 2)


def many_result(index: int) -> SubmissionResult:
    return result_for(f"s{index:03d}", *expected_for(index))


# -- gradebooks ----------------------------------------------------------------------------------------------


def released_course(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The self-test course after ``autograder release`` (its gradebook.db stays pristine: tests copy it)."""
    if "course" not in _CACHE:
        course = course_copy(tmp_path_factory.mktemp("released"))
        release(ASSIGNMENT, course, validate=False)
        _CACHE["course"] = course
    return _CACHE["course"]  # type: ignore[return-value]


def pg_template(server: PostgresServer, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A PostgreSQL database that ``nbgrader generate_assignment`` filled; tests clone it (CREATE ... TEMPLATE)."""
    key = f"pg:{server.port}"
    if key not in _CACHE:
        url = server.create_database(PG_TEMPLATE)
        course = course_copy(tmp_path_factory.mktemp("released-pg"))
        build_source(ASSIGNMENT, course)
        nbgrader("generate_assignment", ASSIGNMENT, "--force", f"--CourseDirectory.db_url={url}", course_dir=course)
        _CACHE[key] = url
    return _CACHE[key]  # type: ignore[return-value]


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """A fresh gradebook holding the released self-test assignment and nobody's submission."""
    if request.param == "sqlite":
        target = tmp_path / "gradebook.db"
        shutil.copy(released_course(tmp_path_factory) / "gradebook.db", target)
        return f"sqlite:///{target}"
    server: PostgresServer = request.getfixturevalue("postgres_server")
    pg_template(server, tmp_path_factory)
    return server.create_database(f"t_{uuid.uuid4().hex[:16]}", template=PG_TEMPLATE)


@pytest.fixture
def sqlite_url(tmp_path: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    target = tmp_path / "gradebook.db"
    shutil.copy(released_course(tmp_path_factory) / "gradebook.db", target)
    return f"sqlite:///{target}"


def snapshot(db_url: str) -> dict[str, list[tuple[str, ...]]]:
    """Every row of every nbgrader table, to compare two states of a gradebook."""
    from nbgrader.api import Base

    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return {table.name: sorted(tuple(map(repr, row)) for row in connection.execute(sa.select(table)))
                    for table in Base.metadata.sorted_tables}
    finally:
        engine.dispose()


def grades_of(db_url: str, student: str) -> dict[str, tuple[float | None, float | None, bool]]:
    """grade_id -> (auto_score, manual_score, needs_manual_grade), read through nbgrader's own API."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        submission = gradebook.find_submission(ASSIGNMENT, student)
        return {grade.name: (grade.auto_score, grade.manual_score, grade.needs_manual_grade)
                for notebook in submission.notebooks for grade in notebook.grades}


def score_of(db_url: str, student: str) -> float:
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        return float(gradebook.find_submission(ASSIGNMENT, student).score)


def grade_manually(db_url: str, student: str, grade_id: str, score: float) -> None:
    """What formgrader's PUT /api/grade does."""
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        grade = gradebook.find_grade(grade_id, NOTEBOOK, ASSIGNMENT, student)
        grade.manual_score = score
        grade.needs_manual_grade = False
        gradebook.db.commit()


def submissions_per_student(db_url: str) -> dict[str, int]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(sa.text(
                "SELECT student_id, count(*) FROM submitted_assignment GROUP BY student_id")).all()
        return {student: count for student, count in rows}
    finally:
        engine.dispose()


# -- what a recorded result looks like --------------------------------------------------------------------------


@NBGRADER_ADD_SUBMISSION_WARNS
def test_a_result_creates_the_student_and_the_submission_nbgrader_reads(db_url, tmp_path):
    log = tmp_path / "log.jsonl"
    with GradeRecorder(db_url, log) as recorder:
        outcome = recorder.record(result_for("alice", 2, 0, timestamp="2025-03-01 09:30:00 UTC"))
    assert outcome.changed and outcome.attempts == 1 and outcome.manual_kept == ()
    assert grades_of(db_url, "alice") == {
        "test_relu": (2.0, None, False), "test_leaky_relu": (0.0, None, False), "why_relu": (None, None, True),
    }
    from nbgrader.api import Gradebook

    with Gradebook(db_url) as gradebook:
        ours = gradebook.find_submission(ASSIGNMENT, "alice")
        assert (ours.score, ours.max_score, str(ours.timestamp)) == (2.0, 4.0, "2025-03-01 09:30:00")
        assert ours.needs_manual_grade  # the written answer waits for a person
        theirs = gradebook.add_submission(ASSIGNMENT, gradebook.add_student("bob").id)
        shape = lambda sub: [(nb.name, sorted(g.name for g in nb.grades), sorted(c.name for c in nb.comments))
                             for nb in sub.notebooks]
        assert shape(ours) == shape(theirs)  # the structure nbgrader's add_submission builds
    [line] = read_log(log).records
    assert line["student"] == "alice" and line["score"] == 2.0 and line["seed"] == 0
    assert line["notebooks"][NOTEBOOK]["test_relu"] == {"auto_score": 2, "max_score": 2.0, "message": "relu ok"}
    assert line["submission_sha256"] == sha("alice:v1") and line["bundle_sha256"] == sha("b1")
    assert line["timestamp"] == "2025-03-01T09:30:00" and line["grader_version"] == "0.1.0"


def test_a_manual_grade_is_never_overwritten_by_a_regrade(db_url, tmp_path):
    with GradeRecorder(db_url, tmp_path / "log.jsonl") as recorder:
        recorder.record(result_for("alice", 2, 0))
        grade_manually(db_url, "alice", "test_leaky_relu", 0.5)  # the instructor gives partial credit
        grade_manually(db_url, "alice", "why_relu", 1.0)
        same = recorder.record(result_for("alice", 2, 0))
        assert not same.changed and set(same.manual_kept) == {f"{NOTEBOOK}/test_leaky_relu", f"{NOTEBOOK}/why_relu"}
        assert grades_of(db_url, "alice")["test_leaky_relu"] == (0.0, 0.5, False)  # still graded, not flagged
        changed = recorder.record(result_for("alice", 2, 1, submission="v2"))
    assert changed.changed
    grades = grades_of(db_url, "alice")
    assert grades["test_leaky_relu"] == (1.0, 0.5, True)  # the manual grade stands, flagged for a second look
    assert grades["why_relu"] == (None, 1.0, False)
    assert score_of(db_url, "alice") == 2 + 0.5 + 1


def test_recording_the_same_result_twice_leaves_the_same_gradebook(db_url, tmp_path):
    with GradeRecorder(db_url, tmp_path / "log.jsonl") as recorder:
        recorder.record(result_for("alice", 1, 1, timestamp="2025-03-01 09:30:00 UTC"))
        first = snapshot(db_url)
        again = recorder.record(result_for("alice", 1, 1, timestamp="2025-03-01 09:30:00 UTC"))
        assert not again.changed and snapshot(db_url) == first
        recorder.record(result_for("alice", 0, 0, submission="v2"))
        assert snapshot(db_url) != first
        recorder.record(result_for("alice", 1, 1, timestamp="2025-03-01 09:30:00 UTC"))
    assert snapshot(db_url) == first  # a regrade back to the same result is the same gradebook, row for row
    assert len(read_log(tmp_path / "log.jsonl").records) == 4  # the log keeps the history


@pytest.mark.parametrize("change, message", [
    (lambda r: {**r, "assignment": "conv"}, r"assignment 'conv' is not in the gradebook .*autograder release conv"),
    (lambda r: {**r, "notebooks": {"other": r["notebooks"][NOTEBOOK]}},
     r"notebooks \['other'\], the gradebook \['_selftest'\]"),
    (lambda r: {**r, "notebooks": {NOTEBOOK: {k: v for k, v in r["notebooks"][NOTEBOOK].items() if k != "why_relu"}}},
     r"not in the result: \['why_relu'\].*auto_score=None for a written answer"),
    (lambda r: {**r, "notebooks": {NOTEBOOK: {**r["notebooks"][NOTEBOOK], "test_extra": CellScore(1, 1)}}},
     r"not in the gradebook: \['test_extra'\]"),
    (lambda r: {**r, "notebooks": {NOTEBOOK: {**r["notebooks"][NOTEBOOK], "test_relu": CellScore(3, 3)}}},
     r"'test_relu' is worth 2 point\(s\) in the gradebook but 3 in the result.*re-release"),
], ids=["unknown-assignment", "unknown-notebook", "missing-cell", "unknown-cell", "other-points"])
def test_a_result_that_does_not_fit_the_gradebook_is_refused_and_writes_nothing(sqlite_url, tmp_path, change, message):
    good = result_for("alice")
    fields = {name: getattr(good, name) for name in good.__dataclass_fields__}
    bad = SubmissionResult(**change(fields))
    before = snapshot(sqlite_url)
    with GradeRecorder(sqlite_url, tmp_path / "log.jsonl") as recorder, pytest.raises(GradebookError, match=message):
        recorder.record(bad)
    assert snapshot(sqlite_url) == before and not (tmp_path / "log.jsonl").read_bytes()


def test_results_are_validated_when_made():
    with pytest.raises(ValueError, match=r"auto_score must be None or a number in \[0, max_score=2\]\. Received: auto_score=3"):
        CellScore(3, 2)
    with pytest.raises(ValueError, match=r"max_score must be a finite number >= 0. Received: max_score=nan"):
        CellScore(0, float("nan"))
    with pytest.raises(ValueError, match=r"submission_sha256 must be 64 lowercase hex digits .*submission_sha256='abc'"):
        SubmissionResult(ASSIGNMENT, "alice", {NOTEBOOK: {}}, "abc", sha("b"), 0, "0.1.0")
    with pytest.raises(TypeError, match=r"seed must be an int. Received: seed=True"):
        SubmissionResult(ASSIGNMENT, "alice", {NOTEBOOK: {}}, sha("a"), sha("b"), True, "0.1.0")
    with pytest.raises(TypeError, match=r"flags must be a tuple of str. Received: flags='tampering'"):
        SubmissionResult(ASSIGNMENT, "alice", {NOTEBOOK: {}}, sha("a"), sha("b"), 0, "0.1.0", "tampering")
    with pytest.raises(ValueError, match=r"student must be a non-empty str"):
        SubmissionResult(ASSIGNMENT, "", {NOTEBOOK: {}}, sha("a"), sha("b"), 0, "0.1.0")


def test_no_gradebook_is_an_error_and_none_is_created(tmp_path):
    missing = tmp_path / "typo.db"
    with pytest.raises(GradebookError, match=r"no gradebook at sqlite:///.*typo.db: run `autograder release <id>`"):
        GradeRecorder(f"sqlite:///{missing}")
    assert not missing.exists()
    empty = tmp_path / "empty.db"
    empty.touch()  # an empty file is an empty SQLite database
    with pytest.raises(GradebookError, match=r"holds no nbgrader gradebook .*generate_assignment"):
        GradeRecorder(f"sqlite:///{empty}")


# -- the log ----------------------------------------------------------------------------------------------------


def test_the_log_survives_a_torn_last_line_and_the_next_writer_closes_it(sqlite_url, tmp_path):
    log = tmp_path / "log.jsonl"
    with GradeRecorder(sqlite_url, log) as recorder:
        recorder.record(result_for("alice"))
        with open(log, "ab") as handle:
            handle.write(b'{"v":1,"student":"bob","assig')  # what kill -9 in the middle of a write leaves
        contents = read_log(log)
        assert [r["student"] for r in contents.records] == ["alice"] and contents.torn_lines == 0
        assert recorder.already_graded("alice", ASSIGNMENT, sha("alice:v1"), sha("b1"))
        recorder.record(result_for("bob"))
        assert recorder.already_graded("bob", ASSIGNMENT, sha("bob:v1"), sha("b1"))
    lines = log.read_bytes().split(b"\n")
    assert lines[1] == b'{"v":1,"student":"bob","assig' and lines[2].startswith(b'{"assignment"') and lines[3] == b""
    contents = read_log(log)
    assert [r["student"] for r in contents.records] == ["alice", "bob"] and contents.torn_lines == 1
    assert verify_log(sqlite_url, log).ok


@NBGRADER_ADD_SUBMISSION_WARNS
def test_verify_log_finds_a_score_changed_behind_its_back(db_url, tmp_path):
    log = tmp_path / "log.jsonl"
    with GradeRecorder(db_url, log) as recorder:
        recorder.record(result_for("alice", 2, 1))
        recorder.record(result_for("bob", 2, 1))
        grade_manually(db_url, "alice", "test_relu", 0)  # a manual grade sits beside the logged auto score
        check = verify_log(db_url, log)
        assert check.ok and check.checked == 2, check.render()

        engine = sa.create_engine(db_url)
        with engine.begin() as connection:  # someone edits bob's auto score directly in the database
            connection.execute(sa.text(
                "UPDATE grade SET auto_score = 0 WHERE id IN (SELECT g.id FROM grade g "
                "JOIN base_cell c ON c.id = g.cell_id JOIN submitted_notebook n ON n.id = g.notebook_id "
                "JOIN submitted_assignment s ON s.id = n.assignment_id "
                "WHERE s.student_id = 'bob' AND c.name = 'test_relu')"))
        engine.dispose()
        from nbgrader.api import Gradebook

        with Gradebook(db_url) as gradebook:  # and carol is graded by plain `nbgrader autograde`
            gradebook.add_student("carol")
            gradebook.add_submission(ASSIGNMENT, "carol")
            gradebook.find_grade("test_relu", NOTEBOOK, ASSIGNMENT, "carol").auto_score = 2.0
            gradebook.db.commit()
        check = verify_log(db_url, log)
        assert not check.ok
        assert check.mismatches == (
            f"bob/{ASSIGNMENT}/{NOTEBOOK}/test_relu: logged auto_score 2.0 (at "
            + read_log(log).records[1]["recorded_at"] + ") but the gradebook holds 0.0",
        )
        assert check.unlogged == (f"carol/{ASSIGNMENT}: autograded in the gradebook, no log record",)
        assert "MISMATCH: bob/" in check.render()
        assert not recorder.already_graded("bob", ASSIGNMENT, sha("bob:v1"), sha("b1"))
        recorder.record(result_for("bob", 2, 1))  # a regrade puts it back, and shows it matches
        recorder.record(result_for("carol", 2, 0))
    assert verify_log(db_url, log).ok


def test_already_graded_needs_both_hashes_and_a_gradebook_that_agrees(db_url, tmp_path):
    log = tmp_path / "log.jsonl"
    with GradeRecorder(db_url, log) as recorder:
        assert not recorder.already_graded("alice", ASSIGNMENT, sha("alice:v1"), sha("b1"))
        recorder.record(result_for("alice"))
        assert recorder.already_graded("alice", ASSIGNMENT, sha("alice:v1"), sha("b1"))
        assert not recorder.already_graded("alice", ASSIGNMENT, sha("alice:v2"), sha("b1"))  # resubmitted
        assert not recorder.already_graded("alice", ASSIGNMENT, sha("alice:v1"), sha("b2"))  # tests changed
        assert not recorder.already_graded("bob", ASSIGNMENT, sha("alice:v1"), sha("b1"))
    with GradeRecorder(db_url, log) as fresh:  # a later run reads it back from the log
        assert fresh.already_graded("alice", ASSIGNMENT, sha("alice:v1"), sha("b1"))


# -- concurrency and kill -9 ------------------------------------------------------------------------------------


def _record_many(db_url: str, log: str, indices: list[int], only_new: bool = False) -> int:
    """A writer process: record ``many_result(i)`` for each index; return how many attempts it took in all."""
    attempts = 0
    with GradeRecorder(db_url, log) as recorder:
        for index in indices:
            result = many_result(index)
            if only_new and recorder.already_graded(result.student, result.assignment,
                                                    result.submission_sha256, result.bundle_sha256):
                continue
            attempts += recorder.record(result).attempts
    return attempts


def _check_many(db_url: str, logs: list[Path], count: int) -> None:
    assert submissions_per_student(db_url) == {f"s{i:03d}": 1 for i in range(count)}
    for index in range(count):
        relu, leaky = expected_for(index)
        grades = grades_of(db_url, f"s{index:03d}")
        assert (grades["test_relu"][0], grades["test_leaky_relu"][0]) == (relu, leaky), index
    logged = [record["student"] for log in logs for record in read_log(log).records]
    assert sorted(logged) == [f"s{i:03d}" for i in range(count)]  # one line per student: none lost, none twice
    for log in logs:
        check = verify_log(db_url, log)
        assert not check.mismatches, check.render()


@pytest.mark.slow
@pytest.mark.parametrize("logs", ["one-log", "a-log-per-writer"])
def test_concurrent_writer_processes_lose_no_write(db_url, tmp_path, logs):
    writers, per_writer = 4, 8
    paths = [tmp_path / (f"log{w}.jsonl" if logs == "a-log-per-writer" else "log.jsonl") for w in range(writers)]
    context = multiprocessing.get_context("spawn")
    with context.Pool(writers) as pool:
        jobs = [pool.apply_async(_record_many, (db_url, str(paths[w]), list(range(w, writers * per_writer, writers))))
                for w in range(writers)]
        attempts = [job.get(timeout=300) for job in jobs]
    assert sum(attempts) >= writers * per_writer
    _check_many(db_url, sorted(set(paths)), writers * per_writer)


def _hold_lock_with_a_manual_grade(db_url: str, student: str, ready: threading.Event, release_it: threading.Event,
                                   errors: list[BaseException]) -> None:
    """Formgrader saving a manual grade in a transaction that stays open until ``release_it``."""
    try:
        engine = sa.create_engine(db_url, isolation_level="AUTOCOMMIT" if db_url.startswith("sqlite") else None)
        with engine.connect() as connection:
            if db_url.startswith("sqlite"):
                connection.exec_driver_sql("BEGIN IMMEDIATE")
            else:
                connection.begin()
            connection.execute(sa.text(
                "UPDATE grade SET manual_score = 1.5, needs_manual_grade = :no WHERE id IN (SELECT g.id FROM grade g "
                "JOIN base_cell c ON c.id = g.cell_id JOIN submitted_notebook n ON n.id = g.notebook_id "
                "JOIN submitted_assignment s ON s.id = n.assignment_id WHERE s.student_id = :student "
                "AND c.name = 'test_relu')"), {"no": False, "student": student})
            ready.set()
            release_it.wait(60)
            if db_url.startswith("sqlite"):
                connection.exec_driver_sql("COMMIT")
            else:
                connection.commit()
        engine.dispose()
    except BaseException as error:  # noqa: BLE001 - reported by the test
        errors.append(error)
        ready.set()


def _waiting_on_a_lock(db_url: str) -> bool:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as connection:
            return bool(connection.execute(sa.text(
                "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock'")).scalar())
    finally:
        engine.dispose()


def test_a_regrade_racing_a_manual_grade_retries_and_keeps_it(db_url, tmp_path):
    """SQLite: 'database is locked' past the busy timeout; PostgreSQL: a serialization failure. Both retried."""
    with GradeRecorder(db_url, tmp_path / "log.jsonl", busy_timeout=0.1) as recorder:
        recorder.record(result_for("alice", 2, 1))
        ready, release_it, errors, outcome = threading.Event(), threading.Event(), [], []
        holder = threading.Thread(target=_hold_lock_with_a_manual_grade,
                                  args=(db_url, "alice", ready, release_it, errors))
        holder.start()
        assert ready.wait(60) and not errors, errors
        writer = threading.Thread(target=lambda: outcome.append(recorder.record(result_for("alice", 0, 1, submission="v2"))))
        writer.start()
        if db_url.startswith("sqlite"):
            time.sleep(1.0)  # several busy timeouts go by
        else:
            deadline = time.monotonic() + 60
            while not _waiting_on_a_lock(db_url) and time.monotonic() < deadline:
                time.sleep(0.05)  # until the regrade's UPDATE waits on formgrader's row
        release_it.set()
        holder.join(60)
        writer.join(60)
    assert not errors and outcome, "the regrade did not finish"
    assert outcome[0].attempts >= 2 and outcome[0].manual_kept == (f"{NOTEBOOK}/test_relu",)
    assert grades_of(db_url, "alice")["test_relu"] == (0.0, 1.5, True)  # kept, and flagged: the auto score moved
    assert verify_log(db_url, tmp_path / "log.jsonl").ok


@pytest.mark.slow
@pytest.mark.parametrize("db_url, seed", [("sqlite", 0), ("sqlite", 1), ("sqlite", 2), ("postgresql", 0)],
                         indirect=["db_url"])
def test_kill_9_mid_run_then_a_rerun_loses_and_duplicates_nothing(db_url, tmp_path, seed):
    count, rng = 30, random.Random(seed)
    log = tmp_path / "log.jsonl"
    kill_after = rng.randint(1, count - 5)  # log lines, then a random fraction of one record's time
    context = multiprocessing.get_context("spawn")
    writer = context.Process(target=_record_many, args=(db_url, str(log), list(range(count))))
    writer.start()
    deadline = time.monotonic() + 120
    while len(read_log(log).records) < kill_after and writer.is_alive() and time.monotonic() < deadline:
        time.sleep(0.002)
    time.sleep(rng.uniform(0, 0.03))
    writer.kill()  # SIGKILL
    writer.join()
    assert writer.exitcode == -9, f"the writer was not killed mid-run (exit code {writer.exitcode}, seed {seed})"
    logged_before = {record["student"] for record in read_log(log).records}
    assert len(logged_before) < count

    attempts = _record_many(db_url, str(log), list(range(count)), only_new=True)  # the rerun, --only-new
    assert attempts >= count - len(logged_before)
    _check_many(db_url, [log], count)
    assert verify_log(db_url, log).ok
