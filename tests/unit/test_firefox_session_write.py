"""Firefox session-file writers on the session file Firefox ESR 153 wrote for
the demo profile, and on states built from its structure.

Real Firefox proves that it takes the written file as its session in
tests/real/test_real_firefox_delete_session.py; these cover what it cannot
show: several tabs, closed tabs and windows, containers, the stale
``previous.jsonlz4``, an item set again before undo, a tab gone, two writers
on one file, damaged files, and JSON written the way ``JSON.stringify`` does.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import struct
from pathlib import Path
from typing import Any

import lz4.block
import pytest

from privacy_inspector.actions import journal as journals
from privacy_inspector.browsers import firefox_session_write as fsw
from privacy_inspector.browsers import mozlz4
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.firefox import read_session_cookies
from privacy_inspector.browsers.firefox_storage import read_session_storage
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.cli import main as cli
from privacy_inspector.core.records import Entry, Profile

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo" / "firefox" / "demo.default-release"
LIVE = "sessionstore.jsonlz4"
RECOVERY = "sessionstore-backups/recovery.jsonlz4"
PREVIOUS = "sessionstore-backups/previous.jsonlz4"
TRACKER = "https://ad.doubleclick.net^partitionKey=%28https%2Cliveops.com%29"
OWNER = "https://www.liveops.com"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _demo_state() -> dict[str, Any]:
    return json.loads(mozlz4.read(DEMO / LIVE))


def _profile(tmp_path: Path, files: dict[str, Any] | None = None) -> Profile:
    """A profile with the demo's session file, or with the given states (or bytes)."""
    path = tmp_path / "profile.default-release"
    path.mkdir(parents=True)
    if files is None:
        shutil.copyfile(DEMO / LIVE, path / LIVE)
    for name, content in (files or {}).items():
        (path / name).parent.mkdir(parents=True, exist_ok=True)
        data = content if isinstance(content, bytes) else mozlz4.encode(fsw.js_stringify(content))
        (path / name).write_bytes(data)
    return Profile(path, "firefox", "firefox", "default-release")


def _journal(tmp_path: Path, kind: str = "session_storage", store: str = LIVE) -> journals.StoreJournal:
    journal = journals.Journal.create(tmp_path / "state", "test")
    record = journals.StoreRecord("p", "firefox", "firefox", "p", kind, store, "w")
    journal.add_store(record)
    return journal.for_store(record)


def _storage(profile: Profile) -> list[Entry]:
    options = ReadOptions(show_values=True)
    entries = read_session_storage(profile, options)
    assert options.problems == []
    return entries


def _cookies(profile: Profile) -> list[Entry]:
    options = ReadOptions(show_values=True)
    entries = read_session_cookies(profile, options)
    assert options.problems == []
    return entries


def _listed(entries: list[Entry]) -> set[tuple]:
    return {(e.store, e.origin or e.host, e.name, e.container, e.value) for e in entries}


def _state(profile: Profile, store: str = LIVE) -> dict[str, Any]:
    return json.loads(mozlz4.read(profile.path / store))


def _tab(urls: list[str], storage: dict[str, dict[str, str]] | None, **extra: Any) -> dict[str, Any]:
    """A tab shaped like the demo's (entries, then the keys Firefox writes, storage among them)."""
    tab: dict[str, Any] = {"entries": [{"url": u, "title": "done"} for u in urls],
                           "lastAccessed": 1795911568000, "hidden": False, "userContextId": 0,
                           "attributes": {}}
    if storage is not None:
        tab["storage"] = storage
    tab.update({"index": len(urls), "requestedIndex": 0, **extra})
    return tab


# The demo's window has three tabs (LiveOps, the news site, a blank one); the
# rich state adds the cart tab and the container tab after them.
CART, CONTAINER = 3, 4


