"""The keep-list page: sites and entries that are never deleted.

Removing an item, or adding the sites the user seems to be signed in to,
writes the list at once (atomically, by ``KeepList.save``).  A list that
cannot be read is shown as an error and never replaced with an empty one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QStringListModel
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListView,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
)

from privacy_inspector.actions.keep import KeepList, KeepListError, suggest_signed_in
from privacy_inspector.core.records import Entry

SITE, ENTRY = "site ", "entry "


class KeepDialog(QDialog):
    def __init__(self, data_dir: Path, entries: Sequence[Entry], parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keep list"))
        self._data_dir = data_dir
        self._entries = entries
        self.keep = KeepList.load(data_dir)  # KeepListError goes to the caller
        self.model = QStringListModel(self)
        self.view = QListView()
        self.view.setModel(self.model)
        self.view.setAccessibleName(self.tr("Sites and entries that are never deleted"))
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        remove = QPushButton(self.tr("&Remove"))
        remove.setAccessibleName(self.tr("Remove the selected items from the keep list"))
        remove.clicked.connect(self.remove_selected)
        suggest = QPushButton(self.tr("&Keep the sites I am signed in to"))
        suggest.setAccessibleName(self.tr("Add the sites you seem to be signed in to"))
        suggest.clicked.connect(self.add_signed_in)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(remove, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(suggest, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Never deleted, not even by Clear trackers "
                                        "(a site keeps its subdomains too):")))
        layout.addWidget(self.view, 1)
        layout.addWidget(buttons)
        self.resize(520, 420)
        self._refresh()

    def _refresh(self) -> None:
        rows = [SITE + s for s in self.keep.sites]
        rows += [f"{ENTRY}{i}  {label}".rstrip() for i, label in self.keep.entries.items()]
        self.model.setStringList(rows)

    def _save(self, keep: KeepList) -> None:
        try:
            self.keep = keep.save(self._data_dir)
        except KeepListError as exc:
            QMessageBox.warning(self, self.tr("Keep list"), str(exc))
        self._refresh()

    def remove_selected(self) -> None:
        keep = self.keep
        for index in self.view.selectionModel().selectedRows():
            text = index.data()
            if text.startswith(SITE):
                keep = keep.without_site(text[len(SITE):])
            else:
                keep = keep.without_entry(text[len(ENTRY):].split()[0])
        self._save(keep)

    def add_signed_in(self) -> list[str]:
        sites = [s for s in suggest_signed_in(self._entries) if s not in self.keep.sites]
        if sites:
            self._save(self.keep.with_sites(sites))
        return sites
