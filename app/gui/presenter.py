"""Presenter mode's panel: the walk-through of one site, one step at a time.

The steps come from ``core.walkthrough`` (plain data); this panel shows the
current one in large type with the policy's words, and says which entries
belong to it so the window can show just those.  Back and Next (or the Page
Up and Page Down keys) move through the steps; the focus box chooses the site.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from privacy_inspector.core.classify import possessive
from privacy_inspector.core.walkthrough import Step
from privacy_inspector.gui.detail import source_html


def step_html(step: Step, number: int, total: int, policy: Any) -> str:
    """One step as HTML; every piece of text is escaped, and the policy's words cite it."""
    owner = policy.owner.name
    esc = html.escape
    parts = [f"<p><i>Step {number} of {total}</i></p><h2>{esc(step.title)}</h2>"]
    parts += [f"<p>{esc(p)}</p>" for p in step.paragraphs]
    if step.clauses:
        parts.append(f"<h3>What {esc(possessive(owner))} privacy policy says</h3>")
        parts.append(source_html(policy))
        for clause_id, title, text in step.clauses:
            parts.append(f"<p><b>{esc(title)}</b> <i>({esc(clause_id)})</i></p>"
                         f"<blockquote>\u201c{esc(text)}\u201d</blockquote>")
    if step.choices:
        parts.append("<h3>What you can do</h3><ul>")
        for label, url in step.choices:
            link = f": <a href='{esc(url, quote=True)}'>{esc(url)}</a>" if url else ""
            parts.append(f"<li>{esc(label)}{link}</li>")
        parts.append("</ul>")
    return "".join(parts)


class PresenterPanel(QWidget):
    """Back / Next through the steps; ``step_shown`` gives the step's entry ids."""

    step_shown = Signal(object)  # frozenset of entry ids
    focus_chosen = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._steps: list[Step] = []
        self._index = 0
        self._policy: Any = None
        self.focus = QComboBox()
        self.focus.setAccessibleName(self.tr("Site in focus"))
        self.focus.activated.connect(lambda _: self.focus_chosen.emit(self.focus.currentData()))
        self.show_names = QCheckBox(self.tr("Show other sites' names"))
        self.show_names.setAccessibleName(self.tr("Show the names of sites unrelated to the policy"))
        self.show_names.setToolTip(self.tr(
            "Off: sites with no link to the policy's owner (the customer's other browsing) are "
            "listed as \u201canother site\u201d, so opening this list on a shared screen shows "
            "none of them"))
        self.show_names.toggled.connect(lambda _: self._fill_sites())
        self._sites: tuple[list[str], list[str], str] = ([], [], "")
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setAccessibleName(self.tr("Explanation, step by step"))
        self.back = QPushButton(self.tr("\u2190 &Back"))
        self.back.setAccessibleName(self.tr("Previous step"))
        self.back.setShortcut("PgUp")
        self.back.clicked.connect(lambda: self.show_step(self._index - 1))
        self.next = QPushButton(self.tr("&Next \u2192"))
        self.next.setAccessibleName(self.tr("Next step"))
        self.next.setShortcut("PgDown")
        self.next.clicked.connect(lambda: self.show_step(self._index + 1))
        self.position = QLabel()
        self.position.setAccessibleName(self.tr("Step number"))
        top = QHBoxLayout()
        top.addWidget(QLabel(self.tr("Focus on:")))
        top.addWidget(self.focus, 1)
        top.addWidget(self.show_names)
        row = QHBoxLayout()
        row.addWidget(self.back)
        row.addWidget(self.position, 1)
        row.addWidget(self.next)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.text, 1)
        layout.addLayout(row)

    @property
    def steps(self) -> list[Step]:
        return self._steps

    @property
    def index(self) -> int:
        return self._index

    def set_sites(self, in_context: Sequence[str], unrelated: Sequence[str], focus: str) -> None:
        """The sites to focus on: those of the owner's context by name; the unrelated
        ones by name only when the presenter asks for it (a shared screen)."""
        self._sites = (list(in_context), list(unrelated), focus)
        self._fill_sites()

    def _fill_sites(self) -> None:
        in_context, unrelated, focus = self._sites
        self.focus.blockSignals(True)
        self.focus.clear()
        for site in in_context:
            self.focus.addItem(site, site)
        for number, site in enumerate(unrelated, start=1):
            shown = site if self.show_names.isChecked() or site == focus else \
                self.tr("another site ({0})").format(number)
            self.focus.addItem(shown, site)
        self.focus.setCurrentIndex(max(self.focus.findData(focus), 0))
        self.focus.blockSignals(False)

    def set_steps(self, steps: Sequence[Step], policy: Any) -> None:
        self._steps = list(steps)
        self._policy = policy
        self.show_step(0)

    def show_step(self, index: int) -> None:
        if not self._steps:
            self.text.setHtml(f"<p>{html.escape(self.tr('Nothing to show for this site.'))}</p>")
            self.position.setText("")
            self.back.setEnabled(False)
            self.next.setEnabled(False)
            self.step_shown.emit(frozenset())
            return
        self._index = max(0, min(index, len(self._steps) - 1))
        step = self._steps[self._index]
        self.text.setHtml(step_html(step, self._index + 1, len(self._steps), self._policy))
        self.position.setText(self.tr("Step {0} of {1}: {2}").format(
            self._index + 1, len(self._steps), step.title))
        self.back.setEnabled(self._index > 0)
        self.next.setEnabled(self._index < len(self._steps) - 1)
        self.step_shown.emit(step.entry_ids)
