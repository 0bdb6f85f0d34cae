"""Firefox HTML5 storage readers on hand-built files: damaged input, and what
Firefox ESR 153 does not write here (legacy webappsstore layout, containers,
old LSNG schemas, odd origin folders).

Every SQLite schema is copied from a file that Firefox ESR 153 wrote (the demo
profile in resources/), except the Cache Storage one, which follows
``dom/cache/DBSchema.cpp``.  What Firefox writes itself is covered in
tests/real/test_real_firefox_storage.py.

``build_many_origins`` also makes the profile for the speed measurement::

    python -c "from tests.unit.test_firefox_storage import build_many_origins as b; \
from pathlib import Path; b(Path('/tmp/many'), 5000)"
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import cramjam
import pytest

from privacy_inspector.browsers import firefox as firefox_sessions
from privacy_inspector.browsers import firefox_idb as fi
from privacy_inspector.browsers import firefox_origins as fo
from privacy_inspector.browsers import firefox_storage as fs
from privacy_inspector.browsers import mozlz4
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.core.records import Profile, ReadError

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "resources" / "demo" / "firefox" / "demo.default-release"
DEMO_LS = DEMO / "storage" / "default" / "https+++www.liveops.com" / "ls" / "data.sqlite"
DEMO_IDB = DEMO / "storage" / "default" / "https+++www.liveops.com" / "idb" / "517246065lbidv-esop.sqlite"
PARTITIONED = "^partitionKey=%28https%2Cliveops.com%29"
ACCESSED_US = 1_700_000_000_123_456  # 2023-11-14T22:13:20Z


# --------------------------------------------------------------------------
# Hand-built files
# --------------------------------------------------------------------------


def _schema(path: Path) -> tuple[list[str], int]:
    """The CREATE statements and user_version of a database Firefox wrote."""
    conn = sqlite3.connect(f"{path.as_uri()}?immutable=1", uri=True)
    try:
        sql = [s for (s,) in conn.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")]
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    finally:
        conn.close()
    return sql, version


def _create(path: Path, statements: Iterable[str], version: int) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path)
    for statement in statements:
        conn.execute(statement)
    conn.execute(f"PRAGMA user_version = {version}")
    return conn


def ls_row(key: str, value: str, *, compress: bool = False, utf16: bool = False,
           accessed: int = 0) -> tuple[Any, ...]:
    """A ``data`` row the way LSNG stores ``value``."""
    raw = value.encode("utf-16-le", "surrogatepass") if utf16 else value.encode("utf-8")
    if compress:
        raw = bytes(cramjam.snappy.compress_raw(raw))
    return (key, len(value), 0 if utf16 else 1, 1 if compress else 0, accessed, raw)


def make_ls_database(path: Path, rows: Sequence[tuple[Any, ...]], origin: str = "https://x.example") -> Path:
    """``ls/data.sqlite`` with Firefox's schema 5.0; ``rows`` as from :func:`ls_row`."""
    statements, version = _schema(DEMO_LS)
    conn = _create(path, statements, version)
    conn.execute("INSERT INTO database (origin) VALUES (?)", (origin,))
    conn.executemany(
        "INSERT INTO data (key, utf16_length, conversion_type, compression_type, last_access_time,"
        " value) VALUES (?, ?, ?, ?, ?, ?)",
        rows,
    )
    conn.commit()
    conn.close()
    return path


def make_origin_ls(profile: Path, folder: str, rows, repository: str = "default") -> Path:
    return make_ls_database(profile / "storage" / repository / folder / "ls" / "data.sqlite", rows)


def make_webappsstore(path: Path, rows: Sequence[tuple[str, str, str, str]], archive: bool = False) -> Path:
    """A legacy localStorage database: rows of (originAttributes, originKey, key, value)."""
    source = DEMO / ("storage/ls-archive.sqlite" if archive else "webappsstore.sqlite")
    statements, version = _schema(source)
    conn = _create(path, statements, version)
    conn.executemany(
        "INSERT INTO webappsstore2 (originAttributes, originKey, scope, key, value) VALUES (?, ?, ?, ?, ?)",
        [(a, k, f"{a}:{k}", key, v) for a, k, key, v in rows],
    )
    conn.commit()
    conn.close()
    return path


def make_idb(path: Path, name: str, stores: dict[str, int]) -> Path:
    """An IndexedDB database file with Firefox's schema: ``stores`` maps names to record counts."""
    statements, version = _schema(DEMO_IDB)
    conn = _create(path, statements, version)
    # Firefox's triggers call a function of its own (only for rows with files).
    conn.create_function("update_refcount", 2, lambda old, new: None)
    conn.execute("INSERT INTO database (name, origin) VALUES (?, ?)", (name, "https://x.example"))
    for store_id, (store, count) in enumerate(stores.items(), start=1):
        conn.execute("INSERT INTO object_store (id, name, key_path) VALUES (?, ?, 'id')", (store_id, store))
        conn.executemany(
            "INSERT INTO object_data (object_store_id, key, data) VALUES (?, ?, x'00')",
            [(store_id, bytes([0x10, i])) for i in range(count)],
        )
    conn.commit()
    conn.close()
    return path


