"""The fork server inside a sandbox: ``python -I -m autograder.zygote CONFIG``. Imports once, forks per submission.

:class:`autograder.forkserver.ForkServer` starts this program under bwrap with the layout of
:func:`autograder.bwrap.sandbox_args`, plus ``/run/slots`` (a folder per student process) and four
capabilities: ``CAP_SYS_ADMIN`` (namespaces and mounts), ``CAP_SETUID``, ``CAP_SETGID`` and ``CAP_SETPCAP``
(dropping them). It imports the frameworks (``CONFIG["modules"]``) once, runs no student code, and serves
spawn requests on its control socket. Each request forks three processes::

    zygote ─ keeper: new mount, pid, IPC, UTS and network namespaces; binds the slot's ``work`` at /home/student,
      │        its ``io`` at /run/io and its passwd/group files; fresh /tmp and /dev/shm; covers /run/slots
      └─ init (pid 1 of the new pid namespace): a fresh /proc; drops to the slot's uid, every capability gone
           └─ runner: the resource limits, then :mod:`autograder.runner`'s loop on the two pipes it was given

So a forked runner is isolated as a freshly started sandbox is (its own uid, mounts, /tmp, pids, IPC and
network; no capability; no other student's folder), only without paying for the imports. When the runner
ends, init exits with its status (``128 + signal`` for a signal, as bwrap reports it); the kernel then kills
whatever else runs in that pid namespace, and the keeper passes the status on.

Protocol (``SOCK_SEQPACKET``, one JSON object per packet)::

    -> {"ready": {"imported": {"tensorflow": 4.1}, "failed": {}}}                      once, after the imports
    <- {"op": "spawn", "token": T, "slot": NAME, "uid": U, "env": {...}, "limits": {...}, "tmp_bytes": N}
       with two file descriptors: the runner's stdin (read end) and stdout (write end)
    -> {"spawned": T, "pid": P}                                          P: the keeper, in this namespace
    -> {"exited": T, "status": S}                                        when the keeper has ended
    <- {"op": "bye"}
"""

from __future__ import annotations

import ctypes
import json
import os
import re
import select
import signal
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["main"]

SLOTS = "/run/slots"
SLOT_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")

CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
CLONE_NEWPID, CLONE_NEWNET = 0x20000000, 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_MOVE, MS_REC, MS_PRIVATE = 32, 4096, 8192, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS = 1, 4, 24, 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522

_libc = ctypes.CDLL(None, use_errno=True)


# ------------------------------------------------------------------------------------------- syscalls
def _check(result: int, what: str) -> None:
    if result != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"{what}: {os.strerror(error)}")


def _mount(source: str | None, target: str, kind: str | None, flags: int, data: str | None = None) -> None:
    encode = lambda text: None if text is None else text.encode()  # noqa: E731
    _check(_libc.mount(encode(source), encode(target), encode(kind), flags, encode(data)), f"mount {target}")


def _prctl(option: int, value: int) -> None:
    _check(_libc.prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl {option}")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _clear_capabilities() -> None:
    """Empty the effective, permitted and inheritable sets (``setuid`` leaves the inheritable one)."""
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check(_libc.capset(ctypes.byref(header), data), "capset")


def _drop_to(uid: int) -> None:
    """Become ``uid`` for good: no supplementary groups, no capability in any set, no way to regain one."""
    with open("/proc/sys/kernel/cap_last_cap") as handle:
        last = int(handle.read())
    for capability in range(last + 1):
        _prctl(PR_CAPBSET_DROP, capability)
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)
    _clear_capabilities()
    _prctl(PR_SET_NO_NEW_PRIVS, 1)
    with open("/proc/self/status") as handle:
        status = dict(line.rstrip("\n").split(":\t", 1) for line in handle if ":\t" in line)
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        if int(status.get(key, "1"), 16) != 0:
            raise OSError(f"{key} is {status.get(key)} after dropping privileges")
    if status["Uid"].split() != [str(uid)] * 4 or status["NoNewPrivs"].strip() != "1":
        raise OSError("the user id or no_new_privs did not stick")


