"""Sphinx extension: every chapter says what it costs to run, measured at build, and the build fails when a
chapter exceeds its budget.

While MyST-NB executes a chapter (during the read phase), a thread samples the resident memory of every child
process of the build (the Jupyter kernel and anything it starts) ten times a second. When the page's doctree
is ready, the wall time of the execution (from MyST-NB, or from jupyter-cache for a cached run) and the peak
memory are written under the chapter's title, and checked against ``chapter_budget_seconds`` and
``chapter_budget_mb`` (``_config.yml``): a chapter over budget is a warning, which fails a ``-W`` build.
Measurements are kept in ``<build>/chapter-costs.json`` so that a page rebuilt from the execution cache shows
the numbers of the run that produced its outputs.
"""

from __future__ import annotations

import json
import os
import platform
import threading
import time
from pathlib import Path

import psutil
from docutils import nodes
from sphinx.application import Sphinx
from sphinx.util import logging

logger = logging.getLogger(__name__)


class MemoryMonitor(threading.Thread):
    """Peak summed RSS of the build's descendant processes since the last ``reset``."""

    def __init__(self, interval: float = 0.1) -> None:
        super().__init__(daemon=True, name="chapter-costs-memory")
        self.interval = interval
        self.me = psutil.Process(os.getpid())
        self.peak = 0
        self.stopped = threading.Event()

    def reset(self) -> None:
        self.peak = 0

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            total = 0
            for child in self.me.children(recursive=True):
                try:
                    total += child.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)


def _costs_file(app: Sphinx) -> Path:
    return Path(app.outdir).parent / "chapter-costs.json"


def builder_inited(app: Sphinx) -> None:
    app.chapter_costs = json.loads(_costs_file(app).read_text()) if _costs_file(app).is_file() else {}
    app.chapter_monitor = MemoryMonitor()
    app.chapter_monitor.start()


def source_read(app: Sphinx, docname: str, source: list[str]) -> None:
    app.chapter_monitor.reset()


def doctree_read(app: Sphinx, doctree: nodes.document) -> None:
    from myst_nb.sphinx_ import NbMetadataCollector

    docname = app.env.docname
    exec_data = NbMetadataCollector.get_exec_data(app.env, docname)
    if not exec_data or exec_data.get("runtime") is None:
        return
    peak_mb = app.chapter_monitor.peak / 2**20
    record = app.chapter_costs.get(docname, {})
    if peak_mb > 0:  # a kernel ran for this page now: a fresh measurement
        record = {
            "seconds": round(float(exec_data["runtime"]), 1),
            "peak_mb": round(peak_mb),
            "machine": f"{psutil.cpu_count()} CPU cores, {platform.machine()}",
            "measured": time.strftime("%Y-%m-%d"),
        }
        app.chapter_costs[docname] = record
    elif not record:
        record = {"seconds": round(float(exec_data["runtime"]), 1), "peak_mb": None,
                  "machine": f"{psutil.cpu_count()} CPU cores, {platform.machine()}", "measured": "cached run"}
    _check_budget(app, docname, record)
    _insert_note(doctree, record)


def _check_budget(app: Sphinx, docname: str, record: dict) -> None:
    if record["seconds"] > app.config.chapter_budget_seconds:
        logger.warning(
            f"chapter {docname} took {record['seconds']:.0f} s to execute, over its budget of "
            f"{app.config.chapter_budget_seconds} s (chapter_budget_seconds): make it cheaper",
            location=docname, type="chapter_costs",
        )
    if record["peak_mb"] is not None and record["peak_mb"] > app.config.chapter_budget_mb:
        logger.warning(
            f"chapter {docname} peaked at {record['peak_mb']} MB, over its budget of "
            f"{app.config.chapter_budget_mb} MB (chapter_budget_mb): make it lighter",
            location=docname, type="chapter_costs",
        )


def _insert_note(doctree: nodes.document, record: dict) -> None:
    section = next(iter(doctree.findall(nodes.section)), None)
    if section is None:
        return
    memory = f", peak memory {record['peak_mb']:,} MB" if record["peak_mb"] is not None else ""
    text = (f"Cost of running this chapter: {record['seconds']:.0f} s{memory} on the build machine "
            f"({record['machine']}, no GPU; measured {record['measured']}).")
    note = nodes.paragraph(text, text, classes=["chapter-cost"])
    index = next((i + 1 for i, child in enumerate(section.children) if isinstance(child, nodes.title)), 0)
    section.insert(index, note)


def build_finished(app: Sphinx, exception: Exception | None) -> None:
    app.chapter_monitor.stopped.set()
    if exception is None:
        _costs_file(app).write_text(json.dumps(app.chapter_costs, indent=1, sort_keys=True))


def setup(app: Sphinx) -> dict:
    app.add_config_value("chapter_budget_seconds", 180, "env")
    app.add_config_value("chapter_budget_mb", 3072, "env")
    app.connect("builder-inited", builder_inited)
    app.connect("source-read", source_read)
    app.connect("doctree-read", doctree_read, priority=600)
    app.connect("build-finished", build_finished)
    return {"version": "1.0", "parallel_read_safe": False, "parallel_write_safe": True}
