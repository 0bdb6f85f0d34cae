"""The inventory as a table: every entry of the scan, one row each.

``EntryTableModel`` holds the classified entries as they came from the
engine (frozen records; the model never changes one).  ``EntryProxyModel``
sorts and filters them for the view.  It is a proxy of its own, not a
QSortFilterProxyModel: that one asks Python for every row on every keystroke
(``filterAcceptsRow``, ``lessThan``), which took 150 ms for a filter and
seconds for a sort at 100,000 rows.  Here the filter and the sort run over
plain Python lists in one pass, and the view then asks only for the rows it
shows (benchmarks/gui_scale.py measures both).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QT_TRANSLATE_NOOP,
    QAbstractProxyModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont

from privacy_inspector.actions.block import rule_for_host
from privacy_inspector.browsers.cookie_rules import CookieRule
from privacy_inspector.core.records import Entry

AnyIndex = QModelIndex | QPersistentModelIndex

SortRole = Qt.ItemDataRole.UserRole
RecordRole = Qt.ItemDataRole.UserRole + 1

(COL_KIND, COL_SITE, COL_HOST, COL_NAME, COL_ORGANIZATION, COL_CATEGORY, COL_PARTY,
 COL_TRACKER, COL_EXPIRES, COL_SIZE, COL_PARTITION, COL_BROWSER) = range(12)

_HEADERS = (
    QT_TRANSLATE_NOOP("EntryTableModel", "Kind"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Site"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Host"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Name"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Organisation"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Category"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Party"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Tracker"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Expires"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Size"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Partition"),
    QT_TRANSLATE_NOOP("EntryTableModel", "Browser"),
)

KIND_LABELS = {
    "cookie": "cookie",
    "local_storage": "localStorage",
    "session_storage": "sessionStorage",
    "indexed_db": "IndexedDB",
    "cache_storage": "Cache Storage",
    "service_worker": "service worker",
}
PARTY_LABELS = {"first_party": "first party", "third_party": "third party", "unrelated": "unrelated"}


def category_label(category: str | None) -> str:
    return (category or "unknown").replace("_", " ")


def size_label(size: int | None) -> str:
    if size is None:
        return ""
    if size < 1024:
        return f"{size} B"
    if size < 1024 * 1024:
        return f"{size / 1024:.1f} KB"
    return f"{size / (1024 * 1024):.1f} MB"


def expires_label(entry: Entry) -> str:
    if entry.kind != "cookie":
        return "until deleted" if entry.persistent else "session"
    if not entry.persistent:
        return "session"
    return (entry.expires or "").replace("T", " ").replace("Z", "")


# What each column shows, and what it sorts by (real values: dates, sizes).
_TEXT: tuple[Callable[[Entry], str], ...] = (
    lambda e: KIND_LABELS.get(e.kind, e.kind),
    lambda e: e.site or "",
    lambda e: e.host or "",
    lambda e: e.name,
    lambda e: e.organization or "",
    lambda e: category_label(e.category),
    lambda e: PARTY_LABELS.get(e.party or "", e.party or ""),
    lambda e: "tracker" if e.tracker else "",
    expires_label,
    lambda e: size_label(e.size),
    lambda e: e.partition_site or "",
    lambda e: e.browser,
)
_SORT_KEY: tuple[Callable[[Entry], Any], ...] = (
    lambda e: e.kind,
    lambda e: e.site or "",
    lambda e: e.host or "",
    lambda e: e.name.casefold(),
    lambda e: (e.organization or "\uffff").casefold(),
    lambda e: e.category or "",
    lambda e: e.party or "",
    lambda e: not e.tracker,
    # Session entries first, then by date; "until deleted" storage last.
    lambda e: (0, "") if not e.persistent else (1, e.expires) if e.expires else (2, ""),
    lambda e: e.size or 0,
    lambda e: e.partition_site or "",
    lambda e: e.browser,
)


RULE_TEXT = {
    "block": QT_TRANSLATE_NOOP("EntryTableModel", "Blocked in this browser: a rule for {0}"),
    "session": QT_TRANSLATE_NOOP("EntryTableModel",
                                 "Session only in this browser: a rule for {0}"),
    "allow": QT_TRANSLATE_NOOP("EntryTableModel", "Allowed in this browser: a rule for {0}"),
}


class EntryTableModel(QAbstractTableModel):
    """Every entry of the last scan, in scan order."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[Entry] = []
        self._bold = QFont()
        self._bold.setBold(True)
        # Entries whose site a "block" rule governs are struck out (and say so
        # in their tooltip, so it is not told by looks alone).
        self._struck = QFont()
        self._struck.setStrikeOut(True)
        self._bold_struck = QFont(self._bold)
        self._bold_struck.setStrikeOut(True)
        self._rules: Mapping[str, Sequence[CookieRule]] = {}
        # Live watch: entry id -> what happened to it and when ("appeared 05:12:03").
        self._marks: Mapping[str, str] = {}
        self._mark_brush = QBrush(QColor(255, 236, 140, 110))
        self._rule_cache: dict[tuple[str, str], CookieRule | None] = {}

    @property
    def entries(self) -> Sequence[Entry]:
        return self._rows

    def set_rows(self, rows: Sequence[Entry]) -> None:
        """Replace the model's contents and tell the attached views."""
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def set_rules(self, rules: Mapping[str, Sequence[CookieRule]]) -> None:
        """The cookie rules in force, by profile path, for the entries' state."""
        self._rules = rules
        self._rule_cache = {}
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1,
                                                               len(_HEADERS) - 1))

    def set_marks(self, marks: Mapping[str, str]) -> None:
        """Entries that appeared or changed while watching: shaded, and said in the tooltip."""
        self._marks = marks
        if self._rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self._rows) - 1,
                                                               len(_HEADERS) - 1))

    def rule_of(self, entry: Entry) -> CookieRule | None:
        """The rule of the entry's browser profile that governs its host, if any."""
        rules = self._rules.get(entry.profile)
        if not rules:
            return None
        key = (entry.profile, entry.host)
        if key not in self._rule_cache:
            self._rule_cache[key] = rule_for_host(entry.host, rules)
        return self._rule_cache[key]

    def replace_entry(self, row: int, entry: Entry) -> None:
        """One entry read again (a revealed value); the row keeps its place."""
        self._rows[row] = entry
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(_HEADERS) - 1))

    def _blocked(self, entry: Entry) -> bool:
        rule = self.rule_of(entry)
        return rule is not None and rule.mode == "block"

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008 - Qt's signature
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(_HEADERS):
            if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
                return self.tr(_HEADERS[section])
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        entry = self._rows[index.row()]
        column = index.column()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.AccessibleTextRole):
            return _TEXT[column](entry)
        if role == SortRole:
            return _SORT_KEY[column](entry)
        if role == RecordRole:
            return entry
        if role == Qt.ItemDataRole.FontRole and column in (COL_NAME, COL_TRACKER):
            blocked = column == COL_NAME and self._rules and self._blocked(entry)
            if entry.tracker:
                return self._bold_struck if blocked else self._bold
            return self._struck if blocked else None
        if role == Qt.ItemDataRole.BackgroundRole and self._marks and entry.id in self._marks:
            return self._mark_brush
        if role == Qt.ItemDataRole.ToolTipRole and column == COL_NAME:
            lines = [entry.purpose] if entry.purpose else []
            rule = self.rule_of(entry) if self._rules else None
            if rule is not None:
                lines.append(self.tr(RULE_TEXT[rule.mode]).format(rule.domain))
            if self._marks and entry.id in self._marks:
                lines.append(self.tr("Live watch: {0}").format(self._marks[entry.id]))
            return "\n".join(lines) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and column == COL_SIZE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


