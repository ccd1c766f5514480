"""Run one test cell's hidden checks inside the notebook kernel: what ``nbgrader autograde`` executes.

A source notebook's test cell ends with a hidden block of three lines that ``nbgrader generate_assignment``
removes from the student release::

    ### BEGIN HIDDEN TESTS
    from autograder.kernel import run_hidden
    _hidden = run_hidden("conv", "test_conv2d_stride", globals())
    assert _hidden.passed, _hidden.report
    ### END HIDDEN TESTS

The ``assert`` sits in the cell, so a failure's traceback shows that line and the report, never the hidden
module's source. While the checks run, warnings and the process's stderr are silenced: nbgrader gives zero
points to a test cell that wrote anything to stderr, and a framework's warning must not cost a student points.
"""

from __future__ import annotations

import contextlib
import importlib
import io
import os
import sys
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from autograder.checks import Call, Check, Outcome, Ref, describe_value
from autograder.probe import RESULT_ERROR, run_calls

__all__ = ["HiddenResult", "describe_call", "hidden_checks", "judge_case", "run_hidden"]


@dataclass(frozen=True)
class HiddenResult:
    """The verdict on one test cell's hidden checks: ``passed`` and a report for the student."""

    passed: bool
    report: str


def hidden_checks(assignment: str, cell: str) -> list[Check]:
    """The checks of test cell ``cell`` (its nbgrader ``grade_id``) of ``assignment``."""
    module = importlib.import_module(f"autograder.hidden.{assignment}")
    try:
        return list(module.CHECKS[cell])
    except KeyError:
        raise KeyError(
            f"autograder.hidden.{assignment} has no checks for the test cell {cell!r}; "
            f"it has {sorted(module.CHECKS)}"
        ) from None


@cache
def _cases(assignment: str, cell: str, index: int) -> tuple[Any, ...]:
    return tuple(hidden_checks(assignment, cell)[index].cases())


def _describe_argument(value: Any) -> str:
    if isinstance(value, Ref):
        return f"<your {value.name}>"
    if isinstance(value, np.ndarray):
        return describe_value(value)
    if isinstance(value, (list, tuple)) and len(value) > 8:
        return f"{type(value).__name__} of {len(value)} items"
    return describe_value(value)


def describe_call(call: Call) -> str:
    """``conv2d(array of shape (1, 3, 7, 5) float64, stride=2)``: how a report names the input of a case."""
    parts = [_describe_argument(arg) for arg in call.args]
    parts += [f"{key}={_describe_argument(value)}" for key, value in call.kwargs.items()]
    return f"{call.function}({', '.join(parts)})"


def judge_case(
    check: Check, case: Any, calls: Sequence[Call], outcomes: Sequence[Outcome], *, seconds: float | None = None
) -> str | None:
    """The verdict on one case from its plain outcomes: ``None`` if it passes, else the student's message.

    ``seconds`` is the case's wall time measured by the caller outside the student's process (a sandboxed
    grader); without it, the times the calls reported are used, which student code could fake.
    """
    for call, outcome in zip(calls, outcomes):
        if outcome.forbidden:
            reached = ", ".join(outcome.forbidden[:2]) + (" and more" if len(outcome.forbidden) > 2 else "")
            if check.forbid_reason:
                return f"{call.function} called {reached}, which this task does not allow: {check.forbid_reason}"
            return (
                f"{call.function} must be written from scratch, but it called {reached}. "
                "These points need your own implementation."
            )
        if outcome.error is not None and outcome.error.startswith(RESULT_ERROR):
            return f"{describe_call(call)} returned {outcome.error[len(RESULT_ERROR):]}"
        if outcome.error is not None and not check.judge_errors:
            return f"{describe_call(call)} raised {outcome.error}"
    if seconds is None:
        seconds = sum(outcome.seconds for outcome in outcomes)
    if seconds > check.time_limit:
        return (
            f"{'; '.join(describe_call(call) for call in calls)} took {seconds:.1f} s, more than the "
            f"{check.time_limit:g} s allowed."
        )
    message = check.judge(case, outcomes)
    if message is None:
        return None
    return f"{message}\n    (input: {'; '.join(describe_call(call) for call in calls)})"


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Silence warnings and stderr (Python's and the file descriptor's) for the duration."""
    sys.stderr.flush()
    saved_fd = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    saved_stderr = sys.stderr
    try:
        os.dup2(devnull, 2)
        sys.stderr = io.StringIO()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stderr = saved_stderr
        os.dup2(saved_fd, 2)
        os.close(saved_fd)
        os.close(devnull)


def run_hidden(assignment: str, cell: str, namespace: Mapping[str, Any]) -> HiddenResult:
    """Run every hidden check of a test cell against the functions in ``namespace`` (the notebook's globals).

    Each check runs its cases in order and stops at its first failing case; the report lists one message
    per failing check, naming the input, what was expected and what came back.
    """
    checks = hidden_checks(assignment, cell)
    failures: list[str] = []
    with _quiet():
        for index, check in enumerate(checks):
            for case in _cases(assignment, cell, index):
                calls = list(check.calls(case))
                outcomes = run_calls(namespace, calls, forbid=check.forbid)
                message = judge_case(check, case, calls, outcomes)
                if message is not None:
                    failures.append(f"- {check.name}: {message}")
                    break
    if failures:
        report = f"{len(failures)} of {len(checks)} hidden checks failed:\n" + "\n".join(failures)
        return HiddenResult(False, report)
    return HiddenResult(True, f"all {len(checks)} hidden checks passed")
