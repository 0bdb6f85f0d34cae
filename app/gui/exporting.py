"""File > Export report, for the main window.

The reports are ``privacy_inspector.reports``'; the same as ``report --format``.  A mixin of
:class:`~privacy_inspector.gui.mainwindow.MainWindow`: ``self`` is the window.
"""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtWidgets import (
    QFileDialog,
    QMessageBox,
)

log = logging.getLogger(__name__)


class ReportsMixin:
    """File > Export report."""

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
