"""Take snapshot and Compare snapshots, for the main window.

Snapshots are ``core.snapshots``'; the dialogs are ``compare``'s.  A mixin of
:class:`~privacy_inspector.gui.mainwindow.MainWindow`: ``self`` is the window.
"""

from __future__ import annotations

import logging

from PySide6.QtWidgets import QDialog, QMessageBox

from privacy_inspector.core import snapshots
from privacy_inspector.gui.compare import NOW, CompareDialog, SnapshotDialog
from privacy_inspector.gui.workers import TaskControl, run_task

log = logging.getLogger(__name__)


class SnapshotsMixin:
    """Tools > Take snapshot and Compare snapshots."""

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
