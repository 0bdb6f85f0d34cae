"""The main window: it composes the panes and the actions, scans and reveals.

Each feature's part of the window is a mixin in a module of its own:
``deleting`` (Delete, Clear trackers, Undo, the keep list), ``blocking``,
``watching`` (live watch), ``snapshotting``, ``exporting`` (reports) and
``presenting`` (presenter mode).  The work happens elsewhere: scans and
reveals in ``workers`` tasks over the engine, text in ``core.explain``,
tables in ``models``, plans in ``actions``, dialogs in their own modules.
"""

from __future__ import annotations

import logging
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
from privacy_inspector.core import demo, engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.records import Entry, Profile, ScanError
from privacy_inspector.core.settings import Settings
from privacy_inspector.gui.blocking import BlockingMixin
from privacy_inspector.gui.deleting import DeletingMixin
from privacy_inspector.gui.detail import DetailPane
from privacy_inspector.gui.exporting import ReportsMixin
from privacy_inspector.gui.filterbar import FilterBar
from privacy_inspector.gui.logview import LogDialog, MemoryLogHandler
from privacy_inspector.gui.models.entries import EntryProxyModel, EntryTableModel, RecordRole
from privacy_inspector.gui.models.groups import BY_ORGANIZATION, BY_SITE, GroupTableModel
from privacy_inspector.gui.presenter import PresenterPanel
from privacy_inspector.gui.presenting import PresenterMixin
from privacy_inspector.gui.sidepanel import SidePanel
from privacy_inspector.gui.snapshotting import SnapshotsMixin
from privacy_inspector.gui.summary import SummaryStrip
from privacy_inspector.gui.watching import WatchMixin
from privacy_inspector.gui.workers import Pool, Task, TaskControl, run_task
from privacy_inspector.platform import locks

log = logging.getLogger(__name__)

ZOOM_STEPS = (0.8, 0.9, 1.0, 1.15, 1.3, 1.5, 1.75, 2.0)



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


class MainWindow(DeletingMixin, BlockingMixin, WatchMixin, ReportsMixin, SnapshotsMixin,
                 PresenterMixin, QMainWindow):
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

        self._make_watch()

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
        self.delete_shown_action = self._action(
            tr("Delete all s&hown\u2026"), self.delete_shown, "Ctrl+Shift+D",
            tr("Delete every entry the search and filters show (asks first)"))
        self.fullscreen_action = self._action(tr("&Full screen"), None, "F11",
                                              tr("Use the whole screen (handy for demonstrations)"))
        self.fullscreen_action.setCheckable(True)
        self.fullscreen_action.toggled.connect(
            lambda on: self.showFullScreen() if on else self.showNormal())
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
        for action in (*self.view_actions, self.trackers_action, self.presenter_action,
                       self.fullscreen_action):
            view_menu.addAction(action)
        view_menu.addSeparator()
        for action in (self.zoom_in_action, self.zoom_out_action, self.zoom_reset_action):
            view_menu.addAction(action)
        actions_menu = menus.addMenu(tr("&Actions"))
        for action in (self.delete_action, self.delete_shown_action, self.clear_trackers_action,
                       self.undo_action, self.block_action, self.rules_action):
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

    # -- view settings ----------------------------------------------------------------

    def zoom(self, step: int) -> None:
        """Ctrl + / Ctrl - / Ctrl 0: larger or smaller text in every pane."""
        if step == 0:
            self._set_zoom(ZOOM_STEPS.index(1.0))
        else:
            self._set_zoom(self._zoom + step)

    @staticmethod
    def _zoom_index(factor: float) -> int:
        return ZOOM_STEPS.index(factor)

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
