"""Blocking from the window: the Block dialog and the cookie-rules page.

The Block dialog offers the selected entry's site or its organisation, and
the rule (block, session only, allow); it shows the plan that
``actions.block`` makes for that choice, lists the sites people sign in to
before they are blocked (left out unless the user ticks them in), and, when a
browser runs on a profile, offers to wait for it as the Delete dialog does.

The rules page lists the rules in force by profile, who made each (the app
or the user, in the browser) and unblocks the app's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
)

from privacy_inspector.actions.block import RulePlan, RuleRow
from privacy_inspector.gui.deletedialog import ASK_CLOSE, WAIT

MODE_LABELS = {
    "block": "Block: no cookies or storage",
    "session": "Session only: kept until the browser closes",
    "allow": "Allow: an exception to other rules",
}
RULE_WORDS = {"block": "blocked", "session": "session only", "allow": "allowed"}


@dataclass(frozen=True)
class Target:
    """Something the user may block: a site, or an organisation's domains."""

    label: str  # "the site doubleclick.net", "the organisation Google (57 domains)"
    domains: tuple[str, ...]
    sign_in: tuple[str, ...] = ()  # those of its domains people sign in to
    left_out: tuple[str, ...] = ()  # public suffixes among its domains, not blocked


Planner = Callable[[Sequence[str], str], RulePlan]


class BlockDialog(QDialog):
    """Accepted means "write self.plan"; WAIT / ASK_CLOSE as in the Delete dialog."""

    def __init__(self, targets: Sequence[Target], planner: Planner, parent: Any = None, *,
                 can_ask: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Block in the browser's settings"))
        self.targets = list(targets)
        self.planner = planner
        self.plan: RulePlan | None = None

        self.target = QComboBox()
        self.target.setAccessibleName(self.tr("What the rule is for"))
        for target in self.targets:
            self.target.addItem(target.label)
        self.mode = QComboBox()
        self.mode.setAccessibleName(self.tr("Rule"))
        for key, label in MODE_LABELS.items():
            self.mode.addItem(self.tr(label), key)
        self.sign_in = QCheckBox()
        self.sign_in.setAccessibleName(self.tr("Also block the sites people sign in to"))
        self.summary = QPlainTextEdit()
        self.summary.setReadOnly(True)
        self.summary.setAccessibleName(self.tr("What will change"))
        self.refused = QLabel()
        self.refused.setWordWrap(True)
        self.refused.setAccessibleName(self.tr("Why nothing can be written now"))

        form = QFormLayout()
        form.addRow(self.tr("&For:"), self.target)
        form.addRow(self.tr("&Rule:"), self.mode)
        buttons = QDialogButtonBox()
        self.write_button = QPushButton(self.tr("&Write the rule"))
        self.write_button.setAccessibleName(self.tr("Write the rule"))
        self.wait_button = QPushButton(self.tr("&Wait until the browser is closed"))
        self.wait_button.setAccessibleName(self.tr("Wait until the browser is closed"))
        self.wait_button.clicked.connect(lambda: self.done(WAIT))
        self.ask_button = QPushButton(self.tr("&Ask the browser to close"))
        self.ask_button.setAccessibleName(self.tr("Ask the browser to close, then wait"))
        self.ask_button.clicked.connect(lambda: self.done(ASK_CLOSE))
        buttons.addButton(self.wait_button, QDialogButtonBox.ButtonRole.ActionRole)
        if can_ask:
            buttons.addButton(self.ask_button, QDialogButtonBox.ButtonRole.ActionRole)
        else:
            self.ask_button.hide()
        cancel = buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        cancel.setAccessibleName(self.tr("Cancel"))
        buttons.addButton(self.write_button, QDialogButtonBox.ButtonRole.AcceptRole)
        self.write_button.clicked.connect(self.accept)
        buttons.rejected.connect(self.reject)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.sign_in)
        layout.addWidget(self.summary, 1)
        layout.addWidget(self.refused)
        layout.addWidget(QLabel(self.tr(
            "What is stored already stays until you delete it; the rule stops it from coming "
            "back. Blocking works in the browser itself, with or without this app.")))
        layout.addWidget(buttons)
        self.target.currentIndexChanged.connect(self.replan)
        self.mode.currentIndexChanged.connect(self.replan)
        self.sign_in.toggled.connect(self.replan)
        self.resize(720, 480)
        self.replan()

    @property
    def chosen(self) -> Target:
        return self.targets[self.target.currentIndex()]

    def domains(self) -> list[str]:
        target = self.chosen
        if self.mode.currentData() == "block" and not self.sign_in.isChecked():
            return [d for d in target.domains if d not in target.sign_in]
        return list(target.domains)

    def replan(self) -> None:
        target = self.chosen
        mode = self.mode.currentData()
        self.sign_in.setVisible(bool(target.sign_in) and mode == "block")
        self.sign_in.setText(self.tr("Also block the sites people sign in to (you would be "
                                     "signed out and kept out): {0}").format(", ".join(target.sign_in)))
        plan = self.plan = self.planner(self.domains(), mode)
        lines = []
        for profile in plan.writes:
            changes = [c for c in plan.changes if c.profile.path == profile.path]
            lines.append(self.tr("{0} {1}: {2} rules").format(profile.browser, profile.name,
                                                             len(changes)))
            for change in changes:
                was = RULE_WORDS.get(change.now or "", self.tr("no rule"))
                note = f" ({change.note})" if change.note else ""
                lines.append(f"    {change.domain}: {was} \u2192 {RULE_WORDS[mode]}{note}")
        for change in plan.skipped:
            lines.append(self.tr("Unchanged: {0} in {1}: {2}").format(
                change.domain, change.profile.browser, change.note))
        for item in plan.unsupported:
            lines.append(self.tr("Not written: {0}").format(item.reason))
        for _, store, message in plan.errors:
            lines.append(self.tr("Cannot be written: {0}: {1}").format(store, message))
        for domain in target.left_out:
            lines.append(self.tr("Left out: {0} is a public suffix (a rule would govern every "
                                 "site under it)").format(domain))
        if not lines:
            lines.append(self.tr("Nothing to change."))
        self.summary.setPlainText("\n".join(lines))
        if plan.refused:
            self.refused.setText("\u26d4 " + "\n\u26d4 ".join(r.reason for r in plan.refused))
        self.refused.setVisible(bool(plan.refused))
        self.wait_button.setVisible(bool(plan.refused))
        self.ask_button.setEnabled(bool(plan.refused))
        self.write_button.setEnabled(bool(plan.changes) and not plan.refused)


