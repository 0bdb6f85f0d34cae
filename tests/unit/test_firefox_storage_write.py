"""Firefox storage writers on files made with the schemas Firefox ESR 153
wrote (and on a copy of the demo profile, which it wrote itself).

Real Firefox proves the round trip in tests/real/test_real_firefox_delete_storage.py;
these cover what it cannot show: keys that are not plain ASCII, compressed and
UTF-16 values, a locked database or quota cache, a failure after the usage
file was written, a key or database set again before undo, a journal on
another filesystem.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import struct
from pathlib import Path
from typing import Any

import cramjam
import pytest

from privacy_inspector.actions import journal as journals
from privacy_inspector.browsers import firefox_idb as fi
from privacy_inspector.browsers import firefox_storage as fs
from privacy_inspector.browsers import firefox_storage_write as fsw
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.writers import WriteError, writer_for
from privacy_inspector.cli import main as cli
from privacy_inspector.core.records import Entry, Profile
from tests.unit.test_firefox_storage import DEMO, make_idb, make_ls_database, make_webappsstore

TRACKER = "https+++ad.doubleclick.net^partitionKey=%28https%2Cliveops.com%29"
OWNER = "https+++www.liveops.com"
COOKIE = b"\x42\x0a\x42\x0a"


# --------------------------------------------------------------------------
# Building profiles
# --------------------------------------------------------------------------


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _row(key: str, value: str, *, compress: bool = False, utf16: bool = False,
         accessed: int = 0) -> tuple[Any, ...]:
    """A ``data`` row as LSNG writes it: ``utf16_length`` in UTF-16 code units,
    an empty value as TEXT (``PerformInsertOrUpdate``), the rest as a BLOB."""
    raw = value.encode("utf-16-le", "surrogatepass") if utf16 else value.encode("utf-8")
    if compress:
        raw = bytes(cramjam.snappy.compress_raw(raw))
    stored: Any = "" if not value else raw
    return (key, _units(value), 0 if utf16 else 1, 1 if compress else 0, accessed, stored)


ROWS = [
    _row("track_id", "abc-123", accessed=1_700_000_000_000_000),
    _row("trąck_€🍪", "😀x"),  # beyond ASCII and beyond the BMP: 9 and 3 UTF-16 units
    _row("compressed", "z" * 300, compress=True),
    _row("odd", "a\ud800b", utf16=True),  # an unpaired surrogate: kept as UTF-16
    _row("empty", ""),
    _row("keep", "stays"),
]
KEPT = "keep"


def _usage_of(rows) -> int:
    return sum(_units(r[0]) + r[1] for r in rows)


def _profile(path: Path) -> Profile:
    path.mkdir(parents=True, exist_ok=True)
    return Profile(path, "firefox", "firefox", "default-release")


def _quota_cache(profile: Profile) -> None:
    """``storage.sqlite`` as Firefox left it at exit (valid)."""
    shutil.copyfile(DEMO / "storage.sqlite", profile.path / "storage.sqlite")


def _origin(profile: Profile, folder: str = TRACKER, rows=ROWS) -> Path:
    """An origin's ``ls`` folder: data.sqlite, and the usage file Firefox writes."""
    ls = profile.path / "storage" / "default" / folder / "ls"
    make_ls_database(ls / "data.sqlite", rows, origin="https://ad.doubleclick.net")
    with sqlite3.connect(ls / "data.sqlite") as conn:
        conn.execute("UPDATE database SET usage = ?", (_usage_of(rows),))
    conn.close()
    (ls / "usage").write_bytes(COOKIE + struct.pack(">q", _usage_of(rows)))
    return ls


def _demo(tmp_path: Path) -> Profile:
    copy = tmp_path / "demo.default-release"
    shutil.copytree(DEMO, copy, symlinks=True)
    return Profile(copy, "firefox", "firefox", "demo.default-release")


def _journal(tmp_path: Path, store: str = "s") -> tuple[journals.Journal, journals.StoreJournal]:
    journal = journals.Journal.create(tmp_path / "state", "test")
    record = journals.StoreRecord("p", "firefox", "firefox", "p", "local_storage", store, "w")
    journal.stores.append(record)
    journal.save()
    return journal, journal.for_store(record)


def _read(reader, profile: Profile) -> list[Entry]:
    options = ReadOptions(show_values=True)
    entries = list(reader(profile, options))
    assert options.problems == []
    return entries


