"""The sandbox's API: cells, probes judged outside, exact array transport, restarts, warm pools, the codec.

The hostile submissions live in ``tests/grading/attacks/``; this module checks that honest work goes through
unchanged and that the pieces behave as documented.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator

import numpy as np
import pytest

from autograder.checks import Call, Ref
from autograder.kernel import hidden_checks, judge_case
from autograder.forkserver import forkserver_available
from autograder.pool import WarmPool
from autograder.probe import run_calls
from autograder.runner import decode_value, encode_value
from autograder.sandbox import (
    Limits,
    Sandbox,
    SandboxError,
    SandboxLost,
    SandboxUnavailable,
    _probe_bwrap,
    _safe_load,
    sandbox_available,
)

SOLUTION = """\
import numpy as np

def relu(x):
    return np.where(x > 0, x, 0.0)

def leaky_relu(x, slope=0.01):
    return np.where(x > 0, x, slope * x)
"""


@pytest.fixture(autouse=True)
def _bubblewrap_is_required() -> None:
    problem = _probe_bwrap()
    if problem is not None:
        pytest.fail(f"The sandbox tests need bubblewrap: {problem} Install it with `apt-get install bubblewrap`.")


@pytest.fixture
def sandbox() -> Iterator[Callable[..., Sandbox]]:
    opened: list[Sandbox] = []

    def make(files=None, *, unsafe: bool = False, **limits) -> Sandbox:
        box = Sandbox(files, limits=Limits(**limits), unsafe_no_sandbox=unsafe)
        opened.append(box)
        return box

    yield make
    for box in opened:
        box.close()


def judge_all(box: Sandbox, cell: str) -> list[str]:
    """The failure message of each failing check of the self-test's ``cell``: calls inside, judge out here."""
    failures = []
    for check in hidden_checks("_selftest", cell):
        for case in check.cases():
            calls = list(check.calls(case))
            message = judge_case(check, case, calls, box.probe(calls, check.forbid))
            if message is not None:
                failures.append(message)
                break  # a check stops at its first failing case, as run_hidden does
    return failures


# ------------------------------------------------------------------------------------------ honest work
def test_bubblewrap_is_available_here():
    assert sandbox_available()


def test_an_honest_answer_is_judged_correct_outside(sandbox):
    box = sandbox()
    assert box.sandboxed
    result = box.exec(SOLUTION, cell="relu")
    assert result.ok and result.error is None and result.stdout == ""
    assert judge_all(box, "test_relu") == [] and judge_all(box, "test_leaky_relu") == []


def test_a_wrong_answer_gets_the_usual_teaching_message(sandbox):
    box = sandbox()
    box.exec("import numpy as np\ndef leaky_relu(x, slope):\n    return np.where(x > 0, x, 0.1 * x)\n")
    (message,) = judge_all(box, "test_leaky_relu")
    assert "(input: leaky_relu(array of shape (2, 2) float64, 0.2))" in message
    assert "Hint: use the slope argument" in message


def test_calling_the_reference_is_still_traced_inside_the_sandbox(sandbox):
    box = sandbox()
    box.exec("from coursepkg import ops\ndef relu(x):\n    return ops.relu(x)\n")
    failures = judge_all(box, "test_relu")
    assert failures and "must be written from scratch, but it called coursepkg" in failures[0]


ARRAYS = {
    "float64 with nan, inf and -0.0": np.array([np.nan, np.inf, -np.inf, -0.0, 1e-310, 1.5]),
    "float32": np.linspace(-1, 1, 7, dtype=np.float32),
    "float16": np.array([1.5, -2.25], dtype=np.float16),
    "int8": np.array([-128, 127], dtype=np.int8),
    "uint64": np.array([2**64 - 1], dtype=np.uint64),
    "bool": np.array([[True, False]]),
    "complex128": np.array([1 + 2j, np.nan - 1j]),
    "big-endian float64": np.arange(3, dtype=">f8"),
    "0-d": np.array(3.25),
    "empty (0, 3)": np.zeros((0, 3)),
    "Fortran-ordered 3-d": np.asfortranarray(np.arange(24.0).reshape(2, 3, 4)),
    "non-contiguous slice": np.arange(20.0).reshape(4, 5)[::2, 1::2],
}


