"""``autograder verify <id>``: prove an assignment sound, end to end through nbgrader, before releasing it.

In a throw-away copy of the course it:

1. generates the release (``autograder release``: nbgrader, leak scan, nbgrader validate);
2. writes the clean solution (``autograder solutions``) and checks it holds no grading material;
3. submits, as pseudo-students, the reference solution, the untouched release and seeded mutants
   (:mod:`autograder.mutants`) in nbgrader's ``submitted/<student>/<id>/`` layout: by default the fewest
   mutants whose rubrics together cover every test cell, or all of them with ``all_mutants=True``;
4. grades each with ``nbgrader autograde`` and reads the scores back from nbgrader's gradebook;
5. exports the grades with ``nbgrader export`` and checks the CSV agrees with the gradebook;
6. grades every mutant in one process (:func:`autograder.inprocess.grade_in_process`: the same hidden checks,
   seconds instead of a kernel each);
7. judges: the reference earns every autograded point, within the time budget; the blank release earns zero;
   each mutant fails exactly the test cells its rubric says, through nbgrader and in process alike; and every
   test cell fails on the blank release and on at least one mutant (mutation check: a hidden test nothing can
   fail is a defect).
"""

from __future__ import annotations

import csv
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from autograder.course import COURSE_DIR, load_source, source_dir
from autograder.inprocess import grade_in_process
from autograder.mutants import Mutant, mutants_of
from autograder.release import nbgrader, release
from autograder.solutions import strip_solution_markers, write_solutions

__all__ = ["Submission", "VerifyReport", "verify"]

SOLUTION_BUDGET_SECONDS = 120.0  # "runs with the solution in under 2 minutes on a CPU"


@dataclass
class Submission:
    """One pseudo-student's graded submission."""

    student: str
    expected_failures: frozenset[str]
    score: float = 0.0
    max_score: float = 0.0
    failed: frozenset[str] = frozenset()
    manual_pending: tuple[str, ...] = ()
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        """The test cells that failed are exactly the expected ones."""
        return self.failed == self.expected_failures


@dataclass
class VerifyReport:
    """Everything verify measured, and the list of problems (empty when the assignment is sound)."""

    assignment: str
    test_cells: dict[str, float] = field(default_factory=dict)
    submissions: list[Submission] = field(default_factory=list)
    in_process: list[Submission] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    export_rows: int = 0

    @property
    def ok(self) -> bool:
        """True when verify found no problem."""
        return not self.problems

    def render(self) -> str:
        """A table a person reads: one row per pseudo-student, then the problems."""
        lines = [f"autograder verify {self.assignment}: {len(self.test_cells)} test cells, "
                 f"{sum(self.test_cells.values()):g} autograded points"]
        lines.append(f"  {'submission':<32} {'score':>11} {'seconds':>8}  failed test cells")
        for sub in self.submissions:
            mark = "ok" if sub.ok else "UNEXPECTED"
            failed = ", ".join(sorted(sub.failed)) or "-"
            pending = f" (+{len(sub.manual_pending)} written answer(s) to grade by hand)" if sub.manual_pending else ""
            lines.append(
                f"  {sub.student:<32} {sub.score:>5g}/{sub.max_score:<5g} {sub.seconds:>8.1f}  {failed}  [{mark}]{pending}"
            )
        lines.append(f"  grades CSV from `nbgrader export`: {self.export_rows} rows")
        if self.in_process:
            wrong = [sub.student for sub in self.in_process if not sub.ok]
            lines.append(
                f"  all {len(self.in_process)} mutants graded in process: "
                + (f"UNEXPECTED results for {', '.join(wrong)}" if wrong else "each fails exactly its rubric")
            )
        lines += [f"  PROBLEM: {problem}" for problem in self.problems] or ["  sound: no problems"]
        return "\n".join(lines)


def _course_copy(assignment: str, course_dir: Path, workdir: Path) -> Path:
    course = workdir / "course"
    shutil.copytree(source_dir(assignment, course_dir), course / "source" / assignment,
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints", "*.ipynb"))
    config = (course_dir / "nbgrader_config.py").resolve()
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()  # noqa: F821\nload_subconfig({str(config)!r})  # noqa: F821\n"
        f"c.CourseDirectory.root = {str(course)!r}\n"
    )
    return course


def _answer_sources(assignment: str, course_dir: Path, mutant: Mutant | None) -> dict[str, str]:
    """grade_id -> what the pseudo-student writes in each answer cell."""
    answers = {}
    for cell in load_source(assignment, course_dir).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            answers[meta["grade_id"]] = strip_solution_markers(cell.source)
    if mutant is not None:
        unknown = set(mutant.replace) - set(answers)
        if unknown:
            raise KeyError(f"mutant {mutant.name!r} replaces cells that are not answer cells: {sorted(unknown)}")
        answers.update(mutant.replace)
    return answers


def _submit(course: Path, assignment: str, student: str, answers: dict[str, str] | None) -> None:
    """Copy the release into ``submitted/<student>/<id>/``, with the answers written in (None: untouched)."""
    import nbformat

    target = course / "submitted" / student / assignment
    shutil.copytree(course / "release" / assignment, target)
    if answers is None:
        return
    for path in target.glob("*.ipynb"):
        notebook = nbformat.read(path, as_version=4)
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in answers:
                cell.source = answers[grade_id]
        nbformat.write(notebook, path)


