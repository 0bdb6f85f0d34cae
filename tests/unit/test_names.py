"""The bundled cookie-name and storage-key rules (resources/knowledge/names.json)."""

from __future__ import annotations

import copy
import re

import pytest

from privacy_inspector.core import names
from privacy_inspector.core.knowledge import KnowledgeError, load_knowledge
from privacy_inspector.core.names import NameIndex, build, load_document, load_names, match_name

SERVICES = load_knowledge().services


def _doc_with(*rules: dict) -> dict:
    return {"format_version": 1, "data_version": "test", "rules": list(rules)}


def _rule(**over) -> dict:
    rule = {"match": "exact", "pattern": "_example_cookie", "kinds": ["cookie"],
            "service": "google_analytics", "purpose": "A test rule.", "lifetime": "1 day",
            "source": "ocd"}
    rule.update(over)
    return {k: v for k, v in rule.items() if v is not None}


# --- the bundled file ---------------------------------------------------------------

def test_bundled_file_validates():
    index = load_names()
    assert isinstance(index, NameIndex)
    assert len(index.rules) == len(load_document()["rules"])


def test_at_least_150_patterns():
    assert len(load_document()["rules"]) >= 150


def test_every_service_id_exists():
    for rule in load_document()["rules"]:
        if "service" in rule:
            assert rule["service"] in SERVICES, rule["pattern"]
        else:
            assert rule.get("vendor") and rule.get("category"), rule["pattern"]


def test_every_rule_has_a_source_and_one_sentence_purpose():
    for rule in load_names().rules:
        assert rule.source == "ocd" or rule.source.startswith("https://"), rule.pattern
        assert rule.purpose.endswith(".") and rule.purpose.count(". ") == 0, rule.pattern
        assert rule.lifetime.strip(), rule.pattern


def test_regexes_compile_and_generic_names_are_domain_bound():
    for rule in load_names().rules:
        if rule.match == "regex":
            re.compile(rule.pattern)
        if rule.match == "exact" and names.is_generic(rule.pattern):
            # A generic name may only name a vendor on its domains; a platform's
            # cookie (csrftoken) names none and says only what it is for.
            assert rule.only_on or (rule.set_by_site and rule.service is None), rule.pattern


# --- the examples of the issue ---------------------------------------------------------

@pytest.mark.parametrize("name, service, organization, category", [
    ("_ga", "Google Analytics", "Google", "analytics"),
    ("_gid", "Google Analytics", "Google", "analytics"),
    ("__utma", "Google Analytics", "Google", "analytics"),
    ("__utmz", "Google Analytics", "Google", "analytics"),
    ("_ga_ABC123", "Google Analytics", "Google", "analytics"),
    ("_mkto_trk", "Marketo", "Adobe", "marketing_automation"),
    ("hubspotutk", "HubSpot", "HubSpot", "marketing_automation"),
    ("__hstc", "HubSpot", "HubSpot", "marketing_automation"),
    # Meta's own documentation: _fbp is used to deliver and measure advertising.
    ("_fbp", "Facebook", "Meta", "advertising"),
])
def test_vendor_cookies_on_the_owners_site(name, service, organization, category):
    rule = match_name(name, "cookie", "liveops.com")
    assert rule is not None
    assert rule.service_record is not None
    assert rule.service == rule.service_record.id
    assert rule.service_record.name == service
    assert rule.service_record.organization.name == organization
    assert rule.category == category


def test_fr_only_on_facebook():
    rule = match_name("fr", "cookie", "facebook.com")
    assert rule is not None and rule.service == "facebook"
    assert rule.service_record.organization.name == "Meta"
    assert match_name("fr", "cookie", "liveops.com") is None


def test_ide_only_on_doubleclick():
    rule = match_name("IDE", "cookie", "doubleclick.net")
    assert rule is not None and rule.service == "doubleclick"
    assert rule.service_record.name == "DoubleClick"
    assert rule.category == "advertising"
    assert match_name("IDE", "cookie", "liveops.com") is None
    assert match_name("IDE", "cookie", "notdoubleclick.net") is None


def test_optanon_consent_is_consent():
    rule = match_name("OptanonConsent", "cookie", "liveops.com")
    assert rule is not None
    assert rule.category == "consent"
    assert rule.vendor == "OneTrust"
    # OneTrust is a curated service now (it is missing from the 2018 database).
    assert rule.service == "onetrust"
    assert rule.service_record.organization.name == "OneTrust"
    assert rule.service_record.source == "curated"


