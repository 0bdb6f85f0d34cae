"""Live watch from the window, on a demo copy changed behind its back."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtCore import Qt

from privacy_inspector.gui.models.entries import COL_NAME, RecordRole

pytestmark = pytest.mark.gui


def _cookies(data_dir):
    return data_dir / "demo" / "chromium" / "Default" / "Cookies"


def _row_of(window, name):
    for row in range(window.proxy.rowCount()):
        if window.proxy.index(row, 0).data(RecordRole).name == name:
            return row
    return None


def test_watch_shows_what_appears_and_vanishes(demo_window, data_dir):
    window = demo_window
    window.watch_action.trigger()
    assert window.watching and window.watch_dock.isVisible()
    assert "Chromium" in window.watch_panel.notes.text()  # when it writes to disk
    window._watch_tick()
    assert window.watch_panel.table.rowCount() == 0  # nothing changed yet

    with sqlite3.connect(_cookies(data_dir)) as conn:  # a page sets a cookie
        columns = [r[1] for r in conn.execute("PRAGMA table_info(cookies)")]
        row = list(conn.execute("SELECT * FROM cookies WHERE name = 'IDE'").fetchone())
        row[columns.index("name")] = "IDE_new"
        conn.execute(f"INSERT INTO cookies VALUES ({','.join('?' * len(row))})", row)
        conn.execute("DELETE FROM cookies WHERE name = '_gid'")
    window._watch_tick()
    events = {(c.kind, c.entry.name) for c in window.watch_panel.events}
    assert events == {("added", "IDE_new"), ("removed", "_gid")}
    assert window.watch_panel.table.item(0, 1).text() in ("appeared", "vanished")
    row = _row_of(window, "IDE_new")
    assert row is not None
    shown = [window.proxy.index(r, 0).data(RecordRole) for r in range(window.proxy.rowCount())]
    assert [e.browser for e in shown if e.name == "_gid"] == ["firefox"]  # Chromium's is gone
    index = window.proxy.index(row, COL_NAME)
    assert index.data(Qt.ItemDataRole.BackgroundRole) is not None
    assert "Live watch: appeared" in index.data(Qt.ItemDataRole.ToolTipRole)
    # Choosing the event explains its entry.
    added = next(r for r in range(window.watch_panel.table.rowCount())
                 if "IDE_new" in window.watch_panel.table.item(r, 2).text())
    window.watch_panel.table.setCurrentCell(added, 2)
    assert window.detail.entry.name == "IDE_new"

    window.watch_action.trigger()
    assert not window.watching and not window._watch_timer.isActive()