def _dump(db: Path) -> dict[str, list[tuple]]:
    """Every cell of ``data`` with its type, ``database`` and the schema: what byte for byte means here."""
    with sqlite3.connect(db.resolve().as_uri() + "?mode=ro", uri=True) as conn:
        dump = {
            "data": conn.execute(
                "SELECT key, hex(key), utf16_length, conversion_type, compression_type, "
                "last_access_time, typeof(value), hex(value) FROM data ORDER BY key").fetchall(),
            "database": conn.execute("SELECT * FROM database").fetchall(),
            "schema": conn.execute("SELECT sql FROM sqlite_master ORDER BY name").fetchall(),
        }
    conn.close()
    return dump


def _usage(ls: Path) -> tuple[int, int]:
    """(database.usage, the usage file's value); checks the file's format."""
    raw = (ls / "usage").read_bytes()
    assert len(raw) == fsw.USAGE_FILE_SIZE and raw[:4] == COOKIE
    with sqlite3.connect((ls / "data.sqlite").resolve().as_uri() + "?mode=ro", uri=True) as conn:
        (usage,) = conn.execute("SELECT usage FROM database").fetchone()
    conn.close()
    return usage, struct.unpack(">q", raw[4:])[0]


def _cache(profile: Profile) -> tuple[int, list[tuple]]:
    with sqlite3.connect(profile.path / "storage.sqlite") as conn:
        valid = conn.execute("SELECT valid FROM cache").fetchone()[0]
        origins = conn.execute("SELECT * FROM origin ORDER BY origin").fetchall()
    conn.close()
    return valid, origins


def _files(folder: Path) -> dict[str, tuple[bytes, int]]:
    """Every file under ``folder``: its bytes and modification time."""
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def _ls_entries(profile: Profile, *names: str) -> list[Entry]:
    return [e for e in _read(fs.read_local_storage, profile) if e.name in names and not e.stale]


# --------------------------------------------------------------------------
# writer_for
# --------------------------------------------------------------------------


def test_which_stores_have_a_writer(tmp_path):
    firefox = _profile(tmp_path / "p")
    chromium = Profile(tmp_path / "c", "chromium", "chromium", "Default")
    ls = f"storage/default/{TRACKER}/ls/data.sqlite"
    idb = f"storage/default/{TRACKER}/idb/2993509347dbcd-.sqlite"
    assert isinstance(writer_for(firefox, "local_storage", ls), fsw.LocalStorageWriter)
    assert isinstance(writer_for(firefox, "indexed_db", idb), fsw.IndexedDBWriter)
    for legacy in ("webappsstore.sqlite", "storage/ls-archive.sqlite"):
        assert isinstance(writer_for(firefox, "local_storage", legacy), fsw.LegacyLocalStorageWriter)
    assert writer_for(chromium, "local_storage", ls) is None
    for kind, store in [
        ("indexed_db", ls),
        ("local_storage", idb),
        ("cache_storage", f"storage/default/{TRACKER}/cache/caches.sqlite"),
        ("service_worker", "serviceworker.txt"),
        ("session_storage", "sessionstore.jsonlz4"),
        ("local_storage", "storage/permanent/chrome/ls/data.sqlite"),  # the browser's own
        ("local_storage", "storage/default/../ls/data.sqlite"),
        ("local_storage", "storage/default/not an origin/ls/data.sqlite"),
        ("indexed_db", f"storage/default/{TRACKER}/idb/sub/x.sqlite"),
    ]:
        assert fsw.writer_for(firefox, kind, store) is None, (kind, store)


# --------------------------------------------------------------------------
# localStorage
# --------------------------------------------------------------------------


