"""Student processes forked from a warm sandbox: the frameworks are imported once per worker, not per submission.

A :class:`ForkServer` starts :mod:`autograder.zygote` in a bubblewrap sandbox laid out like every other
(:func:`autograder.bwrap.sandbox_args`), which imports ``modules`` (``("tensorflow",)``, say) and then forks
one student process per :meth:`ForkServer.spawn`. Each forked process gets new mount, pid, IPC, UTS and
network namespaces, the submission's folder as its home and nothing of any other slot, fresh ``/tmp`` and
``/proc``, a user id of its own with every capability dropped, and :class:`autograder.sandbox.Limits`: the same
isolation as a sandbox started from scratch, minus the seconds of ``import tensorflow``.

:class:`autograder.sandbox.Sandbox` takes a server (``Sandbox(files, forkserver=server)``) and talks to the forked
process exactly as to one it started; :class:`autograder.pool.WarmPool` makes one server per worker.
Only root can hand out user ids and mount namespaces, so a fork server needs root and bubblewrap
(:func:`forkserver_available`); elsewhere the pool starts (and warms) a fresh sandbox per submission.

Example
-------
>>> with ForkServer(["tensorflow"]) as server:                              # doctest: +SKIP
...     with Sandbox("submitted/ada/pooling_cnn", forkserver=server) as box:
...         box.exec("import tensorflow as tf")                             # already imported: instant
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import select
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from autograder.bwrap import CAPABILITIES, EXCHANGE, HOME, probe_bwrap, sandbox_args
from autograder.bwrap import student_environment, write_accounts

__all__ = ["ForkServer", "ForkServerError", "ForkedProcess", "forkserver_available"]

SLOTS = "/run/slots"  # where the zygote sees the slots; each forked process sees only its own, as HOME
ZYGOTE_CAPABILITIES = (*CAPABILITIES, "--cap-add", "CAP_SYS_ADMIN")  # namespaces and mounts for each child
NOBODY = 65534
PREFIX = "autograder-forkserver-"  # of each server's folder in the temporary directory


def forkserver_available() -> bool:
    """Whether a fork server can run here: bubblewrap works and the grader is root."""
    return os.geteuid() == 0 and probe_bwrap() is None


def _identity(pid: int) -> dict[str, Any] | None:
    """A process's id and start time (a pid alone may have been reused); ``None`` if it is gone."""
    import psutil

    try:
        return {"pid": pid, "started": psutil.Process(pid).create_time()}
    except psutil.Error:
        return None


def _sweep_stale(parent: Path) -> None:
    """Delete the folders of fork servers whose grader died without cleaning up (``kill -9``, a power cut)."""
    for folder in parent.glob(f"{PREFIX}*"):
        try:
            owner = json.loads((folder / "owner.json").read_text())
            stale = _identity(int(owner["pid"])) != owner
        except (OSError, ValueError, KeyError, TypeError):
            continue  # not ours to judge, or still being set up
        if stale:
            shutil.rmtree(folder, ignore_errors=True)


def _shutdown(box: list[subprocess.Popen[bytes]], base: Path) -> None:
    """At close, or when the server is collected or the interpreter exits: no zygote, no slots left."""
    for process in box:
        if process.poll() is None:
            try:
                os.killpg(process.pid, 9)
            except ProcessLookupError:
                pass
            process.wait()
    box.clear()
    shutil.rmtree(base, ignore_errors=True)


class ForkServerError(RuntimeError):
    """The fork server did not start or stopped answering."""


class ForkedProcess:
    """A student process forked by the zygote, seen through :class:`subprocess.Popen`'s surface.

    ``pid`` is this machine's id of the keeper (the zygote's child that holds the process's namespaces, and a
    process group leader); killing it and its descendants ends the student's pid namespace.
    """

    def __init__(self, server: ForkServer, token: str, pid: int, stdin: Any, stdout: Any):
        self._server, self._token = server, token
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self._server._exit_status(self._token, 0.0)  # noqa: SLF001
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while self.returncode is None:
            remaining = None if deadline is None else deadline - time.monotonic()
            if remaining is not None and remaining <= 0:
                raise subprocess.TimeoutExpired(f"forked process {self.pid}", timeout or 0.0)
            self.returncode = self._server._exit_status(self._token, remaining)  # noqa: SLF001
        return self.returncode


