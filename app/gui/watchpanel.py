"""Live watch in the window: a timeline of what appears, changes and vanishes.

``core.watch.Watcher`` does the work (cheap file fingerprints, then a read
of only what changed, values hashed and dropped).  The main window polls it
on a timer, in the background, and hands each batch of events to this panel,
which lists them newest first with the time; choosing one shows its entry's
explanation.  The panel also says how long each browser keeps changes off
the disk, so nobody waits for what is not written yet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from privacy_inspector.core.explain import KIND_WORDS
from privacy_inspector.core.watch import ERROR, Change

EVENT_WORDS = {"added": "appeared", "changed": "changed", "removed": "vanished", ERROR: "error"}
MAX_ROWS = 5000


class WatchPanel(QWidget):
    """The timeline; ``entry_chosen`` gives the entry of the event the user picks."""

    entry_chosen = Signal(object)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.state = QLabel()
        self.state.setWordWrap(True)
        self.state.setAccessibleName(self.tr("Live watch state"))
        self.notes = QLabel()
        self.notes.setWordWrap(True)
        self.notes.setAccessibleName(self.tr("When browsers write to disk"))
        self.table = QTableWidget(0, 4)
        self.table.setAccessibleName(self.tr("Timeline of changes"))
        self.table.setHorizontalHeaderLabels([self.tr("Time"), self.tr("Event"),
                                              self.tr("Entry"), self.tr("Who, what for")])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.setColumnWidth(0, 90)
        self.table.setColumnWidth(1, 90)
        self.table.setColumnWidth(2, 300)
        self.table.currentCellChanged.connect(self._picked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state)
        layout.addWidget(self.notes)
        layout.addWidget(self.table, 1)

    def start(self, notices: Sequence[str]) -> None:
        self.table.setRowCount(0)
        self.state.setText(self.tr("Watching: pages you visit now show up here as the browser "
                                   "writes them."))
        self.notes.setText("\n".join(f"\u2139 {n}" for n in notices))

    def stop(self) -> None:
        self.state.setText(self.tr("Not watching."))

    @property
    def events(self) -> list[Change]:
        out = []
        for row in range(self.table.rowCount()):
            out.append(self.table.item(row, 0).data(Qt.ItemDataRole.UserRole))
        return out

    def add(self, changes: Sequence[Change]) -> None:
        """Newest first; the time is the watcher's, shown in local hours."""
        for change in changes:
            self.table.insertRow(0)
            entry = change.entry
            when = change.at[11:19] if len(change.at) >= 19 else change.at
            if entry is not None:
                kind = KIND_WORDS.get(entry.kind, entry.kind)
                what = f"{entry.name} @ {entry.host} ({kind}, {entry.browser})"
                who = ", ".join(x for x in (entry.organization, (entry.category or "")
                                            .replace("_", " "), entry.purpose) if x)
            else:
                what = change.error.profile if change.error else ""
                who = change.error.message if change.error else ""
            event = EVENT_WORDS.get(change.kind, change.kind)
            if change.fields_changed:
                event += f" ({', '.join(change.fields_changed)})"
            cells = (when, event, what, who)
            for column, text in enumerate(cells):
                item = QTableWidgetItem(text)
                item.setToolTip(text)
                if column == 0:
                    item.setData(Qt.ItemDataRole.UserRole, change)
                self.table.setItem(0, column, item)
        while self.table.rowCount() > MAX_ROWS:
            self.table.removeRow(self.table.rowCount() - 1)

    def _picked(self, row: int, *args: Any) -> None:
        if row < 0 or self.table.item(row, 0) is None:
            return
        change = self.table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        if change is not None and change.entry is not None:
            self.entry_chosen.emit(change.entry)
