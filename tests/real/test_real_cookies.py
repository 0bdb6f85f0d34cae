"""The cookie inventory of profiles that real Chromium and Firefox wrote.

The pages of the fake site (tests/harness/site.py) declare every cookie they
set; the harness's ``expected_cookies`` says how each browser stores them.
The inventory must hold exactly those cookies, attribute by attribute.
"""

from __future__ import annotations

import calendar
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from privacy_inspector.core import engine, sites
from privacy_inspector.core.entropy import identifier_like
from privacy_inspector.platform import discovery, locks
from tests.harness.site import ExpectedCookie

pytestmark = pytest.mark.real_browser

COOKIES = ("cookie",)

ROOT = Path(__file__).resolve().parents[2]


def _unix(iso: str) -> int:
    return calendar.timegm(time.strptime(iso, "%Y-%m-%dT%H:%M:%SZ"))


def _key(host: str, name: str, path: str, partition: str | None) -> tuple:
    return (host, name, path, partition)


def _expected_key(c: ExpectedCookie) -> tuple:
    partition = sites.site_of_origin(c.partition_site) if c.partition_site else None
    return _key(c.host.lstrip("."), c.name, c.path, partition)


def _check_inventory(entries, expected: tuple[ExpectedCookie, ...], show_values: bool) -> None:
    by_key = {_key(e.host, e.name, e.path, e.partition_site): e for e in entries}
    assert len(by_key) == len(entries), "two entries share host, name, path and partition"
    assert sorted(by_key) == sorted(_expected_key(c) for c in expected)
    for cookie in expected:
        entry = by_key[_expected_key(cookie)]
        what = f"{cookie.host} {cookie.name}"
        assert entry.kind == "cookie"
        assert entry.domain_cookie is cookie.host.startswith("."), what
        assert entry.site == sites.registrable_domain(cookie.host), what
        assert entry.secure is cookie.secure, what
        assert entry.http_only is cookie.httponly, what
        assert entry.same_site == cookie.samesite, what
        assert entry.persistent is cookie.persistent, what
        assert entry.store == cookie.store, what
        assert entry.stale is False, what
        assert entry.container is None, what
        if cookie.persistent:
            lifetime = _unix(entry.expires) - _unix(entry.created)
            assert abs(lifetime - cookie.stored_max_age) <= 2, (what, lifetime, cookie.stored_max_age)
        else:
            assert entry.expires is None, what
        if cookie.partitioned_attribute:
            assert entry.partitioned is True, what
        if show_values:
            assert (entry.value, entry.value_state) == (cookie.value, "plain"), what
        else:
            assert entry.value is None, what
        assert entry.size >= len(cookie.name) + len(cookie.value), what
        # Measured from the real value even when it is not shown: Chromium's
        # are decrypted in memory (v10, no keyring needed) and dropped.
        assert entry.identifier_like is identifier_like(cookie.value, cookie.persistent), what
    judged = {by_key[_expected_key(c)].identifier_like for c in expected}
    assert judged == {True, False}, "the pages set both ids (_ga) and plain values"


def test_chromium_inventory_matches_what_the_pages_set(chromium_profile):
    (profile,) = discovery.resolve(chromium_profile.profile_dir)
    result = engine.scan([profile], kinds=COOKIES)
    assert result.errors == []
    _check_inventory(result.entries, chromium_profile.expected_cookies(), show_values=False)
    assert {e.value_state for e in result.entries} == {"encrypted"}
    # Chromium records where each cookie came from.
    assert {e.source_port for e in result.entries} == {chromium_profile.site.port}
    assert {e.source_scheme for e in result.entries} == {"secure"}


def test_chromium_values_decrypt_on_demand_without_a_keyring(chromium_profile, monkeypatch):
    monkeypatch.delenv("DBUS_SESSION_BUS_ADDRESS", raising=False)
    (profile,) = discovery.resolve(chromium_profile.profile_dir)
    result = engine.scan([profile], kinds=COOKIES, show_values=True)
    assert result.errors == []
    _check_inventory(result.entries, chromium_profile.expected_cookies(), show_values=True)


def test_chromium_default_settings_block_third_party_cookies_but_not_chips(
    chromium_profile_default_settings,
):
    (profile,) = discovery.resolve(chromium_profile_default_settings.profile_dir)
    result = engine.scan([profile], kinds=COOKIES)
    assert result.errors == []
    _check_inventory(result.entries, chromium_profile_default_settings.expected_cookies(), False)
    names = {e.name for e in result.entries}
    assert "dc_chips" in names and "IDE" not in names


