"""Search as you type and the quick filters, above the inventory.

Typing restarts a short timer; the filter is applied when the user pauses
(qutebrowser's throttle), so a burst of keystrokes filters once.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from privacy_inspector.gui.models.entries import KIND_LABELS, PARTY_LABELS, EntryFilter

SEARCH_DELAY_MS = 150
CATEGORIES = ("essential", "preferences", "analytics", "optimization", "marketing_automation",
              "advertising", "social_media", "customer_interaction", "embedded_content", "consent",
              "unknown")
VIEWS = (("entries", "Entries"), ("organization", "By organisation"), ("site", "By site"))


def _combo(name: str, any_label: str, items: list[tuple[str, str]]) -> QComboBox:
    combo = QComboBox()
    combo.setAccessibleName(name)
    combo.setToolTip(name)
    combo.addItem(any_label, None)
    for key, label in items:
        combo.addItem(label, key)
    return combo


class FilterBar(QWidget):
    """Emits ``changed`` with a new EntryFilter, and ``view_changed`` with a view key."""

    changed = Signal(object)
    view_changed = Signal(str)

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._extra: dict[str, Any] = {}
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search names, hosts, companies (Ctrl+F)"))
        self.search.setAccessibleName(self.tr("Search"))
        self.search.setClearButtonEnabled(True)
        self.trackers_only = QCheckBox(self.tr("&Trackers only"))
        self.trackers_only.setAccessibleName(self.tr("Trackers only"))
        self.party = _combo(self.tr("Party"), self.tr("Any party"), list(PARTY_LABELS.items()))
        self.kind = _combo(self.tr("Kind"), self.tr("Any kind"), list(KIND_LABELS.items()))
        self.category = _combo(self.tr("Category"), self.tr("Any category"),
                               [(c, c.replace("_", " ")) for c in CATEGORIES])
        self.browser = _combo(self.tr("Browser"), self.tr("Any browser"), [])
        self.view = QComboBox()
        self.view.setAccessibleName(self.tr("View"))
        for key, label in VIEWS:
            self.view.addItem(self.tr(label), key)
        self.drill = QLabel()
        self.drill.setAccessibleName(self.tr("Drill-down filter"))
        self._timer = QTimer(self)
        self._timer.setObjectName("search-throttle")
        self._timer.setSingleShot(True)
        self._timer.setInterval(SEARCH_DELAY_MS)
        self._timer.timeout.connect(self._emit)
        self.search.textChanged.connect(lambda _: self._timer.start())
        self.trackers_only.toggled.connect(self._emit)
        for combo in (self.party, self.kind, self.category, self.browser):
            combo.currentIndexChanged.connect(self._emit)
        self.view.currentIndexChanged.connect(
            lambda _: self.view_changed.emit(self.view.currentData()))

        first = QHBoxLayout()
        first.addWidget(self.search, 1)
        first.addWidget(self.trackers_only)
        first.addWidget(QLabel(self.tr("View:")))
        first.addWidget(self.view)
        second = QHBoxLayout()
        for combo in (self.party, self.kind, self.category, self.browser):
            second.addWidget(combo)
        second.addWidget(self.drill, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(first)
        layout.addLayout(second)

    def set_browsers(self, browsers: list[str]) -> None:
        current = self.browser.currentData()
        self.browser.blockSignals(True)
        while self.browser.count() > 1:
            self.browser.removeItem(1)
        for name in browsers:
            self.browser.addItem(name, name)
        index = self.browser.findData(current)
        self.browser.setCurrentIndex(max(index, 0))
        self.browser.blockSignals(False)

    def set_extra(self, **extra: Any) -> None:
        """Conditions from elsewhere: ``profile``, ``organization``, ``site``."""
        self._extra.update(extra)
        drill = [f"{k}: {v}" for k, v in self._extra.items()
                 if v is not None and k in ("organization", "site")]
        self.drill.setText(("\u25b8 " + ", ".join(drill)) if drill else "")
        self._emit()

    def flush(self) -> None:
        """Apply a pending search now (Enter, or a test)."""
        if self._timer.isActive():
            self._timer.stop()
        self._emit()

    def current(self) -> EntryFilter:
        def chosen(combo: QComboBox) -> frozenset[str]:
            data = combo.currentData()
            return frozenset((data,)) if data else frozenset()

        return EntryFilter(
            text=self.search.text(),
            trackers_only=self.trackers_only.isChecked(),
            parties=chosen(self.party),
            kinds=chosen(self.kind),
            categories=chosen(self.category),
            browsers=chosen(self.browser),
            profile=self._extra.get("profile"),
            organization=self._extra.get("organization"),
            site=self._extra.get("site"),
            ids=self._extra.get("ids"),
            hide_unrelated=bool(self._extra.get("hide_unrelated")),
        )

    def _emit(self) -> None:
        self.changed.emit(self.current())
