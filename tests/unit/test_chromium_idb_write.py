"""The writer of Chromium's IndexedDB: whole LevelDB folders (and a storage
bucket's folder and QuotaManager row) into the journal and back.

The demo profile was written by Chromium 156: LiveOps' own database in the
legacy ``IndexedDB/https_www.liveops.com_0.indexeddb.leveldb`` and
DoubleClick's, partitioned under LiveOps, in bucket 2
(``WebStorage/2/IndexedDB/indexeddb.leveldb``, with its row in
``WebStorage/QuotaManager``).  Other layouts are written with the IndexedDB key
encoders of tests/unit/test_chromium_idb.py.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from privacy_inspector.actions import journal as journals
from privacy_inspector.browsers import chromium_idb as idb
from privacy_inspector.browsers import chromium_idb_write as ciw
from privacy_inspector.browsers import firefox_storage_write as fsw
from privacy_inspector.browsers import writers
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.cli import main as cli
from privacy_inspector.core.records import Entry, Profile
from tests.fixtures.chromium_buckets import QUOTA, store_journal
from tests.fixtures.chromium_buckets import bucket_rows as _rows
from tests.fixtures.chromium_buckets import files as _files
from tests.fixtures.chromium_buckets import unchanged as _unchanged
from tests.unit.test_chromium_idb import DEMO, idb_ops, make_quota, profile_at, write_leveldb

LEGACY = "IndexedDB/https_www.liveops.com_0.indexeddb.leveldb"
BUCKET = "WebStorage/2/IndexedDB/indexeddb.leveldb"


@pytest.fixture
def demo(tmp_path) -> Profile:
    """A copy of the demo profile (written by Chromium 156), modification times kept."""
    path = tmp_path / "Default"
    shutil.copytree(DEMO, path, symlinks=True)
    return profile_at(path)


def _journal(tmp_path: Path, store: str = "s") -> journals.StoreJournal:
    return store_journal(tmp_path, "indexed_db", store)


def _entries(profile: Profile) -> list[Entry]:
    options = ReadOptions()
    entries = idb.read_indexed_db(profile, options)
    assert options.problems == []
    return entries


def _of(profile: Profile, store: str) -> list[Entry]:
    return [e for e in _entries(profile) if e.store == store]


def _schema(profile: Profile) -> list[tuple]:
    conn = sqlite3.connect(profile.path / QUOTA)
    try:
        return conn.execute("SELECT * FROM sqlite_master ORDER BY name").fetchall()
    finally:
        conn.close()


def _delete(profile: Profile, store: str, part: journals.StoreJournal,
            entries: list[Entry] | None = None) -> list[str]:
    entries = _of(profile, store) if entries is None else entries
    writer = ciw.writer_for(profile, "indexed_db", store)
    assert writer is not None
    return writer.delete(entries, part)


def _restore(profile: Profile, store: str, part: journals.StoreJournal):
    writer = ciw.writer_for(profile, "indexed_db", store)
    assert writer is not None
    return writer.restore(part)


# --------------------------------------------------------------------------


def test_which_stores_have_a_writer(demo):
    firefox = Profile(demo.path, "firefox", "firefox", "x")
    for store in (LEGACY, BUCKET, "IndexedDB/https_a.example_8443.indexeddb.leveldb",
                  "WebStorage/17/IndexedDB/indexeddb.leveldb"):
        assert isinstance(ciw.writer_for(demo, "indexed_db", store), ciw.IndexedDBWriter), store
        assert ciw.writer_for(demo, "local_storage", store) is None
        assert ciw.writer_for(firefox, "indexed_db", store) is None
    for store in ("IndexedDB/https_www.liveops.com_0/" + idb.sqlite_database_file_name("x"),
                  "WebStorage/2/IndexedDB/" + idb.sqlite_database_file_name("x"),
                  "IndexedDB/not-an-origin.indexeddb.leveldb",
                  "IndexedDB/../x.indexeddb.leveldb",
                  "WebStorage/x/IndexedDB/indexeddb.leveldb",
                  "IndexedDB/https_a.example_0.indexeddb.blob",
                  "Local Storage/leveldb"):
        assert ciw.writer_for(demo, "indexed_db", store) is None, store


def test_a_partitioned_bucket_goes_whole_with_its_row_and_comes_back_byte_for_byte(demo, tmp_path):
    bucket = demo.path / "WebStorage" / "2"
    before, rows, schema = _files(bucket), _rows(demo), _schema(demo)
    legacy = _files(demo.path / "IndexedDB")
    (entry,) = _of(demo, BUCKET)
    assert (entry.origin, entry.name, entry.partition_site) == (
        "https://ad.doubleclick.net", "dc-db", "liveops.com")
    part = _journal(tmp_path)

    assert _delete(demo, BUCKET, part) == [entry.id]
    assert not bucket.exists()
    assert [r[0] for r in _rows(demo)] == [1] and _rows(demo)[0] == rows[0]
    assert _schema(demo) == schema, "rows only, never the schema"
    assert [e.name for e in _entries(demo)] == ["liveops-db"]
    assert _files(demo.path / "IndexedDB") == legacy
    assert _files(part.files() / "2") == before
    saved = part.load()
    assert (saved["mode"], saved["ids"], saved["bucket"]) == ("bucket", [entry.id], "2")
    assert saved["columns"][:4] == ["id", "storage_key", "host", "name"]

    assert _restore(demo, BUCKET, part) == ([entry.id], [])
    assert _files(bucket) == before
    assert _rows(demo) == rows
    assert _schema(demo) == schema
    assert os.listdir(part.files()) == []
    assert [e.id for e in _of(demo, BUCKET)] == [entry.id]


@pytest.mark.parametrize("filesystems", ["one", "two"])
def test_a_first_party_origin_moves_its_folders_and_keeps_its_row(demo, tmp_path, monkeypatch,
                                                                  filesystems):
    blobs = demo.path / "IndexedDB" / "https_www.liveops.com_0.indexeddb.blob" / "1" / "00"
    blobs.mkdir(parents=True)
    (blobs / "3").write_bytes(b"a blob")
    os.utime(blobs / "3", ns=(1_600_000_000_000_000_000, 1_600_000_000_000_000_000))
    before, rows = _files(demo.path / "IndexedDB"), _rows(demo)
    (entry,) = _of(demo, LEGACY)
    part = _journal(tmp_path)
    if filesystems == "two":
        def rename(source, target):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        monkeypatch.setattr(fsw.os, "rename", rename)

    assert _delete(demo, LEGACY, part) == [entry.id]
    assert os.listdir(demo.path / "IndexedDB") == []
    assert _rows(demo) == rows
    assert sorted(os.listdir(part.files())) == ["https_www.liveops.com_0.indexeddb.blob",
                                                "https_www.liveops.com_0.indexeddb.leveldb"]
    assert [e.name for e in _entries(demo)] == ["dc-db"]

    assert _restore(demo, LEGACY, part) == ([entry.id], [])
    assert _files(demo.path / "IndexedDB") == before
    assert _rows(demo) == rows
    assert os.listdir(part.files()) == []


def test_taking_only_some_databases_of_a_folder_is_refused_with_nothing_changed(tmp_path):
    profile = profile_at(tmp_path / "Default")
    store = "IndexedDB/https_a.example_0.indexeddb.leveldb"
    write_leveldb(profile.path / store, [idb_ops("https_a.example_0", {
        "one": (1, {"s": 1}), "two": (2, {"t": 2}), "three": (3, {"u": 3})})])
    before = _files(profile.path, dir_times=False)
    one = [e for e in _of(profile, store) if e.name == "one"]
    part = _journal(tmp_path)
    with pytest.raises(WriteError, match=(
            r"this version deletes an origin's IndexedDB whole; 2 other databases of it "
            r"\('three', 'two'\) were not chosen; nothing was changed")):
        _delete(profile, store, part, one)
    assert _files(profile.path, dir_times=False) == before
    assert os.listdir(part.files()) == []


def test_the_plan_reports_a_partial_selection_as_an_error_and_changes_nothing(
        tmp_path, data_dir, capsys, monkeypatch):
    # Through the CLI: the tracker's database goes with the whole folder, or not at all.
    path = tmp_path / "Default"
    shutil.copytree(DEMO.parent, tmp_path, dirs_exist_ok=True)
    profile = profile_at(path)
    folder = profile.path / BUCKET
    shutil.rmtree(folder)
    write_leveldb(folder, [idb_ops("https_ad.doubleclick.net_0", {
        "dc-db": (1, {"impressions": 2}), "dc-other": (2, {"x": 1})})])
    assert ciw.writer_for in writers._factories()
    before, rows = _files(profile.path / "WebStorage", dir_times=False), _rows(profile)
    ids = [e.id for e in _of(profile, BUCKET) if e.name == "dc-db"]
    where = ("--format", "json", "--profile", str(path), "--data-dir", str(data_dir))
    code = cli.main(["delete", "--id", ids[0], "--yes", *where])
    doc = json.loads(capsys.readouterr().out)
    assert code != 0 and doc["deleted"] == []
    assert [e["store"] for e in doc["errors"]] == [BUCKET], doc["errors"]
    assert "1 other database of it ('dc-other') was not chosen" in doc["errors"][0]["message"]
    assert _files(profile.path / "WebStorage", dir_times=False) == before and _rows(profile) == rows


def test_clear_trackers_and_undo_on_the_demo_profile(tmp_path, data_dir, capsys, monkeypatch):
    shutil.copytree(DEMO.parent, tmp_path, dirs_exist_ok=True)
    path = tmp_path / "Default"
    profile = profile_at(path)
    assert ciw.writer_for in writers._factories()
    before, rows = _files(path), _rows(profile)
    (tracker,) = _of(profile, BUCKET)
    where = ("--format", "json", "--profile", str(path), "--data-dir", str(data_dir))
    assert cli.main(["clear", "--trackers", "--yes", *where]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["errors"] == [] and tracker.id in doc["deleted"]
    assert not (path / "WebStorage" / "2").exists()
    assert [r[0] for r in _rows(profile)] == [1]
    assert [e.name for e in _entries(profile)] == ["liveops-db"]

    assert cli.main(["undo", "--yes", *where]) == 0
    undone = json.loads(capsys.readouterr().out)
    assert tracker.id in undone["restored"] and undone["skipped"] == []
    after = _files(path)
    for name in before:
        if name.startswith(("WebStorage/2", "IndexedDB")):
            assert after[name] == before[name], name
    assert _rows(profile) == rows


def test_a_bucket_that_holds_more_than_indexed_db_keeps_its_folder_and_row(demo, tmp_path):
    cache = demo.path / "WebStorage" / "2" / "CacheStorage"
    cache.mkdir()
    (cache / "index.txt").write_bytes(b"cache")
    before, rows = _files(demo.path / "WebStorage", dir_times=False), _rows(demo)
    (entry,) = _of(demo, BUCKET)
    part = _journal(tmp_path)
    assert _delete(demo, BUCKET, part) == [entry.id]
    assert _rows(demo) == rows
    assert os.listdir(demo.path / "WebStorage" / "2" / "IndexedDB") == []
    assert (cache / "index.txt").read_bytes() == b"cache"
    assert part.load()["mode"] == "folders"
    assert _of(demo, BUCKET) == []

    assert _restore(demo, BUCKET, part) == ([entry.id], [])
    assert _files(demo.path / "WebStorage", dir_times=False) == before
    assert _rows(demo) == rows


def test_a_bucket_without_a_row_moves_its_folders_only(tmp_path):
    profile = profile_at(tmp_path / "Default")
    make_quota(profile.path / QUOTA, [(1, "https://a.example/", "_default")])
    store = "WebStorage/9/IndexedDB/indexeddb.leveldb"
    write_leveldb(profile.path / store, [idb_ops("https_b.example_0", {"b": (1, {"s": 1})})])
    before, rows = _files(profile.path / "WebStorage", dir_times=False), _rows(profile)
    entries = idb.read_indexed_db(profile, ReadOptions())
    part = _journal(tmp_path)
    assert _delete(profile, store, part, entries) == [entries[0].id]
    assert part.load()["mode"] == "folders" and _rows(profile) == rows
    assert _restore(profile, store, part) == ([entries[0].id], [])
    assert _files(profile.path / "WebStorage", dir_times=False) == before


def _new_bucket(profile: Profile, bucket_id: int, key: str) -> Path:
    """A bucket row as Chromium makes one for ``key`` (a copy of row 1's other columns)."""
    conn = sqlite3.connect(profile.path / QUOTA)
    conn.execute("INSERT INTO buckets SELECT ?, ?, 'ad.doubleclick.net', name, 0, "
                 "last_accessed, last_modified, expiration, quota, persistent, durability "
                 "FROM buckets WHERE id = 1", (bucket_id, key))
    conn.commit()
    conn.close()
    return profile.path / "WebStorage" / str(bucket_id) / "IndexedDB"


DC_KEY = "https://ad.doubleclick.net/^0https://liveops.com"


def test_undo_fills_the_empty_bucket_chromium_made_for_the_key_since(demo, tmp_path):
    # What Chromium 156 does when the tracker's frame merely lists its databases
    # after the deletion: a new bucket (id 3) with an empty IndexedDB folder.
    saved = _files(demo.path / "WebStorage" / "2" / "IndexedDB")
    (entry,) = _of(demo, BUCKET)
    part = _journal(tmp_path)
    _delete(demo, BUCKET, part)
    new = _new_bucket(demo, 3, DC_KEY)
    new.mkdir(parents=True)
    rows = _rows(demo)
    assert _restore(demo, BUCKET, part) == ([entry.id], [])
    assert _rows(demo) == rows, "Chromium's new bucket is kept, the old row not put back"
    assert _files(new) == saved
    assert not (demo.path / "WebStorage" / "2").exists()
    assert [(e.id, e.store) for e in _entries(demo) if e.name == "dc-db"] == [
        (entry.id, "WebStorage/3/IndexedDB/indexeddb.leveldb")]


def test_a_bucket_with_indexed_db_of_its_own_since_is_left_alone(demo, tmp_path):
    (entry,) = _of(demo, BUCKET)
    part = _journal(tmp_path)
    _delete(demo, BUCKET, part)
    new = _new_bucket(demo, 3, DC_KEY)
    write_leveldb(new / "indexeddb.leveldb",
                  [idb_ops("https_ad.doubleclick.net_0", {"dc-db": (1, {"impressions": 9})})])
    before, rows = _unchanged(demo), _rows(demo)
    assert _restore(demo, BUCKET, part) == ([], [(entry.id, ciw.SET_AGAIN)])
    assert _unchanged(demo) == before and _rows(demo) == rows
    assert os.listdir(part.files()) == ["2"], "the journal keeps its copy"


def test_a_bucket_folder_without_its_row_is_not_restored_into(demo, tmp_path):
    (entry,) = _of(demo, BUCKET)
    part = _journal(tmp_path)
    _delete(demo, BUCKET, part)
    conn = sqlite3.connect(demo.path / QUOTA)
    conn.execute("DELETE FROM buckets")
    conn.commit()
    conn.close()
    (demo.path / "WebStorage" / "2").mkdir()
    before = _unchanged(demo)
    assert _restore(demo, BUCKET, part) == ([], [(entry.id, ciw.BUCKET_GONE)])
    assert _unchanged(demo) == before and _rows(demo) == []


def test_a_first_party_database_made_again_before_undo_is_left_alone(demo, tmp_path):
    (entry,) = _of(demo, LEGACY)
    part = _journal(tmp_path)
    _delete(demo, LEGACY, part)
    write_leveldb(demo.path / LEGACY, [idb_ops("https_www.liveops.com_0", {"new": (1, {"s": 1})})])
    again = _files(demo.path / "IndexedDB")
    assert _restore(demo, LEGACY, part) == ([], [(entry.id, ciw.SET_AGAIN)])
    assert _files(demo.path / "IndexedDB") == again
    assert len(os.listdir(part.files())) == 1


def test_a_locked_folder_is_refused_with_nothing_changed(demo, tmp_path):
    (demo.path / BUCKET / "LOCK").write_bytes(b"")
    before, rows = _unchanged(demo), _rows(demo)
    entries = _of(demo, BUCKET)
    # Chromium holds LevelDB's lock from another process.
    holder = subprocess.Popen(
        [sys.executable, "-c", "import fcntl, os, sys; fd = os.open(sys.argv[1], os.O_RDWR); "
         "fcntl.lockf(fd, fcntl.LOCK_EX); print('locked', flush=True); sys.stdin.read()",
         str(demo.path / BUCKET / "LOCK")], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline() == "locked\n"
        with pytest.raises(WriteError, match="in use by another program"):
            _delete(demo, BUCKET, _journal(tmp_path), entries)
    finally:
        holder.communicate("")
    assert _unchanged(demo) == before and _rows(demo) == rows


def test_a_locked_quota_database_is_refused_with_nothing_changed(demo, tmp_path):
    before, rows = _unchanged(demo), _rows(demo)
    entries = _of(demo, BUCKET)
    conn = sqlite3.connect(demo.path / QUOTA, isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(WriteError, match="locked"):
            _delete(demo, BUCKET, _journal(tmp_path), entries)
    finally:
        conn.execute("ROLLBACK")
        conn.close()
    assert _unchanged(demo) == before and _rows(demo) == rows


def test_a_move_that_fails_leaves_the_row_and_the_folder(demo, tmp_path, monkeypatch):
    before, rows = _unchanged(demo), _rows(demo)
    entries = _of(demo, BUCKET)

    def fail(source, target):
        raise PermissionError(errno.EACCES, "Permission denied")
    monkeypatch.setattr(fsw, "_move", fail)
    part = _journal(tmp_path)
    with pytest.raises(WriteError, match=r"could not be moved \(Permission denied\)"):
        _delete(demo, BUCKET, part, entries)
    assert _unchanged(demo) == before and _rows(demo) == rows
    assert os.listdir(part.files()) == []


def test_a_commit_that_fails_puts_the_folder_back(demo, tmp_path, monkeypatch):
    before, rows = _unchanged(demo), _rows(demo)
    entries = _of(demo, BUCKET)
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
            _delete(demo, BUCKET, _journal(tmp_path), entries)
    finally:
        reader.execute("ROLLBACK")
        reader.close()
    assert _unchanged(demo) == before and _rows(demo) == rows


def test_a_folder_already_gone_or_another_database_now_is_not_deleted(demo, tmp_path):
    (entry,) = _of(demo, LEGACY)
    shutil.rmtree(demo.path / LEGACY)
    assert _delete(demo, LEGACY, _journal(tmp_path), [entry]) == []
    write_leveldb(demo.path / LEGACY, [idb_ops("https_www.liveops.com_0", {"new": (1, {"s": 1})})])
    before = _unchanged(demo)
    assert _delete(demo, LEGACY, _journal(tmp_path), [entry]) == []
    assert _unchanged(demo) == before


def test_a_symlinked_folder_is_refused(demo, tmp_path):
    (entry,) = _of(demo, LEGACY)
    elsewhere = tmp_path / "elsewhere"
    shutil.move(demo.path / LEGACY, elsewhere)
    os.symlink(elsewhere, demo.path / LEGACY)
    with pytest.raises(WriteError, match="is not a folder"):
        _delete(demo, LEGACY, _journal(tmp_path), [entry])
    assert (demo.path / LEGACY).is_symlink()


@pytest.mark.parametrize("payload", [
    {"format": "something else", "version": 1, "mode": "folders", "ids": []},
    {"format": ciw.FORMAT, "version": ciw.VERSION, "mode": "bucket", "ids": ["x"]},
    {"format": ciw.FORMAT, "version": ciw.VERSION, "mode": "other", "ids": ["x"]},
])
def test_a_damaged_journal_is_refused_with_nothing_changed(demo, tmp_path, payload):
    part = _journal(tmp_path)
    part.save(payload)
    before, rows = _unchanged(demo), _rows(demo)
    with pytest.raises(WriteError, match="nothing was restored"):
        _restore(demo, BUCKET, part)
    assert _unchanged(demo) == before and _rows(demo) == rows
