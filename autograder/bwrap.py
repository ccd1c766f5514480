"""How a bubblewrap sandbox is laid out: the ``bwrap`` command line that :class:`autograder.sandbox.Sandbox` and
:class:`autograder.forkserver.ForkServer` both start, and the user ids their processes run as.

Inside, a process sees a read-only ``/usr`` (and the ``/bin``, ``/lib`` links), the Python installation and
virtual environment, :mod:`coursepkg`, and of this package only :data:`RUNNER_MODULES` (the generic pieces
the student's process is made of; the hidden tests, the mutants and the instructor's tools are covered by an
empty tmpfs). It has private ``/tmp``, ``/dev/shm``, ``/dev`` and ``/proc``, no network, and whatever
``binds`` the caller adds (the submission's folder at :data:`HOME`, say). As root, bwrap keeps only the
capabilities the caller asks for; the process then drops to a user id of its own (:class:`UidLease`).
"""

from __future__ import annotations

import fcntl
import functools
import importlib.util
import os
import secrets
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path

__all__ = [
    "CAPABILITIES",
    "EXCHANGE",
    "HOME",
    "RUNNER_MODULES",
    "UidLease",
    "drop_root",
    "probe_bwrap",
    "sandbox_args",
    "student_environment",
    "write_accounts",
]

HOME = "/home/student"  # the submission's folder, as the student's code sees it
EXCHANGE = "/run/io"  # where arrays cross the boundary
RUNNER_MODULES = ("__init__.py", "checks.py", "probe.py", "operations.py", "runner.py", "zygote.py")

# As root, bwrap keeps only what setpriv needs to become the sandbox's user and drop everything else.
CAPABILITIES = ("--cap-drop", "ALL", "--cap-add", "CAP_SETUID", "--cap-add", "CAP_SETGID")
CAPABILITIES += ("--cap-add", "CAP_SETPCAP")  # setpriv needs it to empty the bounding set


def namespace_flags() -> list[str]:
    """Every namespace bwrap can unshare. As root, not the user namespace: it would map the sandbox to
    uid 0, for which the kernel never enforces ``RLIMIT_NPROC``; the process drops to a uid of its own."""
    if os.geteuid() == 0:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts", "--unshare-cgroup-try"]
    return ["--unshare-all"]


def system_mounts() -> list[str]:
    """``/usr``, the top-level links into it, and the few files of ``/etc`` that programs read."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--perms", "0755", "--dir", "/etc"]
    for name in ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime", "fonts", "mime.types"):
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    return args


def drop_root(uid: int) -> list[str]:
    """The command prefix that turns the sandbox's root into ``uid``, with no capabilities left."""
    return [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={uid}",
        "--clear-groups",
        "--inh-caps=-all",
        "--bounding-set=-all",
        "--no-new-privs",
        "--",
    ]


