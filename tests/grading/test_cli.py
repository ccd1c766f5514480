"""The `autograder` command line: usage errors, export through the CLI."""

import csv
import subprocess
import sys
from pathlib import Path

from autograder.export import NBGRADER_COLUMNS
from autograder.release import release

from tests.grading.selftest import ASSIGNMENT, course_copy

AUTOGRADER = Path(sys.executable).with_name("autograder")


def _run(*args, cwd=None):
    return subprocess.run([str(AUTOGRADER), *args], capture_output=True, text=True, cwd=cwd)


def test_export_writes_nbgrader_columns_from_a_gradebook(tmp_path):
    course = course_copy(tmp_path)
    release(ASSIGNMENT, course, validate=False)
    result = _run("export", "--db", f"sqlite:///{course / 'gradebook.db'}", "--to", str(tmp_path / "grades.csv"))
    assert result.returncode == 0, result.stderr
    rows = list(csv.reader((tmp_path / "grades.csv").open()))
    assert rows[0] == list(NBGRADER_COLUMNS)


def test_export_without_a_gradebook_says_what_to_run(tmp_path):
    result = _run("export", "--db", f"sqlite:///{tmp_path / 'none.db'}")
    assert result.returncode == 1
    assert "no gradebook at" in result.stderr and "autograder release" in result.stderr
    assert not (tmp_path / "none.db").exists()


def test_malformed_canvas_ids_are_a_usage_error(tmp_path):
    result = _run("export", "--format", "canvas", "--canvas-id", "conv:12", cwd=tmp_path)
    assert result.returncode == 2 and "--canvas-id takes ASSIGNMENT=ID" in result.stderr
