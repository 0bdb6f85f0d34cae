"""The detail pane: one entry, explained, with the policy's words.

What it says comes from ``core.explain`` (the same text as ``explain ID``);
this module only lays it out.  The value stays masked until the user presses
Reveal: the main window then reads that one entry again in the background
and hands the result to :meth:`DetailPane.show_value`.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from privacy_inspector.core.classify import Classifier, possessive
from privacy_inspector.core.decode import decode_value
from privacy_inspector.core.explain import explain
from privacy_inspector.core.records import Entry
from privacy_inspector.gui.models.entries import KIND_LABELS, expires_label, size_label

MASK = "\u2022" * 12


def _yes_no(value: bool | None) -> str:
    return "" if value is None else ("yes" if value else "no")


def attributes(entry: Entry) -> list[tuple[str, str]]:
    """The entry's stored attributes, as (label, text); empty ones left out."""
    rows = [
        ("Kind", KIND_LABELS.get(entry.kind, entry.kind)),
        ("Host", entry.host or ""),
        ("Origin", entry.origin or ""),
        ("Path", entry.path or ""),
        ("Partitioned under", entry.partition_site or ""),
        ("Container", str(entry.container) if entry.container is not None else ""),
        ("Expires", expires_label(entry)),
        ("Created", (entry.created or "").replace("T", " ").replace("Z", "")),
        ("Last used", (entry.last_accessed or "").replace("T", " ").replace("Z", "")),
        ("Size", size_label(entry.size)),
        ("Secure", _yes_no(entry.secure)),
        ("HttpOnly", _yes_no(entry.http_only)),
        ("SameSite", entry.same_site or ""),
        ("Value", entry.value_state),
        ("Store", entry.store + (" (stale copy)" if entry.stale else "")),
        ("Browser", f"{entry.browser}, profile {entry.profile}"),
        ("Id", entry.id),
    ]
    return [(label, text) for label, text in rows if text]


def source_html(policy: Any) -> str:
    """Where the policy's words come from, as a link: none is quoted without it."""
    esc = html.escape
    source = policy.source
    archived = f", archived {source.archived.isoformat()}" if source.archived else ""
    return (f"<p><small>From <a href='{esc(source.url, quote=True)}'>{esc(source.title)}</a>"
            f"{esc(archived)}</small></p>")


def explanation_html(entry: Entry, classifier: Classifier, rule: str | None = None) -> str:
    """The explanation as HTML; every piece of text is escaped.  ``rule`` says
    which cookie rule of the browser governs the entry's site, if one does."""
    e = explain(entry, classifier)
    esc = html.escape
    parts = [f"<h2>{esc(entry.name)}</h2>"]
    if rule:
        parts.append(f"<p><b>Cookie rule:</b> {esc(rule)}</p>")
    tracker = "Tracker" if entry.tracker else "Not a tracker"
    parts.append(f"<p><b>{esc(tracker)}</b> \u2014 {esc(e.tracker)}</p>")
    parts.append("<table cellspacing='4'>")
    for label, text in (("Who", e.who), ("What", e.what), ("How long", e.how_long),
                        ("Value", e.value), ("Why we think so", e.why)):
        parts.append(f"<tr><td valign='top'><b>{esc(label)}</b></td><td>{esc(text)}</td></tr>")
    parts.append("</table>")
    if e.clauses:
        parts.append(f"<h3>What {esc(possessive(classifier.policy.owner.name))} privacy policy says</h3>")
        parts.append(source_html(classifier.policy))
        for clause_id, title, text in e.clauses:
            parts.append(f"<p><b>{esc(title)}</b> <i>({esc(clause_id)})</i></p>")
            parts.append(f"<blockquote>\u201c{esc(text)}\u201d</blockquote>")
    else:
        parts.append(f"<p><b>Not covered:</b> {esc(e.not_covered or '')}</p>")
    parts.append("<h3>What you can do</h3><ul>")
    for label, url in e.choices:
        if url:
            parts.append(f"<li>{esc(label)}: <a href='{esc(url, quote=True)}'>{esc(url)}</a></li>")
        else:
            parts.append(f"<li>{esc(label)}</li>")
    parts.append("</ul><h3>Attributes</h3><table cellspacing='2'>")
    for label, text in attributes(entry):
        parts.append(f"<tr><td><b>{esc(label)}</b></td><td>{esc(text)}</td></tr>")
    parts.append("</table>")
    return "".join(parts)