class ForkServer:
    """A zygote that imported ``modules`` once, in a sandbox, and forks isolated student processes.

    Parameters
    ----------
    modules : sequence of str
        What the zygote imports before serving (``("torch", "tensorflow")``).
    limits : Limits, optional
        ``start_seconds`` bounds the zygote's start and imports; ``tmp_bytes`` its own ``/tmp``.
    env : mapping, optional
        Extra environment variables, as :class:`autograder.sandbox.Sandbox` takes them.

    Raises
    ------
    SandboxUnavailable
        If bubblewrap is missing or the grader is not root.
    ForkServerError
        If the zygote does not start within ``limits.start_seconds``.
    """

    def __init__(self, modules: Sequence[str] = (), *, limits: Any = None, env: Mapping[str, str] | None = None):
        from autograder.sandbox import INSTALL_HINT, Limits, SandboxUnavailable

        if os.geteuid() != 0:
            raise SandboxUnavailable("a fork server needs root, to give each student process a user id of its own.")
        if (problem := probe_bwrap()) is not None:
            raise SandboxUnavailable(f"{problem} {INSTALL_HINT}")
        self.modules = tuple(str(module) for module in modules)
        self.limits = Limits() if limits is None else limits
        self.env = dict(env or {})
        _sweep_stale(Path(tempfile.gettempdir()))
        self._base = Path(tempfile.mkdtemp(prefix=PREFIX))
        (self._base / "owner.json").write_text(json.dumps(_identity(os.getpid())))
        self.slots = self._base / "slots"
        self.slots.mkdir(mode=0o700)
        self.log = self._base / "zygote.log"
        self.imported: dict[str, Any] = {}
        """Per module, the seconds its import took in the zygote, or the ``"ExcType: message"`` of its failure."""
        self._process_box: list[subprocess.Popen[bytes]] = []  # the zygote's bwrap, for the finalizer
        self._exited: dict[str, int] = {}  # token -> status, as the zygote reported it
        self._spawned: set[str] = set()
        self._finalizer = weakref.finalize(self, _shutdown, self._process_box, self._base)
        self._start()

    # ------------------------------------------------------------------ public
    @property
    def _process(self) -> subprocess.Popen[bytes] | None:
        return self._process_box[0] if self._process_box else None

    @_process.setter
    def _process(self, process: subprocess.Popen[bytes] | None) -> None:
        self._process_box[:] = [] if process is None else [process]

    @property
    def alive(self) -> bool:
        """Whether the zygote is running."""
        return self._process is not None and self._process.poll() is None

    def new_slot(self) -> Path:
        """A fresh folder for one student process (its ``work`` and ``io`` go inside; the caller fills them)."""
        return Path(tempfile.mkdtemp(prefix="slot-", dir=self.slots))

    def spawn(self, slot: Path, uid: int, env: Mapping[str, str], limits: Mapping[str, Any]) -> ForkedProcess:
        """Fork a student process for ``slot`` (from :meth:`new_slot`) running as ``uid``.

        The process reads requests on the returned object's ``stdin`` and answers on its ``stdout``, as
        :mod:`autograder.runner` does; ``limits`` are :class:`Limits` as a dict (``processes`` already
        resolved). A zygote that died is restarted once.
        """
        slot = Path(slot)
        if slot.parent != self.slots:
            raise ValueError(f"ForkServer.spawn: {slot} is not one of this server's slots (use new_slot())")
        if not self.alive:
            self._restart()
        stdin_read, stdin_write = os.pipe()
        stdout_read, stdout_write = os.pipe()
        token = secrets.token_hex(8)
        request = {"op": "spawn", "token": token, "slot": slot.name, "uid": int(uid), "env": dict(env)}
        request.update({"limits": dict(limits), "tmp_bytes": int(limits["tmp_bytes"])})
        try:
            socket.send_fds(self._control, [json.dumps(request).encode()], [stdin_read, stdout_write])
            message = self._await(lambda m: token in (m.get("spawned"), m.get("refused")), self.limits.start_seconds)
            if "refused" in message:
                raise ForkServerError(f"the fork server refused: {message.get('reason')}")
            pid = self._host_pid(int(message["pid"]))
        except (OSError, ForkServerError) as error:
            os.close(stdin_write)
            os.close(stdout_read)
            raise ForkServerError(f"no student process from the fork server ({error})") from None
        finally:
            os.close(stdin_read)
            os.close(stdout_write)
        return ForkedProcess(self, token, pid, os.fdopen(stdin_write, "wb", 0), os.fdopen(stdout_read, "rb", 0))

    def close(self) -> None:
        """Stop the zygote (its forked processes die with it) and delete the slots."""
        self._stop()
        self._finalizer()

    def __enter__(self) -> ForkServer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ----------------------------------------------------------------- zygote
    def _start(self) -> None:
        self._control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._inbox: list[dict[str, Any]] = []
        args = sandbox_args(
            env=student_environment(HOME, self.env), accounts=write_accounts(self._base, NOBODY), tmp_bytes=self.limits.tmp_bytes,
            binds=[("--bind", str(self.slots), SLOTS)], folders=(HOME, EXCHANGE), capabilities=ZYGOTE_CAPABILITIES,
        )
        config = json.dumps({"control": theirs.fileno(), "modules": list(self.modules)})
        read, write = os.pipe()  # arguments through a pipe: /proc/1/cmdline inside shows no paths
        os.write(write, b"".join(arg.encode() + b"\0" for arg in args))
        os.close(write)
        command = ["bwrap", "--args", str(read), "--", sys.executable, "-I", "-B", "-m", "autograder.zygote", config]
        try:
            with open(self.log, "ab") as log:
                self._process = subprocess.Popen(
                    command, pass_fds=(read, theirs.fileno()), env={}, stdin=subprocess.DEVNULL,
                    stdout=log, stderr=log, start_new_session=True,
                )
        finally:
            os.close(read)
            theirs.close()
        try:
            ready = self._await(lambda m: "ready" in m, self.limits.start_seconds)["ready"]
        except ForkServerError:
            self._stop()
            raise
        self.imported = {**ready.get("imported", {}), **ready.get("failed", {})}

    def _stop(self) -> None:
        process, self._process = self._process, None
        if process is None:
            return
        try:
            self._control.send(json.dumps({"op": "bye"}).encode())
        except OSError:
            pass
        self._control.close()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
            process.wait()
        self._all_killed()  # bwrap's --die-with-parent and each keeper's death signal took them

    def _all_killed(self) -> None:
        """The zygote is gone: every process it forked died with it (SIGKILL, as bwrap reports it)."""
        for token in self._spawned:
            self._exited.setdefault(token, 128 + 9)
        self._spawned.clear()

    def _restart(self) -> None:
        self._stop()
        self._start()

    def _receive(self, timeout: float | None) -> bool:
        """Read one message the zygote sent within ``timeout`` (``None``: wait); ``False`` if it is gone."""
        if self._process is None:
            return False
        ready, _, _ = select.select([self._control], [], [], timeout)
        if not ready:
            return True
        try:
            data = self._control.recv(1 << 16)
        except OSError:
            data = b""
        if not data:  # the zygote is gone, and every process it forked with it
            self._all_killed()
            self._process.poll()
            self._process = None
            return False
        message = json.loads(data)
        if "exited" in message:
            token = str(message["exited"])
            self._exited[token] = int(message["status"])
            self._spawned.discard(token)  # only the processes still running are tracked
        else:
            self._inbox.append(message)
        return True

    def _await(self, wanted: Any, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            for message in self._inbox:
                if wanted(message):
                    self._inbox.remove(message)
                    if "spawned" in message:
                        self._spawned.add(str(message["spawned"]))
                    return message
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ForkServerError(f"the fork server did not answer within {timeout:g} s; see {self.log}")
            if not self._receive(remaining):
                tail = self.log.read_bytes()[-2000:].decode(errors="replace") if self.log.exists() else ""
                raise ForkServerError(f"the fork server stopped. {tail}".strip())

    def _exit_status(self, token: str, timeout: float | None) -> int | None:
        """The status of ``token``'s process if it has ended (waiting up to ``timeout``), else ``None``."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while token not in self._exited:
            remaining = None if deadline is None else max(deadline - time.monotonic(), 0.0)
            if remaining == 0.0 and not select.select([self._control], [], [], 0)[0]:
                break  # nothing more has arrived
            if not self._receive(remaining):
                return self._exited.setdefault(token, 128 + 9)
        return self._exited.get(token)

    def _host_pid(self, inner: int) -> int:
        """This machine's id of the zygote's child ``inner`` (``NSpid`` in ``/proc/<pid>/status``)."""
        import psutil

        assert self._process is not None
        for child in psutil.Process(self._process.pid).children(recursive=True):
            try:
                with open(f"/proc/{child.pid}/status") as handle:
                    for line in handle:
                        if line.startswith("NSpid:"):
                            ids = line.split()[1:]
                            if len(ids) == 2 and int(ids[1]) == inner:
                                return child.pid
            except (OSError, ValueError):
                continue
        raise ForkServerError(f"the forked process {inner} is not among the fork server's children")