COLUMNS = ("Browser", "Profile", "Domain", "Rule", "Made by", "Pattern")


class RulesDialog(QDialog):
    """The cookie rules in force, by profile; Unblock removes the app's."""

    def __init__(self, load: Callable[[], tuple[list[RuleRow], list[str]]],
                 unblock: Callable[[list[RuleRow]], None], parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Cookie rules"))
        self._load = load
        self._unblock = unblock
        self.rows: list[RuleRow] = []
        self.model = QStandardItemModel(0, len(COLUMNS), self)
        self.model.setHorizontalHeaderLabels([self.tr(c) for c in COLUMNS])
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setAccessibleName(self.tr("Cookie rules in force"))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.setSortingEnabled(True)
        self.problems = QLabel()
        self.problems.setWordWrap(True)
        self.problems.setAccessibleName(self.tr("Profiles whose rules cannot be read"))
        self.unblock_button = QPushButton(self.tr("&Unblock"))
        self.unblock_button.setAccessibleName(self.tr("Unblock the selected rules"))
        self.unblock_button.setToolTip(self.tr(
            "Removes the rules this app wrote and puts back what you had before; rules you made "
            "in the browser are changed there"))
        self.unblock_button.clicked.connect(self._unblock_selected)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.unblock_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr(
            "Rules kept in the browsers' own settings. \u201cMade by: this app\u201d rules can be "
            "removed here; the others were made in the browser.")))
        layout.addWidget(self.table, 1)
        layout.addWidget(self.problems)
        layout.addWidget(buttons)
        self.table.selectionModel().selectionChanged.connect(self._selection_changed)
        self.resize(900, 460)
        self.reload()

    def reload(self) -> None:
        self.rows, problems = self._load()
        self.model.removeRows(0, self.model.rowCount())
        for index, row in enumerate(self.rows):
            cells = (row.profile.browser, row.profile.name, row.rule.domain,
                     RULE_WORDS.get(row.rule.mode, row.rule.mode),
                     self.tr("this app") if row.source == "app" else self.tr("you, in the browser"),
                     row.rule.pattern)
            items = []
            for text in cells:
                item = QStandardItem(text)
                item.setData(index, Qt.ItemDataRole.UserRole)
                items.append(item)
            self.model.appendRow(items)
        self.problems.setText("\n".join(problems))
        self.problems.setVisible(bool(problems))
        self._selection_changed()

    def selected(self) -> list[RuleRow]:
        picked = {self.model.index(i.row(), 0).data(Qt.ItemDataRole.UserRole)
                  for i in self.table.selectionModel().selectedRows()}
        return [self.rows[i] for i in sorted(picked)]

    def _selection_changed(self, *args: Any) -> None:
        self.unblock_button.setEnabled(any(r.source == "app" for r in self.selected()))

    def _unblock_selected(self) -> None:
        rows = [r for r in self.selected() if r.source == "app"]
        if rows:
            self._unblock(rows)
            self.reload()
