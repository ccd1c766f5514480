"""Grading throughput: `nbgrader autograde` against `autograder grade`, on the same submissions, in one run.

Generates N submissions of an assignment that imports a framework (by default the autograder's self-test
assignment with ``import tensorflow`` added to its set-up cell, so that start-up costs dominate as they do in a
real course; ``--assignment pooling_cnn`` uses a course assignment as it is), half of them right and half of
them mutants, then:

1. executes one notebook alone (``jupyter nbconvert --execute``): the cost of just running it;
2. grades all N with ``nbgrader autograde`` (one kernel per submission, sequential, no sandbox);
3. grades all N with ``autograder grade`` (sandboxed, ``--workers`` processes): first forking every student
   process from a fork server per worker that imported the framework once (where one can run: root and
   bubblewrap), then starting a fresh sandbox per submission, imported ahead of time (the fallback).

It prints submissions per minute for each, the ratios to nbgrader, the autograder's per-submission cost
against just executing the notebook, and whether nbgrader and every mode gave every student the same score.
Run: ``.venv/bin/python benchmarks/grading.py [--count 50] [--framework tensorflow]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.course import COURSE_DIR  # noqa: E402
from autograder.forkserver import forkserver_available  # noqa: E402
from autograder.grade import grade_all  # noqa: E402
from autograder.grading import GradingOptions  # noqa: E402
from autograder.mutants import mutants_of  # noqa: E402
from autograder.release import nbgrader, release  # noqa: E402
from autograder.verify import _answer_sources, _course_copy, _submit  # noqa: E402

SELFTEST = ROOT / "tests" / "grading" / "selftest_course"


def _course(assignment: str, framework: str, workdir: Path) -> Path:
    if assignment != "_selftest":
        return _course_copy(assignment, COURSE_DIR, workdir)
    course = _course_copy("_selftest", SELFTEST, workdir)
    source = course / "source" / "_selftest" / "_selftest.md"
    module = {"tensorflow": "tensorflow", "torch": "torch"}[framework]
    source.write_text(source.read_text().replace("import numpy as np\n", f"import numpy as np\nimport {module}\n", 1))
    return course


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--assignment", default="_selftest")
    parser.add_argument("--framework", choices=("tensorflow", "torch"), default="tensorflow")
    parser.add_argument("--count", type=int, default=50)
    parser.add_argument("--workers", type=int, default=len(os.sched_getaffinity(0)))
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="bench-grading-") as tmp:
        course = _course(args.assignment, args.framework, Path(tmp))
        course_dir = SELFTEST if args.assignment == "_selftest" else COURSE_DIR
        release(args.assignment, course, validate=False)
        mutants = mutants_of(args.assignment)
        for index in range(args.count):
            mutant = None if index % 2 == 0 else mutants[index // 2 % len(mutants)]
            answers = _answer_sources(args.assignment, course_dir, mutant)
            _submit(course, args.assignment, f"student{index:03d}", answers)
        print(f"{args.count} submissions of {args.assignment!r} "
              f"({args.framework if args.assignment == '_selftest' else 'as written'}), {os.cpu_count()} cores")

        notebook = course / "submitted" / "student000" / args.assignment / f"{args.assignment}.ipynb"
        jupyter = Path(sys.executable).with_name("jupyter")
        start = time.perf_counter()
        subprocess.run([str(jupyter), "nbconvert", "--to", "notebook", "--execute", str(notebook),
                        "--output", str(Path(tmp) / "alone.ipynb")], check=True, capture_output=True)
        alone = time.perf_counter() - start
        print(f"  executing one notebook alone (nbconvert):   {alone:7.1f} s")

        start = time.perf_counter()
        nbgrader("autograde", args.assignment, "--force", course_dir=course, timeout=7200)
        nb_seconds = time.perf_counter() - start
        nb_rate = 60 * args.count / nb_seconds
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
            nb_scores = {sub.student.id: sub.score for sub in gradebook.assignment_submissions(args.assignment)}
        print(f"  nbgrader autograde:  {nb_seconds:7.1f} s  {nb_rate:6.1f} submissions/min  "
              f"({nb_seconds / args.count:.1f} s each, sequential, unsandboxed)")

        # the autograder writes to the same course: a regrade replaces each entry, as --force does
        modes = [("fork server", True)] if forkserver_available() else []
        modes.append(("sandbox per submission", False))
        scores: dict[str, dict[str, float]] = {"nbgrader": nb_scores}
        for label, forkserver in modes:
            start = time.perf_counter()
            options = GradingOptions(forkserver=forkserver)
            report = grade_all(args.assignment, course_dir=course, workers=args.workers, options=options,
                               progress=False)
            ag_seconds = time.perf_counter() - start
            ag_rate = 60 * args.count / ag_seconds
            per_worker = ag_seconds * args.workers / args.count
            print(f"  autograder grade, {label}:  {ag_seconds:7.1f} s  {ag_rate:6.1f} submissions/min  "
                  f"({args.workers} workers, sandboxed; {per_worker:.1f} s of worker time each)")
            print(f"    throughput ratio autograder / nbgrader: {ag_rate / nb_rate:.2f}x (target >= 3x)")
            print(f"    per-submission worker time / executing alone: {per_worker / alone:.2f} (target <= 1.20)")
            if report.failed:
                print(f"    NOT GRADED: {report.failed}")
            scores[label] = {graded.student: graded.score for graded in report.graded}
            shutil.rmtree(course / "autograded", ignore_errors=True)
        first, *others = scores.values()
        agree = all(other == first for other in others) and len(first) == args.count
        mean = sum(first.values()) / max(len(first), 1)
        print(f"  scores: mean {mean:.2f} of {report.max_score:g}; nbgrader and every mode gave every student the same score: "
              f"{'yes' if agree else 'NO'}")


if __name__ == "__main__":
    main()
