"""Blocking a tracker in Chromium's own settings, proven with Chromium 156.

``write_cookie_rules`` writes the rule ``[*.]doubleclick.net,*`` into
``Default/Preferences`` of a closed profile that Chromium made (third-party
cookies allowed); Chromium then visits LiveOps, whose ``ad.doubleclick.net``
frame sets ``IDE`` (for ``.doubleclick.net``, over HTTP) and the partitioned
``dc_chips`` and writes site storage.  With a block rule the scan finds none
of the tracker's cookies or storage while LiveOps' own are there; with a
session rule the tracker's cookies exist while the browser runs and are gone
once it has closed; with the rule restored away, the next visit sets them.
Chromium keeps the rule in the file it rewrites (no MAC protects it).

The browser is started with ``allow_third_party_cookies=None`` after the
first visit, so the harness does not rewrite Preferences itself: Chromium
reads exactly the bytes written here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from privacy_inspector.browsers import chromium_prefs as cp
from privacy_inspector.core import engine
from privacy_inspector.platform import discovery
from tests.harness.site import EXAMPLE_NEWS_HOME, LIVEOPS_HOME

pytestmark = pytest.mark.real_browser

TRACKER = "doubleclick.net"
KEY = "[*.]doubleclick.net,*"
TRACKER_COOKIES = {"IDE", "dc_chips"}
OWNER_COOKIES = {"lo_session", "lo_host", "lo_domain", "lo_strict", "lo_script"}
OWNER_PERSISTENT = {"lo_host", "lo_domain", "lo_strict", "lo_script"}
AS_IS = {"allow_third_party_cookies": None}  # Chromium reads Preferences as written here


def _entries(profile_dir: Path) -> list:
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile])
    assert result.errors == []
    return [e for e in result.entries if not getattr(e, "stale", False)]


def _is(host: str | None, domain: str) -> bool:
    host = (host or "").lstrip(".")
    return host == domain or host.endswith("." + domain)


def _cookies(entries: list, domain: str) -> dict[str, bool]:
    """name -> persistent, of the cookies of ``domain`` the scan found."""
    return {e.name: e.persistent for e in entries if e.kind == "cookie" and _is(e.host, domain)}


def _storage(entries: list, domain: str) -> set[tuple[str, str]]:
    return {(e.kind, e.name) for e in entries if e.kind != "cookie" and _is(e.host, domain)}


def _jar(browser, domain: str) -> set[str]:
    """The names of ``domain``'s cookies in the running browser's cookie jar."""
    cookies = browser.cdp.send("Storage.getCookies")["cookies"]
    return {c["name"] for c in cookies if _is(c["domain"], domain)}


@pytest.fixture
def profile(make_chromium_profile):
    """A profile Chromium made (third-party cookies allowed) that never saw the tracker."""
    profile = make_chromium_profile([EXAMPLE_NEWS_HOME], allow_third_party_cookies=True)
    assert cp.read_cookie_rules(profile.profile_dir) == []
    assert _cookies(_entries(profile.profile_dir), TRACKER) == {}
    return profile


def test_block_then_restore(profile):
    prefs = profile.profile_dir / cp.FILE
    chromium_wrote = prefs.read_bytes()
    # Write and restore on the bytes Chromium wrote: they come back exactly.
    cp.restore_cookie_rules(profile.profile_dir,
                            cp.write_cookie_rules(profile.profile_dir, {TRACKER: "block"}))
    assert prefs.read_bytes() == chromium_wrote

    before = cp.write_cookie_rules(profile.profile_dir, {TRACKER: "block"})
    assert before == {KEY: None}
    written = prefs.read_bytes()
    # Only our member was added to what Chromium wrote.
    assert len(written) > len(chromium_wrote)
    assert written.replace(b'"' + KEY.encode() + b'":', b"").count(b"doubleclick") == 0

    # The blocked frame cannot use storage either, and reports that as errors.
    profile.visit([LIVEOPS_HOME], check_errors=False, **AS_IS)
    entries = _entries(profile.profile_dir)
    assert _cookies(entries, TRACKER) == {}
    assert _storage(entries, TRACKER) == set()
    assert OWNER_COOKIES <= set(_cookies(entries, "liveops.com"))
    assert _storage(entries, "liveops.com")  # LiveOps' own storage is there
    # Chromium kept the rule when it rewrote Preferences (no MAC reset it).
    (rule,) = cp.read_cookie_rules(profile.profile_dir)
    assert (rule.pattern, rule.domain, rule.mode) == (KEY, TRACKER, "block")
    assert prefs.read_bytes() != written  # Chromium did rewrite the file

    # Without the rule, the next visit sets the tracker's cookies.
    cp.restore_cookie_rules(profile.profile_dir, before)
    assert cp.read_cookie_rules(profile.profile_dir) == []
    profile.visit([LIVEOPS_HOME], **AS_IS)
    entries = _entries(profile.profile_dir)
    tracker = _cookies(entries, TRACKER)
    assert set(tracker) == TRACKER_COOKIES
    assert all(tracker.values())  # persistent, as the site sent them
    assert _storage(entries, TRACKER)


def test_session_rule_keeps_cookies_until_the_browser_closes(profile):
    before = cp.write_cookie_rules(profile.profile_dir, {TRACKER: "session"})
    assert before == {KEY: None}
    with profile.running([LIVEOPS_HOME], **AS_IS) as browser:
        assert _jar(browser, TRACKER) == TRACKER_COOKIES  # allowed while it runs
    entries = _entries(profile.profile_dir)
    assert _cookies(entries, TRACKER) == {}  # deleted at shutdown
    owner = _cookies(entries, "liveops.com")
    assert OWNER_PERSISTENT <= {name for name, persistent in owner.items() if persistent}
    with profile.running((), **AS_IS) as browser:  # and not back after a restart
        assert _jar(browser, TRACKER) == set()
        assert OWNER_PERSISTENT <= _jar(browser, "liveops.com")
    assert [r.mode for r in cp.read_cookie_rules(profile.profile_dir)] == ["session"]

    # Restored away: the tracker's cookies outlive the browser again.
    cp.restore_cookie_rules(profile.profile_dir, before)
    profile.visit([LIVEOPS_HOME], **AS_IS)
    tracker = _cookies(_entries(profile.profile_dir), TRACKER)
    assert set(tracker) == TRACKER_COOKIES
    assert all(tracker.values())
