"""Deleting a tracker's sessionStorage from the session files Firefox ESR 153
wrote, proven by starting Firefox on them again.

The LiveOps page stores ``lo_ss_cart`` in sessionStorage and its DoubleClick
frame (a tracker) stores ``dc_ss_seen``; Firefox keeps both, and the session
cookie ``lo_session``, only in its session files.  After ``clear --trackers``
the tracker's item must be gone from every session file and everything of
LiveOps kept; Firefox must then take the file as its own session: it starts
without an error, restores the session from it (LiveOps' item and session
cookie are still there when it saves the session again at exit) and its file
reads as before.  After ``undo`` the tracker's item is back, and Firefox
keeps it through another start.

Firefox restores the visited tabs lazily (``Firefox.close`` leaves a blank
tab selected), so no restored page runs and the proof is in the files it
writes: their sessionStorage is what Firefox restored into the tabs' state.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy_inspector.browsers import firefox_session_write as fsw
from privacy_inspector.browsers import mozlz4, writers
from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.platform import discovery
from tests.harness.cli import cli_json as _cli
from tests.harness.site import DOUBLECLICK, EXAMPLE_NEWS_HOME, LIVEOPS

pytestmark = pytest.mark.real_browser

SESSION_KINDS = ("cookie", "session_storage")
TRACKER_ITEM = "dc_ss_seen"
OWNER_ITEM = "lo_ss_cart"
OWNER_COOKIE = "lo_session"


@pytest.fixture
def with_session_writer():
    """The session writer serves the session files (registered in writers._factories)."""
    assert any(f is fsw.writer_for for f in writers._factories())


def _session_entries(profile_dir: Path) -> dict[str, tuple]:
    """id -> (kind, host, name, store, tracker) of every entry from a session file."""
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile], kinds=SESSION_KINDS, classifier=Classifier(load_policy()))
    assert result.errors == []
    return {e.id: (e.kind, e.host, e.name, e.store, bool(e.tracker))
            for e in result.entries if e.store in fsw.STALE}


def _session_files(profile_dir: Path) -> dict[str, bytes]:
    """Every session file and backup Firefox keeps (``*lz4``), decompressed."""
    files = [profile_dir / "sessionstore.jsonlz4",
             *sorted((profile_dir / "sessionstore-backups").glob("*lz4*"))]
    return {p.relative_to(profile_dir).as_posix(): mozlz4.read(p) for p in files if p.is_file()}


def _storage_items(data: bytes) -> set[tuple[str, str]]:
    """(origin with suffix, key) of every sessionStorage item of a session file."""
    state = json.loads(data)
    found = set()
    for _, tab in fsw._tabs(state):
        for origin, items in (tab.get("storage") or {}).items():
            found.update((origin, key) for key in items)
    return found


def test_clear_trackers_session_storage_and_undo_in_firefox(
        make_firefox_profile, data_dir, capsys, with_session_writer):
    ff = make_firefox_profile()
    profile_dir = ff.profile_dir
    live = profile_dir / "sessionstore.jsonlz4"
    before = _session_entries(profile_dir)
    names = {(kind, host, name): tracker for kind, host, name, _, tracker in before.values()}
    assert names[("session_storage", DOUBLECLICK, TRACKER_ITEM)] is True
    assert names[("session_storage", LIVEOPS, OWNER_ITEM)] is False
    assert names[("cookie", LIVEOPS, OWNER_COOKIE)] is False
    tracker_ids = {i for i, e in before.items() if e[4]}
    assert {before[i][:3] for i in tracker_ids} == {("session_storage", DOUBLECLICK, TRACKER_ITEM)}
    owner_items = {i for i in _storage_items(mozlz4.read(live)) if i[1] == OWNER_ITEM}
    assert len(owner_items) == 1

    code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json",
                     "--profile", str(profile_dir), "--data-dir", str(data_dir))
    assert code == 0, doc
    assert doc["refused"] == [] and doc["errors"] == [] and doc["journal_id"]
    assert tracker_ids <= set(doc["deleted"])
    assert not tracker_ids & {k["id"] for k in doc["kept"]}
    written = live.read_bytes()
    after = _session_entries(profile_dir)
    assert after == {i: e for i, e in before.items() if i not in tracker_ids}
    files = _session_files(profile_dir)
    assert list(files) == ["sessionstore.jsonlz4"]  # Firefox kept no backup after one run
    assert TRACKER_ITEM.encode() not in files["sessionstore.jsonlz4"]
    assert {i for i in _storage_items(files["sessionstore.jsonlz4"]) if i[1] == OWNER_ITEM} == owner_items

    # Firefox takes the file as its session: it starts and loads a page
    # without errors, and what it saves at exit still holds LiveOps' session
    # item and cookie (a session file it could not read would have left it
    # with a fresh, empty session) and not the tracker's item.
    ff.visit([EXAMPLE_NEWS_HOME])
    assert live.read_bytes() != written, "Firefox wrote its session again"
    # At its first save Firefox moved the file it started from aside, untouched.
    assert (profile_dir / "sessionstore-backups" / "previous.jsonlz4").read_bytes() == written
    files = _session_files(profile_dir)
    assert owner_items <= _storage_items(files["sessionstore.jsonlz4"])
    for name, data in files.items():  # the live file, previous.jsonlz4, upgrade.jsonlz4-<build>
        assert TRACKER_ITEM.encode() not in data, name
    assert _session_entries(profile_dir) == after

    code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
    assert code == 0, undone
    assert sorted(undone["restored"]) == sorted(doc["deleted"]) and undone["skipped"] == [], undone
    assert _session_entries(profile_dir) == before

    # Firefox keeps the restored item: it is in the session it saves next.
    ff.visit([EXAMPLE_NEWS_HOME])
    assert _session_entries(profile_dir) == before
    items = _storage_items(mozlz4.read(live))
    assert owner_items <= items and any(key == TRACKER_ITEM for _, key in items)
