"""The Chromium localStorage and sessionStorage writers, on LevelDB folders in Chromium's layout.

The folders are the demo profile's (written by real Chromium) or written by
the real LevelDB (``plyvel``) with Chromium's keys, for the cases a browser
will not produce on demand (tabs sharing a map, a tab that wrote again since).
The real browser proves the round trip in
tests/real/test_real_chromium_delete_storage.py.
"""

from __future__ import annotations

import base64
import json
import shutil
from pathlib import Path

import plyvel
import pytest

from privacy_inspector import paths
from privacy_inspector.actions import delete as deleting
from privacy_inspector.actions.keep import KeepList
from privacy_inspector.browsers import chromium_storage as cs
from privacy_inspector.browsers import chromium_storage_write as csw
from privacy_inspector.browsers import leveldb
from privacy_inspector.browsers import leveldb_write as lw
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.leveldb import encode_varint
from privacy_inspector.browsers.writers import WriteError, writer_for
from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.core.records import Profile

DEMO = Path(__file__).resolve().parents[2] / "resources" / "demo" / "chromium"

LIVEOPS = "https://www.liveops.com"
DC = "https://ad.doubleclick.net/^0https://liveops.com"
T_MODIFIED, T_ACCESSED = 13_400_000_000_000_000, 13_400_000_100_000_000


def _meta(size: int) -> bytes:
    return b"\x08" + encode_varint(T_MODIFIED) + b"\x10" + encode_varint(size)


def _script_key(name: str) -> bytes:
    try:
        return b"\x01" + name.encode("latin-1")
    except UnicodeEncodeError:
        return b"\x00" + name.encode("utf-16-le")


def _local(sk: str, items: dict[str, str]) -> dict[bytes, bytes]:
    """The records Chromium keeps for one storage key's localStorage."""
    out = {b"_" + sk.encode() + b"\x00" + _script_key(k): _script_key(v) for k, v in items.items()}
    size = sum(len(_script_key(k)) + len(_script_key(v)) for k, v in items.items())
    out[b"META:" + sk.encode()] = _meta(size)
    out[b"METAACCESS:" + sk.encode()] = b"\x08" + encode_varint(T_ACCESSED)
    return out


def _profile(tmp_path: Path) -> Profile:
    path = tmp_path / "Default"
    path.mkdir(exist_ok=True)
    return Profile(path, "chromium", "chromium", "Default", root=tmp_path)


def _write(folder: Path, records: dict[bytes, bytes]) -> dict[bytes, bytes]:
    folder.mkdir(parents=True, exist_ok=True)
    db = plyvel.DB(str(folder), create_if_missing=True)
    with db.write_batch() as batch:
        for key, value in records.items():
            batch.put(key, value)
    db.close()
    return leveldb.read_records(folder)


def _plyvel(folder: Path) -> dict[bytes, bytes]:
    db = plyvel.DB(str(folder))
    try:
        return dict(db)
    finally:
        db.close()


