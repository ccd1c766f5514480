"""Promises of the repository itself: the layout, and the README's two commands."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_fixed_layout_exists():
    for path in ("book", "coursepkg", "assignments", "autograder", "tests", "_config.yml", "_toc.yml",
                 "pyproject.toml", "README.md", ".ci/run", "requirements/constraints.txt", "Makefile"):
        assert (ROOT / path).exists(), path


def test_readme_starts_with_the_two_commands():
    lines = [ln.strip() for ln in (ROOT / "README.md").read_text().splitlines() if ln.strip()]
    commands = [ln for ln in lines[:6] if ln.startswith("make ")]
    assert [c.split()[1] for c in commands] == ["book", "test"]


def test_ci_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci/run").read_text()
    assert os.access(ROOT / ".ci/run", os.X_OK)


def test_constraints_pin_every_package_exactly():
    lines = [ln for ln in (ROOT / "requirements/constraints.txt").read_text().splitlines()
             if ln and not ln.startswith("#")]
    assert len(lines) > 100
    assert all("==" in ln for ln in lines), [ln for ln in lines if "==" not in ln]
    pins = dict(ln.split("==") for ln in lines)
    assert pins["torch"] == "2.13.0"
    assert pins["jupyter-book"].startswith("1.")
    assert pins["nbgrader"].startswith("0.9.")


@pytest.mark.slow
def test_setup_is_idempotent():
    """After `make test` set the environment up, the set-up target has nothing left to do."""
    proc = subprocess.run(["make", "--question", "setup"], cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 0, (
        "make setup would reinstall: .venv/.installed is missing or older than pyproject.toml or "
        "requirements/constraints.txt. Run the suite through `make test`."
    )
