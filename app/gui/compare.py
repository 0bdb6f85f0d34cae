"""Snapshots in the window: take one with a label, and compare two (or one with now).

The snapshots themselves live in ``core.snapshots`` (names, hosts, flags,
sizes and keyed hashes of values, never the values).  The compare view shows
what was added, removed and changed, grouped by organisation, each line with
what the entry is for; choosing one shows its explanation below.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QTextBrowser,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
)

from privacy_inspector.core.explain import KIND_WORDS
from privacy_inspector.core.snapshots import Diff, Item, SnapshotInfo

NOW = "now"


class SnapshotDialog(QDialog):
    """Asks for a snapshot's label (optional)."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Take snapshot"))
        self.label = QLineEdit()
        self.label.setAccessibleName(self.tr("Snapshot label"))
        self.label.setPlaceholderText(self.tr("for example: before, after login, cookies off"))
        form = QFormLayout()
        form.addRow(self.tr("&Label:"), self.label)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr(
            "A snapshot records what is stored now (names, hosts, flags, sizes and a keyed "
            "hash of each value, never the values), to compare with later.")))
        layout.addLayout(form)
        layout.addWidget(buttons)


def _line(item: Item) -> str:
    kind = KIND_WORDS.get(item.kind, item.kind)
    where = f"{item.browser}, {item.partition_site + ' partition, ' if item.partition_site else ''}"
    return f"{item.name} @ {item.host}  ({kind}; {where.rstrip(', ')})"


class CompareDialog(QDialog):
    """Two snapshots, or one and now; ``compare(a, b)`` is called with ids (b may be NOW)
    and returns a Diff (it may scan, so the window runs it in the background and calls
    :meth:`show_diff`)."""

    def __init__(self, snapshots: list[SnapshotInfo],
                 compare: Callable[[int, int | str], None], parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Compare snapshots"))
        self._compare = compare
        self.first = QComboBox()
        self.first.setAccessibleName(self.tr("Earlier snapshot"))
        self.second = QComboBox()
        self.second.setAccessibleName(self.tr("Later snapshot, or now"))
        for info in snapshots:
            text = f"{info.name}, {info.created} ({info.count} entries)"
            self.first.addItem(text, info.id)
            self.second.addItem(text, info.id)
        self.second.insertItem(0, self.tr("now (scan again)"), NOW)
        self.second.setCurrentIndex(0)
        self.first.setCurrentIndex(max(self.first.count() - 1, 0))
        self.compare_button = QPushButton(self.tr("&Compare"))
        self.compare_button.setAccessibleName(self.tr("Compare"))
        self.compare_button.setEnabled(bool(snapshots))
        self.compare_button.clicked.connect(self.run)
        self.summary = QLabel(self.tr("Take a snapshot first (Tools \u25b8 Take snapshot).")
                              if not snapshots else "")
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(self.tr("Summary of the differences"))
        self.tree = QTreeWidget()
        self.tree.setAccessibleName(self.tr("Differences by organisation"))
        self.tree.setHeaderLabels([self.tr("What"), self.tr("Change"), self.tr("What it is for")])
        self.tree.setColumnWidth(0, 380)
        self.tree.setColumnWidth(1, 180)
        self.tree.currentItemChanged.connect(self._chosen)
        self.detail = QTextBrowser()
        self.detail.setAccessibleName(self.tr("The chosen entry"))
        self.detail.setMaximumHeight(160)
        form = QFormLayout()
        form.addRow(self.tr("&From:"), self.first)
        form.addRow(self.tr("&To:"), self.second)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.compare_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.tree, 1)
        layout.addWidget(self.detail)
        layout.addWidget(buttons)
        self.resize(980, 620)

    def run(self) -> None:
        self.summary.setText(self.tr("Comparing\u2026"))
        self.tree.clear()
        self._compare(self.first.currentData(), self.second.currentData())

    def show_error(self, message: str) -> None:
        self.summary.setText(message)

    def show_diff(self, diff: Diff) -> None:
        self.tree.clear()
        counts = diff.summary()
        names = (diff.old_info.name if diff.old_info else "?",
                 diff.new_info.name if diff.new_info else NOW)
        text = self.tr("From {0} to {1}: {2} added, {3} removed, {4} changed, {5} the same.").format(
            names[0], names[1], counts["added"], counts["removed"], counts["changed"],
            counts["unchanged"])
        if not diff.values_compared:
            text += " " + self.tr("Values were not compared (the snapshots were hashed with "
                                  "different keys).")
        self.summary.setText(text)
        for group in diff.by_organization():
            total = len(group.added) + len(group.removed) + len(group.changed)
            top = QTreeWidgetItem([f"{group.title} ({total})", "", ""])
            for item in group.added:
                self._child(top, _line(item), self.tr("added"), item)
            for item in group.removed:
                self._child(top, _line(item), self.tr("removed"), item)
            for change in group.changed:
                what = self.tr("set again, later expiry") if change.expiry_extended \
                    else change.describe()
                self._child(top, _line(change.new), self.tr("changed: {0}").format(what),
                            change.new)
            self.tree.addTopLevelItem(top)
            top.setExpanded(True)

    def _child(self, top: QTreeWidgetItem, what: str, change: str, item: Item) -> None:
        child = QTreeWidgetItem([what, change, item.purpose or ""])
        child.setData(0, Qt.ItemDataRole.UserRole, item)
        child.setToolTip(2, item.purpose or "")
        top.addChild(child)

    def _chosen(self, current: QTreeWidgetItem | None, previous: Any = None) -> None:
        item = current.data(0, Qt.ItemDataRole.UserRole) if current is not None else None
        if not isinstance(item, Item):
            self.detail.clear()
            return
        esc = html.escape
        rows = [("Who", item.organization or item.site), ("Service", item.service or ""),
                ("Category", (item.category or "unknown").replace("_", " ")),
                ("Party", (item.party or "").replace("_", " ")),
                ("Expires", item.expires or "at the end of the session"),
                ("Policy clauses", ", ".join(item.policy_clauses) or "none"),
                ("Profile", f"{item.browser}: {item.profile}")]
        self.detail.setHtml(f"<b>{esc(item.name)}</b> \u2014 {esc(item.purpose or '')}<br>"
                            + "".join(f"<b>{esc(k)}:</b> {esc(v)}<br>" for k, v in rows if v))