class _Journal:
    """A StoreJournal in memory; it notes what the store held when the payload was saved."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.payload: dict | None = None
        self.held_at_save: dict[bytes, bytes] | None = None

    def save(self, payload: dict) -> None:
        self.payload = json.loads(json.dumps(payload))
        self.held_at_save = leveldb.read_records(self.folder)

    def load(self) -> dict:
        assert self.payload is not None
        return json.loads(json.dumps(self.payload))

    def files(self) -> Path:
        raise AssertionError("these writers keep no files")


def _local_entries(profile: Profile):
    return cs.read_local_storage(profile, ReadOptions(show_values=True))


def _session_entries(profile: Profile):
    return cs.read_session_storage(profile, ReadOptions(show_values=True))


# --------------------------------------------------------------------------
# Which stores
# --------------------------------------------------------------------------


def test_writers_serve_chromium_local_and_session_storage_only(tmp_path):
    profile = _profile(tmp_path)
    local = writer_for(profile, "local_storage", "Local Storage/leveldb")
    session = writer_for(profile, "session_storage", "Session Storage")
    assert local is not None and local.name == "chromium-local-storage"
    assert session is not None and session.name == "chromium-session-storage"
    assert csw.writer_for(profile, "indexed_db", "IndexedDB/x.indexeddb.leveldb") is None
    assert csw.writer_for(profile, "local_storage", "Session Storage") is None
    firefox = Profile(tmp_path / "p", "firefox", "firefox", "p")
    assert csw.writer_for(firefox, "local_storage", "Local Storage/leveldb") is None


# --------------------------------------------------------------------------
# localStorage
# --------------------------------------------------------------------------


@pytest.fixture
def local(tmp_path):
    profile = _profile(tmp_path)
    folder = profile.path / cs.LOCAL_STORAGE
    records = _write(folder, {
        b"VERSION": b"1",
        **_local(LIVEOPS, {"theme": "dark", "visitor": "v-42", "名前": "値"}),
        **_local(DC, {"dc_id": "dc-123"}),
    })
    return profile, folder, records


def test_the_journal_holds_every_removed_record_before_the_store_changes(local):
    profile, folder, records = local
    entries = [e for e in _local_entries(profile) if e.name in ("visitor", "名前")]
    journal = _Journal(folder)
    deleted = csw.LocalStorageWriter(profile).delete(entries, journal)
    assert deleted == sorted(e.id for e in entries)
    assert journal.held_at_save == records, "saved before the batch was appended"
    payload = journal.payload
    assert payload["format"] == csw.FORMAT and payload["ids"] == deleted
    removed = {base64.b64decode(r["key"]): base64.b64decode(r["value"]) for r in payload["removed"]}
    doomed = {k: v for k, v in records.items() if k.endswith((b"visitor", "名前".encode("utf-16-le")))}
    assert removed == doomed and len(doomed) == 2
    assert {base64.b64decode(k) for e in payload["entries"] for k in e["keys"]} == set(doomed)


def test_some_items_go_and_meta_keeps_its_time_with_the_size_that_is_left(local):
    profile, folder, records = local
    entries = [e for e in _local_entries(profile) if e.name == "visitor"]
    csw.LocalStorageWriter(profile).delete(entries, _Journal(folder))
    now = leveldb.read_records(folder)
    meta = b"META:" + LIVEOPS.encode()
    left = len(_script_key("theme") + _script_key("dark")) + len(
        _script_key("名前") + _script_key("値"))
    assert now[meta] == _meta(left) != records[meta]
    expected = {k: v for k, v in records.items() if not k.endswith(b"visitor")} | {meta: _meta(left)}
    assert now == expected
    assert _plyvel(folder) == expected
    assert {e.name for e in _local_entries(profile)} == {"theme", "名前", "dc_id"}


def test_the_last_item_of_a_storage_key_takes_its_meta_records_along(local):
    profile, folder, records = local
    entries = [e for e in _local_entries(profile) if e.partition_site == "liveops.com"]
    journal = _Journal(folder)
    csw.LocalStorageWriter(profile).delete(entries, journal)
    expected = {k: v for k, v in records.items() if DC.encode() not in k}
    assert leveldb.read_records(folder) == expected
    assert _plyvel(folder) == expected

    restored, skipped = csw.LocalStorageWriter(profile).restore(journal)
    assert restored == sorted(e.id for e in entries) and skipped == []
    assert leveldb.read_records(folder) == records
    assert _plyvel(folder) == records


def test_undo_puts_every_record_back_byte_for_byte(local):
    profile, folder, records = local
    entries = _local_entries(profile)
    journal = _Journal(folder)
    assert csw.LocalStorageWriter(profile).delete(entries, journal) == sorted(e.id for e in entries)
    assert leveldb.read_records(folder) == {b"VERSION": b"1"}
    restored, skipped = csw.LocalStorageWriter(profile).restore(journal)
    assert restored == sorted(e.id for e in entries) and skipped == []
    assert leveldb.read_records(folder) == records
    assert [(e.id, e.value) for e in _local_entries(profile)] == [(e.id, e.value) for e in entries]


def test_undo_leaves_an_item_set_again_alone_and_says_so(local):
    profile, folder, records = local
    entries = [e for e in _local_entries(profile) if e.origin == LIVEOPS]
    journal = _Journal(folder)
    csw.LocalStorageWriter(profile).delete(entries, journal)
    prefix = b"_" + LIVEOPS.encode() + b"\x00"
    # The site set "theme" again with another value, and "visitor" with the same one.
    lw.append_batch(folder, [(prefix + _script_key("theme"), _script_key("light")),
                             (prefix + _script_key("visitor"), _script_key("v-42"))])
    restored, skipped = csw.LocalStorageWriter(profile).restore(journal)
    by_name = {e.name: e.id for e in entries}
    assert skipped == [(by_name["theme"], csw.SET_AGAIN)]
    assert restored == sorted([by_name["visitor"], by_name["名前"]])
    now = leveldb.read_records(folder)
    assert now[prefix + _script_key("theme")] == _script_key("light")
    # META is back with its time and the size of what the storage key now holds.
    items = {k: v for k, v in now.items() if k.startswith(prefix)}
    assert now[b"META:" + LIVEOPS.encode()] == _meta(sum(len(k) - len(prefix) + len(v)
                                                          for k, v in items.items()))
    assert now[b"METAACCESS:" + LIVEOPS.encode()] == records[b"METAACCESS:" + LIVEOPS.encode()]


def test_undo_keeps_the_meta_record_chromium_wrote_since(local):
    profile, folder, records = local
    entries = [e for e in _local_entries(profile) if e.name == "visitor"]
    journal = _Journal(folder)
    csw.LocalStorageWriter(profile).delete(entries, journal)
    chromium_meta = b"\x08" + encode_varint(T_MODIFIED + 5) + b"\x10" + encode_varint(3)
    lw.append_batch(folder, [(b"META:" + LIVEOPS.encode(), chromium_meta)])
    restored, _ = csw.LocalStorageWriter(profile).restore(journal)
    assert restored == [entries[0].id]
    now = leveldb.read_records(folder)
    assert now[b"META:" + LIVEOPS.encode()] == chromium_meta
    assert {k: v for k, v in now.items() if not k.startswith(b"META:")} == {
        k: v for k, v in records.items() if not k.startswith(b"META:")}


def test_entries_already_gone_are_left_out(local):
    profile, folder, records = local
    entries = _local_entries(profile)
    csw.LocalStorageWriter(profile).delete(entries[:1], _Journal(folder))
    assert csw.LocalStorageWriter(profile).delete(entries, _Journal(folder)) == sorted(
        e.id for e in entries[1:])


def test_a_profile_with_chromiums_sqlite_storage_is_refused(local):
    profile, folder, records = local
    (profile.path / "LocalStorage").write_bytes(paths.SQLITE_HEADER + b"\x00" * 100)
    journal = _Journal(folder)
    with pytest.raises(WriteError, match="SQLite"):
        csw.LocalStorageWriter(profile).delete(_local_entries(profile), journal)
    assert journal.payload is None
    assert leveldb.read_records(folder) == records


# --------------------------------------------------------------------------
# sessionStorage
# --------------------------------------------------------------------------

TAB_A = "2807f768_1d00_4167_82b0_d11807fbb3a0"
TAB_B = "5a1c0e2b_9f3d_4c11_8e77_0b6d2f9a4c10"


def _utf16(text: str) -> bytes:
    return text.encode("utf-16-le")


@pytest.fixture
def session(tmp_path):
    """Two tabs; both show the DoubleClick frame, whose map (1) they share."""
    profile = _profile(tmp_path)
    folder = profile.path / cs.SESSION_STORAGE
    records = _write(folder, {
        b"version": b"1",
        b"next-map-id": b"3",
        f"namespace-{TAB_A}-{LIVEOPS}/".encode(): b"0",
        f"namespace-{TAB_A}-{DC}".encode(): b"1",
        f"namespace-{TAB_B}-{DC}".encode(): b"1",
        f"namespace-{TAB_B}-{LIVEOPS}/".encode(): b"2",
        b"map-0-cart": _utf16("3 items"),
        b"map-1-dc_seen": _utf16("dc-1"),
        b"map-1-dc_other": _utf16("dc-2"),
        b"map-2-cart": _utf16("1 item"),
    })
    return profile, folder, records


def _session(profile, **where):
    """The sessionStorage entries of one tab (and origin, names), by the reader's ids."""
    out = []
    for e in _session_entries(profile):
        tab = TAB_A if csw.SessionStorageWriter(profile).id_of(
            TAB_A.encode(), _sk(e), e.name.encode()) == e.id else TAB_B
        if where.get("tab", tab) != tab or where.get("origin", e.origin) != e.origin:
            continue
        if "names" in where and e.name not in where["names"]:
            continue
        out.append(e)
    return out


