"""Feedback pages: escaped, redacted, and never written when they would quote the instructor's material."""

import pytest

from autograder.bundle import load_bundle
from autograder.course import REPO_ROOT
from autograder.feedback import CellFeedback, FeedbackLeak, SubmissionFeedback, render_feedback, write_feedback

from tests.grading.selftest import ASSIGNMENT, SELFTEST_COURSE


def _feedback(message="relu(x): expected ...", notes=()):
    cells = [
        CellFeedback("test_relu", 0, 2, message),
        CellFeedback("test_leaky_relu", 1, 1),
        CellFeedback("why_relu", 0, 1, manual=True),
    ]
    return SubmissionFeedback(ASSIGNMENT, "ada", cells, list(notes))


def test_the_page_lists_points_messages_and_notes_escaped():
    page = render_feedback(_feedback("<script>alert(1)</script>", notes=["test cell test_relu was edited"]))
    assert "Autograded score: <strong>1 / 3</strong>" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "graded by hand" in page and "test cell test_relu was edited" in page


def test_instructor_paths_in_messages_are_redacted():
    page = render_feedback(_feedback(f"FileNotFoundError: {REPO_ROOT}/assignments/source/x.npz"))
    assert str(REPO_ROOT) not in page and "&lt;course&gt;/x.npz" in page


def test_a_page_quoting_a_hidden_test_is_refused(tmp_path):
    bundle = load_bundle(ASSIGNMENT, SELFTEST_COURSE)
    leaked = '_hidden = run_hidden("_selftest", "test_relu", globals())'
    with pytest.raises(FeedbackLeak, match="hidden test"):
        write_feedback(_feedback(leaked), tmp_path / "ada.html", bundle.secret)
    assert not (tmp_path / "ada.html").exists()
    assert write_feedback(_feedback(), tmp_path / "ada.html", bundle.secret).read_text().startswith("<!DOCTYPE html>")


def test_the_bundle_knows_its_cells_cases_and_hash():
    bundle = load_bundle(ASSIGNMENT, SELFTEST_COURSE)
    assert set(bundle.cells) == {"test_relu", "test_leaky_relu"} and bundle.written == {"why_relu": 1.0}
    assert bundle.max_score == 3 and len(bundle.sha256) == 64
    assert all(len(plan.cases) == 10 for cell in bundle.cells.values() for plan in cell.checks)
