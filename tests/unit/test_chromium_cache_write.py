"""The writer of Chromium's Cache Storage: whole Cache Storage folders (and a
storage bucket's folder and QuotaManager row) into the journal and back.

The profiles are copies of the demo profile (written by Chromium 156, with its
quota database: bucket 1 LiveOps', bucket 2 DoubleClick's partitioned under
LiveOps) with Cache Storage folders laid out as Chromium 156 lays them out
(tests/real/test_real_chromium_delete_cache.py checks that with the browser):
``index.txt`` (``CacheStorageIndex``) and one folder of files per cache.  The
writer never reads the caches' own files, only moves them.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
from pathlib import Path

import pytest

from privacy_inspector.actions import journal as journals
from privacy_inspector.browsers import chromium_cache_write as ccw
from privacy_inspector.browsers import chromium_idb_write as ciw
from privacy_inspector.browsers import chromium_workers as workers
from privacy_inspector.browsers import firefox_storage_write as fsw
from privacy_inspector.browsers import writers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.leveldb import encode_varint
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.cli import main as cli
from privacy_inspector.core.records import Entry, Profile
from tests.fixtures.chromium_buckets import QUOTA, store_journal
from tests.fixtures.chromium_buckets import bucket_rows as _rows
from tests.fixtures.chromium_buckets import files as _files
from tests.fixtures.chromium_buckets import unchanged as _unchanged
from tests.unit.test_chromium_idb import DEMO, profile_at

LO_KEY = "https://www.liveops.com/"
DC_KEY = "https://ad.doubleclick.net/^0https://liveops.com"
LO_FOLDER = "Service Worker/CacheStorage/" + workers._origin_hash("https://www.liveops.com")
LO_STORE = LO_FOLDER + "/index.txt"
DC_STORE = "WebStorage/2/CacheStorage/index.txt"
T = 1_600_000_000_000_000_000


# --------------------------------------------------------------------------
# Cache Storage folders
# --------------------------------------------------------------------------


def _field(number: int, value: bytes | int) -> bytes:
    """One protobuf field: a varint, or length-delimited bytes."""
    if isinstance(value, int):
        return encode_varint(number << 3) + encode_varint(value)
    return encode_varint(number << 3 | 2) + encode_varint(len(value)) + value


def _journal(tmp_path: Path, name: str = "test") -> journals.StoreJournal:
    return store_journal(tmp_path, "cache_storage", name=name)


def write_caches(folder: Path, key: str, caches: dict[str, int]) -> Path:
    """A Cache Storage folder: ``index.txt`` naming ``caches`` (name -> entries),
    each cache a folder of Simple cache files, every time fixed."""
    folder.mkdir(parents=True, exist_ok=True)
    index = b""
    for n, (name, count) in enumerate(caches.items()):
        cache_dir = f"{n:08x}-cache-{n}"
        index += _field(1, _field(1, name.encode()) + _field(2, cache_dir.encode())
                        + _field(3, 100 * count))
        (folder / cache_dir / "index-dir").mkdir(parents=True)
        (folder / cache_dir / "index").write_bytes(b"simple index " + name.encode())
        (folder / cache_dir / "index-dir" / "the-real-index").write_bytes(b"\x01\x02" * 10)
        for i in range(count):
            (folder / cache_dir / f"{i:016x}_0").write_bytes(f"{name} entry {i}".encode())
    index += _field(3, key.encode())
    (folder / "index.txt").write_bytes(index)
    for p in [*folder.rglob("*"), folder]:
        os.utime(p, ns=(T, T))
    return folder


@pytest.fixture
def demo(tmp_path) -> Profile:
    """The demo profile with LiveOps' caches (first party) and DoubleClick's
    (bucket 2, which then holds only Cache Storage)."""
    path = tmp_path / "Default"
    shutil.copytree(DEMO, path, symlinks=True)
    shutil.rmtree(path / "WebStorage" / "2" / "IndexedDB")
    shutil.rmtree(path / "IndexedDB")
    write_caches(path / LO_FOLDER, LO_KEY, {"lo-pages": 2})
    write_caches(path / "WebStorage" / "2" / "CacheStorage", DC_KEY,
                 {"dc-creatives": 2, "dc-state": 1})
    return profile_at(path)


def _entries(profile: Profile) -> list[Entry]:
    options = ReadOptions()
    entries = workers.read_cache_storage(profile, options)
    assert options.problems == []
    return entries


def _of(profile: Profile, store: str) -> list[Entry]:
    return [e for e in _entries(profile) if e.store == store]


def _add_row(profile: Profile, bucket_id: int, key: str) -> None:
    """A row like Chromium's for ``key`` (the columns of bucket 2's)."""
    conn = sqlite3.connect(profile.path / QUOTA)
    try:
        conn.execute("INSERT INTO buckets VALUES (?, ?, ?, '_default', 0, 1, 1, 0, 0, 0, 0)",
                     (bucket_id, key, key.split("://", 1)[1].split("/", 1)[0]))
        conn.commit()
    finally:
        conn.close()


def _writer(profile: Profile, store: str) -> ccw.CacheStorageWriter:
    writer = ccw.writer_for(profile, "cache_storage", store)
    assert isinstance(writer, ccw.CacheStorageWriter)
    return writer


def _delete(profile, store, part, entries=None) -> list[str]:
    return _writer(profile, store).delete(_of(profile, store) if entries is None else entries,
                                          part)


def _restore(profile, store, part):
    return _writer(profile, store).restore(part)


# --------------------------------------------------------------------------


def test_which_stores_have_a_writer(demo):
    firefox = Profile(demo.path, "firefox", "firefox", "x")
    for store in (LO_STORE, DC_STORE, "WebStorage/17/BackgroundFetch/index.txt",
                  "Service Worker/CacheStorage/" + "0" * 40 + "/index.txt"):
        assert ccw.writer_for(demo, "cache_storage", store) is not None, store
        assert ccw.writer_for(demo, "indexed_db", store) is None
        assert ccw.writer_for(firefox, "cache_storage", store) is None
    for store in ("Service Worker/CacheStorage/../index.txt",
                  "Service Worker/CacheStorage/abc/index.txt",
                  "WebStorage/x/CacheStorage/index.txt",
                  "WebStorage/2/CacheStorage",
                  "Service Worker/Database"):
        assert ccw.writer_for(demo, "cache_storage", store) is None, store
    assert ccw.writer_for(demo, "service_worker", "Service Worker/Database") is None


def test_a_bucket_holding_only_caches_goes_whole_with_its_row_and_comes_back(demo, tmp_path):
    bucket = demo.path / "WebStorage" / "2"
    before, rows, first_party = _files(bucket), _rows(demo), _files(demo.path / LO_FOLDER)
    dc = _of(demo, DC_STORE)
    assert sorted(e.name for e in dc) == ["dc-creatives", "dc-state"]
    assert {e.partition_site for e in dc} == {"liveops.com"}
    part = _journal(tmp_path)

    assert _delete(demo, DC_STORE, part) == sorted(e.id for e in dc)
    assert not bucket.exists()
    assert _rows(demo) == rows[:1]
    assert [e.name for e in _entries(demo)] == ["lo-pages"]
    assert _files(demo.path / LO_FOLDER) == first_party
    assert _files(part.files() / "2") == before
    saved = part.load()
    assert (saved["mode"], saved["bucket"]) == ("bucket", "2")

    assert _restore(demo, DC_STORE, part) == (sorted(e.id for e in dc), [])
    assert _files(bucket) == before
    assert _rows(demo) == rows
    assert os.listdir(part.files()) == []
    assert sorted(e.id for e in _of(demo, DC_STORE)) == sorted(e.id for e in dc)


@pytest.mark.parametrize("filesystems", ["one", "two"])
def test_a_first_party_folder_moves_and_the_row_stays(demo, tmp_path, monkeypatch, filesystems):
    before, rows, others = _files(demo.path / LO_FOLDER), _rows(demo), _files(demo.path / "WebStorage")
    (entry,) = _of(demo, LO_STORE)
    part = _journal(tmp_path)
    if filesystems == "two":
        def rename(source, target):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        monkeypatch.setattr(fsw.os, "rename", rename)

    assert _delete(demo, LO_STORE, part) == [entry.id]
    assert os.listdir(demo.path / "Service Worker" / "CacheStorage") == []
    assert _rows(demo) == rows and _files(demo.path / "WebStorage") == others
    assert sorted(e.name for e in _entries(demo)) == ["dc-creatives", "dc-state"]
    assert _files(part.files() / Path(LO_FOLDER).name) == before

    assert _restore(demo, LO_STORE, part) == ([entry.id], [])
    assert _files(demo.path / LO_FOLDER) == before
    assert os.listdir(part.files()) == []


def test_taking_only_some_caches_is_refused_with_nothing_changed(demo, tmp_path):
    before, rows = _unchanged(demo), _rows(demo)
    one = [e for e in _of(demo, DC_STORE) if e.name == "dc-state"]
    part = _journal(tmp_path)
    with pytest.raises(WriteError, match=(
            r"this version deletes an origin's Cache Storage whole; 1 other cache of it "
            r"\('dc-creatives'\) was not chosen; nothing was changed")):
        _delete(demo, DC_STORE, part, one)
    assert _unchanged(demo) == before and _rows(demo) == rows
    shutil.rmtree(demo.path / LO_FOLDER)
    write_caches(demo.path / LO_FOLDER, LO_KEY, {"lo-a": 1, "lo-b": 1, "lo-c": 1})
    before = _unchanged(demo)
    with pytest.raises(WriteError, match=r"2 other caches of it \('lo-b', 'lo-c'\) were not"):
        _delete(demo, LO_STORE, part, [e for e in _of(demo, LO_STORE) if e.name == "lo-a"])
    assert _unchanged(demo) == before and _rows(demo) == rows
    assert os.listdir(part.files()) == []


def test_the_plan_reports_a_partial_selection_and_changes_nothing(demo, data_dir, capsys,
                                                                   monkeypatch):
    assert ccw.writer_for in writers._factories()
    before, rows = _unchanged(demo), _rows(demo)
    (one,) = [e.id for e in _of(demo, DC_STORE) if e.name == "dc-state"]
    where = ("--format", "json", "--profile", str(demo.path), "--data-dir", str(data_dir))
    code = cli.main(["delete", "--id", one, "--yes", *where])
    doc = json.loads(capsys.readouterr().out)
    assert code != 0 and doc["deleted"] == []
    assert [e["store"] for e in doc["errors"]] == [DC_STORE], doc["errors"]
    assert "1 other cache of it ('dc-creatives') was not chosen" in doc["errors"][0]["message"]
    assert _unchanged(demo) == before and _rows(demo) == rows


def test_delete_site_and_undo_through_the_cli(demo, data_dir, capsys, monkeypatch):
    assert ccw.writer_for in writers._factories()
    before, rows = _files(demo.path / "WebStorage"), _rows(demo)
    dc = {e.id for e in _of(demo, DC_STORE)}
    where = ("--format", "json", "--data-dir", str(data_dir))
    assert cli.main(["delete", "--site", "doubleclick.net", "--yes", "--profile",
                     str(demo.path), *where]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"] == [] and dc <= set(doc["deleted"]), doc
    assert not (demo.path / "WebStorage" / "2").exists() and _rows(demo) == rows[:1]
    assert cli.main(["undo", "--yes", *where]) == 0
    undone = json.loads(capsys.readouterr().out)
    assert undone["errors"] == [] and undone["skipped"] == [] and dc <= set(undone["restored"])
    after = _files(demo.path / "WebStorage")
    assert {k: v for k, v in after.items() if k.startswith("2")} == {
        k: v for k, v in before.items() if k.startswith("2")}
    assert _rows(demo) == rows


def test_a_bucket_that_holds_more_keeps_its_folder_and_row(demo, tmp_path):
    other = demo.path / "WebStorage" / "2" / "IndexedDB"
    other.mkdir()
    before, rows = _files(demo.path / "WebStorage" / "2" / "CacheStorage"), _rows(demo)
    dc = sorted(e.id for e in _of(demo, DC_STORE))
    part = _journal(tmp_path)
    assert _delete(demo, DC_STORE, part) == dc
    assert os.listdir(demo.path / "WebStorage" / "2") == ["IndexedDB"] and _rows(demo) == rows
    assert part.load()["mode"] == "folder"
    assert _restore(demo, DC_STORE, part) == (dc, [])
    assert _files(demo.path / "WebStorage" / "2" / "CacheStorage") == before
    assert _rows(demo) == rows


def _delete_bucket(demo, tmp_path):
    bucket = demo.path / "WebStorage" / "2"
    before = _files(bucket / "CacheStorage")
    dc = sorted(e.id for e in _of(demo, DC_STORE))
    part = _journal(tmp_path)
    assert _delete(demo, DC_STORE, part) == dc
    return part, dc, before


def test_undo_goes_into_the_bucket_chromium_made_for_the_key_since(demo, tmp_path):
    # Chromium 156, asked for the caches of a key that has no bucket, adds a row
    # (a new id) and no folder.
    part, dc, before = _delete_bucket(demo, tmp_path)
    _add_row(demo, 3, DC_KEY)
    assert _restore(demo, DC_STORE, part) == (dc, [])
    assert not (demo.path / "WebStorage" / "2").exists()
    assert _files(demo.path / "WebStorage" / "3" / "CacheStorage") == before
    assert sorted(e.id for e in _entries(demo) if e.store.startswith("WebStorage/3/")) == dc
    assert [r[0] for r in _rows(demo)] == [1, 3]


def test_an_empty_cache_storage_chromium_made_since_is_replaced(demo, tmp_path):
    part, dc, before = _delete_bucket(demo, tmp_path)
    _add_row(demo, 3, DC_KEY)
    empty = write_caches(demo.path / "WebStorage" / "3" / "CacheStorage", DC_KEY, {})
    made = _files(empty)
    assert _restore(demo, DC_STORE, part) == (dc, [])
    assert _files(demo.path / "WebStorage" / "3" / "CacheStorage") == before
    assert _files(part.files() / "superseded") == made


def test_caches_made_again_since_are_left_alone(demo, tmp_path):
    part, dc, _ = _delete_bucket(demo, tmp_path)
    _add_row(demo, 3, DC_KEY)
    again = write_caches(demo.path / "WebStorage" / "3" / "CacheStorage", DC_KEY, {"new": 1})
    made = _files(again)
    assert _restore(demo, DC_STORE, part) == ([], [(i, ccw.SET_AGAIN) for i in dc])
    assert _files(again) == made
    assert os.listdir(part.files()) == ["2"]


def test_a_first_party_folder_made_again_is_left_alone(demo, tmp_path):
    (entry,) = _of(demo, LO_STORE)
    part = _journal(tmp_path)
    assert _delete(demo, LO_STORE, part) == [entry.id]
    write_caches(demo.path / LO_FOLDER, LO_KEY, {"lo-new": 1})
    made = _files(demo.path / LO_FOLDER)
    assert _restore(demo, LO_STORE, part) == ([], [(entry.id, ccw.SET_AGAIN)])
    assert _files(demo.path / LO_FOLDER) == made


def test_a_key_without_a_bucket_now_is_not_restored(demo, tmp_path):
    part, dc, _ = _delete_bucket(demo, tmp_path)
    (demo.path / "WebStorage" / "2").mkdir()  # a folder without its row
    _add_row(demo, 2, "https://other.example/")
    assert _restore(demo, DC_STORE, part) == ([], [(i, ccw.BUCKET_GONE) for i in dc])
    assert os.listdir(part.files()) == ["2"]


def test_a_move_that_fails_leaves_the_row_and_the_folder(demo, tmp_path, monkeypatch):
    before, rows = _unchanged(demo), _rows(demo)

    def fail(source, target):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(fsw, "_move", fail)
    part = _journal(tmp_path)
    with pytest.raises(WriteError, match=r"could not be moved \(Permission denied\)"):
        _delete(demo, DC_STORE, part)
    with pytest.raises(WriteError, match=r"could not be moved \(Permission denied\)"):
        _delete(demo, LO_STORE, part)
    assert _unchanged(demo) == before and _rows(demo) == rows
    assert os.listdir(part.files()) == []


def test_a_commit_that_fails_puts_the_folder_back(demo, tmp_path, monkeypatch):
    before, rows = _unchanged(demo), _rows(demo)
    # The bucket's folder and row go together in the writers' shared BucketStore.
    move_all = ciw._move_all
    reader = sqlite3.connect(demo.path / QUOTA, isolation_level=None)

    def move_then_hold(pairs, what):
        move_all(pairs, what)
        assert not (demo.path / "WebStorage" / "2").exists()
        # Another program reads the quota database: the commit cannot take its lock.
        reader.execute("BEGIN")
        reader.execute("SELECT count(*) FROM buckets").fetchone()
    monkeypatch.setattr(ciw, "_move_all", move_then_hold)
    try:
        with pytest.raises(WriteError, match="could not be changed .*locked"):
            _delete(demo, DC_STORE, _journal(tmp_path))
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert _unchanged(demo) == before and _rows(demo) == rows


def test_a_locked_quota_database_is_refused_with_nothing_changed(demo, tmp_path):
    before, rows = _unchanged(demo), _rows(demo)
    conn = sqlite3.connect(demo.path / QUOTA, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(WriteError, match="nothing was changed"):
            _delete(demo, DC_STORE, _journal(tmp_path))
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert _unchanged(demo) == before and _rows(demo) == rows


def test_gone_already_or_other_caches_now_are_not_deleted(demo, tmp_path):
    entries = _of(demo, DC_STORE)
    write_caches(demo.path / "WebStorage" / "2" / "CacheStorage", DC_KEY, {})
    assert _writer(demo, DC_STORE).delete(entries, _journal(tmp_path)) == []
    shutil.rmtree(demo.path / "WebStorage" / "2" / "CacheStorage")
    assert _writer(demo, DC_STORE).delete(entries, _journal(tmp_path, "b")) == []


@pytest.mark.parametrize("payload", [{}, {"format": "privacy-inspector-chromium-cache",
                                          "version": 1, "mode": "bucket", "ids": ["x"]},
                                     {"format": "privacy-inspector-chromium-cache",
                                      "version": 1, "mode": "other", "ids": []}])
def test_a_damaged_journal_is_refused(demo, tmp_path, payload):
    part = _journal(tmp_path)
    part.save(payload)
    before = _unchanged(demo)
    with pytest.raises(WriteError, match="nothing was restored"):
        _restore(demo, DC_STORE, part)
    assert _unchanged(demo) == before


def test_caches_then_indexed_db_of_one_bucket_are_deleted_and_restored_in_that_order(
        tmp_path):
    # The caches leave a bucket that also holds IndexedDB (folder only, the row
    # kept in the journal); the IndexedDB writer then takes the bucket out whole.
    # Restore runs in the same order: the caches make the bucket again from the
    # saved row, and the IndexedDB goes back into it.
    from privacy_inspector.browsers import chromium_idb as idb

    path = tmp_path / "Default"
    shutil.copytree(DEMO, path, symlinks=True)
    profile = profile_at(path)
    write_caches(path / "WebStorage" / "2" / "CacheStorage", DC_KEY, {"dc-state": 1})
    bucket = path / "WebStorage" / "2"
    before, rows = _files(bucket), _rows(profile)
    caches = _of(profile, DC_STORE)
    idb_store = "WebStorage/2/IndexedDB/indexeddb.leveldb"
    options = ReadOptions()
    databases = [e for e in idb.read_indexed_db(profile, options) if e.store == idb_store]
    assert [e.name for e in databases] == ["dc-db"] and options.problems == []
    cache_part, idb_part = _journal(tmp_path, "c"), _journal(tmp_path / "i", "i")

    assert _delete(profile, DC_STORE, cache_part) == [e.id for e in caches]
    assert cache_part.load()["mode"] == "folder"
    idb_writer = ciw.writer_for(profile, "indexed_db", idb_store)
    assert idb_writer.delete(databases, idb_part) == [databases[0].id]
    assert not bucket.exists() and _rows(profile) == rows[:1]

    assert _restore(profile, DC_STORE, cache_part) == ([e.id for e in caches], [])
    assert _rows(profile) == rows
    assert idb_writer.restore(idb_part) == ([databases[0].id], [])
    assert _files(bucket, dir_times=False) == _files_no_dir_times(before)
    assert _rows(profile) == rows


def _files_no_dir_times(files: dict) -> dict:
    return {k: (v[0], 0 if v[0] is None else v[1], v[2]) for k, v in files.items()}