def _sk(entry) -> bytes:
    if entry.origin.startswith("https://ad."):
        return DC.encode()
    return f"{LIVEOPS}/".encode()


def test_an_item_shared_by_tabs_goes_from_the_map_when_every_tab_gives_it_up(session):
    profile, folder, records = session
    entries = _session(profile, names={"dc_seen"})
    assert len(entries) == 2  # one per tab
    journal = _Journal(folder)
    deleted = csw.SessionStorageWriter(profile).delete(entries, journal)
    assert deleted == sorted(e.id for e in entries)
    expected = {k: v for k, v in records.items() if k != b"map-1-dc_seen"}
    assert leveldb.read_records(folder) == expected
    assert _plyvel(folder) == expected
    restored, skipped = csw.SessionStorageWriter(profile).restore(journal)
    assert restored == deleted and skipped == []
    assert leveldb.read_records(folder) == records


def test_a_shared_item_given_up_by_only_one_tab_is_refused(session):
    profile, folder, records = session
    entries = _session(profile, tab=TAB_A, names={"dc_seen"})
    journal = _Journal(folder)
    with pytest.raises(WriteError, match="share a sessionStorage map"):
        csw.SessionStorageWriter(profile).delete(entries, journal)
    assert journal.payload is None
    assert leveldb.read_records(folder) == records


