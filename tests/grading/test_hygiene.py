"""The leak scan: solution code, hidden tests, outputs, markers and instructor paths are all found."""

import json

from autograder.course import REPO_ROOT, load_source
from autograder.hygiene import instructor_text, scan

from tests.grading.selftest import ASSIGNMENT, course_copy


def _release_dir(tmp_path, cells):
    directory = tmp_path / "release"
    directory.mkdir()
    notebook = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    (directory / "hw.ipynb").write_text(json.dumps(notebook))
    return directory


def _code(source, **extra):
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": [], "execution_count": None, **extra}


def _source(tmp_path):
    return load_source(ASSIGNMENT, course_copy(tmp_path))


def test_instructor_text_holds_solutions_hidden_tests_and_model_answers_not_public_lines(tmp_path):
    secret = instructor_text(_source(tmp_path))
    assert secret["return np.where(x > 0, x, slope * x)"] == "solution code"
    assert secret['_hidden = run_hidden("_selftest", "test_relu", globals())'] == "hidden test"
    assert any(kind == "model answer" for kind in secret.values())
    assert "def leaky_relu(x, slope=0.01):" not in secret


def test_a_clean_release_has_no_problems(tmp_path):
    cells = [_code("def relu(x):\n    # YOUR CODE HERE\n    raise NotImplementedError()")]
    assert scan(_release_dir(tmp_path, cells), _source(tmp_path)) == []


def test_every_kind_of_leak_is_reported_with_its_place(tmp_path):
    cells = [
        _code("def leaky_relu(x, slope=0.01):\n    return np.where(x > 0, x, slope * x)"),
        _code("x = 1", outputs=[{"output_type": "stream", "name": "stdout", "text": "1"}], execution_count=3),
        _code("from autograder.kernel import run_hidden"),
        _code(f"data = '{REPO_ROOT}/assignments/source/x.npz'"),
    ]
    problems = [str(problem) for problem in scan(_release_dir(tmp_path, cells), _source(tmp_path))]
    text = "\n".join(problems)
    assert "cell 0 (?) line 2: solution code: 'return np.where(x > 0, x, slope * x)'" in text
    assert "cell 1 (?): 1 output(s)" in text and "an execution count" in text
    assert "cell 2 (?) line 1: grading marker 'autograder.'" in text
    assert "instructor path" in text and "assignments/source" in text


def test_files_beside_the_notebook_are_scanned_too(tmp_path):
    directory = _release_dir(tmp_path, [])
    (directory / "helpers.py").write_text("### BEGIN HIDDEN TESTS\n")
    (directory / "answer_key.txt").write_text("nothing\n")
    problems = [str(problem) for problem in scan(directory, _source(tmp_path))]
    assert any("helpers.py: line 1: grading marker" in p for p in problems)
    assert any("answer_key.txt: file name" in p for p in problems)
