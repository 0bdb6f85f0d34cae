"""Firefox's cookie rules in permissions.sqlite: reading and writing the rows.

The database is built from the schema Firefox ESR 153 wrote in a new profile
(captured below from its sqlite_master, user_version and page_size; the real
test checks the module's copy against a profile the browser makes).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from privacy_inspector.browsers import firefox_permissions as fp
from privacy_inspector.browsers.cookie_rules import CookieRule
from privacy_inspector.browsers.writers import WriteError
from privacy_inspector.core.records import ReadError

# sqlite_master of permissions.sqlite in a profile Firefox ESR 153 created.
FIREFOX_SCHEMA = [
    ("table", "moz_perms",
     "CREATE TABLE moz_perms ( id INTEGER PRIMARY KEY,origin TEXT,type TEXT,permission INTEGER,"
     "expireType INTEGER,expireTime INTEGER,modificationTime INTEGER)"),
    ("table", "moz_hosts",
     "CREATE TABLE moz_hosts ( id INTEGER PRIMARY KEY,host TEXT,type TEXT,permission INTEGER,"
     "expireType INTEGER,expireTime INTEGER,modificationTime INTEGER,isInBrowserElement INTEGER)"),
    ("table", "moz_origin_interactions",
     "CREATE TABLE moz_origin_interactions ( origin TEXT PRIMARY KEY,lastInteractionTime "
     "INTEGER)"),
    ("index", "sqlite_autoindex_moz_origin_interactions_1", None),
]
T0 = 1_700_000_000_000  # ms


def _schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY rowid").fetchall()
    finally:
        conn.close()


def _rows(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT * FROM moz_perms ORDER BY id").fetchall()
    finally:
        conn.close()


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    """A profile whose permissions.sqlite holds rules like a user's."""
    folder = tmp_path / "profile"
    folder.mkdir()
    conn = sqlite3.connect(folder / fp.FILE)
    conn.execute("PRAGMA page_size = 32768")
    for _, _, sql in FIREFOX_SCHEMA:
        if sql:
            conn.execute(sql)
    conn.execute("PRAGMA user_version = 13")
    conn.executemany(
        "INSERT INTO moz_perms (origin, type, permission, expireType, expireTime, "
        "modificationTime) VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("https://example.org", "cookie", 1, 0, 0, T0),
            ("https://doubleclick.net", "cookie", 8, 0, 0, T0),
            ("https://doubleclick.net", "geo", 2, 0, 0, T0),
            ("https://news.example.com:8443", "cookie", 2, 0, 0, T0),
            ("https://old.example", "cookie", 2, 2, T0, T0),  # expired
            ("https://odd.example", "cookie", 3, 0, 0, T0),  # not a cookie mode
        ],
    )
    conn.commit()
    conn.close()
    assert _schema(folder / fp.FILE) == FIREFOX_SCHEMA
    return folder


def test_module_schema_is_firefoxs(tmp_path: Path):
    fp._create(tmp_path / fp.FILE)
    assert _schema(tmp_path / fp.FILE) == FIREFOX_SCHEMA
    conn = sqlite3.connect(tmp_path / fp.FILE)
    assert conn.execute("PRAGMA user_version").fetchone() == (13,)
    assert conn.execute("PRAGMA page_size").fetchone() == (32768,)
    conn.close()


def test_read_rules(profile: Path):
    rules = fp.read_cookie_rules(profile)
    assert rules == [
        CookieRule("https://doubleclick.net", "doubleclick.net", "session",
                      "2023-11-14T22:13:20+00:00"),
        CookieRule("https://example.org", "example.org", "allow", "2023-11-14T22:13:20+00:00"),
        CookieRule("https://news.example.com:8443", "news.example.com", "block",
                      "2023-11-14T22:13:20+00:00"),
    ]


def test_read_missing_file_is_no_rules(tmp_path: Path):
    assert fp.read_cookie_rules(tmp_path) == []


