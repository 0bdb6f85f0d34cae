"""The main window on the demo data and on profiles real browsers wrote."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QThreadPool, QTimer
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QWidget,
)

from privacy_inspector.core.records import Entry
from privacy_inspector.gui.detail import MASK
from privacy_inspector.gui.models.entries import COL_NAME, RecordRole
from privacy_inspector.platform import discovery
from tests.fixtures.cookie_dbs import chromium_cookies_db

pytestmark = pytest.mark.gui


def _row_of(window, name: str, browser: str = "chromium") -> int:
    proxy = window.proxy
    for row in range(proxy.rowCount()):
        entry: Entry = proxy.index(row, 0).data(RecordRole)
        if entry.name == name and entry.browser == browser:
            return row
    raise AssertionError(f"{browser} {name} is not in the table")


def _names(window) -> set[str]:
    return {window.proxy.index(r, COL_NAME).data() for r in range(window.proxy.rowCount())}


def test_the_demo_fills_the_table_the_summary_and_the_side_panel(demo_window):
    window = demo_window
    entries = window.entries.entries
    assert window.proxy.rowCount() == len(entries) > 30
    trackers = sum(1 for e in entries if e.tracker)
    assert f"{trackers} trackers" in window.summary.totals.text()
    companies = dict(window.summary.by_company.bars())
    assert companies["Google"] == sum(1 for e in entries if e.tracker and e.organization == "Google")
    lines = window.side.rows()
    assert lines[0].startswith("All profiles")
    assert any(line.strip().startswith("Demo Your Chromium") for line in lines)
    assert lines[-1] == "Demo data (shown now)"
    assert "demo data" in window.status.text()


def test_search_and_quick_filters(demo_window, qtbot):
    window = demo_window
    qtbot.keyClicks(window.filters.search, "doubleclick")
    # Throttled: nothing happens until the typing pauses.
    qtbot.waitUntil(lambda: window.proxy.rowCount() < len(window.entries.entries))
    assert _names(window) >= {"IDE", "dc_chips", "dc_ls_id"}
    assert "lo_session" not in _names(window)
    window.filters.search.clear()
    window.filters.flush()
    window.filters.trackers_only.setChecked(True)
    assert all(window.proxy.index(r, 0).data(RecordRole).tracker for r in range(window.proxy.rowCount()))
    assert window.trackers_action.isChecked(), "the menu action follows the check box"
    window.filters.trackers_only.setChecked(False)
    window.filters.kind.setCurrentIndex(window.filters.kind.findData("local_storage"))
    assert {window.proxy.index(r, 0).data(RecordRole).kind for r in range(window.proxy.rowCount())} == {
        "local_storage"}
    window.filters.kind.setCurrentIndex(0)
    window.filters.party.setCurrentIndex(window.filters.party.findData("first_party"))
    assert {window.proxy.index(r, 0).data(RecordRole).organization
            for r in range(window.proxy.rowCount())} == {"LiveOps"}
    # The summary follows what is shown.
    assert window.summary.totals.text().startswith(f"{window.proxy.rowCount()} entries")


def test_grouping_by_organisation_drills_down_to_its_entries(demo_window, qtbot):
    window = demo_window
    window.filters.view.setCurrentIndex(window.filters.view.findData("organization"))
    assert window.stack.currentWidget() is window.group_table
    labels = [window.groups.group(r).label for r in range(window.groups.rowCount())]
    assert labels[0] == "Google", "the company with the most trackers comes first"
    window.group_table.activated.emit(window.groups.index(labels.index("Meta"), 0))
    assert window.stack.currentWidget() is window.table
    organizations = {window.proxy.index(r, 0).data(RecordRole).organization
                     for r in range(window.proxy.rowCount())}
    assert organizations == {"Meta"}
    assert "organization: Meta" in window.filters.drill.text()
    window.clear_drill_down()
    assert window.proxy.rowCount() == len(window.entries.entries)


def test_selecting_an_entry_explains_it_with_the_policy_words(demo_window):
    window = demo_window
    window.table.selectRow(_row_of(window, "_ga"))
    text = window.detail.browser.toPlainText()
    assert "Google (Google Analytics), third party, set on LiveOps' domain by Google's script" in text
    assert "Clickstream data" in text and "clickstream" in text
    # The policy's words come with their source.
    assert "From Privacy Policy | LiveOps" in text and "archived 2016-06-06" in text
    assert "web.archive.org/web/20160606035635" in window.detail.browser.toHtml()
    assert "looks like a unique identifier" in text
    assert window.detail.value_text.text() == MASK
    assert window.detail.reveal_button.isEnabled()


def test_reveal_decrypts_on_demand_decodes_and_never_logs_the_value(demo_window, log_handler,
                                                                    monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    window = demo_window
    window.table.selectRow(_row_of(window, "_ga"))
    window.reveal_action.trigger()
    value = window.detail.value_text.text()
    assert value.startswith("GA1.") and value != MASK
    decoded = window.detail.decoded.toPlainText()
    assert "Google Analytics client id" in decoded and "UTC: when this browser was first seen" in decoded
    assert value not in log_handler.text()
    # The inventory itself still holds no values.
    assert all(e.value is None for e in window.entries.entries)
    # Moving on masks it again.
    window.table.selectRow(_row_of(window, "IDE"))
    assert window.detail.value_text.text() == MASK


def test_every_control_has_an_accessible_name_and_zoom_works(demo_window):
    window = demo_window
    unnamed = []
    for widget in window.findChildren(QWidget):
        if not isinstance(widget, (QAbstractButton, QLineEdit, QComboBox, QAbstractItemView)):
            continue
        # Qt's own parts: headers, combo pop-ups, corner and overflow buttons,
        # a line edit's clear button.
        if (widget.objectName().startswith("qt_") or isinstance(widget, QHeaderView)
                or widget.window() is not window or isinstance(widget.parent(), QLineEdit)):
            continue
        if not (widget.accessibleName() or getattr(widget, "text", lambda: "")()):
            unnamed.append(f"{type(widget).__name__} {widget.objectName()}")
    assert unnamed == []
    before = window.table.font().pointSizeF()
    window.zoom_in_action.trigger()
    window.zoom_in_action.trigger()
    assert window.table.font().pointSizeF() > before
    window.zoom_reset_action.trigger()
    assert window.table.font().pointSizeF() == pytest.approx(before)


@pytest.mark.real_browser
def test_a_real_chromium_profile_fills_the_table(make_window, chromium_profile):
    profiles = discovery.resolve(chromium_profile.profile_dir)
    window = make_window(profiles)
    expected = {(c.host.lstrip("."), c.name) for c in chromium_profile.expected_cookies()}
    shown = {(e.host, e.name) for e in window.entries.entries if e.kind == "cookie"}
    assert shown == expected
    window.table.selectRow(_row_of(window, "IDE"))
    assert "[interest-based-ads]" in window.detail.browser.toHtml() or \
        "interest-based-ads" in window.detail.browser.toPlainText()


def _big_profile(tmp_path, count: int):
    cookies = [{"host": f".site{i % 500}.example", "name": f"c{i}", "value": f"{i:032x}",
                "expires": 1_900_000_000, "same_site": "lax", "created": 1_700_000_000}
               for i in range(count)]
    chromium_cookies_db(tmp_path / "big" / "Default" / "Cookies", cookies, version=24)
    return discovery.resolve(tmp_path / "big" / "Default")


def test_the_window_keeps_responding_while_a_scan_runs(make_window, tmp_path, qtbot):
    profiles = _big_profile(tmp_path, 60_000)
    window = make_window(profiles, pool=QThreadPool.globalInstance(), start=False)
    ticks = []
    timer = QTimer()
    timer.timeout.connect(lambda: ticks.append(1))
    timer.start(5)
    window.start()
    assert window.cancel_button.isVisible()
    qtbot.waitUntil(lambda: window._last is not None, timeout=60_000)
    timer.stop()
    assert window.proxy.rowCount() == 60_000
    # The event loop ran all along: the timer kept firing during the scan.
    assert len(ticks) >= 5


def test_a_scan_can_be_cancelled(make_window, tmp_path, qtbot):
    profiles = _big_profile(tmp_path, 20_000) * 1
    profiles = profiles + profiles  # two passes over the same profile: time to cancel between
    window = make_window(profiles, pool=QThreadPool.globalInstance(), start=False)
    window.start()
    window.cancel_button.click()
    qtbot.waitUntil(lambda: window._scan_task.done, timeout=60_000)
    assert window._last is None
    assert "cancelled" in window.status.text()
    assert not window.cancel_button.isVisible()


def test_preferences_change_the_owners_sites_and_the_theme(make_window, data_dir, qapp):
    from PySide6.QtGui import QPalette

    from privacy_inspector.core.settings import Settings
    from privacy_inspector.gui import theme
    from privacy_inspector.gui.app import preferences_opener

    window = make_window()
    visitor = next(e for e in window.entries.entries if e.name == "en_visitor")
    assert visitor.party == "unrelated"
    settings = Settings.load(data_dir)
    opener = preferences_opener(qapp, settings, None, data_dir, None, modal=False)
    window.context.open_preferences = opener
    dialog = opener(window)
    settings.set("owner_sites", ("example-news.org",))
    settings.set("theme", "dark")
    dialog.settings_changed.emit(["owner_sites", "theme"])
    dialog.close()
    visitor = next(e for e in window.entries.entries if e.name == "en_visitor")
    assert visitor.party == "first_party", "the window scanned again with the new owner's sites"
    window_colour = qapp.palette().color(QPalette.ColorRole.Window)
    assert window_colour.lightness() < 100, "the dark theme is applied"
    theme.apply_theme(qapp, "light")
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 150


def test_stale_copies_can_be_hidden_and_reveal_can_ask_first(make_window, data_dir, tmp_path):
    from PySide6.QtWidgets import QMessageBox

    from privacy_inspector.core.records import Profile
    from privacy_inspector.core.settings import Settings

    cookie = {"host": ".liveops.com", "name": "_ga", "value": "GA1.2.1.2", "expires": 1_900_000_000,
              "same_site": "lax", "created": 1_700_000_000}
    profile_dir = tmp_path / "c" / "Default"
    chromium_cookies_db(profile_dir / "Network" / "Cookies", [cookie], version=24)
    chromium_cookies_db(profile_dir / "Cookies", [cookie | {"name": "old"}], version=24)  # leftover
    profile = Profile(profile_dir, "chromium", "chromium", "Default", root=tmp_path / "c")
    settings = Settings.load(data_dir)
    asked = []
    window = make_window([profile], start=False)
    window.context.settings = settings
    window.context.confirm = lambda dialog: asked.append(dialog) or QMessageBox.StandardButton.No
    window.start()
    assert {(e.name, e.stale) for e in window.entries.entries} == {("_ga", False), ("old", True)}
    settings.set("include_stale", False)
    settings.set("confirm_reveal", True)
    window.rescan()
    assert [e.name for e in window.entries.entries] == ["_ga"]
    window.table.selectRow(_row_of(window, "_ga"))
    window.reveal_action.trigger()
    assert len(asked) == 1 and window.detail.value_text.text() == MASK, "the user said no"


def test_f11_toggles_full_screen(demo_window):
    window = demo_window
    window.fullscreen_action.trigger()
    assert window.isFullScreen()
    window.fullscreen_action.trigger()
    assert not window.isFullScreen()
