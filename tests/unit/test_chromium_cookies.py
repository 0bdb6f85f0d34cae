"""The Chromium cookie reader on hand-built files of every schema it supports.

Real-browser files are covered in tests/real; these cover what Debian's
Chromium 156 cannot write: older schemas, Windows' Network/Cookies, newer
unknown versions, and damaged or locked files.
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium, sqlitecopy
from privacy_inspector.browsers.base import ReadOptions
from privacy_inspector.browsers.decrypt import decrypt_basic
from privacy_inspector.core.records import Profile, ReadError
from tests.fixtures.cookie_dbs import chromium_cookies_db, chromium_v10_encrypt

EXPIRES = 1_900_000_000  # 2030-03-17T17:46:40Z
CREATED = 1_700_000_000  # 2023-11-14T22:13:20Z

COOKIES = [
    {"host": ".liveops.com", "name": "_ga", "value": "GA1.2.111.222", "expires": EXPIRES,
     "same_site": "lax", "created": CREATED, "accessed": CREATED},
    {"host": "www.liveops.com", "name": "sid", "value": "s3cr3t", "expires": None,
     "secure": True, "http_only": True, "same_site": "strict", "path": "/account",
     "created": CREATED, "priority": 2},
    {"host": "ad.doubleclick.net", "name": "IDE", "value": "AHWqTUk", "expires": EXPIRES,
     "secure": True, "same_site": "none", "partition": "https://liveops.com", "created": CREATED},
    {"host": "news.example.org", "name": "pref", "value": "dark", "expires": EXPIRES,
     "same_site": "unspecified", "source_scheme": 1, "source_port": -1, "created": CREATED},
]


def _profile(root: Path) -> Profile:
    return Profile(root / "Default", "chromium", "chromium", "Default", root=root)


def _read(profile: Profile, show_values: bool = False) -> tuple[list, ReadOptions]:
    options = ReadOptions(show_values=show_values)
    entries = list(chromium.read_cookies(profile, options))
    return sorted(entries, key=lambda e: e.name), options


@pytest.mark.parametrize("version", [18, 19, 20, 21, 22, 23, 24])
def test_every_attribute_of_every_supported_schema(tmp_path, version):
    profile = _profile(tmp_path)
    chromium_cookies_db(profile.path / "Cookies", COOKIES, version=version)
    entries, options = _read(profile)
    assert options.problems == []
    by_name = {e.name: e for e in entries}
    assert sorted(by_name) == ["IDE", "_ga", "pref", "sid"]

    ga = by_name["_ga"]
    assert (ga.host, ga.domain_cookie, ga.site, ga.path) == ("liveops.com", True, "liveops.com", "/")
    assert (ga.persistent, ga.expires, ga.created) == (True, "2030-03-17T17:46:40Z", "2023-11-14T22:13:20Z")
    assert (ga.secure, ga.http_only, ga.same_site) == (False, False, "lax")
    assert (ga.value, ga.value_state) == (None, "encrypted")
    assert ga.partition_site is None and ga.partitioned is False
    assert (ga.kind, ga.engine, ga.browser, ga.store, ga.stale) == ("cookie", "chromium", "chromium", "Cookies", False)
    assert ga.profile == str(profile.path)

    sid = by_name["sid"]
    assert (sid.host, sid.domain_cookie, sid.path) == ("www.liveops.com", False, "/account")
    assert (sid.persistent, sid.expires) == (False, None)
    assert (sid.secure, sid.http_only, sid.same_site, sid.priority) == (True, True, "strict", "high")

    ide = by_name["IDE"]
    assert (ide.partition_site, ide.partitioned, ide.same_site) == ("liveops.com", True, "none")
    assert ide.site == "doubleclick.net"

    pref = by_name["pref"]
    assert (pref.same_site, pref.source_scheme, pref.source_port) == ("unspecified", "non_secure", None)
    assert ga.source_scheme == "secure" and ga.source_port == 443


def test_size_counts_the_ciphertext_of_encrypted_values(tmp_path):
    profile = _profile(tmp_path)
    chromium_cookies_db(profile.path / "Cookies", COOKIES[:1], version=24)
    with sqlite3.connect(profile.path / "Cookies") as conn:
        (length,) = conn.execute("SELECT length(encrypted_value) FROM cookies").fetchone()
    (entry,), _ = _read(profile)
    assert entry.size == len("_ga") + length


@pytest.mark.parametrize("version", [23, 24])
def test_show_values_decrypts_v10_and_strips_the_v24_hash_prefix(tmp_path, version, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    profile = _profile(tmp_path)
    chromium_cookies_db(profile.path / "Cookies", COOKIES, version=version)
    entries, _ = _read(profile, show_values=True)
    values = {e.name: (e.value, e.value_state) for e in entries}
    assert values == {
        "_ga": ("GA1.2.111.222", "plain"),
        "sid": ("s3cr3t", "plain"),
        "IDE": ("AHWqTUk", "plain"),
        "pref": ("dark", "plain"),
    }


def test_undecryptable_values_are_marked_and_the_rest_still_read(tmp_path, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    profile = _profile(tmp_path)
    cookies = [
        dict(COOKIES[0]),
        {**COOKIES[1], "encrypted_value": b"v20" + bytes(range(60))},
        {**COOKIES[2], "encrypted_value": b"v10" + b"\x01" * 32},  # wrong key / garbage
        {**COOKIES[3], "encrypted_value": b"zz9" + b"\x00" * 16},
    ]
    chromium_cookies_db(profile.path / "Cookies", cookies, version=24)
    entries, _ = _read(profile, show_values=True)
    by_name = {e.name: e for e in entries}
    assert (by_name["_ga"].value, by_name["_ga"].value_state) == ("GA1.2.111.222", "plain")
    assert by_name["sid"].value is None and by_name["sid"].value_state == "unavailable"
    assert "v20" in by_name["sid"].value_note
    assert by_name["IDE"].value is None and by_name["IDE"].value_state == "unavailable"
    assert "cannot decrypt" in by_name["IDE"].value_note
    assert by_name["pref"].value_state == "unavailable"
    assert by_name["pref"].value_note == "unknown encryption format"


@pytest.mark.parametrize("version", [23, 24])
def test_hidden_values_are_measured_for_identifiers_and_dropped(tmp_path, version, monkeypatch):
    """Without --show-values, v10 values (no keyring needed) are decrypted in
    memory only to judge identifier_like; v11 (keyring) and v20 are not judged."""
    monkeypatch.setattr(sys, "platform", "linux")
    profile = _profile(tmp_path)
    cookies = [
        {**COOKIES[0], "value": "GA1.2.1234567890.1700000000"},  # an id
        dict(COOKIES[3]),  # "dark": not an id
        {**COOKIES[1], "encrypted_value": b"v11" + bytes(32)},  # needs the keyring
        {**COOKIES[2], "encrypted_value": b"v20" + bytes(range(60))},
    ]
    chromium_cookies_db(profile.path / "Cookies", cookies, version=version)
    entries, _ = _read(profile)
    judged = {e.name: (e.value, e.value_state, e.identifier_like) for e in entries}
    assert judged == {
        "_ga": (None, "encrypted", True),
        "pref": (None, "encrypted", False),
        "sid": (None, "encrypted", None),
        "IDE": (None, "encrypted", None),
    }


def test_batch_decryption_matches_one_value_at_a_time():
    """decrypt_basic undoes CBC over the whole batch; each value must come out
    as Chromium's basic v10 encryption put it in, whatever its length."""
    texts = ["", "a", "x" * 15, "y" * 16, "GA1.2.1234567890.1700000000", "é ünïcode ✓", "z" * 1000]
    for hash_prefix in (False, True):
        ciphertexts = [chromium_v10_encrypt(t.encode(), ".liveops.com", hash_prefix) for t in texts]
        ciphertexts.insert(2, b"v10" + bytes(17))  # not a whole number of blocks
        ciphertexts.insert(4, b"v10" + bytes(32))  # bad padding
        assert decrypt_basic(ciphertexts, hash_prefix) == [*texts[:2], None, texts[2], None, *texts[3:]]


