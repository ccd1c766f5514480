"""A real PostgreSQL server for the gradebook tests: Debian's ``postgresql`` package, on loopback, in /tmp.

What it runs (``$BIN`` is ``/usr/lib/postgresql/<newest version>/bin``, or ``$AUTOGRADER_PG_BIN``)::

    initdb -D $ROOT/data -U postgres -A trust -E UTF8 --no-locale --no-sync
    pg_ctl -D $ROOT/data -l $ROOT/server.log -w -t 60 \\
        -o "-c listen_addresses=127.0.0.1 -p $PORT -k $ROOT/socket -c fsync=off -c max_connections=200" start
    ...
    pg_ctl -D $ROOT/data -m immediate -w stop

``$ROOT`` is a fresh ``/tmp/autograder-pg-*`` directory and ``$PORT`` a free loopback port. PostgreSQL refuses
to run as root, so when the tests run as root the server runs as the ``postgres`` system user that Debian's
package creates (``$ROOT`` is handed to it); otherwise as the current user. Authentication is ``trust``: only
loopback and a private socket directory can reach it, and it lives as long as the test session.

The tests connect with psycopg 3 (``psycopg[binary]`` from PyPI; SQLAlchemy 2.1's default for ``postgresql://``) through URLs
``postgresql://postgres@127.0.0.1:$PORT/<database>``. Nothing here skips: a missing server or driver fails the
tests with what to install.
"""

from __future__ import annotations

import atexit
import os
import pwd
import re
import shlex
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = ["PostgresServer", "PostgresUnavailable", "postgres_server", "start_postgres"]

PSYCOPG_PIN = "psycopg[binary]==3.3.9"
SUPERUSER = "postgres"
_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server or driver here; the message says what to install."""


def find_bin_dir() -> Path:
    """Where ``initdb`` and ``pg_ctl`` are: ``$AUTOGRADER_PG_BIN``, else the newest ``/usr/lib/postgresql/*/bin``."""
    override = os.environ.get("AUTOGRADER_PG_BIN")
    candidates = [Path(override)] if override else sorted(
        Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: [int(p) for p in re.findall(r"\d+", path.parent.name)]
    )[::-1]
    for candidate in candidates:
        if (candidate / "initdb").is_file() and (candidate / "pg_ctl").is_file():
            return candidate
    raise PostgresUnavailable(
        "the gradebook tests need a PostgreSQL server and found none "
        f"({'AUTOGRADER_PG_BIN=' + override if override else 'looked in /usr/lib/postgresql/*/bin'}): install "
        "Debian's package with `apt-get install -y postgresql` (the tests start their own server on loopback)."
    )


def _require_driver() -> None:
    try:
        import psycopg  # noqa: F401
    except ImportError as error:
        raise PostgresUnavailable(
            "the gradebook tests talk to PostgreSQL through psycopg 3 (SQLAlchemy 2.1's default driver for "
            f"postgresql:// URLs), which is not installed: `.venv/bin/pip install '{PSYCOPG_PIN}'`"
        ) from error


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class PostgresServer:
    """A running server; :meth:`create_database` hands out SQLAlchemy URLs."""

    bin_dir: Path
    root: Path
    port: int
    os_user: str | None  # None: the current user
    _stopped: bool = field(default=False, repr=False)

    def _run(self, *command: str, check: bool = True) -> subprocess.CompletedProcess:
        kwargs = {}
        if self.os_user is not None:
            entry = pwd.getpwnam(self.os_user)
            kwargs = {"user": entry.pw_uid, "group": entry.pw_gid, "extra_groups": []}
        env = {"PATH": f"{self.bin_dir}:/usr/bin:/bin", "LC_ALL": "C", "HOME": str(self.root), "TZ": "UTC"}
        result = subprocess.run(command, cwd=self.root, env=env, capture_output=True, text=True, timeout=120, **kwargs)
        if check and result.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(
                f"`{shlex.join(command)}` failed ({result.returncode}):\n{result.stdout}{result.stderr}\n{tail}"
            )
        return result

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of a database on this server."""
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def execute(self, sql: str) -> None:
        """Run one statement outside a transaction (CREATE/DROP DATABASE need that)."""
        import psycopg

        with psycopg.connect(host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                             autocommit=True) as connection:
            connection.execute(sql)

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """``CREATE DATABASE name [TEMPLATE template]``; return its URL."""
        for value in (name, template):
            if value is not None and not _NAME.fullmatch(value):
                raise ValueError(f"database names here are lowercase identifiers. Received: {value!r}")
        self.execute(f"CREATE DATABASE {name}" + (f" TEMPLATE {template}" if template else ""))
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (immediately: it is throw-away) and remove its directory. Idempotent."""
        if self._stopped:
            return
        self._stopped = True
        try:
            self._run(str(self.bin_dir / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "-w", "stop",
                      check=False)
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def start_postgres() -> PostgresServer:
    """initdb and start a server (see the module docstring); raise :class:`PostgresUnavailable` when impossible."""
    bin_dir = find_bin_dir()
    _require_driver()
    os_user = None
    if os.geteuid() == 0:
        try:
            pwd.getpwnam(SUPERUSER)
        except KeyError:
            raise PostgresUnavailable(
                "PostgreSQL will not run as root and there is no `postgres` system user to run it as: "
                "`apt-get install -y postgresql` creates it (or run the tests as an unprivileged user)."
            ) from None
        os_user = SUPERUSER
    root = Path(tempfile.mkdtemp(prefix="autograder-pg-"))
    (root / "socket").mkdir()
    if os_user is not None:
        entry = pwd.getpwnam(os_user)
        for path in (root, root / "socket"):
            os.chown(path, entry.pw_uid, entry.pw_gid)
    last_error: Exception | None = None
    for _ in range(3):  # a port taken between probing and binding: try another
        server = PostgresServer(bin_dir, root, _free_port(), os_user)
        try:
            if not (root / "data").exists():
                server._run(str(bin_dir / "initdb"), "-D", str(root / "data"), "-U", SUPERUSER, "-A", "trust",
                            "-E", "UTF8", "--no-locale", "--no-sync")
            options = (f"-c listen_addresses=127.0.0.1 -p {server.port} -k {shlex.quote(str(root / 'socket'))} "
                       "-c fsync=off -c max_connections=200")
            server._run(str(bin_dir / "pg_ctl"), "-D", str(root / "data"), "-l", str(root / "server.log"),
                        "-w", "-t", "60", "-o", options, "start")
        except RuntimeError as error:
            last_error = error
            continue
        atexit.register(server.stop)
        return server
    shutil.rmtree(root, ignore_errors=True)
    raise RuntimeError(f"PostgreSQL did not start: {last_error}")


_SERVER: PostgresServer | None = None


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One server for the whole session, shared by every module that imports this fixture; fails, never skips."""
    global _SERVER
    if _SERVER is None or _SERVER._stopped:
        missing = None
        try:
            _SERVER = start_postgres()
        except PostgresUnavailable as error:
            missing = str(error)
        if missing is not None:
            pytest.fail(missing, pytrace=False)
    yield _SERVER
    _SERVER.stop()
