"""Delete, Clear trackers, Undo and the keep list, for the main window.

Plans are made by ``actions.delete``; the dialog is ``deletedialog``.  A mixin of
:class:`~privacy_inspector.gui.mainwindow.MainWindow`: ``self`` is the window.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QDialog, QMessageBox

from privacy_inspector.actions.delete import Outcome, Selection, make_plan
from privacy_inspector.actions.delete import apply as apply_plan
from privacy_inspector.actions.delete import undo as undo_journal
from privacy_inspector.actions.journal import RETENTION_DAYS, newest_to_undo, purge
from privacy_inspector.actions.keep import KeepList, KeepListError, label_for
from privacy_inspector.core.records import Profile
from privacy_inspector.gui.deletedialog import ASK_CLOSE, WAIT, DeleteDialog
from privacy_inspector.gui.keepdialog import KeepDialog
from privacy_inspector.gui.workers import TaskControl, run_task

log = logging.getLogger(__name__)


class DeletingMixin:
    """Delete, Clear trackers, Undo and the keep list."""

    def delete_selected(self) -> None:
        entries = self.selected_entries() or ([self.detail.entry] if self.detail.entry else [])
        if entries:
            self.start_deletion(Selection(ids=frozenset(e.id for e in entries)),
                                f"delete {len(entries)} entries", self.tr("Delete entries"))

    def delete_shown(self) -> None:
        """Every entry the search and filters show ("remove all shown")."""
        entries = self.proxy.visible_entries()
        if entries:
            self.start_deletion(Selection(ids=frozenset(e.id for e in entries)),
                                f"delete {len(entries)} shown entries",
                                self.tr("Delete all shown"))

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
