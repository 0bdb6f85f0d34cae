"""Light and dark themes; "system" follows the desktop's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

THEMES = ("system", "light", "dark")


def _palette(colours: dict[QPalette.ColorRole, str], disabled: str) -> QPalette:
    palette = QPalette()
    for r, colour in colours.items():
        palette.setColor(r, QColor(colour))
    role = QPalette.ColorRole
    for r in (role.WindowText, role.Text, role.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, r, QColor(disabled))
    return palette


def _dark_palette() -> QPalette:
    role = QPalette.ColorRole
    return _palette({
        role.Window: "#2b2b2b", role.WindowText: "#e8e8e8", role.Base: "#1e1e1e",
        role.AlternateBase: "#262626", role.ToolTipBase: "#333333", role.ToolTipText: "#f0f0f0",
        role.Text: "#e8e8e8", role.Button: "#353535", role.ButtonText: "#e8e8e8",
        role.BrightText: "#ffffff", role.Highlight: "#3d7bd9", role.HighlightedText: "#ffffff",
        role.Link: "#8ab4f8", role.PlaceholderText: "#9a9a9a",
    }, disabled="#7a7a7a")


def effective(theme: str) -> str:
    """"light" or "dark": what "system" means on this desktop right now."""
    if theme in ("light", "dark"):
        return theme
    scheme = QGuiApplication.styleHints().colorScheme()
    return "dark" if scheme == Qt.ColorScheme.Dark else "light"


def apply_theme(app: QApplication, theme: str) -> str:
    """Apply ``theme`` to the whole application; returns "light" or "dark"."""
    app.setStyle("Fusion")
    chosen = effective(theme)
    app.setPalette(_dark_palette() if chosen == "dark" else app.style().standardPalette())
    return chosen


def high_contrast_palette() -> QPalette:
    """White on black with yellow selection: presenter mode on a projector or a shared screen."""
    role = QPalette.ColorRole
    return _palette({
        role.Window: "#000000", role.WindowText: "#ffffff", role.Base: "#000000",
        role.AlternateBase: "#1a1a1a", role.ToolTipBase: "#000000", role.ToolTipText: "#ffffff",
        role.Text: "#ffffff", role.Button: "#000000", role.ButtonText: "#ffffff",
        role.BrightText: "#ffff00", role.Highlight: "#ffff00", role.HighlightedText: "#000000",
        role.Link: "#00ffff", role.PlaceholderText: "#d0d0d0",
    }, disabled="#bdbdbd")
