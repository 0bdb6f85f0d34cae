"""Run-time imports of user-supplied tracker lists (privacy_inspector.core.imports)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import stat
from pathlib import Path

import pytest
import sqlite_utils

from privacy_inspector import bundled
from privacy_inspector.core import imports
from privacy_inspector.core.imports import (
    CATEGORIES,
    DISCONNECT_MAP,
    DUCKDUCKGO_MAP,
    GHOSTERY_MAP,
    OCD_MAP,
    ImportedKnowledge,
    ListImportError,
    import_file,
    sources,
)

LISTS = Path(__file__).resolve().parents[1] / "fixtures" / "lists"
GHOSTERY = LISTS / "trackerdb.json"
DISCONNECT = LISTS / "disconnect" / "services.json"
DISCONNECT_ENTITIES = LISTS / "disconnect" / "entities.json"
DDG = LISTS / "tds.json"
OCD = LISTS / "open-cookie-database.csv"
EASYPRIVACY = LISTS / "easyprivacy.txt"

ALL = [(GHOSTERY, "ghostery"), (DISCONNECT, "disconnect"), (DDG, "duckduckgo"),
       (OCD, "ocd"), (EASYPRIVACY, "filter-list")]


def _import_all(data_dir: Path) -> None:
    for path, fmt in ALL:
        import_file(path, fmt, data_dir)


def _counts(data_dir: Path) -> dict[str, int]:
    with sqlite_utils.Database(data_dir / "knowledge.db") as db:
        return {t: db[t].count for t in ("sources", "domains", "owners", "cookies")}


# --- each format ------------------------------------------------------------------------

def test_ghostery_import_and_lookup(data_dir):
    summary = import_file(GHOSTERY, "ghostery", data_dir)
    assert (summary.source, summary.format, summary.domains, summary.skipped) == (
        "ghostery-trackerdb", "ghostery", 10, 0)
    assert summary.licence == "CC BY-NC-SA 4.0"
    k = ImportedKnowledge.load(data_dir)
    hit = k.lookup_domain("www.google-analytics.com")
    assert (hit.service, hit.organization, hit.category, hit.source_category) == (
        "Google Analytics", "Google", "analytics", "site_analytics")
    assert hit.source == "ghostery-trackerdb" and hit.source_file == str(GHOSTERY)
    assert hit.tracker
    assert k.lookup_domain("i.ytimg.com").category == "embedded_content"
    assert k.lookup_domain("cdn.cookielaw.org").category == "consent"
    assert k.lookup_domain("widget.intercom.io").category == "customer_interaction"
    widget = k.lookup_domain("widget.example")
    assert (widget.category, widget.organization, widget.tracker) == ("unknown", None, False)
    # dot boundary only
    assert k.lookup_domain("notdoubleclick.net") is None
    assert k.lookup_domain("doubleclick.net.evil.example") is None
    assert k.lookup_domain("not a host") is None


def test_ghostery_without_top_level_domains_uses_the_patterns(data_dir, tmp_path):
    doc = json.loads(GHOSTERY.read_text())
    del doc["domains"]
    path = tmp_path / "trackerdb.json"
    path.write_text(json.dumps(doc))
    assert import_file(path, "ghostery", data_dir).domains == 10
    assert ImportedKnowledge.load(data_dir).lookup_domain("2mdn.net").service == "DoubleClick"


def test_disconnect_import_reads_entities_beside_it(data_dir):
    summary = import_file(DISCONNECT, "disconnect", data_dir)
    assert summary.domains == 11 and summary.owners > 0
    k = ImportedKnowledge.load(data_dir)
    ga = k.lookup_domain("ssl.google-analytics.com")
    # listed under Analytics, Email and FingerprintingGeneral: analytics wins
    assert ga.category == "analytics"
    assert ga.source_category == "Analytics, Email, FingerprintingGeneral"
    assert ga.organization == "Google" and ga.source == "disconnect"
    # the session-replay flag makes Hotjar "optimization"
    hotjar = k.lookup_domain("static.hotjar.com")
    assert hotjar.category == "optimization" and "session-replay" in hotjar.source_category
    assert k.lookup_domain("connect.facebook.net").category == "social_media"
    assert k.lookup_domain("mktoresp.com").category == "marketing_automation"
    assert k.lookup_domain("f.vimeocdn.com").category == "embedded_content"
    assert k.lookup_domain("cookielaw.org").category == "consent"
    assert k.lookup_domain("track.adform.net").category == "advertising"
    # entities.json: the same-owner map, not tracker rows
    assert k.lookup_owner("www.instagram.com").organization == "Facebook"
    assert k.lookup_domain("instagram.com") is None
    assert k.lookup_owner("marketo.net").source == "disconnect"


def test_disconnect_entities_given_explicitly(data_dir, tmp_path):
    services = tmp_path / "svc.json"
    shutil.copy(DISCONNECT, services)
    assert import_file(services, "disconnect", data_dir).owners == 0
    summary = import_file(services, "disconnect", data_dir, entities=DISCONNECT_ENTITIES)
    assert summary.owners > 0
    assert ImportedKnowledge.load(data_dir).lookup_owner("youtube.com").organization == "Google"


def test_disconnect_flat_entities_format(data_dir, tmp_path):
    # older entities.json: {Org: {properties, resources}} without a wrapper
    flat = json.loads(DISCONNECT_ENTITIES.read_text())["entities"]
    (tmp_path / "entities.json").write_text(json.dumps(flat))
    shutil.copy(DISCONNECT, tmp_path / "services.json")
    assert import_file(tmp_path / "services.json", "disconnect", data_dir).owners > 0


def test_duckduckgo_import_and_lookup(data_dir):
    summary = import_file(DDG, "duckduckgo", data_dir)
    assert (summary.source, summary.domains, summary.owners) == ("duckduckgo-tds", 6, 5)
    k = ImportedKnowledge.load(data_dir)
    ga = k.lookup_domain("www.google-analytics.com")
    assert (ga.service, ga.organization, ga.category) == ("Google", "Google LLC", "analytics")
    assert ga.source_category == "Analytics, Audience Measurement, Third-Party Analytics Marketing"
    assert k.lookup_domain("stats.g.doubleclick.net").category == "advertising"
    assert k.lookup_domain("hotjar.com").category == "optimization"
    assert k.lookup_domain("js.hubspot.com").category == "marketing_automation"
    assert k.lookup_domain("connect.facebook.net").category == "social_media"
    cdn = k.lookup_domain("cdn.example-cdn.net")
    assert (cdn.category, cdn.tracker) == ("embedded_content", False)   # default "ignore"
    assert k.lookup_domain("example-cdn.net") is None
    assert k.lookup_owner("mail.google.com").organization == "Google LLC"


def test_ocd_import_and_cookie_matching(data_dir):
    summary = import_file(OCD, "ocd", data_dir)
    assert (summary.source, summary.cookies, summary.domains) == ("open-cookie-database", 10, 0)
    assert summary.licence == "Apache-2.0"
    k = ImportedKnowledge.load(data_dir)
    ga = k.match_cookie("_ga", "www.shop.example")
    assert (ga.name, ga.match, ga.category, ga.organization, ga.platform) == (
        "_ga", "exact", "analytics", "Google", "Google Analytics")
    assert ga.source == "open-cookie-database" and ga.purpose.startswith("Stores a client ID")
    assert ga.domains == ()                      # first party allowed: any site
    ga4 = k.match_cookie("_ga_ABC123", "shop.example")
    assert (ga4.name, ga4.match) == ("_ga_", "prefix")
    assert k.match_cookie("_gac_UA-1", "shop.example").category == "advertising"
    # Functional + consent wording -> consent; "[x2]" annotation dropped
    assert k.match_cookie("CookieConsent", "shop.example").category == "consent"
    assert k.match_cookie("__cf_bm", "shop.example").category == "essential"
    assert k.match_cookie("wp-settings-time-1", "blog.example").category == "preferences"
    # third-party only rows need their domain
    assert k.match_cookie("uid", "shop.example") is None
    uid = k.match_cookie("uid", "track.adform.net")
    assert uid.domains == ("adform.net",) and uid.category == "advertising"
    # "SR<RotatorID>" is a prefix, short, so only on adform.net
    assert k.match_cookie("SR12345", "track.adform.net").name == "SR"
    assert k.match_cookie("SR12345", "shop.example") is None
    # a 2-character wildcard with no domain never matches on its own
    assert k.match_cookie("_session", "shop.example") is None
    assert k.match_cookie("_gaX", "shop.example") is None
    assert k.match_cookie("nothing", "shop.example") is None


def test_exact_before_prefix_and_longest_prefix(data_dir):
    import_file(OCD, "ocd", data_dir)
    k = ImportedKnowledge.load(data_dir)
    # "_ga_" (exact row "_ga" must not catch "_ga_x"; the prefix row does)
    assert [c.name for c in k.match_cookie_all("_ga_x", "a.example")] == ["_ga_"]
    assert [c.match for c in k.match_cookie_all("_ga", "a.example")] == ["exact"]


def test_filter_list_domain_rules_only(data_dir):
    summary = import_file(EASYPRIVACY, "filter-list", data_dir)
    assert summary.source == "filter-list:EasyPrivacy"
    assert summary.domains == 5 and summary.skipped == 6
    assert summary.licence == "https://easylist.to/pages/licence.html"
    k = ImportedKnowledge.load(data_dir)
    hit = k.lookup_domain("www.google-analytics.com")
    assert (hit.category, hit.source_category, hit.tracker, hit.organization) == (
        "unknown", None, True, None)
    assert k.lookup_domain("stats.example.org") is not None
    assert k.lookup_domain("cdn.stats.example.org") is not None
    # path rules, exceptions, cosmetic filters and $domain= rules are not domain facts
    for host in ("example-shop.com", "static.example-tracker.com", "adservice.example.com"):
        assert k.lookup_domain(host) is None, host
    assert k.lookup_domain("metrics.example-tracker.com") is not None


def test_filter_list_without_title_uses_the_file_name(data_dir, tmp_path):
    path = tmp_path / "my-list.txt"
    path.write_text("||tracker.example^\n")
    assert import_file(path, "filter-list", data_dir).source == "filter-list:my-list"


# --- sources, precedence, re-import -----------------------------------------------------

def test_sources_list_what_was_imported(data_dir):
    assert sources(data_dir) == []
    _import_all(data_dir)
    listed = {s.source: s for s in sources(data_dir)}
    assert set(listed) == {"ghostery-trackerdb", "disconnect", "duckduckgo-tds",
                           "open-cookie-database", "filter-list:EasyPrivacy"}
    ocd = listed["open-cookie-database"]
    assert (ocd.format, ocd.file, ocd.cookies, ocd.count) == ("ocd", str(OCD), 10, 10)
    assert ocd.imported_at.endswith("Z")
    assert listed["ghostery-trackerdb"].count == 10


def test_lookup_prefers_known_categories_and_keeps_every_source(data_dir):
    _import_all(data_dir)
    k = ImportedKnowledge.load(data_dir)
    found = k.lookup_domain_all("www.google-analytics.com")
    assert [d.source for d in found] == [
        "ghostery-trackerdb", "duckduckgo-tds", "disconnect", "filter-list:EasyPrivacy"]
    assert k.lookup_domain("www.google-analytics.com").source == "ghostery-trackerdb"
    # the most specific listed domain wins over source order
    assert k.lookup_domain("cdn.example-cdn.net").source == "duckduckgo-tds"


def test_reimport_replaces_only_that_source(data_dir, tmp_path):
    _import_all(data_dir)
    doc = json.loads(GHOSTERY.read_text())
    doc["domains"] = {"hotjar.com": "hotjar"}
    smaller = tmp_path / "trackerdb.json"
    smaller.write_text(json.dumps(doc))
    assert import_file(smaller, "ghostery", data_dir).domains == 1
    k = ImportedKnowledge.load(data_dir)
    assert [d.source for d in k.lookup_domain_all("intercom.io")] == []
    assert k.lookup_domain("hotjar.com").source_file == str(smaller)
    # other sources untouched
    assert {d.source for d in k.lookup_domain_all("google-analytics.com")} == {
        "duckduckgo-tds", "disconnect", "filter-list:EasyPrivacy"}
    assert k.match_cookie("_ga", "x.example") is not None
    assert {s.source: s.domains for s in sources(data_dir)}["ghostery-trackerdb"] == 1


def test_reimport_same_file_is_idempotent(data_dir):
    import_file(OCD, "ocd", data_dir)
    before = _counts(data_dir)
    import_file(OCD, "ocd", data_dir)
    assert _counts(data_dir) == before


def test_failed_write_rolls_back(data_dir, monkeypatch):
    import_file(DDG, "duckduckgo", data_dir)
    before = _counts(data_dir)
    real = sqlite_utils.db.Table.insert_all
    calls = []

    def failing(self, *args, **kwargs):
        calls.append(self.name)
        if self.name == "owners":
            raise sqlite3.IntegrityError("simulated failure")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(sqlite_utils.db.Table, "insert_all", failing)
    with pytest.raises(ListImportError, match="simulated failure"):
        import_file(DDG, "duckduckgo", data_dir)
    monkeypatch.undo()
    assert calls[:2] == ["domains", "owners"]
    assert _counts(data_dir) == before
    assert ImportedKnowledge.load(data_dir).lookup_domain("hotjar.com") is not None


# --- category mappings ------------------------------------------------------------------

@pytest.mark.parametrize("mapping", [GHOSTERY_MAP, DISCONNECT_MAP, DUCKDUCKGO_MAP, OCD_MAP])
def test_mappings_use_the_contract_taxonomy(mapping):
    assert set(mapping.values()) <= set(CATEGORIES)


def test_every_published_category_is_mapped():
    ghostery = {"advertising", "audio_video_player", "consent", "customer_interaction",
                "extensions", "hosting", "misc", "pornvertising", "site_analytics",
                "social_media", "utilities"}
    disconnect = {"Advertising", "Analytics", "Social", "Content", "Email", "EmailAggressive",
                  "FingerprintingInvasive", "FingerprintingGeneral", "Anti-fraud",
                  "ConsentManagers", "Cryptomining"}
    ddg = {"Action Pixels", "Ad Fraud", "Ad Motivated Tracking", "Advertising", "Analytics",
           "Audience Measurement", "Badge", "CDN", "Embedded Content", "Federated Login",
           "Malware", "Non-tracking", "Online Payment", "Obscure Ownership", "SSO",
           "Session Replay", "Social Network", "Social - Comment", "Social - Share",
           "Tag Manager", "Third-Party Analytics Marketing", "Unknown High Risk Behavior"}
    ocd = {"Functional", "Personalization", "Analytics", "Marketing", "Security"}
    assert ghostery <= set(GHOSTERY_MAP)
    assert disconnect <= set(DISCONNECT_MAP)
    assert ddg <= set(DUCKDUCKGO_MAP)
    assert ocd <= set(OCD_MAP)
    assert GHOSTERY_MAP["site_analytics"] == "analytics"
    assert GHOSTERY_MAP["pornvertising"] == "advertising"
    assert DISCONNECT_MAP["Email"] == "marketing_automation"
    assert DUCKDUCKGO_MAP["Session Replay"] == "optimization"
    assert OCD_MAP["Personalization"] == "preferences"


# --- bad files ---------------------------------------------------------------------------

def _bad(tmp_path: Path, name: str, content: str | bytes) -> Path:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


@pytest.mark.parametrize("fmt, name, content, message", [
    ("ghostery", "t.json", "not json at all", "is not JSON"),
    ("ghostery", "t.json", "", "is empty"),
    ("ghostery", "t.json", "[1, 2]", "the top level should be an object"),
    ("ghostery", "t.json", '{"trackers": {}}', "is not a Ghostery trackerdb.json"),
    ("ghostery", "t.json", '{"patterns": [], "organizations": {}}', "'patterns' should be an object"),
    ("ghostery", "t.json", '{"patterns": {"x": {"name": "X"}}, "organizations": {}}',
     "pattern 'x' field 'category' should be a string"),
    ("ghostery", "t.json", '{"patterns": {}, "organizations": {}, "domains": {}}',
     "lists no tracker domains"),
    ("disconnect", "s.json", "{", "is not JSON"),
    ("disconnect", "s.json", '{"license": "x"}', "is not a Disconnect services.json"),
    ("disconnect", "s.json", '{"entities": {"A": {"properties": [], "resources": []}}}',
     "is Disconnect's entities.json"),
    ("disconnect", "s.json", '{"categories": {"Advertising": {"A": 1}}}',
     "category 'Advertising' should be an array"),
    ("duckduckgo", "tds.json", '{"domains": {}}', "is not a DuckDuckGo tracker blocklist"),
    ("duckduckgo", "tds.json", '{"trackers": []}', "'trackers' should be an object"),
    ("duckduckgo", "tds.json", '{"trackers": {"a.com": {"owner": "x"}}}',
     "tracker 'a.com' field 'owner' should be an object"),
    ("ocd", "o.csv", "", "is empty"),
    ("ocd", "o.csv", "ID,Platform,Category\n1,GA,Analytics\n", "missing columns"),
    ("ocd", "o.csv", "ID,Platform,Category,Cookie / Data Key name,Domain,Description,"
                     "Retention period,Data Controller,User Privacy & GDPR Rights Portals,"
                     "Wildcard match\n", "no cookie rows"),
    ("ocd", "o.csv", b"\xff\xfe\x00bad", "is not UTF-8 text"),
    ("filter-list", "f.txt", '{"trackers": {}}', "no domain rules"),
    ("filter-list", "f.txt", "! Title: Empty\n", "no filter rules"),
    ("filter-list", "f.txt", "##.banner\n@@||ok.example^\n", "no domain rules"),
])
def test_bad_files_raise_one_clear_line(data_dir, tmp_path, fmt, name, content, message):
    path = _bad(tmp_path, name, content)
    with pytest.raises(ListImportError) as info:
        import_file(path, fmt, data_dir)
    text = str(info.value)
    assert message in text
    assert text.startswith(str(path)) and "\n" not in text
    assert not (data_dir / "knowledge.db").exists()      # nothing written


def test_wrong_format_for_a_real_file(data_dir):
    with pytest.raises(ListImportError, match="not a Ghostery trackerdb.json"):
        import_file(DDG, "ghostery", data_dir)
    with pytest.raises(ListImportError, match="missing columns"):
        import_file(GHOSTERY, "ocd", data_dir)
    with pytest.raises(ListImportError, match="entities.json"):
        import_file(DISCONNECT_ENTITIES, "disconnect", data_dir)


def test_missing_file_and_unknown_format(data_dir, tmp_path):
    with pytest.raises(ListImportError, match="no such file"):
        import_file(tmp_path / "nope.json", "ghostery", data_dir)
    with pytest.raises(ListImportError, match="unknown format 'adblock'"):
        import_file(EASYPRIVACY, "adblock", data_dir)
    with pytest.raises(ListImportError, match="only with --format disconnect"):
        import_file(DDG, "duckduckgo", data_dir, entities=DISCONNECT_ENTITIES)


def test_bad_reimport_keeps_the_previous_rows(data_dir, tmp_path):
    _import_all(data_dir)
    before = _counts(data_dir)
    bad = _bad(tmp_path, "trackerdb.json", '{"patterns": {"x": 1}, "organizations": {}}')
    with pytest.raises(ListImportError):
        import_file(bad, "ghostery", data_dir)
    assert _counts(data_dir) == before
    assert ImportedKnowledge.load(data_dir).lookup_domain("intercom.io").source == "ghostery-trackerdb"


# --- the database ------------------------------------------------------------------------

def test_database_is_private(data_dir):
    import_file(OCD, "ocd", data_dir)
    assert stat.S_IMODE(os.stat(data_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(data_dir / "knowledge.db").st_mode) == 0o600
    os.chmod(data_dir / "knowledge.db", 0o644)
    import_file(EASYPRIVACY, "filter-list", data_dir)
    assert stat.S_IMODE(os.stat(data_dir / "knowledge.db").st_mode) == 0o600
    for extra in data_dir.iterdir():
        assert stat.S_IMODE(os.stat(extra).st_mode) & 0o077 == 0, extra


def test_missing_database_is_empty_knowledge(data_dir):
    k = ImportedKnowledge.load(data_dir)
    assert k.lookup_domain("google-analytics.com") is None
    assert k.match_cookie("_ga", "x.example") is None
    assert k.sources == ()
    assert not data_dir.exists()                # loading creates nothing


def test_unreadable_database_is_an_error(data_dir):
    data_dir.mkdir()
    (data_dir / "knowledge.db").write_bytes(b"this is not an SQLite database" * 100)
    with pytest.raises(ListImportError, match="knowledge.db: the imported-knowledge database is unreadable"):
        ImportedKnowledge.load(data_dir)
    with pytest.raises(ListImportError, match="unreadable"):
        sources(data_dir)
    with pytest.raises(ListImportError, match="unreadable"):
        import_file(OCD, "ocd", data_dir)


def test_database_without_tables_is_empty_but_a_foreign_one_is_an_error(data_dir):
    data_dir.mkdir()
    sqlite3.connect(data_dir / "knowledge.db").close()   # an empty file: a database, no tables
    assert ImportedKnowledge.load(data_dir).sources == ()
    assert sources(data_dir) == []
    with sqlite_utils.Database(data_dir / "knowledge.db") as db:
        db["something_else"].insert({"a": 1})
    with pytest.raises(ListImportError, match="unreadable .*no such table"):
        ImportedKnowledge.load(data_dir)


# --- licences: nothing imported ever goes into resources/ ---------------------------------

def _tree_digest(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file() and "__pycache__" not in p.parts}


def test_imports_never_touch_the_bundled_resources(data_dir):
    resources = Path(str(bundled.root()))
    before = _tree_digest(resources)
    _import_all(data_dir)
    ImportedKnowledge.load(data_dir)
    assert _tree_digest(resources) == before
    # no bundled file mentions an NC-licensed fixture's own test-only domain
    for rel in before:
        text = (resources / rel).read_bytes()
        assert b"example-cdn.net" not in text and b"example-tracker.com" not in text, rel


@pytest.mark.parametrize("sub", [".", "knowledge", "state"])
def test_refuses_a_data_dir_inside_the_resources(sub):
    resources = Path(str(bundled.root()))
    target = resources / sub
    existed = target.exists()
    before = _tree_digest(resources)
    with pytest.raises(ListImportError, match="bundled resources"):
        import_file(GHOSTERY, "ghostery", target)
    assert _tree_digest(resources) == before
    assert target.exists() == existed


def test_module_names_its_formats():
    assert imports.FORMATS == ("ghostery", "disconnect", "duckduckgo", "ocd", "filter-list")


def test_data_dir_that_is_a_file_is_a_clear_error(tmp_path):
    blocker = tmp_path / "state"
    blocker.write_text("a file, not a folder")
    with pytest.raises(ListImportError, match="cannot open the imported-knowledge database"):
        import_file(OCD, "ocd", blocker)
