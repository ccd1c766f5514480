"""Fixtures of the attack suite: sandboxes that are closed whatever the test did, and no silent skip.

Every attack runs twice: in a sandbox started from scratch, and in one forked from a warm fork server
(:class:`autograder.forkserver.ForkServer`), which must isolate exactly as well.
"""

from collections.abc import Callable, Iterator

import pytest

from autograder.forkserver import ForkServer
from autograder.sandbox import Limits, Sandbox, _probe_bwrap


@pytest.fixture(autouse=True)
def _bubblewrap_is_required() -> None:
    problem = _probe_bwrap()
    if problem is not None:
        pytest.fail(f"The attack suite needs bubblewrap: {problem} Install it with `apt-get install bubblewrap`.")


@pytest.fixture(params=["started", "forked"])
def sandbox(request) -> Iterator[Callable[..., Sandbox]]:
    """``sandbox(**limits)``: a sandbox with these limits changed, started afresh or forked from a fork server
    that imported numpy; all are closed at the end."""
    opened: list[Sandbox] = []
    server = ForkServer(["numpy"]) if request.param == "forked" else None

    def make(files=None, **limits) -> Sandbox:
        box = Sandbox(files, limits=Limits(**limits), forkserver=server)
        opened.append(box)
        return box

    yield make
    for box in opened:
        box.close()
    if server is not None:
        server.close()
