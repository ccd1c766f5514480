"""Every course assignment through ``autograder grade``, as an instructor runs it: sandboxed, forked from a fork
server that imported the assignment's frameworks, retraining the students' models where the assignment asks.

The reference solution must earn every autograded point and a mutant exactly what its rubric leaves it, the
answers ``autograder verify`` demands of nbgrader's own grading (``test_assignments.py``).
"""

from __future__ import annotations

import pytest

from autograder.bundle import load_bundle
from autograder.course import ASSIGNMENTS, COURSE_DIR
from autograder.grade import grade_all
from autograder.mutants import mutants_of
from autograder.release import release
from autograder.sandbox import sandbox_available
from autograder.verify import _answer_sources, _course_copy, _submit

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not sandbox_available(), reason="the attack suite insists on bubblewrap; this needs it too"),
]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_reference_earns_everything_and_a_mutant_its_rubric(assignment, tmp_path):
    course = _course_copy(assignment, COURSE_DIR, tmp_path)
    release(assignment, course, validate=False)
    mutant = mutants_of(assignment)[0]
    _submit(course, assignment, "reference", _answer_sources(assignment, COURSE_DIR, None))
    _submit(course, assignment, "mutant", _answer_sources(assignment, COURSE_DIR, mutant))

    report = grade_all(assignment, course_dir=course, workers=2, progress=False)

    bundle = load_bundle(assignment, course)
    graded = {submission.student: submission for submission in report.graded}
    assert report.failed == {}
    assert all(submission.sandboxed for submission in graded.values())
    lost = {grade_id: cell.message for grade_id, cell in graded["reference"].cells.items() if cell.score < cell.max_score}
    assert lost == {}, graded["reference"].notes
    failed = {grade_id for grade_id, cell in graded["mutant"].cells.items() if cell.score < cell.max_score}
    assert failed == set(mutant.fails), f"{mutant.name}: {graded['mutant'].notes}"
    assert graded["mutant"].score == bundle.max_score - sum(bundle.cells[grade_id].points for grade_id in mutant.fails)
