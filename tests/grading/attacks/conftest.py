"""Fixtures of the attack suite: sandboxes that are closed whatever the test did, and no silent skip."""

from collections.abc import Callable, Iterator

import pytest

from autograder.sandbox import Limits, Sandbox, _probe_bwrap


@pytest.fixture(autouse=True)
def _bubblewrap_is_required() -> None:
    problem = _probe_bwrap()
    if problem is not None:
        pytest.fail(f"The attack suite needs bubblewrap: {problem} Install it with `apt-get install bubblewrap`.")


@pytest.fixture
def sandbox() -> Iterator[Callable[..., Sandbox]]:
    """``sandbox(**limits)``: a fresh sandbox with these limits changed; all are closed at the end."""
    opened: list[Sandbox] = []

    def make(files=None, **limits) -> Sandbox:
        box = Sandbox(files, limits=Limits(**limits))
        opened.append(box)
        return box

    yield make
    for box in opened:
        box.close()
