"""``autograder grade <id>``: every submission of an assignment graded, recorded, and explained.

Submissions are read from nbgrader's layout, ``<submissions>/<student>/<id>/`` (``assignments/submitted`` by
default). Each is graded by :func:`autograder.grading.grade_submission` in a worker: a local process pool of
``--workers`` processes, or the workers of an existing Dask cluster (``--scheduler tcp://...``; the workers
must see the same course folder and submissions). Workers keep a warm sandbox ready (frameworks imported
while the previous submission was graded), and every sandbox serves one submission only.

Only this process writes: each result goes into nbgrader's gradebook (:class:`autograder.gradebook.
GradeRecorder`, one transaction, manual grades kept, an append-only log), a feedback page per student
(``feedback/<student>/<id>/<id>.html``), and the autograded notebook formgrader shows
(``autograded/<student>/<id>/``). A progress bar shows the ETA; the summary ends with a score histogram.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from autograder.bundle import load_bundle
from autograder.course import COURSE_DIR
from autograder.feedback import CellFeedback, SubmissionFeedback, write_feedback
from autograder.gradebook import CellScore, GradeRecorder, SubmissionResult, default_db_url, default_log_path
from autograder.grading import GradedSubmission, GradingOptions, grade_submission, warm_modules

__all__ = ["BatchReport", "discover", "grade_all", "histogram", "share_cores"]


@dataclass
class BatchReport:
    """What one ``autograder grade`` run did."""

    assignment: str
    graded: list[GradedSubmission] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    max_score: float = 0.0
    seconds: float = 0.0

    def render(self) -> str:
        """The summary printed at the end: counts, mean, and the histogram of scores."""
        scores = [sub.score for sub in self.graded]
        lines = [
            f"autograder grade {self.assignment}: {len(self.graded)} graded, {len(self.skipped)} unchanged "
            f"(skipped), {len(self.failed)} not graded, in {self.seconds:.0f} s"
        ]
        if scores:
            mean = sum(scores) / len(scores)
            lines.append(f"  scores out of {self.max_score:g}: mean {mean:.2f}, min {min(scores):g}, max {max(scores):g}")
            lines += [f"  {line}" for line in histogram(scores, self.max_score)]
        flagged = [sub.student for sub in self.graded if sub.notes]
        if flagged:
            lines.append(f"  with notes in their feedback (tampering, crashes, unread files): {', '.join(sorted(flagged))}")
        if any(not sub.sandboxed for sub in self.graded):
            lines.append("  WARNING: graded without a sandbox (--unsafe-no-sandbox); every report says so")
        lines += [f"  NOT GRADED {student}: {why}" for student, why in sorted(self.failed.items())]
        return "\n".join(lines)


def histogram(scores: list[float], max_score: float, *, bins: int = 10, width: int = 40) -> list[str]:
    """A text histogram of scores in ``bins`` equal bins over ``[0, max_score]``."""
    counts = [0] * bins
    for score in scores:
        index = min(bins - 1, int(bins * score / max_score)) if max_score > 0 else 0
        counts[index] += 1
    peak = max(counts) or 1
    lines = []
    for index, count in enumerate(counts):
        low, high = max_score * index / bins, max_score * (index + 1) / bins
        bar = "#" * round(width * count / peak)
        lines.append(f"[{low:5.1f}, {high:5.1f}{']' if index == bins - 1 else ')'} {count:4d} {bar}")
    return lines


def discover(submissions: Path, assignment: str) -> list[tuple[str, Path]]:
    """``(student, folder)`` for every ``<submissions>/<student>/<assignment>/`` folder, sorted by student."""
    if not submissions.is_dir():
        raise FileNotFoundError(f"no submissions folder at {submissions}: collect submissions there first "
                                "(nbgrader collect) or pass --submissions DIR")
    found = []
    for student in sorted(submissions.iterdir()):
        folder = student / assignment
        if student.is_dir() and folder.is_dir() and not student.name.startswith("."):
            found.append((student.name, folder))
    return found


def submission_digest(folder: Path, assignment: str) -> str:
    """SHA-256 of the submitted notebook's bytes (what ``--only-new`` compares)."""
    path = folder / f"{assignment}.ipynb"
    if not path.exists():
        notebooks = sorted(folder.glob("*.ipynb"))
        path = notebooks[0] if notebooks else path
    digest = hashlib.sha256()
    if path.exists():
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


# ----------------------------------------------------------------------------- worker side
_POOLS: dict[tuple[Any, ...], Any] = {}


