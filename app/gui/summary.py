"""The summary strip: how many entries and trackers, by company and by category.

The two small bar charts are painted here (no chart library needed); each bar
carries its label and its number, so nothing is told by colour alone, and the
same figures are in the widget's accessible description.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QRectF, QSize, Qt
from PySide6.QtGui import QPainter, QPalette
from PySide6.QtWidgets import QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from privacy_inspector.core.records import Entry
from privacy_inspector.gui.models.entries import category_label

TOP = 5


class BarChart(QWidget):
    """Horizontal bars: label, bar, number."""

    def __init__(self, title: str, parent: Any = None) -> None:
        super().__init__(parent)
        self._title = title
        self._bars: list[tuple[str, int]] = []
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
        self.setAccessibleName(title)

    def set_bars(self, bars: Sequence[tuple[str, int]]) -> None:
        self._bars = list(bars)
        described = "; ".join(f"{label}: {count}" for label, count in self._bars) or "none"
        self.setAccessibleDescription(f"{self._title}: {described}")
        self.setToolTip(f"{self._title}\n" + "\n".join(f"{label}: {count}" for label, count in self._bars))
        self.updateGeometry()
        self.update()

    def bars(self) -> list[tuple[str, int]]:
        return list(self._bars)

    def sizeHint(self) -> QSize:
        line = self.fontMetrics().height() + 4
        return QSize(320, line * (TOP + 1) + 4)

    def paintEvent(self, event: Any) -> None:
        painter = QPainter(self)
        palette = self.palette()
        metrics = self.fontMetrics()
        line = metrics.height() + 4
        painter.setPen(palette.color(QPalette.ColorRole.WindowText))
        title_font = painter.font()
        title_font.setBold(True)
        painter.setFont(title_font)
        painter.drawText(QRectF(0, 0, self.width(), line), Qt.AlignmentFlag.AlignLeft, self._title)
        painter.setFont(self.font())
        if not self._bars:
            painter.drawText(QRectF(0, line, self.width(), line), Qt.AlignmentFlag.AlignLeft, "none")
            return
        label_width = min(self.width() // 2, max(metrics.horizontalAdvance(b[0]) for b in self._bars) + 12)
        number_width = metrics.horizontalAdvance("000000") + 4
        bar_space = max(10, self.width() - label_width - number_width)
        biggest = max(count for _, count in self._bars) or 1
        for i, (label, count) in enumerate(self._bars):
            y = line * (i + 1)
            painter.setPen(palette.color(QPalette.ColorRole.WindowText))
            elided = metrics.elidedText(label, Qt.TextElideMode.ElideRight, label_width - 4)
            painter.drawText(QRectF(0, y, label_width, line),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, elided)
            width = bar_space * count / biggest
            painter.fillRect(QRectF(label_width, y + 3, width, line - 6),
                             palette.color(QPalette.ColorRole.Highlight))
            painter.drawText(QRectF(label_width + width + 4, y, number_width, line),
                             Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter, str(count))
        painter.end()


def tracker_bars(entries: Sequence[Entry]) -> tuple[list[tuple[str, int]], list[tuple[str, int]]]:
    """(trackers by company, trackers by category), the biggest first."""
    trackers = [e for e in entries if e.tracker]
    by_company = Counter(e.organization or "unknown company" for e in trackers)
    by_category = Counter(category_label(e.category) for e in trackers)
    return by_company.most_common(TOP), by_category.most_common(TOP)


class SummaryStrip(QWidget):
    """Totals on the left, the two charts beside them."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.totals = QLabel()
        self.totals.setAccessibleName(self.tr("Totals"))
        self.totals.setTextFormat(Qt.TextFormat.PlainText)
        self.by_company = BarChart(self.tr("Trackers by company"))
        self.by_category = BarChart(self.tr("Trackers by category"))
        column = QVBoxLayout()
        column.addWidget(self.totals)
        column.addStretch(1)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(column)
        layout.addWidget(self.by_company, 1)
        layout.addWidget(self.by_category, 1)
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Maximum)
        self.set_entries([])

    def set_entries(self, entries: Sequence[Entry]) -> None:
        trackers = [e for e in entries if e.tracker]
        companies = len({e.organization for e in trackers if e.organization})
        sites = len({e.site for e in entries} - {None})
        self.totals.setText(self.tr("{0} entries\n{1} trackers from {2} {3}\n{4} sites").format(
            f"{len(entries):,}", f"{len(trackers):,}", companies,
            self.tr("company") if companies == 1 else self.tr("companies"), f"{sites:,}"))
        company_bars, category_bars = tracker_bars(trackers)
        self.by_company.set_bars(company_bars)
        self.by_category.set_bars(category_bars)
