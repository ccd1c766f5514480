"""The feedback a student reads: one HTML page per submission, scanned for hidden-test text before it is written.

A page shows, for each test cell, its name, the points earned and the check's message (the input, what was
expected, what came back, a hint), and lists the grader's notes: tampering it found and corrected, a
submission it could not read, and, when the instructor graded without a sandbox, that fact. It never shows
the hidden tests' source or cases. :func:`write_feedback` runs :func:`autograder.hygiene.scan_text` over the
page against the instructor's material and refuses to write a page that quotes it.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from autograder.hygiene import instructor_paths, scan_text

__all__ = [
    "CellFeedback", "FeedbackLeak", "SubmissionFeedback", "feedback_from_log", "render_feedback", "write_feedback",
]


class FeedbackLeak(RuntimeError):
    """A feedback page would have quoted the instructor's material; the message says where."""


@dataclass(frozen=True)
class CellFeedback:
    """One graded cell as the student sees it."""

    grade_id: str
    points: float
    max_points: float | None
    message: str = ""
    manual: bool = False


@dataclass
class SubmissionFeedback:
    """Everything on one student's page."""

    assignment: str
    student: str
    cells: Sequence[CellFeedback]
    notes: Sequence[str] = field(default_factory=list)
    graded_at: str = ""

    @property
    def score(self) -> float:
        """Autograded points earned."""
        return sum(cell.points for cell in self.cells if not cell.manual)

    @property
    def max_score(self) -> float:
        """Autograded points available."""
        return sum(cell.max_points or 0 for cell in self.cells if not cell.manual)


_STYLE = """
body { font-family: system-ui, sans-serif; max-width: 52rem; margin: 2rem auto; padding: 0 1rem; color: #222; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #ddd; vertical-align: top; }
td.points { white-space: nowrap; }
tr.pass td.points { color: #1a7f37; } tr.fail td.points { color: #cf222e; }
pre { white-space: pre-wrap; margin: 0; font-size: .9rem; }
.notes { background: #fff8c5; padding: .6rem 1rem; border-radius: .3rem; }
"""


def _redact(text: str) -> str:
    """Instructor paths (the repository, the home folder) in a message become ``<course>``."""
    for path in sorted(instructor_paths(), key=len, reverse=True):
        text = text.replace(path, "<course>")
    return text


def render_feedback(feedback: SubmissionFeedback) -> str:
    """The HTML page, every piece of text escaped."""
    rows = []
    for cell in feedback.cells:
        if cell.manual:
            points, status = cell.message or "graded by hand", "manual"
        else:
            points = f"{cell.points:g} / {cell.max_points:g}"
            status = "pass" if cell.points >= (cell.max_points or 0) else "fail"
        message = _redact(cell.message or ("passed" if status == "pass" else ""))
        rows.append(
            f'<tr class="{status}"><td>{html.escape(cell.grade_id)}</td><td class="points">{html.escape(points)}</td>'
            f"<td><pre>{html.escape(message)}</pre></td></tr>"
        )
    notes = ""
    if feedback.notes:
        items = "".join(f"<li>{html.escape(_redact(note))}</li>" for note in feedback.notes)
        notes = f'<div class="notes"><strong>Notes from the grader</strong><ul>{items}</ul></div>'
    title = f"Feedback: {feedback.assignment} ({feedback.student})"
    return (
        f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{html.escape(title)}</title>'
        f"<style>{_STYLE}</style></head><body>\n<h1>{html.escape(title)}</h1>\n"
        f"<p>Autograded score: <strong>{feedback.score:g} / {feedback.max_score:g}</strong>"
        + (f" (graded {html.escape(feedback.graded_at)})" if feedback.graded_at else "")
        + f"</p>\n{notes}\n<table><thead><tr><th>test</th><th>points</th><th>message</th></tr></thead>"
        f"<tbody>{''.join(rows)}</tbody></table>\n</body></html>\n"
    )


def write_feedback(feedback: SubmissionFeedback, path: Path, secret: Mapping[str, str]) -> Path:
    """Render, scan against the instructor's material (``hygiene.instructor_text``), and write the page.

    Raises ``FeedbackLeak`` (and writes nothing) if the page quotes a hidden test, a solution or a grading
    marker.
    """
    page = render_feedback(feedback)
    shown = "\n".join([cell.message for cell in feedback.cells] + list(feedback.notes))  # the text, line by line
    leaks = [f"{where}: {what}" for where, what in scan_text(_redact(shown), dict(secret))]
    if leaks:
        raise FeedbackLeak(f"the feedback of {feedback.student} for {feedback.assignment} quotes: {'; '.join(leaks)}")
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    temporary.write_text(page, encoding="utf-8")
    temporary.replace(path)
    return path


def feedback_from_log(assignment: str, course_dir: Path, db_url: str, log_path: Path, secret: Mapping[str, str]) -> list[Path]:
    """Rewrite every student's page for ``assignment`` from the grading log (the last record of each student),
    with the manual grades entered since in formgrader. Returns the pages written."""
    from nbgrader.api import Gradebook, MissingEntry

    from autograder.gradebook import read_log

    latest: dict[str, dict] = {}
    for record in read_log(log_path).records:
        if record.get("assignment") == assignment:
            latest[record["student"]] = record
    pages = []
    with Gradebook(db_url) as gradebook:
        for student, record in sorted(latest.items()):
            cells = []
            for notebook, graded in record["notebooks"].items():
                for grade_id, cell in graded.items():
                    if cell["auto_score"] is None:
                        try:
                            grade = gradebook.find_grade(grade_id, notebook, assignment, student)
                            manual = grade.manual_score
                        except MissingEntry:
                            manual = None
                        message = "" if manual is None else f"graded by hand: {manual:g} / {cell['max_score']:g}"
                        cells.append(CellFeedback(grade_id, manual or 0.0, cell["max_score"], message, manual=True))
                    else:
                        cells.append(CellFeedback(grade_id, cell["auto_score"], cell["max_score"], cell["message"]))
            feedback = SubmissionFeedback(assignment, student, cells, list(record.get("flags", [])),
                                          graded_at=record.get("graded_at", ""))
            page = course_dir / "feedback" / student / assignment / f"{assignment}.html"
            pages.append(write_feedback(feedback, page, secret))
    return pages