def test_read_corrupt_file(tmp_path: Path):
    (tmp_path / fp.FILE).write_bytes(b"not a database at all" * 100)
    with pytest.raises(ReadError):
        fp.read_cookie_rules(tmp_path)


def test_block_inserts_both_schemes_and_replaces_a_rule(profile: Path):
    old = _rows(profile / fp.FILE)
    before = fp.write_cookie_rules(profile, {"DoubleClick.net": "block"})
    assert before == {"http://doubleclick.net": [],
                      "https://doubleclick.net": [{
                          "id": 2, "origin": "https://doubleclick.net", "type": "cookie",
                          "permission": 8, "expireType": 0, "expireTime": 0,
                          "modificationTime": T0}]}
    rows = _rows(profile / fp.FILE)
    by_origin = {(r[1], r[2]): r for r in rows}
    assert by_origin[("https://doubleclick.net", "cookie")][:6] == (
        2, "https://doubleclick.net", "cookie", 2, 0, 0)
    assert by_origin[("https://doubleclick.net", "cookie")][6] > T0
    assert by_origin[("http://doubleclick.net", "cookie")][2:6] == ("cookie", 2, 0, 0)
    # Nothing else changed: other origins and the geo permission of the same origin.
    untouched = [r for r in old if not (r[2] == "cookie" and r[1] == "https://doubleclick.net")]
    assert [r for r in rows if r in untouched] == untouched
    assert len(rows) == len(old) + 1
    modes = {r.pattern: r.mode for r in fp.read_cookie_rules(profile)}
    assert modes["http://doubleclick.net"] == modes["https://doubleclick.net"] == "block"


def test_remove_returns_the_rows_and_restores_by_them(profile: Path):
    original = _rows(profile / fp.FILE)
    saved = fp.write_cookie_rules(profile, {"doubleclick.net": "block", "example.org": "session"})
    before = fp.write_cookie_rules(profile, {"doubleclick.net": None})
    assert sorted(before) == ["http://doubleclick.net", "https://doubleclick.net"]
    assert all(len(rows) == 1 and rows[0]["permission"] == 2 for rows in before.values())
    assert not [r for r in fp.read_cookie_rules(profile) if r.domain == "doubleclick.net"]
    assert ("https://doubleclick.net", "geo") in {(r[1], r[2]) for r in _rows(profile / fp.FILE)}
    assert fp.write_cookie_rules(profile, {"doubleclick.net": None}) == {
        "http://doubleclick.net": [], "https://doubleclick.net": []}
    # What the first write returned puts the user's rules back as they were, ids and all.
    fp.restore_cookie_rules(profile, saved)
    assert _rows(profile / fp.FILE) == original


def test_restore_takes_a_new_id_where_the_old_one_is_taken(profile: Path):
    saved = fp.write_cookie_rules(profile, {"doubleclick.net": None})
    conn = sqlite3.connect(profile / fp.FILE)
    conn.execute("INSERT INTO moz_perms VALUES (2, 'https://x.example', 'geo', 1, 0, 0, 0)")
    conn.commit()
    conn.close()
    fp.restore_cookie_rules(profile, saved)
    rows = [r for r in _rows(profile / fp.FILE) if r[1] == "https://doubleclick.net"]
    assert sorted(r[2:] for r in rows) == [("cookie", 8, 0, 0, T0), ("geo", 2, 0, 0, T0)]
    assert (2, "https://x.example", "geo", 1, 0, 0, 0) in _rows(profile / fp.FILE)


@pytest.mark.parametrize("saved", [
    {"doubleclick.net": []},
    {"https://doubleclick.net": [{"id": 1, "origin": "https://other.example", "type": "cookie",
                                  "permission": 2, "expireType": 0, "expireTime": 0,
                                  "modificationTime": 0}]},
    {"https://doubleclick.net": [{"id": 1, "origin": "https://doubleclick.net"}]},
])
def test_restore_refuses_what_is_not_a_saved_rule(profile: Path, saved: dict):
    data = (profile / fp.FILE).read_bytes()
    with pytest.raises(WriteError):
        fp.restore_cookie_rules(profile, saved)
    assert (profile / fp.FILE).read_bytes() == data


