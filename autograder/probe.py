"""Run the calls of one case on the student's functions and give back plain data only.

This is the part of a check that runs where the student's code runs (the notebook kernel under
``nbgrader autograde``; the sandboxed student process under a sandboxed grader). It looks the functions up by
name, copies every array argument, times each call, records whether the call reached a forbidden module (a
from-scratch task solved with ``scipy.signal``, say) through ``sys.setprofile``, and converts each result with
:func:`autograder.checks.to_plain`. It never judges: that happens apart, on the plain results.
"""

from __future__ import annotations

import copy
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from autograder.checks import Call, Outcome, Ref, to_plain

__all__ = ["RESULT_ERROR", "run_calls"]

# Prefix of an Outcome.error that says the call returned, but not plain data.
RESULT_ERROR = "unusable result: "


class _ForbiddenCallTracer:
    """A ``sys.setprofile`` hook that records calls into any of the forbidden dotted prefixes."""

    def __init__(self, forbid: Sequence[str]):
        self.forbid = tuple(forbid)
        self.reached: list[str] = []

    def _note(self, qualified: str) -> None:
        for prefix in self.forbid:
            if qualified == prefix or qualified.startswith(prefix + "."):
                if qualified not in self.reached:
                    self.reached.append(qualified)
                return

    def __call__(self, frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            module = frame.f_globals.get("__name__") or ""
            self._note(f"{module}.{frame.f_code.co_name}")
        elif event == "c_call":
            module = getattr(arg, "__module__", None) or type(getattr(arg, "__self__", None)).__module__ or ""
            self._note(f"{module}.{getattr(arg, '__qualname__', getattr(arg, '__name__', '?'))}")


def _resolve(value: Any, stored: Mapping[str, Any]) -> Any:
    if isinstance(value, Ref):
        return stored[value.name]
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple, dict)):
        return copy.deepcopy(value)
    return value


def _call_one(function: Any, call: Call, stored: dict[str, Any], forbid: Sequence[str]) -> Outcome:
    try:
        args = [_resolve(arg, stored) for arg in call.args]
        kwargs = {key: _resolve(value, stored) for key, value in call.kwargs.items()}
    except Exception as error:  # noqa: BLE001 - e.g. builtins patched by the student's code
        return Outcome(None, f"{type(error).__name__}: the arguments could not be prepared ({error})", 0.0)
    tracer = _ForbiddenCallTracer(forbid) if forbid else None
    start = time.perf_counter()
    try:
        if tracer is not None:
            threading.setprofile(tracer)
            sys.setprofile(tracer)
        try:
            result = function(*args, **kwargs)
        finally:
            tampered = tracer is not None and sys.getprofile() is not tracer
            sys.setprofile(None)
            threading.setprofile(None)  # type: ignore[arg-type]
    except BaseException as error:  # noqa: BLE001 - a student's error of any kind is an outcome, not our crash
        if isinstance(error, KeyboardInterrupt):
            raise
        seconds = time.perf_counter() - start
        return Outcome(None, f"{type(error).__name__}: {error}", seconds, tuple(tracer.reached) if tracer else ())
    seconds = time.perf_counter() - start
    reached = tuple(tracer.reached) if tracer else ()
    if tampered:
        reached += ("sys.setprofile (the answer switched off the grader's call tracing)",)
    if call.store is not None:
        stored[call.store] = result
        return Outcome(None, None, seconds, reached)
    try:
        value = to_plain(result)
    except TypeError as error:
        return Outcome(None, f"{RESULT_ERROR}{error}", seconds, reached)
    return Outcome(value, None, seconds, reached)


def run_calls(namespace: Mapping[str, Any], calls: Sequence[Call], *, forbid: Sequence[str] = ()) -> list[Outcome]:
    """Run ``calls`` in order against the functions in ``namespace``; stop at the first call that fails.

    Returns one :class:`Outcome` per call that ran. A missing function is an outcome with a ``NameError``
    telling the student which name the assignment expects. A name starting with ``@`` is one of the
    grader's :data:`autograder.operations.OPERATIONS` (``"@forward"``), applied to a stored result.
    """
    stored: dict[str, Any] = {}
    outcomes: list[Outcome] = []
    for call in calls:
        if call.function.startswith("@"):  # a grader operation on what the student built: not traced
            from autograder.operations import OPERATIONS

            outcome = _call_one(OPERATIONS[call.function], call, stored, ())
            outcomes.append(outcome)
            if outcome.error is not None:
                break
            continue
        function = namespace.get(call.function)
        if function is None or not callable(function):
            outcomes.append(
                Outcome(None, f"NameError: the notebook does not define a function named {call.function!r}", 0.0)
            )
            break
        outcome = _call_one(function, call, stored, forbid)
        outcomes.append(outcome)
        if outcome.error is not None:
            break
    return outcomes