class DetailPane(QWidget):
    """The selected entry: explanation, attributes, and the value behind Reveal."""

    reveal_requested = Signal(object)

    def __init__(self, classifier: Classifier, parent: Any = None) -> None:
        super().__init__(parent)
        self._classifier = classifier
        self._entry: Entry | None = None
        # entry -> the sentence about the browser's cookie rule for its site, or None
        self.rule_text: Callable[[Entry], str | None] = lambda entry: None
        # Presenter mode: values are never shown, even one revealed before.
        self.presenting = False
        self.browser = QTextBrowser()
        self.browser.setOpenExternalLinks(True)
        self.browser.setAccessibleName(self.tr("Explanation of the selected entry"))
        self.value_label = QLabel(self.tr("Value:"))
        self.value_text = QLabel(MASK)
        self.value_text.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.value_text.setAccessibleName(self.tr("Value of the selected entry"))
        self.value_text.setWordWrap(True)
        self.reveal_button = QPushButton(self.tr("&Reveal value"))
        self.reveal_button.setAccessibleName(self.tr("Reveal value"))
        self.reveal_button.setToolTip(self.tr("Read and decrypt this value (it is never logged)"))
        self.reveal_button.clicked.connect(self._reveal_clicked)
        self.decoded = QPlainTextEdit()
        self.decoded.setReadOnly(True)
        self.decoded.setAccessibleName(self.tr("Decoded value"))
        self.decoded.setMaximumHeight(140)
        self.decoded.hide()

        row = QHBoxLayout()
        row.addWidget(self.value_label)
        row.addWidget(self.value_text, 1)
        row.addWidget(self.reveal_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.browser, 1)
        layout.addLayout(row)
        layout.addWidget(self.decoded)
        self.show_entry(None)

    @property
    def entry(self) -> Entry | None:
        return self._entry

    def set_classifier(self, classifier: Classifier) -> None:
        self._classifier = classifier
        self.show_entry(self._entry)

    def show_entry(self, entry: Entry | None) -> None:
        self._entry = entry
        self.decoded.hide()
        self.decoded.clear()
        if entry is None:
            self.browser.setHtml(f"<p>{html.escape(self.tr('Select an entry to see what it is.'))}</p>")
            self.value_text.setText("")
            self.reveal_button.setEnabled(False)
            return
        self.browser.setHtml(explanation_html(entry, self._classifier, self.rule_text(entry)))
        if self.presenting:
            self.value_text.setText(MASK)
            self.reveal_button.setEnabled(False)
        elif entry.value is not None:
            self.show_value(entry)
        else:
            self.value_text.setText(MASK)
            self.reveal_button.setEnabled(entry.kind in ("cookie", "local_storage", "session_storage"))

    def show_revealing(self) -> None:
        self.value_text.setText(self.tr("reading\u2026"))
        self.reveal_button.setEnabled(False)

    def show_value(self, entry: Entry | None, problem: str | None = None) -> None:
        """The revealed value, or why it cannot be shown; decoded where that helps."""
        self.reveal_button.setEnabled(False)
        if self.presenting:
            self.value_text.setText(MASK)
            return
        if entry is None or entry.value is None:
            why = problem or (entry.value_note if entry is not None else None)
            self.value_text.setText(self.tr("cannot be shown: {0}").format(why or self.tr("cannot decrypt")))
            return
        self.value_text.setText(entry.value if entry.value else self.tr("(empty)"))
        decodings = decode_value(entry.name, entry.value)
        if decodings:
            self.decoded.setPlainText("\n\n".join(f"{d.label}:\n{d.text}" for d in decodings))
            self.decoded.show()

    def _reveal_clicked(self) -> None:
        if self._entry is not None:
            self.reveal_requested.emit(self._entry)
