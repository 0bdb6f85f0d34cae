"""The diagnostic log for bug reports: the app's own log lines, kept in memory.

The app never logs values (a test checks that a revealed value never reaches
the log), so this window can be copied into a bug report as it is.
"""

from __future__ import annotations

import collections
import logging
from typing import Any

from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QPlainTextEdit, QPushButton, QVBoxLayout

CAPACITY = 5000
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class MemoryLogHandler(logging.Handler):
    """The last ``CAPACITY`` log lines of the ``privacy_inspector`` loggers."""

    def __init__(self, capacity: int = CAPACITY) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: collections.deque[str] = collections.deque(maxlen=capacity)
        self.setFormatter(logging.Formatter(FORMAT))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - logging must never break the app
            self.handleError(record)

    def text(self) -> str:
        return "\n".join(self.lines)


def install(logger_name: str = "privacy_inspector") -> MemoryLogHandler:
    handler = MemoryLogHandler()
    # The log window wants INFO lines; stderr keeps the level the user chose.
    root = logging.getLogger()
    for existing in root.handlers:
        if existing.level == logging.NOTSET:
            existing.setLevel(root.level)
    logger = logging.getLogger(logger_name)
    logger.addHandler(handler)
    if logger.level == logging.NOTSET or logger.level > logging.INFO:
        logger.setLevel(logging.INFO)
    return handler


class LogDialog(QDialog):
    """Shows the diagnostic log, with a button to copy it."""

    def __init__(self, handler: MemoryLogHandler, parent: Any = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Diagnostic log"))
        self.text = QPlainTextEdit(handler.text() or self.tr("(nothing logged yet)"))
        self.text.setReadOnly(True)
        self.text.setAccessibleName(self.tr("Diagnostic log"))
        copy = QPushButton(self.tr("&Copy to clipboard"))
        copy.setAccessibleName(self.tr("Copy the log to the clipboard"))
        copy.clicked.connect(lambda: QGuiApplication.clipboard().setText(self.text.toPlainText()))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(copy, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.text)
        layout.addWidget(buttons)
        self.resize(760, 420)
