"""Every attack of ``cells/`` through the sandbox: the grader survives, the attack fails, the reason is clear.

The checks and their judge are the self-test assignment's (``autograder/hidden/_selftest.py``); the judge runs
here, in the grader's process, on the plain outcomes the sandbox sends back.
"""

from __future__ import annotations

import functools
import hashlib
import json
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import psutil
import pytest

import autograder
from autograder.checks import Call, Check
from autograder.kernel import hidden_checks, judge_case
from autograder.probe import RESULT_ERROR
from autograder.bwrap import RUNNER_MODULES
from autograder.sandbox import Sandbox, SandboxLost
from tests.grading.attacks import cell

HONEST = "import numpy as np\n\ndef relu(x):\n    return np.where(x > 0, x, 0.0)\n"
REPOSITORY = Path(autograder.__file__).resolve().parents[1]
PACKAGE = Path(autograder.__file__).resolve().parent
MiB, GiB = 1 << 20, 1 << 30


@functools.cache
def relu_check() -> tuple[Check, tuple[Any, ...]]:
    (check,) = hidden_checks("_selftest", "test_relu")
    return check, tuple(check.cases())


def grade(box: Sandbox, function: str = "relu") -> list[str | None]:
    """The judge's message for every case of the relu check (``None``: passed), judged outside."""
    check, cases = relu_check()
    messages = []
    for case in cases:
        calls = [Call(function, call.args, call.kwargs) for call in check.calls(case)]
        messages.append(judge_case(check, case, calls, box.probe(calls, check.forbid)))
    return messages


def assert_recovers(box: Sandbox) -> None:
    """After a lost process, a restart gives a working one and an honest answer earns everything."""
    assert not box.alive
    box.restart()
    assert box.exec(HONEST).ok
    assert set(grade(box)) == {None}


def processes_of(uid: int) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["uids", "status"]):
        uids = process.info["uids"]
        if uids is not None and uids.real == uid and process.info["status"] != psutil.STATUS_ZOMBIE:
            found.append(process)
    return found


# ------------------------------------------------------------------------------------ time and exits
def test_an_infinite_loop_is_stopped_by_the_wall_clock(sandbox):
    box = sandbox()
    start = time.monotonic()
    result = box.exec(cell("infinite_loop"), timeout=2)
    assert time.monotonic() - start < 6
    assert result.status == "timeout"
    assert result.error == "The submission's process did not finish within the 2 s wall-clock limit and was stopped."
    assert_recovers(box)


def test_cpu_burnt_behind_a_sleeping_cell_is_stopped_by_the_cpu_limit(sandbox):
    box = sandbox(cpu_seconds=2)
    result = box.exec(cell("cpu_hog"), timeout=60)
    assert result.status == "died" and "used up its 2 s of CPU time" in result.error
    assert result.seconds < 30
    assert_recovers(box)


def test_sys_exit_is_an_error_of_the_cell_and_the_namespace_survives(sandbox):
    box = sandbox()
    box.exec("kept = 41")
    result = box.exec(cell("sys_exit"), cell="q1")
    assert (result.status, result.error, result.line) == ("error", "SystemExit: 3", 4)
    assert box.alive and box.exec("print(kept + 1)").stdout == "42\n"


def test_os_exit_is_reported_and_a_restart_recovers(sandbox):
    box = sandbox()
    result = box.exec(cell("os_exit"))
    assert (result.status, result.error) == ("died", "The submission's process exited with status 7.")
    assert_recovers(box)


def test_signalling_everything_only_kills_the_submission(sandbox):
    box = sandbox()
    result = box.exec(cell("kill_everything"))
    assert result.status == "died" and "SIGKILL" in result.error
    assert_recovers(box)


# ------------------------------------------------------------------------------ processes and memory
def test_a_fork_bomb_is_capped_by_the_process_limit_and_killed_whole(sandbox):
    box = sandbox(processes=32)
    uid, most, done = box.user_id, [0], threading.Event()

    def watch() -> None:
        while not done.is_set():
            most[0] = max(most[0], len(processes_of(uid)))
            time.sleep(0.05)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        result = box.exec(cell("fork_bomb"), timeout=4)
    finally:
        done.set()
        watcher.join()
    assert result.status == "timeout"
    assert 2 < most[0] <= 32
    assert processes_of(uid) == []
    assert_recovers(box)


def test_a_naive_fork_bomb_fails_in_the_cell_and_its_copies_stay_silent(sandbox):
    box = sandbox(processes=32)
    result = box.exec(cell("fork_bomb_naive"), timeout=20)
    assert result.status == "error" and result.error.startswith("BlockingIOError: [Errno 11]")
    assert (result.stdout, result.stderr) == ("", "")  # no forked copy spoke
    assert box.exec("print('still here')").stdout == "still here\n"


