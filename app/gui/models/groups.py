"""The grouped view: one row per organisation or per site, with its counts.

Built from the entries the inventory currently shows, so the search and the
quick filters apply to the groups too.  Activating a group drills down: the
main window filters the inventory to that organisation or site.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)

from privacy_inspector.core.records import Entry
from privacy_inspector.gui.models.entries import RecordRole, SortRole, category_label

AnyIndex = QModelIndex | QPersistentModelIndex

BY_ORGANIZATION = "organization"
BY_SITE = "site"
UNKNOWN_ORGANIZATION = "(no known company)"

COL_GROUP, COL_ENTRIES, COL_TRACKERS, COL_CATEGORIES, COL_OTHERS = range(5)


@dataclass(frozen=True, slots=True)
class Group:
    """One organisation's or one site's entries, counted."""

    key: str
    label: str
    entries: int
    trackers: int
    categories: tuple[tuple[str, int], ...]
    # Sites of an organisation, or organisations of a site.
    others: tuple[str, ...]


def make_groups(entries: Iterable[Entry], by: str) -> list[Group]:
    counts: dict[str, list[Entry]] = {}
    for entry in entries:
        key = (entry.organization or "") if by == BY_ORGANIZATION else (entry.site or entry.host or "")
        counts.setdefault(key, []).append(entry)
    groups = []
    for key, members in counts.items():
        categories = Counter(category_label(e.category) for e in members)
        if by == BY_ORGANIZATION:
            others = sorted({e.site or "" for e in members})
            label = key or UNKNOWN_ORGANIZATION
        else:
            others = sorted({e.organization for e in members if e.organization})
            label = key
        groups.append(Group(
            key=key,
            label=label,
            entries=len(members),
            trackers=sum(1 for e in members if e.tracker),
            categories=tuple(categories.most_common()),
            others=tuple(others),
        ))
    groups.sort(key=lambda g: (-g.trackers, -g.entries, g.label.casefold()))
    return groups


class GroupTableModel(QAbstractTableModel):
    """Organisations (or sites) with how many entries and trackers each has."""

    _HEADERS = {
        BY_ORGANIZATION: (
            QT_TRANSLATE_NOOP("GroupTableModel", "Organisation"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Entries"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Trackers"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Categories"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Sites"),
        ),
        BY_SITE: (
            QT_TRANSLATE_NOOP("GroupTableModel", "Site"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Entries"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Trackers"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Categories"),
            QT_TRANSLATE_NOOP("GroupTableModel", "Organisations"),
        ),
    }

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._groups: list[Group] = []
        self._by = BY_ORGANIZATION

    @property
    def by(self) -> str:
        return self._by

    def set_rows(self, entries: Iterable[Entry], by: str) -> None:
        self.beginResetModel()
        self._by = by
        self._groups = make_groups(entries, by)
        self.endResetModel()
        self.headerDataChanged.emit(Qt.Orientation.Horizontal, 0, COL_OTHERS)

    def group(self, row: int) -> Group:
        return self._groups[row]

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._groups)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COL_OTHERS + 1

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if (orientation == Qt.Orientation.Horizontal and 0 <= section <= COL_OTHERS
                and role == Qt.ItemDataRole.DisplayRole):
            return self.tr(self._HEADERS[self._by][section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        group = self._groups[index.row()]
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == COL_GROUP:
                return group.label
            if column == COL_ENTRIES:
                return str(group.entries)
            if column == COL_TRACKERS:
                return str(group.trackers)
            if column == COL_CATEGORIES:
                return ", ".join(f"{name} ({count})" for name, count in group.categories)
            return ", ".join(group.others[:5]) + (" …" if len(group.others) > 5 else "")
        if role == SortRole:
            return (group.label.casefold(), group.entries, group.trackers,
                    group.categories[0][0] if group.categories else "", len(group.others))[column]
        if role == RecordRole:
            return group
        if role == Qt.ItemDataRole.TextAlignmentRole and column in (COL_ENTRIES, COL_TRACKERS):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None