# -------------------------------------------------------------------------------------------- the child
def _status_code(status: int) -> int:
    """A wait status as bwrap and shells report it: the exit code, or 128 + the signal's number."""
    if os.WIFSIGNALED(status):
        return 128 + os.WTERMSIG(status)
    return os.WEXITSTATUS(status) if os.WIFEXITED(status) else 255


def _mount_points() -> list[str]:
    """Every mount point of this mount namespace (``/proc/self/mountinfo``, octal escapes decoded)."""
    with open("/proc/self/mountinfo") as handle:
        fields = [line.split() for line in handle]
    return [re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), row[4]) for row in fields]


def _make_mount_point(path: str, is_dir: bool) -> None:
    if is_dir:
        os.mkdir(path, 0o755)
    else:
        os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o644))


def _fresh_tmpfs(folder: str, size: int, stage: str) -> None:
    """Cover ``folder`` with an empty tmpfs, keeping the mounts under it where they were.

    The sandbox may hold the virtual environment or the course's package under ``/tmp`` (a checkout in
    ``/tmp``): those mounts are moved aside to ``stage``, the fresh tmpfs goes on, and they are moved back
    onto mount points made again (folders ``0755``, owned by root), as bwrap lays them out.
    """
    inside = sorted({point for point in _mount_points() if point.startswith(folder.rstrip("/") + "/")})
    topmost = [point for point in inside if not any(point.startswith(other + "/") for other in inside)]
    os.mkdir(stage, 0o700)
    staged = []
    for index, point in enumerate(topmost):
        is_dir = os.path.isdir(point)
        place = f"{stage}/{index}"
        _make_mount_point(place, is_dir)
        _mount(point, place, None, MS_MOVE)
        staged.append((place, point, is_dir))
    _mount("tmpfs", folder, "tmpfs", MS_NOSUID | MS_NODEV, f"size={size},mode=1777")
    for place, point, is_dir in staged:
        parent = os.path.dirname(point)
        os.makedirs(parent, mode=0o755, exist_ok=True)
        _make_mount_point(point, is_dir)
        _mount(place, point, None, MS_MOVE)


def _fork_child(target: Any, request: Mapping[str, Any], pipes: Sequence[int]) -> int:
    """Fork; the child runs ``target(request, pipes)``, which never returns; the parent lets go of the pipes."""
    pid = os.fork()
    if pid == 0:
        target(request, pipes)
    for fd in pipes:
        os.close(fd)
    return pid


