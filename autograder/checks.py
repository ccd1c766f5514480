"""What a hidden check is: plain-data calls on the student's functions, and a judge that runs apart from them.

A check never hands the student's code anything but plain data (numbers, strings, NumPy arrays, lists and
dicts of them) and never trusts what comes back: every result is converted to plain data *before* the judge
sees it, so an object whose ``__eq__`` always says yes is just an unsupported return type. The judge compares
those plain results with the reference (:mod:`coursepkg`) and returns a message that teaches (which input,
what was expected, what came back, a hint) or ``None`` when the case passes.

That split is what lets :mod:`autograder.kernel` run a check inside the notebook kernel (what
``nbgrader autograde`` does) and a sandboxed grader run the calls in the student's process and the judge
outside it, from the same hidden-test modules.

Example
-------
>>> import numpy as np
>>> from coursepkg import ops
>>> check = Check(
...     name="relu matches the reference",
...     cases=lambda: [{"x": np.array([-1.0, 2.0])}],
...     calls=lambda case: [Call("relu", (case["x"],))],
...     judge=lambda case, out: compare_array(out[0].value, ops.relu(case["x"]), what="relu(x)"),
... )
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from coursepkg.checking import compare_array, compare_number, describe_value, expect_value

__all__ = [
    "FROM_SCRATCH",
    "Call",
    "Check",
    "Outcome",
    "Ref",
    "compare_array",
    "compare_number",
    "describe_value",
    "draw_cases",
    "expect_value",
    "to_plain",
]

# Modules (dotted prefixes of module.function) a from-scratch answer must not call for the very thing asked.
FROM_SCRATCH: tuple[str, ...] = (
    "coursepkg",
    "torch",
    "tensorflow",
    "keras",
    "jax",
    "scipy.signal",
    "scipy.ndimage",
    "skimage",
    "cv2",
    "sklearn",
    "numpy._core.numeric.convolve",
    "numpy._core.numeric.correlate",
    "numpy._core._multiarray_umath.correlate",
    "numpy.core.numeric.convolve",
    "numpy.core.numeric.correlate",
)

_MAX_DEPTH = 6
_MAX_ITEMS = 10_000


@dataclass(frozen=True)
class Ref:
    """Stands for the stored result of an earlier call of the same case (see ``Call.store``)."""

    name: str


@dataclass(frozen=True)
class Call:
    """One call of a function the student defines, with plain-data arguments.

    Parameters
    ----------
    function : str
        The name the assignment asks the student to define (looked up in the notebook's namespace).
    args, kwargs
        Plain data, or :class:`Ref` to a result an earlier call stored. Arrays are copied for every call,
        so a student function that writes into its input cannot change the next case.
    store : str, optional
        Keep the raw result under this name for later calls (a trained model, say) instead of returning
        it; the outcome's value is then ``None``.
    """

    function: str
    args: tuple = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    store: str | None = None


@dataclass(frozen=True)
class Outcome:
    """What one call gave back, as plain data only.

    ``value`` is the result converted by :func:`to_plain` (``None`` if the call raised or stored its result);
    ``error`` is ``"TypeName: message"`` if the call raised or its result was not plain data; ``seconds``
    is the wall time of the call; ``forbidden`` lists the forbidden functions the call reached.
    """

    value: Any
    error: str | None
    seconds: float
    forbidden: tuple[str, ...] = ()


@dataclass(frozen=True)
class Check:
    """A hidden check: cases, the calls each case makes, and the judge of what came back.

    Parameters
    ----------
    name : str
        Shown to the student in the failure report ("conv2d with stride and padding").
    cases : callable
        Returns the cases (plain data, deterministic: fixed seeds). Often explicit edge cases followed by
        :func:`draw_cases` from a hypothesis strategy.
    calls : callable
        ``calls(case) -> [Call, ...]``.
    judge : callable
        ``judge(case, outcomes) -> str | None``: ``None`` when the case passes, else the message. It runs
        apart from the student's code and only sees :class:`Outcome` objects. It is not called when a call
        raised or touched a forbidden function: the runner reports those itself.
    forbid : tuple of str
        Dotted prefixes (``"scipy.signal"``, ``"coursepkg"``) the calls may not reach: a from-scratch task.
        :data:`FROM_SCRATCH` is the usual set.
    time_limit : float
        Seconds one case may take in all; slower answers fail with the measured time.
    forbid_reason : str
        Why the forbidden calls cost the points, for the student ("build the block from layers yourself");
        by default the message says the task is from scratch.
    judge_errors : bool
        Hand outcomes whose call raised to the judge instead of failing the case (a check that demands a
        ``ValueError`` for an impossible output size). Forbidden calls and unusable results still fail.
    """

    name: str
    cases: Callable[[], Sequence[Any]]
    calls: Callable[[Any], Sequence[Call]]
    judge: Callable[[Any, Sequence[Outcome]], str | None]
    forbid: tuple[str, ...] = ()
    time_limit: float = 60.0
    forbid_reason: str | None = None
    judge_errors: bool = False


def to_plain(obj: Any, *, _depth: int = 0) -> Any:
    """Convert a student's result to plain data, or raise ``TypeError`` saying what was returned.

    Plain data is ``None``, ``bool``, ``int``, ``float``, ``complex``, ``str``, a numeric NumPy array (bool, integer,
    float or complex; never ``object``), and lists / string-keyed dicts of those. Tuples become lists.
    NumPy scalars become Python numbers. Any other object (a subclass of ndarray or list, a tensor, an object
    that claims to equal everything) is refused, with a message saying what to return instead.
    """
    if _depth > _MAX_DEPTH:
        raise TypeError(f"a value nested more than {_MAX_DEPTH} levels deep")
    if obj is None or type(obj) in (bool, int, float, complex, str):
        return obj
    if isinstance(obj, np.generic) and type(obj).__module__ == "numpy":
        if isinstance(obj, (np.bool_, np.integer, np.floating, np.complexfloating)):
            return obj.item()
        raise TypeError(f"a NumPy {type(obj).__name__} scalar, not a number")
    if type(obj) is np.ndarray:
        return _plain_array(obj)
    if type(obj) in (list, tuple):
        if len(obj) > _MAX_ITEMS:
            raise TypeError(f"a {type(obj).__name__} of {len(obj)} items")
        return [to_plain(item, _depth=_depth + 1) for item in obj]
    if type(obj) is dict:
        if not all(type(key) is str for key in obj):
            raise TypeError("a dict whose keys are not all strings")
        return {key: to_plain(value, _depth=_depth + 1) for key, value in obj.items()}
    if hasattr(obj, "detach") and hasattr(obj, "cpu"):  # a torch tensor: say so rather than guess
        raise TypeError(
            f"a {type(obj).__module__}.{type(obj).__name__}; return a NumPy array "
            "(tensor.detach().cpu().numpy())"
        )
    raise TypeError(
        f"a {type(obj).__module__}.{type(obj).__qualname__}; return numbers, strings, NumPy arrays or lists of them"
    )


def _plain_array(array: np.ndarray) -> np.ndarray:
    if array.dtype.kind not in "biufc":
        raise TypeError(f"an array of dtype {array.dtype}; return a numeric array")
    return np.array(array, copy=True)


def draw_cases(strategy: Any, n: int, *, seed: int) -> list[Any]:
    """Draw ``n`` examples from a hypothesis strategy, the same ones on every run (seeded, no database).

    The grader cannot let hypothesis shrink against the student's code (the calls may run in another
    process), so it draws a fixed, reproducible set of cases and judges each; the edge cases a half-right
    answer fails are listed explicitly beside them by each hidden module.
    """
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed

    drawn: list[Any] = []

    @hypothesis_seed(seed)
    @settings(
        max_examples=n,
        database=None,
        deadline=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(strategy)
    def collect(example: Any) -> None:
        drawn.append(example)

    # Hypothesis keeps a cache under ./.hypothesis even without a database: keep it out of the student's
    # folder (the grader's working directory) by pointing it at a temporary one for the draw.
    import tempfile

    from hypothesis import configuration

    previous = getattr(configuration, "__hypothesis_home_directory", None)  # None: the default ./.hypothesis
    with tempfile.TemporaryDirectory(prefix="hypothesis-") as home:
        configuration.set_hypothesis_home_dir(home)
        try:
            collect()
        finally:
            configuration.set_hypothesis_home_dir(previous)
    return drawn[:n]
