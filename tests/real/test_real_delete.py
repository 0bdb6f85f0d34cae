"""Deleting cookies from profiles real browsers wrote, proven by starting them again.

Each test visits a probe page before and after: the page and its tracker
frames report what they can see, and the fake site records the Cookie header
of every request.  After ``clear --trackers`` the trackers' cookies must be
gone (their partitioned copies too) and everything else exactly as before;
after ``undo`` everything is back.
"""

from __future__ import annotations

import pytest

from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.policy import load_policy
from privacy_inspector.platform import discovery
from tests.harness.cli import cli_json as _cli
from tests.harness.site import DOUBLECLICK, FACEBOOK, LIVEOPS, PROBE_PATH

pytestmark = pytest.mark.real_browser


def _visible(profile) -> dict[str, set[str]]:
    """host -> the cookie names requests to it carried, on a fresh start of the browser."""
    site = profile.site
    start = len(site.requests)
    profile.visit([site.probe_url(LIVEOPS, [DOUBLECLICK, FACEBOOK])])
    seen: dict[str, set[str]] = {}
    for request in site.requests[start:]:
        if request.path.startswith(PROBE_PATH):
            names = {c.split("=", 1)[0].strip() for c in (request.cookie or "").split(";") if c.strip()}
            seen.setdefault(request.host, set()).update(names)
    return seen


def _tracker_cookies(profile_dir) -> set[tuple[str, str]]:
    (profile,) = discovery.resolve(profile_dir)
    result = engine.scan([profile], kinds=("cookie",), classifier=Classifier(load_policy()))
    return {(e.host, e.name) for e in result.entries if e.tracker}


def _round_trip(profile, profile_dir, data_dir, capsys):
    before = _visible(profile)
    trackers = _tracker_cookies(profile_dir)
    tracker_names = {name for _, name in trackers}
    assert {"_ga", "IDE", "fr", "dc_chips"} <= tracker_names
    assert tracker_names & set().union(*before.values()), "the trackers were visible before"

    code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json",
                     "--profile", str(profile_dir), "--data-dir", str(data_dir))
    assert code == 0, doc
    assert doc["refused"] == [] and doc["errors"] == [] and doc["journal_id"]
    # Tracker storage goes too (tests/real/test_real_*_delete_storage.py check it).
    assert len([i for i in doc["deleted"] if i.startswith("ck-")]) == len(trackers)
    assert _tracker_cookies(profile_dir) == set()

    after = _visible(profile)
    for host, names in before.items():
        assert after.get(host, set()) == names - tracker_names, host
    assert after[LIVEOPS], "the owner's own cookies are still there"

    code, undone = _cli(capsys, "undo", "--yes", "--format", "json", "--data-dir", str(data_dir))
    assert code == 0, undone
    assert sorted(undone["restored"]) == sorted(doc["deleted"]) and undone["skipped"] == []
    assert _tracker_cookies(profile_dir) == trackers
    assert _visible(profile) == before


def test_clear_trackers_and_undo_in_chromium(make_chromium_profile, data_dir, capsys):
    profile = make_chromium_profile()
    _round_trip(profile, profile.profile_dir, data_dir, capsys)


def test_clear_trackers_and_undo_in_firefox(make_firefox_profile, data_dir, capsys):
    profile = make_firefox_profile()
    _round_trip(profile, profile.profile_dir, data_dir, capsys)


def test_nothing_is_written_while_chromium_runs(make_chromium_profile, data_dir, capsys):
    profile = make_chromium_profile()
    trackers = _tracker_cookies(profile.profile_dir)
    with profile.running():
        code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json",
                         "--profile", str(profile.profile_dir), "--data-dir", str(data_dir))
        assert code == 3
        assert doc["deleted"] == [] and doc["journal_id"] is None
        (refusal,) = doc["refused"]
        assert "chromium is running on the profile" in refusal["reason"]
    # (Chromium itself drops the session cookies when it starts; the trackers stay.)
    assert _tracker_cookies(profile.profile_dir) == trackers
    assert not (data_dir / "journal").exists() or not any((data_dir / "journal").iterdir())


def test_nothing_is_written_while_firefox_runs(make_firefox_profile, data_dir, capsys):
    profile = make_firefox_profile()
    with profile.running():
        code, doc = _cli(capsys, "delete", "--site", "doubleclick.net", "--yes", "--format", "json",
                         "--profile", str(profile.profile_dir), "--data-dir", str(data_dir))
        assert code == 3 and doc["deleted"] == []
        assert "firefox is running on the profile" in doc["refused"][0]["reason"]
    assert {"IDE", "dc_chips"} <= {n for _, n in _tracker_cookies(profile.profile_dir)}


@pytest.mark.parametrize("browser", ["chromium", "firefox"])
def test_a_running_browser_can_be_asked_to_close(browser, make_chromium_profile, make_firefox_profile):
    import time

    from privacy_inspector.platform import locks

    made = make_chromium_profile() if browser == "chromium" else make_firefox_profile()
    with made.running():
        (profile,) = discovery.resolve(made.profile_dir)
        assert locks.is_running(profile)
        pid = locks.browser_pid(profile)
        assert pid is not None
        assert locks.request_close(profile)
        deadline = time.monotonic() + 60
        while locks.is_running(profile) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not locks.is_running(profile), f"{browser} did not close on request"
    # The browser wrote its data on the way out: the trackers are still there, intact.
    assert {"_ga", "IDE"} <= {n for _, n in _tracker_cookies(made.profile_dir)}


@pytest.mark.parametrize("browser", ["chromium", "firefox"])
def test_clear_can_close_the_browser_and_go_on(browser, capsys, data_dir, make_chromium_profile,
                                               make_firefox_profile):
    """clear --trackers --close-browser: the running browser is asked to quit,
    the app waits for it, plans afresh and deletes."""
    made = make_chromium_profile() if browser == "chromium" else make_firefox_profile()
    with made.running():
        code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--format", "json",
                         "--profile", str(made.profile_dir), "--data-dir", str(data_dir))
        assert code == 3 and doc["deleted"] == []  # without the option: refused
        code, doc = _cli(capsys, "clear", "--trackers", "--yes", "--close-browser", "--wait", "60",
                         "--format", "json", "--profile", str(made.profile_dir),
                         "--data-dir", str(data_dir))
        assert code == 0, doc
        assert doc["deleted"] and doc["refused"] == []
    assert _tracker_cookies(made.profile_dir) == set()