def test_plain_values_of_old_unencrypted_rows(tmp_path):
    profile = _profile(tmp_path)
    chromium_cookies_db(profile.path / "Cookies", COOKIES[:1], version=18, encrypt=False)
    (entry,), _ = _read(profile)
    assert (entry.value, entry.value_state, entry.size) == (None, "plain", len("_ga") + len("GA1.2.111.222"))
    (entry,), _ = _read(profile, show_values=True)
    assert entry.value == "GA1.2.111.222"


def test_network_cookies_is_read_and_a_leftover_root_file_is_stale(tmp_path):
    profile = _profile(tmp_path)
    chromium_cookies_db(profile.path / "Network" / "Cookies", COOKIES[:1], version=24)
    chromium_cookies_db(profile.path / "Cookies", COOKIES[1:2], version=21)
    entries, _ = _read(profile)
    stores = {(e.name, e.store, e.stale) for e in entries}
    assert stores == {("_ga", "Network/Cookies", False), ("sid", "Cookies", True)}


def test_ids_are_stable_and_independent_of_where_the_profile_lies(tmp_path):
    first = _profile(tmp_path / "a")
    chromium_cookies_db(first.path / "Cookies", COOKIES, version=24)
    ids_first = {e.name: e.id for e in _read(first)[0]}
    assert len(set(ids_first.values())) == len(COOKIES)
    shutil.copytree(tmp_path / "a", tmp_path / "elsewhere" / "copy")
    moved = _profile(tmp_path / "elsewhere" / "copy")
    # New values and expiries keep the id.
    changed = [{**c, "value": "other", "expires": EXPIRES + 5} if c["expires"] else c for c in COOKIES]
    (moved.path / "Cookies").unlink()
    chromium_cookies_db(moved.path / "Cookies", changed, version=24)
    assert {e.name: e.id for e in _read(moved)[0]} == ids_first