def test_deleting_keys_keeps_firefoxs_usage_bookkeeping_and_restores_byte_for_byte(tmp_path):
    profile = _profile(tmp_path / "p")
    _quota_cache(profile)
    ls = _origin(profile)
    before, usage_file, cache = _dump(ls / "data.sqlite"), (ls / "usage").read_bytes(), _cache(profile)
    entries = _read(fs.read_local_storage, profile)
    assert len(entries) == len(ROWS)
    gone = [e for e in entries if e.name != KEPT]
    (store,) = {e.store for e in entries}
    writer = writer_for(profile, "local_storage", store)
    journal, part = _journal(tmp_path, store)

    assert sorted(writer.delete(gone, part)) == sorted(e.id for e in gone)
    assert [e.name for e in _read(fs.read_local_storage, profile)] == [KEPT]
    kept_usage = _units("keep") + _units("stays")
    assert _usage(ls) == (kept_usage, kept_usage)
    assert not (ls / "usage-journal").exists()
    assert _cache(profile) == (0, cache[1]), "only the valid flag changes"
    after = _dump(ls / "data.sqlite")
    assert after["data"] == [r for r in before["data"] if r[0] == KEPT]
    assert after["schema"] == before["schema"]

    payload = part.load()
    assert payload["columns"] == ["key", "utf16_length", "conversion_type", "compression_type",
                                  "last_access_time", "value"]
    assert payload["usage_before"] == _usage_of(ROWS) and len(payload["rows"]) == len(gone)
    assert sorted(payload["ids"]) == sorted(e.id for e in gone)
    assert {"text"} in [set(cell) for row in payload["rows"] for cell in row if isinstance(cell, dict)]

    restored, skipped = writer.restore(part)
    assert sorted(restored) == sorted(e.id for e in gone) and skipped == []
    assert _dump(ls / "data.sqlite") == before
    assert (ls / "usage").read_bytes() == usage_file
    assert not (ls / "usage-journal").exists()
    assert sorted(_read(fs.read_local_storage, profile), key=repr) == sorted(entries, key=repr)


def test_the_demo_profile_firefox_wrote(tmp_path, data_dir, capsys):
    # clear --trackers and undo through the CLI on files Firefox wrote itself:
    # its usage files (20 and 15: key and value in UTF-16 code units) go to 0
    # and come back as the very bytes it wrote; IndexedDB files come back as
    # they were, to the modification time.
    profile = _demo(tmp_path)
    storage = profile.path / "storage"
    before = _files(storage)
    dumps = {p: _dump(p) for p in storage.glob("default/*/ls/data.sqlite")}
    where = ("--format", "json", "--profile", str(profile.path), "--data-dir", str(data_dir))
    assert cli.main(["clear", "--trackers", "--yes", *where]) == 0
    doc = json.loads(capsys.readouterr().out)
    # 5 cookies, 2 localStorage keys, 1 database, 1 sessionStorage item (in the session file)
    assert doc["errors"] == [] and len(doc["deleted"]) == 9
    facebook = "https+++www.facebook.com^partitionKey=%28https%2Cliveops.com%29"
    for folder in (TRACKER, facebook):
        # Every key of these origins went: their ls folders moved into the journal.
        assert not (storage / "default" / folder / "ls").exists()
        assert (storage / "default" / folder / ".metadata-v2").exists()
    assert not list((storage / "default" / TRACKER / "idb").iterdir())
    after = _files(storage)
    changed = {k for k in before if after.get(k) != before[k]}
    assert changed == {
        f"default/{TRACKER}/ls/data.sqlite", f"default/{TRACKER}/ls/usage",
        f"default/{TRACKER}/idb/2993509347dbcd-.sqlite",
        f"default/{facebook}/ls/data.sqlite", f"default/{facebook}/ls/usage",
    }

    assert cli.main(["undo", "--yes", *where]) == 0
    undone = json.loads(capsys.readouterr().out)
    assert sorted(undone["restored"]) == sorted(doc["deleted"]) and undone["skipped"] == []
    after = _files(storage)
    for name, (data, mtime) in before.items():
        assert after[name][0] == data, name
        if "/idb/" in name or "/ls/" in name:
            assert after[name][1] == mtime, name
    assert {p: _dump(p) for p in storage.glob("default/*/ls/data.sqlite")} == dumps
    assert _usage(storage / "default" / TRACKER / "ls") == (20, 20)


def test_a_key_set_again_before_undo_is_left_alone(tmp_path):
    profile = _profile(tmp_path / "p")
    _quota_cache(profile)
    ls = _origin(profile)
    entries = _ls_entries(profile, "track_id", "compressed")
    writer = writer_for(profile, "local_storage", entries[0].store)
    _, part = _journal(tmp_path)
    writer.delete(entries, part)
    # The site sets track_id again, the way Firefox's flush does it.
    with sqlite3.connect(ls / "data.sqlite") as conn:
        conn.execute("INSERT INTO data VALUES ('track_id', 3, 1, 0, 0, x'6e6577')")
        conn.execute("UPDATE database SET usage = usage + 11")
    conn.close()
    usage = _usage_of([r for r in ROWS if r[0] != "track_id"]) + _units("track_id") + 3
    restored, skipped = writer.restore(part)
    again = next(e.id for e in entries if e.name == "track_id")
    assert restored == [e.id for e in entries if e.name == "compressed"]
    assert skipped == [(again, "set again since the deletion; left as it is now")]
    values = {e.name: e.value for e in _read(fs.read_local_storage, profile)}
    assert values["track_id"] == "new" and values["compressed"] == "z" * 300
    assert _usage(ls) == (usage, usage)


