"""The program that runs a submission's code: ``python -m autograder.runner CONFIG``, inside the sandbox.

It keeps one namespace (the notebook's globals), executes cells in it, and runs a check's calls on the
functions defined there (:func:`autograder.probe.run_calls`), answering over a JSON-lines protocol: one request
per line on stdin, one response per line on a private copy of the original stdout. Before any student code
runs, file descriptors 0, 1 and 2 are replaced (``/dev/null`` and two pipes drained by threads), so the
student's prints, whether from Python, C or a child process, can never reach the protocol; they are captured
per cell and capped in bytes while they stream.

Requests (``id`` is echoed back; the sandbox drops any line whose id is not the one it waits for)::

    {"id": "...", "op": "exec", "source": "x = 1", "cell": "relu"}
        -> {"id", "status": "ok" | "error", "error": "ZeroDivisionError: division by zero" | null,
            "line": int | null, "stdout", "stderr", "dropped": int, "seconds"}
    {"id": "...", "op": "probe", "calls": [wire Call, ...], "forbid": ["scipy.signal", ...]}
        -> {"id", "outcomes": [wire Outcome, ...]}
    {"id": "...", "op": "warm", "modules": ["torch", "tensorflow"]}
        -> {"id", "imported": {"torch": 1.7}, "failed": {"tensorflow": "ModuleNotFoundError: ..."}}
    {"id": "...", "op": "seed", "seed": 20261101}
        -> {"id", "seeded": ["random", "numpy", "torch"]}   (torch and TensorFlow only if already imported)
    {"id": "...", "op": "bye"}
        -> {"id"}, then the process exits

Values cross the boundary as JSON plus ``.npy`` files in an exchange folder (``np.save`` / ``np.load`` with
``allow_pickle=False``); :func:`encode_value` and :func:`decode_value` are the codec both sides use. Nothing
here imports the hidden tests or any other instructor module: only :mod:`autograder.checks`,
:mod:`autograder.probe` and :mod:`autograder.operations`, which are generic. Errors are reported as
``"ExcType: message"`` and the line of the cell, never as a traceback.
"""

from __future__ import annotations

import builtins
import contextlib
import json
import math
import os
import re
import resource
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any

__all__ = [
    "decode_call",
    "decode_outcome",
    "decode_value",
    "describe_exception",
    "encode_call",
    "encode_outcome",
    "encode_value",
    "main",
]

# Limits on what a decoder accepts, whichever side wrote it.
MAX_DEPTH = 8
MAX_ITEMS = 100_000
MAX_MESSAGE = 2_000
ARRAY_NAME = re.compile(r"^(in|out)-[0-9]{1,9}\.npy$")

SaveArray = Callable[[Any], str]  # ndarray -> file name in the exchange folder
LoadArray = Callable[[str], Any]  # file name -> ndarray


# ----------------------------------------------------------------------------------------------- codec
def encode_value(value: Any, save: SaveArray, *, _depth: int = 0) -> Any:
    """Plain data to JSON-able data; arrays go to ``save`` and are referred to by file name.

    Accepts ``None``, ``bool``, ``int``, ``float`` (``nan`` and ``inf`` included), ``complex``, ``str``,
    NumPy arrays and scalars, lists, tuples, string-keyed dicts, and :class:`autograder.checks.Ref`.
    Anything else is a ``TypeError``: a check must give the student plain data only.
    """
    import numpy as np

    from autograder.checks import Ref

    if _depth > MAX_DEPTH:
        raise TypeError(f"a value nested more than {MAX_DEPTH} levels deep cannot be sent")
    kind = type(value)
    if value is None or kind in (bool, int, str):
        return value
    if kind is float:
        return value if math.isfinite(value) else {"$float": repr(value)}
    if kind is complex:
        return {"$complex": [encode_value(value.real, save), encode_value(value.imag, save)]}
    if kind is np.ndarray:
        return {"$npy": save(value)}
    if isinstance(value, np.generic) and kind.__module__ == "numpy":
        return {"$scalar": save(np.asarray(value))}
    if kind is Ref:
        return {"$ref": value.name}
    if kind in (list, tuple):
        items = [encode_value(item, save, _depth=_depth + 1) for item in value]
        return items if kind is list else {"$tuple": items}
    if kind is dict:
        if not all(type(key) is str for key in value):
            raise TypeError("a dict whose keys are not all strings cannot be sent")
        return {"$dict": {key: encode_value(item, save, _depth=_depth + 1) for key, item in value.items()}}
    raise TypeError(f"a {kind.__module__}.{kind.__qualname__} cannot be sent; use plain data")