@pytest.mark.parametrize("name", list(ARRAYS))
def test_arrays_cross_the_boundary_bit_for_bit(sandbox, name):
    array = ARRAYS[name]
    box = sandbox()
    box.exec(
        "import numpy as np\n"
        "def echo(a):\n    return a\n"
        "def double(a):\n    return np.concatenate([a.ravel(), a.ravel()])\n"
    )
    (echoed,) = box.probe([Call("echo", (array,))])
    assert echoed.error is None and type(echoed.value) is np.ndarray
    assert echoed.value.dtype == array.dtype and echoed.value.shape == array.shape
    assert echoed.value.tobytes() == array.tobytes()
    (doubled,) = box.probe([Call("double", (array,))])
    assert doubled.value.tobytes() == np.concatenate([array.ravel(), array.ravel()]).tobytes()


def test_plain_values_arrive_as_run_calls_gives_them_in_process(sandbox):
    source = "def echo(*args, **kwargs):\n    return [list(args), kwargs]\n"
    calls = [
        Call(
            "echo",
            (1, 2.5, float("nan"), -float("inf"), "text é", None, True, [1, [2, (3, 4)]], (5, 6)),
            {"scalar": np.float32(1.5), "integer": np.int64(-3), "nested": {"a": [np.ones(2)], "b": {}}},
        )
    ]
    box = sandbox()
    box.exec(source)
    (remote,) = box.probe(calls)
    namespace: dict = {}
    exec(source, namespace)
    (local,) = run_calls(namespace, calls)
    assert remote.error is None
    assert repr(remote.value) == repr(local.value)  # nan included, which == would not show


def test_stored_results_and_grader_operations_work_across_the_boundary(sandbox):
    box = sandbox()
    box.exec(
        "class Counter:\n    def __init__(self):\n        self.n = 0\n"
        "def make():\n    return Counter()\n"
        "def bump(c, by):\n    c.n += by\n    return c.n\n"
    )
    outcomes = box.probe([Call("make", store="c"), Call("bump", (Ref("c"), 2)), Call("bump", (Ref("c"), 3))])
    assert [outcome.value for outcome in outcomes] == [None, 2, 5]


def test_the_wall_time_of_a_probe_is_measured_outside_where_it_cannot_be_faked(sandbox):
    box = sandbox()
    box.exec("import time\ntime.perf_counter = lambda: 0.0\ndef relu(x):\n    time.sleep(0.3)\n    return x\n")
    (outcome,) = box.probe([Call("relu", (np.ones(2),))])
    assert outcome.seconds == 0.0 and box.last_wall_seconds >= 0.3


def test_a_warning_on_stderr_is_only_captured_text(sandbox):
    box = sandbox()
    result = box.exec("import warnings\nwarnings.warn('careful')\nprint('after')", cell="q1")
    assert result.ok and result.stdout == "after\n"
    assert result.stderr == "<cell q1>:2: UserWarning: careful\n"


def test_output_is_captured_per_cell_from_python_c_and_child_processes(sandbox):
    box = sandbox()
    result = box.exec("import os, subprocess\nprint('py')\nos.write(1, b'fd\\n')\nsubprocess.run(['echo', 'child'])\n")
    assert result.ok and result.stdout == "py\nfd\nchild\n"
    assert box.exec("x = 1").stdout == ""  # nothing of the last cell leaks into this one


def test_cells_run_as_plain_python_without_the_runner_s_future_imports(sandbox):
    box = sandbox()
    result = box.exec("def f(x: int) -> int:\n    return x\nprint(f.__annotations__['x'], __name__)")
    assert result.stdout == "<class 'int'> __main__\n"


def test_errors_name_the_exception_and_the_line_of_the_cell_only(sandbox):
    box = sandbox()
    box.exec("def f(x):\n    return 1 / x\n", cell="helpers")
    result = box.exec("y = 2\nf(0)\n", cell="q2")
    assert (result.status, result.error, result.line) == ("error", "ZeroDivisionError: division by zero", 2)
    syntax = box.exec("x = (\n")
    assert syntax.status == "error" and syntax.error.startswith("SyntaxError: ") and syntax.line == 1
    assert "Traceback" not in result.error + syntax.error


def test_the_environment_does_not_say_it_is_being_graded(sandbox):
    box = sandbox()
    result = box.exec("import json, os, sys\nprint(json.dumps([dict(os.environ), sys.argv, os.getcwd()]))")
    environment, argv, cwd = json.loads(result.stdout)
    assert set(environment) <= {"PATH", "HOME", "LANG", "USER", "LOGNAME", "MPLBACKEND", "PWD"}
    assert not any(word in json.dumps(environment).lower() for word in ("grad", "nbgrader", "sandbox", "bwrap"))
    assert argv == [""] and cwd == environment["HOME"] == "/home/student"


