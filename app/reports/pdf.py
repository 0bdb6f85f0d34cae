"""The report as PDF: the report's HTML, laid out and printed by Qt.

Qt is imported here, inside the function, and nowhere else in the reports:
the engine and the command line must load without it.  Qt's rich text draws
no SVG, so the charts are tables of bars in this variant.
"""

from __future__ import annotations

import os
import sys

from privacy_inspector.reports.html_report import render_html
from privacy_inspector.reports.model import Report

# Keeps the application object alive when this module had to create it.
_app = None


def _ensure_application() -> None:
    global _app
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        return
    no_display = not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))
    if no_display and sys.platform not in ("win32", "darwin"):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    _app = QGuiApplication(["privacy-inspector"])


def render_pdf(report: Report) -> bytes:
    """The PDF's bytes (A4, the same content as the HTML report)."""
    _ensure_application()
    from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QMarginsF, QSizeF
    from PySide6.QtGui import QPageLayout, QPageSize, QPdfWriter, QTextDocument

    data = QByteArray()
    buffer = QBuffer(data)
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    writer = QPdfWriter(buffer)
    writer.setTitle(f"Privacy report: {report.policy.owner}, {report.generated_text}")
    writer.setCreator("Privacy Inspector")
    writer.setResolution(300)
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(15, 15, 15, 15), QPageLayout.Unit.Millimeter))
    document = QTextDocument()
    document.setDocumentMargin(0)
    document.setHtml(render_html(report, for_pdf=True))
    rect = writer.pageLayout().paintRectPixels(writer.resolution())
    document.setPageSize(QSizeF(rect.width(), rect.height()))
    document.print_(writer)
    del writer
    buffer.close()
    return bytes(data.data())
