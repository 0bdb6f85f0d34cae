"""Classification against the bundled LiveOps policy, on the demo profiles.

The demo profiles were written by real Chromium and Firefox visiting the fake
LiveOps site, so these are the cases of issue 4's "done when" on real data.
"""

from __future__ import annotations

import pytest

from privacy_inspector.core import demo, engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.entropy import identifier_like
from privacy_inspector.core.policy import load_policy


@pytest.fixture(scope="module")
def inventory(tmp_path_factory):
    profiles = demo.demo_profiles(tmp_path_factory.mktemp("state"))
    result = engine.scan(profiles, classifier=Classifier(load_policy()))
    assert result.errors == []
    return {(e.browser, e.kind, e.name): e for e in result.entries}


BROWSERS = ("chromium", "firefox")


@pytest.mark.parametrize("browser", BROWSERS)
def test_every_entry_is_classified(inventory, browser):
    for (b, _, _), entry in inventory.items():
        if b != browser:
            continue
        assert entry.party in ("first_party", "third_party", "unrelated")
        assert entry.category is not None and entry.purpose
        assert entry.on_owner_site is (entry.site == "liveops.com")
        assert isinstance(entry.tracker, bool)


@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize("name", ["_ga", "_gid"])
def test_a_google_analytics_cookie_on_the_owner_s_site_is_analytics_covered_by_clickstream(
    inventory, browser, name
):
    entry = inventory[(browser, "cookie", name)]
    assert entry.site == "liveops.com"
    assert (entry.organization, entry.service, entry.category) == ("Google", "Google Analytics", "analytics")
    assert (entry.party, entry.on_owner_site, entry.tracker) == ("third_party", True, True)
    assert "clickstream" in entry.policy_clauses


@pytest.mark.parametrize("browser", BROWSERS)
def test_a_doubleclick_cookie_is_advertising_covered_by_interest_based_ads(inventory, browser):
    for name in ("IDE", "dc_chips"):
        entry = inventory[(browser, "cookie", name)]
        assert (entry.organization, entry.service, entry.category) == ("Google", "DoubleClick", "advertising")
        assert (entry.party, entry.tracker) == ("third_party", True)
        assert "interest-based-ads" in entry.policy_clauses


@pytest.mark.parametrize("browser", BROWSERS)
def test_a_facebook_cookie_is_social_media_covered_by_social_media(inventory, browser):
    entry = inventory[(browser, "cookie", "fr")]
    assert (entry.organization, entry.category, entry.party, entry.tracker) == (
        "Meta", "social_media", "third_party", True)
    assert "social-media" in entry.policy_clauses


@pytest.mark.parametrize("browser", BROWSERS)
@pytest.mark.parametrize(("kind", "name"), [
    ("local_storage", "dc_ls_id"), ("local_storage", "fb_ls_like"),
    ("session_storage", "dc_ss_seen"), ("indexed_db", "dc-db"),
])
def test_third_party_storage_under_the_owner_s_site_is_covered_by_html5_storage(inventory, browser, kind, name):
    entry = inventory[(browser, kind, name)]
    assert entry.partition_site == "liveops.com"
    assert entry.party == "third_party"
    assert "html5-storage" in entry.policy_clauses


@pytest.mark.parametrize("browser", BROWSERS)
def test_the_owner_s_own_session_cookie_is_first_party_covered_by_cookies(inventory, browser):
    entry = inventory[(browser, "cookie", "lo_session")]
    assert entry.persistent is False
    assert (entry.organization, entry.party, entry.on_owner_site, entry.tracker) == (
        "LiveOps", "first_party", True, False)
    assert entry.policy_clauses == ("cookies",)


@pytest.mark.parametrize("browser", BROWSERS)
def test_an_unrelated_site_is_unrelated_and_not_covered(inventory, browser):
    entry = inventory[(browser, "cookie", "en_visitor")]
    assert (entry.party, entry.on_owner_site, entry.policy_clauses, entry.tracker) == (
        "unrelated", False, (), False)


@pytest.mark.parametrize(
    ("value", "persistent", "expected"),
    [
        (None, True, None),
        ("GA1.2.1234567890.1700000000", True, True),
        ("9f86d081884c7d659a2feaa0c55ad015", True, True),
        ("dark", True, False),
        ("aaaaaaaaaaaaaaaaaaaaaaaa", True, False),
        ("9f86d081884c7d659a2feaa0c55ad015", False, False),
        ("en-US", True, False),
    ],
)
def test_identifier_like(value, persistent, expected):
    assert identifier_like(value, persistent) is expected


def _id_of(capsys, data_dir, browser, name):
    import json

    from privacy_inspector.cli import main as cli

    assert cli.main(["scan", "--demo", "--format", "jsonl", "--data-dir", str(data_dir)]) == 0
    for line in capsys.readouterr().out.splitlines():
        entry = json.loads(line)
        if entry["browser"] == browser and entry["name"] == name:
            return entry["id"]
    raise AssertionError(f"{browser} {name} not in the demo")