def test_the_submission_s_files_are_its_working_folder_and_its_own_modules_import(sandbox, tmp_path):
    (tmp_path / "helper.py").write_text("ANSWER = 42\n")
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "x.txt").write_text("hello")
    (tmp_path / "link").symlink_to("/etc/hostname")  # stays a link, to nothing of the grader's
    box = sandbox(tmp_path)
    result = box.exec("import helper, os\nprint(helper.ANSWER, open('data/x.txt').read(), os.path.exists('link'))")
    assert result.stdout == "42 hello False\n"


def test_instructor_modules_cannot_be_imported_but_the_generic_ones_can(sandbox):
    box = sandbox()
    result = box.exec(
        "import importlib\n"
        "for name in ('autograder.checks', 'autograder.probe', 'autograder.operations', 'coursepkg',"
        " 'autograder.hidden', 'autograder.hidden._selftest', 'autograder.kernel', 'autograder.verify'):\n"
        "    try:\n        importlib.import_module(name); print(name, 'ok')\n"
        "    except ImportError as error:\n        print(name, type(error).__name__)\n"
    )
    assert result.stdout.split("\n")[:8] == [
        "autograder.checks ok",
        "autograder.probe ok",
        "autograder.operations ok",
        "coursepkg ok",
        "autograder.hidden ModuleNotFoundError",
        "autograder.hidden._selftest ModuleNotFoundError",
        "autograder.kernel ModuleNotFoundError",
        "autograder.verify ModuleNotFoundError",
    ]


# -------------------------------------------------------------------------------------- life cycle
def test_a_lost_process_refuses_requests_until_restarted_and_restart_keeps_files_and_warm_modules(sandbox):
    box = sandbox()
    box.warm(["decimal"])
    box.exec("open('notes.txt', 'w').write('kept')\nstate = 1")
    assert box.exec("import os\nos._exit(0)").status == "died"
    with pytest.raises(SandboxError, match=r"call restart\(\) for a fresh one"):
        box.exec("x = 1")
    box.restart()
    result = box.exec("import sys\nprint(open('notes.txt').read(), 'decimal' in sys.modules, 'state' in globals())")
    assert result.stdout == "kept True False\n"


def test_a_probe_that_runs_too_long_raises_sandbox_lost(sandbox):
    box = sandbox()
    box.exec("def relu(x):\n    while True:\n        pass\n")
    with pytest.raises(SandboxLost, match="within the 1 s wall-clock limit") as lost:
        box.probe([Call("relu", (np.ones(2),))], timeout=1)
    assert lost.value.kind == "timeout" and not box.alive


def test_warm_reports_what_it_imported_and_what_failed(sandbox):
    box = sandbox()
    imported = box.warm(["fractions", "no_such_framework"])
    assert isinstance(imported["fractions"], float)
    assert imported["no_such_framework"] == "ModuleNotFoundError: No module named 'no_such_framework'"


def test_a_warm_pool_hands_out_fresh_warm_sandboxes_holding_the_files(tmp_path):
    (tmp_path / "answer.txt").write_text("mine")
    with WarmPool(["fractions"]) as pool:
        first = pool.take(tmp_path)
        second = pool.take()
        try:
            script = "import sys, os\nprint('fractions' in sys.modules, os.listdir('.'), os.getpid())"
            one, two = first.exec(script).stdout.split(), second.exec(script).stdout.split()
            assert one[:2] == ["True", "['answer.txt']"] and two[:2] == ["True", "[]"]
            assert first.workdir != second.workdir and first.user_id != second.user_id
        finally:
            first.close()
            second.close()


@pytest.mark.parametrize("forkserver", [False, True])
def test_a_sandbox_kept_waiting_longer_than_its_start_limit_is_still_handed_out(forkserver):
    """The pool readies the next sandbox while a submission is graded, which may take longer than
    ``start_seconds``: the hello that arrived meanwhile still counts."""
    if forkserver and not forkserver_available():
        pytest.skip("a fork server needs root and bubblewrap")
    with WarmPool(["fractions"], limits=Limits(start_seconds=1.0), forkserver=forkserver) as pool:
        time.sleep(2.5)
        box = pool.take()
        try:
            assert box.exec("import fractions").ok
        finally:
            box.close()


def test_close_removes_the_private_folders(sandbox):
    box = sandbox()
    folder = box.workdir
    assert folder.is_dir()
    box.close()
    assert not folder.exists() and not box.alive