def test_a_name_that_only_contains_a_vendor_name_does_not_match():
    for name in ("my_ga_pref", "x_ga", "_gaa", "ga", "__utma2", "x__utma", "hubspotutk_old"):
        assert match_name(name, "cookie", "liveops.com") is None, name


def test_generic_name_needs_its_vendors_domain():
    assert match_name("lang", "cookie", "liveops.com") is None
    assert match_name("lang", "cookie", "example.org") is None
    rule = match_name("lang", "cookie", "linkedin.com")
    assert rule is not None and rule.service == "linkedin"
    assert match_name("NID", "cookie", "liveops.com") is None
    assert match_name("NID", "cookie", "google.com") is not None


def test_kind_must_match():
    assert match_name("_ga", "local_storage", "liveops.com") is None
    assert match_name("ajs_anonymous_id", "local_storage", "liveops.com") is not None
    assert match_name("ajs_anonymous_id", "cookie", "liveops.com") is not None


def test_site_is_normalised():
    assert match_name("fr", "cookie", ".Facebook.com") is not None


# --- precedence ------------------------------------------------------------------------

def test_exact_beats_prefix_and_longer_prefix_wins():
    # AMP_TOKEN is Google Analytics; other AMP_ names are Amplitude's.
    assert match_name("AMP_TOKEN", "cookie", "a.com").service == "google_analytics"
    assert match_name("AMP_MKTG_0123456789", "cookie", "a.com").service == "amplitude"
    # _hjSessionUser_ (longer) beats the general _hj prefix.
    rule = match_name("_hjSessionUser_12345", "cookie", "a.com")
    assert rule.pattern == "_hjSessionUser_"
    assert match_name("_hjSomethingNew", "cookie", "a.com").pattern == "_hj"


def test_prefix_needs_something_after_it():
    assert match_name("_ga_", "cookie", "a.com") is None


def test_regex_matches_the_whole_name():
    assert match_name("visitor_id123456", "cookie", "a.com").service == "pardot"
    assert match_name("visitor_id123456-hash", "cookie", "a.com").service == "pardot"
    assert match_name("visitor_id123456x", "cookie", "a.com") is None
    assert match_name("xvisitor_id1", "cookie", "a.com") is None


def test_precedence_on_a_small_index():
    doc = _doc_with(
        _rule(match="regex", pattern=r"ab.*", service="hubspot"),
        _rule(match="prefix", pattern="ab", service="marketo", only_on=["x.com"]),
        _rule(match="prefix", pattern="abc", service="pardot"),
        _rule(match="exact", pattern="abcdef", service="eloqua"),
    )
    index = build(doc, SERVICES)
    assert index.match_name("abcdef", "cookie", "x.com").service == "eloqua"
    assert index.match_name("abcde", "cookie", "x.com").service == "pardot"
    assert index.match_name("abx", "cookie", "x.com").service == "marketo"
    assert index.match_name("abx", "cookie", "y.com").service == "hubspot"
    assert index.match_name("zz", "cookie", "y.com") is None


def test_site_specific_rule_beats_general_one():
    doc = _doc_with(
        _rule(pattern="shared_name", service="hubspot"),
        _rule(pattern="shared_name", service="linkedin", only_on=["linkedin.com"]),
    )
    index = build(doc, SERVICES)
    assert index.match_name("shared_name", "cookie", "linkedin.com").service == "linkedin"
    assert index.match_name("shared_name", "cookie", "a.com").service == "hubspot"


# --- validation ------------------------------------------------------------------------

def test_unknown_service_is_rejected():
    with pytest.raises(KnowledgeError, match="unknown service"):
        build(_doc_with(_rule(service="no_such_service")), SERVICES)


def test_bad_regex_is_rejected():
    with pytest.raises(KnowledgeError, match="regular expression"):
        build(_doc_with(_rule(match="regex", pattern="(unclosed")), SERVICES)


@pytest.mark.parametrize("pattern", ["uid", "id", "lang", "sid", "fr", "IDE", "NID", "session"])
def test_generic_name_without_only_on_is_rejected(pattern):
    with pytest.raises(KnowledgeError, match="generic"):
        build(_doc_with(_rule(pattern=pattern)), SERVICES)
    build(_doc_with(_rule(pattern=pattern, only_on=["example.com"])), SERVICES)


