"""The policy as data: the bundled LiveOps policy, the coverage rule, strict loading."""

from __future__ import annotations

import datetime
import re
import tomllib
from pathlib import Path

import pytest

from privacy_inspector import bundled
from privacy_inspector.core import policy as policy_mod
from privacy_inspector.core.policy import PolicyError, load_policy, normalize_text

REPO = Path(__file__).resolve().parents[2]
# The archived policy text is kept outside the repository, next to the clone.
SEED = REPO.parent / "shared" / "seeds" / "liveops-privacy-policy-2016.md"

CONTRACT_IDS = (
    "clickstream", "transaction-aggregates", "cookies", "web-beacons", "cookies-off",
    "ip-addresses", "html5-storage", "interest-based-ads", "social-media",
)
_LINK = re.compile(r"\[([^\]]*)\]\(([^)\s]+)\)")


@pytest.fixture(scope="module")
def liveops():
    return load_policy()


@pytest.fixture(scope="module")
def seed_text() -> str:
    if not SEED.is_file():
        pytest.fail(f"the archived LiveOps policy is missing: expected it at {SEED}")
    return SEED.read_text(encoding="utf-8")


def test_bundled_policy_loads(liveops):
    assert liveops.owner.name == "LiveOps"
    assert liveops.owner.sites == ("liveops.com",)
    assert liveops.source.archived == datetime.date(2016, 6, 6)
    assert "web.archive.org" in liveops.source.url
    assert liveops.source.note


def test_clause_ids_are_the_contracts(liveops):
    assert liveops.clause_ids == CONTRACT_IDS


def test_every_clause_text_is_quoted_verbatim(liveops, seed_text):
    # Link markup reads as its words (the address goes to the clause's choices).
    paragraphs = [normalize_text(_LINK.sub(r"\1", p)) for p in seed_text.split("\n\n")]
    for clause in liveops.clauses:
        assert clause.text, clause.id
        found = [p for p in paragraphs if clause.text in p]
        assert found, f"{clause.id}: text is not in one paragraph of the archived policy"
        # Whole sentences only: it starts a sentence and ends one.
        start = found[0].index(clause.text)
        assert start == 0 or found[0][start - 2:start] == ". ", clause.id
        assert clause.text.endswith("."), clause.id


def test_choice_urls_are_the_policys(liveops, seed_text):
    links = {url for _, url in _LINK.findall(seed_text)}
    urls = {c.url for clause in liveops.clauses for c in clause.choices if c.url}
    assert urls <= links
    ads = {c.url for c in liveops.clause("interest-based-ads").choices}
    assert ads == {"http://preferences-mgr.truste.com/", "http://www.youronlinechoices.eu/"}


def test_owner_site(liveops):
    assert liveops.is_owner_site("liveops.com")
    assert liveops.is_owner_site("www.liveops.com")
    assert not liveops.is_owner_site("google-analytics.com")
    assert not liveops.is_owner_site("notliveops.com")
    assert not liveops.is_owner_site(None)


def test_clause_lookup(liveops):
    assert liveops.clause("cookies").title == "Cookies"
    with pytest.raises(KeyError, match="no clause 'nope'"):
        liveops.clause("nope")


# --- the examples -----------------------------------------------------

def test_google_analytics_cookie_on_owner_site(liveops):
    ids = liveops.clauses_for("cookie", "analytics", "third_party", True)
    assert {"clickstream", "cookies", "web-beacons"} <= set(ids)
    assert "interest-based-ads" not in ids


def test_doubleclick_cookie(liveops):
    ids = liveops.clauses_for("cookie", "advertising", "third_party", False)
    assert "interest-based-ads" in ids
    assert "cookies" not in ids  # not on LiveOps' site


def test_facebook_cookie(liveops):
    assert "social-media" in liveops.clauses_for("cookie", "social_media", "third_party", False)


@pytest.mark.parametrize("kind", ["local_storage", "session_storage", "indexed_db"])
def test_third_party_storage_under_owner_site(liveops, kind):
    # A vendor's script writing into LiveOps' own origin ...
    assert "html5-storage" in liveops.clauses_for(kind, "unknown", "third_party", True)
    # ... or a vendor's frame, its storage partitioned under liveops.com.
    assert "html5-storage" in liveops.clauses_for(
        kind, "analytics", "third_party", False, partition_site="liveops.com")


def test_owner_session_cookie(liveops):
    assert liveops.clauses_for("cookie", "essential", "first_party", True) == ("cookies",)


def test_not_covered(liveops):
    # The owner's own storage is no third party's HTML5 storage.
    assert liveops.clauses_for("local_storage", "essential", "first_party", True) == ()
    # A tracker seen only under another company's site.
    assert liveops.clauses_for("cookie", "advertising", "third_party", False,
                               partition_site="example.com") == ()
    assert liveops.clauses_for("cookie", "analytics", "unrelated", False) == ()
    assert liveops.clauses_for("cookie", "analytics", "third_party", False) == ()


def test_clauses_without_stored_entries(liveops):
    assert liveops.clause("ip-addresses").covers == ()
    assert liveops.clause("transaction-aggregates").covers == ()


def test_clauses_for_rejects_unknown_values(liveops):
    with pytest.raises(ValueError, match="unknown kind"):
        liveops.clauses_for("flash", "analytics", "third_party", True)
    with pytest.raises(ValueError, match="unknown category"):
        liveops.clauses_for("cookie", "tracking", "third_party", True)
    with pytest.raises(ValueError, match="unknown party"):
        liveops.clauses_for("cookie", "analytics", "fourth_party", True)