def test_firefox_inventory_with_session_cookies_and_partitions(firefox_profile):
    (profile,) = discovery.resolve(firefox_profile.profile_dir)
    result = engine.scan([profile], kinds=COOKIES, show_values=True)
    assert result.errors == []
    expected = firefox_profile.expected_cookies()
    assert any(c.store == "sessionstore.jsonlz4" for c in expected)
    _check_inventory(result.entries, expected, show_values=True)
    partitioned = {e.name: e.partition_site for e in result.entries if e.partition_site}
    assert partitioned == {"IDE": "liveops.com", "fr": "liveops.com", "dc_chips": "liveops.com"}


def test_cli_json_lists_every_cookie_of_a_user_data_folder(chromium_profile, data_dir):
    out = subprocess.run(
        [sys.executable, "-m", "privacy_inspector", "scan", "--profile", str(chromium_profile.user_data_dir),
         "--kinds", "cookie", "--format", "json", "--data-dir", str(data_dir)],
        capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=120,
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert [p["path"] for p in doc["profiles"]] == [str(chromium_profile.profile_dir)]
    assert doc["profiles"][0]["running"] is False
    assert len(doc["entries"]) == len(chromium_profile.expected_cookies())
    assert all(e["profile"] == str(chromium_profile.profile_dir) for e in doc["entries"])


def test_ids_are_the_same_on_every_scan_and_on_a_copy(firefox_profile, tmp_path):
    import shutil

    (profile,) = discovery.resolve(firefox_profile.profile_dir)
    first = {e.id for e in engine.scan([profile], kinds=COOKIES).entries}
    assert first == {e.id for e in engine.scan([profile], kinds=COOKIES).entries}
    copy = tmp_path / firefox_profile.profile_dir.name
    shutil.copytree(firefox_profile.profile_dir, copy, ignore=shutil.ignore_patterns("lock", ".parentlock"))
    (copied,) = discovery.resolve(copy)
    assert {e.id for e in engine.scan([copied], kinds=COOKIES).entries} == first


def test_a_running_chromium_is_detected_and_reading_it_disturbs_nothing(make_chromium_profile):
    cr = make_chromium_profile()
    (profile,) = discovery.resolve(cr.profile_dir)
    assert locks.is_running(profile) is False
    before = {e.name: e.id for e in engine.scan([profile], kinds=COOKIES).entries}
    with cr.running():
        assert locks.is_running(profile) is True
        (again,) = discovery.resolve(cr.user_data_dir)
        assert locks.is_running(again) is True
        during = engine.scan([profile], kinds=COOKIES)
        assert during.errors == []
        # Chromium deletes its leftover session cookie as it starts; whether
        # that has reached the disk yet depends on its 30-second flush.
        seen = {e.name: e.id for e in during.entries}
        assert {n: i for n, i in before.items() if n != "lo_session"}.items() <= seen.items() <= before.items()
    assert locks.is_running(profile) is False
    after = engine.scan([profile], kinds=COOKIES)
    assert after.errors == []
    # Chromium loads its cookie store lazily and only then purges leftover
    # session cookies, so lo_session may or may not have gone; nothing else
    # changed, ids included.
    assert "lo_session" in before
    kept = {e.name: e.id for e in after.entries}
    assert {n: i for n, i in before.items() if n != "lo_session"}.items() <= kept.items() <= before.items()


def test_a_running_firefox_is_detected_and_its_live_cookies_are_read(make_firefox_profile):
    ff = make_firefox_profile()
    (profile,) = discovery.resolve(ff.profile_dir)
    assert locks.is_running(profile) is False
    # After a clean quit Firefox leaves its lock symlink behind: not running.
    assert (ff.profile_dir / "lock").is_symlink()
    with ff.running():
        assert locks.is_running(profile) is True
        during = engine.scan([profile], kinds=COOKIES)
        assert during.errors == []
        # While Firefox runs, the session cookie lives in recovery.jsonlz4
        # (or only in memory until the first save); persistent ones are in
        # cookies.sqlite behind Firefox's exclusive lock, read from a copy.
        persistent = {e.name for e in during.entries if e.store == "cookies.sqlite"}
        assert persistent == {c.name for c in ff.expected_cookies() if c.store == "cookies.sqlite"}
    assert locks.is_running(profile) is False
    after = engine.scan([profile], kinds=COOKIES)
    assert after.errors == []
    _check_inventory(after.entries, ff.expected_cookies(), show_values=False)