def test_schema_errors_are_rejected():
    with pytest.raises(KnowledgeError):
        build(_doc_with(_rule(match="glob")), SERVICES)
    with pytest.raises(KnowledgeError):
        build(_doc_with(_rule(kinds=["indexed_db"])), SERVICES)
    with pytest.raises(KnowledgeError):
        build(_doc_with(_rule(category="tracking")), SERVICES)
    with pytest.raises(KnowledgeError):
        build(_doc_with(_rule(source="somewhere")), SERVICES)
    with pytest.raises(KnowledgeError):
        build(_doc_with(_rule(unexpected="x")), SERVICES)


def test_vendor_rule_needs_category_and_no_service():
    with pytest.raises(KnowledgeError, match="category"):
        build(_doc_with(_rule(service=None, vendor="Someone")), SERVICES)
    with pytest.raises(KnowledgeError, match="exactly one"):
        build(_doc_with(_rule(vendor="Someone", category="consent")), SERVICES)
    index = build(_doc_with(_rule(service=None, vendor="Someone", category="consent")), SERVICES)
    assert index.match_name("_example_cookie", "cookie", "a.com").vendor == "Someone"


def test_duplicate_rule_is_rejected():
    with pytest.raises(KnowledgeError, match="duplicate"):
        build(_doc_with(_rule(), _rule()), SERVICES)


def test_bundled_document_is_not_modified_by_build():
    doc = load_document()
    before = copy.deepcopy(doc)
    build(doc, SERVICES)
    assert doc == before


# --- curated vendors missing from the 2018 database, and category decisions ----------

@pytest.mark.parametrize("name, site, service, organization, category", [
    ("CookieConsentBulkSetting-1a2b", "liveops.com", "cookiebot", "Usercentrics", "consent"),
    ("_pk_id.1.a1b2", "liveops.com", "matomo", "InnoCraft", "analytics"),
    ("_pk_ses.1.a1b2", "liveops.com", "matomo", "InnoCraft", "analytics"),
    ("_pk_ref.1.a1b2", "liveops.com", "matomo", "InnoCraft", "analytics"),
    ("_clck", "liveops.com", "microsoft_clarity", "Microsoft", "optimization"),
    ("_clsk", "liveops.com", "microsoft_clarity", "Microsoft", "optimization"),
    ("CLID", "clarity.ms", "microsoft_clarity", "Microsoft", "optimization"),
    ("MUID", "clarity.ms", "microsoft_clarity", "Microsoft", "optimization"),
    ("MUID", "bing.com", "bing_ads", "Microsoft", "advertising"),
    ("drift_aid", "liveops.com", "drift", "Salesloft", "customer_interaction"),
    ("drift_campaign_refresh", "liveops.com", "drift", "Salesloft", "customer_interaction"),
    ("_ttp", "liveops.com", "tiktok", "ByteDance", "advertising"),
    ("_tt_enable_cookie", "liveops.com", "tiktok", "ByteDance", "advertising"),
    ("_scid", "liveops.com", "snap_pixel", "Snap", "advertising"),
    ("_abck", "liveops.com", "akamai_bot_manager", "Akamai", "essential"),
    ("bm_sv", "liveops.com", "akamai_bot_manager", "Akamai", "essential"),
    ("_cs_id", "liveops.com", "contentsquare.net", "Contentsquare", "optimization"),
    ("_cs_c", "liveops.com", "contentsquare.net", "Contentsquare", "consent"),
    ("fs_uid", "liveops.com", "fullstory", "fullstory", "optimization"),
    ("liveagent_sid", "liveops.com", "salesforce_live_agent", "Salesforce", "customer_interaction"),
    ("s_cc", "liveops.com", "omniture__adobe_analytics_", "Adobe", "analytics"),
    ("s_vi", "liveops.com", "omniture__adobe_analytics_", "Adobe", "analytics"),
    ("mbox", "liveops.com", "adobe_target", "Adobe", "optimization"),
    ("kndctr_5BFE274A5F6980A50A495C08_AdobeOrg_identity", "liveops.com", "adobe_web_sdk",
     "Adobe", "analytics"),
    ("kndctr_5BFE274A5F6980A50A495C08_AdobeOrg_consent", "liveops.com", "adobe_web_sdk",
     "Adobe", "consent"),
    ("__atuvc", "liveops.com", "addthis", "Oracle", "social_media"),
    ("__sharethis_cookie_test__", "liveops.com", "sharethis", "ShareThis", "advertising"),
    ("cto_bundle", "liveops.com", "criteo", "Criteo", "advertising"),
    ("lpv123456", "liveops.com", "pardot", "Salesforce", "marketing_automation"),
    ("pi_opt_in123456", "liveops.com", "pardot", "Salesforce", "consent"),
    ("visitor_id123456-hash", "liveops.com", "pardot", "Salesforce", "marketing_automation"),
    ("ELQOPTOUT", "liveops.com", "eloqua", "Oracle", "consent"),
    ("_hjDoneTestersWidgets", "liveops.com", "hotjar", "Contentsquare", "customer_interaction"),
    ("vuid", "vimeo.com", "vimeo", "Bending Spoons", "analytics"),
    ("_hp2_id.123", "liveops.com", "heap", "Contentsquare", "analytics"),
    ("_fbc", "liveops.com", "facebook", "Meta", "advertising"),
    ("li_fat_id", "liveops.com", "linkedin", "Microsoft", "advertising"),
    ("_pin_unauth", "liveops.com", "pinterest", "Pinterest", "advertising"),
    ("_twclid", "liveops.com", "twitter_for_business", "X Corp.", "advertising"),
    ("_uetsid", "liveops.com", "bing_ads", "Microsoft", "advertising"),
    ("_uetvid", "liveops.com", "bing_ads", "Microsoft", "advertising"),
    ("__cf_bm", "liveops.com", "cloudflare", "Cloudflare", "essential"),
    ("cf_clearance", "liveops.com", "cloudflare", "Cloudflare", "essential"),
    ("_cfuvid", "liveops.com", "cloudflare", "Cloudflare", "essential"),
])
def test_curated_vendor_names(name, site, service, organization, category):
    rule = match_name(name, "cookie", site)
    assert rule is not None, name
    assert rule.service == service
    assert rule.service_record.organization.name == organization
    assert rule.category == category