# --- another company's policy, and invalid files ------------------------------

GOOD = '''
format = 1

[owner]
name = "Example"
sites = ["example.com", "example.co.uk"]

[source]
title = "Example privacy policy"
url = "https://example.com/privacy"

[[clauses]]
id = "cookies"
title = "Cookies"
text = """We use
   cookies."""

[[clauses.covers]]
kinds = ["cookie"]
on_owner_site = true

[[clauses.choices]]
label = "Browser settings"
'''


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "policy.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_another_companys_policy(tmp_path):
    p = load_policy(write(tmp_path, GOOD))
    assert p.owner.sites == ("example.com", "example.co.uk")
    assert p.is_owner_site("shop.example.co.uk")
    assert p.clause("cookies").text == "We use cookies."
    assert p.source.archived is None
    assert p.clauses_for("cookie", "unknown", "first_party", True) == ("cookies",)
    assert p.clauses_for("cookie", "unknown", "third_party", False) == ()


def test_the_bundled_file_is_the_documented_format():
    data = tomllib.loads(bundled.path("policy", "liveops-2016.toml").read_text(encoding="utf-8"))
    assert data["format"] == policy_mod.FORMAT
    readme = bundled.path("policy", "README.md").read_text(encoding="utf-8")
    for key in ("owner", "sites", "source", "archived", "clauses", "covers", "kinds",
                "categories", "parties", "on_owner_site", "choices", "label", "url", "note"):
        assert f"`{key}`" in readme, key


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ('name = "Example"', 'name = "Example"\ncolour = "red"',
         "owner.colour: unknown key (allowed here: name, sites)"),
        ('title = "Cookies"\n', "", "clauses[0] (cookies).title: missing"),
        ('title = "Example privacy policy"\n', "", "source.title: missing"),
        ('"""We use\n   cookies."""', '"  "', "clauses[0] (cookies).text: must not be empty"),
        ('"cookie"]', '"cookies"]', "clauses[0] (cookies).covers[0].kinds: unknown kind 'cookies'"),
        ('on_owner_site = true', 'on_owner_site = true\ncategories = ["tracking"]',
         "unknown category 'tracking'"),
        ('on_owner_site = true', 'on_owner_site = true\nparties = ["unrelated"]',
         "unknown party 'unrelated'"),
        ('on_owner_site = true', 'on_owner_site = "yes"',
         "covers[0].on_owner_site: must be true or false, not 'yes'"),
        ('on_owner_site = true', 'on_owner_site = true\ncategories = []',
         "must be a non-empty list (leave the key out to match any)"),
        ('"example.co.uk"]', '"co.uk"]',
         "owner.sites[1]: 'co.uk' is a public suffix, not a registrable domain"),
        ('"example.co.uk"]', '"www.example.co.uk"]',
         "owner.sites[1]: 'www.example.co.uk' is not a registrable domain (did you mean 'example.co.uk'?)"),
        ('"example.co.uk"]', '"127.0.0.1"]', "owner.sites[1]: '127.0.0.1' is not a registrable domain"),
        ('"example.co.uk"]', '"https://example.org/"]', "is not a domain name"),
        ('sites = ["example.com", "example.co.uk"]', "sites = []",
         "owner.sites: must be a non-empty list of registrable domains"),
        ('id = "cookies"', 'id = "Cookies Policy"', "must be lower-case words joined by hyphens"),
        ('url = "https://example.com/privacy"', 'url = "example.com/privacy"',
         "source.url: 'example.com/privacy' is not an http(s) URL"),
        ("format = 1", "format = 2", "format: must be 1, not 2"),
        ("format = 1\n", "", "format: missing"),
        ('[[clauses.choices]]\nlabel = "Browser settings"', '[[clauses.choices]]\nurl = "https://x.example/"',
         "clauses[0] (cookies).choices[0].label: missing"),
        ('kinds = ["cookie"]\non_owner_site = true', "", "an empty rule would cover every entry"),
        ('url = "https://example.com/privacy"',
         'url = "https://example.com/privacy"\narchived = "June 2016"',
         "source.archived: must be a date (2016-06-06), not 'June 2016'"),
    ],
)
def test_invalid_files(tmp_path, old, new, message):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    assert any(message in p for p in caught.value.problems), caught.value.problems
    assert len(caught.value.problems) == 1, caught.value.problems
    assert str(tmp_path / "policy.toml") in str(caught.value)


def test_duplicate_clause_ids(tmp_path):
    clause = GOOD[GOOD.index("[[clauses]]"):]
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, GOOD + "\n" + clause))
    assert caught.value.problems == ("clauses[1].id: duplicate clause id 'cookies'",)


def test_every_problem_is_reported(tmp_path):
    text = GOOD.replace('"cookie"]', '"cookies", "flash"]').replace(
        'name = "Example"', 'name = "Example"\nextra = 1')
    with pytest.raises(PolicyError) as caught:
        load_policy(write(tmp_path, text))
    assert len(caught.value.problems) == 3, caught.value.problems


def test_not_toml_and_missing_file(tmp_path):
    with pytest.raises(PolicyError, match="not valid TOML"):
        load_policy(write(tmp_path, "owner = [\n"))
    with pytest.raises(PolicyError, match="cannot read the file"):
        load_policy(tmp_path / "absent.toml")