# ------------------------------------------------------------------------------------- unsafe mode
def test_unsafe_mode_runs_the_same_runner_with_the_same_limits_and_says_so(sandbox):
    box = sandbox(unsafe=True, memory_bytes=1 << 30)
    assert not box.sandboxed and box.user_id is None
    box.exec(SOLUTION)
    assert judge_all(box, "test_relu") == []
    assert box.exec("hog = bytearray(8 * 2**30)").error == "MemoryError"
    assert box.exec("while True: pass", timeout=1).status == "timeout"


def test_without_bubblewrap_the_sandbox_refuses_and_says_how_to_fix_it(monkeypatch):
    monkeypatch.setattr("autograder.sandbox._probe_bwrap", lambda: "bubblewrap (bwrap) is not installed.")
    with pytest.raises(SandboxUnavailable, match=r"installed\. Install bubblewrap \(`apt-get install bubblewrap`\)"):
        Sandbox()


def test_limits_are_validated():
    with pytest.raises(ValueError, match=r"Limits: memory_bytes must be positive\. Received: memory_bytes=0"):
        Limits(memory_bytes=0)


# -------------------------------------------------------------------------------------------- codec
def test_the_codec_refuses_what_is_not_plain_data():
    with pytest.raises(TypeError, match="a builtins.object cannot be sent"):
        encode_value(object(), lambda array: "x")
    with pytest.raises(TypeError, match="keys are not all strings"):
        encode_value({1: 2}, lambda array: "x")


def test_the_codec_round_trips_call_arguments():
    arrays: dict[str, np.ndarray] = {}

    def save(array: np.ndarray) -> str:
        arrays[f"in-{len(arrays) + 1}.npy"] = array
        return f"in-{len(arrays)}.npy"

    value = [1 + 2j, complex(float("nan"), 1), (1, (2, "three")), Ref("model"), np.float32(0.5), {"x": np.eye(2)}]
    wire = json.loads(json.dumps(encode_value(value, save), allow_nan=False))  # strict JSON on the wire
    decoded = decode_value(wire, arrays.__getitem__)
    assert repr(decoded[:4]) == repr(value[:4])
    assert type(decoded[4]) is np.float32 and decoded[4] == 0.5
    np.testing.assert_array_equal(decoded[5]["x"], np.eye(2))


@pytest.mark.parametrize(
    "wire",
    [
        {"$pickle": "..."},
        {"$tuple": [1]},
        {"$ref": "model"},
        {"$scalar": "out-1.npy"},
        {"a": 1, "b": 2},
        [[[[[[[[[[1]]]]]]]]]],
    ],
)
def test_results_accept_only_what_to_plain_produces(wire):
    with pytest.raises(ValueError):
        decode_value(wire, lambda name: np.zeros(1), results=True)


def test_array_files_from_the_student_are_loaded_only_when_plain_regular_and_numeric(tmp_path):
    budget = [1 << 30]
    np.save(tmp_path / "out-1.npy", np.arange(3.0))
    np.testing.assert_array_equal(_safe_load(tmp_path, "out-1.npy", budget), [0.0, 1.0, 2.0])
    np.save(tmp_path / "out-2.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="dtype object"):
        _safe_load(tmp_path, "out-2.npy", budget)
    (tmp_path / "out-3.npy").symlink_to(tmp_path / "out-1.npy")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        _safe_load(tmp_path, "out-3.npy", budget)
    os.mkfifo(tmp_path / "out-4.npy")
    with pytest.raises(ValueError, match="not a regular file"):
        _safe_load(tmp_path, "out-4.npy", budget)
    with pytest.raises(ValueError, match="named '../out-1.npy'"):
        _safe_load(tmp_path, "../out-1.npy", budget)
    truncated = (tmp_path / "out-1.npy").read_bytes()[:-8]
    (tmp_path / "out-5.npy").write_bytes(truncated)
    with pytest.raises(ValueError, match="shorter than its header says"):
        _safe_load(tmp_path, "out-5.npy", budget)
    with pytest.raises(ValueError, match="larger than the memory limit"):
        _safe_load(tmp_path, "out-1.npy", [10])


# ------------------------------------------------------------------------------------- frameworks
@pytest.mark.slow
def test_a_warm_pool_pays_the_framework_import_before_the_submission_arrives():
    with WarmPool(["torch", "tensorflow"]) as pool:
        box = pool.take()
        try:
            start = time.monotonic()
            source = "import torch, tensorflow\nlayer = torch.nn.Linear(3, 2)\ndef build():\n    return layer\n"
            result = box.exec(source)
            assert result.ok, result.error
            assert time.monotonic() - start < 2.0  # the imports were already done
            outcomes = box.probe([Call("build", store="m"), Call("@count_params", (Ref("m"),))])
            assert outcomes[1].value == 8
        finally:
            box.close()