def decode_value(wire: Any, load: LoadArray, *, results: bool = False, _depth: int = 0) -> Any:
    """Inverse of :func:`encode_value`, validating as it goes (``ValueError`` on anything malformed).

    ``results=True`` accepts only what :func:`autograder.checks.to_plain` can produce (no tuples, no NumPy
    scalars, no references): the form of what comes back from the student's process.
    """
    import numpy as np

    from autograder.checks import Ref

    if _depth > MAX_DEPTH:
        raise ValueError(f"a value nested more than {MAX_DEPTH} levels deep")
    kind = type(wire)
    if wire is None or kind in (bool, int, float, str):
        return wire
    if kind is list:
        if len(wire) > MAX_ITEMS:
            raise ValueError(f"a list of {len(wire)} items")
        return [decode_value(item, load, results=results, _depth=_depth + 1) for item in wire]
    if kind is not dict or len(wire) != 1:
        raise ValueError(f"unexpected {kind.__name__} in the data")
    (tag, body), = wire.items()
    if tag == "$float" and body in ("nan", "inf", "-inf"):
        return float(body)
    if tag == "$complex" and type(body) is list and len(body) == 2:
        parts = [decode_value(part, load, _depth=_depth + 1) for part in body]
        if all(type(part) in (int, float) for part in parts):
            return complex(*parts)
    if tag == "$npy" and type(body) is str:
        array = load(body)
        if type(array) is not np.ndarray or array.dtype.kind not in "biufc":
            raise ValueError("an array that is not numeric")
        return array
    if tag == "$dict" and type(body) is dict:
        if len(body) > MAX_ITEMS:
            raise ValueError(f"a dict of {len(body)} items")
        return {key: decode_value(item, load, results=results, _depth=_depth + 1) for key, item in body.items()}
    if not results:
        if tag == "$scalar" and type(body) is str:
            return load(body)[()]
        if tag == "$ref" and type(body) is str:
            return Ref(body)
        if tag == "$tuple" and type(body) is list:
            return tuple(decode_value(item, load, _depth=_depth + 1) for item in body)
    raise ValueError(f"unexpected tag {tag!r} in the data")


def encode_call(call: Any, save: SaveArray) -> dict[str, Any]:
    """A :class:`autograder.checks.Call` as JSON-able data."""
    return {
        "function": call.function,
        "args": [encode_value(arg, save) for arg in call.args],
        "kwargs": {key: encode_value(value, save) for key, value in call.kwargs.items()},
        "store": call.store,
    }


def decode_call(wire: Mapping[str, Any], load: LoadArray) -> Any:
    """Inverse of :func:`encode_call`."""
    from autograder.checks import Call

    return Call(
        function=str(wire["function"]),
        args=tuple(decode_value(arg, load) for arg in wire["args"]),
        kwargs={str(key): decode_value(value, load) for key, value in wire["kwargs"].items()},
        store=wire["store"],
    )


def encode_outcome(outcome: Any, save: SaveArray) -> dict[str, Any]:
    """An :class:`autograder.checks.Outcome` as JSON-able data."""
    return {
        "value": encode_value(outcome.value, save),
        "error": outcome.error,
        "seconds": outcome.seconds,
        "forbidden": list(outcome.forbidden),
    }


def decode_outcome(wire: Any, load: LoadArray) -> Any:
    """Inverse of :func:`encode_outcome`, trusting nothing: ``ValueError`` unless every field has its type."""
    from autograder.checks import Outcome

    if type(wire) is not dict or set(wire) != {"value", "error", "seconds", "forbidden"}:
        raise ValueError("an outcome without exactly the fields value, error, seconds, forbidden")
    error, seconds, forbidden = wire["error"], wire["seconds"], wire["forbidden"]
    if error is not None and type(error) is not str:
        raise ValueError("an outcome whose error is not a string")
    if type(seconds) not in (int, float) or not 0 <= seconds < math.inf:
        raise ValueError("an outcome whose seconds is not a finite number")
    if type(forbidden) is not list or not all(type(name) is str for name in forbidden):
        raise ValueError("an outcome whose forbidden list is not a list of strings")
    value = decode_value(wire["value"], load, results=True)
    return Outcome(value, error, float(seconds), tuple(forbidden))