def _keeper(request: Mapping[str, Any], pipes: Sequence[int]) -> int:
    """New namespaces and the slot's mounts, then init; returns init's status code."""
    _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    os.setsid()
    _check(_libc.unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWNET), "unshare")
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    slot = f"{SLOTS}/{request['slot']}"
    for source, target in ((f"{slot}/work", "/home/student"), (f"{slot}/io", "/run/io")):
        _mount(source, target, None, MS_BIND | MS_NOSUID | MS_NODEV)
    for name in ("passwd", "group"):
        _mount(f"{slot}/{name}", f"/etc/{name}", None, MS_BIND)
        _mount(None, f"/etc/{name}", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    _mount("tmpfs", SLOTS, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=0700")  # covers the slots
    size = int(request["tmp_bytes"])
    for folder in ("/tmp", "/dev/shm"):
        _fresh_tmpfs(folder, size, stage=f"{SLOTS}/{folder.strip('/').replace('/', '-')}")
    _mount("tmpfs", SLOTS, "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=4k,mode=0755")
    init = _fork_child(_init, request, pipes)
    return _status_code(os.waitpid(init, 0)[1])  # (waitpid retries an interrupted wait itself: PEP 475)


def _init(request: Mapping[str, Any], pipes: Sequence[int]) -> None:
    """Pid 1 of the student's namespace: starts the runner, reaps orphans, exits with the runner's status."""
    code = 255
    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
        for number in (signal.SIGINT, signal.SIGTERM):
            signal.signal(number, signal.SIG_DFL)  # pid 1 ignores a signal it has no handler for
        _drop_to(int(request["uid"]))
        _prctl(PR_SET_DUMPABLE, 0)  # the student, under the same uid, cannot ptrace pid 1
        runner = _fork_child(_runner, request, pipes)
        while True:  # orphans of the student's making are reaped as they come
            pid, status = os.waitpid(-1, 0)
            if pid == runner:
                code = _status_code(status)
                break
    except BaseException as error:  # noqa: BLE001 - nothing may return into the zygote's loop
        os.write(2, f"zygote: init failed: {error!r}\n".encode())
    os._exit(code)


def _runner(request: Mapping[str, Any], pipes: Sequence[int]) -> None:
    from autograder.runner import _Runner, apply_limits

    try:
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        _prctl(PR_SET_DUMPABLE, 1)  # its own /proc/self, as in any process
        os.dup2(pipes[0], 0)
        os.dup2(pipes[1], 1)
        os.closerange(3, 1 << 16)  # the control socket, other pipes: nothing of the zygote's stays open
        os.environ.clear()
        os.environ.update({str(key): str(value) for key, value in dict(request["env"]).items()})
        os.chdir("/home/student")
        apply_limits(request["limits"])
        runner = _Runner({"exchange": "/run/io", "limits": request["limits"]})
    except BaseException as error:  # noqa: BLE001
        os.write(2, f"zygote: runner failed to start: {error!r}\n".encode())
        os._exit(255)
    runner.serve()
    sys.stdout.flush()
    os._exit(0)


# ------------------------------------------------------------------------------------------- the server
class _Zygote:
    def __init__(self, control: socket.socket):
        self.control = control
        self.children: dict[int, tuple[str, int]] = {}  # pidfd -> (token, pid)

    def send(self, message: Mapping[str, Any]) -> None:
        self.control.send(json.dumps(message).encode())

    def spawn(self, request: Mapping[str, Any], fds: list[int]) -> None:
        token = str(request["token"])
        if len(fds) != 2 or not SLOT_NAME.match(str(request["slot"])) or int(request["uid"]) <= 0:
            for fd in fds:
                os.close(fd)
            self.send({"refused": token, "reason": "a malformed spawn request"})
            return
        pid = os.fork()
        if pid == 0:
            code = 255
            try:
                os.close(self.control.detach())  # the student's init and runner never hold the zygote's socket
                for pidfd in self.children:
                    os.close(pidfd)
                code = _keeper(request, fds)
            except BaseException as error:  # noqa: BLE001 - nothing may return into the zygote's loop
                os.write(2, f"zygote: keeper failed: {error!r}\n".encode())
            os._exit(code)
        for fd in fds:
            os.close(fd)
        self.children[os.pidfd_open(pid)] = (token, pid)
        self.send({"spawned": token, "pid": pid})

    def reap(self, pidfd: int) -> None:
        token, pid = self.children.pop(pidfd)
        os.close(pidfd)
        status = os.waitpid(pid, 0)[1]
        self.send({"exited": token, "status": _status_code(status)})

    def serve(self) -> None:
        while True:
            ready, _, _ = select.select([self.control, *self.children], [], [])
            for item in ready:
                if item is not self.control:
                    self.reap(item)
                    continue
                data, fds, _, _ = socket.recv_fds(self.control, 1 << 20, 4)
                if not data:
                    return
                request = json.loads(data)
                if request.get("op") == "bye":
                    return
                self.spawn(request, fds)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: ``python -I -m autograder.zygote '{"control": FD, "modules": [...]}'``."""
    import importlib

    config = json.loads((sys.argv[1:] if argv is None else list(argv))[0])
    control = socket.socket(fileno=int(config["control"]))
    imported: dict[str, float] = {}
    failed: dict[str, str] = {}
    for module in config["modules"]:
        start = time.perf_counter()
        try:
            importlib.import_module(module)
            imported[module] = time.perf_counter() - start
        except Exception as error:  # noqa: BLE001 - a missing framework is reported, not fatal
            failed[module] = f"{type(error).__name__}: {error}"
    zygote = _Zygote(control)
    zygote.send({"ready": {"imported": imported, "failed": failed}})
    zygote.serve()
    os._exit(0)


if __name__ == "__main__":
    main()