def test_port(profile: Path):
    before = fp.write_cookie_rules(profile, {"news.example.com": "allow"}, port=8443)
    assert {o: [r["permission"] for r in rows] for o, rows in before.items()} == {
        "http://news.example.com:8443": [], "https://news.example.com:8443": [2]}
    modes = {r.pattern: r.mode for r in fp.read_cookie_rules(profile)}
    assert modes["https://news.example.com:8443"] == "allow"
    assert modes["http://news.example.com:8443"] == "allow"
    with pytest.raises(WriteError):
        fp.write_cookie_rules(profile, {"news.example.com": "allow"}, port=0)


def test_idn_domain_is_written_in_punycode(profile: Path):
    fp.write_cookie_rules(profile, {"bücher.example": "block"})
    assert "https://xn--bcher-kva.example" in {r.pattern for r in fp.read_cookie_rules(profile)}


def test_missing_file_is_created_with_firefoxs_schema(tmp_path: Path):
    assert fp.write_cookie_rules(tmp_path, {"doubleclick.net": "session"}) == {
        "http://doubleclick.net": [], "https://doubleclick.net": []}
    assert _schema(tmp_path / fp.FILE) == FIREFOX_SCHEMA
    assert {r.pattern: r.mode for r in fp.read_cookie_rules(tmp_path)} == {
        "http://doubleclick.net": "session", "https://doubleclick.net": "session"}


def test_remove_on_missing_file_creates_nothing(tmp_path: Path):
    assert fp.write_cookie_rules(tmp_path, {"doubleclick.net": None}) == {
        "http://doubleclick.net": [], "https://doubleclick.net": []}
    assert not (tmp_path / fp.FILE).exists()


def test_missing_profile_is_refused(tmp_path: Path):
    with pytest.raises(WriteError):
        fp.write_cookie_rules(tmp_path / "nope", {"doubleclick.net": "block"})
    assert not (tmp_path / "nope").exists()


@pytest.mark.parametrize("domain, mode", [
    ("doubleclick.net", "deny"), ("https://doubleclick.net", "block"), ("", "block"),
    ("a/b", "block"), (".doubleclick.net", "block"), ("x^y", "block"),
    ("doubleclick.net:443", "block"),
])
def test_bad_arguments_change_nothing(profile: Path, domain: str, mode: str):
    data = (profile / fp.FILE).read_bytes()
    with pytest.raises(WriteError):
        fp.write_cookie_rules(profile, {domain: mode})
    assert (profile / fp.FILE).read_bytes() == data


def test_locked_database_is_left_unchanged(profile: Path):
    path = profile / fp.FILE
    data = path.read_bytes()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(WriteError, match="locked"):
            fp.write_cookie_rules(profile, {"doubleclick.net": "block"})
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert path.read_bytes() == data
    assert not Path(f"{path}-journal").exists()


def test_corrupt_database_is_left_unchanged(tmp_path: Path):
    path = tmp_path / fp.FILE
    junk = b"SQLite format 3\x00" + bytes(range(256)) * 64
    path.write_bytes(junk)
    with pytest.raises(WriteError):
        fp.write_cookie_rules(tmp_path, {"doubleclick.net": "block"})
    assert path.read_bytes() == junk


def test_unknown_layout_is_refused(tmp_path: Path):
    path = tmp_path / fp.FILE
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE moz_perms (id INTEGER PRIMARY KEY, origin TEXT, type TEXT)")
    conn.commit()
    conn.close()
    data = path.read_bytes()
    with pytest.raises(WriteError, match="unknown layout"):
        fp.write_cookie_rules(tmp_path, {"doubleclick.net": "block"})
    assert path.read_bytes() == data