# The tables of dom/cache/DBSchema.cpp that the reader uses (entries trimmed
# to the columns it reads plus the URL).
_CACHE_SCHEMA = (
    "CREATE TABLE caches (id INTEGER NOT NULL PRIMARY KEY AUTOINCREMENT)",
    "CREATE TABLE entries (id INTEGER NOT NULL PRIMARY KEY, request_url_no_query TEXT NOT NULL, "
    "request_body_id TEXT NULL, response_body_id TEXT NULL, "
    "cache_id INTEGER NOT NULL REFERENCES caches(id) ON DELETE CASCADE)",
    "CREATE TABLE storage (namespace INTEGER NOT NULL, key BLOB NULL, "
    "cache_id INTEGER NOT NULL REFERENCES caches(id), PRIMARY KEY(namespace, key))",
)


def make_caches(cache_dir: Path, caches: dict[tuple[int, str], list[tuple[str, int]]]) -> Path:
    """``caches.sqlite`` and morgue files: {(namespace, name): [(url, body bytes)]}."""
    conn = _create(cache_dir / "caches.sqlite", _CACHE_SCHEMA, 31)
    body = 0
    for cache_id, ((namespace, name), entries) in enumerate(caches.items(), start=1):
        conn.execute("INSERT INTO caches (id) VALUES (?)", (cache_id,))
        key = name.encode("utf-16-le") if name else None
        conn.execute("INSERT INTO storage VALUES (?, ?, ?)", (namespace, key, cache_id))
        for url, size in entries:
            body += 1
            body_id = f"{{00000000-0000-0000-0000-{body:012d}}}"
            bucket = cache_dir / "morgue" / str(body % 3)
            bucket.mkdir(parents=True, exist_ok=True)
            (bucket / f"{body_id}.final").write_bytes(b"b" * size)
            conn.execute(
                "INSERT INTO entries (request_url_no_query, response_body_id, cache_id) VALUES (?, ?, ?)",
                (url, body_id, cache_id),
            )
    conn.commit()
    conn.close()
    return cache_dir / "caches.sqlite"


def write_session(path: Path, state: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(mozlz4.encode(json.dumps(state).encode()))
    return path


def build_many_origins(profile_dir: Path, count: int, keys: int = 3) -> Path:
    """A profile with ``count`` origin folders, each with an ``ls/data.sqlite`` of ``keys`` keys.

    One database is built with Firefox's schema and copied, the way a real
    profile holds one small file per origin; every fourth origin is a
    partitioned third party, every tenth value is snappy-compressed.
    """
    template = profile_dir / "template.sqlite"
    rows = [ls_row(f"key{k}", f"value-{k}-" + "x" * 40, compress=k % 10 == 9) for k in range(keys)]
    make_ls_database(template, rows)
    base = profile_dir / "storage" / "default"
    for i in range(count):
        suffix = PARTITIONED if i % 4 == 3 else ""
        folder = base / f"https+++site{i}.example{suffix}" / "ls"
        folder.mkdir(parents=True)
        shutil.copyfile(template, folder / "data.sqlite")
    template.unlink()
    return profile_dir


def _profile(path: Path) -> Profile:
    path.mkdir(parents=True, exist_ok=True)
    return Profile(path, "firefox", "firefox", "default-release")


def _read(reader, profile: Profile, show_values: bool = True):
    options = ReadOptions(show_values=show_values)
    return list(reader(profile, options)), options


def _snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_size, p.stat().st_mtime_ns)
        for p in folder.rglob("*") if p.is_file()
    }


# --------------------------------------------------------------------------
# Origin folder names and origin keys
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "origin", "partition_site", "container"),
    [
        ("https+++www.liveops.com", "https://www.liveops.com", None, None),
        ("http+++localhost+3000", "http://localhost:3000", None, None),
        ("https+++ad.doubleclick.net+8443" + PARTITIONED, "https://ad.doubleclick.net:8443", "liveops.com", None),
        ("https+++www.liveops.com^userContextId=2", "https://www.liveops.com", None, 2),
        ("https+++www.facebook.com^userContextId=3&partitionKey=%28https%2Cexample-news.org%2C8443%29",
         "https://www.facebook.com", "example-news.org", 3),
        ("https+++t.example^firstPartyDomain=shop.example.co.uk", "https://t.example", "example.co.uk", None),
        ("http+++[++1]+8080", "http://[::1]:8080", None, None),
        ("http+++127.0.0.1+8000", "http://127.0.0.1:8000", None, None),
        ("moz-extension+++0b1c6a0e-1111-2222-3333-444455556666^userContextId=1",
         "moz-extension://0b1c6a0e-1111-2222-3333-444455556666", None, 1),
        ("file++++home+user+page.html", "file:///home/user/page.html", None, None),
        ("file+++UNIVERSAL_FILE_URI_ORIGIN", "file://UNIVERSAL_FILE_URI_ORIGIN", None, None),
        # userContextId 0 is the default container: none.
        ("https+++a.example^userContextId=0", "https://a.example", None, None),
    ],
)
def test_origin_folder_names(name, origin, partition_site, container):
    folder = fo.parse_origin_folder(name)
    assert (folder.origin, folder.partition_site, folder.container) == (origin, partition_site, container)
    assert folder.name == name
    assert folder.internal is False
    assert folder.suffix == name[len(name.split("^")[0]):]


