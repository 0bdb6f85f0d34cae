"""The bundled tracker knowledge base: format, content, lookups, and its converter."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from privacy_inspector import bundled
from privacy_inspector.core import knowledge as kb

ROOT = Path(__file__).resolve().parents[2]
CONTRACT_CATEGORIES = {
    "essential", "consent", "preferences", "analytics", "optimization",
    "marketing_automation", "advertising", "social_media", "customer_interaction",
    "embedded_content", "unknown",
}


def _converter():
    path = ROOT / "packaging" / "knowledge" / "import_whotracksme.py"
    spec = importlib.util.spec_from_file_location("import_whotracksme", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


conv = _converter()


@pytest.fixture(scope="module")
def k() -> kb.Knowledge:
    return kb.load_knowledge()


# --- the shipped files ---------------------------------------------------------------

def test_shipped_files_validate_against_schema():
    schema = json.loads(bundled.path("knowledge", "schema.json").read_text("utf-8"))
    assert set(schema["files"]) == set(kb.FILES)
    for name in kb.FILES:
        doc = json.loads(bundled.path("knowledge", name).read_text("utf-8"))
        kb.validate(doc, schema["files"][name], name)
        assert doc["format_version"] == kb.FORMAT_VERSION == conv.FORMAT_VERSION
        assert doc["data_version"] == conv.DATA_VERSION


def test_schema_category_enum_is_the_contract_taxonomy():
    schema = json.loads(bundled.path("knowledge", "schema.json").read_text("utf-8"))
    props = schema["files"]["services.json"]["properties"]["services"]["items"]["properties"]
    assert set(props["category"]["enum"]) == CONTRACT_CATEGORIES == set(conv.CATEGORIES)


def test_validator_rejects_bad_documents():
    schema = json.loads(bundled.path("knowledge", "schema.json").read_text("utf-8"))
    good = json.loads(bundled.path("knowledge", "services.json").read_text("utf-8"))
    bad = dict(good, services=[dict(good["services"][0], category="tracking")])
    with pytest.raises(kb.KnowledgeError, match="category"):
        kb.validate(bad, schema["files"]["services.json"], "services.json")
    bad = dict(good, extra=1)
    with pytest.raises(kb.KnowledgeError, match="unexpected key"):
        kb.validate(bad, schema["files"]["services.json"], "services.json")
    bad = {k: v for k, v in good.items() if k != "data_version"}
    with pytest.raises(kb.KnowledgeError, match="missing"):
        kb.validate(bad, schema["files"]["services.json"], "services.json")
    domains = {"format_version": 1, "data_version": "x", "source": "curated",
               "domains": {"Bad..Domain": "s"}}
    with pytest.raises(kb.KnowledgeError, match="does not match"):
        kb.validate(domains, schema["files"]["domains.json"], "domains.json")


def test_shipped_files_are_in_the_converters_stable_form():
    # Sorted and formatted exactly as the converter writes them, so a re-run diffs cleanly.
    total = 0
    for name in kb.FILES:
        raw = bundled.path("knowledge", name).read_bytes()
        total += len(raw)
        assert conv.dumps(json.loads(raw)).encode("utf-8") == raw, name
        doc = json.loads(raw)
        body = doc[name.removesuffix(".json")]
        keys = list(body) if isinstance(body, dict) else [r["id"] for r in body]
        assert keys == sorted(keys), name
    assert total < 1_500_000


def test_counts(k):
    assert len(k.domains) >= 400
    assert len(k.organizations) >= 120
    assert len({s.organization.id for s in k.domains.values()}) >= 120


def test_no_duplicates_and_references_resolve():
    docs = kb.load_documents()
    org_ids = [o["id"] for o in docs["organizations.json"]["organizations"]]
    assert len(org_ids) == len(set(org_ids))
    service_ids = [s["id"] for s in docs["services.json"]["services"]]
    assert len(service_ids) == len(set(service_ids))
    for s in docs["services.json"]["services"]:
        assert s["organization"] in set(org_ids), s
        assert s["category"] in CONTRACT_CATEGORIES, s
    raw = bundled.path("knowledge", "domains.json").read_text("utf-8")
    pairs = json.loads(raw, object_pairs_hook=lambda p: p)
    domains = [d for d, _ in dict(pairs)["domains"]]
    assert len(domains) == len(set(domains))
    assert all(d == d.lower().strip(".") for d in domains)
    assert set(dict(dict(pairs)["domains"]).values()) <= set(service_ids)


def test_every_fact_has_a_known_source(k):
    sources = {"whotracksme-2018", "curated"}
    for o in k.organizations.values():
        assert o.source in sources
    for s in k.services.values():
        assert {s.source, s.organization_source, s.category_source} <= sources


def test_sources_file_attributes_whotracksme():
    text = bundled.path("knowledge", "SOURCES.md").read_text("utf-8")
    assert ("Contains information from WhoTracks.me (Cliqz/Ghostery), 2018 tracker database,\n"
            "CC BY 4.0") in text
    assert "https://creativecommons.org/licenses/by/4.0/" in text


# --- spot checks -----------------------------------------------------------------------

@pytest.mark.parametrize(("host", "organization", "service", "categories"), [
    ("doubleclick.net", "Google", "DoubleClick", {"advertising"}),
    ("stats.g.doubleclick.net", "Google", "DoubleClick", {"advertising"}),
    ("google-analytics.com", "Google", "Google Analytics", {"analytics"}),
    ("www.google-analytics.com", "Google", "Google Analytics", {"analytics"}),
    ("facebook.com", "Meta", "Facebook", {"social_media"}),
    ("connect.facebook.net", "Meta", "Facebook", {"social_media"}),
    ("marketo.net", "Adobe", "Marketo", {"marketing_automation"}),
    ("munchkin.marketo.net", "Adobe", "Marketo", {"marketing_automation"}),
    ("pardot.com", "Salesforce", "Pardot", {"marketing_automation"}),
    ("eloqua.com", "Oracle", "Eloqua", {"marketing_automation"}),
    ("hs-analytics.net", "HubSpot", "HubSpot", {"marketing_automation"}),
    ("addthis.com", "Oracle", "AddThis", {"advertising"}),
    ("truste.com", "TrustArc", "TrustArc", {"consent"}),
    ("consent.truste.com", "TrustArc", "Truste Consent", {"consent"}),
    # Hotjar: heatmaps and session recordings, the contract's "optimization".
    ("hotjar.com", "Contentsquare", "Hotjar", {"optimization"}),
    ("optimizely.com", "Optimizely", "Optimizely", {"optimization"}),
    ("visualwebsiteoptimizer.com", "Wingify", "Visual Website Optimizer", {"optimization"}),
    ("linkedin.com", "Microsoft", "LinkedIn", {"social_media"}),
    ("bat.bing.com", "Microsoft", "Bing Ads", {"advertising"}),
])
def test_spot_checks(k, host, organization, service, categories):
    found = k.lookup_domain(host)
    assert found is not None, host
    assert (found.organization.name, found.name) == (organization, service)
    assert found.category in categories


# Vendors missing from the 2018 database (CURATED_SERVICES, CURATED_DOMAINS) and owners today.
@pytest.mark.parametrize(("host", "organization", "service", "category"), [
    ("cdn.cookielaw.org", "OneTrust", "OneTrust", "consent"),
    ("geolocation.onetrust.com", "OneTrust", "OneTrust", "consent"),
    ("consent.cookiebot.com", "Usercentrics", "Cookiebot", "consent"),
    ("example.matomo.cloud", "InnoCraft", "Matomo", "analytics"),
    ("www.clarity.ms", "Microsoft", "Microsoft Clarity", "optimization"),
    ("js.driftt.com", "Salesloft", "Drift", "customer_interaction"),
    ("drift.com", "Salesloft", "Drift", "customer_interaction"),
    ("analytics.tiktok.com", "ByteDance", "TikTok", "advertising"),
    ("sc-static.net", "Snap", "Snap Pixel", "advertising"),
    ("tr.snapchat.com", "Snap", "Snap Pixel", "advertising"),
    ("acme.tt.omtrdc.net", "Adobe", "Adobe Target", "optimization"),
    ("acme.sc.omtrdc.net", "Adobe", "Omniture (Adobe Analytics)", "analytics"),
    ("edge.adobedc.net", "Adobe", "Adobe Experience Platform Web SDK", "analytics"),
    ("contentsquare.net", "Contentsquare", "ContentSquare", "optimization"),
    ("heapanalytics.com", "Contentsquare", "Heap", "analytics"),
    ("player.vimeo.com", "Bending Spoons", "Vimeo", "embedded_content"),
    ("outbrain.com", "Teads", "Outbrain", "advertising"),
    ("fullstory.com", "fullstory", "FullStory", "optimization"),  # the 2018 company name
    ("liveperson.net", "LivePerson", "LivePerson", "customer_interaction"),
    ("lpsnmedia.net", "LivePerson", "LivePerson", "customer_interaction"),
    ("salesforceliveagent.com", "Salesforce", "Salesforce Live Agent", "customer_interaction"),
])
def test_curated_vendor_spot_checks(k, host, organization, service, category):
    found = k.lookup_domain(host)
    assert found is not None, host
    assert (found.organization.name, found.name, found.category) == (organization, service, category)


def test_curated_services_are_marked_curated(k):
    for sid in conv.CURATED_SERVICES:
        s = k.services[sid]
        assert s.source == s.organization_source == s.category_source == "curated", sid
    for domain, sid in conv.CURATED_DOMAINS.items():
        assert k.lookup_domain(domain).id == sid, domain


def test_curated_additions_only_with_the_flag(tiny):
    # The tiny dump converts without additions; with them, the curated vendors appear.
    assert "onetrust" not in {s["id"] for s in tiny["services"]["services"]}
    docs = conv.convert(conv.load_dump(TINY_DUMP), additions=True)
    services = {s["id"]: s for s in docs["services"]["services"]}
    assert services["onetrust"]["organization"] == "onetrust"
    assert docs["domains"]["domains"]["cookielaw.org"] == "onetrust"
    assert list(docs["domains"]["domains"]) == sorted(docs["domains"]["domains"])


def test_curated_facts_are_marked_curated(k):
    marketo = k.lookup_domain("marketo.net")
    assert marketo.organization_source == "curated" and marketo.category_source == "curated"
    assert marketo.source_category == "advertising"
    ga = k.lookup_domain("google-analytics.com")
    assert ga.organization_source == "whotracksme-2018" == ga.category_source


# --- adversarial lookups (BleachBit-style table) --------------------------------------

@pytest.mark.parametrize(("host", "expected"), [
    ("doubleclick.net", "doubleclick"),                  # exact
    ("ad.doubleclick.net", "doubleclick"),               # subdomain
    ("a.b.c.stats.g.doubleclick.net", "doubleclick"),    # deep subdomain
    ("notdoubleclick.net", None),                        # substring, no dot boundary
    ("doubleclick.network", None),                       # prefix of a longer label
    ("doubleclick.net.evil.com", None),                  # suffix attack
    ("evil.com/.doubleclick.net", None),                 # not a host name
    ("evil.com@doubleclick.net", None),                  # not a host name
    (".doubleclick.net", "doubleclick"),                 # cookie host key, leading dot
    ("DoubleClick.NET", "doubleclick"),                  # upper case
    ("doubleclick.net.", "doubleclick"),                 # FQDN, trailing dot
    (".AD.DOUBLECLICK.NET.", "doubleclick"),             # all of the above
    ("ad..doubleclick.net", None),                       # empty label
    ("..doubleclick.net", None),
    ("net", None),                                       # public suffix alone
    ("", None),
    (".", None),
    ("liveops.com", None),                               # the policy owner: unknown here
    ("consent.truste.com", "truste_consent"),            # most specific wins ...
    ("www.truste.com", "trustarc"),                      # ... over the parent
])
def test_lookup_table(k, host, expected):
    found = k.lookup_domain(host)
    assert (found.id if found else None) == expected


def test_module_lookup_uses_the_bundled_knowledge():
    assert kb.lookup_domain("doubleclick.net") is kb.load_knowledge().domains["doubleclick.net"]
    assert kb.load_knowledge() is kb.load_knowledge()


def test_records_are_frozen(k):
    service = k.lookup_domain("doubleclick.net")
    with pytest.raises(AttributeError):
        service.category = "essential"
    with pytest.raises(TypeError):
        k.domains["evil.com"] = service


# --- the converter's pure functions, on a tiny dump in the whotracksme schema ------------

TINY_DUMP = """
BEGIN TRANSACTION;
CREATE TABLE categories(id INTEGER PRIMARY KEY, name TEXT UNIQUE);
INSERT INTO "categories" VALUES(0,'advertising');
INSERT INTO "categories" VALUES(1,'site_analytics');
INSERT INTO "categories" VALUES(2,'essential');
INSERT INTO "categories" VALUES(3,'comments');
INSERT INTO "categories" VALUES(4,'cdn');
CREATE TABLE "companies" (`id` TEXT NOT NULL UNIQUE, `name` TEXT NOT NULL,
  `description` TEXT, `privacy_url` TEXT, `website_url` TEXT, `ghostery_id` TEXT);
