"""The main window: it composes the panes and the actions, and nothing more.

The work happens elsewhere: scans and reveals in ``workers`` tasks over the
engine, text in ``core.explain``, tables in ``models``, plans in ``actions``
(deleting, blocking), their dialogs in ``deletedialog`` and ``blockdialog``.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from PySide6.QtCore import QByteArray, QModelIndex, QSettings, Qt, QTimer
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QDockWidget,
    QFileDialog,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from privacy_inspector import __version__, bundled
from privacy_inspector.actions import block as blocking
from privacy_inspector.actions.delete import Outcome, Selection, make_plan
from privacy_inspector.actions.delete import apply as apply_plan
from privacy_inspector.actions.delete import undo as undo_journal
from privacy_inspector.actions.journal import RETENTION_DAYS, newest_to_undo, purge
from privacy_inspector.actions.keep import KeepList, KeepListError, label_for
from privacy_inspector.core import demo, engine, snapshots, walkthrough
from privacy_inspector.core import watch as live
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.records import Entry, Profile, ScanError
from privacy_inspector.core.settings import Settings
from privacy_inspector.gui.blockdialog import RULE_WORDS, BlockDialog, RulesDialog, Target
from privacy_inspector.gui.compare import NOW, CompareDialog, SnapshotDialog
from privacy_inspector.gui.deletedialog import ASK_CLOSE, WAIT, DeleteDialog
from privacy_inspector.gui.detail import DetailPane
from privacy_inspector.gui.filterbar import FilterBar
from privacy_inspector.gui.keepdialog import KeepDialog
from privacy_inspector.gui.logview import LogDialog, MemoryLogHandler
from privacy_inspector.gui.models.entries import EntryProxyModel, EntryTableModel, RecordRole
from privacy_inspector.gui.models.groups import BY_ORGANIZATION, BY_SITE, GroupTableModel
from privacy_inspector.gui.presenter import PresenterPanel
from privacy_inspector.gui.sidepanel import SidePanel
from privacy_inspector.gui.summary import SummaryStrip
from privacy_inspector.gui.watchpanel import EVENT_WORDS, WatchPanel
from privacy_inspector.gui.workers import Pool, Task, TaskControl, run_task
from privacy_inspector.platform import locks

log = logging.getLogger(__name__)

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0)
# How often live watch looks at the profiles' files (cheap: a stat of each).
WATCH_INTERVAL_MS = 500


@dataclass
class ScanOutcome:
    """What a scan task hands back to the GUI thread (plain data)."""

    profiles: list[Profile]
    entries: list[Entry]
    errors: list[ScanError]
    running: dict[str, bool]
    demo: bool
    # The cookie rules in force in the browsers' settings, marked app/user.
    rules: list[blocking.RuleRow] = field(default_factory=list)


@dataclass
class Context:
    """What the window works with; passed in, never looked up globally."""

    data_dir: Path
    classifier: Classifier
    profiles: list[Profile]
    demo: bool = False
    # Said once in the status bar when the window opens (e.g. "no browser found").
    notice: str | None = None
    pool: Pool | None = None
    log_handler: MemoryLogHandler | None = None
    open_preferences: Callable[[QWidget], None] | None = None
    # The user's preferences (None when they could not be read: defaults apply).
    settings: Settings | None = None
    # Whether a browser runs on a profile (tests pass their own).
    is_running: Callable[[Profile], bool] = locks.is_running
    # Politely asks the browser on a profile to quit (SIGTERM where the OS allows).
    request_close: Callable[[Profile], bool] = locks.request_close
    # Shows a dialog and returns its result (tests answer for the user).
    confirm: Callable[[QDialog], int] = QDialog.exec
    extra: dict[str, Any] = field(default_factory=dict)


class MainWindow(QMainWindow):
    """Side panel, summary strip, filter bar, inventory, detail pane."""

    def __init__(self, context: Context, parent: Any = None) -> None:
        super().__init__(parent)
        self.context = context
        self.setWindowTitle(self.tr("Privacy Inspector"))
        self.setObjectName("main-window")
        self._scan_task: Task | None = None
        self._reveal_task: Task | None = None
        self._zoom = ZOOM_STEPS.index(1.0)
        self._base_point_size = self.font().pointSizeF()
        self._last: ScanOutcome | None = None
        # Run once after the next scan (a deletion waiting for a browser to close).
        self._after_scan: Callable[[], None] | None = None
        self._deleted_note = ""
        self._wait_timer: QTimer | None = None

        self.entries = EntryTableModel(self)
        self.proxy = EntryProxyModel(self)
        self.proxy.setSourceModel(self.entries)
        self.groups = GroupTableModel(self)

        self.side = SidePanel()
        self.summary = SummaryStrip()
        self.filters = FilterBar()
        self.table = self._make_table()
        self.group_table = self._make_group_table()
        self.detail = DetailPane(context.classifier)
        self.detail.setMinimumWidth(380)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.group_table)

        centre = QWidget()
        column = QVBoxLayout(centre)
        column.setContentsMargins(0, 0, 0, 0)
        column.addWidget(self.filters)
        column.addWidget(self.stack, 1)
        self.inner = QSplitter(Qt.Orientation.Horizontal)
        self.inner.addWidget(centre)
        self.inner.addWidget(self.detail)
        self.presenter = PresenterPanel()
        self.presenter.setMinimumWidth(420)
        self.presenter.hide()
        self.inner.addWidget(self.presenter)
        self._presenting: dict[str, Any] | None = None  # what presenter mode changed, to undo
        self.inner.setStretchFactor(0, 3)
        self.inner.setStretchFactor(1, 2)
        self.inner.setSizes([760, 420])
        right = QWidget()
        right_column = QVBoxLayout(right)
        right_column.setContentsMargins(0, 0, 0, 0)
        right_column.addWidget(self.summary)
        right_column.addWidget(self.inner, 1)
        self.outer = QSplitter(Qt.Orientation.Horizontal)
        self.outer.addWidget(self.side)
        self.outer.addWidget(right)
        self.outer.setStretchFactor(1, 4)
        self.outer.setSizes([250, 1110])
        self.setCentralWidget(self.outer)

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

        self._make_status_bar()
        self._make_actions()

        self.filters.changed.connect(self._filter_changed)
        self.filters.view_changed.connect(self._view_changed)
        self.side.profile_chosen.connect(lambda key: self.filters.set_extra(profile=key))
        self.side.demo_requested.connect(self.scan_demo)
        self.detail.reveal_requested.connect(self.reveal)
        self.presenter.step_shown.connect(lambda ids: self.filters.set_extra(ids=ids))
        self.presenter.focus_chosen.connect(self._present_site)
        self.detail.rule_text = self._rule_text
        self.proxy.modelReset.connect(self._visible_changed)
        self.resize(1360, 820)
        self._restore_geometry()

    # -- construction -----------------------------------------------------------

    def _make_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.proxy)
        table.setAccessibleName(self.tr("Cookies and storage entries"))
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        table.setSortingEnabled(True)
        table.setAlternatingRowColors(True)
        table.setWordWrap(False)
        table.verticalHeader().hide()
        header = table.verticalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header.setDefaultSectionSize(table.fontMetrics().height() + 8)
        table.horizontalHeader().setStretchLastSection(True)
        table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for column, width in enumerate((100, 140, 170, 170, 130, 120, 90, 70, 150, 70, 120, 80)):
            table.setColumnWidth(column, width)
        table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)
        table.selectionModel().currentRowChanged.connect(self._current_row_changed)
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        table.customContextMenuRequested.connect(self._context_menu)
        return table

    def _make_group_table(self) -> QTableView:
        table = QTableView()
        table.setModel(self.groups)
        table.setAccessibleName(self.tr("Entries grouped"))
        table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        table.verticalHeader().hide()
        table.horizontalHeader().setStretchLastSection(True)
        table.setColumnWidth(0, 220)
        table.setColumnWidth(3, 320)
        table.activated.connect(self._drill_down)
        table.setToolTip(self.tr("Press Enter or double-click to see the group's entries"))
        return table

    def _make_status_bar(self) -> None:
        bar = self.statusBar()
        self.status = QLabel()
        self.status.setAccessibleName(self.tr("Status"))
        self.progress = QProgressBar()
        self.progress.setAccessibleName(self.tr("Scan progress"))
        self.progress.setMaximumWidth(220)
        self.progress.hide()
        self.cancel_button = QPushButton(self.tr("Cancel"))
        self.cancel_button.setAccessibleName(self.tr("Cancel the scan"))
        self.cancel_button.clicked.connect(self.cancel_scan)
        self.cancel_button.hide()
        bar.addWidget(self.status, 1)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cancel_button)

    def _action(self, text: str, slot: Callable[[], Any] | None, shortcut: Any = None,
                tip: str | None = None, enabled: bool = True) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        action.setEnabled(enabled)
        return action

    def _make_actions(self) -> None:
        tr = self.tr
        self.rescan_action = self._action(tr("&Rescan"), self.rescan, QKeySequence.StandardKey.Refresh,
                                          tr("Read every profile again"))
        self.demo_action = self._action(tr("Show &demo data"), self.scan_demo, None,
                                        tr("Scan the demo profiles shipped with the app"))
        self.preferences_action = self._action(tr("&Preferences\u2026"), self.open_preferences,
                                               QKeySequence.StandardKey.Preferences)
        self.quit_action = self._action(tr("&Quit"), self.close, QKeySequence.StandardKey.Quit)
        self.find_action = self._action(tr("&Find"), self._focus_search, QKeySequence.StandardKey.Find)
        self.reveal_action = self._action(tr("Re&veal value"), self._reveal_current, "Ctrl+R",
                                          tr("Read and decrypt the selected entry's value"))
        self.trackers_action = self._action(tr("&Trackers only"), None, "Ctrl+T")
        self.trackers_action.setCheckable(True)
        self.trackers_action.toggled.connect(self.filters.trackers_only.setChecked)
        self.filters.trackers_only.toggled.connect(self.trackers_action.setChecked)
        self.zoom_in_action = self._action(tr("Zoom &in"), lambda: self.zoom(+1), QKeySequence.StandardKey.ZoomIn)
        self.zoom_out_action = self._action(tr("Zoom &out"), lambda: self.zoom(-1), QKeySequence.StandardKey.ZoomOut)
        self.zoom_reset_action = self._action(tr("&Actual size"), lambda: self.zoom(0), "Ctrl+0")
        self.view_actions = []
        for key, label, shortcut in (("entries", tr("&Entries"), "Ctrl+1"),
                                     (BY_ORGANIZATION, tr("By &organisation"), "Ctrl+2"),
                                     (BY_SITE, tr("By &site"), "Ctrl+3")):
            action = self._action(label, lambda k=key: self._choose_view(k), shortcut)
            self.view_actions.append(action)
        self.delete_action = self._action(tr("&Delete\u2026"), self.delete_selected,
                                          QKeySequence.StandardKey.Delete,
                                          tr("Delete the selected entries (asks first)"))
        self.clear_trackers_action = self._action(tr("&Clear trackers\u2026"), self.clear_trackers,
                                                  "Ctrl+Shift+Del",
                                                  tr("Delete every tracker the keep list does not "
                                                     "protect (asks first)"))
        self.undo_action = self._action(tr("&Undo deletion"), self.undo_last, QKeySequence.StandardKey.Undo,
                                        tr("Put back what the last deletion removed"))
        self.keep_site_action = self._action(tr("Always keep this &site"), self.keep_site)
        self.keep_entry_action = self._action(tr("Always keep this &entry"), self.keep_entry)
        self.keep_list_action = self._action(tr("&Keep list\u2026"), self.show_keep_list)
        self.block_action = self._action(tr("&Block site\u2026"), lambda: self.block_selected(),
                                         "Ctrl+B",
                                         tr("Stop the selected entry's site or organisation from "
                                            "storing anything, in the browser's own settings"))
        self.rules_action = self._action(tr("Cookie &rules\u2026"), self.show_rules, None,
                                         tr("The cookie rules in the browsers' settings; "
                                            "unblock the app's"))
        self.presenter_action = self._action(
            tr("&Presenter mode"), None, "F5",
            tr("For showing a customer: large type, high contrast, values always hidden, one "
               "site in focus, explained step by step"))
        self.presenter_action.setCheckable(True)
        self.presenter_action.toggled.connect(self.set_presenting)
        self.snapshot_action = self._action(
            tr("Take &snapshot\u2026"), self.take_snapshot, "Ctrl+Shift+S",
            tr("Record what is stored now (never the values), to compare with later"))
        self.compare_action = self._action(tr("&Compare snapshots\u2026"), self.show_compare,
                                           "Ctrl+Shift+C",
                                           tr("What was added, removed or changed"))
        self.watch_action = self._action(
            tr("&Watch live"), None, "Ctrl+Shift+W",
            tr("Show entries as they appear, change and vanish while you browse"))
        self.watch_action.setCheckable(True)
        self.watch_action.toggled.connect(self.set_watching)
        self.export_action = self._action(
            tr("&Export report\u2026"), self.export_report, "Ctrl+E",
            tr("The inventory with explanations as HTML, PDF, CSV, JSON or cookies.txt "
               "(values stay hidden)"))
        self.log_action = self._action(tr("Diagnostic &log"), self.show_log)
        self.about_action = self._action(tr("&About Privacy Inspector"), self.show_about)

        menus = self.menuBar()
        file_menu = menus.addMenu(tr("&File"))
        for action in (self.rescan_action, self.demo_action, self.export_action,
                       self.preferences_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)
        edit_menu = menus.addMenu(tr("&Edit"))
        for action in (self.undo_action, self.find_action, self.reveal_action):
            edit_menu.addAction(action)
        view_menu = menus.addMenu(tr("&View"))
        for action in (*self.view_actions, self.trackers_action, self.presenter_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action):
            view_menu.addAction(action)
        actions_menu = menus.addMenu(tr("&Actions"))
        for action in (self.delete_action, self.clear_trackers_action, self.undo_action,
                       self.block_action, self.rules_action):
            actions_menu.addAction(action)
        actions_menu.addSeparator()
        for action in (self.keep_site_action, self.keep_entry_action, self.keep_list_action):
            actions_menu.addAction(action)
        tools_menu = menus.addMenu(tr("&Tools"))
        for action in (self.watch_action, self.snapshot_action, self.compare_action):
            tools_menu.addAction(action)
        help_menu = menus.addMenu(tr("&Help"))
        help_menu.addAction(self.log_action)
        help_menu.addAction(self.about_action)

        toolbar = self.addToolBar(tr("Main"))
        toolbar.setObjectName("main-toolbar")
        toolbar.setAccessibleName(tr("Main toolbar"))
        toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        for action in (self.rescan_action, self.reveal_action, self.trackers_action,
                       self.presenter_action):
            toolbar.addAction(action)
        toolbar.addSeparator()
        for action in (self.clear_trackers_action, self.delete_action, self.undo_action,
                       self.block_action):
            toolbar.addAction(action)

    # -- scanning -------------------------------------------------------------------

    def start(self) -> None:
        """The first scan, once the window is up."""
        if self.context.notice:
            self.status.setText(self.context.notice)
        self.scan(self.context.profiles, demo=self.context.demo)

    def rescan(self) -> None:
        self.scan(self.context.profiles, demo=self.context.demo)

    def scan_demo(self) -> None:
        if self.context.demo and self._last is not None:
            return
        try:
            profiles = demo.demo_profiles(self.context.data_dir)
        except OSError as exc:
            QMessageBox.warning(self, self.tr("Demo data"),
                                self.tr("The demo profiles could not be copied: {0}").format(exc))
            return
        self.context.profiles = profiles
        self.context.demo = True
        self.scan(profiles, demo=True)

    def scan(self, profiles: list[Profile], *, demo: bool) -> None:
        if self._scan_task is not None and not self._scan_task.done:
            self._scan_task.cancel()
        classifier = self.context.classifier
        data_dir = self.context.data_dir

        def work(control: TaskControl) -> ScanOutcome:
            result = engine.scan(profiles, classifier=classifier, reporter=control,
                                 should_stop=control.cancelled)
            running = {str(p.path): locks.is_running(p) for p in profiles}
            try:
                rules, problems = blocking.rules_in_force(profiles, data_dir)
            except blocking.BlockError as exc:
                rules, problems = [], [("", blocking.RECORD, str(exc))]
            errors = list(result.errors) + [ScanError(p, s, m) for p, s, m in problems]
            return ScanOutcome(list(profiles), result.entries, errors, running, demo, rules)

        self.progress.setRange(0, max(len(profiles), 1))
        self.progress.setValue(0)
        self.progress.show()
        self.cancel_button.show()
        self.rescan_action.setEnabled(False)
        self.status.setText(self.tr("Scanning {0} profiles\u2026").format(len(profiles)))
        log.info("scan of %d profiles started", len(profiles))
        self._scan_task = run_task("scan", work, self._scan_done, self._scan_failed,
                                   on_progress=self._scan_progress, pool=self.context.pool)

    def cancel_scan(self) -> None:
        if self._scan_task is not None and not self._scan_task.done:
            self._scan_task.cancel()
            self.status.setText(self.tr("Cancelling\u2026"))

    def _scan_progress(self, done: int, total: int, label: str) -> None:
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        if label != "done":
            self.status.setText(self.tr("Reading {0}\u2026").format(label))

    def _scan_finished_ui(self) -> None:
        self.progress.hide()
        self.cancel_button.hide()
        self.rescan_action.setEnabled(True)

    def _scan_failed(self, exc: BaseException) -> None:
        self._scan_finished_ui()
        if isinstance(exc, engine.ScanCancelled):
            self.status.setText(self.tr("Scan cancelled; showing the previous results."))
            log.info("scan cancelled")
            return
        log.error("scan failed: %s", type(exc).__name__)
        self.status.setText(self.tr("The scan failed ({0}); see Help \u25b8 Diagnostic log.")
                            .format(type(exc).__name__))

    def _scan_done(self, outcome: ScanOutcome) -> None:
        self._scan_finished_ui()
        if not self._setting("include_stale", True):
            outcome.entries = [e for e in outcome.entries if not e.stale]
        self._last = outcome
        self.entries.set_rows(outcome.entries)
        by_profile: dict[str, list[Any]] = {}
        for row in outcome.rules:
            by_profile.setdefault(str(row.profile.path), []).append(row.rule)
        self.entries.set_rules(by_profile)
        if self._presenting is not None:
            self._present_site(self._presenting["focus"])
        self.filters.set_browsers(sorted({p.browser for p in outcome.profiles}))
        self.side.set_profiles(outcome.profiles, outcome.running, outcome.entries, outcome.errors,
                               demo=outcome.demo)
        trackers = sum(1 for e in outcome.entries if e.tracker)
        text = self.tr("{0} entries, {1} trackers in {2} profiles").format(
            f"{len(outcome.entries):,}", f"{trackers:,}", len(outcome.profiles))
        if outcome.demo:
            text += self.tr(" \u2014 demo data")
        if outcome.errors:
            text += self.tr("; {0} problems (hover the profiles for details)").format(len(outcome.errors))
            for error in outcome.errors:
                log.info("scan problem in %s (%s): %s", error.profile, error.store, error.message)
        if self.context.notice:
            text = f"{self.context.notice} {text}"
        if self._deleted_note:
            text = f"{self._deleted_note} {text}"
            self._deleted_note = ""
        self.status.setText(text)
        log.info("scan done: %d entries, %d errors", len(outcome.entries), len(outcome.errors))
        after, self._after_scan = self._after_scan, None
        if after is not None:
            after()

    # -- filtering, grouping, selection ------------------------------------------------

    def _filter_changed(self, entry_filter: Any) -> None:
        self.proxy.set_filter(entry_filter)

    def _visible_changed(self) -> None:
        visible = self.proxy.visible_entries()
        self.summary.set_entries(visible)
        if self.stack.currentWidget() is self.group_table:
            self.groups.set_rows(visible, self.groups.by)
        current = self.detail.entry
        if current is not None and not any(e is current for e in visible):
            self.detail.show_entry(None)

    def _choose_view(self, key: str) -> None:
        index = self.filters.view.findData(key)
        self.filters.view.setCurrentIndex(index)

    def _view_changed(self, key: str) -> None:
        if key in (BY_ORGANIZATION, BY_SITE):
            self.groups.set_rows(self.proxy.visible_entries(), key)
            self.stack.setCurrentWidget(self.group_table)
        else:
            self.stack.setCurrentWidget(self.table)

    def _drill_down(self, index: QModelIndex) -> None:
        group = index.data(RecordRole)
        if group is None:
            return
        if self.groups.by == BY_ORGANIZATION:
            self.filters.set_extra(organization=group.key, site=None)
        else:
            self.filters.set_extra(site=group.key, organization=None)
        self._choose_view("entries")

    def clear_drill_down(self) -> None:
        self.filters.set_extra(organization=None, site=None)

    def _current_row_changed(self, current: QModelIndex, previous: QModelIndex) -> None:
        entry = current.data(RecordRole) if current.isValid() else None
        self.detail.show_entry(entry)

    def selected_entries(self) -> list[Entry]:
        rows = self.table.selectionModel().selectedRows()
        return [index.data(RecordRole) for index in rows]

    def _focus_search(self) -> None:
        self.filters.search.setFocus()
        self.filters.search.selectAll()

    def _context_menu(self, position: Any) -> None:
        menu = QMenu(self)
        menu.addAction(self.reveal_action)
        entry = self.detail.entry
        if entry is not None and entry.organization:
            menu.addAction(self.tr("Show everything of {0}").format(entry.organization),
                           lambda: self.filters.set_extra(organization=entry.organization, site=None))
        if entry is not None and entry.site:
            menu.addAction(self.tr("Show everything of {0}").format(entry.site),
                           lambda: self.filters.set_extra(site=entry.site, organization=None))
        menu.addAction(self.tr("Show all entries"), self.clear_drill_down)
        menu.addSeparator()
        for action in (self.delete_action, self.keep_site_action, self.keep_entry_action,
                       self.block_action):
            menu.addAction(action)
        menu.popup(self.table.viewport().mapToGlobal(position))

    def _setting(self, key: str, default: Any) -> Any:
        return self.context.settings.get(key) if self.context.settings is not None else default

    # -- deleting -------------------------------------------------------------------

    def delete_selected(self) -> None:
        entries = self.selected_entries() or ([self.detail.entry] if self.detail.entry else [])
        if entries:
            self.start_deletion(Selection(ids=frozenset(e.id for e in entries)),
                                f"delete {len(entries)} entries", self.tr("Delete entries"))

    def clear_trackers(self) -> None:
        self.start_deletion(Selection(trackers=True), "clear --trackers", self.tr("Clear trackers"))

    def _keep_list(self) -> KeepList | None:
        try:
            return KeepList.load(self.context.data_dir)
        except KeepListError as exc:
            QMessageBox.warning(self, self.tr("Keep list"), self.tr(
                "The keep list cannot be read, so nothing is deleted (it is never taken as "
                "empty):\n{0}").format(exc))
            return None

    def start_deletion(self, selection: Selection, command: str, title: str) -> None:
        """Plan, show the plan, and on confirmation apply it in the background."""
        if self._last is None:
            return
        keep = self._keep_list()
        if keep is None:
            return
        plan = make_plan(self._last.profiles, self._last.entries, selection, keep,
                         self.context.is_running)
        if not plan.entries and not plan.refused:
            reasons = sorted({k.reason for k in plan.kept})
            QMessageBox.information(self, title, "\n".join(
                [self.tr("Nothing to delete.")] + reasons))
            return
        dialog = DeleteDialog(plan, title, self, can_ask=sys.platform != "win32")
        result = self.context.confirm(dialog)
        if result == ASK_CLOSE:
            refused = {r.profile for r in plan.refused}
            for profile in plan.profiles:
                if str(profile.path) in refused and not self.context.request_close(profile):
                    log.info("could not ask %s to close", profile.browser)
            result = WAIT
        if result == WAIT:
            self._wait_for_close(plan.profiles,
                                 lambda: self.start_deletion(selection, command, title))
            return
        if result != QDialog.DialogCode.Accepted:
            return
        data_dir, running = self.context.data_dir, self.context.is_running

        days = float(self._setting("journal_days", RETENTION_DAYS))

        def work(control: TaskControl) -> Outcome:
            purge(data_dir, days)  # journals hold deleted values: keep them no longer than asked
            return apply_plan(plan, data_dir, command, running=running)

        self.status.setText(self.tr("Deleting {0} entries\u2026").format(len(plan.entries)))
        run_task("delete", work, self._deleted, self._delete_failed, pool=self.context.pool)

    def _deleted(self, outcome: Outcome) -> None:
        if outcome.refused:
            QMessageBox.warning(self, self.tr("Nothing was deleted"),
                                "\n".join(r.reason for r in outcome.refused))
            return
        text = self.tr("Deleted {0} entries (Ctrl+Z undoes it).").format(len(outcome.deleted))
        if outcome.errors:
            text += " " + self.tr("{0} stores were left untouched; see Help \u25b8 Diagnostic log.") \
                .format(len(outcome.errors))
            for profile, store, message in outcome.errors:
                log.error("deletion in %s (%s): %s", profile, store, message)
        log.info("deleted %d entries, journal %s", len(outcome.deleted), outcome.journal_id)
        self._deleted_note = text
        self.rescan()

    def _delete_failed(self, exc: BaseException) -> None:
        log.error("deletion failed: %s", type(exc).__name__)
        QMessageBox.warning(self, self.tr("Delete"), self.tr("The deletion failed ({0}).")
                            .format(type(exc).__name__))

    def _wait_for_close(self, profiles: list[Profile], then: Callable[[], None]) -> None:
        """Poll until no browser runs on the profiles, then scan and plan again."""
        names = ", ".join(sorted({p.browser for p in profiles}))
        self.status.setText(self.tr("Waiting for {0} to close\u2026").format(names))
        timer = self._wait_timer = QTimer(self)
        timer.setObjectName("wait-for-browser")
        timer.setInterval(1000)

        def check() -> None:
            if any(self.context.is_running(p) for p in profiles):
                return
            timer.stop()
            self._wait_timer = None
            self._after_scan = then
            self.rescan()

        timer.timeout.connect(check)
        timer.start()
        check()

    def undo_last(self) -> None:
        journal = newest_to_undo(self.context.data_dir)
        if journal is None:
            QMessageBox.information(self, self.tr("Undo"), self.tr("There is no deletion to undo."))
            return
        question = QMessageBox(QMessageBox.Icon.Question, self.tr("Undo deletion"), self.tr(
            "Put back the {0} entries deleted on {1} ({2})?").format(
                len(journal.deleted), journal.created, journal.command),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, self)
        if self.context.confirm(question) != QMessageBox.StandardButton.Yes:
            return
        data_dir, running = self.context.data_dir, self.context.is_running

        def profile_of(record: Any) -> Profile:
            return Profile(Path(record.profile), record.browser, record.engine, record.profile_name)

        def work(control: TaskControl) -> Outcome:
            return undo_journal(data_dir, profile_of, journal.id, running=running)

        run_task("undo", work, self._undone, self._delete_failed, pool=self.context.pool)

    def _undone(self, outcome: Outcome) -> None:
        if outcome.refused:
            QMessageBox.warning(self, self.tr("Nothing was restored"),
                                "\n".join(r.reason for r in outcome.refused))
            return
        self._deleted_note = self.tr("Restored {0} entries.").format(len(outcome.restored))
        if outcome.skipped:
            self._deleted_note += " " + self.tr("{0} were set again since and left as they are.") \
                .format(len(outcome.skipped))
        self.rescan()

    def keep_site(self) -> None:
        entry = self.detail.entry
        keep = self._keep_list()
        if entry is None or keep is None or not entry.site:
            return
        keep.with_site(entry.site).save(self.context.data_dir)
        self.status.setText(self.tr("{0} is on the keep list: never deleted.").format(entry.site))

    def keep_entry(self) -> None:
        entry = self.detail.entry
        keep = self._keep_list()
        if entry is None or keep is None:
            return
        keep.with_entry(entry.id, label_for(entry)).save(self.context.data_dir)
        self.status.setText(self.tr("{0} is on the keep list: never deleted.").format(entry.name))

    def show_keep_list(self) -> None:
        try:
            dialog = KeepDialog(self.context.data_dir, self._last.entries if self._last else [], self)
        except KeepListError as exc:
            QMessageBox.warning(self, self.tr("Keep list"), str(exc))
            return
        self.context.confirm(dialog)

    # -- blocking -------------------------------------------------------------------

    def _rule_text(self, entry: Entry) -> str | None:
        rule = self.entries.rule_of(entry)
        if rule is None:
            return None
        mine = any(r.source == "app" and r.rule == rule and str(r.profile.path) == entry.profile
                   for r in (self._last.rules if self._last else []))
        who = self.tr("written by this app") if mine else self.tr("made in the browser")
        return self.tr("{0} in {1} for {2} and its subdomains ({3}).").format(
            RULE_WORDS.get(rule.mode, rule.mode).capitalize(), entry.browser, rule.domain, who)

    def _block_targets(self, entry: Entry) -> list[Target]:
        signed_in: list[str] = []
        kept: tuple[str, ...] = ()
        try:
            kept = KeepList.load(self.context.data_dir).sites
        except KeepListError:
            pass
        if self._last is not None:
            from privacy_inspector.actions.keep import suggest_signed_in

            signed_in = suggest_signed_in(self._last.entries)
        targets = []
        if entry.site:
            try:
                site = blocking.check_domain(entry.site)
            except blocking.BlockError:
                site = None
            if site:
                targets.append(Target(self.tr("the site {0}").format(site), (site,),
                                      tuple(blocking.sign_in_domains([site], signed_in=signed_in,
                                                                     kept=kept))))
        if entry.organization:
            try:
                domains, left_out = blocking.domains_of_organization(entry.organization)
            except blocking.BlockError:
                domains, left_out = [], []
            if domains:
                targets.append(Target(
                    self.tr("the organisation {0} ({1} domains)").format(entry.organization,
                                                                         len(domains)),
                    tuple(domains),
                    tuple(blocking.sign_in_domains(domains, signed_in=signed_in, kept=kept)),
                    tuple(left_out)))
        return targets

    def block_selected(self, entry: Entry | None = None) -> None:
        """Block the selected entry's site or organisation (``entry`` when the
        dialog comes back after waiting for a browser to close)."""
        entry = entry or self.detail.entry
        if entry is None or self._last is None:
            return
        targets = self._block_targets(entry)
        if not targets:
            QMessageBox.information(self, self.tr("Block"), self.tr(
                "{0} has no domain a cookie rule can name.").format(entry.host))
            return
        profiles = [p for p in self._last.profiles if blocking.supports(p)]
        data_dir, running = self.context.data_dir, self.context.is_running

        def planner(domains: Any, mode: str) -> blocking.RulePlan:
            return blocking.plan_block(profiles, list(domains), mode, data_dir, running=running)

        try:
            dialog = BlockDialog(targets, planner, self, can_ask=sys.platform != "win32")
        except blocking.BlockError as exc:
            QMessageBox.warning(self, self.tr("Block"), str(exc))
            return
        result = self.context.confirm(dialog)
        plan = dialog.plan
        if result in (WAIT, ASK_CLOSE) and plan is not None:
            refused = {r.profile for r in plan.refused}
            waiting = [p for p in profiles if str(p.path) in refused]
            if result == ASK_CLOSE:
                for profile in waiting:
                    if not self.context.request_close(profile):
                        log.info("could not ask %s to close", profile.browser)
            self._wait_for_close(waiting, lambda: self.block_selected(entry))
            return
        if result != QDialog.DialogCode.Accepted or plan is None or not plan.changes:
            return
        self._apply_rules(plan)

    def _apply_rules(self, plan: blocking.RulePlan) -> None:
        data_dir, running = self.context.data_dir, self.context.is_running

        def work(control: TaskControl) -> blocking.Outcome:
            return blocking.apply(plan, data_dir, running=running)

        run_task("block", work, self._rules_written, self._rules_failed, pool=self.context.pool)

    def _rules_written(self, outcome: blocking.Outcome) -> None:
        if outcome.refused:
            QMessageBox.warning(self, self.tr("Nothing was written"),
                                "\n".join(r.reason for r in outcome.refused))
            return
        text = self.tr("{0} cookie rules written in the browsers' settings.").format(
            len(outcome.rules))
        if outcome.errors:
            text += " " + self.tr("{0} profiles could not be changed; see Help \u25b8 "
                                  "Diagnostic log.").format(len(outcome.errors))
            for profile, store, message in outcome.errors:
                log.error("rule in %s (%s): %s", profile, store, message)
        log.info("wrote %d cookie rules", len(outcome.rules))
        self._deleted_note = text
        self.rescan()

    def _rules_failed(self, exc: BaseException) -> None:
        log.error("writing cookie rules failed: %s", type(exc).__name__)
        QMessageBox.warning(self, self.tr("Block"), self.tr("Writing the rules failed ({0}).")
                            .format(type(exc).__name__))

    def show_rules(self) -> None:
        profiles = [p for p in self.context.profiles if blocking.supports(p)]
        data_dir, running = self.context.data_dir, self.context.is_running

        def load() -> tuple[list[blocking.RuleRow], list[str]]:
            try:
                rows, errors = blocking.rules_in_force(profiles, data_dir)
            except blocking.BlockError as exc:
                return [], [str(exc)]
            return rows, [f"{p} ({s}): {m}" for p, s, m in errors]

        def unblock(rows: list[blocking.RuleRow]) -> None:
            groups: dict[tuple[str, int | None], tuple[Profile, set[str]]] = {}
            for row in rows:
                key = (str(row.profile.path), blocking.port_of(row.rule))
                groups.setdefault(key, (row.profile, set()))[1].add(row.rule.domain)
            written = 0
            for (_, port), (profile, domains) in groups.items():
                plan = blocking.plan_unblock([profile], sorted(domains), data_dir, port=port,
                                             running=running)
                if plan.refused:
                    QMessageBox.warning(dialog, self.tr("Nothing was changed"),
                                        "\n".join(r.reason for r in plan.refused))
                    continue
                outcome = blocking.apply(plan, data_dir, running=running)
                written += len(outcome.rules)
                for refusal in outcome.refused:
                    QMessageBox.warning(dialog, self.tr("Nothing was changed"), refusal.reason)
                for _, store, message in outcome.errors:
                    log.error("unblock (%s): %s", store, message)
            self._deleted_note = self.tr("{0} cookie rules removed.").format(written)
            self.rescan()

        dialog = RulesDialog(load, unblock, self)
        self.context.confirm(dialog)

    # -- reveal ---------------------------------------------------------------------

    def _reveal_current(self) -> None:
        if self.detail.entry is not None:
            self.reveal(self.detail.entry)

    def _profile_of(self, entry: Entry) -> Profile | None:
        for profile in self.context.profiles:
            if str(profile.path) == entry.profile:
                return profile
        return None

    def reveal(self, entry: Entry) -> None:
        if self._presenting is not None:
            self.status.setText(self.tr("Values stay hidden in presenter mode."))
            return
        if self._setting("confirm_reveal", False):
            question = QMessageBox(QMessageBox.Icon.Question, self.tr("Reveal value"),
                                   self.tr("Show the value of {0} in clear?").format(entry.name),
                                   QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                                   self)
            if self.context.confirm(question) != QMessageBox.StandardButton.Yes:
                return
        profile = self._profile_of(entry)
        if profile is None:
            self.detail.show_value(None, self.tr("its profile is no longer listed"))
            return
        self.detail.show_revealing()

        def work(control: TaskControl) -> tuple[Entry, Entry | None]:
            return entry, engine.reveal(profile, entry)

        def done(result: tuple[Entry, Entry | None]) -> None:
            asked, found = result
            if self.detail.entry is not asked:
                return  # the user moved on
            self.detail.show_value(found, None if found else self.tr("it is no longer in the profile"))

        def failed(exc: BaseException) -> None:
            self.detail.show_value(None, self.tr("reading it failed ({0})").format(type(exc).__name__))

        self._reveal_task = run_task("reveal", work, done, failed, pool=self.context.pool)

    # -- live watch ---------------------------------------------------------------------

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

    # -- reports ------------------------------------------------------------------------

    # Asks where to save (tests answer for the user): (path or "", chosen filter).
    save_file_name = staticmethod(QFileDialog.getSaveFileName)

    def export_report(self) -> None:
        """The same reports as ``report --format ...``, of what the window shows now
        (values are never included from here: the window holds none)."""
        if self._last is None:
            return
        from privacy_inspector import reports

        filters = {f"{desc} (*{suffix})": fmt for fmt, (desc, suffix) in reports.FILE_TYPES.items()}
        path, chosen = self.save_file_name(self, self.tr("Export report"),
                                           str(Path.home() / "privacy-report.html"),
                                           ";;".join(filters))
        if not path:
            return
        fmt = filters.get(chosen) or next(
            (f for f, (_, suffix) in reports.FILE_TYPES.items() if path.endswith(suffix)), "html")
        report = reports.build_report(self._last.entries, self._last.profiles,
                                      self.context.classifier, self._last.errors)
        try:
            # On this thread: the PDF is printed by Qt, which wants the GUI thread.
            reports.write_report(report, fmt, Path(path))
        except (OSError, ValueError) as exc:
            QMessageBox.warning(self, self.tr("Export report"),
                                self.tr("The report could not be written: {0}").format(exc))
            return
        note = self.tr("Report written to {0}.").format(path)
        if fmt == "netscape":
            note += " " + self.tr("It holds no values: the command line's report "
                                  "--format netscape --show-values writes them.")
        self.status.setText(note)
        log.info("report written as %s", fmt)

    # -- snapshots ----------------------------------------------------------------------

    def take_snapshot(self) -> None:
        dialog = SnapshotDialog(self)
        if self.context.confirm(dialog) != QDialog.DialogCode.Accepted:
            return
        label = dialog.label.text().strip() or None
        data_dir, classifier = self.context.data_dir, self.context.classifier
        profiles = list(self.context.profiles)
        try:
            snapshots.check_label(data_dir, label)
        except snapshots.SnapshotError as exc:
            QMessageBox.warning(self, self.tr("Take snapshot"), str(exc))
            return

        def work(control: TaskControl) -> snapshots.SnapshotInfo:
            return snapshots.take_now(data_dir, profiles, classifier, label=label)

        def done(info: snapshots.SnapshotInfo) -> None:
            self.status.setText(self.tr("{0} recorded: {1} entries.").format(
                info.name.capitalize(), info.count))
            log.info("snapshot %s taken", info.id)

        self.status.setText(self.tr("Taking a snapshot\u2026"))
        run_task("snapshot", work, done, self._snapshot_failed, pool=self.context.pool)

    def _snapshot_failed(self, exc: BaseException) -> None:
        message = str(exc) if isinstance(exc, snapshots.SnapshotError) else type(exc).__name__
        log.error("snapshot failed: %s", type(exc).__name__)
        self.status.setText(self.tr("The snapshot failed: {0}").format(message))

    def show_compare(self) -> None:
        data_dir, classifier = self.context.data_dir, self.context.classifier
        try:
            known = snapshots.list_snapshots(data_dir)
        except snapshots.SnapshotError as exc:
            QMessageBox.warning(self, self.tr("Compare snapshots"), str(exc))
            return
        profiles = list(self.context.profiles)

        def compare(first: int, second: int | str) -> None:
            def work(control: TaskControl) -> snapshots.Diff:
                old = snapshots.load(data_dir, first)
                new = (snapshots.scan_now(data_dir, profiles, classifier) if second == NOW
                       else snapshots.load(data_dir, second))
                return snapshots.diff(old, new)

            def failed(exc: BaseException) -> None:
                dialog.show_error(str(exc) if isinstance(exc, snapshots.SnapshotError)
                                  else self.tr("The comparison failed ({0}).")
                                  .format(type(exc).__name__))

            run_task("compare", work, dialog.show_diff, failed, pool=self.context.pool)

        dialog = CompareDialog(known, compare, self)
        self.context.confirm(dialog)

    # -- presenter mode -----------------------------------------------------------------

    @property
    def presenting(self) -> bool:
        return self._presenting is not None

    def set_presenting(self, on: bool) -> None:
        """Presenter mode: large type, high contrast, values always hidden, unrelated
        sites hidden, one site in focus (the policy owner's by default), and the
        walk-through panel in place of the detail pane."""
        if on == self.presenting:
            return
        if self.presenter_action.isChecked() != on:
            self.presenter_action.setChecked(on)  # toggles back into here, which returns
        if on:
            owner_sites = self.context.classifier.policy.owner.sites
            self._presenting = {"zoom": self._zoom, "palette": self.palette(),
                                "focus": owner_sites[0] if owner_sites else ""}
            self._set_zoom(max(self._zoom, ZOOM_STEPS.index(1.5)))
            from privacy_inspector.gui.theme import high_contrast_palette

            self.setPalette(high_contrast_palette())
            self.side.hide()
            self.detail.hide()
            self.detail.presenting = True
            self.detail.show_entry(self.detail.entry)  # masks a value shown before
            self.reveal_action.setEnabled(False)
            self.presenter.show()
            width = max(self.inner.width(), 900)
            self._presenting["splitter"] = self.inner.saveState()
            self.inner.setSizes([width * 11 // 20, 0, width * 9 // 20])
            self._present_site(self._presenting["focus"])
            self.status.setText(self.tr("Presenter mode: values stay hidden. F5 leaves it; "
                                        "Page Up and Page Down walk through the steps."))
        else:
            saved = self._presenting or {}
            self._presenting = None
            self.setPalette(saved.get("palette", self.palette()))
            self._set_zoom(saved.get("zoom", ZOOM_STEPS.index(1.0)))
            self.presenter.hide()
            self.side.show()
            self.detail.presenting = False
            self.detail.show()
            if "splitter" in saved:
                self.inner.restoreState(saved["splitter"])
            self.reveal_action.setEnabled(True)
            self.filters.set_extra(ids=None, hide_unrelated=False)

    def _present_site(self, focus: str) -> None:
        if self._presenting is None:
            return
        self._presenting["focus"] = focus
        entries = self._last.entries if self._last else []
        classifier = self.context.classifier
        # Unrelated sites stay hidden, unless the one in focus is such a site.
        self.filters.set_extra(hide_unrelated=classifier.policy.is_owner_site(focus))
        owner_sites = list(classifier.policy.owner.sites)
        others = sorted({e.site for e in entries if e.site and not e.stale} - set(owner_sites))
        self.presenter.set_sites(owner_sites + others, focus)
        self.presenter.set_steps(walkthrough.steps(entries, classifier, focus), classifier.policy)

    # -- view settings ----------------------------------------------------------------

    def zoom(self, step: int) -> None:
        """Ctrl + / Ctrl - / Ctrl 0: larger or smaller text in every pane."""
        if step == 0:
            self._set_zoom(ZOOM_STEPS.index(1.0))
        else:
            self._set_zoom(self._zoom + step)

    def _set_zoom(self, index: int) -> None:
        self._zoom = min(max(index, 0), len(ZOOM_STEPS) - 1)
        font = self.centralWidget().font()
        font.setPointSizeF(self._base_point_size * ZOOM_STEPS[self._zoom])
        self.centralWidget().setFont(font)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 8)

    @property
    def zoom_factor(self) -> float:
        return ZOOM_STEPS[self._zoom]

    def set_classifier(self, classifier: Classifier) -> None:
        """A new policy or owner's sites: classify again by scanning again."""
        self.context.classifier = classifier
        self.detail.set_classifier(classifier)
        self.rescan()

    def open_preferences(self) -> None:
        if self.context.open_preferences is not None:
            self.context.open_preferences(self)

    def show_log(self) -> None:
        if self.context.log_handler is None:
            return
        LogDialog(self.context.log_handler, self).exec()

    def about_text(self) -> str:
        try:
            sources = bundled.path("knowledge", "SOURCES.md").read_text(encoding="utf-8")
        except OSError:
            sources = "(the knowledge base's sources could not be read)"
        policy = self.context.classifier.policy
        return (
            f"# Privacy Inspector {__version__}\n\n"
            "Shows what websites left in your browsers (cookies, localStorage, sessionStorage, "
            "IndexedDB and more), who put it there, and what the privacy policy says about it. "
            "It works offline and never sends anything anywhere.\n\n"
            f"Policy explained: {policy.owner.name}'s privacy policy.\n\n{sources}"
        )

    def show_about(self) -> None:
        dialog = QDialog(self)
        dialog.setWindowTitle(self.tr("About Privacy Inspector"))
        text = QTextBrowser()
        text.setOpenExternalLinks(True)
        text.setMarkdown(self.about_text())
        text.setAccessibleName(self.tr("About Privacy Inspector"))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(text)
        layout.addWidget(buttons)
        dialog.resize(700, 560)
        dialog.exec()

    # -- geometry ---------------------------------------------------------------------

    def _settings(self) -> QSettings:
        path = self.context.data_dir / "window.ini"
        return QSettings(str(path), QSettings.Format.IniFormat)

    def _restore_geometry(self) -> None:
        settings = self._settings()
        geometry = settings.value("geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        state = settings.value("state")
        if isinstance(state, QByteArray):
            self.restoreState(state)

    def closeEvent(self, event: Any) -> None:
        self._watch_timer.stop()
        self._watcher = None
        if self._scan_task is not None and not self._scan_task.done:
            self._scan_task.cancel()
        settings = self._settings()
        settings.setValue("geometry", self.saveGeometry())
        settings.setValue("state", self.saveState())
        settings.sync()
        path = self.context.data_dir / "window.ini"
        if path.exists():
            path.chmod(0o600)
        super().closeEvent(event)
