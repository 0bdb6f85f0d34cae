"""The confirmation before anything is deleted: the plan, in full, and its risks.

It lists what will go (the same table as the inventory, so it sorts and reads
the same way), how much per profile and store, what stays and why, and warns
that removing cookies can sign the user out of sites.  When a browser runs on
a profile of the plan it says so and offers to wait until it is closed; the
main window then scans again and shows a fresh plan.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from privacy_inspector.actions.delete import Plan
from privacy_inspector.gui.models.entries import KIND_LABELS, EntryTableModel

# The dialog's results besides Accepted and Rejected: wait until the browser is
# closed; or ask it to close first, then wait.
WAIT = 2
ASK_CLOSE = 3


class DeleteDialog(QDialog):
    """Shows a plan; accepted means "delete", WAIT means "wait for the browser"."""

    def __init__(self, plan: Plan, title: str, parent: Any = None, *, can_ask: bool = False) -> None:
        super().__init__(parent)
        self.plan = plan
        self.setWindowTitle(title)
        entries = plan.entries
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setAccessibleName(self.tr("What will be deleted"))
        lines = [self.tr("{0} entries will be deleted ({1}).").format(len(entries),
                                                                      plan.selection.describe())]
        for store in plan.stores:
            kinds = Counter(KIND_LABELS.get(e.kind, e.kind) for e in store.entries)
            lines.append(f"\u2022 {store.profile.browser} {store.profile.name}, {store.store}: "
                         + ", ".join(f"{n} {k}" for k, n in kinds.items()))
        if any(e.kind == "cookie" for e in entries):
            lines.append(self.tr("\u26a0 Removing cookies can sign you out of sites."))
        lines.append(self.tr("You can undo this afterwards (Edit \u25b8 Undo deletion)."))
        self.summary.setText("\n".join(lines))

        self.model = EntryTableModel(self)
        self.model.set_rows(entries)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Entries that will be deleted"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)

        self.kept = QPlainTextEdit()
        self.kept.setReadOnly(True)
        self.kept.setAccessibleName(self.tr("Entries that stay, and why"))
        self.kept.setMaximumHeight(110)
        reasons = Counter(k.reason for k in plan.kept)
        self.kept.setPlainText("\n".join(f"{count} stay: {reason}" for reason, count in
                                         reasons.most_common()) or self.tr("Nothing else is kept."))

        self.refused = QLabel()
        self.refused.setWordWrap(True)
        self.refused.setAccessibleName(self.tr("Why nothing can be deleted now"))
        buttons = QDialogButtonBox()
        self.delete_button = QPushButton(self.tr("&Delete {0} entries").format(len(entries)))
        self.delete_button.setAccessibleName(self.tr("Delete"))
        self.wait_button = QPushButton(self.tr("&Wait until the browser is closed"))
        self.wait_button.setAccessibleName(self.tr("Wait until the browser is closed"))
        self.ask_button = QPushButton(self.tr("&Ask the browser to close"))
        self.ask_button.setAccessibleName(self.tr("Ask the browser to close, then wait"))
        self.ask_button.setToolTip(self.tr("The browser closes its windows as if you quit it; "
                                           "tabs come back the way its settings say"))
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel"))
        if plan.refused:
            self.refused.setText("\u26d4 " + "\n\u26d4 ".join(r.reason for r in plan.refused))
            buttons.addButton(self.wait_button, QDialogButtonBox.ButtonRole.ActionRole)
            self.wait_button.clicked.connect(lambda: self.done(WAIT))
            if can_ask:
                buttons.addButton(self.ask_button, QDialogButtonBox.ButtonRole.ActionRole)
                self.ask_button.clicked.connect(lambda: self.done(ASK_CLOSE))
            self.delete_button.setEnabled(False)
        else:
            self.refused.hide()
        buttons.addButton(self.delete_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.delete_button.setEnabled(bool(entries) and not plan.refused)
        self.delete_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.refused)
        layout.addWidget(self.table, 1)
        layout.addWidget(QLabel(self.tr("What stays:")))
        layout.addWidget(self.kept)
        layout.addWidget(buttons)
        self.resize(900, 560)
