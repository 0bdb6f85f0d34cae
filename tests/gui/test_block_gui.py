"""Block, the cookie-rules page and the blocked state, from the window, on the demo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog

from privacy_inspector.actions import block as blocking
from privacy_inspector.browsers import chromium_prefs, firefox_permissions
from privacy_inspector.gui.blockdialog import BlockDialog, RulesDialog
from privacy_inspector.gui.deletedialog import WAIT
from privacy_inspector.gui.models.entries import COL_NAME, RecordRole

pytestmark = pytest.mark.gui


class Plays:
    """Plays the user: each step gets the dialog, may change it, and answers."""

    def __init__(self, *steps) -> None:
        self.steps = list(steps)
        self.seen: list[QDialog] = []

    def __call__(self, dialog: QDialog) -> int:
        self.seen.append(dialog)
        return self.steps.pop(0)(dialog)


def _window(make_window, plays, running=lambda p: False):
    window = make_window(start=False)
    window.context.confirm = plays
    window.context.is_running = running
    window.start()
    return window


def _select(window, name: str, browser: str = "chromium") -> int:
    for row in range(window.proxy.rowCount()):
        entry = window.proxy.index(row, 0).data(RecordRole)
        if entry.name == name and entry.browser == browser:
            window.table.selectRow(row)
            return row
    raise AssertionError(name)


def _rules(window) -> dict[tuple[str, str], str]:
    rows, errors = blocking.rules_in_force(window.context.profiles, window.context.data_dir)
    assert errors == []
    return {(r.profile.engine, r.rule.domain): (r.rule.mode, r.source) for r in rows}


def accept(dialog):
    return QDialog.DialogCode.Accepted


def test_block_the_site_then_entries_show_it_and_the_rules_page_unblocks(make_window):
    def unblock_all(page):
        assert isinstance(page, RulesDialog)
        assert {page.model.item(r, 2).text() for r in range(page.model.rowCount())} == {
            "doubleclick.net"}
        assert {page.model.item(r, 4).text() for r in range(page.model.rowCount())} == {
            "this app"}
        page.table.selectAll()
        assert page.unblock_button.isEnabled()
        page.unblock_button.click()
        assert page.model.rowCount() == 0
        return QDialog.DialogCode.Rejected

    plays = Plays(accept, unblock_all)
    window = _window(make_window, plays)
    _select(window, "IDE")
    window.block_action.trigger()
    dialog = plays.seen[0]
    assert isinstance(dialog, BlockDialog)
    assert dialog.target.currentText() == "the site doubleclick.net"
    assert "doubleclick.net: no rule \u2192 blocked" in dialog.summary.toPlainText()
    assert _rules(window) == {("chromium", "doubleclick.net"): ("block", "app"),
                              ("firefox", "doubleclick.net"): ("block", "app")}
    assert "2 cookie rules written" in window.status.text()

    # After the rescan: the tracker's entries are struck out and say why.
    row = _select(window, "IDE")
    index = window.proxy.index(row, COL_NAME)
    assert index.data(Qt.ItemDataRole.FontRole).strikeOut()
    assert "Blocked in this browser: a rule for doubleclick.net" in index.data(
        Qt.ItemDataRole.ToolTipRole)
    assert "written by this app" in window.detail.browser.toPlainText()
    owner = next(r for r in range(window.proxy.rowCount())
                 if window.proxy.index(r, 0).data(RecordRole).site == "liveops.com")
    font = window.proxy.index(owner, COL_NAME).data(Qt.ItemDataRole.FontRole)
    assert font is None or not font.strikeOut()

    window.rules_action.trigger()
    assert _rules(window) == {}
    assert "2 cookie rules removed" in window.status.text()


def test_organisation_leaves_out_sign_in_sites_unless_ticked(make_window):
    def choose_google(dialog):
        dialog.target.setCurrentIndex(1)
        assert dialog.target.currentText().startswith("the organisation Google")
        assert not dialog.sign_in.isHidden() and not dialog.sign_in.isChecked()
        assert "youtube.com" in dialog.sign_in.text()
        planned = {c.domain for c in dialog.plan.changes}
        assert "doubleclick.net" in planned and not planned & {"google.com", "youtube.com"}
        assert "appspot.com is a public suffix" in dialog.summary.toPlainText()
        dialog.sign_in.setChecked(True)
        assert {"google.com", "youtube.com"} <= {c.domain for c in dialog.plan.changes}
        dialog.sign_in.setChecked(False)
        return QDialog.DialogCode.Accepted

    plays = Plays(choose_google)
    window = _window(make_window, plays)
    _select(window, "IDE")
    window.block_action.trigger()
    rules = _rules(window)
    assert rules[("firefox", "google-analytics.com")] == ("block", "app")
    assert ("chromium", "google.com") not in rules


def test_session_mode_and_a_users_rule(make_window):
    def session(dialog):
        dialog.mode.setCurrentIndex(dialog.mode.findData("session"))
        assert "allowed \u2192 session only (replaces a rule made in the browser)" in (
            dialog.summary.toPlainText())
        return QDialog.DialogCode.Accepted

    plays = Plays(session)
    window = _window(make_window, plays)
    firefox = next(p for p in window.context.profiles if p.engine == "firefox")
    firefox_permissions.write_cookie_rules(firefox, {"doubleclick.net": "allow"})
    window.rescan()
    row = _select(window, "IDE", "firefox")
    assert "made in the browser" in window.detail.browser.toPlainText()
    assert not window.proxy.index(row, COL_NAME).data(Qt.ItemDataRole.FontRole).strikeOut()
    window.block_action.trigger()
    assert _rules(window) == {("chromium", "doubleclick.net"): ("session", "app"),
                              ("firefox", "doubleclick.net"): ("session", "app")}


def test_a_running_browser_means_waiting(make_window, qtbot):
    state = {"running": True}

    def refused(dialog):
        assert not dialog.write_button.isEnabled()
        assert "is running on the profile" in dialog.refused.text()
        return WAIT

    plays = Plays(refused, accept)
    window = _window(make_window, plays, running=lambda p: state["running"])
    _select(window, "IDE")
    window.block_action.trigger()
    assert _rules(window) == {}
    state["running"] = False
    qtbot.waitUntil(lambda: len(plays.seen) == 2, timeout=5000)
    assert _rules(window)[("chromium", "doubleclick.net")] == ("block", "app")


def test_a_damaged_preferences_file_is_reported_and_firefox_still_written(make_window):
    plays = Plays(accept)
    window = _window(make_window, plays)
    chromium = next(p for p in window.context.profiles if p.engine == "chromium")
    (chromium.path / chromium_prefs.FILE).write_bytes(b"{not json")
    _select(window, "IDE")
    window.block_action.trigger()
    assert "Cannot be written: Preferences" in plays.seen[0].summary.toPlainText()
    rows, errors = blocking.rules_in_force([p for p in window.context.profiles
                                            if p.engine == "firefox"], window.context.data_dir)
    assert {r.rule.mode for r in rows} == {"block"}
    assert (chromium.path / chromium_prefs.FILE).read_bytes() == b"{not json"
