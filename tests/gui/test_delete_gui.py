"""Delete, Clear trackers, Undo and the keep list, from the window."""

from __future__ import annotations

import sqlite3

import pytest
from PySide6.QtWidgets import QDialog, QMessageBox

from privacy_inspector.actions.keep import KeepList
from privacy_inspector.core.records import Profile
from privacy_inspector.gui.deletedialog import WAIT, DeleteDialog
from privacy_inspector.gui.models.entries import RecordRole
from tests.fixtures.cookie_dbs import chromium_cookies_db

pytestmark = pytest.mark.gui

COOKIES = [
    {"host": ".liveops.com", "name": "_ga", "value": "GA1.2.111.222", "expires": 1_900_000_000,
     "same_site": "lax", "created": 1_700_000_000},
    {"host": "www.liveops.com", "name": "sid", "value": "s3cr3t", "expires": 1_900_000_000,
     "secure": True, "http_only": True, "same_site": "strict", "created": 1_700_000_000},
    {"host": ".doubleclick.net", "name": "IDE", "value": "AHWqTUk", "expires": 1_900_000_000,
     "secure": True, "same_site": "none", "created": 1_700_000_000},
]


@pytest.fixture
def profile(tmp_path) -> Profile:
    chromium_cookies_db(tmp_path / "c" / "Default" / "Cookies", COOKIES, version=24)
    return Profile(tmp_path / "c" / "Default", "chromium", "chromium", "Default", root=tmp_path / "c")


def _names(profile: Profile) -> set[str]:
    with sqlite3.connect(profile.path / "Cookies") as conn:
        return {r[0] for r in conn.execute("SELECT name FROM cookies")}


class Answers:
    """Plays the user: answers each dialog in turn, and remembers what it saw."""

    def __init__(self, *answers) -> None:
        self.answers = list(answers)
        self.seen: list[QDialog] = []

    def __call__(self, dialog: QDialog) -> int:
        self.seen.append(dialog)
        return self.answers.pop(0)


def _window(make_window, profile, answers, running=lambda p: False):
    window = make_window([profile], start=False)
    window.context.confirm = answers
    window.context.is_running = running
    window.start()
    return window


def _select(window, name: str) -> None:
    for row in range(window.proxy.rowCount()):
        if window.proxy.index(row, 0).data(RecordRole).name == name:
            window.table.selectRow(row)
            return
    raise AssertionError(name)


def test_clear_trackers_shows_the_plan_then_deletes_and_undo_puts_it_back(make_window, profile):
    answers = Answers(QDialog.DialogCode.Accepted, QMessageBox.StandardButton.Yes)
    window = _window(make_window, profile, answers)
    window.clear_trackers_action.trigger()
    (dialog,) = answers.seen
    assert isinstance(dialog, DeleteDialog)
    assert {e.name for e in dialog.plan.entries} == {"_ga", "IDE"}
    assert "can sign you out of sites" in dialog.summary.text()
    assert _names(profile) == {"sid"}
    assert {e.name for e in window.entries.entries} == {"sid"}, "the window scanned again"
    assert "Deleted 2 entries" in window.status.text()
    window.undo_action.trigger()
    assert _names(profile) == {"_ga", "sid", "IDE"}
    assert "Restored 2 entries" in window.status.text()


def test_delete_the_selection_and_cancel_changes_nothing(make_window, profile):
    answers = Answers(QDialog.DialogCode.Rejected, QDialog.DialogCode.Accepted)
    window = _window(make_window, profile, answers)
    _select(window, "sid")
    window.delete_action.trigger()
    assert _names(profile) == {"_ga", "sid", "IDE"}
    window.delete_action.trigger()
    assert [e.name for e in answers.seen[1].plan.entries] == ["sid"]
    assert _names(profile) == {"_ga", "IDE"}


def test_a_running_browser_means_waiting_then_a_fresh_plan(make_window, profile, qtbot):
    state = {"running": True}
    answers = Answers(WAIT, QDialog.DialogCode.Accepted)
    window = _window(make_window, profile, answers, running=lambda p: state["running"])
    window.clear_trackers_action.trigger()
    first = answers.seen[0]
    assert not first.delete_button.isEnabled()
    assert "chromium is running on the profile Default" in first.refused.text()
    assert "Waiting for chromium to close" in window.status.text()
    assert _names(profile) == {"_ga", "sid", "IDE"}
    state["running"] = False  # the user closes the browser
    qtbot.waitUntil(lambda: len(answers.seen) == 2, timeout=5000)
    assert not answers.seen[1].plan.refused
    assert _names(profile) == {"sid"}


def test_always_keep_a_site_and_the_keep_list_page(make_window, profile, data_dir):
    answers = Answers(QDialog.DialogCode.Accepted, QDialog.DialogCode.Rejected)
    window = _window(make_window, profile, answers)
    _select(window, "IDE")
    window.keep_site_action.trigger()
    assert KeepList.load(data_dir).sites == ("doubleclick.net",)
    window.clear_trackers_action.trigger()
    assert _names(profile) == {"sid", "IDE"}, "the kept site's tracker stays"
    window.keep_list_action.trigger()
    page = answers.seen[1]
    assert page.model.stringList() == ["site doubleclick.net"]
    page.view.selectAll()
    page.remove_selected()
    assert KeepList.load(data_dir).sites == ()


def test_an_unreadable_keep_list_stops_the_deletion(make_window, profile, data_dir, monkeypatch):
    warnings = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a: warnings.append(a[2]))
    answers = Answers()
    window = _window(make_window, profile, answers)
    data_dir.mkdir(mode=0o700, exist_ok=True)
    (data_dir / "keep.json").write_text("[", encoding="utf-8")
    window.clear_trackers_action.trigger()
    assert answers.seen == [] and "cannot be read, so nothing is deleted" in warnings[0]
    assert _names(profile) == {"_ga", "sid", "IDE"}


@pytest.mark.real_browser
def test_ask_a_running_chromium_to_close_then_delete(make_window, make_chromium_profile, qtbot):
    from privacy_inspector.gui.deletedialog import ASK_CLOSE
    from privacy_inspector.platform import discovery, locks

    made = make_chromium_profile()
    with made.running():
        (profile,) = discovery.resolve(made.profile_dir)
        answers = Answers(ASK_CLOSE, QDialog.DialogCode.Accepted)
        window = _window(make_window, profile, answers, running=locks.is_running)
        window.context.request_close = locks.request_close
        window.clear_trackers_action.trigger()
        assert answers.seen[0].plan.refused, "the first plan is refused: Chromium runs"
        qtbot.waitUntil(lambda: len(answers.seen) == 2, timeout=90_000)
        assert not answers.seen[1].plan.refused
        qtbot.waitUntil(lambda: "Deleted" in window.status.text(), timeout=30_000)
    trackers = {e.name for e in window.entries.entries if e.tracker and e.kind == "cookie"}
    assert trackers == set(), "the tracker cookies are gone"
    assert {e.name for e in window.entries.entries if e.kind == "cookie"} >= {"lo_domain", "lo_host"}


def test_delete_all_shown_takes_what_the_search_shows(make_window, profile):
    answers = Answers(QDialog.DialogCode.Accepted)
    window = _window(make_window, profile, answers)
    window.filters.search.setText("liveops")
    window.filters.flush()
    assert {e.name for e in window.proxy.visible_entries()} == {"_ga", "sid"}
    window.delete_shown_action.trigger()
    assert {e.name for e in answers.seen[0].plan.entries} == {"_ga", "sid"}
    assert _names(profile) == {"IDE"}