@dataclass(frozen=True, slots=True)
class EntryFilter:
    """What the view shows: the search text and the quick filters.

    Empty sets mean "any".  ``organization`` and ``site`` come from drilling
    down from the grouped view; ``profile`` from the side panel.
    """

    text: str = ""
    trackers_only: bool = False
    parties: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    browsers: frozenset[str] = frozenset()
    profile: str | None = None
    organization: str | None = None
    site: str | None = None
    # Presenter mode: only these entries (a step of the walk-through), and
    # never entries of unrelated sites.
    ids: frozenset[str] | None = None
    hide_unrelated: bool = False

    def predicate(self) -> Callable[[Entry], bool] | None:
        """One function for all the structured conditions; None when there are none."""
        checks: list[Callable[[Entry], bool]] = []
        if self.trackers_only:
            checks.append(lambda e: bool(e.tracker))
        if self.parties:
            parties = self.parties
            checks.append(lambda e: e.party in parties)
        if self.kinds:
            kinds = self.kinds
            checks.append(lambda e: e.kind in kinds)
        if self.categories:
            categories = self.categories
            checks.append(lambda e: (e.category or "unknown") in categories)
        if self.browsers:
            browsers = self.browsers
            checks.append(lambda e: e.browser in browsers)
        if self.profile is not None:
            profile = self.profile
            checks.append(lambda e: e.profile == profile)
        if self.organization is not None:
            organization = self.organization
            checks.append(lambda e: (e.organization or "") == organization)
        if self.site is not None:
            site = self.site
            checks.append(lambda e: e.site == site)
        if self.ids is not None:
            ids = self.ids
            checks.append(lambda e: e.id in ids)
        if self.hide_unrelated:
            checks.append(lambda e: e.party != "unrelated")
        if not checks:
            return None
        if len(checks) == 1:
            return checks[0]
        return lambda e: all(check(e) for check in checks)