INSERT INTO "companies" VALUES('google','Google',NULL,'https://www.google.com/privacy','https://www.google.com/','1');
INSERT INTO "companies" VALUES('marketo','Marketo',NULL,'http://legal.marketo.com/privacy',' http://www.marketo.com/','2');
INSERT INTO "companies" VALUES('trustarc','TrustArc',NULL,'','www.trustarc.com','3');
INSERT INTO "companies" VALUES('disqus','Disqus',NULL,NULL,NULL,'4');
CREATE TABLE "trackers" (`id` TEXT NOT NULL UNIQUE, `name` TEXT NOT NULL, `category_id` INTEGER,
  `website_url` TEXT, `company_id` TEXT, `ghostery_id` TEXT, `notes` TEXT);
INSERT INTO "trackers" VALUES('doubleclick','DoubleClick',0,'http://www.doubleclick.net/','google',NULL,NULL);
INSERT INTO "trackers" VALUES('google_analytics','Google Analytics',1,NULL,'google',NULL,NULL);
INSERT INTO "trackers" VALUES('marketo','Marketo',0,NULL,'marketo',NULL,NULL);
INSERT INTO "trackers" VALUES('truste_consent','Truste Consent',2,NULL,'trustarc',NULL,NULL);
INSERT INTO "trackers" VALUES('disqus','Disqus',3,NULL,'disqus',NULL,NULL);
INSERT INTO "trackers" VALUES('nocompany_cdn','NoCompany CDN',4,'https://nocompany.example/',NULL,NULL,NULL);
INSERT INTO "trackers" VALUES('nocat','No Category',NULL,NULL,NULL,NULL,NULL);
CREATE TABLE tracker_domains(tracker TEXT NOT NULL, domain TEXT UNIQUE NOT NULL);
INSERT INTO "tracker_domains" VALUES('doubleclick','DoubleClick.net');
INSERT INTO "tracker_domains" VALUES('doubleclick','2mdn.net');
INSERT INTO "tracker_domains" VALUES('google_analytics','google-analytics.com');
INSERT INTO "tracker_domains" VALUES('marketo','marketo.net');
INSERT INTO "tracker_domains" VALUES('truste_consent','consent.truste.com.');
INSERT INTO "tracker_domains" VALUES('disqus','disqus.com');
INSERT INTO "tracker_domains" VALUES('nocompany_cdn','nocompany.example');
CREATE TABLE urls(url TEXT PRIMARY KEY, robots_allowed TEXT NULL, status TEXT NULL, last_checked DATETIME NULL);
COMMIT;
"""


@pytest.fixture(scope="module")
def tiny():
    return conv.convert(conv.load_dump(TINY_DUMP))


def test_category_mapping_table():
    assert set(conv.CATEGORY_MAP.values()) <= CONTRACT_CATEGORIES
    assert set(conv.CATEGORY_OVERRIDES.values()) <= CONTRACT_CATEGORIES
    # All 13 categories of the 2018 database are mapped.
    assert set(conv.CATEGORY_MAP) == {
        "advertising", "site_analytics", "misc", "customer_interaction", "unknown", "cdn",
        "pornvertising", "social_media", "essential", "audio_video_player", "extensions",
        "hosting", "comments"}
    assert conv.map_category("doubleclick", "advertising") == ("advertising", "whotracksme-2018")
    assert conv.map_category("x", "site_analytics") == ("analytics", "whotracksme-2018")
    assert conv.map_category("x", "pornvertising") == ("advertising", "whotracksme-2018")
    assert conv.map_category("x", "misc") == ("unknown", "whotracksme-2018")
    assert conv.map_category("x", None) == ("unknown", "whotracksme-2018")
    assert conv.map_category("marketo", "advertising") == ("marketing_automation", "curated")
    assert conv.map_category("truste_consent", "essential") == ("consent", "curated")
    assert conv.map_category("optimizely", "site_analytics") == ("optimization", "curated")


def test_acquisition_table():
    for company, (owner, note) in {**conv.ACQUISITIONS, **conv.TRACKER_OWNERS}.items():
        assert owner in conv.CURATED_ORGANIZATIONS, company
        assert note.strip(), company
    assert conv.canonical_company("marketo", "Marketo", "marketo") == ("Adobe", "curated")
    assert conv.canonical_company("pardot", "Pardot", "pardot") == ("Salesforce", "curated")
    assert conv.canonical_company("linkedin", "LinkedIn", "linkedin") == ("Microsoft", "curated")
    assert conv.canonical_company("facebook", "Facebook", "facebook") == ("Meta", "curated")
    assert conv.canonical_company("google", "Google", "doubleclick") == ("Google", "whotracksme-2018")
    assert conv.canonical_company(None, None, "optimizely") == ("Optimizely", "curated")
    assert conv.canonical_company(None, None, "unknown_thing") == (None, "whotracksme-2018")


def test_domain_and_id_normalisation():
    assert conv.normalize_domain(" .DoubleClick.NET. ") == "doubleclick.net"
    assert conv.org_id("Neustar ") == "neustar"
    assert conv.org_id("Piano (Previously Tinypass)") == "piano_previously_tinypass"
    assert conv.org_id("X Corp.") == "x_corp"
    assert conv.org_id("Salesforce.com") == "salesforce_com"


def test_convert_tiny_dump(tiny):
    orgs = {o["id"]: o for o in tiny["organizations"]["organizations"]}
    services = {s["id"]: s for s in tiny["services"]["services"]}
    domains = tiny["domains"]["domains"]
    assert domains == {
        "2mdn.net": "doubleclick", "consent.truste.com": "truste_consent",
        "disqus.com": "disqus", "doubleclick.net": "doubleclick",
        "google-analytics.com": "google_analytics", "marketo.net": "marketo",
        "nocompany.example": "nocompany_cdn"}
    assert list(domains) == sorted(domains)
    # Acquired companies disappear into their buyer; the buyer comes from the curated list.
    assert "marketo" not in orgs and orgs["adobe"]["source"] == "curated"
    assert services["marketo"]["organization"] == "adobe"
    assert services["marketo"]["category"] == "marketing_automation"
    assert services["doubleclick"] | {} == {
        "id": "doubleclick", "name": "DoubleClick", "organization": "google",
        "organization_source": "whotracksme-2018", "category": "advertising",
        "category_source": "whotracksme-2018", "source_category": "advertising",
        "website": "http://www.doubleclick.net/", "source": "whotracksme-2018"}
    # The database's Google entry wins over the curated one (privacy policy kept).
    assert orgs["google"] == {"id": "google", "name": "Google", "source": "whotracksme-2018",
                              "website": "https://www.google.com/",
                              "privacy_policy": "https://www.google.com/privacy"}
    # Non-http URLs are dropped; the curated site fills in.
    assert orgs["trustarc"]["website"] == "https://trustarc.com/"
    assert "privacy_policy" not in orgs["trustarc"]
    assert services["truste_consent"]["category"] == "consent"
    assert services["disqus"]["category"] == "social_media"
    # A tracker without a company is its own organisation.
    assert services["nocompany_cdn"]["organization"] == "nocompany_cdn"
    assert orgs["nocompany_cdn"]["website"] == "https://nocompany.example/"
    assert services["nocompany_cdn"]["category"] == "embedded_content"
    assert services["nocat"]["category"] == "unknown" and "source_category" not in services["nocat"]


def test_converted_tiny_dump_validates_and_loads(tiny):
    schema = json.loads(bundled.path("knowledge", "schema.json").read_text("utf-8"))
    docs = {}
    for name in kb.FILES:
        text = conv.dumps(tiny[name.removesuffix(".json")])
        assert conv.dumps(json.loads(text)) == text
        docs[name] = json.loads(text)
        kb.validate(docs[name], schema["files"][name], name)
    small = kb.build(docs)
    assert small.lookup_domain("pixel.marketo.net").organization.name == "Adobe"
    assert small.lookup_domain("notmarketo.net") is None


def test_convert_is_deterministic_and_writes_files(tmp_path, tiny):
    again = conv.convert(conv.load_dump(TINY_DUMP))
    assert again == tiny
    conv.write(tiny, tmp_path / "a")
    conv.write(again, tmp_path / "b")
    for name in kb.FILES:
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_converter_reads_the_dump_from_a_wheel(tmp_path):
    import zipfile
    wheel = tmp_path / "whotracksme-2018.5.17-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr(conv.SQL_MEMBER, TINY_DUMP)
    out = tmp_path / "out"
    assert conv.main(["--wheel", str(wheel), "--output", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(kb.FILES)


def test_duplicate_domain_across_trackers_is_an_error():
    db = conv.load_dump(TINY_DUMP)
    db.execute("INSERT INTO tracker_domains VALUES('marketo', 'DOUBLECLICK.NET')")
    with pytest.raises(ValueError, match="doubleclick.net"):
        conv.convert(db)


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("Snap Inc.", "Snap"),
        ("Braze, Inc.", "Braze"),
        ("Hatena Co., Ltd.", "Hatena"),
        ("Gruner + Jahr AG", "Gruner + Jahr"),
        ("Macropod Software Pty Ltd", "Macropod Software"),
        ("Adition Technologies AG", "Adition Technologies"),
        ("X Corp.", "X Corp."),
        ("Google", "Google"),
        ("Incapsula", "Incapsula"),
    ],
)
def test_company_names_lose_their_legal_form(name, canonical):
    assert conv.canonical_name(name) == canonical


def test_no_shipped_organisation_keeps_a_legal_form():
    import re

    legal = re.compile(r"[ ,](Inc\.?|LLC|Ltd\.?|GmbH|S\.A\.|AG|B\.V\.|plc)$", re.IGNORECASE)
    names = [o.name for o in kb.load_knowledge().organizations.values()]
    assert [n for n in names if legal.search(n) and len(n) > 8] == []
