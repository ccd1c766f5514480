"""autograder verify on the self-test course: nbgrader autograde, gradebook, export, and the mutation check."""

import pytest

from autograder.inprocess import clear_answers, grade_in_process
from autograder.mutants import Mutant, mutants_of
from autograder.verify import verify

from tests.grading.selftest import ASSIGNMENT, SELFTEST_COURSE


@pytest.mark.slow
def test_a_sound_assignment_verifies_end_to_end():
    report = verify(ASSIGNMENT, SELFTEST_COURSE)
    assert report.ok, report.render()
    rows = {sub.student: sub for sub in report.submissions}
    assert (rows["reference"].score, rows["reference"].max_score) == (3, 4)  # 1 point is a written answer
    assert rows["reference"].manual_pending == ("why_relu",)
    assert rows["blank"].score == 0 and rows["blank"].failed == {"test_relu", "test_leaky_relu"}
    assert rows["mutant-abs"].score == 1 and rows["mutant-fixed-slope"].score == 2
    assert "mutant-calls-coursepkg" not in rows  # two mutants cover both test cells through nbgrader
    assert report.export_rows == 4
    assert [(sub.student, sub.ok) for sub in report.in_process] == [
        ("mutant-abs", True), ("mutant-fixed-slope", True), ("mutant-calls-coursepkg", True),
    ]
    rendered = report.render()
    assert "sound: no problems" in rendered and "all 3 mutants graded in process: each fails exactly its rubric" in rendered


def test_covering_mutants_picks_the_fewest_that_fail_every_cell():
    from autograder.verify import covering_mutants

    mutants = [
        Mutant("a", "", {"x": ""}, fails={"t1"}),
        Mutant("b", "", {"x": ""}, fails={"t1", "t2"}),
        Mutant("c", "", {"x": ""}, fails={"t3"}),
    ]
    assert [m.name for m in covering_mutants(mutants, ["t1", "t2", "t3"])] == ["b", "c"]


@pytest.mark.slow
def test_a_wrong_rubric_and_a_test_nothing_fails_are_reported():
    abs_mutant = mutants_of(ASSIGNMENT)[0]
    wrong = Mutant("abs", "relu as abs, with the wrong rubric", abs_mutant.replace, fails={"test_leaky_relu"})
    report = verify(ASSIGNMENT, SELFTEST_COURSE, mutants=[wrong])
    assert not report.ok
    assert "mutant-abs (in process): fails ['test_relu']; the rubric says ['test_leaky_relu']" in report.problems
    assert (
        "mutant-abs: fails ['test_relu']; the rubric says ['test_leaky_relu'] (unexpected: ['test_relu']) "
        "(passes, but should fail: ['test_leaky_relu'])" in report.problems
    )
    assert "test cell 'test_leaky_relu' fails on no mutant: a test nothing can fail is a defect" in report.problems


def test_in_process_grading_agrees_with_the_rubric():
    assert grade_in_process(ASSIGNMENT, course_dir=SELFTEST_COURSE).failed == set()
    assert grade_in_process(ASSIGNMENT, course_dir=SELFTEST_COURSE, blank=True).failed == {"test_relu", "test_leaky_relu"}
    for mutant in mutants_of(ASSIGNMENT):
        assert grade_in_process(ASSIGNMENT, course_dir=SELFTEST_COURSE, replace=mutant.replace).failed == mutant.fails


def test_clear_answers_keeps_signature_and_indentation():
    source = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
    assert clear_answers(source) == "def f(x):\n    '''doc'''\n    # YOUR CODE HERE\n    raise NotImplementedError()"
    assert clear_answers("x = 1") == "# YOUR CODE HERE\nraise NotImplementedError()"


def test_mutants_must_cost_something():
    with pytest.raises(ValueError, match="lists no failing test cell"):
        Mutant("m", "why", {"relu": "pass"}, fails=set())