def test_the_raw_partition_key_is_kept_for_ids():
    folder = fo.parse_origin_folder("https+++ad.doubleclick.net" + PARTITIONED)
    assert folder.partition_key == "(https,liveops.com)"
    assert fo.parse_origin_folder("https+++ad.doubleclick.net").partition_key is None


@pytest.mark.parametrize("name", ["chrome", "moz-safe-about+home", "indexeddb+++fx-devtools", "about+newtab"])
def test_the_browsers_own_folders_are_internal(name):
    assert fo.parse_origin_folder(name).internal is True


@pytest.mark.parametrize(
    "name",
    ["", "https", "https+", "https+++", "https++++8080", "https+++host+port", "https+++host+80+1",
     "http+++[++1", "HTTPS+++upper.example", "+++x.example", "^userContextId=1"],
)
def test_names_that_are_not_origin_folders(name):
    with pytest.raises(ValueError):
        fo.parse_origin_folder(name)


@pytest.mark.parametrize(
    ("key", "origin"),
    [
        ("moc.spoevil.www.:https:443", "https://www.liveops.com"),
        ("moc.spoevil.www.:http:80", "http://www.liveops.com"),
        ("tsohlacol.:http:3000", "http://localhost:3000"),
        ("1::.:http:8080", "http://[::1]:8080"),
        ("0b1c6a0e-1111-2222-3333-444455556666"[::-1] + ".:moz-extension",
         "moz-extension://0b1c6a0e-1111-2222-3333-444455556666"),
        ("/resu/emoh/.:file", "file:///home/user"),
    ],
)
def test_legacy_origin_keys(key, origin):
    assert fo.parse_origin_key(key) == origin


@pytest.mark.parametrize("key", ["", ":https:443", "moc.elpmaxe.", "moc.elpmaxe.:HTTPS:443", ".:https:443"])
def test_bad_legacy_origin_keys(key):
    with pytest.raises(ValueError):
        fo.parse_origin_key(key)


# --------------------------------------------------------------------------
# localStorage
# --------------------------------------------------------------------------


def test_values_as_lsng_stores_them(tmp_path):
    profile = _profile(tmp_path / "p")
    rows = [
        ls_row("plain", "dark", accessed=ACCESSED_US),
        ls_row("snappy", "visitor-" * 50, compress=True),
        # Not valid UTF-16: stored as UTF-16 code units (conversion_type 0).
        ls_row("lone", "a\ud800b", utf16=True),
        ls_row("utf16-snappy", "ü" * 40, utf16=True, compress=True),
        ls_row("ключ", "значение"),
    ]
    make_origin_ls(profile.path, "https+++www.liveops.com+8443", rows)
    entries, options = _read(fs.read_local_storage, profile)
    assert options.problems == []
    by_name = {e.name: e for e in entries}
    assert by_name["plain"].value == "dark"
    assert by_name["plain"].last_accessed == "2023-11-14T22:13:20Z"
    assert by_name["snappy"].value == "visitor-" * 50
    assert by_name["lone"].value == "a\ufffdb"
    assert by_name["utf16-snappy"].value == "ü" * 40
    assert by_name["ключ"].value == "значение"
    for e in entries:
        assert (e.kind, e.origin, e.host, e.site) == (
            "local_storage", "https://www.liveops.com:8443", "www.liveops.com", "liveops.com")
        assert (e.partition_site, e.container, e.persistent, e.stale) == (None, None, True, False)
        assert (e.value_state, e.value_note) == ("plain", None)
        assert e.size == len(e.name.encode()) + len(e.value.encode())
        assert e.store == "storage/default/https+++www.liveops.com+8443/ls/data.sqlite"
    assert by_name["snappy"].last_accessed is None


def test_values_are_left_out_unless_asked_for_but_sizes_are_not(tmp_path):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "https+++a.example", [ls_row("k", "v" * 300, compress=True)])
    (entry,), options = _read(fs.read_local_storage, profile, show_values=False)
    assert (entry.value, entry.value_state, entry.size) == (None, "plain", 301)


def test_undecodable_values_are_listed_without_a_value(tmp_path):
    profile = _profile(tmp_path / "p")
    good = ls_row("good", "fine")
    rows = [
        good,
        ("bad-snappy", 5, 1, 1, 0, b"\xff\xff\xff\x00garbage"),
        ("bad-utf8", 2, 1, 0, 0, b"\xff\xfe\xfd"),
        ("odd-utf16", 2, 0, 0, 0, b"a\x00b"),
        ("new-compression", 2, 1, 7, 0, b"xx"),
        ("new-conversion", 2, 9, 0, 0, b"xx"),
    ]
    make_origin_ls(profile.path, "https+++a.example", rows)
    entries, options = _read(fs.read_local_storage, profile)
    assert options.problems == []
    by_name = {e.name: e for e in entries}
    assert by_name["good"].value == "fine"
    notes = {n: (e.value, e.value_state, e.value_note) for n, e in by_name.items() if n != "good"}
    assert notes == {
        "bad-snappy": (None, "unavailable", "its snappy compression is damaged"),
        "bad-utf8": (None, "unavailable", "it is not valid UTF-8"),
        "odd-utf16": (None, "unavailable", "its UTF-16 data is truncated"),
        "new-compression": (None, "unavailable", "it uses compression type 7, unknown to this app"),
        "new-conversion": (None, "unavailable", "it uses conversion type 9, unknown to this app"),
    }
    assert by_name["bad-utf8"].size == len("bad-utf8") + 3