@pytest.mark.parametrize("attack", ["memory_hog", "memory_hog_growing"])
def test_a_memory_hog_gets_a_memory_error(sandbox, attack):
    box = sandbox(memory_bytes=1 * GiB)
    result = box.exec(cell(attack), timeout=60)
    assert result.status == "error" and result.error.startswith("MemoryError")
    assert box.alive and box.exec("hog = None\nprint('ok')").stdout == "ok\n"


def test_memory_spread_over_children_is_stopped_from_outside(sandbox):
    box = sandbox(memory_bytes=768 * MiB)
    result = box.exec(cell("memory_hog_children"), timeout=90)
    assert (result.status, result.error) == (
        "died",
        "The submission's process used more than 0.75 GiB of memory and was stopped.",
    )
    assert processes_of(box.user_id) == []
    assert_recovers(box)


# -------------------------------------------------------------------------------------------- output
@pytest.mark.parametrize("attack, produced", [("output_flood", 100_000_000), ("output_flood_fd", 200_000_000)])
def test_100_mb_of_output_is_capped_while_it_streams(sandbox, attack, produced):
    box = sandbox(output_bytes=64 * 1024)
    before = psutil.Process().memory_info().rss
    result = box.exec(cell(attack), timeout=60)
    assert result.ok
    kept = len(result.stdout.encode()) + len(result.stderr.encode())
    assert kept <= 64 * 1024 and kept + result.output_dropped >= produced
    assert psutil.Process().memory_info().rss - before < 32 * MiB  # the grader never held the flood
    assert box.exec("print('next cell')").stdout == "next cell\n"


def test_fake_protocol_lines_are_just_output_and_junk_on_the_channel_is_ignored(sandbox):
    box = sandbox()
    result = box.exec(cell("fake_protocol"))
    assert result.ok, result.error
    assert result.stdout.count('"id": "hello"') == 2 and result.stdout.endswith("done\n")
    assert '"id": "hello"' in result.stderr
    assert box.exec(HONEST).ok and set(grade(box)) == {None}


def test_closing_stdout_and_stderr_does_not_touch_the_grader_s_channel(sandbox):
    box = sandbox()
    assert box.exec(cell("close_output")).ok
    assert box.exec("x = 1").ok
    assert box.exec(HONEST).ok and set(grade(box)) == {None}


def test_bytes_that_are_not_utf8_are_replaced_not_fatal(sandbox):
    box = sandbox()
    result = box.exec(cell("non_utf8"))
    assert result.ok
    assert result.stdout == "caf\ufffd \ufffd\ufffd\n"
    assert result.stderr == "\ufffd\ufffd broken \ufffd"


def test_reading_stdin_gets_end_of_file_not_the_grader_s_requests(sandbox):
    box = sandbox()
    result = box.exec(cell("read_stdin"))
    assert (result.status, result.error, result.line) == ("error", "EOFError: EOF when reading a line", 5)
    assert result.stdout == "''\nyour answer? "


@pytest.mark.parametrize(
    "attack, error",
    [
        ("huge_exception", "ValueError: " + "x" * 2000 + "... (9998000 more characters)"),
        ("exception_str_raises", "Sneaky: (the exception's message could not be shown)"),
    ],
)
def test_hostile_exception_messages_are_contained(sandbox, attack, error):
    result = sandbox().exec(cell(attack))
    assert (result.status, result.error) == ("error", error)


# ------------------------------------------------------------------------------- files and network
def test_the_hidden_tests_the_notebooks_the_gradebook_and_other_students_are_out_of_sight(sandbox, tmp_path):
    alice, bob = tmp_path / "submitted" / "alice" / "_selftest", tmp_path / "submitted" / "bob" / "_selftest"
    for student, folder in (("alice", alice), ("bob", bob)):
        folder.mkdir(parents=True)
        (folder / "_selftest.ipynb").write_text(f"{student}'s secret answers")
    carol = sandbox()
    (carol.workdir / "secret.txt").write_text("carol's secret")
    targets = [
        PACKAGE / "hidden",
        PACKAGE / "hidden" / "_selftest.py",
        PACKAGE / "mutants" / "_selftest.py",
        PACKAGE / "kernel.py",
        REPOSITORY / "assignments",
        REPOSITORY / "assignments" / "source" / "conv",
        REPOSITORY / "assignments" / "gradebook.db",
        REPOSITORY / "tests" / "grading" / "selftest_course" / "source" / "_selftest" / "_selftest.md",
        REPOSITORY / ".git",
        bob,
        bob / "_selftest.ipynb",
        carol.workdir / "secret.txt",
    ]
    assert all(target.exists() for target in targets[:6] + targets[7:])  # they are there to be found
    box = sandbox(alice)
    assert box.exec(f"TARGETS = {json.dumps([str(target) for target in targets])}").ok
    result = box.exec(cell("read_secrets"), timeout=60)
    assert result.ok, result.error
    report = json.loads(result.stdout)
    assert report["targets"] == {str(target): "FileNotFoundError: No such file or directory" for target in targets}
    assert set(report["imports"].values()) == {"ModuleNotFoundError"}
    allowed = {f"{PACKAGE}/{name}" for name in RUNNER_MODULES} | {"/home/student/_selftest.ipynb"}
    assert {path for path in report["found"] if not path.startswith("/etc/")} == allowed


