"""The side panel: browsers and their profiles, with each profile's state.

A QTreeView over a QStandardItemModel (a model, not item widgets): "All
profiles" first, then one branch per browser, then "Demo data".  Choosing a
profile narrows the inventory to it; choosing the demo scans the bundled demo
profiles.  States are words ("running", "cannot be read"), not colours.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QTreeView, QVBoxLayout, QWidget

from privacy_inspector.core.records import Entry, Profile, ScanError

ProfileRole = Qt.ItemDataRole.UserRole + 1
ALL = "all"
DEMO = "demo"


def profile_state(profile: Profile, running: bool, errors: int, trackers: int | None) -> str:
    parts = []
    if profile.problem:
        parts.append("cannot be read")
    elif running:
        parts.append("running")
    if errors:
        parts.append(f"{errors} problem{'s' if errors != 1 else ''}")
    if trackers is not None and not profile.problem:
        parts.append(f"{trackers} tracker{'s' if trackers != 1 else ''}")
    return ", ".join(parts)


class SidePanel(QWidget):
    """Browsers and profiles; emits which one the user picked."""

    profile_chosen = Signal(object)  # a profile path (str), or None for all
    demo_requested = Signal()

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.model = QStandardItemModel(self)
        self.view = QTreeView()
        self.view.setModel(self.model)
        self.view.setHeaderHidden(True)
        self.view.setAccessibleName(self.tr("Browsers and profiles"))
        self.view.setEditTriggers(QTreeView.EditTrigger.NoEditTriggers)
        self.view.selectionModel().currentChanged.connect(self._current_changed)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.view)
        self.set_profiles([], {}, [], [], demo=False)

    def set_profiles(self, profiles: Sequence[Profile], running: dict[str, bool],
                     entries: Sequence[Entry], errors: Sequence[ScanError], *, demo: bool) -> None:
        trackers = Counter(e.profile for e in entries if e.tracker)
        problems = Counter(e.profile for e in errors)
        self.model.clear()
        root = self.model.invisibleRootItem()
        everything = QStandardItem(self.tr("All profiles ({0} trackers)").format(sum(trackers.values())))
        everything.setData(ALL, ProfileRole)
        root.appendRow(everything)
        browsers: dict[str, QStandardItem] = {}
        for profile in profiles:
            key = str(profile.path)
            branch = browsers.get(profile.browser)
            if branch is None:
                branch = browsers[profile.browser] = QStandardItem(profile.browser.capitalize())
                branch.setSelectable(False)
                root.appendRow(branch)
            state = profile_state(profile, running.get(key, False), problems[key],
                                  trackers[key] if entries or not profile.problem else None)
            item = QStandardItem(f"{profile.name} \u2014 {state}" if state else profile.name)
            item.setData(key, ProfileRole)
            item.setToolTip(key + (f"\n{profile.problem}" if profile.problem else ""))
            item.setData(f"{profile.browser} profile {profile.name}: {state}",
                         Qt.ItemDataRole.AccessibleTextRole)
            branch.appendRow(item)
        demo_item = QStandardItem(self.tr("Demo data (shown now)") if demo else self.tr("Demo data"))
        demo_item.setData(DEMO, ProfileRole)
        demo_item.setToolTip(self.tr("Profiles that real Chromium and Firefox wrote, shipped with the app"))
        root.appendRow(demo_item)
        self.view.expandAll()

    def rows(self) -> list[str]:
        """Every line of the panel, depth-first (for tests and the log)."""
        out: list[str] = []

        def walk(parent: QModelIndex, depth: int) -> None:
            for row in range(self.model.rowCount(parent)):
                index = self.model.index(row, 0, parent)
                out.append("  " * depth + index.data())
                walk(index, depth + 1)

        walk(QModelIndex(), 0)
        return out

    def _current_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        key = current.data(ProfileRole)
        if key == DEMO:
            self.demo_requested.emit()
        elif key == ALL:
            self.profile_chosen.emit(None)
        elif key:
            self.profile_chosen.emit(key)
