"""Live watch, for the main window: the timer, the background polls and the timeline.

The watcher is ``core.watch``'s; the timeline is ``watchpanel``'s.  A mixin of
:class:`~privacy_inspector.gui.mainwindow.MainWindow`: ``self`` is the window.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QDockWidget

from privacy_inspector.core import watch as live
from privacy_inspector.core.records import Entry
from privacy_inspector.gui.models.entries import RecordRole
from privacy_inspector.gui.watchpanel import EVENT_WORDS, WatchPanel
from privacy_inspector.gui.workers import TaskControl, run_task

log = logging.getLogger(__name__)

# How often live watch looks at the profiles' files (cheap: a stat of each).
WATCH_INTERVAL_MS = 500


class WatchMixin:
    """Tools > Watch live."""

    def _make_watch(self) -> None:
        """The timeline in a dock (hidden until watching starts), and the poll timer."""
        self.watch_panel = WatchPanel()
        self.watch_dock = QDockWidget(self.tr("Live watch"), self)
        self.watch_dock.setObjectName("watch-dock")
        self.watch_dock.setWidget(self.watch_panel)
        self.watch_dock.hide()
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.watch_dock)
        self.watch_panel.entry_chosen.connect(self._show_watched)
        self._watcher: live.Watcher | None = None
        self._watch_timer = QTimer(self)
        self._watch_timer.setObjectName("watch-timer")
        self._watch_timer.setInterval(WATCH_INTERVAL_MS)
        self._watch_timer.timeout.connect(self._watch_tick)
        self._watch_busy = False
        self._marks: dict[str, str] = {}


    @property
    def watching(self) -> bool:
        return self._watcher is not None

    def set_watching(self, on: bool) -> None:
        """Follow the profiles: a cheap look at their files every half second, a read of
        only what changed, and each change in the timeline and the table."""
        if on == self.watching:
            return
        if self.watch_action.isChecked() != on:
            self.watch_action.setChecked(on)
        if not on:
            self._watch_timer.stop()
            self._watcher = None
            self.watch_panel.stop()
            self.status.setText(self.tr("Live watch stopped."))
            return
        watcher = self._watcher = live.Watcher(self.context.profiles,
                                               classifier=self.context.classifier,
                                               interval=WATCH_INTERVAL_MS / 1000)
        self._marks = {}
        self.watch_dock.show()
        self.watch_panel.start(live.notices(self.context.profiles))
        self._watch_busy = True

        def work(control: TaskControl) -> list[Entry]:
            watcher.baseline()
            return watcher.entries()

        def started(entries: list[Entry]) -> None:
            self._watch_busy = False
            if self._watcher is not watcher:
                return
            self._show_watched_entries(entries)
            self._watch_timer.start()
            self.status.setText(self.tr("Watching {0} profiles.").format(len(watcher.profiles)))

        run_task("watch", work, started, self._watch_failed, pool=self.context.pool)

    def _watch_tick(self) -> None:
        watcher = self._watcher
        if watcher is None or self._watch_busy:
            return
        self._watch_busy = True

        def work(control: TaskControl) -> tuple[list[live.Change], list[Entry]]:
            changes = watcher.poll()
            return changes, (watcher.entries() if changes else [])

        def done(result: tuple[list[live.Change], list[Entry]]) -> None:
            self._watch_busy = False
            changes, entries = result
            if not changes or self._watcher is not watcher:
                return
            for change in changes:
                if change.entry is not None and change.kind != live.REMOVED:
                    self._marks[change.entry.id] = (
                        f"{EVENT_WORDS.get(change.kind, change.kind)} {change.at[11:19]}")
            self.watch_panel.add(changes)
            self._show_watched_entries(entries)
            log.info("live watch: %d changes", len(changes))

        run_task("watch", work, done, self._watch_failed, pool=self.context.pool)

    def _show_watched_entries(self, entries: list[Entry]) -> None:
        if not self._setting("include_stale", True):
            entries = [e for e in entries if not e.stale]
        if self._last is not None:
            self._last.entries = entries
        self.entries.set_rows(entries)
        self.entries.set_marks(dict(self._marks))

    def _watch_failed(self, exc: BaseException) -> None:
        self._watch_busy = False
        log.error("live watch failed: %s", type(exc).__name__)
        self.set_watching(False)
        self.status.setText(self.tr("Live watch stopped: {0}").format(type(exc).__name__))

    def _show_watched(self, entry: Entry) -> None:
        self.detail.show_entry(entry)
        for row in range(self.proxy.rowCount()):
            shown = self.proxy.index(row, 0).data(RecordRole)
            if shown is not None and shown.id == entry.id:
                self.table.selectRow(row)
                break