def test_same_cookie_in_two_partitions_gets_two_ids(tmp_path):
    profile = _profile(tmp_path)
    base = COOKIES[2]
    chromium_cookies_db(
        profile.path / "Cookies",
        [base, {**base, "partition": "https://example-news.org"}, {**base, "partition": ""}],
    )
    entries, _ = _read(profile)
    assert len({e.id for e in entries}) == 3
    assert sorted(str(e.partition_site) for e in entries) == ["None", "example-news.org", "liveops.com"]


def test_a_newer_schema_is_read_with_the_known_columns_and_reported(tmp_path):
    profile = _profile(tmp_path)
    path = chromium_cookies_db(profile.path / "Cookies", COOKIES, version=24)
    with sqlite3.connect(path) as conn:
        conn.execute("UPDATE meta SET value = '31' WHERE key = 'version'")
        conn.execute("ALTER TABLE cookies ADD COLUMN some_future_column INTEGER NOT NULL DEFAULT 0")
    entries, options = _read(profile)
    assert len(entries) == len(COOKIES)
    assert options.problems == [
        ("Cookies", "Cookies has schema version 31, newer than this app knows (24); "
                    "its cookies were read with the known columns")
    ]


def test_an_unknown_layout_is_refused_with_a_clear_message(tmp_path):
    profile = _profile(tmp_path)
    path = profile.path / "Cookies"
    path.parent.mkdir(parents=True)
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE cookies(host_key TEXT, name TEXT)")
    with pytest.raises(ReadError, match="unknown layout: its cookies table lacks the column is_persistent"):
        _read(profile)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Cookies has no cookies table: it is not a Chromium cookie database"),
        (b"this is not a database at all" * 100, "Cookies is not an SQLite database"),
    ],
)
def test_garbage_files_give_one_clear_error(tmp_path, content, message):
    profile = _profile(tmp_path)
    profile.path.mkdir(parents=True)
    (profile.path / "Cookies").write_bytes(content)
    with pytest.raises(ReadError) as info:
        _read(profile)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)


def test_a_truncated_database_gives_one_clear_error(tmp_path):
    profile = _profile(tmp_path)
    path = chromium_cookies_db(profile.path / "Cookies", COOKIES * 1, version=24)
    many = [{**COOKIES[0], "name": f"c{i}", "value": "x" * 200} for i in range(400)]
    path.unlink()
    chromium_cookies_db(path, many, version=24)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    with pytest.raises(ReadError) as info:
        _read(profile)
    assert "Cookies is damaged" in str(info.value) or "not an SQLite database" in str(info.value)


def test_uncommitted_wal_frames_of_a_live_writer_are_read(tmp_path):
    """What the browser committed to the WAL but not yet checkpointed is seen."""
    profile = _profile(tmp_path)
    path = chromium_cookies_db(profile.path / "Cookies", COOKIES[:1], version=24)
    writer = sqlite3.connect(path)
    try:
        writer.execute("PRAGMA journal_mode=WAL")
        writer.execute("PRAGMA wal_autocheckpoint=0")
        writer.execute("UPDATE cookies SET name = 'renamed_in_wal'")
        writer.commit()
        assert Path(f"{path}-wal").stat().st_size > 0
        (entry,), _ = _read(profile)
        assert entry.name == "renamed_in_wal"
    finally:
        writer.close()


def test_a_database_under_an_exclusive_lock_is_still_read(tmp_path):
    """A running Firefox holds its databases under an exclusive lock; reading copies."""
    profile = _profile(tmp_path)
    path = chromium_cookies_db(profile.path / "Cookies", COOKIES, version=24)
    holder = sqlite3.connect(path)
    try:
        holder.execute("PRAGMA locking_mode=EXCLUSIVE")
        holder.execute("BEGIN EXCLUSIVE")
        holder.execute("DELETE FROM cookies WHERE name = '_ga'")  # uncommitted
        entries, _ = _read(profile)
        assert sorted(e.name for e in entries) == ["IDE", "_ga", "pref", "sid"]
    finally:
        holder.rollback()
        holder.close()


def test_a_file_locked_by_windows_chrome_says_to_close_the_browser(tmp_path, monkeypatch):
    profile = _profile(tmp_path)
    chromium_cookies_db(profile.path / "Cookies", COOKIES, version=24)

    def locked(*args, **kwargs):
        raise PermissionError(13, "The process cannot access the file because it is being used")

    monkeypatch.setattr(sqlitecopy.shutil, "copyfile", locked)
    monkeypatch.setattr(sqlitecopy.sys, "platform", "win32")
    with pytest.raises(ReadError, match="locked by the browser that is using it; close the browser"):
        _read(profile)


def test_a_profile_without_cookies_yields_nothing(tmp_path):
    profile = _profile(tmp_path)
    profile.path.mkdir(parents=True)
    assert _read(profile)[0] == []