def test_an_lsng_database_of_an_older_schema(tmp_path):
    # Before schema 5.0 (user_version 80) values were UTF-8 TEXT, maybe snappy (``compressed``).
    profile = _profile(tmp_path / "p")
    path = profile.path / "storage/default/https+++old.example/ls/data.sqlite"
    conn = _create(path, [
        "CREATE TABLE database(origin TEXT NOT NULL, usage INTEGER NOT NULL DEFAULT 0, "
        "last_vacuum_time INTEGER NOT NULL DEFAULT 0, last_analyze_time INTEGER NOT NULL DEFAULT 0, "
        "last_vacuum_size INTEGER NOT NULL DEFAULT 0)",
        "CREATE TABLE data(key TEXT PRIMARY KEY, value TEXT NOT NULL, utf16Length INTEGER NOT NULL "
        "DEFAULT 0, compressed INTEGER NOT NULL DEFAULT 0, lastAccessTime INTEGER NOT NULL DEFAULT 0)",
    ], 64)
    conn.execute("INSERT INTO data VALUES ('text', 'old value', 9, 0, ?)", (ACCESSED_US,))
    conn.execute("INSERT INTO data VALUES ('packed', ?, 3, 1, 0)",
                 (bytes(cramjam.snappy.compress_raw(b"abc" * 30)),))
    conn.commit()
    conn.close()
    entries, options = _read(fs.read_local_storage, profile)
    assert options.problems == []
    assert {e.name: (e.value, e.last_accessed) for e in entries} == {
        "text": ("old value", "2023-11-14T22:13:20Z"), "packed": ("abc" * 30, None)}


def test_containers_and_partitions_of_origin_folders(tmp_path):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "https+++www.liveops.com^userContextId=2", [ls_row("theme", "work")])
    make_origin_ls(profile.path, "https+++www.liveops.com", [ls_row("theme", "dark")])
    make_origin_ls(profile.path, "https+++ad.doubleclick.net^userContextId=2&partitionKey=%28https%2Cliveops.com%29",
                   [ls_row("theme", "ad")])
    entries, options = _read(fs.read_local_storage, profile)
    assert options.problems == []
    seen = {(e.origin, e.container, e.partition_site): e.value for e in entries}
    assert seen == {
        ("https://www.liveops.com", 2, None): "work",
        ("https://www.liveops.com", None, None): "dark",
        ("https://ad.doubleclick.net", 2, "liveops.com"): "ad",
    }
    # The same key in another container or partition is another entry.
    assert len({e.id for e in entries}) == 3


def test_the_browsers_own_storage_is_skipped_and_other_repositories_read(tmp_path):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "chrome", [ls_row("internal", "x")], repository="permanent")
    make_origin_ls(profile.path, "moz-safe-about+home", [ls_row("internal", "x")], repository="permanent")
    make_origin_ls(profile.path, "https+++old.example", [ls_row("kept", "x")], repository="temporary")
    make_origin_ls(profile.path, "https+++private.example", [ls_row("secret", "x")], repository="private")
    entries, options = _read(fs.read_local_storage, profile)
    assert options.problems == []
    assert [(e.name, e.store) for e in entries] == [
        ("kept", "storage/temporary/https+++old.example/ls/data.sqlite")]


def _damage(path: Path, how: str) -> None:
    if how == "garbage":
        path.write_bytes(b"this is not a database at all" * 40)
    elif how == "truncated":
        path.write_bytes(path.read_bytes()[:1500])
    elif how == "empty":
        path.write_bytes(b"")
    elif how == "no-data-table":
        path.unlink()
        _create(path, ["CREATE TABLE other(x)"], 80).close()
    elif how == "directory":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("how", ["garbage", "truncated", "empty", "no-data-table", "directory"])
def test_one_damaged_origin_does_not_hide_the_others(tmp_path, how):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "https+++a.example", [ls_row("a", "1")])
    bad = make_origin_ls(profile.path, "https+++b.example", [ls_row("b", "2")] * 1 + [
        ls_row(f"pad{i}", "p" * 200) for i in range(40)])
    make_origin_ls(profile.path, "https+++c.example", [ls_row("c", "3")])
    _damage(bad, how)
    entries, options = _read(fs.read_local_storage, profile)
    assert sorted(e.name for e in entries) == ["a", "c"]
    (store, message), = options.problems
    assert store == "storage/default/https+++b.example/ls/data.sqlite"
    assert message.startswith(store)
    assert "\n" not in message


def test_a_folder_not_named_like_an_origin_is_reported_once(tmp_path):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "https+++a.example", [ls_row("a", "1")])
    make_origin_ls(profile.path, "weird folder", [ls_row("w", "1")])
    (profile.path / "storage/default/empty-weird").mkdir()
    entries, options = _read(fs.read_local_storage, profile)
    assert [e.name for e in entries] == ["a"]
    (store, message), = options.problems
    assert store == "storage/default/weird folder/ls/data.sqlite"
    assert "not named like an origin" in message


