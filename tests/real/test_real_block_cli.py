"""``block``, ``blocks`` and ``unblock`` through the CLI, proven with both real browsers.

One round trip per browser on a profile the browser made, which has never
seen the tracker: ``block --domain doubleclick.net`` (refused with exit 3
while the browser runs), visit LiveOps, whose ``ad.doubleclick.net`` frame
would set ``IDE`` and ``dc_chips``: the tracker gets nothing.  ``block --mode
session``: the tracker's cookies last only as long as the browser.
``unblock``: the next visit sets them for good again, and ``blocks`` lists no
rule.  Firefox's rules name the port of the harness's high-port server
(``--port``); Chromium's ``[*.]`` pattern covers every port.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy_inspector.cli import main as cli
from privacy_inspector.core import engine
from privacy_inspector.platform import discovery
from tests.harness.site import EXAMPLE_NEWS_HOME, LIVEOPS_HOME

pytestmark = pytest.mark.real_browser

TRACKER = "doubleclick.net"
TRACKER_COOKIES = {"IDE", "dc_chips"}
OWNER_PERSISTENT = {"lo_host", "lo_domain", "lo_strict", "lo_script"}


def _run(capsys, data_dir: Path, profile_dir: Path, *args: str) -> tuple[int, dict | None, str]:
    code = cli.main([*args, "--profile", str(profile_dir), "--data-dir", str(data_dir),
                     "--format", "json"])
    out = capsys.readouterr()
    return code, (json.loads(out.out) if out.out.strip() else None), out.err


def _cookies(profile_dir: Path, domain: str) -> dict[str, bool]:
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile])
    assert result.errors == []
    return {e.name: e.persistent for e in result.entries
            if e.kind == "cookie" and not e.stale
            and (e.host == domain or e.host.endswith("." + domain))}


def _persistent(profile_dir: Path, domain: str) -> set[str]:
    (profile,) = discovery.resolve(profile_dir)
    return {e.name for e in engine.scan([profile]).entries
            if e.kind == "cookie" and not e.stale and e.persistent
            and (e.host == domain or e.host.endswith("." + domain))}


def _storage(profile_dir: Path, domain: str) -> set[str]:
    (profile,) = discovery.resolve(profile_dir)
    return {e.kind for e in engine.scan([profile]).entries
            if e.kind != "cookie" and not e.stale and e.host.endswith(domain)}


def _round_trip(capsys, data_dir, profile, port_args, visit, running):
    where = profile.profile_dir
    # Refused while the browser runs: exit 3, nothing written.
    with running():
        code, doc, _ = _run(capsys, data_dir, where, "block", "--domain", TRACKER, "--yes",
                            *port_args)
        assert code == 3 and "is running" in doc["refused"][0]["reason"]
    assert _run(capsys, data_dir, where, "blocks")[1]["rules"] == []

    code, doc, err = _run(capsys, data_dir, where, "block", "--domain", TRACKER, "--yes",
                          *port_args)
    assert code == 0, err
    assert [(r["domain"], r["mode"]) for r in doc["rules"]] == [(TRACKER, "block")]
    listed = _run(capsys, data_dir, where, "blocks")[1]["rules"]
    assert {(r["domain"], r["mode"], r["source"]) for r in listed} == {(TRACKER, "block", "app")}
    visit(check_errors=False)  # the blocked frame's storage calls fail, as they should
    assert _cookies(where, TRACKER) == {}
    assert _storage(where, TRACKER) == set()
    assert OWNER_PERSISTENT <= set(_cookies(where, "liveops.com"))

    code, doc, err = _run(capsys, data_dir, where, "block", "--domain", TRACKER, "--mode",
                          "session", "--yes", *port_args)
    assert code == 0, err
    assert [(r["mode"], r["was"]) for r in doc["rules"]] == [("session", "block")]
    return where


def test_chromium_block_session_unblock(capsys, data_dir, make_chromium_profile):
    profile = make_chromium_profile([EXAMPLE_NEWS_HOME], allow_third_party_cookies=True)
    as_is = {"allow_third_party_cookies": None}  # the harness leaves Preferences alone
    where = _round_trip(capsys, data_dir, profile, (),
                        lambda **kw: profile.visit([LIVEOPS_HOME], **as_is, **kw),
                        lambda: profile.running((), **as_is))
    # Session only: the cookies are there while Chromium runs, gone once it closed.
    with profile.running([LIVEOPS_HOME], **as_is) as browser:
        jar = {c["name"] for c in browser.cdp.send("Storage.getCookies")["cookies"]
               if c["domain"].lstrip(".").endswith(TRACKER)}
        assert jar == TRACKER_COOKIES
    assert _cookies(where, TRACKER) == {}

    code, doc, err = _run(capsys, data_dir, where, "unblock", "--domain", TRACKER, "--yes")
    assert code == 0, err
    assert [(r["mode"], r["was"]) for r in doc["rules"]] == [(None, "session")]
    assert _run(capsys, data_dir, where, "blocks")[1]["rules"] == []
    profile.visit([LIVEOPS_HOME], **as_is)
    assert _persistent(where, TRACKER) == TRACKER_COOKIES


def test_firefox_block_session_unblock(capsys, data_dir, make_firefox_profile, fake_site):
    profile = make_firefox_profile([EXAMPLE_NEWS_HOME])
    port = fake_site.origin("x").rsplit(":", 1)[1]
    where = _round_trip(capsys, data_dir, profile, ("--port", port),
                        lambda **kw: profile.visit([LIVEOPS_HOME], **kw),
                        lambda: profile.running(()))
    # Session only: Firefox keeps the tracker's cookies as session cookies.
    profile.visit([LIVEOPS_HOME])
    tracker = _cookies(where, TRACKER)
    assert set(tracker) == TRACKER_COOKIES and not any(tracker.values())

    code, doc, err = _run(capsys, data_dir, where, "unblock", "--domain", TRACKER, "--yes",
                          "--port", port)
    assert code == 0, err
    assert _run(capsys, data_dir, where, "blocks")[1]["rules"] == []
    profile.visit([LIVEOPS_HOME])
    # Persistent again.  (The session-only IDE of before is another cookie: Firefox
    # stored it unpartitioned, and its session file still holds it.)
    assert _persistent(where, TRACKER) == TRACKER_COOKIES
