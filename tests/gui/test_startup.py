"""Starting the window the way users do: ``privacy-inspector`` with no sub-command."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

from privacy_inspector.gui.app import display_problem

pytestmark = pytest.mark.gui

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 240 if os.environ.get("CI") else 120


def _env(**changes: str | None) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")])
    for key, value in changes.items():
        if value is None:
            env.pop(key, None)
        else:
            env[key] = value
    return env


def _distinct_colours(path: Path) -> int:
    image = QImage(str(path))
    assert not image.isNull(), "the screenshot is not a readable PNG"
    assert image.width() >= 800 and image.height() >= 500
    step = 7
    return len({image.pixel(x, y) for x in range(0, image.width(), step)
                for y in range(0, image.height(), step)})


def test_display_problems_are_said_in_words():
    assert display_problem({}, lambda name: "lib", "linux").startswith("no display")
    assert display_problem({"QT_QPA_PLATFORM": "offscreen"}, lambda name: None, "linux") is None
    missing = display_problem({"DISPLAY": ":1"}, lambda name: None if name == "xcb-cursor" else "x", "linux")
    assert missing == "Qt needs system libraries that are not installed: sudo apt-get install libxcb-cursor0"
    assert display_problem({}, lambda name: None, "darwin") is None


def test_without_a_display_the_app_says_so_and_shows_the_inventory_as_text(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "privacy_inspector", "--demo", "--data-dir", str(tmp_path / "d")],
        capture_output=True, text=True, timeout=TIMEOUT,
        env=_env(QT_QPA_PLATFORM=None, DISPLAY=None, WAYLAND_DISPLAY=None),
    )
    assert out.returncode == 0, out.stderr
    assert "no window here: no display" in out.stderr and "privacy-inspector scan" in out.stderr
    assert "Traceback" not in out.stderr
    assert "_ga" in out.stdout and "liveops.com" in out.stdout, "the demo inventory, as a table"
    # A picture cannot be taken without a display: that is an error.
    shot = subprocess.run(
        [sys.executable, "-m", "privacy_inspector", "--demo", "--data-dir", str(tmp_path / "d"),
         "--screenshot", str(tmp_path / "x.png")],
        capture_output=True, text=True, timeout=TIMEOUT,
        env=_env(QT_QPA_PLATFORM=None, DISPLAY=None, WAYLAND_DISPLAY=None),
    )
    assert shot.returncode == 1 and "cannot open the window: no display" in shot.stderr


def test_the_window_renders_the_demo_to_a_screenshot(tmp_path):
    shot = tmp_path / "window.png"
    out = subprocess.run(
        [sys.executable, "-m", "privacy_inspector", "--demo", "--data-dir", str(tmp_path / "d"),
         "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=TIMEOUT, env=_env(QT_QPA_PLATFORM="offscreen"),
    )
    assert out.returncode == 0, out.stderr
    # A blank or half-drawn window has a handful of colours; the real one has text,
    # a table, bars and selection colours.
    assert _distinct_colours(shot) > 50


def test_the_readme_command_opens_a_real_x11_window_under_xvfb(tmp_path):
    """What a user on a desktop gets: Qt's xcb platform on an X server."""
    xvfb_run = shutil.which("xvfb-run")
    assert xvfb_run, "xvfb-run is missing: tests/run installs it (apt-get install xvfb xauth)"
    shot = tmp_path / "x11.png"
    out = subprocess.run(
        [xvfb_run, "-a", "-s", "-screen 0 1440x900x24", sys.executable, "-m", "privacy_inspector",
         "--demo", "--data-dir", str(tmp_path / "d"), "--screenshot", str(shot)],
        capture_output=True, text=True, timeout=TIMEOUT,
        env=_env(QT_QPA_PLATFORM=None, DISPLAY=None, WAYLAND_DISPLAY=None),
    )
    assert out.returncode == 0, out.stderr
    assert _distinct_colours(shot) > 50
