"""The autograder's self-test course (two questions, three mutants), copied where a test may write to it."""

from __future__ import annotations

import shutil
from pathlib import Path

SELFTEST_COURSE = Path(__file__).resolve().parent / "selftest_course"
ASSIGNMENT = "_selftest"


def course_copy(tmp_path: Path) -> Path:
    """A writable copy of the self-test course whose nbgrader config still loads the course's own."""
    course = tmp_path / "course"
    shutil.copytree(SELFTEST_COURSE / "source", course / "source", ignore=shutil.ignore_patterns("*.ipynb"))
    config = (SELFTEST_COURSE / "nbgrader_config.py").resolve()
    (course / "nbgrader_config.py").write_text(
        f"c = get_config()\nload_subconfig({str(config)!r})\nc.CourseDirectory.root = {str(course)!r}\n"
    )
    return course
