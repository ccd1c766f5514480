"""Student processes made ready before the submissions that need them: :class:`WarmPool`, one per grading worker.

Example
-------
>>> with WarmPool(["tensorflow"]) as pool:                                  # doctest: +SKIP
...     for folder in submissions:
...         with pool.take(folder) as box:
...             box.exec("import tensorflow as tf")                         # imported once, by the pool
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from typing import Any

from autograder.forkserver import ForkServer, ForkServerError
from autograder.sandbox import Sandbox, SandboxLost

__all__ = ["WarmPool"]


class WarmPool:
    """Student processes made ready ahead of time, each for one submission only.

    With a fork server (root and bubblewrap: :func:`autograder.forkserver.forkserver_available`), the pool
    imports ``modules`` once, in its :class:`autograder.forkserver.ForkServer`, and forks every sandbox from
    it: a framework's import is paid once per pool, not per submission. Without one, ``take(files)`` hands
    out a sandbox that was started (and told to import ``modules``) while the previous submission was being
    graded, then starts its replacement. Either way no process ever serves two submissions; the caller
    closes each sandbox.

    Parameters
    ----------
    modules : sequence of str
        What to import ahead of time (``("torch", "tensorflow")``).
    size : int
        How many warm sandboxes to keep ready.
    forkserver : bool, optional
        Whether to fork from a fork server; by default, whenever one can run (never with
        ``unsafe_no_sandbox``).
    **options
        Passed to :class:`Sandbox` (``limits``, ``unsafe_no_sandbox``, ``env``).
    """

    def __init__(self, modules: Sequence[str] = (), *, size: int = 1, forkserver: bool | None = None, **options: Any):
        from autograder.forkserver import forkserver_available

        if size < 1:
            raise ValueError(f"WarmPool: size must be at least 1. Received: size={size}")
        self.modules, self.size, self.options = tuple(modules), size, options
        if forkserver is None:
            forkserver = not options.get("unsafe_no_sandbox") and forkserver_available()
        self.server: ForkServer | None = None
        if forkserver:
            try:
                self.server = ForkServer(self.modules, limits=options.get("limits"), env=options.get("env"))
            except ForkServerError as error:  # grading goes on, one fresh (slower) sandbox per submission
                warnings.warn(f"WarmPool: no fork server ({error}); starting a sandbox per submission", stacklevel=2)
        self._ready: list[Sandbox] = []
        self._fill()

    def _prestart(self) -> Sandbox:
        try:
            sandbox = Sandbox(**self.options, forkserver=self.server)
        except ForkServerError as error:  # grading goes on, in a sandbox started afresh
            warnings.warn(f"WarmPool: the fork server failed ({error}); starting a sandbox instead", stacklevel=2)
            sandbox = Sandbox(**self.options)
        if self.modules:
            sandbox.warm(self.modules, wait=False)
        return sandbox

    def _fill(self) -> None:
        while len(self._ready) < self.size:
            self._ready.append(self._prestart())

    def take(self, files: str | os.PathLike[str] | None = None) -> Sandbox:
        """A warm sandbox holding ``files``; the pool readies another in its place."""
        sandbox = self._ready.pop(0) if self._ready else self._prestart()
        try:
            sandbox._finish_pending()  # noqa: SLF001 - the warm-up sent by _prestart
        except SandboxLost:
            sandbox.close()
            sandbox = self._prestart()
            sandbox._finish_pending()  # noqa: SLF001
        if files is not None:
            sandbox.add_files(files)
        self._fill()
        return sandbox

    def close(self) -> None:
        """Stop the sandboxes still waiting, and the fork server."""
        while self._ready:
            self._ready.pop().close()
        if self.server is not None:
            self.server.close()

    def __enter__(self) -> WarmPool:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()
