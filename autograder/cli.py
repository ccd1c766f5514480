"""The ``autograder`` command: the instructor's entry point (run it from the repository root or ``assignments/``).

    autograder release <id>      generate the student release; refuse it if it leaks or crashes
    autograder verify <id>...    prove assignments sound end to end through nbgrader (see autograder.verify)
    autograder solutions <id>    write the clean solution notebook for after the deadline
    autograder build <id>...     convert the MyST sources to the notebooks nbgrader reads
    autograder grade <id>        grade every submission, sandboxed, in parallel (local pool or Dask)
    autograder feedback <id>     rewrite the students' feedback pages from the grading log
    autograder export            write the gradebook's grades as CSV (nbgrader export's format, or Canvas's)

Exit status: 0 when everything asked for succeeded, 1 when an assignment was refused or found unsound,
2 on a usage error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from autograder.course import ASSIGNMENTS, COURSE_DIR, SourceError, build_source

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="autograder", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def ids(sub: argparse.ArgumentParser, many: bool) -> None:
        sub.add_argument(
            "assignment", nargs="+" if many else None, choices=ASSIGNMENTS, metavar="ID",
            help=f"assignment id: {', '.join(ASSIGNMENTS)}",
        )

    ids(commands.add_parser("release", help="generate the student release (nbgrader), refuse it if it leaks"), False)
    verify = commands.add_parser("verify", help="grade reference, blank release and mutants through nbgrader")
    ids(verify, True)
    verify.add_argument("--keep", type=Path, help="keep the throw-away course in this folder (for debugging)")
    verify.add_argument(
        "--all-mutants", action="store_true",
        help="grade every mutant through nbgrader (default: the fewest covering every test cell; all are "
        "always graded in process)",
    )
    solutions = commands.add_parser("solutions", help="write the clean solution notebook")
    ids(solutions, False)
    solutions.add_argument("--to", type=Path, help="where to write it (default assignments/solutions/<id>/<id>.ipynb)")
    ids(commands.add_parser("build", help="convert the MyST sources to notebooks for nbgrader"), True)
    grade = commands.add_parser("grade", help="grade every submission of an assignment (sandboxed, in parallel)")
    ids(grade, False)
    grade.add_argument("--submissions", type=Path, help="nbgrader's submitted/ folder (default assignments/submitted)")
    grade.add_argument("--db", help="SQLAlchemy URL of the gradebook (default: the course's gradebook.db)")
    grade.add_argument("--workers", type=int, help="local worker processes (default: the cores available)")
    grade.add_argument("--scheduler", help="address of a Dask scheduler (tcp://host:8786) to grade on its workers")
    grade.add_argument("--threads", type=int, help="CPU threads per student process (default: the cores shared out "
                       "among the local workers; uncapped on a Dask cluster)")
    grade.add_argument("--only-new", action="store_true", help="skip submissions already graded with these tests")
    grade.add_argument("--student", action="append", help="grade only this student (repeatable)")
    grade.add_argument(
        "--unsafe-no-sandbox", action="store_true",
        help="run student code without bubblewrap (every report says so); never on real submissions",
    )
    feedback = commands.add_parser("feedback", help="rewrite the feedback pages from the grading log")
    ids(feedback, False)
    feedback.add_argument("--db", help="SQLAlchemy URL of the gradebook (default: the course's gradebook.db)")
    export = commands.add_parser("export", help="write the grades as CSV (nbgrader export's format, or Canvas's)")
    export.add_argument("--db", help="SQLAlchemy URL of the gradebook (default: the course's gradebook.db)")
    export.add_argument("--to", type=Path, help="the CSV to write (default grades.csv, grades-canvas.csv for Canvas)")
    export.add_argument("--format", choices=("nbgrader", "canvas"), default="nbgrader")
    export.add_argument(
        "--canvas-id", action="append", default=[], metavar="ASSIGNMENT=ID",
        help="the Canvas id of an assignment's column (repeatable; --format canvas)",
    )
    return parser


def _say(message: str) -> None:
    print(f">>> {message}", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit status."""
    args = _parser().parse_args(argv)
    from autograder.release import ReleaseError

    try:
        if args.command == "build":
            for assignment in args.assignment:
                _say(f"wrote {build_source(assignment)}")
        elif args.command == "release":
            from autograder.release import release

            report = release(args.assignment)
            _say(f"released {args.assignment} to {report.directory} ({len(report.notebooks)} notebook(s), clean; "
                 f"nbgrader validate: {report.unsolved_cells} cells not yet solved, no crash)")
        elif args.command == "solutions":
            from autograder.solutions import write_solutions

            _say(f"wrote {write_solutions(args.assignment, to=args.to)}")
        elif args.command == "grade":
            from autograder.grade import grade_all
            from autograder.grading import GradingOptions
            from autograder.sandbox import SandboxUnavailable, sandbox_available

            if not args.unsafe_no_sandbox and not sandbox_available():
                print(
                    "autograder grade: refusing to grade: bubblewrap cannot sandbox student code here "
                    "(apt-get install bubblewrap). --unsafe-no-sandbox grades without it, and says so in every report.",
                    file=sys.stderr,
                )
                return 1
            try:
                report = grade_all(
                    args.assignment, submissions=args.submissions, db_url=args.db, workers=args.workers,
                    scheduler=args.scheduler, only_new=args.only_new, students=args.student,
                    options=GradingOptions(unsafe_no_sandbox=args.unsafe_no_sandbox, threads=args.threads),
                )
            except (FileNotFoundError, SandboxUnavailable) as error:
                print(f"autograder grade: {error}", file=sys.stderr)
                return 1
            print(report.render(), flush=True)
            return 0 if not report.failed else 1
        elif args.command == "feedback":
            from autograder.bundle import load_bundle
            from autograder.feedback import feedback_from_log
            from autograder.gradebook import default_db_url, default_log_path

            db = args.db or default_db_url()
            pages = feedback_from_log(
                args.assignment, COURSE_DIR, db, default_log_path(db), load_bundle(args.assignment).secret
            )
            _say(f"wrote {len(pages)} feedback page(s) under {COURSE_DIR / 'feedback'}")
        elif args.command == "export":
            from autograder.export import export_grades
            from autograder.gradebook import GradebookError, default_db_url

            bad = [pair for pair in args.canvas_id if "=" not in pair]
            if bad:
                print(f"autograder export: --canvas-id takes ASSIGNMENT=ID. Received: {bad[0]!r}", file=sys.stderr)
                return 2
            try:
                path = export_grades(
                    args.db or default_db_url(), args.to, format=args.format,
                    canvas_ids=dict(pair.split("=", 1) for pair in args.canvas_id) or None,
                )
            except (GradebookError, ValueError) as error:
                print(f"autograder export: {error}", file=sys.stderr)
                return 1
            _say(f"wrote {path}")
        elif args.command == "verify":
            from autograder.verify import verify

            sound = True
            for assignment in args.assignment:
                report = verify(
                    assignment, COURSE_DIR, progress=_say, all_mutants=args.all_mutants,
                    keep=args.keep / assignment if args.keep else None,
                )
                print(report.render(), flush=True)
                sound &= report.ok
            return 0 if sound else 1
    except (ReleaseError, SourceError) as error:
        print(f"autograder {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