def test_many_damaged_origins_are_summed_up(tmp_path):
    profile = _profile(tmp_path / "p")
    build_many_origins(profile.path, 60)
    for i in range(0, 60, 2):
        (profile.path / f"storage/default/https+++site{i}.example{PARTITIONED if i % 4 == 3 else ''}"
         / "ls" / "data.sqlite").write_bytes(b"junk" * 300)
    entries, options = _read(fs.read_local_storage, profile)
    assert len(entries) == 30 * 3
    assert len(options.problems) == fo.PROBLEM_LIMIT + 1
    assert options.problems[-1] == (
        "storage", f"{30 - fo.PROBLEM_LIMIT} more localStorage databases could not be read "
        f"(the first {fo.PROBLEM_LIMIT} are listed)")


def test_many_origins_read_in_place_without_touching_them(tmp_path):
    profile = _profile(tmp_path / "p")
    build_many_origins(profile.path, 200)
    before = _snapshot(profile.path)
    entries, options = _read(fs.read_local_storage, profile, show_values=False)
    assert options.problems == []
    assert len(entries) == 600
    assert len({e.id for e in entries}) == 600
    assert sum(e.partition_site == "liveops.com" for e in entries) == 50 * 3
    # A read-only connection in place creates no journal, -shm or -wal and changes nothing.
    assert _snapshot(profile.path) == before


_WRITER = r"""
import sqlite3, sys
conn = sqlite3.connect(sys.argv[1], isolation_level=None)
conn.execute("BEGIN EXCLUSIVE")
if sys.argv[2] == "write":
    conn.execute("PRAGMA cache_spill = 1")
    conn.executemany("INSERT INTO data VALUES (?, 1, 1, 0, 0, ?)",
                     [(f"uncommitted{i}", b"u" * 2000) for i in range(50)])
print("holding", flush=True)
sys.stdin.readline()
"""


@pytest.mark.parametrize("mode", ["lock", "write"])
def test_a_database_locked_by_a_writer_is_read_from_a_copy(tmp_path, mode):
    # Firefox holding the lock (and maybe half-way through a transaction): the
    # in-place read fails at once (no busy wait) and the copy, with the writer's
    # journal rolled back, gives the committed rows.
    profile = _profile(tmp_path / "p")
    path = make_origin_ls(profile.path, "https+++a.example", [ls_row("committed", "yes")])
    with subprocess.Popen(
        [sys.executable, "-c", _WRITER, str(path), mode],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as writer:
        try:
            assert writer.stdout.readline().strip() == "holding"
            if mode == "write":
                assert Path(f"{path}-journal").exists()
            entries, options = _read(fs.read_local_storage, profile)
        finally:
            writer.stdin.close()
            writer.wait(10)
    assert options.problems == []
    assert [(e.name, e.value) for e in entries] == [("committed", "yes")]


def test_a_hot_journal_sends_the_read_to_the_copy(tmp_path, monkeypatch):
    profile = _profile(tmp_path / "p")
    path = make_origin_ls(profile.path, "https+++a.example", [ls_row("k", "v")])
    Path(f"{path}-journal").write_bytes(b"")
    assert fo.in_place_uri(str(path)) is None
    Path(f"{path}-journal").unlink()
    assert fo.in_place_uri(str(path)).endswith("?mode=ro")
    copies = []
    real = fo.sqlitecopy.open_copy
    monkeypatch.setattr(fo.sqlitecopy, "open_copy", lambda p: copies.append(p) or real(p))
    Path(f"{path}-journal").write_bytes(b"")
    entries, options = _read(fs.read_local_storage, profile)
    assert [e.name for e in entries] == ["k"] and options.problems == []
    assert copies == [path]


def test_wal_databases_are_never_opened_in_place(tmp_path):
    path = make_ls_database(tmp_path / "data.sqlite", [ls_row("k", "v")])
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = wal")
    conn.close()
    assert not Path(f"{path}-wal").exists()
    assert fo.in_place_uri(str(path)) is None


def test_legacy_webappsstore_and_archive_rows_are_stale(tmp_path):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "https+++www.liveops.com", [ls_row("theme", "dark")])
    make_webappsstore(profile.path / "webappsstore.sqlite", [
        ("", "moc.spoevil.www.:https:443", "theme", "old-dark"),
        ("^userContextId=2", "moc.spoevil.www.:https:443", "theme", "old-work"),
        (PARTITIONED, "ten.kcilcelbuod.da.:https:8443", "dc_id", "old-ad"),
        ("", "not a key", "lost", "x"),
    ])
    make_webappsstore(profile.path / "storage" / "ls-archive.sqlite",
                      [("", "gro.swen-elpmaxe.www.:http:80", "region", "eu")], archive=True)
    entries, options = _read(fs.read_local_storage, profile)
    assert options.problems == [
        ("webappsstore.sqlite", "webappsstore.sqlite: 1 row has an origin key this app cannot read; skipped")]
    seen = {(e.store, e.origin, e.container, e.partition_site, e.name): (e.value, e.stale) for e in entries}
    assert seen == {
        ("storage/default/https+++www.liveops.com/ls/data.sqlite", "https://www.liveops.com", None, None,
         "theme"): ("dark", False),
        ("webappsstore.sqlite", "https://www.liveops.com", None, None, "theme"): ("old-dark", True),
        ("webappsstore.sqlite", "https://www.liveops.com", 2, None, "theme"): ("old-work", True),
        ("webappsstore.sqlite", "https://ad.doubleclick.net:8443", None, "liveops.com", "dc_id"): ("old-ad", True),
        ("storage/ls-archive.sqlite", "http://www.example-news.org", None, None, "region"): ("eu", True),
    }
    # A stale copy never shares an id with the live item.
    assert len({e.id for e in entries}) == len(entries)
    stale = next(e for e in entries if e.value == "old-dark")
    assert stale.size == len("theme") + len("old-dark")