@pytest.mark.parametrize("name", ["SID", "HSID", "SSID", "APISID", "SAPISID",
                                  "__Secure-1PSID", "__Secure-3PSID", "__Secure-3PAPISID"])
def test_google_sign_in_cookies_are_essential_on_google_only(name):
    rule = match_name(name, "cookie", "google.com")
    assert rule is not None and rule.service == "google"
    assert rule.category == "essential"
    assert rule.source == "https://policies.google.com/technologies/cookies"
    assert match_name(name, "cookie", "liveops.com") is None


def test_generic_clarity_and_vimeo_names_stay_domain_bound():
    for name in ("CLID", "MUID", "vuid"):
        assert match_name(name, "cookie", "liveops.com") is None, name
    assert match_name("lpv", "cookie", "liveops.com") is None
    assert match_name("kndctr_", "cookie", "liveops.com") is None


# --- platforms' own cookies on their own domains (classified by the vendor's page) -------

@pytest.mark.parametrize("name, site, service, category", [
    ("c_user", "facebook.com", "facebook", "essential"),
    ("xs", "facebook.com", "facebook", "essential"),
    ("li_sugr", "linkedin.com", "linkedin", "advertising"),
    ("li_at", "linkedin.com", "linkedin", "essential"),
    ("liap", "linkedin.com", "linkedin", "essential"),
    ("li_rm", "linkedin.com", "linkedin", "essential"),
    ("YSC", "youtube.com", "youtube", "essential"),
    ("VISITOR_INFO1_LIVE", "youtube.com", "youtube", "preferences"),
    ("__Secure-YEC", "youtube.com", "youtube", "preferences"),
])
def test_platform_cookies_on_their_own_domains(name, site, service, category):
    rule = match_name(name, "cookie", site)
    assert rule is not None, name
    assert rule.service == service
    assert rule.category == category
    assert rule.source.startswith("https://"), name


@pytest.mark.parametrize("name", ["bcookie", "li_at", "liap", "li_rm", "c_user", "xs",
                                  "__Secure-YEC", "YSC"])
def test_platform_cookies_do_not_match_elsewhere(name):
    assert match_name(name, "cookie", "example.org") is None