def test_a_locked_database_is_refused_and_nothing_changes(tmp_path):
    profile = _profile(tmp_path / "p")
    _quota_cache(profile)
    ls = _origin(profile)
    entries = _read(fs.read_local_storage, profile)
    writer = writer_for(profile, "local_storage", entries[0].store)
    journal, part = _journal(tmp_path)
    before = _files(profile.path)
    holder = sqlite3.connect(ls / "data.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")  # Firefox in the middle of a flush
    try:
        with pytest.raises(WriteError, match="is locked by another program"):
            writer.delete(entries, part)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _files(profile.path) == before
    assert journal.stores[0].payload is None, "nothing to undo was recorded"


def test_a_locked_quota_cache_is_refused_and_nothing_changes(tmp_path):
    profile = _profile(tmp_path / "p")
    _quota_cache(profile)
    _origin(profile)
    entries = _read(fs.read_local_storage, profile)
    writer = writer_for(profile, "local_storage", entries[0].store)
    _, part = _journal(tmp_path)
    before = _files(profile.path)
    holder = sqlite3.connect(profile.path / "storage.sqlite", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(WriteError, match="storage.sqlite is locked"):
            writer.delete(entries, part)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _files(profile.path) == before
    assert _read(fs.read_local_storage, profile) == entries


@pytest.mark.parametrize("when", ["writing the usage file", "after the usage file"])
def test_a_failure_late_in_the_change_puts_everything_back(tmp_path, monkeypatch, when):
    profile = _profile(tmp_path / "p")
    _quota_cache(profile)
    ls = _origin(profile)
    entries = _read(fs.read_local_storage, profile)
    writer = writer_for(profile, "local_storage", entries[0].store)
    _, part = _journal(tmp_path)
    before, usage_file = _dump(ls / "data.sqlite"), (ls / "usage").read_bytes()
    if when == "writing the usage file":
        def fail(*args):
            raise OSError(errno.ENOSPC, "No space left on device")
        monkeypatch.setattr(fsw, "_write_file", fail)
        match = "No space left on device"
    else:
        write = fsw._UsageFile.write

        def write_then_fail(self, usage):
            write(self, usage)
            assert (ls / "usage-journal").exists(), "the marker goes first"
            assert (ls / "usage").read_bytes() != usage_file
            raise sqlite3.OperationalError("disk I/O error")
        monkeypatch.setattr(fsw._UsageFile, "write", write_then_fail)
        match = "disk I/O error"
    assert len(entries) > 1
    with pytest.raises(WriteError, match=match):
        writer.delete(entries[1:], part)  # not every key: the keys are deleted one by one
    assert _dump(ls / "data.sqlite") == before
    assert (ls / "usage").read_bytes() == usage_file
    assert not (ls / "usage-journal").exists()
    assert not (ls / "data.sqlite-journal").exists()


def test_firefoxs_usage_journal_and_a_drifted_usage_are_repaired(tmp_path):
    # Firefox crashed in a flush (usage-journal left behind) and database.usage
    # holds less than the keys take: the result is what Firefox would count.
    profile = _profile(tmp_path / "p")
    ls = _origin(profile)
    (ls / "usage-journal").touch()
    with sqlite3.connect(ls / "data.sqlite") as conn:
        conn.execute("UPDATE database SET usage = 5")
    conn.close()
    entries = _ls_entries(profile, "track_id")
    writer = writer_for(profile, "local_storage", entries[0].store)
    _, part = _journal(tmp_path)
    assert writer.delete(entries, part) == [entries[0].id]
    left = [r for r in ROWS if r[0] != "track_id"]
    assert _usage(ls) == (_usage_of(left),) * 2
    assert not (ls / "usage-journal").exists()


def test_when_every_key_goes_the_ls_folder_moves_whole_and_back(tmp_path):
    profile = _profile(tmp_path / "p")
    _quota_cache(profile)
    ls = _origin(profile, rows=[_row("only", "one"), _row("two", "2")])
    entries = _read(fs.read_local_storage, profile)
    files = _files(ls)
    writer = writer_for(profile, "local_storage", entries[0].store)
    _, part = _journal(tmp_path)
    assert writer.delete([], part) == [], "nothing planned changes nothing"
    assert _files(ls) == files
    assert sorted(writer.delete(entries, part)) == sorted(e.id for e in entries)
    assert not ls.exists() and ls.parent.is_dir(), "the origin folder stays"
    assert _cache(profile)[0] == 0, "the quota cache is stale"
    assert _read(fs.read_local_storage, profile) == []
    with pytest.raises(WriteError, match="is gone; nothing was changed"):
        writer.delete(entries, _journal(tmp_path / "again")[1])
    restored, skipped = writer.restore(part)
    assert sorted(restored) == sorted(e.id for e in entries) and skipped == []
    assert _files(ls) == files, "the very files, to the modification time"
    assert _read(fs.read_local_storage, profile) == entries


def test_a_whole_folder_is_not_restored_over_new_data(tmp_path):
    profile = _profile(tmp_path / "p")
    ls = _origin(profile, rows=[_row("only", "one")])
    (entry,) = _read(fs.read_local_storage, profile)
    writer = writer_for(profile, "local_storage", entry.store)
    _, part = _journal(tmp_path)
    assert writer.delete([entry], part) == [entry.id]
    ls.mkdir()  # the site wrote again: Firefox made a new ls folder
    (ls / "data.sqlite").write_bytes(b"new")
    restored, skipped = writer.restore(part)
    assert restored == [] and skipped == [(entry.id, skipped[0][1])]
    assert "set again since" in skipped[0][1]
    assert (ls / "data.sqlite").read_bytes() == b"new"


def test_a_vanished_database_is_an_error(tmp_path):
    profile = _profile(tmp_path / "p")
    ls = _origin(profile)
    entries = _read(fs.read_local_storage, profile)
    writer = writer_for(profile, "local_storage", entries[0].store)
    (ls / "data.sqlite").unlink()
    with pytest.raises(WriteError, match="is gone; nothing was changed"):
        writer.delete(entries, _journal(tmp_path)[1])


# --------------------------------------------------------------------------
# Legacy localStorage
# --------------------------------------------------------------------------


@pytest.mark.parametrize("store", fsw.LEGACY_STORES)
def test_legacy_rows_are_deleted_and_restored(tmp_path, store):
    profile = _profile(tmp_path / "p")
    attrs = "^partitionKey=%28https%2Cliveops.com%29"
    path = make_webappsstore(profile.path / store, [
        (attrs, "ten.kcilcelbuod.da.:https:443", "dc_old", "old-id"),
        ("", "moc.koobecaf.www.:https:443", "fb_old", "x"),
        ("", "moc.spoevil.www.:https:443", "lo_old", "keep me"),
    ], archive=store != "webappsstore.sqlite")
    if store == "webappsstore.sqlite":
        with sqlite3.connect(path) as conn:
            conn.execute("PRAGMA journal_mode=WAL")  # as Firefox keeps its shadow database
        conn.close()
    entries = [e for e in _read(fs.read_local_storage, profile) if e.store == store]
    gone = [e for e in entries if e.name != "lo_old"]
    writer = writer_for(profile, "local_storage", store)
    _, part = _journal(tmp_path)

    def rows() -> list[tuple]:
        with sqlite3.connect(path) as conn:
            found = sorted(conn.execute("SELECT * FROM webappsstore2"))
        conn.close()
        return found

    before = rows()
    assert sorted(writer.delete(gone, part)) == sorted(e.id for e in gone)
    assert [r[3] for r in rows()] == ["lo_old"]
    with sqlite3.connect(path) as conn:  # the site's old key, written again
        conn.execute("INSERT INTO webappsstore2 VALUES ('', 'moc.koobecaf.www.:https:443', "
                     "':moc.koobecaf.www.:https:443', 'fb_old', 'y')")
    conn.close()
    restored, skipped = writer.restore(part)
    fb = next(e.id for e in gone if e.name == "fb_old")
    assert restored == [e.id for e in gone if e.name == "dc_old"]
    assert skipped == [(fb, "set again since the deletion; left as it is now")]
    assert [r for r in rows() if r[3] != "fb_old"] == [r for r in before if r[3] != "fb_old"]


# --------------------------------------------------------------------------
# IndexedDB
# --------------------------------------------------------------------------


def _idb_origin(profile: Profile) -> Path:
    """The tracker's IndexedDB: a database with its -wal and a .files blob, and a second one."""
    idb = profile.path / "storage" / "default" / TRACKER / "idb"
    make_idb(idb / "2993509347dbcd-.sqlite", "dc-db", {"impressions": 2})
    (idb / "2993509347dbcd-.sqlite-wal").write_bytes(b"")
    (idb / "2993509347dbcd-.files").mkdir()
    (idb / "2993509347dbcd-.files" / "1").write_bytes(b"blob bytes")
    make_idb(idb / "1234ohter.sqlite", "other", {"s": 1})
    return idb


def _idb_writer(profile: Profile, name: str = "dc-db") -> tuple[Any, Entry]:
    entry = next(e for e in _read(fi.read_indexed_db, profile) if e.name == name)
    return writer_for(profile, "indexed_db", entry.store), entry


@pytest.mark.parametrize("filesystems", ["one", "two"])
def test_an_indexed_db_database_moves_to_the_journal_and_back(tmp_path, monkeypatch, filesystems):
    profile = _profile(tmp_path / "p")
    _quota_cache(profile)
    idb = _idb_origin(profile)
    before = _files(idb)
    writer, entry = _idb_writer(profile)
    _, part = _journal(tmp_path)
    if filesystems == "two":
        def rename(source, target):
            raise OSError(errno.EXDEV, "Invalid cross-device link")
        monkeypatch.setattr(fsw.os, "rename", rename)

    assert writer.delete([entry], part) == [entry.id]
    assert sorted(os.listdir(idb)) == ["1234ohter.sqlite"]
    assert [e.name for e in _read(fi.read_indexed_db, profile)] == ["other"]
    assert _files(part.files()) == {k: v for k, v in before.items() if k.startswith("2993")}
    assert part.load() == {"id": entry.id, "files": ["2993509347dbcd-.sqlite",
                                                     "2993509347dbcd-.sqlite-wal",
                                                     "2993509347dbcd-.files"]}
    assert _cache(profile)[0] == 0

    assert writer.restore(part) == ([entry.id], [])
    assert _files(idb) == before
    assert os.listdir(part.files()) == []
    assert [e.id for e in _read(fi.read_indexed_db, profile) if e.name == "dc-db"] == [entry.id]


def test_a_database_created_again_before_undo_is_left_alone(tmp_path):
    profile = _profile(tmp_path / "p")
    idb = _idb_origin(profile)
    writer, entry = _idb_writer(profile)
    _, part = _journal(tmp_path)
    writer.delete([entry], part)
    make_idb(idb / "2993509347dbcd-.sqlite", "dc-db", {"impressions": 5})
    again = _files(idb)
    assert writer.restore(part) == ([], [(entry.id, "a database of the same name was created "
                                                    "since; left as it is now")])
    assert _files(idb) == again
    assert len(os.listdir(part.files())) == 3, "the journal keeps its copy"


def test_the_origin_folder_removed_before_undo_is_not_recreated(tmp_path):
    profile = _profile(tmp_path / "p")
    idb = _idb_origin(profile)
    writer, entry = _idb_writer(profile)
    _, part = _journal(tmp_path)
    writer.delete([entry], part)
    shutil.rmtree(idb.parent)  # "Forget about this site" in Firefox
    restored, skipped = writer.restore(part)
    assert restored == [] and [s[0] for s in skipped] == [entry.id]
    assert not idb.parent.exists()


def test_a_move_that_fails_midway_puts_everything_back(tmp_path, monkeypatch):
    profile = _profile(tmp_path / "p")
    idb = _idb_origin(profile)
    before = _files(idb)
    writer, entry = _idb_writer(profile)
    _, part = _journal(tmp_path)
    move = fsw._move

    def flaky(source: Path, target: Path) -> None:
        if source.name.endswith(".files"):
            raise PermissionError(errno.EACCES, "Permission denied")
        move(source, target)
    monkeypatch.setattr(fsw, "_move", flaky)
    with pytest.raises(WriteError, match="could not be moved \\(Permission denied\\)"):
        writer.delete([entry], part)
    assert _files(idb) == before
    assert os.listdir(part.files()) == []


def test_a_file_name_taken_by_another_database_since_the_scan_is_not_deleted(tmp_path):
    profile = _profile(tmp_path / "p")
    idb = _idb_origin(profile)
    writer, entry = _idb_writer(profile)
    (idb / "2993509347dbcd-.sqlite").unlink()
    make_idb(idb / "2993509347dbcd-.sqlite", "not-dc-db", {"s": 1})
    before = _files(idb)
    assert writer.delete([entry], _journal(tmp_path)[1]) == []
    assert _files(idb) == before
