"""``snapshot`` and ``diff`` on real profiles: a visit to LiveOps between two snapshots.

A real browser visits the unrelated news site; snapshot "a" is taken through
the command line.  The same profile then visits LiveOps, whose page sets its
own cookies and storage and runs Google Analytics, a DoubleClick frame and a
Facebook frame; snapshot "b".  ``diff a b`` must list exactly what LiveOps'
visit left as added, each under the organisation behind it, remove nothing,
and ``diff a`` (against now, the browser closed) must say the same.  The
snapshot database must hold none of the values the pages wrote.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from privacy_inspector.cli import main as cli
from privacy_inspector.core import snapshots as snap
from tests.harness.site import (
    EXAMPLE_NEWS_HOME,
    LIVEOPS_HOME,
    expected_cookies,
    expected_storage,
)

pytestmark = pytest.mark.real_browser

KINDS = {"localStorage": "local_storage", "sessionStorage": "session_storage",
         "indexedDB": "indexed_db"}
# Who is behind what each resource of the LiveOps page sets.
ORGANIZATION = {"liveops": "LiveOps", "google-analytics": "Google", "doubleclick": "Google",
                "facebook": "Meta"}


def _cli(capsys, *argv: str) -> dict:
    code = cli.main([*argv, "--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _expected(browser: str) -> dict[tuple[str, str], str]:
    """(kind, name) -> organisation, of everything the LiveOps visit adds."""
    out = {("cookie", c.name): ORGANIZATION[c.set_by]
           for c in expected_cookies(browser, [LIVEOPS_HOME])}
    out.update({(KINDS[s.kind], s.key): ORGANIZATION[s.set_by]
                for s in expected_storage(browser, [LIVEOPS_HOME])})
    return out


def _check_visit_diff(capsys, browser: str, profile_dir: Path, data_dir: Path, visit) -> None:
    common = ("--profile", str(profile_dir), "--data-dir", str(data_dir))
    a = _cli(capsys, "snapshot", "--label", "a", *common)
    assert a["errors"] == [] and a["entries"] > 0
    visit()
    b = _cli(capsys, "snapshot", "--label", "b", *common)
    assert b["errors"] == [] and b["entries"] > a["entries"]

    ab = _cli(capsys, "diff", "a", "b", *common)
    assert (ab["a"]["id"], ab["b"]["id"]) == (a["id"], b["id"])
    assert ab["removed"] == []
    expected = _expected(browser)
    assert {k for k, *_ in expected} == {"cookie", "local_storage", "session_storage",
                                         "indexed_db"}
    added = {(e["kind"], e["name"]): e for e in ab["added"] if not e["stale"]}
    assert set(added) == set(expected)
    for key, organization in expected.items():
        assert added[key]["organization"] == organization, key
        assert added[key]["purpose"], key
    trackers = {k for k, e in added.items() if e["tracker"]}
    assert {("cookie", "_ga"), ("cookie", "IDE"), ("cookie", "fr")} <= trackers
    assert ab["summary"]["added"] == len(ab["added"])
    assert ab["summary"]["removed"] == 0

    # Grouped under their organisations.
    groups = {g["title"]: g for g in ab["by_organization"]}
    ids = {(e["kind"], e["name"]): e["id"] for e in ab["added"]}
    for key, organization in expected.items():
        assert ids[key] in groups[organization]["added"], (key, organization)
    assert {"LiveOps", "Google", "Meta"} <= set(groups)

    # Against now: the same profile, untouched since "b".
    now = _cli(capsys, "diff", "a", *common)
    assert now["b"] == "now"
    for field in ("added", "removed", "changed", "summary", "by_organization"):
        assert now[field] == ab[field], field
    same = _cli(capsys, "diff", "b", *common)
    assert same["summary"]["added"] == same["summary"]["removed"] == 0

    # No value the pages wrote is in the database.
    stored = b"".join(p.read_bytes() for p in data_dir.glob("snapshots.db*"))
    values = [c.value for c in expected_cookies(browser, [LIVEOPS_HOME, EXAMPLE_NEWS_HOME])]
    values += [s.value for s in expected_storage(browser, [LIVEOPS_HOME, EXAMPLE_NEWS_HOME])
               if s.kind != "indexedDB"]
    assert len(values) > 10
    assert [v for v in values if v.encode() in stored] == []
    # ... but a hash of each readable one.
    items = snap.load(data_dir, "b").items
    assert all(i.value_hash for i in items if i.kind == "cookie")


def test_chromium_visit_between_two_snapshots(make_chromium_profile, data_dir, capsys):
    profile = make_chromium_profile([EXAMPLE_NEWS_HOME], allow_third_party_cookies=True)
    _check_visit_diff(capsys, "chromium", profile.profile_dir, data_dir,
                      lambda: profile.visit([LIVEOPS_HOME]))


def test_firefox_visit_between_two_snapshots(make_firefox_profile, data_dir, capsys):
    profile = make_firefox_profile([EXAMPLE_NEWS_HOME])
    _check_visit_diff(capsys, "firefox", profile.profile_dir, data_dir,
                      lambda: profile.visit([LIVEOPS_HOME]))
