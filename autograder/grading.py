"""Grade one submission: its plan executed in a sandbox, its test cells judged outside, failures contained.

:func:`grade_submission` is what a worker runs (in a local process pool or on a Dask worker). It reads the
submission (:mod:`autograder.intake`: normalised, tampering corrected and flagged), starts a sandboxed runner
(:mod:`autograder.sandbox`) holding only the submission's files and the assignment's data, executes the plan's
code cells, and for each test cell sends the hidden checks' plain-data calls into the sandbox and judges the
plain outcomes here, with the wall time measured here. Nothing the student's code does decides a grade:

- a cell that times out or kills its process costs what depends on it: the runner is restarted, the cells that
  ran before are replayed, and grading goes on with the next question;
- a test cell whose calls time out or kill the process fails with that reason;
- a submission over its total wall-clock budget loses the questions it did not reach, with that reason.

The result is plain data (picklable, no student objects): scores, messages, notes, hashes.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder import __version__
from autograder.bundle import TestBundle, TestCell, load_bundle
from autograder.course import COURSE_DIR, source_dir
from autograder.kernel import judge_case
from autograder.forkserver import ForkServerError
from autograder.sandbox import Limits, Sandbox, SandboxError, SandboxLost

__all__ = ["CellGrade", "GradedSubmission", "GradingOptions", "grade_submission", "warm_modules"]

SEED_NOTE = "hidden cases use the seeds written in autograder/hidden/<id>.py; training checks state theirs"


@dataclass(frozen=True)
class GradingOptions:
    """How to grade: limits, sandboxing, and the per-submission wall-clock budget."""

    limits: Limits = field(default_factory=Limits)
    unsafe_no_sandbox: bool = False
    submission_seconds: float = 900.0
    warm: bool = True
    forkserver: bool | None = None  # fork students' processes from a warm server: None means where one can run
    threads: int | None = None  # CPU threads each student process may use (OpenMP, BLAS, torch, TF); None: no cap

    def environment(self) -> dict[str, str]:
        """The student's process's thread caps, as environment variables the libraries read when they load."""
        if self.threads is None:
            return {}
        if self.threads < 1:
            raise ValueError(f"GradingOptions: threads must be at least 1. Received: threads={self.threads}")
        count = str(self.threads)
        names = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS", "TF_NUM_INTRAOP_THREADS")
        # threads that spin while waiting burn the cores other workers need
        return {**dict.fromkeys(names, count), "TF_NUM_INTEROP_THREADS": count, "OMP_WAIT_POLICY": "PASSIVE"}


@dataclass(frozen=True)
class CellGrade:
    """One test cell's verdict."""

    grade_id: str
    score: float
    max_score: float
    message: str = ""


@dataclass
class GradedSubmission:
    """What a worker hands back: plain data only."""

    assignment: str
    student: str
    cells: dict[str, CellGrade]
    written: dict[str, float]
    notes: list[str]
    submission_sha256: str
    bundle_sha256: str
    sandboxed: bool
    seconds: float
    grader_version: str = __version__
    notebook_json: str | None = None
    timestamp: str | None = None

    @property
    def score(self) -> float:
        """Autograded points earned."""
        return sum(cell.score for cell in self.cells.values())


def warm_modules(bundle: TestBundle) -> tuple[str, ...]:
    """The modules the assignment's source imports (``numpy``, ``torch.nn``, ``tensorflow``...), in order: worth
    importing before the student's code runs, once per worker with a fork server. Lines of IPython magics
    and shell escapes are skipped; a cell that still does not parse is skipped."""
    import ast

    modules: dict[str, None] = {}
    for cell in bundle.source.cells:
        if cell.cell_type != "code":
            continue
        lines = [line for line in cell.source.splitlines() if not line.lstrip().startswith(("%", "!"))]
        try:
            tree = ast.parse("\n".join(lines))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                modules.update(dict.fromkeys(alias.name for alias in node.names))
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module and node.module != "__future__":
                modules.update(dict.fromkeys([node.module]))
    return tuple(name for name in modules if name.split(".")[0] != "autograder")  # the grader's, never inside


def _stage_files(bundle: TestBundle, submission: Path, into: Path) -> None:
    """The submission's files, then the assignment's data files (the instructor's copies win)."""
    for path in submission.iterdir():
        if path.is_file() and not path.is_symlink() and path.suffix != ".ipynb":
            shutil.copy2(path, into / path.name)
    data = source_dir(bundle.assignment, bundle.course_dir)
    for path in data.rglob("*"):
        if path.is_file() and path.suffix not in (".md", ".ipynb") and "__pycache__" not in path.parts:
            target = into / path.relative_to(data)
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(path, target)


