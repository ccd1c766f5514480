"""``autograder release <id>``: nbgrader's ``generate_assignment``, then a refusal if anything leaked.

The release is generated into ``<course>/release/<id>/`` by nbgrader from the notebook built out of the MyST
source; :func:`autograder.hygiene.scan` then looks for solution code, hidden tests, outputs and instructor paths
in every released file, and nbgrader's validator runs the release to prove it reports "not yet solved"
(``NotImplementedError`` in the answers) rather than crashing. A release that fails either check is removed,
and the error lists where each problem is.
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from autograder import hygiene
from autograder.course import COURSE_DIR, REPO_ROOT, build_source, load_source

__all__ = ["ReleaseError", "ReleaseReport", "nbgrader", "release", "validate_release"]


class ReleaseError(RuntimeError):
    """The release was refused; the message lists every problem and where it is."""


@dataclass(frozen=True)
class ReleaseReport:
    """Where the release is, and what nbgrader's validator said of each notebook in it."""

    directory: Path
    notebooks: tuple[Path, ...]
    unsolved_cells: int


def nbgrader(*args: str, course_dir: Path, check: bool = True, timeout: float | None = None) -> subprocess.CompletedProcess:
    """Run ``nbgrader <args>`` in ``course_dir`` (where its ``nbgrader_config.py`` is) and capture its output."""
    bin_dir = Path(sys.executable).parent
    command = [str(bin_dir / "nbgrader") if (bin_dir / "nbgrader").exists() else "nbgrader", *args]
    # nbgrader runs `alembic` and kernels from PATH: put this environment's scripts first.
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    result = subprocess.run(command, cwd=course_dir, capture_output=True, text=True, timeout=timeout, env=env)
    if check and result.returncode != 0:
        raise RuntimeError(
            f"`nbgrader {' '.join(args)}` failed with exit code {result.returncode} in {course_dir}:\n"
            f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
        )
    return result


def _extra_instructor_files(assignment: str) -> list[Path]:
    package = REPO_ROOT / "autograder"
    files = [package / "hidden" / f"{assignment}.py", package / "mutants" / f"{assignment}.py"]
    return [path for path in files if path.exists()]


def validate_release(notebook: Path) -> int:
    """Run nbgrader's validator on a released notebook; return how many cells report "not yet solved".

    Raises ``ReleaseError`` if a cell fails with anything other than the stubs' ``NotImplementedError``
    (a missing data file, a typo in an instruction cell): that is a crash, not an unsolved answer.
    """
    from nbgrader.validator import Validator

    validator = Validator()
    validator.validate_all = True
    result = validator.validate(str(notebook))
    crashes = []
    unsolved = 0
    for failure in result.get("failed", []) + result.get("passed", []):
        error = html.unescape(re.sub(r"<[^>]+>", "", failure.get("error", "") or ""))  # the validator sends HTML
        if not error:
            continue
        if "NotImplementedError" in error or "You did not provide a response" in error:
            unsolved += 1
        else:
            crashes.append(f"{notebook.name}: {failure.get('source', '')[:120]!r}: {error.strip()[-300:]}")
    if crashes:
        raise ReleaseError("the release crashes under nbgrader validate:\n" + "\n".join(crashes))
    return unsolved


def release(assignment: str, course_dir: Path = COURSE_DIR, *, validate: bool = True) -> ReleaseReport:
    """Generate ``<course>/release/<id>/``, refuse it (``ReleaseError``) if it leaks or crashes."""
    build_source(assignment, course_dir)
    nbgrader("generate_assignment", assignment, "--force", course_dir=course_dir)
    directory = course_dir / "release" / assignment
    problems = hygiene.scan(directory, load_source(assignment, course_dir), _extra_instructor_files(assignment))
    if problems:
        shutil.rmtree(directory, ignore_errors=True)
        listing = "\n".join(f"  - {problem}" for problem in problems)
        raise ReleaseError(
            f"refused to release {assignment!r}: {len(problems)} problem(s) in the generated release "
            f"(removed):\n{listing}"
        )
    notebooks = tuple(sorted(directory.glob("*.ipynb")))
    unsolved = sum(validate_release(notebook) for notebook in notebooks) if validate else 0
    return ReleaseReport(directory, notebooks, unsolved)