def test_explain_quotes_the_covering_clauses_and_the_choices(capsys, data_dir):
    from privacy_inspector.cli import main as cli

    entry_id = _id_of(capsys, data_dir, "firefox", "dc_chips")
    assert cli.main(["explain", entry_id, "--demo", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Who:       Google (DoubleClick), third party, in a frame on liveops.com" in out
    assert "Tracker:   yes: it is advertising" in out
    assert "[interest-based-ads]" in out
    assert "We partner with a third party to either display advertising" in out
    assert "http://preferences-mgr.truste.com/" in out and "http://www.youronlinechoices.eu/" in out
    # No quote without its source.
    assert ("(quoted from Privacy Policy | LiveOps Cloud Contact Center | Call Center Software, "
            "https://web.archive.org/web/20160606035635id_/http%3A//www.liveops.com/privacy-policy, "
            "archived 2016-06-06)") in out


def test_explain_says_whether_a_hidden_value_looks_like_an_id(capsys, data_dir):
    """The demo's _ga (a Chromium v10 value) is judged without being shown."""
    from privacy_inspector.cli import main as cli

    entry_id = _id_of(capsys, data_dir, "chromium", "_ga")
    assert cli.main(["explain", entry_id, "--demo", "--data-dir", str(data_dir)]) == 0
    out = capsys.readouterr().out
    assert "Value:     looks like a unique identifier" in out
    assert "GA1." not in out


def test_explain_json_and_an_entry_the_policy_does_not_cover(capsys, data_dir):
    import json

    from privacy_inspector.cli import main as cli

    entry_id = _id_of(capsys, data_dir, "chromium", "en_visitor")
    assert cli.main(["explain", entry_id, "--demo", "--format", "json", "--data-dir", str(data_dir)]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["entry"]["id"] == entry_id and doc["entry"]["value"] is None
    explanation = doc["explanation"]
    assert explanation["policy_clauses"] == []
    assert explanation["not_covered"] == (
        "LiveOps' privacy policy does not cover this cookie: it was set by "
        "www.example-news.org, not in LiveOps' context.")
    assert explanation["policy_source"]["archived"] == "2016-06-06"


def test_explain_an_unknown_id(capsys, data_dir):
    from privacy_inspector.cli import main as cli

    assert cli.main(["explain", "ck-0000000000000000", "--demo", "--data-dir", str(data_dir)]) == 1
    assert "no entry ck-0000000000000000 in the chosen profiles" in capsys.readouterr().err


class _NoNames:
    """Name rules that match nothing: this test is about where fields go."""

    def match_name(self, name, kind, site):
        return None


_NO_NAMES = _NoNames()


def test_classify_puts_each_field_where_the_record_has_it():
    """classify builds the tuple directly; every field must land in its own slot."""
    from pathlib import Path

    from privacy_inspector.browsers.base import COOKIE_COLUMNS, CookieFactory
    from privacy_inspector.core.records import Entry, Profile

    profile = Profile(Path("/p/Default"), "chromium", "chromium", "Default")
    columns = dict.fromkeys(COOKIE_COLUMNS)
    columns.update(store="Cookies", id_store="Cookies", host=[".doubleclick.net"], name=["IDE"],
                   path="/", persistent=True, secure=True, http_only=True, same_site="none",
                   size=[10], value_state="encrypted", stale=False)
    (entry,) = CookieFactory(profile).build(1, **columns)
    (done,) = Classifier(load_policy(), names=_NO_NAMES).classify([entry])
    assert done[: Entry._fields.index("organization")] == entry[: Entry._fields.index("organization")]
    assert (done.organization, done.service, done.party, done.on_owner_site, done.category) == (
        "Google", "DoubleClick", "third_party", False, "advertising")
    assert (done.tracker, done.identifier_like, done.policy_clauses) == (True, None, ("interest-based-ads",))
    assert done.purpose.startswith("Recognises the visitor")


def test_a_platforms_cookie_is_the_sites_own(inventory):
    """PHPSESSID, csrftoken, wp-settings-*: the site's own server sets them (names.json
    "set_by": "site"), so they are the site's, with the platform's category."""
    classifier = Classifier(load_policy())
    base = inventory[("chromium", "cookie", "lo_domain")]

    def _classified(name: str, host: str):
        site = ".".join(host.split(".")[-2:])
        (entry,) = classifier.classify([base._replace(name=name, host=host, site=site,
                                                      partition_site=None)])
        return entry

    owner = _classified("PHPSESSID", "www.liveops.com")
    assert (owner.organization, owner.party, owner.category) == ("LiveOps", "first_party",
                                                                 "essential")
    assert owner.tracker is False and "Set by LiveOps' own site" in owner.purpose
    known = _classified("csrftoken", "www.instagram.com")
    assert (known.organization, known.category) == ("Meta", "essential")
    other = _classified("wp-settings-1", "blog.example.org")
    assert (other.organization, other.party, other.category) == (None, "unrelated",
                                                                 "preferences")
