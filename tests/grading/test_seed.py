"""Seeds fixed per assignment, documented in the book, applied to the student's process and kept on restart."""

from __future__ import annotations

import random
import re
import types
from pathlib import Path

import numpy as np
import pytest

from autograder.bundle import assignment_seed
from autograder.course import ASSIGNMENTS
from autograder.sandbox import Sandbox, sandbox_available

BOOK_PAGE = Path(__file__).resolve().parents[2] / "book" / "assignments.md"
DRAW = "import random, numpy as np\nprint(random.random(), np.random.random())"


def test_every_assignment_has_its_own_seed_and_the_book_states_it():
    table = dict(re.findall(r"^\| `(\w+)` \| (\d+) \|$", BOOK_PAGE.read_text(encoding="utf-8"), re.MULTILINE))
    seeds = {assignment: assignment_seed(assignment) for assignment in ASSIGNMENTS}
    assert {assignment: int(seed) for assignment, seed in table.items()} == seeds
    assert len(set(seeds.values())) == len(seeds)


def test_a_hidden_module_without_a_seed_is_refused(monkeypatch):
    monkeypatch.setitem(__import__("sys").modules, "autograder.hidden._seedless", types.ModuleType("_seedless"))
    with pytest.raises(ValueError, match="must define SEED"):
        assignment_seed("_seedless")


@pytest.mark.skipif(not sandbox_available(), reason="the attack suite insists on bubblewrap; this needs it too")
def test_the_student_process_draws_what_the_seed_gives_and_again_after_a_restart():
    seed = assignment_seed("_selftest")
    random.seed(seed)
    np.random.seed(seed)
    expected = f"{random.random()} {np.random.random()}\n"
    with Sandbox() as box:
        assert box.seed(seed) == ["random", "numpy"]
        assert box.exec(DRAW).stdout == expected
        assert box.exec("import os\nos._exit(1)").status == "died"
        box.restart()
        assert box.exec(DRAW).stdout == expected
