"""MyST sources to nbgrader notebooks: completed metadata, read-only instructions, and the rules enforced."""

import json

import pytest

from autograder.course import SourceError, build_source, hidden_cell_ids, load_source, nbgrader_metadata

from tests.grading.selftest import ASSIGNMENT, course_copy


def _cell(cell_type="code", **nbgrader):
    return {"cell_type": cell_type, "metadata": {"nbgrader": nbgrader} if nbgrader else {}, "source": ""}


def test_short_forms_are_completed():
    assert nbgrader_metadata(_cell(grade_id="conv2d", solution=True), 1) == {
        "grade": False, "grade_id": "conv2d", "locked": False, "schema_version": 3, "solution": True, "task": False,
    }
    test = nbgrader_metadata(_cell(grade_id="test_conv2d", points=2), 2)
    assert test["grade"] and test["locked"] and not test["solution"] and test["points"] == 2
    written = nbgrader_metadata(_cell("markdown", grade_id="why", solution=True, points=1), 3)
    assert written["grade"] and written["solution"] and not written["locked"]


def test_plain_markdown_becomes_a_read_only_instruction_and_plain_code_stays_free():
    assert nbgrader_metadata(_cell("markdown"), 4) == {
        "grade": False, "grade_id": "instructions_04", "locked": True, "schema_version": 3, "solution": False,
        "task": False,
    }
    assert nbgrader_metadata(_cell("code"), 5) is None


@pytest.mark.parametrize(
    "nbgrader, message",
    [
        ({"solution": True}, "without a grade_id"),
        ({"grade_id": "t", "grade": True}, "needs points > 0"),
        ({"grade_id": "t", "points": 0}, "needs points > 0"),
        ({"grade_id": "t", "point": 1}, "unknown nbgrader keys"),
    ],
)
def test_malformed_metadata_is_refused(nbgrader, message):
    with pytest.raises(SourceError, match=message):
        nbgrader_metadata(_cell(**nbgrader), 0)


def test_hidden_cell_ids_are_found():
    assert hidden_cell_ids('_h = run_hidden("conv", "test_conv2d", globals())') == [("conv", "test_conv2d")]


def _rewrite(course, old, new):
    path = course / "source" / ASSIGNMENT / f"{ASSIGNMENT}.md"
    path.write_text(path.read_text().replace(old, new, 1))


@pytest.mark.parametrize(
    "old, new, message",
    [
        ("grade_id: leaky_relu,", "grade_id: relu,", "used twice"),
        ('"_selftest", "test_leaky_relu"', '"_selftest", "test_relu"', "must run its own"),
        ("### END HIDDEN TESTS", "", "unbalanced"),
    ],
)
def test_source_rules_are_enforced(tmp_path, old, new, message):
    course = course_copy(tmp_path)
    _rewrite(course, old, new)
    with pytest.raises(SourceError, match=message):
        load_source(ASSIGNMENT, course)


def test_a_hidden_block_outside_a_test_cell_is_refused(tmp_path):
    course = course_copy(tmp_path)
    _rewrite(course, "    return np.where(x > 0, x, 0.0)\n", "    return np.where(x > 0, x, 0.0)\n### BEGIN HIDDEN TESTS\n### END HIDDEN TESTS\n")
    with pytest.raises(SourceError, match="may only sit in a test cell"):
        load_source(ASSIGNMENT, course)


def test_the_built_notebook_is_stable_and_has_no_outputs(tmp_path):
    course = course_copy(tmp_path)
    path = build_source(ASSIGNMENT, course)
    first = path.read_bytes()
    path.unlink()
    assert build_source(ASSIGNMENT, course).read_bytes() == first
    notebook = json.loads(first)
    assert [cell["id"] for cell in notebook["cells"]][:3] == ["instructions_00", "cell-01", "instructions_02"]
    assert all(cell.get("outputs", []) == [] for cell in notebook["cells"])
    assert notebook["metadata"]["kernelspec"]["name"] == "python3"


def test_unknown_assignment_ids_are_named():
    with pytest.raises(ValueError, match="the assignments are conv, pooling_cnn, architectures, rnn, transfer"):
        load_source("convolution")
