"""The harness itself: real Chromium and Firefox ESR visit the fake web and the
cookies they write match tests.harness.site's expectations.

The stores are read directly with sqlite3 on copies (not through the app).
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path

import lz4.block
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from tests.harness import copy_sqlite
from tests.harness.chromium import is_profile_locked as chromium_locked
from tests.harness.firefox import is_profile_locked as firefox_locked
from tests.harness.site import (
    CHROMIUM_SAMESITE,
    DOUBLECLICK,
    FACEBOOK,
    FIREFOX_SAMESITE,
    LIVEOPS,
    ExpectedCookie,
    expected_cookies,
    expected_storage,
)

pytestmark = pytest.mark.real_browser

CHROME_EPOCH_OFFSET = 11644473600  # seconds from 1601-01-01 to 1970-01-01
SLACK = 120  # seconds of tolerance on expiry times


def _rows(db: Path, sql: str) -> list[sqlite3.Row]:
    con = sqlite3.connect(db)
    try:
        con.row_factory = sqlite3.Row
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _chromium_v10_key() -> bytes:
    # --password-store=basic: the well-known Linux "peanuts" key.
    kdf = PBKDF2HMAC(algorithm=hashes.SHA1(), length=16, salt=b"saltysalt", iterations=1)  # noqa: S303
    return kdf.derive(b"peanuts")


def _chromium_decrypt(host_key: str, blob: bytes) -> str:
    assert blob[:3] == b"v10", blob[:3]
    dec = Cipher(algorithms.AES(_chromium_v10_key()), modes.CBC(b" " * 16)).decryptor()
    plain = dec.update(blob[3:]) + dec.finalize()
    plain = plain[: -plain[-1]]  # PKCS#7
    # meta.version >= 24: SHA-256(host_key) comes first.
    assert plain[:32] == hashlib.sha256(host_key.encode()).digest()
    return plain[32:].decode()


def _chromium_cookies(profile, tmp_path: Path) -> dict[tuple, sqlite3.Row]:
    db = copy_sqlite(profile.cookies_db, tmp_path / "chromium-copy")
    assert _rows(db, "SELECT value FROM meta WHERE key = 'version'")[0][0] == "24"
    rows = _rows(db, "SELECT * FROM cookies")
    return {(r["host_key"], r["name"], r["path"], r["top_frame_site_key"]): r for r in rows}


def _check_chromium(expected: tuple[ExpectedCookie, ...], got: dict[tuple, sqlite3.Row]) -> None:
    assert set(got) == {e.key for e in expected}
    for e in expected:
        r = got[e.key]
        assert r["value"] == ""
        assert _chromium_decrypt(r["host_key"], r["encrypted_value"]) == e.value, e.name
        assert bool(r["is_secure"]) == e.secure, e.name
        assert bool(r["is_httponly"]) == e.httponly, e.name
        assert CHROMIUM_SAMESITE[r["samesite"]] == e.samesite, e.name
        assert bool(r["is_persistent"]) == e.persistent, e.name
        assert bool(r["has_expires"]) == e.persistent, e.name
        assert r["source_type"] == {"http": 1, "script": 2}[e.via], e.name
        assert r["source_scheme"] == 2  # secure (https)
        if e.persistent:
            lifetime = (r["expires_utc"] - r["creation_utc"]) / 1e6
            assert abs(lifetime - e.stored_max_age) < SLACK, e.name
        else:
            assert r["expires_utc"] == 0


def test_chromium_third_party_cookies_allowed(chromium_profile, tmp_path):
    for result in chromium_profile.results:
        assert result.title == "done" and not result.errors
    got = _chromium_cookies(chromium_profile, tmp_path)
    expected = chromium_profile.expected_cookies()
    _check_chromium(expected, got)
    # The trackers' cookies are there, unpartitioned; CHIPS is partitioned.
    assert (".doubleclick.net", "IDE", "/", "") in got
    assert (".facebook.com", "fr", "/", "") in got
    assert ("ad.doubleclick.net", "dc_chips", "/", "https://liveops.com") in got
    # The session cookie is on disk after the clean shutdown.
    assert got[("www.liveops.com", "lo_session", "/", "")]["is_persistent"] == 0


def test_chromium_storage_buckets(chromium_profile, tmp_path):
    """Every origin that used IndexedDB has a QuotaManager bucket, partitioned for
    the trackers (localStorage makes none; LevelDB contents are left to the app's tests)."""
    port = chromium_profile.site.port
    db = copy_sqlite(chromium_profile.profile_dir / "WebStorage" / "QuotaManager", tmp_path)
    keys = {r["storage_key"] for r in _rows(db, "SELECT storage_key FROM buckets")}
    want = {
        e.chromium_storage_key(port, trailing_slash=True)
        for e in expected_storage("chromium", chromium_profile.visited)
        if e.kind == "indexedDB"
    }
    assert keys == want
    assert (
        chromium_profile.profile_dir / "IndexedDB" / f"https_{LIVEOPS}_{port}.indexeddb.leveldb"
    ).is_dir()


def test_chromium_default_settings_block_third_party_cookies(
    chromium_profile_default_settings, tmp_path
):
    profile = chromium_profile_default_settings
    got = _chromium_cookies(profile, tmp_path)
    _check_chromium(
        expected_cookies("chromium", profile.visited, allow_third_party_cookies=False), got
    )
    hosts = {k[0] for k in got}
    assert ".doubleclick.net" not in hosts and ".facebook.com" not in hosts
    assert ("ad.doubleclick.net", "dc_chips", "/", "https://liveops.com") in got
    # The frames could still write (partitioned) storage.
    frames = profile.results[0].frames
    assert frames["doubleclick"]["localStorage"] == {"dc_ls_id": "dc-local-123"}
    assert frames["doubleclick"]["cookie"] == "dc_chips=chips-value"


def test_firefox_cookies(firefox_profile, tmp_path):
    for result in firefox_profile.results:
        assert result.title == "done" and not result.errors
    db = copy_sqlite(firefox_profile.cookies_db, tmp_path / "firefox-copy")
    assert _rows(db, "PRAGMA user_version")[0][0] == 17
    rows = _rows(db, "SELECT * FROM moz_cookies")
    by_oa = {(r["host"], r["name"], r["path"], r["originAttributes"]): r for r in rows}
    expected = firefox_profile.expected_cookies()
    on_disk = [e for e in expected if e.store == "cookies.sqlite"]
    assert set(by_oa) == {(e.host, e.name, e.path, e.origin_attributes) for e in on_disk}
    for e in on_disk:
        r = by_oa[(e.host, e.name, e.path, e.origin_attributes)]
        assert r["value"] == e.value, e.name
        assert bool(r["isSecure"]) == e.secure, e.name
        assert bool(r["isHttpOnly"]) == e.httponly, e.name
        assert FIREFOX_SAMESITE[r["sameSite"]] == e.samesite, e.name
        assert bool(r["isPartitionedAttributeSet"]) == e.partitioned_attribute, e.name
        lifetime = r["expiry"] / 1000 - r["creationTime"] / 1e6  # ms vs µs
        assert abs(lifetime - e.stored_max_age) < SLACK, e.name
    # Total Cookie Protection: the trackers are partitioned under LiveOps.
    assert (".doubleclick.net", "IDE", "/", "^partitionKey=%28https%2Cliveops.com%29") in by_oa

    # Session cookies are only in the session store.
    raw = firefox_profile.sessionstore.read_bytes()
    assert raw[:8] == b"mozLz40\0"
    session = json.loads(lz4.block.decompress(raw[8:]))
    in_session = {(c["host"], c["name"], c["path"]): c for c in session.get("cookies", [])}
    want = {(e.host, e.name, e.path) for e in expected if e.store == "sessionstore.jsonlz4"}
    assert set(in_session) == want
    assert in_session[(LIVEOPS, "lo_session", "/")]["value"] == "sess-abc123"
    # sessionStorage of the LiveOps tab (and its partitioned ad frame) too.
    port = firefox_profile.site.port
    storages = [t.get("storage") or {} for w in session["windows"] for t in w["tabs"]]
    merged = {k: v for s in storages for k, v in s.items()}
    assert merged[f"https://{LIVEOPS}:{port}"] == {"lo_ss_cart": "cart-3-items"}
    assert merged[f"https://{DOUBLECLICK}:{port}^partitionKey=%28https%2Cliveops.com%29"] == {
        "dc_ss_seen": "dc-session-1"
    }


def test_firefox_storage(firefox_profile, tmp_path):
    port = firefox_profile.site.port
    root = firefox_profile.profile_dir / "storage" / "default"
    for e in expected_storage("firefox", firefox_profile.visited):
        folder = root / e.firefox_origin_dir(port)
        if e.kind == "localStorage":
            db = copy_sqlite(folder / "ls" / "data.sqlite", tmp_path / folder.name)
            keys = {r["key"] for r in _rows(db, "SELECT key FROM data")}
            assert e.key in keys, (e, keys)
        elif e.kind == "indexedDB":
            assert list((folder / "idb").glob("*.sqlite")), e
    assert not list(root.glob(f"https+++{DOUBLECLICK}+{port}")), (
        "tracker storage must be partitioned"
    )


def test_running_browsers_hold_their_locks(make_chromium_profile, make_firefox_profile):
    chromium = make_chromium_profile(())
    firefox = make_firefox_profile(())
    t0 = time.monotonic()
    with chromium.running() as browser:
        assert chromium_locked(chromium.user_data_dir)
        assert browser.proc.running
        browser.visit(chromium.site.probe_url(LIVEOPS, [FACEBOOK]))
    assert not chromium_locked(chromium.user_data_dir)
    with firefox.running() as browser:
        assert firefox_locked(firefox.profile_dir)
        result = browser.visit(firefox.site.probe_url(LIVEOPS, [FACEBOOK]))
        assert result.report["cookie"] == ""  # a fresh profile has nothing
    assert not firefox_locked(firefox.profile_dir)
    # Firefox leaves its 'lock' symlink behind; only .parentlock tells.
    assert (firefox.profile_dir / "lock").is_symlink()
    assert time.monotonic() - t0 < 60


def test_firefox_is_started_again_only_after_a_crash_while_starting(monkeypatch, capsys):
    """A start-up crash (Firefox gone before it could load a page) is tried once more;
    any other failure to start, and a second crash, are errors."""
    from tests.harness import firefox as ff

    outcomes: list[BaseException | None] = []

    def fake_start(self, timeout):
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return self

    monkeypatch.setattr(ff.Firefox, "_start", fake_start)
    browser = ff.Firefox.__new__(ff.Firefox)
    outcomes[:] = [ff._CrashedStarting("connection lost"), None]
    assert browser.start() is browser and outcomes == []
    assert "crashed while starting" in capsys.readouterr().err
    outcomes[:] = [ff._CrashedStarting("connection lost"), ff._CrashedStarting("again")]
    with pytest.raises(ff._CrashedStarting):
        browser.start()
    outcomes[:] = [ff.BrowserError("timed out waiting for WebDriverBiDiServer.json")]
    with pytest.raises(ff.BrowserError) as raised:
        browser.start()
    assert not isinstance(raised.value, ff._CrashedStarting) and outcomes == []