def _rich_state() -> dict[str, Any]:
    """The demo's state with more tabs: a second tab sharing LiveOps' items, a
    container tab, a closed tab, a closed window, and 0.5 (a float)."""
    state = _demo_state()
    window = state["windows"][0]
    window["tabs"].append(_tab(["https://www.liveops.com/cart"], {
        OWNER: {"lo_ss_cart": "cart-3-items", "lo_ss_step": "2"},
        TRACKER: {"dc_ss_seen": "dc-session-1", "dc_ss_other": "x"},
    }))
    window["tabs"].append(_tab(["https://www.liveops.com/"], {TRACKER: {"dc_ss_seen": "in-a-container"}},
                               userContextId=2))
    window["_closedTabs"].append({"state": _tab(["https://news.example/"], {
        "https://news.example": {"n_ss": "é😀\u2028"}, TRACKER: {"dc_ss_seen": "closed"}}),
        "title": "news", "closedAt": 1795911560000, "pos": 3})
    state["_closedWindows"].append({"tabs": [_tab(["https://www.liveops.com/old"], {
        TRACKER + "&userContextId=3": {"dc_ss_seen": "old-window"}})], "_closedTabs": [],
        "zoom": 0.5})
    state["cookies"].append({"host": ".doubleclick.net", "value": "v", "path": "/", "name": "dc_sess",
                             "secure": True, "httponly": False,
                             "originAttributes": {"partitionKey": "(https,liveops.com)",
                                                  "userContextId": 0},
                             "sameSite": 0, "schemeMap": 2})
    return state


# --------------------------------------------------------------------------
# JSON as Firefox writes it
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("number", "text"), [
    (0.5, "0.5"), (100.0, "100"), (-2.5, "-2.5"), (1e20, "100000000000000000000"),
    (1e21, "1e+21"), (1.5e-7, "1.5e-7"), (1e-6, "0.000001"), (1.234e-6, "0.000001234"),
    (1e16, "10000000000000000"), (123456789012345680000.0, "123456789012345680000"),
    (5e-324, "5e-324"), (1.7976931348623157e308, "1.7976931348623157e+308"), (-0.0, "0"),
    (0.1 + 0.2, "0.30000000000000004"),
])
def test_numbers_are_written_as_javascript_writes_them(number, text):
    assert fsw.js_stringify([number]) == f"[{text}]".encode()


def test_strings_are_escaped_as_json_stringify_escapes_them():
    value = {"k\"\\": "\x00\x1f\x7f\b\f\n\r\t/é😀\u2028", "lone": "a\ud800b\udc00", "n": [True, None, 12]}
    assert fsw.js_stringify(value) == (
        '{"k\\"\\\\":"\\u0000\\u001f\x7f\\b\\f\\n\\r\\t/é😀\u2028",'
        '"lone":"a\\ud800b\\udc00","n":[true,null,12]}').encode("utf-8")


def test_the_demo_session_file_comes_back_byte_for_byte():
    raw = mozlz4.read(DEMO / LIVE)
    assert fsw.js_stringify(json.loads(raw)) == raw


# --------------------------------------------------------------------------
# The demo's own session file
# --------------------------------------------------------------------------


def test_writers_serve_session_files_only():
    profile = Profile(DEMO, "firefox", "firefox", "demo.default-release")
    for store in (LIVE, RECOVERY, PREVIOUS):
        assert isinstance(fsw.writer_for(profile, "session_storage", store), fsw.SessionStorageWriter)
        assert isinstance(fsw.writer_for(profile, "cookie", store), fsw.SessionCookieWriter)
    assert fsw.writer_for(profile, "cookie", "cookies.sqlite") is None
    assert fsw.writer_for(profile, "local_storage", LIVE) is None
    assert fsw.writer_for(profile, "session_storage", "sessionstore-backups/upgrade.jsonlz4") is None
    chromium = Profile(DEMO, "chromium", "chromium", "Default")
    assert fsw.writer_for(chromium, "session_storage", LIVE) is None