def share_cores(options: GradingOptions, workers: int, scheduler: str | None) -> GradingOptions:
    """``options`` with ``threads`` set, for a local pool, to this machine's cores shared out among ``workers``.

    Two workers whose students' processes each let torch or TensorFlow use every core oversubscribe the
    machine: measured on ``pooling_cnn``, 10 submissions took 879 s instead of 26 s and the reference
    solution missed its 60 s training budget. An explicit ``threads`` is kept; on a Dask cluster, whose
    machines this process cannot see, ``None`` stays ``None``.
    """
    if options.threads is not None or scheduler is not None:
        return options
    return dataclasses.replace(options, threads=max(1, len(os.sched_getaffinity(0)) // workers))


def _close_pools() -> None:
    """Stop this worker's warm sandboxes and fork servers and delete their folders."""
    while _POOLS:
        _POOLS.popitem()[1].close()


def _worker_grade(assignment: str, student: str, folder: str, course_dir: str, options: GradingOptions) -> GradedSubmission:
    """Runs in a worker process (local pool or Dask): a warm sandbox from this worker's pool, one submission."""
    from autograder.pool import WarmPool

    bundle = load_bundle(assignment, Path(course_dir))
    modules = warm_modules(bundle) if options.warm else ()
    key = (modules, options.limits, options.unsafe_no_sandbox, options.forkserver, options.threads)
    pool = _POOLS.get(key)
    if pool is None:
        if not _POOLS:  # a pool worker skips atexit; multiprocessing's own finalizers still run at its exit
            from multiprocessing import util

            util.Finalize(None, _close_pools, exitpriority=10)
        pool = _POOLS[key] = WarmPool(
            modules, limits=options.limits, unsafe_no_sandbox=options.unsafe_no_sandbox, forkserver=options.forkserver,
            env=options.environment(),
        )
    return grade_submission(
        assignment, student, Path(folder), course_dir=Path(course_dir), options=options, sandbox_factory=pool.take,
    )


# ----------------------------------------------------------------------------- main process
def _executor(workers: int, scheduler: str | None) -> tuple[Callable[..., Any], Callable[[list[Any]], Iterator[Any]], Any]:
    """``(submit, as_completed, closer)`` for a local process pool or a Dask cluster."""
    if scheduler:
        from distributed import Client
        from distributed import as_completed as dask_completed

        client = Client(scheduler, timeout="30s")
        return (lambda fn, *args: client.submit(fn, *args, pure=False)), dask_completed, client
    pool = ProcessPoolExecutor(max_workers=workers)
    return pool.submit, as_completed, pool


def _write_outputs(course_dir: Path, graded: GradedSubmission, folder: Path, secret: dict[str, str]) -> None:
    cells = [CellFeedback(cell.grade_id, cell.score, cell.max_score, cell.message) for cell in graded.cells.values()]
    cells += [CellFeedback(grade_id, 0.0, points, "", manual=True) for grade_id, points in graded.written.items()]
    feedback = SubmissionFeedback(graded.assignment, graded.student, cells, graded.notes)
    base = f"{graded.student}/{graded.assignment}"
    write_feedback(feedback, course_dir / "feedback" / base / f"{graded.assignment}.html", secret)
    autograded = course_dir / "autograded" / base
    autograded.mkdir(parents=True, exist_ok=True)
    if graded.notebook_json is not None:
        (autograded / f"{graded.assignment}.ipynb").write_text(graded.notebook_json, encoding="utf-8")
    if (folder / "timestamp.txt").is_file():
        shutil.copy2(folder / "timestamp.txt", autograded / "timestamp.txt")


def _result(graded: GradedSubmission, seed: int, timestamp: str | None) -> SubmissionResult:
    cells = {grade_id: CellScore(cell.score, cell.max_score, cell.message) for grade_id, cell in graded.cells.items()}
    cells.update({grade_id: CellScore(None, points) for grade_id, points in graded.written.items()})
    flags = tuple(graded.notes) + (() if graded.sandboxed else ("unsafe-no-sandbox",))
    return SubmissionResult(
        graded.assignment, graded.student, {graded.assignment: cells}, graded.submission_sha256,
        graded.bundle_sha256, seed, graded.grader_version, flags, timestamp,
    )


def grade_all(
    assignment: str,
    *,
    course_dir: Path = COURSE_DIR,
    submissions: Path | None = None,
    db_url: str | None = None,
    workers: int | None = None,
    scheduler: str | None = None,
    options: GradingOptions | None = None,
    only_new: bool = False,
    progress: bool = True,
    students: Iterable[str] | None = None,
) -> BatchReport:
    """Grade every submission of ``assignment``; see the module docstring. Returns the report."""
    import time

    from tqdm.auto import tqdm

    start = time.perf_counter()
    options = options or GradingOptions()
    submissions = submissions or course_dir / "submitted"
    db_url = db_url or default_db_url(course_dir)
    bundle = load_bundle(assignment, course_dir)
    seed = bundle.seed
    report = BatchReport(assignment, max_score=bundle.max_score)
    chosen = set(students) if students is not None else None
    todo = [(student, folder) for student, folder in discover(submissions, assignment)
            if chosen is None or student in chosen]
    workers = workers or len(os.sched_getaffinity(0))
    options = share_cores(options, workers, scheduler)
    with GradeRecorder(db_url, default_log_path(db_url, course_dir)) as recorder:
        if only_new:
            fresh = []
            for student, folder in todo:
                if recorder.already_graded(student, assignment, submission_digest(folder, assignment), bundle.sha256):
                    report.skipped.append(student)
                else:
                    fresh.append((student, folder))
            todo = fresh
        submit, completed, closer = _executor(workers, scheduler)
        try:
            futures: dict[Any, tuple[str, Path]] = {}
            for student, folder in todo:
                future = submit(_worker_grade, assignment, student, str(folder), str(course_dir), options)
                futures[future] = (student, folder)
            bar = tqdm(total=len(futures), desc=f"grading {assignment}", unit="submission", disable=not progress)
            for future in completed(list(futures)):
                student, folder = futures[future]
                try:
                    graded = future.result()
                    stamp = folder / "timestamp.txt"
                    timestamp = stamp.read_text().strip() if stamp.is_file() else None
                    recorder.record(_result(graded, seed, timestamp))
                    _write_outputs(course_dir, graded, folder, bundle.secret)
                    report.graded.append(graded)
                except Exception as error:  # noqa: BLE001 - one submission never stops the batch
                    report.failed[student] = f"{type(error).__name__}: {error}"
                bar.update(1)
            bar.close()
        finally:
            if isinstance(closer, ProcessPoolExecutor):
                closer.shutdown(cancel_futures=True)
            else:
                closer.close()
    report.seconds = time.perf_counter() - start
    return report
