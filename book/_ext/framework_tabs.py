"""Sphinx extension: show executed PyTorch and Keras code cells side by side, in synchronised tabs.

MyST-NB does not execute code cells nested inside a sphinx-design ``tab-set``, so chapters write the two
versions as ordinary top-level cells, tagged ``pytorch`` and ``keras``::

    ```{code-cell} python
    :tags: [pytorch]
    model = coursepkg.models.torch.simple_cnn()
    ```

    ```{code-cell} python
    :tags: [keras]
    model = coursepkg.models.keras.simple_cnn()
    ```

Both execute at build time (in page order). This transform then gathers every run of adjacent tagged cells
into one sphinx-design tab set with a tab per framework, in the sync group ``framework``: picking PyTorch once
selects PyTorch in every tab set of every page (sphinx-design keeps the choice in the browser's local storage).
A run that lacks one of the frameworks is reported as a warning, which fails the book build: the course shows
every piece of framework code in both.
"""

from __future__ import annotations

from docutils import nodes
from sphinx.application import Sphinx
from sphinx.transforms import SphinxTransform
from sphinx.util import logging
from sphinx_design.shared import create_component

logger = logging.getLogger(__name__)

FRAMEWORKS = {"pytorch": "PyTorch", "keras": "Keras"}
SYNC_GROUP = "framework"


def _framework(node: nodes.Node) -> str | None:
    if not isinstance(node, nodes.container):
        return None
    classes = node.get("classes", [])
    if "cell" not in classes:
        return None
    found = [fw for fw in FRAMEWORKS if f"tag_{fw}" in classes]
    return found[0] if len(found) == 1 else None


def _tab_item(framework: str, cells: list[nodes.Node], selected: bool) -> nodes.container:
    item = create_component("tab-item", classes=["sd-tab-item"], selected=selected)
    label = nodes.rubric(FRAMEWORKS[framework], FRAMEWORKS[framework], classes=["sd-tab-label"])
    label["sync_id"] = framework
    label["sync_group"] = SYNC_GROUP
    item += label
    content = create_component("tab-content", classes=["sd-tab-content"])
    content.extend(cells)
    item += content
    return item


class FrameworkTabs(SphinxTransform):
    """Group adjacent ``pytorch``/``keras`` cells into a synchronised tab set."""

    default_priority = 500  # after MyST-NB has built the cell containers, before sphinx-design's HTML transform

    def apply(self, **kwargs) -> None:
        for parent in list(self.document.findall(nodes.Element)):
            children = list(parent.children)
            if not any(_framework(c) for c in children):
                continue
            new_children: list[nodes.Node] = []
            i = 0
            while i < len(children):
                if _framework(children[i]) is None:
                    new_children.append(children[i])
                    i += 1
                    continue
                run = []
                while i < len(children) and _framework(children[i]) is not None:
                    run.append(children[i])
                    i += 1
                new_children.append(self._tab_set(run))
            parent.children = []
            parent.extend(new_children)

    def _tab_set(self, run: list[nodes.Node]) -> nodes.Node:
        by_framework: dict[str, list[nodes.Node]] = {fw: [] for fw in FRAMEWORKS}
        for cell in run:
            by_framework[_framework(cell)].append(cell)
        missing = [FRAMEWORKS[fw] for fw, cells in by_framework.items() if not cells]
        if missing:
            logger.warning(
                "framework cells without their twin: this run of tagged cells has no %s version; "
                "add a cell tagged %s next to it (the course shows framework code in both PyTorch and Keras)",
                " or ".join(missing),
                " or ".join(fw for fw, cells in by_framework.items() if not cells),
                location=run[0],
                type="framework_tabs",
            )
        tab_set = create_component("tab-set", classes=["sd-tab-set", "framework-tabs"])
        first = True
        for fw, cells in by_framework.items():
            if cells:
                tab_set += _tab_item(fw, cells, selected=first)
                first = False
        return tab_set


def setup(app: Sphinx) -> dict:
    app.setup_extension("sphinx_design")
    app.add_transform(FrameworkTabs)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
