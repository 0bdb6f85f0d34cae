"""Starting the desktop app: ``privacy-inspector`` with no sub-command.

The CLI parses the options (``--demo``, ``--profile``, ``--browser``,
``--data-dir``, ``--policy``) and hands them here.  Before Qt is touched this
module checks that a window can be shown at all, because Qt ends the process
(it cannot be caught) when no display or no platform plugin is there; the
user gets a sentence about what to install instead.
"""

from __future__ import annotations

import ctypes.util
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from privacy_inspector import APP_ID, bundled
from privacy_inspector.core import imports
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import Policy, PolicyError, load_policy
from privacy_inspector.core.records import Profile
from privacy_inspector.core.settings import Settings, SettingsError, apply_owner_sites

log = logging.getLogger(__name__)

# What Qt's xcb platform plugin needs beyond Qt itself (Debian/Ubuntu names).
XCB_LIBRARIES = {
    "xcb-cursor": "libxcb-cursor0",
    "xcb-icccm": "libxcb-icccm4",
    "xcb-keysyms": "libxcb-keysyms1",
    "xkbcommon-x11": "libxkbcommon-x11-0",
    "EGL": "libegl1",
    "fontconfig": "libfontconfig1",
}


def display_problem(environ: dict[str, str] | None = None,
                    find_library: Callable[[str], str | None] = ctypes.util.find_library,
                    platform: str = sys.platform) -> str | None:
    """Why no window can open here, in words; None when it can."""
    env = os.environ if environ is None else environ
    qpa = env.get("QT_QPA_PLATFORM", "")
    if not platform.startswith("linux") or qpa.startswith(("offscreen", "minimal", "vnc")):
        return None
    if not (env.get("DISPLAY") or env.get("WAYLAND_DISPLAY")):
        return ("no display to open a window on (neither DISPLAY nor WAYLAND_DISPLAY is set). "
                "Run it from a desktop session, or use the command line: privacy-inspector scan")
    if qpa.startswith("wayland") or (env.get("WAYLAND_DISPLAY") and not env.get("DISPLAY")):
        return None
    missing = [package for name, package in XCB_LIBRARIES.items() if find_library(name) is None]
    if missing:
        return ("Qt needs system libraries that are not installed: "
                f"sudo apt-get install {' '.join(missing)}")
    return None


def load_settings(data_dir: Path) -> tuple[Settings | None, str | None]:
    """The user's settings; an unreadable file is reported and left untouched."""
    try:
        return Settings.load(data_dir), None
    except SettingsError as exc:
        log.error("settings cannot be read: %s", exc)
        return None, f"Your settings could not be read ({exc}); defaults are used and the file is left as it is."


def make_classifier(policy: Policy, settings: Settings | None, data_dir: Path) -> Classifier:
    """The classifier for the policy, the owner's extra sites and the imported lists."""
    if settings is not None and settings.get("owner_sites"):
        policy = apply_owner_sites(policy, settings.get("owner_sites"))
    try:
        imported = imports.ImportedKnowledge.load(data_dir)
    except imports.ListImportError as exc:
        log.error("imported tracker lists cannot be read: %s", exc)
        imported = None
    return Classifier(policy, imported=imported)


def policy_for(policy_option: Path | None, settings: Settings | None) -> Policy:
    """--policy wins; then the preferences' policy file; then the bundled one."""
    if policy_option is not None:
        return load_policy(policy_option)
    stored = settings.get("policy_file") if settings is not None else ""
    if stored:
        try:
            return load_policy(Path(stored))
        except (PolicyError, OSError) as exc:
            log.error("the policy file in the preferences cannot be used: %s", type(exc).__name__)
    return load_policy(None)


def preferences_opener(app: Any, settings: Settings | None, settings_problem: str | None,
                       data_dir: Path, policy_option: Path | None, *, modal: bool = True,
                       ) -> Callable[[Any], Any]:
    """What File > Preferences does: the dialog, and what a change sets off.

    A new theme is applied at once; a new policy file or new owner's sites
    make a new classifier, and the window scans again with it.
    """
    from PySide6.QtWidgets import QMessageBox

    from privacy_inspector.gui import theme
    from privacy_inspector.gui.preferences import PreferencesDialog

    def open_preferences(window: Any) -> Any:
        if settings is None:
            QMessageBox.warning(window, window.tr("Preferences"), settings_problem or "")
            return None
        dialog = PreferencesDialog(settings, data_dir, window, pool=window.context.pool)

        def changed(keys: list[str]) -> None:
            if "theme" in keys:
                theme.apply_theme(app, settings.get("theme"))
            if {"policy_file", "owner_sites"} & set(keys) or not keys:
                window.set_classifier(make_classifier(policy_for(policy_option, settings),
                                                      settings, data_dir))
            elif "include_stale" in keys:
                window.rescan()

        dialog.settings_changed.connect(changed)
        if modal:
            dialog.exec()
        else:
            dialog.show()
        return dialog

    return open_preferences


def run(profiles: Sequence[Profile], *, data_dir: Path, policy_option: Path | None, demo: bool,
        notice: str | None = None, screenshot: Path | None = None,
        argv: Sequence[str] | None = None) -> int:
    """Open the window and run until it is closed; the exit code."""
    problem = display_problem()
    if problem:
        print(f"privacy-inspector: cannot open the window: {problem}", file=sys.stderr)
        return 1
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from privacy_inspector.gui import logview, theme
    from privacy_inspector.gui.mainwindow import Context, MainWindow

    app = QApplication.instance() or QApplication([sys.argv[0], *(argv or [])])
    assert isinstance(app, QApplication)
    app.setApplicationName("Privacy Inspector")
    app.setOrganizationName("privacy-inspector")
    app.setDesktopFileName(APP_ID)
    # The desktop's icon theme has it once installed (.desktop, Flatpak); else the bundled SVG.
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon.fromTheme(APP_ID, QIcon(str(bundled.path("icons", f"{APP_ID}.svg")))))
    handler = logview.install()
    settings, settings_problem = load_settings(data_dir)
    theme.apply_theme(app, settings.get("theme") if settings is not None else "system")
    policy = policy_for(policy_option, settings)
    classifier = make_classifier(policy, settings, data_dir)

    open_preferences = preferences_opener(app, settings, settings_problem, data_dir, policy_option)
    context = Context(data_dir=data_dir, classifier=classifier, profiles=list(profiles), demo=demo,
                      notice=" ".join(n for n in (notice, settings_problem) if n) or None,
                      log_handler=handler, open_preferences=open_preferences, settings=settings)
    window = MainWindow(context)
    window.show()
    if screenshot is not None:
        _save_screenshot_when_scanned(window, screenshot, app)
    QTimer.singleShot(0, window.start)
    return app.exec()


def _save_screenshot_when_scanned(window: Any, path: Path, app: Any) -> None:
    """--screenshot FILE: render the window once the first scan is shown, then quit."""
    from PySide6.QtCore import QTimer

    from privacy_inspector.gui.models.entries import RecordRole

    def check() -> None:
        if window._last is None:
            QTimer.singleShot(100, check)
            return
        # Show an explanation worth seeing: a vendor's cookie on the owner's site.
        rows = [r for r in range(window.proxy.rowCount())
                if getattr(window.proxy.index(r, 0).data(RecordRole), "on_owner_site", False)]
        window.table.selectRow(rows[0] if rows else 0)
        app.processEvents()
        window.grab().save(str(path))
        window.close()
        app.quit()

    QTimer.singleShot(200, check)