def test_the_trackers_session_storage_goes_and_comes_back_byte_for_byte(tmp_path):
    profile = _profile(tmp_path)
    path = profile.path / LIVE
    os.chmod(path, 0o640)
    original = path.read_bytes()
    entries = _storage(profile)
    tracker = [e for e in entries if e.name == "dc_ss_seen"]
    assert len(tracker) == 1 and tracker[0].store == LIVE
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)

    assert writer.delete(tracker, journal) == [tracker[0].id]

    assert _listed(_storage(profile)) == _listed(entries) - _listed(tracker)
    assert [e.name for e in _cookies(profile)] == ["lo_session"]
    expected = _demo_state()
    del expected["windows"][0]["tabs"][0]["storage"][TRACKER]  # its only key: the origin goes
    assert mozlz4.read(path) == fsw.js_stringify(expected)  # nothing else changed, byte for byte
    data = path.read_bytes()
    # Gecko's container: magic, the decompressed size (uint32, little-endian), one LZ4 block.
    size = struct.unpack("<I", data[8:12])[0]
    assert data[:8] == b"mozLz40\0" and size == len(fsw.js_stringify(expected))
    assert lz4.block.decompress(data[12:], uncompressed_size=size) == fsw.js_stringify(expected)
    assert path.stat().st_mode & 0o777 == 0o640
    assert (journal.files() / "sessionstore.jsonlz4").read_bytes() == original
    assert not list(path.parent.glob(".*.tmp"))

    assert writer.restore(journal) == ([tracker[0].id], [])
    assert path.read_bytes() == original
    assert path.stat().st_mode & 0o777 == 0o640
    assert _listed(_storage(profile)) == _listed(entries)


def test_a_session_cookie_goes_and_comes_back_byte_for_byte(tmp_path):
    profile = _profile(tmp_path)
    path = profile.path / LIVE
    original = path.read_bytes()
    (cookie,) = _cookies(profile)
    writer = fsw.writer_for(profile, "cookie", LIVE)
    journal = _journal(tmp_path, "cookie")
    assert writer.delete([cookie], journal) == [cookie.id]
    assert _cookies(profile) == []
    assert len(_storage(profile)) == 2
    expected = _demo_state()
    expected["cookies"] = []
    assert mozlz4.read(path) == fsw.js_stringify(expected)
    assert writer.restore(journal) == ([cookie.id], [])
    assert path.read_bytes() == original


def test_clear_and_undo_through_the_cli(tmp_path, monkeypatch, capsys):
    copy_dir = tmp_path / "demo.default-release"
    shutil.copytree(DEMO, copy_dir)
    profile = Profile(copy_dir, "firefox", "firefox", "demo.default-release")
    original = (copy_dir / LIVE).read_bytes()
    where = ["--profile", str(copy_dir), "--data-dir", str(tmp_path / "state")]
    assert cli.main(["clear", "--trackers", "--yes", "--format", "json", *where]) == 0
    doc = json.loads(capsys.readouterr().out)
    (tracker,) = [e for e in _storage(Profile(DEMO, "firefox", "firefox", "demo.default-release"))
                  if e.name == "dc_ss_seen"]
    assert tracker.id in doc["deleted"] and doc["errors"] == []
    assert "dc_ss_seen" not in {e.name for e in _storage(profile)}
    assert {e.name for e in _storage(profile)} == {"lo_ss_cart"}
    assert cli.main(["undo", "--yes", "--format", "json", *where]) == 0
    undone = json.loads(capsys.readouterr().out)
    assert tracker.id in undone["restored"] and undone["skipped"] == []
    assert (copy_dir / LIVE).read_bytes() == original


# --------------------------------------------------------------------------
# States built from the demo's structure
# --------------------------------------------------------------------------


def test_every_occurrence_goes_and_only_the_planned_ones(tmp_path):
    state = _rich_state()
    profile = _profile(tmp_path, {LIVE: state})
    entries = _storage(profile)
    # One item per (origin, partition, container, key): the container tab's
    # and the closed window's are other items, the second tab's the same one.
    seen = [e for e in entries if e.name == "dc_ss_seen"]
    assert sorted(e.container or 0 for e in seen) == [0, 2, 3]
    planned = [e for e in seen if e.container is None]
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    assert writer.delete(planned, journal) == [planned[0].id]

    expected = copy.deepcopy(state)
    window = expected["windows"][0]
    del window["tabs"][0]["storage"][TRACKER]
    del window["tabs"][CART]["storage"][TRACKER]["dc_ss_seen"]
    del window["_closedTabs"][0]["state"]["storage"][TRACKER]
    assert _state(profile) == expected
    assert mozlz4.read(profile.path / LIVE) == fsw.js_stringify(expected)
    assert _listed(_storage(profile)) == _listed(entries) - _listed(planned)
    assert len(journal.load()["removed"]) == 3

    assert writer.restore(journal) == ([planned[0].id], [])
    assert _state(profile) == state
    assert mozlz4.read(profile.path / LIVE) == fsw.js_stringify(state)


def test_a_rewritten_file_gets_each_item_back_at_its_place(tmp_path):
    # Firefox ran after the deletion: the file is not the one written, so the
    # items go back into it, each where it was, and the rest stays as Firefox wrote it.
    state = _rich_state()
    profile = _profile(tmp_path, {LIVE: state})
    planned = [e for e in _storage(profile) if e.origin == "https://ad.doubleclick.net"]
    assert len(planned) == 4
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    assert sorted(writer.delete(planned, journal)) == sorted(e.id for e in planned)
    assert all("storage" not in t for t in (_state(profile)["windows"][0]["tabs"][CONTAINER],
                                            _state(profile)["_closedWindows"][0]["tabs"][0]))

    rewritten = _state(profile)
    rewritten["session"]["lastUpdate"] += 5000
    rewritten["windows"][0]["tabs"][0]["storage"][OWNER]["lo_ss_new"] = "added"
    (profile.path / LIVE).write_bytes(mozlz4.encode(fsw.js_stringify(rewritten)))

    restored, skipped = writer.restore(journal)
    assert sorted(restored) == sorted(e.id for e in planned) and skipped == []
    expected = copy.deepcopy(state)
    expected["session"]["lastUpdate"] += 5000
    expected["windows"][0]["tabs"][0]["storage"][OWNER]["lo_ss_new"] = "added"
    assert mozlz4.read(profile.path / LIVE) == fsw.js_stringify(expected)


def test_an_item_set_again_is_left_alone_and_a_gone_tab_is_said(tmp_path):
    state = _rich_state()
    profile = _profile(tmp_path, {LIVE: state})
    planned = [e for e in _storage(profile) if e.name in ("dc_ss_seen", "dc_ss_other")]
    by_container = {(e.name, e.container): e.id for e in planned}
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    writer.delete(planned, journal)

    now = _state(profile)
    # The site set its item again (a new value), and the closed window was forgotten.
    now["windows"][0]["tabs"][0]["storage"][TRACKER] = {"dc_ss_seen": "set-again"}
    now["_closedWindows"] = []
    (profile.path / LIVE).write_bytes(mozlz4.encode(fsw.js_stringify(now)))

    restored, skipped = writer.restore(journal)
    assert sorted(restored) == sorted([by_container[("dc_ss_other", None)],
                                       by_container[("dc_ss_seen", 2)]])
    assert dict(skipped) == {by_container[("dc_ss_seen", None)]: fsw.SET_AGAIN,
                             by_container[("dc_ss_seen", 3)]: fsw.TAB_GONE}
    values = {(e.name, e.container): e.value for e in _storage(profile)}
    assert values[("dc_ss_seen", None)] == "set-again"
    assert values[("dc_ss_seen", 2)] == "in-a-container"
    # The item set again is the same one (same origin, partition, container,
    # key) as the cart tab's copy: that copy stays out too.
    assert _state(profile)["windows"][0]["tabs"][CART]["storage"][TRACKER] == {"dc_ss_other": "x"}


def test_a_moved_tab_is_found_by_its_history(tmp_path):
    state = _rich_state()
    profile = _profile(tmp_path, {LIVE: state})
    planned = [e for e in _storage(profile) if e.name == "dc_ss_other"]
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    writer.delete(planned, journal)
    now = _state(profile)
    tabs = now["windows"][0]["tabs"]
    tabs.insert(0, tabs.pop(CART))  # the cart tab moved to the front
    (profile.path / LIVE).write_bytes(mozlz4.encode(fsw.js_stringify(now)))
    assert writer.restore(journal) == ([planned[0].id], [])
    tab = _state(profile)["windows"][0]["tabs"][0]
    assert tab["entries"][0]["url"] == "https://www.liveops.com/cart"
    assert tab["storage"][TRACKER] == {"dc_ss_seen": "dc-session-1", "dc_ss_other": "x"}


def test_cookies_and_storage_of_one_file_come_back_whatever_the_order(tmp_path):
    state = _rich_state()
    profile = _profile(tmp_path, {LIVE: state})
    cookie_writer = fsw.writer_for(profile, "cookie", LIVE)
    storage_writer = fsw.writer_for(profile, "session_storage", LIVE)
    cookies = [c for c in _cookies(profile) if c.name == "dc_sess"]
    items = [e for e in _storage(profile) if e.origin == "https://ad.doubleclick.net"]
    assert len(cookies) == 1 and cookies[0].partition_site == "liveops.com"
    cookie_journal, storage_journal = _journal(tmp_path, "cookie"), _journal(tmp_path)
    cookie_writer.delete(cookies, cookie_journal)
    storage_writer.delete(items, storage_journal)
    assert [c.name for c in _cookies(profile)] == ["lo_session"]
    # The cookie writer's file was changed by the other writer since: item by item.
    assert cookie_writer.restore(cookie_journal) == ([cookies[0].id], [])
    assert storage_writer.restore(storage_journal)[1] == []
    assert mozlz4.read(profile.path / LIVE) == fsw.js_stringify(state)


def test_a_cookie_set_again_is_left_alone(tmp_path):
    profile = _profile(tmp_path)
    (cookie,) = _cookies(profile)
    writer = fsw.writer_for(profile, "cookie", LIVE)
    journal = _journal(tmp_path, "cookie")
    writer.delete([cookie], journal)
    now = _state(profile)
    again = {**_demo_state()["cookies"][0], "value": "new-session"}
    now["cookies"].append(again)
    (profile.path / LIVE).write_bytes(mozlz4.encode(fsw.js_stringify(now)))
    assert writer.restore(journal) == ([], [(cookie.id, fsw.SET_AGAIN)])
    assert [c.value for c in _cookies(profile)] == ["new-session"]


def test_stale_previous_session_items_go_from_their_file_only(tmp_path):
    live = _demo_state()
    previous = _demo_state()
    previous["windows"][0]["tabs"][0]["storage"][TRACKER]["dc_ss_old"] = "stale"
    profile = _profile(tmp_path, {LIVE: live, PREVIOUS: previous})
    stale = [e for e in _storage(profile) if e.stale]
    assert [(e.name, e.store) for e in stale] == [("dc_ss_old", PREVIOUS)]
    live_bytes = (profile.path / LIVE).read_bytes()
    # The live file's writer does not know the stale id: nothing to do there.
    assert fsw.writer_for(profile, "session_storage", LIVE).delete(stale, _journal(tmp_path)) == []
    writer = fsw.writer_for(profile, "session_storage", PREVIOUS)
    journal = _journal(tmp_path, store=PREVIOUS)
    assert writer.delete(stale, journal) == [stale[0].id]
    assert [e for e in _storage(profile) if e.stale] == []
    assert _state(profile, PREVIOUS) == live
    assert (profile.path / LIVE).read_bytes() == live_bytes
    assert writer.restore(journal) == ([stale[0].id], [])
    assert _state(profile, PREVIOUS) == previous


