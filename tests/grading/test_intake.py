"""autograder.intake / autograder.tamper: hostile and odd submissions become a sane, deterministic grading plan.

Submissions are built in memory from the instructor's source (the release of :func:`release_notebook`, with the
reference answers filled in, as a student would hand it in) and then damaged; one test checks the in-memory
release against nbgrader's own. Every test checks that the plan still holds each instructor test exactly once,
in instructor order.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import re
import time
import tracemalloc
from pathlib import Path

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autograder.course import load_source, nbgrader_metadata
from autograder.intake import MAX_CELL_CHARS, CodeStep, TestStep, plan_digest, read_submission
from autograder.solutions import strip_hidden_tests, strip_solution_markers
from autograder.tamper import TEXT_STUB, release_notebook

from tests.grading.selftest import ASSIGNMENT, SELFTEST_COURSE, course_copy

CASES = Path(__file__).resolve().parent / "intake_cases"
TESTS = ["test_relu", "test_leaky_relu"]
MODEL_ANSWER = "ReLU does not saturate for positive inputs, so its gradient there is exactly one and does not vanish."


@pytest.fixture(scope="module")
def source():
    return load_source(ASSIGNMENT, SELFTEST_COURSE)


def solved(source_notebook) -> dict:
    """The release with the reference answers filled in: a perfect submission, as a plain JSON dict."""
    notebook = json.loads(nbformat.writes(release_notebook(source_notebook)))
    for cell, original in zip(notebook["cells"], source_notebook.cells):
        meta = original.metadata.get("nbgrader", {})
        if meta.get("solution"):
            cell["source"] = strip_solution_markers(original.source)
    return notebook


def cell_of(notebook: dict, key: str) -> dict:
    return next(cell for cell in notebook["cells"] if cell.get("id") == key)


def position(notebook: dict, key: str) -> int:
    return next(i for i, cell in enumerate(notebook["cells"]) if cell.get("id") == key)


def submit(tmp_path: Path, notebook, source_notebook, name: str = "submission.ipynb", **options):
    path = tmp_path / name
    if isinstance(notebook, bytes):
        path.write_bytes(notebook)
    else:
        path.write_text(notebook if isinstance(notebook, str) else json.dumps(notebook, indent=1))
    return read_submission(path, source_notebook, **options)


def code_cell(source: str, cell_id: str = "scratch") -> dict:
    return json.loads(json.dumps(nbformat.v4.new_code_cell(source, id=cell_id)))


def graded_tests(intake) -> list[str]:
    return [step.grade_id for step in intake.plan if isinstance(step, TestStep)]


def assert_sane(intake, source_notebook, tests=None) -> None:
    """Every instructor test exactly once, in instructor order, with its visible source only and its points."""
    tests = tests or TESTS
    assert [test.grade_id for test in intake.tests] == tests
    if intake.fatal:
        assert intake.plan == [] and intake.notebook is None
        return
    assert graded_tests(intake) == tests
    released = {cell.id: cell for cell in source_notebook.cells}
    for step in intake.plan:
        if isinstance(step, TestStep):
            assert step.source.rstrip() == strip_hidden_tests(released[step.grade_id].source)
            assert step.points == released[step.grade_id].metadata["nbgrader"]["points"]
            assert "HIDDEN" not in step.source and "run_hidden" not in step.source
    nbformat.validate(intake.notebook)
    ids = [cell.id for cell in intake.notebook.cells]
    assert len(ids) == len(set(ids))
    grade_ids = [cell.metadata["nbgrader"]["grade_id"] for cell in intake.notebook.cells if "nbgrader" in cell.metadata]
    assert len(grade_ids) == len(set(grade_ids))


def kinds(intake) -> list[str]:
    """``answer:relu``, ``test_relu``, ``student:my-helper``: the plan at a glance."""
    return [
        step.grade_id if isinstance(step, TestStep) else f"{step.kind}:{step.grade_id or step.cell_id}"
        for step in intake.plan
    ]


REFERENCE_KINDS = ["instructor:cell-01", "answer:relu", "test_relu", "answer:leaky_relu", "test_leaky_relu"]


# --- clean submissions -------------------------------------------------------------------------------------


def test_the_reference_solution_gives_a_clean_plan(tmp_path, source):
    notebook = solved(source)
    intake = submit(tmp_path, notebook, source)
    assert intake.fatal is None and intake.flags == []
    assert_sane(intake, source)
    assert kinds(intake) == REFERENCE_KINDS
    answers = {step.grade_id: step.source for step in intake.plan if getattr(step, "kind", "") == "answer"}
    assert "return np.where(x > 0, x, 0.0)" in answers["relu"] and "BEGIN SOLUTION" not in answers["relu"]
    assert intake.written_answers == {"why_relu": MODEL_ANSWER}
    raw = (tmp_path / "submission.ipynb").read_bytes()
    assert intake.submission_sha256 == hashlib.sha256(raw).hexdigest()
    assert all(not cell.get("outputs") for cell in intake.notebook.cells)


def test_the_same_bytes_give_the_same_plan(tmp_path, source):
    first = submit(tmp_path, solved(source), source)
    again = read_submission(tmp_path / "submission.ipynb", source)
    assert first == again and first.digest == again.digest == plan_digest(again.plan)
    assert nbformat.writes(first.notebook) == nbformat.writes(again.notebook)


def test_the_conv_reference_solution_gives_a_clean_plan(tmp_path):
    conv = load_source("conv")
    intake = submit(tmp_path, solved(conv), conv)
    order = [cell.id for cell in conv.cells if cell.id.startswith("test_")]
    assert intake.fatal is None and intake.flags == []
    assert_sane(intake, conv, order)
    assert set(intake.written_answers) == {"why_stride", "why_flip"}
    tampered = solved(conv)
    cell_of(tampered, "test_conv2d_stride")["source"] = "pass"
    tampered["cells"].append(tampered["cells"].pop(position(tampered, "test_pad2d")))
    intake = submit(tmp_path, tampered, conv, "tampered.ipynb")
    assert intake.flags == [
        "test cell test_pad2d was moved; the instructor's version runs at its place in the assignment "
        "(after answer cell pad2d)",
        "test cell test_conv2d_stride was edited; the instructor's version is used",
    ]
    assert_sane(intake, conv, order)


@pytest.mark.slow
def test_nbgrader_release_matches_the_in_memory_one_and_reads_clean(tmp_path, source):
    from autograder.release import release

    course = course_copy(tmp_path)
    report = release(ASSIGNMENT, course, validate=False)
    released = report.notebooks[0]
    assert json.loads(released.read_text()) == json.loads(nbformat.writes(release_notebook(source)))
    intake = read_submission(released, source)
    assert intake.fatal is None and intake.flags == []
    assert_sane(intake, source)
    assert kinds(intake) == REFERENCE_KINDS
    answers = [step.source for step in intake.plan if getattr(step, "kind", "") == "answer"]
    assert len(answers) == 2 and all(answer.endswith("raise NotImplementedError()") for answer in answers)
    assert intake.written_answers == {"why_relu": TEXT_STUB}


def test_outputs_execution_counts_and_line_lists_are_ignored(tmp_path, source):
    reference = submit(tmp_path, solved(source), source, "reference.ipynb")
    notebook = solved(source)
    for cell in notebook["cells"]:
        if cell["cell_type"] == "code":
            cell["execution_count"] = 7
            cell["outputs"] = [{"output_type": "stream", "name": "stdout", "text": ["PASSED\n"] * 1000}]
        cell["source"] = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [] and intake.digest == reference.digest
    code = [cell for cell in intake.notebook.cells if cell.cell_type == "code"]
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)
    assert_sane(intake, source)


def test_a_helper_cell_above_an_answer_is_kept_in_place(tmp_path, source):
    notebook = solved(source)
    helper = nbformat.v4.new_code_cell("def _positive(x):\n    return x > 0", id="my-helper")
    notebook["cells"].insert(position(notebook, "relu"), json.loads(json.dumps(helper)))
    notebook["cells"].append({"cell_type": "markdown", "id": "notes", "metadata": {}, "source": "my notes"})
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == []
    assert kinds(intake) == ["instructor:cell-01", "student:my-helper", *REFERENCE_KINDS[1:]]
    assert intake.notebook.cells[-1].source == "my notes"
    assert_sane(intake, source)


def test_a_different_kernel_in_the_metadata_is_flagged_and_ignored(tmp_path, source):
    reference = submit(tmp_path, solved(source), source, "reference.ipynb")
    notebook = solved(source)
    notebook["metadata"] = {
        "kernelspec": {"name": "ir", "language": "R", "display_name": "R"},
        "language_info": {"name": "R"},
    }
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ['the notebook\'s metadata names the kernel "ir" and language "R"; it is ignored and '
                            "the course's kernel (python3) is used"]
    assert intake.digest == reference.digest and intake.notebook.metadata.kernelspec.name == "python3"
    assert_sane(intake, source)


# --- reading ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"", r"^the file is empty \(0 bytes"),
        (b"  \n", r"^the file is empty"),
        (b"[1, 2, 3]", r"^the file is valid JSON but not a notebook: it is a list"),
        (b'"cells"', r"^the file is valid JSON but not a notebook: it is a string"),
        (b'{"metadata": {}}', r"no 'nbformat' version and no list of 'cells'"),
        (b'{"nbformat": 99, "metadata": {}}', r"^nbformat 99 is not a version the grader reads"),
        (b'{"nbformat": 4, "nbformat_minor": 5, "cells": {}}', r"'cells' is an object, not a list"),
        (b'{"nbformat": 4, "cells": [}', r"^the notebook is not valid JSON \(line 1, column 27\): Expecting value"),
        (b"[" * 100_000 + b"]" * 100_000, r"(not JSON that can be read|not a notebook)"),
    ],
    ids=["empty", "blank", "list", "string", "no-version", "unknown-version", "cells-not-list", "bad-json", "deep"],
)
def test_files_that_are_not_notebooks_are_fatal_with_a_reason(tmp_path, source, content, reason):
    intake = submit(tmp_path, content, source)
    assert intake.fatal is not None
    assert re.search(reason, intake.fatal), intake.fatal
    assert intake.submission_sha256 == hashlib.sha256(content).hexdigest()
    assert_sane(intake, source)


def test_malformed_and_truncated_json_are_fatal_with_line_and_column(tmp_path, source):
    text = json.dumps(solved(source), indent=1)
    broken = text.replace('"cell_type": "code",', '"cell_type": "code"', 1)
    intake = submit(tmp_path, broken, source)
    assert intake.fatal.startswith("the notebook is not valid JSON (line ")
    assert "Expecting ',' delimiter" in intake.fatal
    assert_sane(intake, source)
    truncated = submit(tmp_path, text[: len(text) // 2], source, "truncated.ipynb")
    assert truncated.fatal.startswith("the notebook is not valid JSON (line ")
    assert_sane(truncated, source)


def test_bytes_that_are_not_utf8_are_replaced_and_flagged(tmp_path, source):
    notebook = solved(source)
    cell_of(notebook, "why_relu")["source"] = "Le gradient ne s'annule pas: caf\u00e9"
    raw = json.dumps(notebook, ensure_ascii=False).encode("utf-8").replace("caf\u00e9".encode(), b"caf\xe9")
    intake = submit(tmp_path, raw, source)
    assert intake.fatal is None
    assert len(intake.flags) == 1
    assert intake.flags[0].startswith("the file is not valid UTF-8 (the first bad byte is at offset ")
    assert intake.written_answers["why_relu"] == "Le gradient ne s'annule pas: caf\ufffd"
    assert_sane(intake, source)


def test_a_utf16_file_is_read(tmp_path, source):
    reference = submit(tmp_path, solved(source), source, "reference.ipynb")
    intake = submit(tmp_path, json.dumps(solved(source)).encode("utf-16"), source)
    assert intake.flags == ["the file is UTF-16, not UTF-8; it was read as UTF-16"]
    assert intake.digest == reference.digest


def test_nbformat_3_is_upgraded_and_graded_the_same(tmp_path, source):
    reference = submit(tmp_path, solved(source), source, "reference.ipynb")
    old = nbformat.convert(nbformat.reads(json.dumps(solved(source)), as_version=4), 3)
    assert old.nbformat == 3 and "worksheets" in old
    intake = submit(tmp_path, nbformat.writes(old, version=3), source)
    assert intake.fatal is None
    assert intake.flags == ["the notebook is nbformat 3; it was upgraded to nbformat 4"]
    assert intake.digest == reference.digest and kinds(intake) == REFERENCE_KINDS
    assert intake.written_answers == {"why_relu": MODEL_ANSWER}
    assert_sane(intake, source)


def test_a_hand_written_nbformat_3_file_without_metadata_is_matched_by_content(tmp_path, source):
    intake = read_submission(CASES / "nbformat3_by_hand.ipynb", source)
    assert intake.fatal is None
    assert "the notebook is nbformat 3; it was upgraded to nbformat 4" in intake.flags
    assert kinds(intake) == REFERENCE_KINDS
    relu = next(step for step in intake.plan if getattr(step, "grade_id", None) == "relu")
    assert "np.maximum(x, 0.0)" in relu.source
    assert_sane(intake, source)


def test_an_unknown_nbformat_version_is_read_as_4(tmp_path, source):
    reference = submit(tmp_path, solved(source), source, "reference.ipynb")
    notebook = solved(source)
    notebook["nbformat"] = 99
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["nbformat 99 is not a version the grader knows (1 to 4); its cells were read as nbformat 4"]
    assert intake.digest == reference.digest
    assert_sane(intake, source)


def test_missing_cell_ids_are_assigned(tmp_path, source):
    reference = submit(tmp_path, solved(source), source, "reference.ipynb")
    notebook = solved(source)
    for cell in notebook["cells"]:
        del cell["id"]
    notebook["cells"].append(code_cell("scratch = 1"))
    del notebook["cells"][-1]["id"]
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["10 cell(s) have no valid id (cells 1, 2, 3, 4, 5, 6, 7, 8, 9, 10); ids were assigned"]
    assert kinds(intake) == [*REFERENCE_KINDS, "student:student-10"]
    assert_sane(intake, source)
    assert reference.digest != intake.digest  # the scratch cell runs


def test_duplicated_cell_ids_are_made_unique(tmp_path, source):
    notebook = solved(source)
    for text in ("a = 1", "b = 2"):
        notebook["cells"].append(code_cell(text, "scratch"))
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["the cell id 'scratch' is used by 2 cells (10, 11); each got its own id"]
    assert kinds(intake)[-2:] == ["student:scratch", "student:student-11"]
    assert_sane(intake, source)


def test_a_50_mb_file_is_refused_without_being_read_into_memory(tmp_path, source):
    path = tmp_path / "huge.ipynb"
    with path.open("wb") as handle:
        handle.truncate(50 * 2**20)
    tracemalloc.start()
    start = time.perf_counter()
    intake = read_submission(path, source)
    elapsed = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert intake.fatal.startswith("the file is 52,428,800 bytes, over the limit of 20,971,520; it was not read")
    assert elapsed < 5 and peak < 8 * 2**20
    assert intake.submission_sha256 == hashlib.sha256(bytes(50 * 2**20)).hexdigest()
    assert_sane(intake, source)


def test_a_symlink_a_folder_and_a_missing_file_are_refused(tmp_path, source):
    real = tmp_path / "real.ipynb"
    real.write_text(json.dumps(solved(source)))
    (tmp_path / "link.ipynb").symlink_to(real)
    os.mkfifo(tmp_path / "pipe.ipynb")
    cases = {
        "link.ipynb": "the submission is a symbolic link; submit the notebook file itself",
        "pipe.ipynb": "the submission is not a regular file",
        "missing.ipynb": "the submitted file does not exist",
        ".": "the submission is not a regular file",
    }
    for name, reason in cases.items():
        intake = read_submission(tmp_path / name, source)
        assert intake.fatal.startswith(reason) and intake.plan == []


def test_a_huge_cell_is_not_run(tmp_path, source):
    notebook = solved(source)
    notebook["cells"].append(code_cell("x = 1\n" * (MAX_CELL_CHARS // 6 + 1), "big"))
    cell_of(notebook, "relu")["source"] = "#" * (MAX_CELL_CHARS + 1)
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        f"answer cell relu holds {MAX_CELL_CHARS + 1:,} characters, over the limit of {MAX_CELL_CHARS:,} per cell; "
        "the release's stub runs in its place",
        f"cell 10 holds {6 * (MAX_CELL_CHARS // 6 + 1):,} characters, over the limit of {MAX_CELL_CHARS:,} per cell; "
        "it is not run",
    ]
    assert "raise NotImplementedError()" in intake.plan[1].source and kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_odd_cells_are_read_safely(tmp_path, source):
    notebook = solved(source)
    notebook["cells"] += [
        42,
        {"cell_type": "code", "id": "weird-source", "metadata": [], "source": {"not": "text"}},
        {"cell_type": "widget", "id": "weird-type", "metadata": {}, "source": "?"},
        {"cell_type": "markdown", "id": "picture", "metadata": {}, "source": "![x](attachment:x.png)",
         "attachments": {"x.png": {"image/png": "iVBORw0KGgo="}}},
        {"cell_type": "markdown", "id": "broken-picture", "metadata": {}, "source": "!", "attachments": {"y.png": 3}},
    ]
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "cell 10 is a number, not a cell; it was ignored",
        "cell 11's source is an object, not text; it was read as empty",
        'cell 12 has the unknown type "widget"; it is kept as a raw cell and not run',
        "the attachments of cell 14 were dropped (malformed, or over 8,388,608 characters in all)",
    ]
    assert intake.notebook.cells[-2].attachments == {"x.png": {"image/png": "iVBORw0KGgo="}}
    assert_sane(intake, source)


# --- tampering with test cells ----------------------------------------------------------------------------


def test_a_deleted_test_cell_is_restored(tmp_path, source):
    notebook = solved(source)
    notebook["cells"].pop(position(notebook, "test_relu"))
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["test cell test_relu was deleted; the instructor's version is used"]
    assert kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_an_edited_test_cell_is_replaced(tmp_path, source):
    notebook = solved(source)
    cell_of(notebook, "test_relu")["source"] = "assert True"
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["test cell test_relu was edited; the instructor's version is used"]
    assert_sane(intake, source)


def test_a_moved_test_cell_runs_at_its_place(tmp_path, source):
    notebook = solved(source)
    notebook["cells"].append(notebook["cells"].pop(position(notebook, "test_relu")))
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "test cell test_relu was moved; the instructor's version runs at its place in the assignment "
        "(after answer cell relu)"
    ]
    assert kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_a_test_cell_turned_into_markdown_is_restored(tmp_path, source):
    notebook = solved(source)
    cell = cell_of(notebook, "test_relu")
    cell["cell_type"] = "markdown"
    del cell["outputs"], cell["execution_count"]
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["test cell test_relu was turned into Markdown; the instructor's version is used"]
    assert kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_changed_points_and_checksum_are_flagged_and_ignored(tmp_path, source):
    notebook = solved(source)
    meta = cell_of(notebook, "test_relu")["metadata"]["nbgrader"]
    meta["points"] = 100
    meta["checksum"] = "0" * 32
    cell_of(notebook, "test_leaky_relu")["metadata"]["nbgrader"].update(grade=False, locked=False)
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "test cell test_relu: nbgrader metadata altered (points: 2 -> 100, checksum changed); the instructor's is used",
        "test cell test_leaky_relu: nbgrader metadata altered (grade: true -> false, locked: true -> false); "
        "the instructor's is used",
    ]
    assert [step.points for step in intake.plan if isinstance(step, TestStep)] == [2, 1]
    assert_sane(intake, source)


def test_removed_metadata_is_flagged(tmp_path, source):
    notebook = solved(source)
    cell = cell_of(notebook, "test_relu")
    cell["metadata"] = {}
    cell["id"] = "something-else"
    intake = submit(tmp_path, notebook, source)  # still recognised by its content
    assert intake.flags == ["test cell test_relu: its nbgrader metadata was removed; the instructor's is used"]
    assert_sane(intake, source)


def test_renamed_grade_ids_are_flagged(tmp_path, source):
    notebook = solved(source)
    cell_of(notebook, "test_relu")["metadata"]["nbgrader"]["grade_id"] = "test_mine"
    answer = cell_of(notebook, "leaky_relu")
    answer["metadata"]["nbgrader"]["grade_id"] = "my_leaky"
    answer["id"] = "my_leaky"
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        'test cell test_relu: nbgrader metadata altered (grade_id: "test_relu" -> "test_mine"); '
        "the instructor's is used",
        'answer cell leaky_relu: nbgrader metadata altered (grade_id: "leaky_relu" -> "my_leaky"); '
        "the instructor's is used",
    ]
    assert kinds(intake) == REFERENCE_KINDS
    assert "slope * x" in intake.plan[3].source
    assert_sane(intake, source)


def test_a_copy_pasted_test_cell_runs_once(tmp_path, source):
    notebook = solved(source)
    copy_ = copy.deepcopy(cell_of(notebook, "test_relu"))
    copy_["id"] = "pasted"
    notebook["cells"].insert(position(notebook, "test_relu") + 1, copy_)
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "test cell test_relu appears 2 times (cells 5, 6); cell 5 is used (it keeps the instructor's cell id) "
        "and the copies are not run"
    ]
    assert kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_an_invented_graded_cell_earns_nothing(tmp_path, source):
    notebook = solved(source)
    bonus = nbformat.v4.new_code_cell("assert True", id="bonus")
    bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "points": 50, "solution": False, "locked": True}
    notebook["cells"].append(json.loads(json.dumps(bonus)))
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        'cell 10 claims to be the graded cell "bonus", which this assignment does not have; its metadata is '
        "ignored and it counts as the student's own cell"
    ]
    assert kinds(intake) == [*REFERENCE_KINDS, "student:bonus"]
    assert "nbgrader" not in intake.notebook.cells[-1].metadata
    assert_sane(intake, source)


# --- answers ------------------------------------------------------------------------------------------------


def test_a_deleted_answer_becomes_the_stub(tmp_path, source):
    notebook = solved(source)
    notebook["cells"].pop(position(notebook, "relu"))
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["answer cell relu is missing (deleted?); the release's stub runs in its place"]
    stub = intake.plan[1]
    assert stub.kind == "answer" and stub.index is None and stub.source.endswith("raise NotImplementedError()")
    assert kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_an_answer_rewritten_in_a_new_cell_is_recognised_by_its_def_line(tmp_path, source):
    notebook = solved(source)
    cell = cell_of(notebook, "relu")
    cell["metadata"], cell["id"] = {}, "fresh"
    cell["source"] = "def relu(x):\n    return np.maximum(x, 0.0)"
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["answer cell relu: its nbgrader metadata was removed; the instructor's is used"]
    assert intake.plan[1] == CodeStep("answer", cell["source"], "relu", "relu", 3)
    assert_sane(intake, source)


def test_a_deleted_written_answer_is_graded_as_unanswered(tmp_path, source):
    notebook = solved(source)
    notebook["cells"].pop(position(notebook, "why_relu"))
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == ["written answer why_relu is missing (deleted?); it is graded as unanswered"]
    assert intake.written_answers == {"why_relu": TEXT_STUB}
    assert_sane(intake, source)


def test_a_copy_pasted_answer_keeps_the_original_and_runs_both(tmp_path, source):
    notebook = solved(source)
    pasted = copy.deepcopy(cell_of(notebook, "relu"))
    pasted["id"] = "pasted"
    pasted["source"] = pasted["source"].replace("0.0)", "-1.0)")
    notebook["cells"].insert(position(notebook, "relu") + 1, pasted)
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "answer cell relu appears 2 times (cells 4, 5); cell 4 is graded (it keeps the instructor's cell id) and "
        "the others run as the student's own code"
    ]
    assert kinds(intake) == ["instructor:cell-01", "answer:relu", "student:pasted", *REFERENCE_KINDS[2:]]
    assert_sane(intake, source)


def test_copies_without_the_original_id_keep_the_last(tmp_path, source):
    notebook = solved(source)
    original = cell_of(notebook, "relu")
    pasted = copy.deepcopy(original)
    original["id"], pasted["id"] = "first", "second"
    notebook["cells"].insert(position(notebook, "first") + 1, pasted)
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "answer cell relu appears 2 times (cells 4, 5); cell 5 is graded (it is the last, whose definitions are in "
        "force when the tests run) and the others run as the student's own code"
    ]
    assert kinds(intake) == ["instructor:cell-01", "student:first", "answer:relu", *REFERENCE_KINDS[2:]]
    assert_sane(intake, source)


def test_moved_answers_run_in_instructor_order(tmp_path, source):
    notebook = solved(source)
    notebook["cells"].insert(position(notebook, "relu"), notebook["cells"].pop(position(notebook, "leaky_relu")))
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "answer cell leaky_relu was moved; it runs at its place in the assignment (after test cell test_relu)"
    ]
    assert kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_an_edited_locked_setup_cell_is_replaced(tmp_path, source):
    locked = copy.deepcopy(source)
    setup = locked.cells[1]
    short = {"cell_type": "code", "metadata": {"nbgrader": {"grade_id": "setup", "locked": True}}}
    setup.metadata["nbgrader"] = nbgrader_metadata(short, 1)
    setup.id = "setup"
    notebook = solved(locked)
    cell_of(notebook, "setup")["source"] = setup.source + "\nnp.allclose = lambda *a, **k: True"
    intake = submit(tmp_path, notebook, locked)
    assert intake.flags == ["locked cell setup was edited; the instructor's version is used"]
    assert intake.plan[0] == CodeStep("instructor", setup.source, "setup", "setup", 1)
    assert_sane(intake, locked)
    notebook["cells"].pop(1)
    deleted = submit(tmp_path, notebook, locked, "deleted.ipynb")
    assert deleted.flags == ["locked cell setup was deleted; the instructor's version is used"]
    assert deleted.plan[0] == CodeStep("instructor", setup.source, "setup", "setup", None)


def test_an_unlocked_course_cell_is_the_students(tmp_path, source):
    notebook = solved(source)
    cell_of(notebook, "cell-01")["source"] += "\nimport math"
    edited = submit(tmp_path, notebook, source)
    assert edited.flags == [] and edited.plan[0].kind == "student" and edited.plan[0].source.endswith("import math")
    notebook["cells"].pop(position(notebook, "cell-01"))
    deleted = submit(tmp_path, notebook, source, "deleted.ipynb")
    assert deleted.flags == [
        "the assignment's code cell cell-01 was deleted; it is not run (the student may change or delete it)"
    ]
    assert graded_tests(deleted) == TESTS and deleted.plan[0].grade_id == "relu"


def test_an_answer_turned_into_markdown_is_not_run(tmp_path, source):
    notebook = solved(source)
    cell = cell_of(notebook, "relu")
    cell["cell_type"] = "markdown"
    del cell["outputs"], cell["execution_count"]
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "cell 4 looks like answer cell relu but is a markdown cell; it is kept as the student's own cell",
        "answer cell relu is missing (deleted?); the release's stub runs in its place",
    ]
    assert intake.plan[1].source.endswith("raise NotImplementedError()") and kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


def test_a_written_answer_turned_into_code_is_kept_as_text(tmp_path, source):
    notebook = solved(source)
    cell = cell_of(notebook, "why_relu")
    cell.update(cell_type="code", outputs=[], execution_count=None)
    intake = submit(tmp_path, notebook, source)
    assert intake.flags == [
        "written answer why_relu was turned into a code cell; its text is kept as the answer and not run"
    ]
    assert intake.written_answers == {"why_relu": MODEL_ANSWER} and kinds(intake) == REFERENCE_KINDS
    assert_sane(intake, source)


# --- any damage at all -----------------------------------------------------------------------------------


def damage(notebook: dict, operations) -> dict:
    """Apply (operation, i, j) triples to the cells: delete, duplicate, move, retype, strip metadata, edit."""
    cells = notebook["cells"]
    for operation, i, j in operations:
        if not cells:
            break
        i, j = i % len(cells), j % (len(cells) + 1)
        cell = cells[i]
        if operation == "delete":
            cells.pop(i)
        elif operation in ("duplicate", "paste"):
            pasted = copy.deepcopy(cell)
            if operation == "paste":
                pasted["id"] = f"pasted-{i}-{j}"
            cells.insert(j, pasted)
        elif operation == "move":
            cells.insert(j, cells.pop(i))
        elif operation == "retype":
            cell["cell_type"] = "markdown" if cell["cell_type"] == "code" else "code"
            cell.pop("outputs", None), cell.pop("execution_count", None)
            if cell["cell_type"] == "code":
                cell.update(outputs=[], execution_count=None)
        elif operation == "strip":
            cell["metadata"] = {}
            cell.pop("id", None)
        elif operation == "edit":
            cell["source"] = f"x_{j} = {i}"
    return notebook


OPERATIONS = st.lists(
    st.tuples(st.sampled_from(["delete", "duplicate", "paste", "move", "retype", "strip", "edit"]),
              st.integers(0, 30), st.integers(0, 30)),
    max_size=8,
)


@settings(max_examples=60, deadline=None, derandomize=True, database=None)
@given(operations=OPERATIONS)
def test_any_damage_gives_a_sane_deterministic_plan(tmp_path_factory, source, operations):
    notebook = damage(solved(source), operations)
    tmp_path = tmp_path_factory.mktemp("damage")
    intake = submit(tmp_path, notebook, source)
    assert intake.fatal is None
    assert_sane(intake, source)
    answers = [step.grade_id for step in intake.plan if isinstance(step, CodeStep) and step.kind == "answer"]
    assert answers == ["relu", "leaky_relu"] and list(intake.written_answers) == ["why_relu"]
    again = read_submission(tmp_path / "submission.ipynb", source)
    assert again == intake
    if not operations:
        assert intake.flags == []