def _read_gradebook(course: Path, assignment: str, submission: Submission, test_cells: dict[str, float]) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        graded = gradebook.find_submission(assignment, submission.student)
        failed, pending = set(), []
        for notebook in graded.notebooks:
            for grade in notebook.grades:
                if grade.name in test_cells:
                    if (grade.auto_score or 0) < grade.max_score:
                        failed.add(grade.name)
                elif grade.needs_manual_grade:
                    pending.append(grade.name)
        submission.score = float(graded.score)
        submission.max_score = float(graded.max_score)
        submission.failed = frozenset(failed)
        submission.manual_pending = tuple(sorted(pending))


def _test_cells(assignment: str, course_dir: Path) -> dict[str, float]:
    cells = {}
    for cell in load_source(assignment, course_dir).cells:
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("grade") and not meta.get("solution"):
            cells[meta["grade_id"]] = float(meta["points"])
    return cells


def covering_mutants(mutants: list[Mutant], cells: list[str]) -> list[Mutant]:
    """The fewest mutants (greedy set cover) whose rubrics together fail every test cell they can cover."""
    chosen: list[Mutant] = []
    uncovered = set(cells)
    while uncovered:
        best = max(mutants, key=lambda mutant: (len(mutant.fails & uncovered), -len(mutant.fails)), default=None)
        if best is None or not best.fails & uncovered:
            break
        chosen.append(best)
        uncovered -= best.fails
    return chosen


def verify(
    assignment: str,
    course_dir: Path = COURSE_DIR,
    *,
    mutants: list[Mutant] | None = None,
    all_mutants: bool = False,
    progress: Callable[[str], None] = lambda message: None,
    keep: Path | None = None,
) -> VerifyReport:
    """Run every step of the module docstring and return the report (``report.ok`` when sound)."""
    report = VerifyReport(assignment, _test_cells(assignment, course_dir))
    every_mutant = mutants_of(assignment) if mutants is None else mutants
    mutants = every_mutant if all_mutants else covering_mutants(every_mutant, list(report.test_cells))
    with tempfile.TemporaryDirectory(prefix=f"verify-{assignment}-") as tmp:
        workdir = keep or Path(tmp)
        course = _course_copy(assignment, course_dir, workdir)
        progress("generating the release")
        released = release(assignment, course)
        progress(f"release is clean; nbgrader validate: {released.unsolved_cells} cells not yet solved")
        write_solutions(assignment, course)

        everyone = [Submission("reference", frozenset()), Submission("blank", frozenset(report.test_cells))]
        everyone += [Submission(f"mutant-{mutant.name}", mutant.fails) for mutant in mutants]
        _submit(course, assignment, "reference", _answer_sources(assignment, course_dir, None))
        _submit(course, assignment, "blank", None)
        for mutant in mutants:
            _submit(course, assignment, f"mutant-{mutant.name}", _answer_sources(assignment, course_dir, mutant))

        for submission in everyone:
            progress(f"nbgrader autograde {assignment} --student {submission.student}")
            start = time.perf_counter()
            nbgrader("autograde", assignment, "--student", submission.student, "--force", course_dir=course)
            submission.seconds = time.perf_counter() - start
            _read_gradebook(course, assignment, submission, report.test_cells)
            report.submissions.append(submission)

        export = course / "grades.csv"
        nbgrader("export", "--to", str(export), course_dir=course)
        rows = list(csv.DictReader(export.open()))
        report.export_rows = len(rows)
    progress(f"grading all {len(every_mutant)} mutants in process")
    for mutant in every_mutant:
        failed = grade_in_process(assignment, replace=mutant.replace, course_dir=course_dir).failed
        report.in_process.append(Submission(f"mutant-{mutant.name}", mutant.fails, failed=frozenset(failed)))
    _judge(report, rows)
    return report


def _judge(report: VerifyReport, rows: list[dict[str, str]]) -> None:
    problems = report.problems
    full = sum(report.test_cells.values())
    by_student = {sub.student: sub for sub in report.submissions}
    reference, blank = by_student["reference"], by_student["blank"]
    if reference.failed:
        problems.append(f"the reference solution fails {sorted(reference.failed)}")
    if reference.score < full:
        problems.append(f"the reference solution scores {reference.score:g} of {full:g} autograded points")
    if reference.seconds > SOLUTION_BUDGET_SECONDS:
        problems.append(f"grading the reference took {reference.seconds:.0f} s, over {SOLUTION_BUDGET_SECONDS:.0f} s")
    if blank.score != 0:
        problems.append(f"the blank release scores {blank.score:g}, not 0")
    for sub in report.submissions:
        if sub.student not in ("reference", "blank") and not sub.ok:
            extra, missing = sub.failed - sub.expected_failures, sub.expected_failures - sub.failed
            problems.append(
                f"{sub.student}: fails {sorted(sub.failed)}; the rubric says {sorted(sub.expected_failures)}"
                + (f" (unexpected: {sorted(extra)})" if extra else "")
                + (f" (passes, but should fail: {sorted(missing)})" if missing else "")
            )
    for sub in report.in_process:
        if not sub.ok:
            problems.append(
                f"{sub.student} (in process): fails {sorted(sub.failed)}; the rubric says {sorted(sub.expected_failures)}"
            )
    graded = report.submissions + report.in_process
    mutant_failures = set().union(*(s.failed for s in graded if s.student.startswith("mutant-")))
    for cell in report.test_cells:
        if cell not in blank.failed:
            problems.append(f"test cell {cell!r} passes on the blank release")
        if cell not in mutant_failures:
            problems.append(f"test cell {cell!r} fails on no mutant: a test nothing can fail is a defect")
    exported = {row["student_id"]: float(row["score"]) for row in rows if row.get("assignment") == report.assignment}
    for sub in report.submissions:
        if abs(exported.get(sub.student, float("nan")) - sub.score) > 1e-9:
            problems.append(f"`nbgrader export` has {exported.get(sub.student)} for {sub.student}, the gradebook {sub.score:g}")