def describe_exception(error: BaseException) -> str:
    """``"ExcType: message"`` (just ``"ExcType"`` when the message is empty), capped in length.

    The message comes from student code and may be huge or raise: both are handled.
    """
    name = type(error).__name__
    try:
        message = str(error)
    except BaseException:  # noqa: BLE001 - a student's __str__ may raise anything
        message = "(the exception's message could not be shown)"
    if isinstance(error, SyntaxError) and error.msg:
        message = str(error.msg)
    if len(message) > MAX_MESSAGE:
        message = message[:MAX_MESSAGE] + f"... ({len(message) - MAX_MESSAGE} more characters)"
    return f"{name}: {message}" if message else name


# ---------------------------------------------------------------------------------------------- output
class _Drain(threading.Thread):
    """Reads one pipe (the student's fd 1 or 2) for ever, handing bytes to the capture."""

    def __init__(self, capture: _Capture, fd: int, read_end: int):
        super().__init__(daemon=True, name=f"capture-fd{fd}")
        self.capture, self.fd, self.read_end = capture, fd, read_end
        self.sentinel = b""
        self.marker = -1  # the runner's own write end of the pipe, for the sentinel
        self.seen = threading.Event()

    def run(self) -> None:
        carry = b""
        while True:
            try:
                chunk = os.read(self.read_end, 1 << 16)
            except OSError:
                return
            if not chunk:
                return
            data, sentinel = carry + chunk, self.sentinel
            at = data.find(sentinel) if sentinel else -1
            if at >= 0:
                self.capture.feed(self.fd, data[:at])
                self.sentinel, carry = b"", b""
                self.seen.set()
                self.capture.feed(self.fd, data[at + len(sentinel) :])
            elif sentinel:
                keep = len(sentinel) - 1  # a sentinel split across two reads
                self.capture.feed(self.fd, data[:-keep])
                carry = data[-keep:]
            else:
                self.capture.feed(self.fd, data)
                carry = b""


class _Capture:
    """Points fds 1 and 2 at pipes; keeps the first ``limit`` bytes written during a cell, counts the rest."""

    def __init__(self, limit: int):
        self.limit = limit
        self.lock = threading.Lock()
        self.kept: dict[int, bytearray] = {1: bytearray(), 2: bytearray()}
        self.dropped = 0
        self.drains: list[_Drain] = []
        for fd in (1, 2):
            read_end, write_end = os.pipe()
            os.dup2(write_end, fd)
            drain = _Drain(self, fd, read_end)
            drain.marker = write_end  # a private way in, whatever the student does to fds 1 and 2
            drain.start()
            self.drains.append(drain)

    def feed(self, fd: int, data: bytes) -> None:
        with self.lock:
            room = max(0, self.limit - len(self.kept[1]) - len(self.kept[2]))
            self.kept[fd] += data[:room]
            self.dropped += max(0, len(data) - room)

    def reset(self) -> None:
        with self.lock:
            self.kept = {1: bytearray(), 2: bytearray()}
            self.dropped = 0

    def settle(self, timeout: float = 5.0) -> tuple[str, str, int]:
        """Flush every layer, wait until the drains have read all that was written, return what was kept."""
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            try:
                stream.flush()  # type: ignore[union-attr]
            except BaseException:  # noqa: BLE001 - the student may have replaced or closed the stream
                pass
        try:
            import ctypes

            ctypes.CDLL(None).fflush(None)  # C-level printf buffers of extension modules
        except Exception:  # noqa: BLE001 - best effort
            pass
        for drain in self.drains:
            drain.seen.clear()
            drain.sentinel = os.urandom(16).hex().encode()
            try:
                os.write(drain.marker, drain.sentinel)
            except OSError:  # only if the student closed the runner's own descriptor: no wait for it then
                drain.sentinel = b""
                drain.seen.set()
        for drain in self.drains:
            drain.seen.wait(timeout)
        with self.lock:
            out = self.kept[1].decode("utf-8", errors="replace")
            err = self.kept[2].decode("utf-8", errors="replace")
            return out, err, self.dropped


