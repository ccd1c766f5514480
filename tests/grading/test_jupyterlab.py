"""A student's JupyterLab 4 with nbgrader's extensions: the released assignment is listed, fetched, validated.

The instructor side releases the self-test assignment into a private exchange (``nbgrader release_assignment``);
JupyterLab runs on loopback in a student's folder; headless Chromium opens Nbgrader > Assignment List, sees the
assignment, fetches it and presses Validate, which must report "not yet solved" (the stubs'
NotImplementedError and the empty written answer). Screenshots go to test-artifacts/screenshots/.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from autograder.release import nbgrader, release
from tests.chromium import SCREENSHOTS, chromium
from tests.grading.selftest import ASSIGNMENT, course_copy

COURSE_ID = "cnn-rnn-course"
TOKEN = "course-test-token"
BIN = Path(sys.executable).parent


def _jupyter(*args: str, env: dict[str, str]) -> str:
    result = subprocess.run([str(BIN / "jupyter"), *args], capture_output=True, text=True, env=env, check=True)
    return result.stdout + result.stderr


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab serving a student's folder, with the self-test assignment released to its exchange."""
    tmp = tmp_path_factory.mktemp("lab")
    exchange, student = tmp / "exchange", tmp / "student"
    exchange.mkdir()
    student.mkdir()
    course = course_copy(tmp)
    release(ASSIGNMENT, course, validate=False)
    nbgrader("release_assignment", ASSIGNMENT, f"--Exchange.root={exchange}", course_dir=course)
    (student / "nbgrader_config.py").write_text(
        f"c = get_config()\nc.Exchange.root = {str(exchange)!r}\nc.CourseDirectory.course_id = {COURSE_ID!r}\n"
    )
    env = {
        **os.environ,
        "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        "JUPYTER_CONFIG_DIR": str(tmp / "jupyter-config"),  # nothing from the user's ~/.jupyter
        "JUPYTER_RUNTIME_DIR": str(tmp / "jupyter-runtime"),
    }
    port = _free_port()
    server = subprocess.Popen(
        [str(BIN / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
         f"--IdentityProvider.token={TOKEN}", f"--ServerApp.root_dir={student}", "--allow-root"],
        cwd=student, env=env, stdout=subprocess.DEVNULL, stderr=(tmp / "server.log").open("w"),
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            urllib.request.urlopen(f"{url}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                pytest.fail(f"JupyterLab did not start:\n{(tmp / 'server.log').read_text()[-3000:]}")
            time.sleep(0.5)
    yield {"url": url, "student": student, "env": env}
    server.terminate()
    server.wait(timeout=30)


@pytest.mark.slow
def test_nbgrader_lab_and_server_extensions_are_installed_and_enabled(lab):
    labextensions = _jupyter("labextension", "list", env=lab["env"])
    line = next(line for line in labextensions.splitlines() if "@jupyter/nbgrader" in line)
    assert "enabled" in line and "OK" in line
    server_extensions = _jupyter("server", "extension", "list", env=lab["env"])
    for extension in ("assignment_list", "validate_assignment", "formgrader", "course_list"):
        assert f"nbgrader.server_extensions.{extension} \x1b[32menabled" in server_extensions, extension


@pytest.mark.slow
def test_the_assignment_list_api_lists_the_release(lab):
    with urllib.request.urlopen(f"{lab['url']}/assignments?course_id={COURSE_ID}&token={TOKEN}") as response:
        listing = json.load(response)
    assert listing["success"]
    assert [(item["assignment_id"], item["status"]) for item in listing["value"]] == [(ASSIGNMENT, "released")]


@pytest.mark.slow
def test_a_student_lists_fetches_and_validates_the_assignment_in_chromium(lab):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1400, "height": 900})
        errors: list[str] = []
        page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
        page.goto(f"{lab['url']}/lab?token={TOKEN}")
        page.wait_for_selector("#jp-main-dock-panel", timeout=90_000)
        page.get_by_text("Nbgrader", exact=True).click()
        page.get_by_text("Assignment List", exact=True).click()
        released = page.locator("#released_assignments_list")
        released.get_by_text(ASSIGNMENT, exact=True).wait_for(timeout=30_000)
        page.screenshot(path=str(SCREENSHOTS / "jupyterlab-assignment-list.png"))

        released.get_by_role("button", name="Fetch").click()
        fetched = page.locator("#fetched_assignments_list")
        assignment = fetched.locator("a.assignment-notebooks-link", has_text=ASSIGNMENT)
        assignment.wait_for(timeout=30_000)
        assert (lab["student"] / ASSIGNMENT / f"{ASSIGNMENT}.ipynb").exists()

        if assignment.get_attribute("aria-expanded") != "true":
            assignment.click()
        fetched.get_by_role("button", name="Validate").click()
        dialog = page.locator(".jp-Dialog")
        dialog.wait_for(timeout=120_000)
        dialog.get_by_text("You did not provide a response.").wait_for(timeout=120_000)
        report = dialog.inner_text()
        page.screenshot(path=str(SCREENSHOTS / "jupyterlab-validate.png"))
        assert "NotImplementedError" in report
        assert "run_hidden" not in report and "BEGIN HIDDEN" not in report
        assert errors == [], errors