def test_a_damaged_legacy_database_is_a_problem_not_an_error(tmp_path):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "https+++a.example", [ls_row("a", "1")])
    (profile.path / "webappsstore.sqlite").write_bytes(b"junk" * 500)
    entries, options = _read(fs.read_local_storage, profile)
    assert [e.name for e in entries] == ["a"]
    assert [s for s, _ in options.problems] == ["webappsstore.sqlite"]


def test_a_profile_without_storage_has_none(tmp_path):
    profile = _profile(tmp_path / "p")
    for reader in (fs.read_local_storage, fs.read_session_storage, fi.read_indexed_db,
                   fi.read_cache_storage, fi.read_service_workers):
        assert _read(reader, profile) == ([], ReadOptions(show_values=True))


def test_an_unlistable_storage_folder_is_an_error(tmp_path, monkeypatch):
    profile = _profile(tmp_path / "p")
    make_origin_ls(profile.path, "https+++a.example", [ls_row("a", "1")])
    real_scandir = os.scandir

    def scandir(path):
        if str(path).endswith(os.path.join("storage", "default")):
            raise PermissionError(13, "Permission denied", str(path))
        return real_scandir(path)

    monkeypatch.setattr(fo.os, "scandir", scandir)
    with pytest.raises(ReadError, match="^storage/default cannot be listed: permission denied$"):
        fs.read_local_storage(profile, ReadOptions())


# --------------------------------------------------------------------------
# sessionStorage
# --------------------------------------------------------------------------


def _tab(storage: dict[str, dict[str, str]], user_context: int = 0) -> dict[str, Any]:
    return {"entries": [{"url": "https://x.example/"}], "index": 1, "userContextId": user_context,
            "storage": storage}


def test_session_storage_of_open_and_closed_tabs(tmp_path):
    profile = _profile(tmp_path / "p")
    write_session(profile.path / "sessionstore.jsonlz4", {
        "windows": [{
            "tabs": [
                _tab({"https://www.liveops.com:8443": {"cart": "3"},
                      "https://ad.doubleclick.net:8443" + PARTITIONED: {"seen": "1"}}),
                # A container tab: the origin key carries userContextId.
                _tab({"https://www.liveops.com:8443^userContextId=2": {"cart": "work"}}, user_context=2),
                _tab({"https://www.liveops.com:8443": {"cart": "other tab"}}),
            ],
            "_closedTabs": [{"state": _tab({"https://closed.example": {"k": "v"}})}],
        }],
        "_closedWindows": [{"tabs": [_tab({"https://gone.example": {"k2": "v2"}}, user_context=5)]}],
    })
    entries, options = _read(fs.read_session_storage, profile)
    assert options.problems == []
    seen = {(e.origin, e.partition_site, e.container, e.name): e.value for e in entries}
    assert seen == {
        ("https://www.liveops.com:8443", None, None, "cart"): "3",
        ("https://ad.doubleclick.net:8443", "liveops.com", None, "seen"): "1",
        ("https://www.liveops.com:8443", None, 2, "cart"): "work",
        ("https://closed.example", None, None, "k"): "v",
        # No userContextId in the key: the tab's container.
        ("https://gone.example", None, 5, "k2"): "v2",
    }
    for e in entries:
        assert (e.kind, e.persistent, e.stale, e.store) == (
            "session_storage", False, False, "sessionstore.jsonlz4")
        assert e.size == len(e.name) + len(e.value)


def test_the_newer_live_file_and_the_stale_previous_one(tmp_path):
    profile = _profile(tmp_path / "p")
    old = write_session(profile.path / "sessionstore.jsonlz4",
                        {"windows": [{"tabs": [_tab({"https://a.example": {"from": "clean exit"}})]}]})
    recovery = write_session(profile.path / "sessionstore-backups" / "recovery.jsonlz4",
                             {"windows": [{"tabs": [_tab({"https://a.example": {"k": "live"}})]}]})
    os.utime(old, ns=(1_000_000_000, 1_000_000_000))
    write_session(profile.path / "sessionstore-backups" / "previous.jsonlz4",
                  {"windows": [{"tabs": [_tab({"https://a.example": {"k": "older", "gone": "x"}})]}]})
    entries, options = _read(fs.read_session_storage, profile)
    assert options.problems == []
    assert {(e.name, e.value, e.stale, e.store) for e in entries} == {
        ("k", "live", False, "sessionstore-backups/recovery.jsonlz4"),
        ("gone", "x", True, "sessionstore-backups/previous.jsonlz4"),
    }
    # The live item keeps its id whichever live file it is read from.
    live_id = next(e.id for e in entries if e.name == "k")
    recovery.unlink()
    write_session(old, {"windows": [{"tabs": [_tab({"https://a.example": {"k": "live"}})]}]})
    entries, _ = _read(fs.read_session_storage, profile)
    assert next(e.id for e in entries if e.name == "k") == live_id