# --------------------------------------------------------------------------------------------- builtins
class _Builtins:
    """Keeps the student's changes to ``builtins`` (``isinstance = lambda *a: True``) to the student's code.

    The runner's own work (encoding results, speaking the protocol) runs with the builtins the interpreter
    started with; student code runs with whatever it made of them. Not a security boundary (judging happens
    outside, on plain data); it keeps a hostile patch from breaking the grader's channel instead of the answer.
    """

    def __init__(self) -> None:
        self.pristine = dict(vars(builtins))
        self.student = dict(self.pristine)

    @staticmethod
    def _become(target: Mapping[str, Any], *, remove_others: bool) -> None:
        namespace = vars(builtins)
        if remove_others:
            for name in [name for name in namespace if name not in target]:
                del namespace[name]
        namespace.update(target)

    @contextlib.contextmanager
    def student_code(self) -> Iterator[None]:
        self._become(self.student, remove_others=True)
        try:
            yield
        finally:
            self.student = dict(vars(builtins))
            self._become(self.pristine, remove_others=False)


# ----------------------------------------------------------------------------------------------- runner
class _Runner:
    """The namespace, the captured output and the protocol channel of one submission's process."""

    def __init__(self, config: Mapping[str, Any]):
        import types

        self.pid = os.getpid()
        self.builtins = _Builtins()
        self.exchange = str(config["exchange"])
        self.max_array_bytes = int(config["limits"]["file_size_bytes"])
        self.saved = 0
        self.requests = os.fdopen(os.dup(0), "rb")
        self.responses = os.fdopen(os.dup(1), "wb")
        os.register_at_fork(after_in_child=self._forked)
        null = os.open(os.devnull, os.O_RDWR)
        os.dup2(null, 0)
        os.close(null)
        self.capture = _Capture(int(config["limits"]["output_bytes"]))
        sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr] - prints interleave as in a kernel
        main = types.ModuleType("__main__")  # the notebook's globals, as a kernel has them
        main.__dict__["__builtins__"] = builtins
        sys.modules["__main__"] = main
        self.namespace = main.__dict__
        sys.argv = [""]
        sys.path.insert(0, os.getcwd())  # `import helper` finds the submission's own modules, as in Jupyter

    def _forked(self) -> None:
        """A child of the student's making must never speak the protocol."""
        for stream in (self.requests, self.responses):
            try:
                os.close(stream.fileno())
            except OSError:
                pass

    def leave_if_forked(self) -> None:
        """A copy of this process forked by student code that returned into the runner leaves silently."""
        if os.getpid() != self.pid:
            os._exit(0)

    def send(self, response: Mapping[str, Any]) -> None:
        self.leave_if_forked()
        self.responses.write(json.dumps(response, allow_nan=False).encode() + b"\n")
        self.responses.flush()

    def _save(self, array: Any) -> str:
        import numpy as np

        if array.nbytes > self.max_array_bytes:
            raise TypeError(f"an array of {array.nbytes} bytes, more than the {self.max_array_bytes} allowed")
        self.saved += 1
        name = f"out-{self.saved}.npy"
        np.save(os.path.join(self.exchange, name), array, allow_pickle=False)
        return name

    def _load(self, name: str) -> Any:
        import numpy as np

        if not ARRAY_NAME.match(name):
            raise ValueError(f"bad array name {name!r}")
        return np.load(os.path.join(self.exchange, name), allow_pickle=False)

    def exec(self, request: Mapping[str, Any]) -> dict[str, Any]:
        filename = f"<cell {request.get('cell') or '?'}>"
        self.capture.reset()
        status, error, line = "ok", None, None
        start = time.perf_counter()
        try:
            code = compile(request["source"], filename, "exec", dont_inherit=True)  # not this module's __future__
            with self.builtins.student_code():
                exec(code, self.namespace)  # noqa: S102 - running the submission is the point
        except BaseException as caught:  # noqa: BLE001 - SystemExit and KeyboardInterrupt included
            status, error = "error", describe_exception(caught)
            if isinstance(caught, SyntaxError) and caught.filename == filename:
                line = caught.lineno
            traceback = caught.__traceback__
            while traceback is not None:  # the deepest frame of this cell, never anything else
                if traceback.tb_frame.f_code.co_filename == filename:
                    line = traceback.tb_lineno
                traceback = traceback.tb_next
        self.leave_if_forked()
        seconds = time.perf_counter() - start
        stdout, stderr, dropped = self.capture.settle()
        return {
            "status": status,
            "error": error,
            "line": line,
            "stdout": stdout,
            "stderr": stderr,
            "dropped": dropped,
            "seconds": seconds,
        }

    def probe(self, request: Mapping[str, Any]) -> dict[str, Any]:
        from autograder.checks import Outcome
        from autograder.probe import RESULT_ERROR, run_calls

        calls = [decode_call(wire, self._load) for wire in request["calls"]]
        self.capture.reset()
        with self.builtins.student_code():
            outcomes = run_calls(self.namespace, calls, forbid=tuple(request.get("forbid", ())))
        self.leave_if_forked()
        self.capture.settle()
        encoded = []
        for outcome in outcomes:
            try:
                encoded.append(encode_outcome(outcome, self._save))
            except (TypeError, OSError) as error:  # too big to send: the student's result, not our failure
                message = f"{RESULT_ERROR}{describe_exception(error)}"
                encoded.append(encode_outcome(Outcome(None, message, outcome.seconds, outcome.forbidden), self._save))
        return {"outcomes": encoded}

    def warm(self, request: Mapping[str, Any]) -> dict[str, Any]:
        import importlib

        imported: dict[str, float] = {}
        failed: dict[str, str] = {}
        self.capture.reset()
        for module in request["modules"]:
            start = time.perf_counter()
            try:
                with self.builtins.student_code():
                    importlib.import_module(module)
                imported[module] = time.perf_counter() - start
            except Exception as error:  # noqa: BLE001 - a missing framework is reported, not fatal
                failed[module] = describe_exception(error)
            self.leave_if_forked()
        self.capture.settle()
        return {"imported": imported, "failed": failed}

    def seed(self, request: Mapping[str, Any]) -> dict[str, Any]:
        """Seed the generators a notebook draws from without seeding them itself (before its first cell)."""
        import random

        import numpy as np

        seed = int(request["seed"])
        random.seed(seed)
        np.random.seed(seed)
        seeded = ["random", "numpy"]
        if "torch" in sys.modules:
            sys.modules["torch"].manual_seed(seed)
            seeded.append("torch")
        if "tensorflow" in sys.modules:
            sys.modules["tensorflow"].random.set_seed(seed)
            seeded.append("tensorflow")
        return {"seeded": seeded}

    def serve(self) -> None:
        self.send({"id": "hello", "pid": self.pid})
        handlers = {"exec": self.exec, "probe": self.probe, "warm": self.warm, "seed": self.seed}
        while True:
            line = self.requests.readline()
            if not line:
                return
            request = json.loads(line)
            if request["op"] == "bye":
                self.send({"id": request["id"]})
                return
            try:
                response = handlers[request["op"]](request)
            except Exception as error:  # noqa: BLE001 - a malformed request: say so, keep serving
                response = {"failure": f"runner: {describe_exception(error)}"}
            response["id"] = request["id"]
            self.send(response)


def apply_limits(limits: Mapping[str, int]) -> None:
    """Set this process's resource limits (inherited by every child), soft equal to hard where it matters."""
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 5))  # SIGXCPU, then SIGKILL five seconds later
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for kind, key in (
        (resource.RLIMIT_AS, "memory_bytes"),
        (resource.RLIMIT_NPROC, "processes"),
        (resource.RLIMIT_FSIZE, "file_size_bytes"),
    ):
        value = int(limits[key])
        resource.setrlimit(kind, (value, value))


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: ``python -m autograder.runner '{"exchange": DIR, "limits": {...}}'``."""
    config = json.loads((sys.argv[1:] if argv is None else list(argv))[0])
    apply_limits(config["limits"])
    _Runner(config).serve()
    sys.stdout.flush()
    os._exit(0)  # no interpreter teardown: the student's atexit hooks and threads do not get a say


if __name__ == "__main__":
    main()
