"""The five course assignments, each proven sound end to end by `autograder verify` (nbgrader round trip).

For every assignment: the release is clean and validates as "not yet solved", the reference solution earns every
autograded point within two minutes, the blank release earns zero, every seeded mutant loses exactly the points
its rubric says, every test cell fails on something, and `nbgrader export` agrees with the gradebook.
"""

import subprocess
import sys
from pathlib import Path

import pytest

from autograder.course import ASSIGNMENTS
from autograder.verify import verify

AUTOGRADER = Path(sys.executable).with_name("autograder")


@pytest.mark.slow
@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_assignment_verifies(assignment):
    report = verify(assignment)
    print(report.render())
    assert report.ok, report.render()


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solutions_command_writes_a_clean_notebook(assignment, tmp_path):
    target = tmp_path / f"{assignment}.ipynb"
    result = subprocess.run([str(AUTOGRADER), "solutions", assignment, "--to", str(target)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    text = target.read_text()
    for gone in ("BEGIN SOLUTION", "HIDDEN TESTS", "run_hidden", '"nbgrader"'):
        assert gone not in text


def test_unknown_assignment_is_a_usage_error():
    result = subprocess.run([str(AUTOGRADER), "release", "convolution"], capture_output=True, text=True)
    assert result.returncode == 2 and "invalid choice: 'convolution'" in result.stderr