def test_a_damaged_session_file(tmp_path):
    profile = _profile(tmp_path / "p")
    write_session(profile.path / "sessionstore.jsonlz4",
                  {"windows": [{"tabs": [_tab({"https://a.example": {"k": "v"}}), "junk", {"storage": 3}]}]})
    (profile.path / "sessionstore-backups").mkdir()
    (profile.path / "sessionstore-backups" / "previous.jsonlz4").write_bytes(b"mozLz40\0junk")
    entries, options = _read(fs.read_session_storage, profile)
    assert [e.name for e in entries] == ["k"]
    assert [s for s, _ in options.problems] == ["sessionstore-backups/previous.jsonlz4"]
    (profile.path / "sessionstore.jsonlz4").write_bytes(b"not mozlz4")
    with pytest.raises(ReadError, match="sessionstore.jsonlz4"):
        fs.read_session_storage(profile, ReadOptions())


# --------------------------------------------------------------------------
# IndexedDB
# --------------------------------------------------------------------------


def test_indexed_db_databases_with_stores_counts_and_bytes(tmp_path):
    profile = _profile(tmp_path / "p")
    idb = profile.path / "storage/default/https+++www.liveops.com^userContextId=3/idb"
    make_idb(idb / "1234events.sqlite", "events-db", {"events": 3, "empty": 0, "a, \"b\"": 1})
    (idb / "1234events.files").mkdir()
    (idb / "1234events.files" / "1").write_bytes(b"f" * 1000)
    (idb / "1234events.sqlite-wal").write_bytes(b"")
    make_idb(idb / "99other.sqlite", "other", {})
    (idb / "not-a-db.txt").write_text("x")
    entries, options = _read(fi.read_indexed_db, profile)
    assert options.problems == []
    by_name = {e.name: e for e in entries}
    assert sorted(by_name) == ["events-db", "other"]
    events = by_name["events-db"]
    assert (events.kind, events.origin, events.container, events.value, events.value_state) == (
        "indexed_db", "https://www.liveops.com", 3, None, "unavailable")
    assert events.value_note == 'stores: events (3), empty (0), a, "b" (1)'
    assert events.size == (idb / "1234events.sqlite").stat().st_size + 1000
    assert by_name["other"].value_note == "no object stores"


def test_one_damaged_indexed_db_file_does_not_hide_the_others(tmp_path):
    profile = _profile(tmp_path / "p")
    idb = profile.path / "storage/default/https+++a.example/idb"
    make_idb(idb / "1a.sqlite", "a", {"s": 1})
    (idb / "2b.sqlite").write_bytes(b"junk" * 1000)
    _create(idb / "3c.sqlite", ["CREATE TABLE database(name TEXT)"], 0).close()
    make_idb(profile.path / "storage/default/https+++b.example/idb/1d.sqlite", "d", {"s": 2})
    entries, options = _read(fi.read_indexed_db, profile)
    assert sorted(e.name for e in entries) == ["a", "d"]
    assert [s for s, _ in options.problems] == [
        "storage/default/https+++a.example/idb/2b.sqlite",
        "storage/default/https+++a.example/idb/3c.sqlite",
    ]


# --------------------------------------------------------------------------
# Cache Storage
# --------------------------------------------------------------------------


def test_cache_storage_names_and_body_bytes(tmp_path):
    profile = _profile(tmp_path / "p")
    cache = Path(str(profile.path / "storage/default") + "/https+++ad.doubleclick.net" + PARTITIONED + "/cache")
    make_caches(cache, {
        (0, "pi-cache-v1"): [("https://ad.doubleclick.net/a", 100), ("https://ad.doubleclick.net/b", 23)],
        (0, ""): [],
        (1, "{e896d43b-ed77-4997-ad7e-6bc31148fad6}"): [("https://ad.doubleclick.net/sw.js", 50)],
        (0, "ünïcode"): [("https://ad.doubleclick.net/c", 7)],
    })
    entries, options = _read(fi.read_cache_storage, profile)
    assert options.problems == []
    seen = {e.name: (e.size, e.value_note) for e in entries}
    # Namespace 1 (the browser's own service worker script cache) is not listed.
    assert seen == {
        "pi-cache-v1": (123, "a cache of 2 responses"),
        "": (0, "a cache of 0 responses"),
        "ünïcode": (7, "a cache of 1 response"),
    }
    for e in entries:
        assert (e.kind, e.origin, e.partition_site, e.value, e.value_state) == (
            "cache_storage", "https://ad.doubleclick.net", "liveops.com", None, "unavailable")


def test_a_damaged_cache_database(tmp_path):
    profile = _profile(tmp_path / "p")
    make_caches(profile.path / "storage/default/https+++a.example/cache", {(0, "ok"): []})
    bad = profile.path / "storage/default/https+++b.example/cache/caches.sqlite"
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"junk" * 1000)
    entries, options = _read(fi.read_cache_storage, profile)
    assert [e.name for e in entries] == ["ok"]
    assert [s for s, _ in options.problems] == ["storage/default/https+++b.example/cache/caches.sqlite"]


