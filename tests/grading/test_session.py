"""A submission whose process cannot be brought back loses the rest of its questions, with a reason, and
never the batch: grading one submission does not raise for what its process or the fork server did."""

from __future__ import annotations

from autograder import bundle
from autograder.forkserver import ForkServerError
from autograder.grading import GradingOptions, _Session
from autograder.sandbox import CellResult, SandboxError


class _Unrestartable:
    """A sandbox whose process dies in the first cell and whose restart fails as a dead fork server's would."""

    def __init__(self, error: Exception):
        self.error, self.execs = error, 0

    def exec(self, source: str, cell: str) -> CellResult:
        self.execs += 1
        return CellResult("died", "The submission's process exited with status 3.")

    def restart(self) -> None:
        raise self.error

    def probe(self, *args, **kwargs):  # pragma: no cover - must never be reached
        raise AssertionError("a broken session must not probe")


def test_a_runner_that_cannot_be_restarted_costs_the_rest_with_a_reason():
    for error in (ForkServerError("the fork server stopped."), SandboxError("the sandbox's process is gone")):
        notes: list[str] = []
        session = _Session(_Unrestartable(error), GradingOptions(), notes)
        session.run_code("import os; os._exit(3)", "cell-1")
        session.run_code("x = 1", "cell-2")  # not attempted: nothing could run it
        grade = session.judge_cell(bundle.TestCell("test_relu", 2.0, ()))
        assert session.sandbox.execs == 1
        assert grade.score == 0.0 and grade.max_score == 2.0
        assert grade.message == f"the runner could not be restarted: {error}"
        assert notes == [
            "cell cell-1: The submission's process exited with status 3. "
            "The cells before it were replayed; this one was skipped.",
            f"the runner could not be restarted: {error}",
        ]