def test_a_tab_that_gives_up_a_whole_shared_area_lets_go_of_the_map(session):
    profile, folder, records = session
    entries = _session(profile, tab=TAB_A, origin="https://ad.doubleclick.net")
    assert {e.name for e in entries} == {"dc_seen", "dc_other"}
    journal = _Journal(folder)
    csw.SessionStorageWriter(profile).delete(entries, journal)
    area = f"namespace-{TAB_A}-{DC}".encode()
    # As SessionStorageMetadata::DeleteArea: the tab's record goes, the map stays for tab B.
    assert leveldb.read_records(folder) == {k: v for k, v in records.items() if k != area}
    assert {e.name for e in _session(profile, tab=TAB_B)} == {"dc_seen", "dc_other", "cart"}
    restored, skipped = csw.SessionStorageWriter(profile).restore(journal)
    assert restored == sorted(e.id for e in entries) and skipped == []
    assert leveldb.read_records(folder) == records


def test_a_tabs_own_map_goes_with_its_last_item(session):
    profile, folder, records = session
    entries = _session(profile, tab=TAB_A, origin=LIVEOPS)
    journal = _Journal(folder)
    csw.SessionStorageWriter(profile).delete(entries, journal)
    gone = {f"namespace-{TAB_A}-{LIVEOPS}/".encode(), b"map-0-cart"}
    assert leveldb.read_records(folder) == {k: v for k, v in records.items() if k not in gone}
    assert _plyvel(folder) == {k: v for k, v in records.items() if k not in gone}
    csw.SessionStorageWriter(profile).restore(journal)
    assert leveldb.read_records(folder) == records


def test_undo_leaves_a_tab_that_wrote_again_since_alone(session):
    profile, folder, records = session
    entries = _session(profile, tab=TAB_A, origin=LIVEOPS)
    journal = _Journal(folder)
    csw.SessionStorageWriter(profile).delete(entries, journal)
    # The tab (restored with its session) wrote sessionStorage again: a new map.
    area = f"namespace-{TAB_A}-{LIVEOPS}/".encode()
    lw.append_batch(folder, [(area, b"3"), (b"map-3-cart", _utf16("0 items")),
                             (b"next-map-id", b"4")])
    before = leveldb.read_records(folder)
    restored, skipped = csw.SessionStorageWriter(profile).restore(journal)
    assert restored == [] and skipped == [(entries[0].id, csw.MOVED)]
    assert leveldb.read_records(folder) == before


def test_session_ids_are_the_readers(tmp_path):
    profile = _profile(tmp_path)
    shutil.copytree(DEMO / "Default" / "Session Storage", profile.path / "Session Storage")
    entries = _session_entries(profile)
    assert len(entries) == 2
    records = leveldb.read_records(profile.path / "Session Storage")
    journal = _Journal(profile.path / "Session Storage")
    assert csw.SessionStorageWriter(profile).delete(entries, journal) == sorted(e.id for e in entries)
    assert leveldb.read_records(profile.path / "Session Storage") == {b"version": b"1"}
    csw.SessionStorageWriter(profile).restore(journal)
    assert leveldb.read_records(profile.path / "Session Storage") == records


# --------------------------------------------------------------------------
# Through the plan, apply and undo
# --------------------------------------------------------------------------


def test_clear_trackers_and_undo_on_the_demo_chromium_profile(tmp_path, data_dir):
    root = tmp_path / "chromium"
    shutil.copytree(DEMO, root)
    profile = Profile(root / "Default", "chromium", "chromium", "Default", root=root)
    folders = [profile.path / cs.LOCAL_STORAGE, profile.path / cs.SESSION_STORAGE]
    before = [leveldb.read_records(f) for f in folders]
    kinds = ("local_storage", "session_storage")
    scanned = engine.scan([profile], kinds=kinds, classifier=Classifier(load_policy())).entries
    trackers = {e.id for e in scanned if e.tracker}
    assert {e.name for e in scanned if e.tracker} == {"dc_ls_id", "fb_ls_like", "dc_ss_seen"}
    plan = deleting.make_plan([profile], scanned, deleting.Selection(trackers=True), KeepList(),
                              lambda p: False)
    assert plan.kept == () and {e.id for e in plan.entries} == trackers
    outcome = deleting.apply(plan, data_dir, "clear --trackers", running=lambda p: False)
    assert outcome.errors == [] and sorted(outcome.deleted) == sorted(trackers)
    left = engine.scan([profile], kinds=kinds, classifier=Classifier(load_policy())).entries
    assert {e.id for e in left} == {e.id for e in scanned} - trackers
    undone = deleting.undo(data_dir, lambda r: profile, running=lambda p: False)
    assert sorted(undone.restored) == sorted(trackers) and undone.skipped == []
    assert [leveldb.read_records(f) for f in folders] == before
