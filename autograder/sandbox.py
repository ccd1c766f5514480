"""Run a submission's code in a bubblewrap sandbox and talk to it over :mod:`autograder.runner`'s protocol.

A :class:`Sandbox` is one student process: a fresh Python running ``autograder.runner`` under ``bwrap``
(laid out by :func:`autograder.bwrap.sandbox_args`), or one forked from a warm
:class:`autograder.forkserver.ForkServer` that imported the frameworks once. Either way it has no network, a
read-only view of only what Python needs (``/usr``, the Python installation, the virtual environment,
:mod:`coursepkg`, and the generic modules the runner is made of: ``checks``, ``probe``, ``operations``,
``runner``, ``zygote``), a private writable folder holding the submission's files as its home and working
directory, and private ``/tmp``, ``/dev``, ``/proc``.
The repository, the hidden tests, the mutants, the course's sources and gradebook and every other student's
folder do not exist inside. As root, the process runs as a user id of its own (leased per sandbox), without
capabilities, so that ``RLIMIT_NPROC`` bounds a fork bomb; the resource limits of :class:`Limits` are set
in the process before any student code runs, and the wall clock and the total memory of everything in the
sandbox are watched from outside, where a stop kills the whole pid namespace (stray children included).

The grader never trusts what comes back: responses are matched by a random request id, parsed with caps,
and arrays are read from regular files with ``np.load(allow_pickle=False)`` after their header is checked.
Judging happens here, outside, on plain data (:func:`autograder.kernel.judge_case`).

Example
-------
>>> with Sandbox(files="submitted/ada/_selftest") as box:           # doctest: +SKIP
...     box.exec("import numpy as np\\ndef relu(x): return np.maximum(x, 0)", cell="relu")
...     outcomes = box.probe([Call("relu", (np.array([-1.0, 2.0]),))])
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from autograder.bwrap import CAPABILITIES, EXCHANGE, HOME, UidLease, drop_root, sandbox_args
from autograder.bwrap import probe_bwrap as _probe_bwrap
from autograder.bwrap import student_environment, write_accounts
from autograder.checks import Call, Outcome
from autograder.forkserver import ForkServer
from autograder.runner import ARRAY_NAME, decode_outcome, encode_call

__all__ = [
    "CellResult",
    "Limits",
    "Sandbox",
    "SandboxError",
    "SandboxLost",
    "SandboxUnavailable",
    "sandbox_available",
]

KiB, MiB, GiB = 1 << 10, 1 << 20, 1 << 30
MAX_LINE = 64 * MiB  # longest response line accepted
WATCH_INTERVAL = 0.25  # seconds between memory checks while a request runs
INSTALL_HINT = (
    "Install bubblewrap (`apt-get install bubblewrap`), or pass unsafe_no_sandbox=True "
    "(`--unsafe-no-sandbox`) to run submissions WITHOUT isolation."
)


def sandbox_available() -> bool:
    """Whether bubblewrap can isolate a process on this machine (runs it once to see)."""
    return _probe_bwrap() is None


class SandboxError(RuntimeError):
    """The sandbox cannot be used as asked (not started, closed, or a malformed request)."""


class SandboxUnavailable(SandboxError):
    """bubblewrap is missing or cannot create namespaces here; the message says how to fix it."""


class SandboxLost(SandboxError):
    """The student's process is gone: it ran past its wall clock, died, or broke the protocol.

    ``kind`` is ``"timeout"`` or ``"died"``; ``reason`` is a sentence for the student's feedback. The sandbox
    is no longer alive afterwards: :meth:`Sandbox.restart` gives a fresh process.
    """

    def __init__(self, kind: Literal["timeout", "died"], reason: str):
        super().__init__(reason)
        self.kind, self.reason = kind, reason


@dataclass(frozen=True)
class Limits:
    """Resource limits of one student process (and every process it starts).

    Parameters
    ----------
    cpu_seconds : int
        CPU time of each process over its life (``RLIMIT_CPU``; ``SIGXCPU``, then ``SIGKILL``).
    wall_seconds : float
        Wall clock of one request (a cell, a probe, a warm-up), enforced from outside.
    memory_bytes : int
        Address space of each process (``RLIMIT_AS``: an allocation beyond it is a ``MemoryError``) and
        resident memory of the whole sandbox, watched from outside (beyond it, the sandbox is killed).
    processes : int
        Processes and threads the sandbox may have at once (``RLIMIT_NPROC`` of its own user id).
    output_bytes : int
        Bytes of stdout plus stderr kept per cell; the rest is dropped while it streams, and counted.
    file_size_bytes : int
        Largest file the student may write (``RLIMIT_FSIZE``), and largest array a call may return.
    tmp_bytes : int
        Size of the private ``/tmp`` and of ``/dev/shm`` (memory-backed).
    start_seconds : float
        Wall clock for a new process to start and answer.
    """

    cpu_seconds: int = 900
    wall_seconds: float = 120.0
    memory_bytes: int = 6 * GiB
    processes: int = 256
    output_bytes: int = 64 * KiB
    file_size_bytes: int = 1 * GiB
    tmp_bytes: int = 256 * MiB
    start_seconds: float = 60.0

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if not value > 0:
                raise ValueError(f"Limits: {name} must be positive. Received: {name}={value!r}")


@dataclass(frozen=True)
class CellResult:
    """What executing one cell gave.

    ``status`` is ``"ok"``; ``"error"`` (the cell raised: ``error`` is ``"ExcType: message"`` and ``line``
    the line of the cell); ``"timeout"`` or ``"died"`` (the process is gone: ``error`` says why, and
    :meth:`Sandbox.restart` gives a fresh one). ``output_dropped`` counts the bytes of output beyond the cap.
    """

    status: Literal["ok", "error", "timeout", "died"]
    error: str | None = None
    line: int | None = None
    stdout: str = ""
    stderr: str = ""
    output_dropped: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


# --------------------------------------------------------------------------------------------- files
def _copy_tree(source: Path, target: Path, owner: int | None) -> None:
    """Copy a submission's folder without following symlinks (a link stays a link, to nothing inside) and
    without special files; hand everything to ``owner``."""
    for entry in os.scandir(source):
        destination = target / entry.name
        if entry.is_symlink():
            os.symlink(os.readlink(entry.path), destination)
        elif entry.is_dir(follow_symlinks=False):
            destination.mkdir(exist_ok=True)
            _copy_tree(Path(entry.path), destination, owner)
        elif entry.is_file(follow_symlinks=False):
            shutil.copyfile(entry.path, destination, follow_symlinks=False)
        else:
            continue
        if owner is not None:
            os.lchown(destination, owner, owner)


def _safe_load(folder: Path, name: str, budget: list[int]) -> np.ndarray:
    """Load an array the student's process wrote, trusting nothing about the file."""
    if not ARRAY_NAME.match(name) or not name.startswith("out-"):
        raise ValueError(f"an array file named {name!r}")
    fd = os.open(folder / name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    with os.fdopen(fd, "rb") as handle:
        info = os.fstat(handle.fileno())
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{name} is not a regular file")
        budget[0] -= info.st_size
        if budget[0] < 0:
            raise ValueError("the arrays sent back are larger than the memory limit")
        version = np.lib.format.read_magic(handle)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
        else:
            raise ValueError(f"{name} has .npy format version {version}")
        if dtype.kind not in "biufc" or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError(f"{name} holds an array of dtype {dtype}")
        if int(np.prod(shape, dtype=np.int64)) * dtype.itemsize > info.st_size - handle.tell():
            raise ValueError(f"{name} is shorter than its header says")
        handle.seek(0)
        return np.load(handle, allow_pickle=False)


def _signal_reason(number: int, limits: Limits) -> str:
    if number == signal.SIGXCPU:
        return f"used up its {limits.cpu_seconds} s of CPU time"
    if number == signal.SIGKILL:
        return "was killed (SIGKILL: a resource limit, CPU time or memory, most likely)"
    if number == signal.SIGSEGV:
        return "crashed with a segmentation fault (SIGSEGV)"
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    return f"was stopped by {name}"


def _kill_tree(process: subprocess.Popen[bytes]) -> None:
    """SIGKILL the process, its process group and every descendant; with bwrap the pid namespace goes too."""
    import psutil

    if process.returncode is not None:  # already reaped (with bwrap, its namespace is gone); the pid may be reused
        return
    try:
        descendants = psutil.Process(process.pid).children(recursive=True)
    except psutil.Error:
        descendants = []
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for child in descendants:
        try:
            child.kill()
        except psutil.Error:
            pass
    process.wait()
    deadline = time.monotonic() + 10  # until nothing of the sandbox runs (a zombie left to init runs nothing)
    while time.monotonic() < deadline and any(_running(child) for child in descendants):
        time.sleep(0.01)


def _running(process: Any) -> bool:
    import psutil

    try:
        return process.status() != psutil.STATUS_ZOMBIE
    except psutil.Error:
        return False


def _resident_bytes(pid: int) -> tuple[int, list[Any]]:
    """Resident memory of a process and its descendants, and the processes themselves."""
    import psutil

    try:
        root = psutil.Process(pid)
        processes = [root, *root.children(recursive=True)]
    except psutil.Error:
        return 0, []
    total = 0
    for process in processes:
        try:
            total += process.memory_info().rss
        except psutil.Error:
            pass
    return total, processes


def _proportional_bytes(processes: Sequence[Any]) -> int:
    """Like :func:`_resident_bytes` but sharing pages fairly (PSS): forked children are not counted twice."""
    import psutil

    total = 0
    for process in processes:
        try:
            total += process.memory_full_info().pss
        except psutil.Error:
            pass
    return total


def _finalize(state: dict[str, Any], base: Path, lease: UidLease | None) -> None:
    process = state.get("process")
    if process is not None:
        _kill_tree(process)
        for stream in (process.stdin, process.stdout):
            if stream is not None:
                stream.close()
    shutil.rmtree(base, ignore_errors=True)
    if lease is not None:
        lease.release()


# ------------------------------------------------------------------------------------------- sandbox
class Sandbox:
    """One student process, sandboxed, with a persistent namespace; a context manager.

    Parameters
    ----------
    files : path, optional
        The submission's folder (or one file): copied, without following symlinks, into the private
        folder that is the process's home and working directory. :meth:`add_files` adds more later.
    limits : Limits, optional
        Resource limits; :class:`Limits` defaults when omitted.
    unsafe_no_sandbox : bool
        Run the runner as a plain subprocess (same protocol, same resource limits, no isolation: the
        student's code can read and write whatever the grader can). ``sandboxed`` then says ``False``, and
        every report must say so. Without it, a missing or unusable bwrap raises
        :class:`SandboxUnavailable`.
    env : mapping, optional
        Extra environment variables for the student's process (``OMP_NUM_THREADS``, say).
    forkserver : ForkServer, optional
        Fork the student's process (and every restart) from this warm server
        (:class:`autograder.forkserver.ForkServer`) instead of starting Python afresh: what the server
        imported is already there, and the process is isolated as a fresh one is. Needs the sandbox (not
        ``unsafe_no_sandbox``) and root.

    Raises
    ------
    SandboxUnavailable
        If bubblewrap is missing or cannot create namespaces and ``unsafe_no_sandbox`` is not set.
    """

    def __init__(
        self,
        files: str | os.PathLike[str] | None = None,
        *,
        limits: Limits | None = None,
        unsafe_no_sandbox: bool = False,
        env: Mapping[str, str] | None = None,
        forkserver: ForkServer | None = None,
    ):
        self.limits = Limits() if limits is None else limits
        if not isinstance(self.limits, Limits):
            raise TypeError(f"Sandbox: limits must be a Limits. Received: limits={limits!r}")
        self._sandboxed = not unsafe_no_sandbox
        if self._sandboxed and (problem := _probe_bwrap()) is not None:
            raise SandboxUnavailable(f"{problem} {INSTALL_HINT}")
        self._extra_env = dict(env or {})
        self._lease = UidLease() if self._sandboxed and os.geteuid() == 0 else None
        if forkserver is not None and self._lease is None:
            raise SandboxError("a fork server needs the sandbox and root; drop forkserver= or unsafe_no_sandbox")
        self._forkserver = forkserver
        self._base = forkserver.new_slot() if forkserver else Path(tempfile.mkdtemp(prefix="autograder-sandbox-"))
        self._log = forkserver.log if forkserver else self._base / "runner.log"
        self._work, self._exchange = self._base / "work", self._base / "io"
        self._state: dict[str, Any] = {"process": None}
        self._finalizer = weakref.finalize(self, _finalize, self._state, self._base, self._lease)
        for folder in (self._work, self._exchange):
            folder.mkdir()
            if self._lease is not None:
                os.chown(folder, self._lease.uid, self._lease.uid)
        self._warmed: list[str] = []
        self._seed: int | None = None
        self.last_wall_seconds = 0.0
        """Wall time of the last request, measured here: unlike ``Outcome.seconds``, the student cannot fake it."""
        self._touched = False  # whether student code has run in this sandbox
        if files is not None:
            self.add_files(files)
        self._start()

    # ------------------------------------------------------------------ public
    @property
    def sandboxed(self) -> bool:
        """``True`` under bubblewrap; ``False`` when started with ``unsafe_no_sandbox``."""
        return self._sandboxed

    @property
    def alive(self) -> bool:
        """Whether the student's process is running and usable."""
        process = self._state["process"]
        return process is not None and not self._lost and process.poll() is None

    @property
    def workdir(self) -> Path:
        """The private folder (on this machine) that the student's process sees as its home."""
        return self._work

    @property
    def user_id(self) -> int | None:
        """The user id the student's process runs as, when the grader is root; else ``None``."""
        return self._lease.uid if self._lease is not None else None

    def pids(self) -> list[int]:
        """This machine's ids of every process in the sandbox (bwrap's included)."""
        process = self._state["process"]
        if process is None or process.poll() is not None:
            return []
        return [p.pid for p in _resident_bytes(process.pid)[1]]

    def add_files(self, files: str | os.PathLike[str]) -> None:
        """Copy a folder's contents (or one file) into the private working folder.

        Only before any student code has run: afterwards the folder holds whatever links the student made.
        """
        if self._touched:
            raise SandboxError("add_files must come before the first exec or probe (the folder is the student's)")
        source = Path(files)
        owner = self._lease.uid if self._lease is not None else None
        if source.is_dir():
            _copy_tree(source, self._work, owner)
        elif source.is_file():
            shutil.copyfile(source, self._work / source.name)
            if owner is not None:
                os.chown(self._work / source.name, owner, owner)
        else:
            raise FileNotFoundError(f"Sandbox: no submission folder or file at {source}")

    def exec(self, source: str, cell: str | None = None, *, timeout: float | None = None) -> CellResult:
        """Execute a cell's source in the persistent namespace; never raises for what the cell does.

        ``timeout`` (seconds, default ``limits.wall_seconds``) is enforced from outside. A cell that ends the
        process (``os._exit``, a segfault, a kill for memory) or runs out of time gives status ``"died"`` or
        ``"timeout"``: the namespace is lost and :meth:`restart` gives a fresh process.
        """
        if type(source) is not str:
            raise TypeError(f"Sandbox.exec: source must be a str. Received: source={type(source).__name__}")
        start = time.monotonic()
        try:
            self._touched = True
            message = self._request({"op": "exec", "source": source, "cell": cell}, timeout)
            return self._cell_result(message)
        except SandboxLost as lost:
            return CellResult(lost.kind, lost.reason, seconds=time.monotonic() - start)

    def probe(
        self, calls: Sequence[Call], forbid: Sequence[str] = (), *, timeout: float | None = None
    ) -> list[Outcome]:
        """Run a case's calls in the student's process (:func:`autograder.probe.run_calls`); plain outcomes.

        Raises
        ------
        SandboxLost
            If the process ran out of time, died, or sent back anything malformed.
        TypeError
            If a call's arguments are not plain data (the check's mistake, not the student's).
        """
        calls = list(calls)
        if not all(isinstance(call, Call) for call in calls):
            raise TypeError("Sandbox.probe: calls must be autograder.checks.Call objects")
        self._clear_exchange()
        names = iter(range(1, 1 << 30))

        def save(array: np.ndarray) -> str:
            # The folder is the student's to write in: never follow or reuse what is there (O_EXCL).
            name = f"in-{next(names)}.npy"
            flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
            with os.fdopen(os.open(self._exchange / name, flags, 0o644), "wb") as handle:
                np.save(handle, array, allow_pickle=False)
            return name

        try:
            wire = [encode_call(call, save) for call in calls]
        except FileExistsError:  # something appeared between clearing the folder and writing to it
            self._lose("died", "tampered with the grader's exchange folder")
        self._touched = True
        try:
            message = self._request({"op": "probe", "calls": wire, "forbid": list(forbid)}, timeout)
            budget = [self.limits.memory_bytes]
            outcomes = message["outcomes"]
            if type(outcomes) is not list or len(outcomes) > len(calls):
                raise ValueError("not one outcome per call")
            load = functools.partial(_safe_load, self._exchange, budget=budget)
            return [decode_outcome(item, load) for item in outcomes]
        except (KeyError, TypeError, ValueError, OSError) as error:
            self._lose("died", f"sent back malformed results ({error})")
        finally:
            self._clear_exchange()

    def warm(
        self, modules: Sequence[str], *, wait: bool = True, timeout: float | None = None
    ) -> dict[str, float | str] | None:
        """Import ``modules`` in the student's process before any student code runs (a framework, say).

        Returns, per module, the seconds its import took or the ``"ExcType: message"`` of its failure. With
        ``wait=False`` the request is only sent; the next request (or :meth:`autograder.pool.WarmPool.take`) collects it,
        so the import runs while the grader does something else. :meth:`restart` warms the new process the
        same way.
        """
        modules = [str(module) for module in modules]
        self._warmed = list(dict.fromkeys([*self._warmed, *modules]))
        if not wait:
            self._pending = self._send_request({"op": "warm", "modules": modules}, timeout)
            return None
        message = self._request({"op": "warm", "modules": modules}, timeout)
        try:
            return {**dict(message["imported"]), **dict(message["failed"])}
        except (KeyError, TypeError, ValueError) as error:
            self._lose("died", f"sent back a malformed answer ({error})")

    def seed(self, seed: int, *, timeout: float | None = None) -> list[str]:
        """Seed Python's ``random``, NumPy's global generator, and torch and TensorFlow if imported (warm them
        first); :meth:`restart` seeds the new process the same way. Returns what was seeded."""
        self._seed = int(seed)
        message = self._request({"op": "seed", "seed": self._seed}, timeout)
        seeded = message.get("seeded")
        if type(seeded) is not list or not all(type(name) is str for name in seeded):
            self._lose("died", "sent back a malformed answer (seeded)")
        return seeded

    def restart(self) -> None:
        """Kill the process (and everything it started) and start a fresh one, warmed and seeded like the last."""
        self._stop()
        self._start()
        if self._warmed:
            self.warm(self._warmed)
        if self._seed is not None:
            self.seed(self._seed)

    def close(self) -> None:
        """Stop the process and everything in the sandbox, and delete the private folders."""
        process = self._state["process"]
        if process is not None and self.alive and self._ready and self._pending is None:
            try:
                self._request({"op": "bye"}, 2.0)
            except SandboxError:
                pass
        self._finalizer()

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- process
    def _environment(self, home: str) -> dict[str, str]:
        return student_environment(home, self._extra_env)

    def _processes_limit(self) -> int:
        """RLIMIT_NPROC counts every task of the user id; without a uid of its own, leave room for the rest."""
        if self._lease is not None or not self._sandboxed and os.geteuid() == 0:
            return self.limits.processes
        import psutil

        mine = 0
        for process in psutil.process_iter(["uids", "num_threads"]):
            uids, threads = process.info["uids"], process.info["num_threads"]
            if uids is not None and uids.real == os.getuid():
                mine += threads or 1
        return mine + self.limits.processes

    def _bwrap_args(self) -> list[str]:
        uid = self._lease.uid if self._lease is not None else os.getuid()
        binds = [("--bind", str(self._work), HOME), ("--bind", str(self._exchange), EXCHANGE)]
        return sandbox_args(
            env=self._environment(HOME), accounts=write_accounts(self._base, uid), tmp_bytes=self.limits.tmp_bytes,
            binds=binds, capabilities=CAPABILITIES,
        )

    def _start(self) -> None:
        limits = {**asdict(self.limits), "processes": self._processes_limit()}
        if self._forkserver is not None:
            write_accounts(self._base, self._lease.uid)
            process: Any = self._forkserver.spawn(self._base, self._lease.uid, self._environment(HOME), limits)
            self._started_process(process)
            return
        exchange = EXCHANGE if self._sandboxed else str(self._exchange)
        config = json.dumps({"exchange": exchange, "limits": limits})
        runner = [sys.executable, "-I", "-m", "autograder.runner", config]  # -I: the folder cannot shadow it
        log = open(self._base / "runner.log", "ab")  # bwrap's and the runner's own errors, before student code
        pipes = {"stdin": subprocess.PIPE, "stdout": subprocess.PIPE, "stderr": log, "start_new_session": True}
        try:
            if self._sandboxed:
                read, write = os.pipe()  # arguments through a pipe: /proc/1/cmdline inside shows no paths
                os.write(write, b"".join(arg.encode() + b"\0" for arg in self._bwrap_args()))
                os.close(write)
                drop = drop_root(self._lease.uid) if self._lease is not None else []
                command = ["bwrap", "--args", str(read), "--", *drop, *runner]
                try:
                    process = subprocess.Popen(command, pass_fds=(read,), env={}, **pipes)
                finally:
                    os.close(read)
            else:
                process = subprocess.Popen(runner, cwd=self._work, env=self._environment(str(self._work)), **pipes)
        finally:
            log.close()
        self._started_process(process)

    def _started_process(self, process: Any) -> None:
        os.set_blocking(process.stdin.fileno(), False)
        self._state["process"] = process
        self._buffer = bytearray()
        self._lost, self._ready, self._junk = False, False, 0
        self._started = time.monotonic()
        self._next_watch = 0.0
        self._pending: tuple[str, float, float] | None = None

    def _stop(self) -> None:
        process = self._state["process"]
        if process is not None:
            _kill_tree(process)
            for stream in (process.stdin, process.stdout):
                stream.close()
        self._state["process"] = None

    # ---------------------------------------------------------------- protocol
    def _lose(self, kind: Literal["timeout", "died"], reason: str) -> Any:
        """Kill the process and raise :class:`SandboxLost` with a sentence about the submission's process."""
        process = self._state["process"]
        if process is not None:
            _kill_tree(process)
        self._lost = True
        raise SandboxLost(kind, f"The submission's process {reason}.")

    def _exit_reason(self) -> str:
        process = self._state["process"]
        try:
            code = process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            return "closed its channel to the grader and was stopped"
        if self._sandboxed and code > 128:  # bwrap reports a signal as 128 + its number, as shells do
            code = -(code - 128)
        if code < 0:
            return _signal_reason(-code, self.limits)
        return f"exited with status {code}"

    def _watch(self) -> None:
        process = self._state["process"]
        resident, processes = _resident_bytes(process.pid)
        if resident > self.limits.memory_bytes and _proportional_bytes(processes) > self.limits.memory_bytes:
            self._lose("died", f"used more than {self.limits.memory_bytes / GiB:.3g} GiB of memory and was stopped")

    def _read_line(self, deadline: float, timeout: float) -> bytes:
        process = self._state["process"]
        fd = process.stdout.fileno()
        while True:
            newline = self._buffer.find(b"\n")
            if newline >= 0:
                line = bytes(self._buffer[:newline])
                del self._buffer[: newline + 1]
                return line
            if len(self._buffer) > MAX_LINE:
                self._lose("died", "broke the grader's protocol (an answer too long) and was stopped")
            now = time.monotonic()
            if now >= self._next_watch:
                self._watch()
                self._next_watch = now + WATCH_INTERVAL
            # what has already arrived counts even past the deadline (a warm process's hello, read late)
            ready, _, _ = select.select([fd], [], [], max(0.0, min(deadline - now, WATCH_INTERVAL)))
            if ready:
                chunk = os.read(fd, 1 << 20)
                if not chunk:
                    self._lose("died", self._exit_reason())
                self._buffer += chunk
            elif time.monotonic() >= deadline:
                self._lose("timeout", f"did not finish within the {timeout:g} s wall-clock limit and was stopped")

    def _await(self, request_id: str, deadline: float, timeout: float) -> dict[str, Any]:
        while True:
            line = self._read_line(deadline, timeout)
            try:
                message = json.loads(line)
            except ValueError:
                message = None
            if type(message) is dict and message.get("id") == request_id:
                if "failure" in message:
                    self._lose("died", f"could not serve the grader's request ({str(message['failure'])[:200]})")
                return message
            self._junk += 1  # a stale or forged line: ignored, within reason
            if self._junk > 10_000:
                self._lose("died", "broke the grader's protocol and was stopped")

    def _ensure_ready(self) -> None:
        if self._ready:
            return
        try:
            self._await("hello", self._started + self.limits.start_seconds, self.limits.start_seconds)
        except SandboxLost as lost:
            log = self._log.read_bytes()[-2000:].decode(errors="replace") if self._log.exists() else ""
            raise SandboxError(f"the grader's runner did not start ({lost.reason}) {log}".strip()) from None
        self._ready = True

    def _send_request(self, payload: Mapping[str, Any], timeout: float | None) -> tuple[str, float, float]:
        process = self._state["process"]
        if process is None or self._lost:
            raise SandboxError("the sandbox's process is gone or closed; call restart() for a fresh one")
        if process.poll() is not None:  # it ended between requests (a student's thread, a dead fork server)
            self._lose("died", self._exit_reason())
        self._finish_pending()
        timeout = self.limits.wall_seconds if timeout is None else float(timeout)
        request_id = secrets.token_hex(12)
        data = memoryview(json.dumps({**payload, "id": request_id}).encode() + b"\n")
        deadline = time.monotonic() + timeout
        fd = self._state["process"].stdin.fileno()
        while data:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._lose("timeout", f"did not read the grader's request within {timeout:g} s and was stopped")
            if select.select([], [fd], [], remaining)[1]:
                try:
                    data = data[os.write(fd, data) :]
                except BrokenPipeError:
                    self._lose("died", self._exit_reason())
        return request_id, deadline, timeout

    def _finish_pending(self) -> None:
        if self._pending is not None:
            pending, self._pending = self._pending, None
            self._ensure_ready()
            self._await(*pending)

    def _request(self, payload: Mapping[str, Any], timeout: float | None) -> dict[str, Any]:
        start = time.monotonic()
        try:
            request = self._send_request(payload, timeout)
            self._ensure_ready()  # the runner reads the request once it has said hello
            return self._await(*request)
        finally:
            self.last_wall_seconds = time.monotonic() - start

    def _cell_result(self, message: Mapping[str, Any]) -> CellResult:
        cap = self.limits.output_bytes
        try:
            status, error, line = message["status"], message["error"], message["line"]
            stdout, stderr = message["stdout"], message["stderr"]
            dropped, seconds = message["dropped"], message["seconds"]
            if status not in ("ok", "error") or not all(type(text) is str for text in (stdout, stderr)):
                raise ValueError("bad status or output")
            if not (error is None or type(error) is str) or not (line is None or type(line) is int):
                raise ValueError("bad error or line")
            if type(dropped) is not int or type(seconds) not in (int, float):
                raise ValueError("bad counts")
        except (KeyError, TypeError, ValueError) as problem:
            self._lose("died", f"sent back a malformed answer ({problem})")
        error = error and error[:4000]
        return CellResult(status, error, line, stdout[:cap], stderr[:cap], max(dropped, 0), float(seconds))

    def _clear_exchange(self) -> None:
        for entry in os.scandir(self._exchange):
            try:
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path)
                else:
                    os.unlink(entry.path)
            except OSError:
                pass
