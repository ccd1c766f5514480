"""autograder release / solutions on the self-test course, through nbgrader itself."""

import json

import pytest

from autograder.release import ReleaseError, release
from autograder.solutions import write_solutions

from tests.grading.selftest import ASSIGNMENT, course_copy


def test_release_is_clean_and_validates_as_not_yet_solved(tmp_path):
    course = course_copy(tmp_path)
    report = release(ASSIGNMENT, course)
    assert report.directory == course / "release" / ASSIGNMENT
    assert [path.name for path in report.notebooks] == [f"{ASSIGNMENT}.ipynb"]
    assert report.unsolved_cells == 3  # two answers raise NotImplementedError, one written answer is empty
    assert sorted(path.name for path in report.directory.iterdir()) == [f"{ASSIGNMENT}.ipynb"]  # no .md
    text = report.notebooks[0].read_text()
    assert "raise NotImplementedError()" in text and "YOUR ANSWER HERE" in text
    assert "run_hidden" not in text and "np.where(x > 0, x, 0.0)" not in text


def test_a_leaking_release_is_refused_and_removed(tmp_path):
    course = course_copy(tmp_path)
    path = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.md"
    path.write_text(path.read_text().replace("Write `relu(x)`", "Call `autograder.kernel.run_hidden` and write `relu(x)`"))
    with pytest.raises(ReleaseError, match=r"refused to release '_selftest': 2 problem\(s\)") as error:
        release(ASSIGNMENT, course)
    assert "grading marker 'run_hidden'" in str(error.value)
    assert not (course / "release" / ASSIGNMENT).exists()


def test_a_release_that_crashes_is_refused(tmp_path):
    course = course_copy(tmp_path)
    path = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.md"
    path.write_text(path.read_text().replace("import numpy as np\n", "import numpy as np\nopen('missing-data.npz')\n", 1))
    with pytest.raises(ReleaseError, match=r"(?s)crashes under nbgrader validate.*FileNotFoundError: \[Errno 2\] No such file or directory: 'missing-data.npz'"):
        release(ASSIGNMENT, course)


def test_solutions_keep_answers_and_drop_grading_material(tmp_path):
    course = course_copy(tmp_path)
    (course / "source" / ASSIGNMENT / "data.txt").write_text("1 2 3\n")
    path = write_solutions(ASSIGNMENT, course)
    notebook = json.loads(path.read_text())
    text = path.read_text()
    assert "return np.where(x > 0, x, slope * x)" in text
    assert "ReLU does not saturate" in text
    for gone in ("BEGIN SOLUTION", "HIDDEN TESTS", "run_hidden", "autograder.", '"nbgrader"'):
        assert gone not in text
    assert all(cell.get("outputs", []) == [] for cell in notebook["cells"])
    assert (path.parent / "data.txt").read_text() == "1 2 3\n"