@functools.cache
def probe_bwrap() -> str | None:
    """``None`` if a sandbox can be made here, else why not (cached: asked once per process)."""
    bwrap = shutil.which("bwrap")
    if bwrap is None:
        return "bubblewrap (bwrap) is not installed."
    if os.geteuid() == 0 and shutil.which("setpriv") is None:
        return "setpriv (util-linux) is missing, so the sandbox could not drop root."
    command = [bwrap, *namespace_flags(), "--die-with-parent", *system_mounts(), "--proc", "/proc", "--dev", "/dev"]
    if os.geteuid() == 0:  # the whole way down: a user id of its own, no capabilities
        command += [*CAPABILITIES, "--", *drop_root(UidLease.BASE)]
    try:
        done = subprocess.run([*command, "true"], capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"bwrap could not be run: {error}"
    if done.returncode != 0:
        return f"bwrap is installed but cannot create a sandbox here: {done.stderr.decode(errors='replace').strip()}"
    return None


class UidLease:
    """A user id no other live sandbox uses, held by an ``flock`` (released when the holder dies)."""

    BASE, SLOTS = 2_100_000_000, 100_000

    def __init__(self) -> None:
        folder = Path(tempfile.gettempdir()) / "autograder-sandbox-uids"
        folder.mkdir(mode=0o700, exist_ok=True)
        start = secrets.randbelow(self.SLOTS)
        for step in range(self.SLOTS):
            slot = (start + step) % self.SLOTS
            fd = os.open(folder / str(slot), os.O_CREAT | os.O_RDWR | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                continue
            self.uid, self._fd = self.BASE + slot, fd
            return
        raise RuntimeError("no free sandbox user id (every slot is taken)")

    def release(self) -> None:
        if self._fd >= 0:
            os.close(self._fd)
            self._fd = -1


def student_environment(home: str, extra: Mapping[str, str]) -> dict[str, str]:
    """The whole environment of a student's process (nothing of the grader's): ``extra`` on a plain base."""
    env = {"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": home, "LANG": "C.UTF-8", "USER": "student"}
    env.update({"LOGNAME": "student", "MPLBACKEND": "Agg"})
    return {**env, **extra}


def write_accounts(folder: Path, uid: int) -> tuple[Path, Path]:
    """``passwd`` and ``group`` files in ``folder`` naming ``uid`` ``student`` (what ``getpass`` and ``~`` see)."""
    accounts, groups = folder / "passwd", folder / "group"
    accounts.write_text(f"root:x:0:0:root:/root:/bin/sh\nstudent:x:{uid}:{uid}:student:{HOME}:/bin/sh\n")
    groups.write_text(f"root:x:0:\nstudent:x:{uid}:\n")
    return accounts, groups


def sandbox_args(
    *,
    env: Mapping[str, str],
    accounts: tuple[Path, Path],
    tmp_bytes: int,
    binds: Sequence[tuple[str, str, str]],
    folders: Sequence[str] = (),
    capabilities: Sequence[str] = (),
) -> list[str]:
    """bwrap's arguments (before ``--``) for a sandbox with ``binds`` (``(operation, source, destination)``,
    operation ``--bind`` or ``--ro-bind``) added to the common layout, empty ``folders`` made, and, as root,
    ``capabilities`` (bwrap's ``--cap-drop``/``--cap-add`` arguments) kept."""
    args = [*namespace_flags(), "--die-with-parent", "--new-session", "--clearenv", "--hostname", "localhost"]
    for key, value in env.items():
        args += ["--setenv", key, value]
    args += system_mounts()
    args += ["--ro-bind", str(accounts[0]), "/etc/passwd", "--ro-bind", str(accounts[1]), "/etc/group"]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for folder in ("/tmp", "/dev/shm"):
        args += ["--perms", "1777", "--size", str(tmp_bytes), "--tmpfs", folder]
    args += ["--perms", "0755", "--dir", "/home", "--perms", "0755", "--dir", "/run"]
    mounts: list[tuple[str, str, str]] = []  # (operation, source, destination)
    trees = ["/usr"]
    for prefix in dict.fromkeys((sys.base_prefix, sys.base_exec_prefix, sys.prefix, sys.exec_prefix)):
        if not any(_inside(prefix, tree) for tree in trees):
            mounts.append(("--ro-bind", prefix, prefix))
            trees.append(prefix)
    package = str(Path(__file__).resolve().parent)
    coursepkg = _package_folder("coursepkg")
    if coursepkg is not None and not any(_inside(coursepkg, tree) for tree in trees):
        mounts.append(("--ro-bind", coursepkg, coursepkg))
    mounts.append(("--tmpfs", "", package))  # hides the hidden tests, the mutants, the instructor's tools
    mounts += [("--ro-bind", f"{package}/{name}", f"{package}/{name}") for name in RUNNER_MODULES]
    mounts += [*binds, *(("--dir", "", folder) for folder in folders)]
    destinations = [destination for _, _, destination in mounts] + ["/usr", "/etc", "/home", "/run"]
    parents: list[str] = []
    for _, _, destination in mounts:
        for parent in reversed(Path(destination).parents):
            folder = str(parent)
            if folder != "/" and folder not in parents and not any(_inside(folder, d) for d in destinations):
                parents.append(folder)
    for folder in sorted(parents, key=lambda p: p.count("/")):
        args += ["--perms", "0755", "--dir", folder]
    for operation, source, destination in sorted(mounts, key=lambda m: m[2].count("/")):
        if operation in ("--tmpfs", "--dir"):
            args += ["--perms", "0755", operation, destination] if operation == "--dir" else [operation, destination]
        else:
            args += [operation, source, destination]
    args += ["--remount-ro", package, "--chdir", HOME]  # the runner's modules in place, nothing more to add
    if os.geteuid() == 0:
        args += list(capabilities)
    return args


def _inside(path: str, tree: str) -> bool:
    return path == tree or path.startswith(tree.rstrip("/") + "/")


def _package_folder(name: str) -> str | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return str(Path(list(spec.submodule_search_locations)[0]).resolve())
