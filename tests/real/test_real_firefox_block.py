"""Blocking a tracker in Firefox's own settings, proven with Firefox ESR 153.

``write_cookie_rules`` writes the cookie rule of ``doubleclick.net`` into
``permissions.sqlite`` of a closed profile; Firefox then visits LiveOps, whose
``ad.doubleclick.net`` frame sets ``IDE`` (for ``.doubleclick.net``, over
HTTP) and the partitioned ``dc_chips``.  The scan must find none of them
while LiveOps' own cookies are there; with the rule removed, the next visit
sets them.  The rule is for the registrable domain and Firefox applies it to
the subdomain ``ad.doubleclick.net``.

The fake web is served on a high port, and a Firefox permission's origin
keeps a non-default port (``https://doubleclick.net:PORT``): a rule without
the port does not apply to it, which is checked here too.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from privacy_inspector.browsers import firefox_permissions as fp
from privacy_inspector.core import engine
from privacy_inspector.platform import discovery
from tests.harness.site import LIVEOPS_HOME

pytestmark = pytest.mark.real_browser

TRACKER = "doubleclick.net"
TRACKER_COOKIES = {"IDE", "dc_chips"}
OWNER_COOKIES = {"lo_session", "lo_host", "lo_domain", "lo_strict", "lo_script"}


def _port(site) -> int:
    return int(site.url(LIVEOPS_HOME).split("://", 1)[1].split("/", 1)[0].rsplit(":", 1)[1])


def _cookies(profile_dir: Path) -> dict[tuple[str, str], bool]:
    """(host, name) -> persistent, of every cookie the app's scan finds."""
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile], kinds=("cookie",))
    assert result.errors == []
    return {(e.host, e.name): e.persistent for e in result.entries
            if e.kind == "cookie" and not e.stale}


def _of(cookies: dict[tuple[str, str], bool], domain: str) -> dict[str, bool]:
    return {name: persistent for (host, name), persistent in cookies.items()
            if host.lstrip(".") == domain or host.endswith("." + domain)}


def _schema(path: Path) -> list[tuple]:
    conn = sqlite3.connect(path)
    try:
        return [*conn.execute("SELECT type, name, sql FROM sqlite_master ORDER BY rowid"),
                conn.execute("PRAGMA user_version").fetchone()]
    finally:
        conn.close()


def test_schema_is_the_one_firefox_writes(make_firefox_profile, tmp_path: Path):
    ours = tmp_path / "ours"
    ours.mkdir()
    fp._create(ours / fp.FILE)
    real = make_firefox_profile([LIVEOPS_HOME])
    assert _schema(real.profile_dir / fp.FILE) == _schema(ours / fp.FILE)


def test_block_rule_for_the_domain_stops_its_cookies(make_firefox_profile, fake_site):
    profile = make_firefox_profile(())  # never started: no permissions.sqlite yet
    profile.profile_dir.mkdir(parents=True)
    port = _port(fake_site)

    # A rule without the port does not apply to a site on another port.
    assert not any(fp.write_cookie_rules(profile.profile_dir, {TRACKER: "block"}).values())
    created = _schema(profile.profile_dir / fp.FILE)
    profile.visit([LIVEOPS_HOME])
    cookies = _cookies(profile.profile_dir)
    assert set(_of(cookies, TRACKER)) == TRACKER_COOKIES
    assert _schema(profile.profile_dir / fp.FILE) == created  # Firefox took the file as is
    before = fp.write_cookie_rules(profile.profile_dir, {TRACKER: None})
    assert sorted(before) == [f"http://{TRACKER}", f"https://{TRACKER}"]
    # Firefox kept the rows
    assert [r["permission"] for rows in before.values() for r in rows] == [2, 2]
    _clear_tracker_cookies(profile.profile_dir)

    # With the port: Firefox blocks the domain and its subdomain ad.doubleclick.net.
    assert not any(fp.write_cookie_rules(profile.profile_dir, {TRACKER: "block"}, port=port).values())
    rules = {r.pattern: r.mode for r in fp.read_cookie_rules(profile.profile_dir)}
    assert rules == {f"http://{TRACKER}:{port}": "block", f"https://{TRACKER}:{port}": "block"}
    # The blocked frame cannot use storage either, and reports that as errors.
    profile.visit([LIVEOPS_HOME], check_errors=False)
    cookies = _cookies(profile.profile_dir)
    assert _of(cookies, TRACKER) == {}
    assert OWNER_COOKIES <= set(_of(cookies, "liveops.com"))
    assert {r.pattern: r.mode for r in fp.read_cookie_rules(profile.profile_dir)} == rules

    # Without the rule, the next visit sets them.
    before = fp.write_cookie_rules(profile.profile_dir, {TRACKER: None}, port=port)
    assert {o for o, rows in before.items() if rows} == set(rules)
    assert fp.read_cookie_rules(profile.profile_dir) == []
    profile.visit([LIVEOPS_HOME])
    cookies = _cookies(profile.profile_dir)
    assert set(_of(cookies, TRACKER)) == TRACKER_COOKIES
    assert all(_of(cookies, TRACKER).values())  # persistent, as the site sent them


def test_session_rule_keeps_only_session_cookies(make_firefox_profile, fake_site):
    profile = make_firefox_profile(())
    profile.profile_dir.mkdir(parents=True)
    fp.write_cookie_rules(profile.profile_dir, {TRACKER: "session"}, port=_port(fake_site))
    profile.visit([LIVEOPS_HOME])
    cookies = _cookies(profile.profile_dir)
    tracker = _of(cookies, TRACKER)
    assert set(tracker) == TRACKER_COOKIES
    assert not any(tracker.values())  # none persistent
    assert _of(cookies, "liveops.com")["lo_domain"] is True


def _clear_tracker_cookies(profile_dir: Path) -> None:
    """Delete the tracker's rows from cookies.sqlite (Firefox closed)."""
    conn = sqlite3.connect(profile_dir / "cookies.sqlite")
    try:
        conn.execute("DELETE FROM moz_cookies WHERE host LIKE ? OR host LIKE ?",
                     (f"%.{TRACKER}", TRACKER))
        conn.commit()
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()