# --------------------------------------------------------------------------
# Service workers
# --------------------------------------------------------------------------

SW_V12 = (
    "12\n"
    "\n"
    "https://www.example-news.org:8443/app/\n"
    "https://www.example-news.org:8443/sw.js\n"
    "true\n"
    "{e896d43b-ed77-4997-ad7e-6bc31148fad6}\n"
    "0\n"
    "1700000000522573\n"
    "1700000000523177\n"
    "1700000000343444\n"
    "0\n"
    "true\n"
    "0\n"
    "1\n"
    "0\n"
    "-1\n"
    "0\n"
    "#\n"
    f"{PARTITIONED}&userContextId=4\n"
    "https://ad.doubleclick.net/\n"
    "https://ad.doubleclick.net/sw.js\n"
    "false\n"
    "{00000000-0000-0000-0000-000000000001}\n"
    "0\n0\n0\n0\n0\ntrue\n1\ncookie-store\nsubscriptions\n1\n0\n-1\n1\n"
    "#\n"
)


def test_service_worker_registrations(tmp_path):
    profile = _profile(tmp_path / "p")
    (profile.path / "serviceworker.txt").write_text(SW_V12)
    entries, options = _read(fi.read_service_workers, profile)
    assert options.problems == []
    news, ad = entries
    assert (news.kind, news.origin, news.name, news.value, news.partition_site, news.container) == (
        "service_worker", "https://www.example-news.org:8443", "https://www.example-news.org:8443/app/",
        "https://www.example-news.org:8443/sw.js", None, None)
    assert news.last_accessed == "2023-11-14T22:13:20Z"
    assert news.size == len(SW_V12.split("#\n")[0]) - 3 + 2
    assert (ad.origin, ad.partition_site, ad.container, ad.last_accessed) == (
        "https://ad.doubleclick.net", "liveops.com", 4, None)
    hidden, _ = _read(fi.read_service_workers, profile, show_values=False)
    assert [e.value for e in hidden] == [None, None]
    assert [e.id for e in hidden] == [e.id for e in entries]


def test_service_workers_of_an_old_layout(tmp_path):
    # Version 3: the principal's spec between suffix and scope, no times.
    profile = _profile(tmp_path / "p")
    (profile.path / "serviceworker.txt").write_text(
        "3\n^userContextId=1\nhttps://a.example/\nhttps://a.example/app/\nhttps://a.example/sw.js\n"
        "cache-name\n#\n")
    (entry,), options = _read(fi.read_service_workers, profile)
    assert options.problems == []
    assert (entry.name, entry.value, entry.container, entry.last_accessed) == (
        "https://a.example/app/", "https://a.example/sw.js", 1, None)


def test_damaged_service_worker_files(tmp_path):
    profile = _profile(tmp_path / "p")
    path = profile.path / "serviceworker.txt"
    # Cut off in the middle of the second record, and one record without a scope URL.
    path.write_text(SW_V12[: SW_V12.index("false")] + "\n")
    entries, options = _read(fi.read_service_workers, profile)
    assert [e.origin for e in entries] == ["https://www.example-news.org:8443"]
    assert options.problems == [("serviceworker.txt", "serviceworker.txt: 1 registration could not be read")]
    path.write_text("12\n\nnot a url\nx\n#\n")
    entries, options = _read(fi.read_service_workers, profile)
    assert entries == [] and len(options.problems) == 1
    path.write_text("13\n" + SW_V12.split("\n", 1)[1])
    entries, options = _read(fi.read_service_workers, profile)
    assert len(entries) == 2 and "newer than this app knows" in options.problems[0][1]
    path.write_bytes(b"\x00\x01garbage")
    with pytest.raises(ReadError, match="version number"):
        fi.read_service_workers(profile, ReadOptions())


def test_a_session_file_replaced_while_it_is_read(tmp_path, monkeypatch):
    # Firefox moves recovery.jsonlz4 aside and puts a new one in place every
    # few seconds while it runs: a file gone between listing and reading is
    # read again, not reported.
    profile = _profile(tmp_path / "p")
    write_session(profile.path / "sessionstore-backups" / "recovery.jsonlz4",
                  {"windows": [{"tabs": [_tab({"https://a.example": {"k": "v"}})]}]})
    real = firefox_sessions.load_session_file
    calls = []

    def flaky(path):
        calls.append(path.name)
        if len(calls) == 1:
            raise FileNotFoundError(2, "No such file or directory", str(path))
        return real(path)

    monkeypatch.setattr(firefox_sessions, "load_session_file", flaky)
    entries, options = _read(fs.read_session_storage, profile)
    assert [e.name for e in entries] == ["k"] and options.problems == []
    assert calls == ["recovery.jsonlz4", "recovery.jsonlz4"]
    monkeypatch.setattr(firefox_sessions, "load_session_file", lambda path: (_ for _ in ()).throw(FileNotFoundError()))
    with pytest.raises(ReadError, match="kept changing"):
        fs.read_session_storage(profile, ReadOptions())