def _haystack(entry: Entry) -> str:
    return "\n".join((
        entry.name, entry.host or "", entry.site or "", entry.organization or "",
        entry.service or "", category_label(entry.category), KIND_LABELS.get(entry.kind, entry.kind),
        entry.partition_site or "", entry.browser,
    )).casefold()


class EntryProxyModel(QAbstractProxyModel):
    """The entries the filter lets through, in the chosen order.

    ``_rows`` maps each proxy row to a source row.  Filtering and sorting
    rebuild it with list operations and reset the proxy; the view then only
    asks for what is on screen.
    """

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[int] = []
        self._position: dict[int, int] | None = None
        self._filter = EntryFilter()
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self._haystacks: list[str] | None = None
        self._sort_keys: dict[int, list[Any]] = {}
        # The rows the quick filters let through, for the filter they were made for.
        self._structured_for: EntryFilter | None = None
        self._structured_rows: list[int] | None = None
        # The last search: its words and the rows that matched them.
        self._searched: tuple[list[str], list[int]] | None = None

    # -- the source -------------------------------------------------------

    def setSourceModel(self, model: EntryTableModel) -> None:  # type: ignore[override]
        old = self.sourceModel()
        if old is not None:
            old.modelReset.disconnect(self._source_reset)
            old.dataChanged.disconnect(self._source_changed)
        super().setSourceModel(model)
        model.modelReset.connect(self._source_reset)
        model.dataChanged.connect(self._source_changed)
        self._source_reset()

    def _entries(self) -> Sequence[Entry]:
        model = self.sourceModel()
        return model.entries if isinstance(model, EntryTableModel) else ()

    def _source_reset(self) -> None:
        # Built now, with the table, so that the first keystroke is as quick as the rest.
        self._haystacks = list(map(_haystack, self._entries()))
        self._sort_keys = {}
        self._structured_for = self._structured_rows = self._searched = None
        self._rebuild()

    def _source_changed(self, top_left: QModelIndex, bottom_right: QModelIndex,
                        roles: Sequence[int] = ()) -> None:
        first = self.mapFromSource(top_left)
        last = self.mapFromSource(bottom_right)
        if first.isValid() and last.isValid():
            self.dataChanged.emit(first, last, roles)

    # -- filtering and sorting ----------------------------------------------

    @property
    def entry_filter(self) -> EntryFilter:
        return self._filter

    def set_filter(self, entry_filter: EntryFilter) -> None:
        if entry_filter != self._filter:
            self._filter = entry_filter
            self._rebuild()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column = column
        self._sort_order = order
        self._rebuild()

    def _keys(self, column: int) -> list[Any]:
        keys = self._sort_keys.get(column)
        if keys is None:
            keys = self._sort_keys[column] = list(map(_SORT_KEY[column], self._entries()))
        return keys

    def _rebuild(self) -> None:
        entries = self._entries()
        test = self._filter.predicate()
        structured = replace(self._filter, text="")
        if structured == self._structured_for and self._structured_rows is not None:
            rows = self._structured_rows
        else:
            rows = (list(range(len(entries))) if test is None
                    else [i for i, e in enumerate(entries) if test(e)])
            self._structured_for, self._structured_rows = structured, rows
            self._searched = None
        words = self._filter.text.casefold().split()
        if words:
            rows = self._search(rows, words)
        else:
            self._searched = None
        if 0 <= self._sort_column < len(_SORT_KEY):
            keys = self._keys(self._sort_column)
            rows = sorted(rows, key=keys.__getitem__,
                          reverse=self._sort_order == Qt.SortOrder.DescendingOrder)
        self.beginResetModel()
        self._rows = rows
        self._position = None
        self.endResetModel()

    def _search(self, rows: list[int], words: list[str]) -> list[int]:
        """The rows whose text holds every word.

        Typing on narrows the last result: when each earlier word is part of
        a new word, only the rows that matched before can match now.
        """
        if self._haystacks is None:
            self._haystacks = list(map(_haystack, self._entries()))
        hay = self._haystacks
        if self._searched is not None:
            before, matched = self._searched
            if all(any(old in new for new in words) for old in before):
                rows = matched
        for word in words:
            rows = [i for i in rows if word in hay[i]]
        self._searched = (words, rows)
        return rows

    def visible_entries(self) -> list[Entry]:
        entries = self._entries()
        return [entries[i] for i in self._rows]

    # -- QAbstractProxyModel --------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(_HEADERS)

    def hasChildren(self, parent: AnyIndex = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and bool(self._rows)

    def index(self, row: int, column: int, parent: AnyIndex = QModelIndex()) -> QModelIndex:  # noqa: B008
        if parent.isValid() or not (0 <= row < len(self._rows) and 0 <= column < len(_HEADERS)):
            return QModelIndex()
        return self.createIndex(row, column)

    def parent(self, index: AnyIndex = QModelIndex()) -> QModelIndex:  # type: ignore[override]  # noqa: B008
        return QModelIndex()

    def sibling(self, row: int, column: int, index: AnyIndex) -> QModelIndex:
        return self.index(row, column)

    def mapToSource(self, proxy_index: AnyIndex) -> QModelIndex:
        source = self.sourceModel()
        if source is None or not proxy_index.isValid():
            return QModelIndex()
        return source.index(self._rows[proxy_index.row()], proxy_index.column())

    def mapFromSource(self, source_index: AnyIndex) -> QModelIndex:
        if not source_index.isValid():
            return QModelIndex()
        if self._position is None:
            self._position = {source: proxy for proxy, source in enumerate(self._rows)}
        row = self._position.get(source_index.row())
        return QModelIndex() if row is None else self.index(row, source_index.column())

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        source = self.sourceModel()
        if orientation == Qt.Orientation.Horizontal and source is not None:
            return source.headerData(section, orientation, role)
        return None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        source = self.sourceModel()
        if source is None or not index.isValid():
            return None
        return source.data(self.mapToSource(index), role)

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren
