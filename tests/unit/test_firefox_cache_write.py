"""Cache Storage and service worker writers for Firefox, on files made with
the layouts Firefox ESR 153 writes (``caches.sqlite`` with its morgue, and
``serviceworker.txt`` version 12).

Real Firefox proves the round trip in tests/real/test_real_firefox_delete_cache.py;
these cover a partial selection, a cache or registration set again before
undo, and a ``serviceworker.txt`` Firefox rewrote in between.
"""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from types import SimpleNamespace

import pytest

from privacy_inspector.actions import delete as deleting
from privacy_inspector.actions import journal as journals
from privacy_inspector.actions.keep import KeepList
from privacy_inspector.browsers import firefox_cache_write as fcw
from privacy_inspector.browsers import firefox_idb as fi
from privacy_inspector.browsers import writers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.core.records import Entry, Profile
from tests.unit.test_firefox_storage import DEMO, SW_V12, make_caches

TRACKER = "https+++ad.doubleclick.net^partitionKey=%28https%2Cliveops.com%29"
OWNER = "https+++www.liveops.com"
CACHES = {
    (0, "pi-cache-v1"): [("https://ad.doubleclick.net/a", 5000), ("https://ad.doubleclick.net/b", 7)],
    (0, "pi-empty"): [],
    (0, ""): [("https://ad.doubleclick.net/c", 3)],
    (1, "sw-script-cache"): [("https://ad.doubleclick.net/sw.js", 40)],  # the browser's own
}
THIRD = (
    "^userContextId=2\n"
    "https://tracker.example/\n"
    "https://tracker.example/w.js\n"
    "true\n{00000000-0000-0000-0000-000000000002}\n0\n1\n2\n3\n0\ntrue\n"
    "#\n"
)


def _profile(path: Path) -> Profile:
    path.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(DEMO / "storage.sqlite", path / "storage.sqlite")
    return Profile(path, "firefox", "firefox", "default-release")


def _journal(tmp_path: Path) -> journals.StoreJournal:
    journal = journals.Journal.create(tmp_path / "state", "test")
    record = journals.StoreRecord("p", "firefox", "firefox", "p", "cache_storage", "s", "w")
    journal.add_store(record)
    journal.save()
    return journal.for_store(record)


def _read(reader, profile: Profile) -> list[Entry]:
    options = ReadOptions(show_values=True)
    entries = list(reader(profile, options))
    assert options.problems == []
    return entries


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _quota_valid(profile: Profile) -> int:
    conn = sqlite3.connect(profile.path / "storage.sqlite")
    try:
        return conn.execute("SELECT valid FROM cache").fetchone()[0]
    finally:
        conn.close()


def _with_caches(tmp_path: Path) -> tuple[Profile, Path]:
    profile = _profile(tmp_path / "p")
    cache = profile.path / "storage" / "default" / TRACKER / "cache"
    make_caches(cache, CACHES)
    (cache / ".padding").write_bytes(b"\0" * 8)
    make_caches(profile.path / "storage" / "default" / OWNER / "cache", {(0, "own"): [("https://o/", 9)]})
    return profile, cache


def _tracker_caches(profile: Profile) -> list[Entry]:
    return [e for e in _read(fi.read_cache_storage, profile) if "doubleclick" in e.origin]


# --------------------------------------------------------------------------


def test_which_stores_have_a_writer(tmp_path):
    profile = _profile(tmp_path / "p")
    store = f"storage/default/{TRACKER}/cache/caches.sqlite"
    assert isinstance(fcw.writer_for(profile, "cache_storage", store), fcw.CacheStorageWriter)
    assert isinstance(fcw.writer_for(profile, "service_worker", "serviceworker.txt"),
                      fcw.ServiceWorkerWriter)
    assert fcw.writer_for(profile, "cache_storage", f"storage/default/{TRACKER}/idb/x.sqlite") is None
    assert fcw.writer_for(profile, "cache_storage", "storage/default/../cache/caches.sqlite") is None
    assert fcw.writer_for(profile, "service_worker", "other.txt") is None
    assert fcw.writer_for(profile, "indexed_db", store) is None
    chromium = Profile(tmp_path / "c", "chrome", "chromium", "Default")
    assert fcw.writer_for(chromium, "cache_storage", store) is None


def test_every_cache_of_an_origin_goes_whole_and_comes_back_byte_for_byte(tmp_path):
    profile, cache = _with_caches(tmp_path)
    before = _files(cache)
    owner_before = _files(cache.parent.parent / OWNER)
    entries = _tracker_caches(profile)
    assert sorted(e.name for e in entries) == ["", "pi-cache-v1", "pi-empty"]
    writer = fcw.writer_for(profile, "cache_storage", entries[0].store)
    journal = _journal(tmp_path)

    deleted = writer.delete(entries, journal)

    assert deleted == sorted(e.id for e in entries)
    assert not cache.exists()
    assert cache.parent.is_dir()
    assert _files(journal.files() / "cache") == before
    assert _tracker_caches(profile) == []
    assert _files(cache.parent.parent / OWNER) == owner_before
    assert _quota_valid(profile) == 0
    assert writer.delete(entries, _journal(tmp_path)) == []  # already gone

    restored, skipped = writer.restore(journal)
    assert (sorted(restored), skipped) == (deleted, [])
    assert _files(cache) == before
    assert [e.id for e in _tracker_caches(profile)] == [e.id for e in entries]


def test_a_partial_selection_is_refused_with_nothing_changed(tmp_path):
    profile, cache = _with_caches(tmp_path)
    before = _files(cache)
    entries = [e for e in _tracker_caches(profile) if e.name == "pi-cache-v1"]
    writer = fcw.writer_for(profile, "cache_storage", entries[0].store)
    journal = _journal(tmp_path)
    with pytest.raises(WriteError, match="^this version deletes an origin's Cache Storage whole; "
                                         "2 other caches were not chosen$"):
        writer.delete(entries, journal)
    assert _files(cache) == before
    assert list(journal.files().iterdir()) == []
    assert _quota_valid(profile) == 1
    # An entry of another origin is not a choice here.
    assert writer.delete([], journal) == []


def test_a_cache_folder_made_again_is_left_alone(tmp_path):
    profile, cache = _with_caches(tmp_path)
    entries = _tracker_caches(profile)
    writer = fcw.writer_for(profile, "cache_storage", entries[0].store)
    journal = _journal(tmp_path)
    writer.delete(entries, journal)
    make_caches(cache, {(0, "new"): []})
    restored, skipped = writer.restore(journal)
    assert restored == []
    assert skipped == [(i, "set again since the deletion; left as it is now") for i in sorted(e.id for e in entries)]
    assert [e.name for e in _tracker_caches(profile)] == ["new"]


def test_an_empty_cache_storage_opened_since_steps_aside(tmp_path):
    # Firefox makes an empty cache folder as soon as a page asks caches.keys().
    profile, cache = _with_caches(tmp_path)
    before = _files(cache)
    entries = _tracker_caches(profile)
    writer = fcw.writer_for(profile, "cache_storage", entries[0].store)
    journal = _journal(tmp_path)
    writer.delete(entries, journal)
    make_caches(cache, {})
    (cache / "morgue").mkdir()
    (cache / ".padding").write_bytes(b"\0" * 8)
    empty = _files(cache)
    restored, skipped = writer.restore(journal)
    assert (sorted(restored), skipped) == (sorted(e.id for e in entries), [])
    assert _files(cache) == before
    assert _files(journal.files() / "cache-opened-since") == empty


def test_a_worker_script_cache_made_since_is_left_alone(tmp_path):
    profile, cache = _with_caches(tmp_path)
    entries = _tracker_caches(profile)
    writer = fcw.writer_for(profile, "cache_storage", entries[0].store)
    journal = _journal(tmp_path)
    writer.delete(entries, journal)
    make_caches(cache, {(1, "sw-script-cache-2"): []})  # the worker fetched its script again
    now = _files(cache)
    restored, skipped = writer.restore(journal)
    assert restored == [] and {why for _, why in skipped} == {"set again since the deletion; left as it is now"}
    assert _files(cache) == now


def test_a_partial_selection_applied_is_an_error_with_nothing_changed(tmp_path, monkeypatch):
    profile, cache = _with_caches(tmp_path)
    assert fcw.writer_for in writers._factories()
    entries = _tracker_caches(profile)
    selection = deleting.Selection(ids=frozenset(e.id for e in entries if e.name == "pi-empty"))
    plan = deleting.make_plan([profile], entries, selection, KeepList(), running=lambda p: False)
    outcome = deleting.apply(plan, tmp_path / "state", "test", running=lambda p: False)
    assert outcome.deleted == []
    ((_, store, message),) = outcome.errors
    assert store.endswith("/cache/caches.sqlite") and "2 other caches were not chosen" in message
    assert cache.is_dir()


# --------------------------------------------------------------------------
# serviceworker.txt
# --------------------------------------------------------------------------


def _sw_profile(tmp_path: Path, text: str = SW_V12 + THIRD) -> Profile:
    profile = _profile(tmp_path / "p")
    (profile.path / "serviceworker.txt").write_bytes(text.encode("utf-8"))
    return profile


def test_split_gives_the_file_back():
    data = (SW_V12 + THIRD).encode()
    header, records, tail = fcw.split_service_workers(data)
    assert header == b"12\n" and len(records) == 3 and tail == b""
    assert header + b"".join(records) + tail == data
    cut = data + b"^x\nhttps://cut.example/\n"
    assert b"".join((lambda h, r, t: [h, *r, t])(*fcw.split_service_workers(cut))) == cut


def test_a_registration_is_cut_out_and_put_back_byte_for_byte(tmp_path):
    profile = _sw_profile(tmp_path)
    path = profile.path / "serviceworker.txt"
    path.chmod(0o600)
    original = path.read_bytes()
    entries = _read(fi.read_service_workers, profile)
    assert len(entries) == 3
    ad = [e for e in entries if e.origin == "https://ad.doubleclick.net"]
    writer = fcw.writer_for(profile, "service_worker", "serviceworker.txt")
    journal = _journal(tmp_path)

    assert writer.delete(ad, journal) == [ad[0].id]

    records = SW_V12.split("#\n")
    assert path.read_bytes() == ("12\n" + records[0].removeprefix("12\n") + "#\n" + THIRD).encode()
    assert (path.stat().st_mode & 0o777) == 0o600
    assert [e.id for e in _read(fi.read_service_workers, profile)] == [e.id for e in entries if e not in ad]
    assert (journal.files() / "serviceworker.txt").read_bytes() == original
    assert writer.delete(ad, _journal(tmp_path)) == []

    assert writer.restore(journal) == ([ad[0].id], [])
    assert path.read_bytes() == original
    assert (path.stat().st_mode & 0o777) == 0o600


def test_a_file_firefox_rewrote_gets_the_missing_records_back(tmp_path):
    profile = _sw_profile(tmp_path)
    path = profile.path / "serviceworker.txt"
    entries = _read(fi.read_service_workers, profile)
    chosen = [e for e in entries if e.origin != "https://www.example-news.org:8443"]
    writer = fcw.writer_for(profile, "service_worker", "serviceworker.txt")
    journal = _journal(tmp_path)
    assert writer.delete(chosen, journal) == sorted(e.id for e in chosen)
    # Firefox ran: it registered tracker.example again and wrote its file anew.
    path.write_bytes(path.read_bytes() + THIRD.replace("{00000000-0000-0000-0000-000000000002}", "{new}").encode())
    third = next(e for e in chosen if e.origin == "https://tracker.example")
    ad = next(e for e in chosen if e is not third)

    restored, skipped = writer.restore(journal)

    assert restored == [ad.id]
    assert skipped == [(third.id, "set again since the deletion; left as it is now")]
    now = _read(fi.read_service_workers, profile)
    assert sorted(e.id for e in now) == sorted(e.id for e in entries)
    assert b"{new}" in path.read_bytes() and b"{00000000-0000-0000-0000-000000000002}" not in path.read_bytes()


def test_a_removed_file_is_written_again_with_the_records(tmp_path):
    profile = _sw_profile(tmp_path, SW_V12)
    path = profile.path / "serviceworker.txt"
    entries = _read(fi.read_service_workers, profile)
    writer = fcw.writer_for(profile, "service_worker", "serviceworker.txt")
    journal = _journal(tmp_path)
    writer.delete(entries, journal)
    assert path.read_bytes() == b"12\n"
    path.unlink()
    restored, skipped = writer.restore(journal)
    assert (sorted(restored), skipped) == (sorted(e.id for e in entries), [])
    assert path.read_bytes() == SW_V12.encode()


def test_a_file_without_a_version_is_refused(tmp_path):
    profile = _sw_profile(tmp_path, "x\n" + SW_V12.split("\n", 1)[1])
    writer = fcw.writer_for(profile, "service_worker", "serviceworker.txt")
    with pytest.raises(WriteError, match="version number"):
        writer.delete([SimpleNamespace(id="anything")], _journal(tmp_path))