def test_the_network_is_unreachable(sandbox):
    result = sandbox().exec(cell("network"))
    assert result.ok
    attempts = json.loads(result.stdout)
    assert attempts["tcp"] == "OSError: [Errno 101] Network is unreachable"
    assert attempts["udp"] == "OSError: [Errno 101] Network is unreachable"
    assert attempts["dns"].startswith("gaierror")


def test_writing_outside_its_own_folder_fails(sandbox):
    checks = PACKAGE / "checks.py"
    fingerprint = hashlib.sha256(checks.read_bytes()).hexdigest()
    box = sandbox(file_size_bytes=2 * MiB)
    result = box.exec(cell("write_outside"))
    assert result.ok, result.error
    attempts = json.loads(result.stdout)
    written = {target for target, outcome in attempts.items() if outcome == "written"}
    assert written == {"/home/student/mine.txt", "/tmp/mine.txt"}
    assert all(
        outcome.startswith(("OSError: Read-only file system", "PermissionError: Permission denied"))
        for target, outcome in attempts.items()
        if target not in written and target != "big"
    ), attempts
    assert attempts["big"] == "OSError: File too large"
    assert (box.workdir / "mine.txt").read_text() == "owned"
    assert hashlib.sha256(checks.read_bytes()).hexdigest() == fingerprint


# ---------------------------------------------------------------------------------------- crashes
def test_a_segfault_through_ctypes_is_reported_and_a_restart_recovers(sandbox):
    box = sandbox()
    result = box.exec(cell("segfault"))
    assert (result.status, result.error) == (
        "died",
        "The submission's process crashed with a segmentation fault (SIGSEGV).",
    )
    assert_recovers(box)


def test_processes_left_running_die_with_the_sandbox(sandbox):
    box = sandbox()
    result = box.exec(cell("background"))
    assert result.ok and result.stdout == "left running\n"
    time.sleep(0.5)
    left = [process for process in processes_of(box.user_id)]
    assert len(left) >= 3  # the runner, the shell loop, the daemon
    heartbeats = [box.workdir / "heartbeat-shell", box.workdir / "heartbeat-daemon"]
    box.restart()
    sizes = [path.stat().st_size for path in heartbeats]
    time.sleep(0.5)
    assert [path.stat().st_size for path in heartbeats] == sizes  # nobody beats any more
    assert not any(process.is_running() and process.status() != psutil.STATUS_ZOMBIE for process in left)
    uid = box.user_id
    box.close()
    assert processes_of(uid) == []


# ------------------------------------------------------------------------------- cheating the judge
def test_patching_numpy_comparisons_earns_nothing(sandbox):
    box = sandbox()
    assert box.exec(cell("monkeypatch")).ok
    wrong = [bool((case["x"] < 0).any()) for case in relu_check()[1]]  # relu(x) = x is right without negatives
    messages = grade(box)
    assert [message is not None for message in messages] == wrong
    assert all("relu(x): " in message and "expected 0, got -" in message for message in messages if message)
    lies = grade(box, "liar")
    assert all(message is not None and "returned a __main__.Liar" in message for message in lies)


def test_patching_builtins_earns_nothing(sandbox):
    box = sandbox()
    assert box.exec(cell("patch_builtins")).ok
    assert box.exec("print(isinstance(1, str), type(1))").stdout == "True <class 'float'>\n"  # its own world
    try:  # the call machinery in that process is broken: the question is lost, never won
        messages = grade(box)
    except SandboxLost as lost:
        assert "could not serve the grader's request" in str(lost)
    else:
        assert all(message is not None for message in messages), messages


@pytest.mark.parametrize(
    "kind, why", [("symlink", "Too many levels of symbolic links"), ("fifo", "not a regular file")]
)
def test_a_forged_answer_cannot_make_the_grader_read_its_own_files(sandbox, tmp_path, kind, why):
    secret = tmp_path / "expected.npy"
    np.save(secret, np.array([42.0, 43.0]))
    box = sandbox()
    assert box.exec(f"HOST_FILE, KIND = {str(secret)!r}, {kind!r}").ok
    assert box.exec(cell("exchange_tamper")).ok
    with pytest.raises(SandboxLost, match=f"sent back malformed results .*{why}"):
        box.probe([Call("relu", (np.array([-1.0, 1.0]),))], timeout=20)
    assert not box.alive


def test_a_result_larger_than_the_file_limit_is_an_unusable_result(sandbox):
    box = sandbox(file_size_bytes=1 * MiB)
    assert box.exec(cell("big_result")).ok
    (outcome,) = box.probe([Call("relu", (np.ones(3),))])
    assert outcome.value is None
    assert outcome.error == f"{RESULT_ERROR}TypeError: an array of 8388608 bytes, more than the 1048576 allowed"