def test_a_file_gone_since_is_said_not_recreated(tmp_path):
    profile = _profile(tmp_path)
    planned = [e for e in _storage(profile) if e.name == "dc_ss_seen"]
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    writer.delete(planned, journal)
    (profile.path / LIVE).unlink()  # Firefox started and moved it aside
    assert writer.restore(journal) == ([], [(planned[0].id, fsw.FILE_GONE)])
    assert not (profile.path / LIVE).exists()


def test_nothing_planned_left_in_the_file_changes_nothing(tmp_path):
    profile = _profile(tmp_path)
    planned = [e for e in _storage(profile) if e.name == "dc_ss_seen"]
    original = (profile.path / LIVE).read_bytes()
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    writer.delete(planned, journal)
    written = (profile.path / LIVE).read_bytes()
    assert writer.delete(planned, _journal(tmp_path)) == []  # already gone
    assert (profile.path / LIVE).read_bytes() == written != original


# --------------------------------------------------------------------------
# Files the writers refuse
# --------------------------------------------------------------------------


def _damaged() -> dict[str, bytes]:
    raw = mozlz4.read(DEMO / LIVE)
    good = (DEMO / LIVE).read_bytes()
    return {
        "not mozlz4": b"{" + raw,
        "truncated": good[: len(good) // 2],
        "not JSON": mozlz4.encode(raw[:-1]),
        "not UTF-8": mozlz4.encode(raw.replace(b"cart-3-items", b"cart-\xff-items")),
        "not a session": mozlz4.encode(b"[1,2]"),
        "not as Firefox writes it": mozlz4.encode(json.dumps(json.loads(raw), indent=1).encode()),
    }


@pytest.mark.parametrize("damage", sorted(_damaged()))
def test_a_damaged_file_is_refused_with_nothing_changed(tmp_path, damage):
    planned = [e for e in _storage(_profile(tmp_path / "good")) if e.name == "dc_ss_seen"]
    profile = _profile(tmp_path, {LIVE: _damaged()[damage]})
    # The same profile folder name: the planned entry has the same id here.
    assert profile.key == Profile(tmp_path / "good" / "profile.default-release", "firefox",
                                  "firefox", "default-release").key
    before = (profile.path / LIVE).read_bytes()
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    with pytest.raises(WriteError, match="nothing was changed"):
        writer.delete(planned, journal)
    assert (profile.path / LIVE).read_bytes() == before
    assert list(journal.files().iterdir()) == []
    assert sorted(p.name for p in profile.path.iterdir()) == [LIVE]


def test_restore_refuses_a_damaged_file_and_leaves_it(tmp_path):
    profile = _profile(tmp_path)
    planned = [e for e in _storage(profile) if e.name == "dc_ss_seen"]
    writer = fsw.writer_for(profile, "session_storage", LIVE)
    journal = _journal(tmp_path)
    writer.delete(planned, journal)
    damaged = _damaged()["truncated"]
    (profile.path / LIVE).write_bytes(damaged)
    with pytest.raises(WriteError, match="nothing was restored"):
        writer.restore(journal)
    assert (profile.path / LIVE).read_bytes() == damaged


def test_a_failed_write_leaves_the_file_as_it_was(tmp_path, monkeypatch):
    profile = _profile(tmp_path)
    planned = [e for e in _storage(profile) if e.name == "dc_ss_seen"]
    original = (profile.path / LIVE).read_bytes()
    real_replace = os.replace

    def failing_replace(source, target):
        if Path(target) == profile.path / LIVE:
            raise OSError(28, "No space left on device")
        real_replace(source, target)

    monkeypatch.setattr(os, "replace", failing_replace)  # every writer replaces through os
    with pytest.raises(WriteError, match="left as it was"):
        fsw.writer_for(profile, "session_storage", LIVE).delete(planned, _journal(tmp_path))
    assert (profile.path / LIVE).read_bytes() == original
    assert sorted(p.name for p in profile.path.iterdir()) == [LIVE]