class _Session:
    """A sandbox plus the code cells that ran in it, so that a lost process can be rebuilt."""

    def __init__(self, sandbox: Sandbox, options: GradingOptions, notes: list[str]):
        self.sandbox, self.options, self.notes = sandbox, options, notes
        self.replay: list[tuple[str, str]] = []
        self.broken: str | None = None  # why the runner cannot be restarted: every later step is lost with it

    def recover(self, why: str) -> bool:
        """Restart the runner and replay the cells that ran; ``False`` (and :attr:`broken`) if that fails too."""
        self.notes.append(why)
        try:
            self.sandbox.restart()
            for source, cell in self.replay:
                result = self.sandbox.exec(source, cell)
                if result.status in ("timeout", "died"):
                    self.broken = f"replaying cell {cell} after a restart failed: {result.error}"
                    break
        except SandboxLost as lost:
            self.broken = f"the runner could not be restarted: {lost.reason}"
        except (SandboxError, ForkServerError) as error:
            self.broken = f"the runner could not be restarted: {error}"
        if self.broken is not None:
            self.notes.append(self.broken)
        return self.broken is None

    def run_code(self, source: str, cell: str) -> None:
        if self.broken is not None:
            return
        result = self.sandbox.exec(source, cell)
        if result.status in ("timeout", "died"):
            self.recover(f"cell {cell}: {result.error} The cells before it were replayed; this one was skipped.")
            return
        if result.status == "error":
            self.notes.append(f"cell {cell} raised {result.error}")
        self.replay.append((source, cell))

    def judge_cell(self, cell: TestCell) -> CellGrade:
        if self.broken is not None:
            return CellGrade(cell.grade_id, 0.0, cell.points, self.broken)
        for plan in cell.checks:
            for case, calls in zip(plan.cases, plan.calls):
                try:
                    limit = min(plan.check.time_limit, self.options.limits.wall_seconds) + 5  # enforced from outside
                    outcomes = self.sandbox.probe(list(calls), plan.check.forbid, timeout=limit)
                except SandboxLost as lost:
                    message = f"{plan.check.name}: {lost.reason}"
                    self.recover(f"{cell.grade_id}: {lost.reason} The runner was restarted for the next question.")
                    return CellGrade(cell.grade_id, 0.0, cell.points, message)
                verdict = judge_case(plan.check, case, calls, outcomes, seconds=self.sandbox.last_wall_seconds)
                if verdict is not None:
                    return CellGrade(cell.grade_id, 0.0, cell.points, f"{plan.check.name}: {verdict}")
        return CellGrade(cell.grade_id, cell.points, cell.points, "")


def _failed_everywhere(bundle: TestBundle, reason: str) -> dict[str, CellGrade]:
    return {grade_id: CellGrade(grade_id, 0.0, cell.points, reason) for grade_id, cell in bundle.cells.items()}


def grade_submission(
    assignment: str,
    student: str,
    submission: Path,
    *,
    course_dir: Path = COURSE_DIR,
    options: GradingOptions | None = None,
    sandbox_factory: Any = None,
) -> GradedSubmission:
    """Grade ``submission`` (the folder ``submitted/<student>/<id>/``) and return plain results.

    ``sandbox_factory(files) -> Sandbox`` lets a worker hand out pre-warmed sandboxes
    (:meth:`autograder.pool.WarmPool.take`); by default a fresh one is started.
    """
    import hashlib

    import nbformat

    from autograder.intake import TestStep, read_submission

    options = options or GradingOptions()
    start = time.perf_counter()
    bundle = load_bundle(assignment, course_dir)
    submission = Path(submission)
    notebooks = sorted(submission.glob("*.ipynb"))
    preferred = submission / f"{assignment}.ipynb"
    path = preferred if preferred.exists() else (notebooks[0] if notebooks else preferred)
    intake = read_submission(path, bundle.source)
    notes = list(intake.flags)
    result = GradedSubmission(
        assignment, student, {}, dict(bundle.written), notes,
        intake.submission_sha256 or hashlib.sha256(b"").hexdigest(), bundle.sha256,
        sandboxed=not options.unsafe_no_sandbox, seconds=0.0,
    )
    if options.unsafe_no_sandbox:
        notes.append("graded WITHOUT a sandbox (--unsafe-no-sandbox): the student's code ran unconfined")
    if intake.fatal:
        result.cells = _failed_everywhere(bundle, intake.fatal)
        result.seconds = time.perf_counter() - start
        return result

    with tempfile.TemporaryDirectory(prefix="autograder-files-") as staging:
        _stage_files(bundle, submission, Path(staging))
        if sandbox_factory is not None:
            sandbox = sandbox_factory(Path(staging))
        else:
            sandbox = Sandbox(
                Path(staging), limits=options.limits, unsafe_no_sandbox=options.unsafe_no_sandbox,
                env=options.environment(),
            )
    with sandbox:
        session = _Session(sandbox, options, notes)
        if options.warm and (modules := warm_modules(bundle)):
            sandbox.warm(modules)
        try:
            sandbox.seed(bundle.seed)
        except SandboxLost as lost:
            session.recover(f"seeding the submission's process failed: {lost.reason} It was restarted.")
        deadline = start + options.submission_seconds
        for step in intake.plan:
            if time.perf_counter() > deadline:
                reason = f"the submission used up its {options.submission_seconds:g} s of grading time"
                for grade_id, cell in bundle.cells.items():
                    result.cells.setdefault(grade_id, CellGrade(grade_id, 0.0, cell.points, reason))
                notes.append(reason)
                break
            if isinstance(step, TestStep):
                result.cells[step.grade_id] = session.judge_cell(bundle.cells[step.grade_id])
            else:
                session.run_code(step.source, step.cell_id)
    missing = set(bundle.cells) - set(result.cells)
    for grade_id in sorted(missing):
        result.cells[grade_id] = CellGrade(grade_id, 0.0, bundle.cells[grade_id].points, "this test cell was not run")
    result.notebook_json = nbformat.writes(intake.notebook) if intake.notebook is not None else None
    result.seconds = time.perf_counter() - start
    return result
