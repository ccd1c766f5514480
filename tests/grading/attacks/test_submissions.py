"""Every attack as a whole submission, graded by `autograder grade` in one batch: each earns the score it must.

Each hostile submission is the self-test assignment's reference, except that the ``relu`` answer cell holds an
attack from ``cells/`` followed by a wrong ``relu`` (the identity). Whatever the attack does to its process,
its files or the grader, the wrong ``relu`` must not earn its 2 points and the right ``leaky_relu`` keeps its
1 point (unless the attack wrecks the student's own process for good, which costs that student only). The
batch itself must finish with every submission graded and the honest control submission at full marks.
"""

from __future__ import annotations

import pytest

from autograder.grade import grade_all
from autograder.grading import GradingOptions
from autograder.release import release
from autograder.sandbox import Limits
from autograder.verify import _answer_sources, _submit

from tests.grading.attacks import CELLS
from tests.grading.selftest import ASSIGNMENT, course_copy

WRONG_RELU = "\n\ndef relu(x):\n    return x\n"
# the score each attack must receive, out of 3; the default is 1 (the right leaky_relu only)
MUST_SCORE = {
    "patch_builtins": 0,  # breaks the call machinery of its own process: every later question is lost too
}


@pytest.mark.slow
def test_every_attack_submission_earns_exactly_its_score(tmp_path):
    course = course_copy(tmp_path)
    release(ASSIGNMENT, course, validate=False)
    reference = _answer_sources(ASSIGNMENT, course, None)
    attacks = sorted(path.stem for path in CELLS.glob("*.py"))
    for name in attacks:
        _submit(course, ASSIGNMENT, f"attack-{name}", {**reference, "relu": (CELLS / f"{name}.py").read_text() + WRONG_RELU})
    _submit(course, ASSIGNMENT, "control", reference)
    options = GradingOptions(limits=Limits(wall_seconds=5, memory_bytes=1 << 30))
    report = grade_all(ASSIGNMENT, course_dir=course, workers=2, options=options, progress=False)
    assert report.failed == {}, report.failed
    scores = {sub.student: sub.score for sub in report.graded}
    assert scores.pop("control") == 3
    expected = {f"attack-{name}": MUST_SCORE.get(name, 1) for name in attacks}
    assert scores == expected
