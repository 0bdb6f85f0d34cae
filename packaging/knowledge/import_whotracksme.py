"""Convert the WhoTracks.me 2018 tracker database into Privacy Inspector's knowledge base.

Source: the PyPI package ``whotracksme==2018.5.17`` (content CC BY 4.0, code MIT). The
wheel is 62 MB, so it is never a dependency: this script downloads it into a temporary
folder with ``pip download --no-deps``, reads ``whotracksme/data/assets/trackerdb.sql``
out of the wheel with :mod:`zipfile`, loads that SQLite dump into an in-memory database
and writes ``resources/knowledge/{organizations,services,domains}.json``.

Usage::

    python packaging/knowledge/import_whotracksme.py            # download and convert
    python packaging/knowledge/import_whotracksme.py --wheel W  # convert a wheel you have

Every fact carries its source: ``whotracksme-2018`` for what the database says, and
``curated`` for the explicit tables below (today's owners, our category overrides).
The output is sorted and deterministic, so a re-run reproduces the files byte for byte.
"""

from __future__ import annotations

import argparse
import json
import re
import sqlite3
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

PACKAGE = "whotracksme==2018.5.17"
SQL_MEMBER = "whotracksme/data/assets/trackerdb.sql"
FORMAT_VERSION = 1
DATA_VERSION = "whotracksme-2018.5.17+curated.2"
SOURCE_DB = "whotracksme-2018"
SOURCE_CURATED = "curated"
OUTPUT = Path(__file__).resolve().parents[2] / "resources" / "knowledge"

# The contract's `category` values (shared/contract/cli.md).
CATEGORIES = (
    "essential", "consent", "preferences", "analytics", "optimization",
    "marketing_automation", "advertising", "social_media", "customer_interaction",
    "embedded_content", "unknown",
)

# WhoTracks.me 2018 category -> contract category (reference §3, merged taxonomy).
CATEGORY_MAP = {
    "advertising": "advertising",
    "pornvertising": "advertising",        # "adult advertising": still advertising
    "site_analytics": "analytics",
    "social_media": "social_media",
    "comments": "social_media",            # Disqus & co.: cross-site comment widgets (TR "Social - Comment")
    "customer_interaction": "customer_interaction",
    "essential": "essential",
    "audio_video_player": "embedded_content",
    "cdn": "embedded_content",
    "hosting": "embedded_content",
    "misc": "unknown",
    "extensions": "unknown",
    "unknown": "unknown",
}

# Tracker id -> contract category, where the 2018 category is too coarse or wrong for
# our users. Every entry is a deliberate, sourced-as-"curated" decision.
CATEGORY_OVERRIDES = {
    # Social networks: Ghostery filed the main Facebook pattern under advertising and
    # Instagram/LinkedIn under misc; their cookies are the social-network login/plugins.
    "facebook": "social_media",
    "instagram_com": "social_media",
    "linkedin": "social_media",
    # Marketing automation (lead tracking tied to a CRM record).
    "marketo": "marketing_automation",
    "pardot": "marketing_automation",
    "eloqua": "marketing_automation",
    "hubspot": "marketing_automation",
    "mailchimp": "marketing_automation",
    # A/B testing, personalisation, heatmaps and session recording.
    "optimizely": "optimization",
    "visual_website_optimizer": "optimization",
    "ab_tasty": "optimization",
    "kameleoon": "optimization",
    "monetate": "optimization",
    "hotjar": "optimization",              # heatmaps + session recordings (its core product)
    "crazy_egg": "optimization",           # heatmaps
    "mouseflow": "optimization",           # session replay
    "inspectlet": "optimization",          # session replay
    "clicktale": "optimization",           # session replay
    "sessioncam": "optimization",          # session replay
    "fullstory": "optimization",           # session replay
    "lucky_orange": "optimization",        # heatmaps + session replay
    # Consent and privacy-notice tools (2018 "essential").
    "trustarc": "consent",
    "truste_consent": "consent",
    "truste_notice": "consent",
    "truste_seal": "consent",
    "evidon": "consent",
    "iubenda.com": "consent",
    # Tag managers and web fonts (2018 "essential"): infrastructure that loads content.
    "google_tag_manager": "embedded_content",
    "adobe_dynamic_tag_management": "embedded_content",
    "tealium": "embedded_content",
    "ensighten": "embedded_content",
    "tag_commander": "embedded_content",
    "tagman": "embedded_content",
    "typekit_by_adobe": "embedded_content",
}

# Company (2018 id) -> canonical company today. Only acquisitions/renames we are sure of.
ACQUISITIONS = {
    "marketo": ("Adobe", "Adobe completed its acquisition of Marketo in October 2018"),
    "pardot": ("Salesforce", "Pardot: bought by ExactTarget 2012, which Salesforce bought in 2013"),
    "salesforce.com": ("Salesforce", "same company as 'salesforce' (duplicate 2018 entry)"),
    "datalogix": ("Oracle", "Oracle acquired Datalogix in 2014"),
    "linkedin": ("Microsoft", "Microsoft completed its acquisition of LinkedIn in December 2016"),
    "facebook": ("Meta", "Facebook, Inc. renamed itself Meta Platforms in October 2021"),
    "twitter": ("X Corp.", "Twitter, Inc. was merged into X Corp. in 2023"),
    "zopim": ("Zendesk", "Zendesk acquired Zopim in 2014"),
    "hotjar": ("Contentsquare", "Contentsquare acquired Hotjar in 2021"),
    "clicktale": ("Contentsquare", "Contentsquare acquired ClickTale in 2019"),
    "segment": ("Twilio", "Twilio acquired Segment in 2020"),
    "appnexus": ("Microsoft", "AT&T bought AppNexus (Xandr) in 2018; Microsoft bought Xandr in 2022"),
    "neustar": ("TransUnion", "TransUnion acquired Neustar in 2021"),
    "verizon": ("Yahoo", "Verizon Media (Yahoo, AOL) was sold to Apollo in 2021 and renamed Yahoo"),
    "github": ("Microsoft", "Microsoft acquired GitHub in 2018"),
    "tumblr": ("Automattic", "Automattic acquired Tumblr from Verizon in 2019"),
}

# Companies named in these tables that may not exist in the 2018 list, with their sites.
CURATED_ORGANIZATIONS = {
    "Adobe": "https://www.adobe.com/",
    "Salesforce": "https://www.salesforce.com/",
    "Oracle": "https://www.oracle.com/",
    "Microsoft": "https://www.microsoft.com/",
    "Meta": "https://about.meta.com/",
    "X Corp.": "https://x.com/",
    "Zendesk": "https://www.zendesk.com/",
    "Contentsquare": "https://contentsquare.com/",
    "Twilio": "https://www.twilio.com/",
    "TransUnion": "https://www.transunion.com/",
    "Yahoo": "https://www.yahoo.com/",
    "Automattic": "https://automattic.com/",
    "Google": "https://www.google.com/",
    "TrustArc": "https://trustarc.com/",
    "Optimizely": "https://www.optimizely.com/",
}

# Tracker id -> organisation, for trackers the 2018 list gives no company (or an outdated one).
TRACKER_OWNERS = {
    "optimizely": ("Optimizely", "Episerver bought Optimizely in 2020 and took the Optimizely name in 2021"),
    "flickr_badge": ("Flickr", "SmugMug acquired Flickr from Verizon in 2018 and runs it as Flickr"),
    "evidon": ("Crownpeak", "Crownpeak acquired Evidon in 2018"),
}
CURATED_ORGANIZATIONS.update({"Flickr": "https://www.flickr.com/", "Crownpeak": "https://www.crownpeak.com/"})

# Owners today of 2018 trackers whose company changed after 2018 (tracker id -> owner).
TRACKER_OWNERS.update({
    "heap": ("Contentsquare", "Contentsquare completed its acquisition of Heap in December 2023"),
    "vimeo": ("Bending Spoons", "Vimeo left IAC in 2021; Bending Spoons acquired Vimeo in November 2025"),
    "outbrain": ("Teads", "Outbrain bought Teads in February 2025 and renamed itself Teads"),
})
CURATED_ORGANIZATIONS.update({"Bending Spoons": "https://bendingspoons.com/", "Teads": "https://www.teads.com/"})
CATEGORY_OVERRIDES.update({
    "contentsquare.net": "optimization",   # Contentsquare: session replay and heatmaps (2018: advertising)
    "outbrain": "advertising",             # sponsored content recommendations (2018: misc)
})

# Services missing from the 2018 database, added by hand (source "curated"). Only used
# when main() converts the real database (convert(db, additions=True)).
# id -> (name, organisation, category, website, note)
CURATED_SERVICES = {
    "onetrust": ("OneTrust", "OneTrust", "consent", "https://www.onetrust.com/",
                 "OneTrust cookie consent banner; scripts served from cdn.cookielaw.org"),
    "cookiebot": ("Cookiebot", "Usercentrics", "consent", "https://www.cookiebot.com/",
                  "Cybot (Cookiebot) merged with Usercentrics in 2021"),
    "matomo": ("Matomo", "InnoCraft", "analytics", "https://matomo.org/",
               "Matomo Cloud is run by InnoCraft, the company of Matomo's creators"),
    "microsoft_clarity": ("Microsoft Clarity", "Microsoft", "optimization",
                          "https://clarity.microsoft.com/",
                          "heatmaps and session recordings (like Hotjar): the contract's optimization"),
    "drift": ("Drift", "Salesloft", "customer_interaction", "https://www.drift.com/",
              "chat widget; Salesloft acquired Drift in February 2024"),
    "tiktok": ("TikTok", "ByteDance", "advertising", "https://ads.tiktok.com/",
               "TikTok Pixel (analytics.tiktok.com) measures and targets TikTok ads"),
    "snap_pixel": ("Snap Pixel", "Snap Inc.", "advertising", "https://businesshelp.snapchat.com/",
                   "Snapchat's ad conversion pixel, loaded from sc-static.net"),
    "akamai_bot_manager": ("Akamai Bot Manager", "Akamai", "essential",
                           "https://www.akamai.com/products/bot-manager",
                           "bot detection cookies set on the customer's own domain"),
    "adobe_target": ("Adobe Target", "Adobe", "optimization",
                     "https://business.adobe.com/products/target/adobe-target.html",
                     "A/B testing and personalisation (mbox cookie)"),
    "adobe_web_sdk": ("Adobe Experience Platform Web SDK", "Adobe", "analytics",
                      "https://experienceleague.adobe.com/en/docs/experience-platform/web-sdk/home",
                      "successor of AppMeasurement/visitor.js; kndctr_* cookies, edge.adobedc.net"),
}
CURATED_ORGANIZATIONS_ADDED = {
    "OneTrust": "https://www.onetrust.com/",
    "Usercentrics": "https://usercentrics.com/",
    "InnoCraft": "https://www.innocraft.com/",
    "Salesloft": "https://www.salesloft.com/",
    "ByteDance": "https://www.bytedance.com/",
    "Snap Inc.": "https://snap.com/",
    "Akamai": "https://www.akamai.com/",
}

# Domains of the curated services (domain -> service id). A domain the 2018 database
# already lists for another tracker is an error, not an override.
CURATED_DOMAINS = {
    "onetrust.com": "onetrust",
    "cookielaw.org": "onetrust",            # cdn.cookielaw.org, geolocation.onetrust.com
    "onetrust.io": "onetrust",
    "cookiebot.com": "cookiebot",           # consent.cookiebot.com, consentcdn.cookiebot.com
    "cookiebot.eu": "cookiebot",
    "matomo.cloud": "matomo",               # <account>.matomo.cloud, cdn.matomo.cloud
    "clarity.ms": "microsoft_clarity",      # www.clarity.ms, c.clarity.ms
    "drift.com": "drift",
    "driftt.com": "drift",                  # js.driftt.com
    "drift.click": "drift",
    "tiktok.com": "tiktok",
    "analytics.tiktok.com": "tiktok",       # the pixel's host (covered by tiktok.com; kept explicit)
    "sc-static.net": "snap_pixel",          # sc-static.net/scevent.min.js
    "tr.snapchat.com": "snap_pixel",        # the pixel's collection host
    "tt.omtrdc.net": "adobe_target",        # <client>.tt.omtrdc.net (Target edge)
    "adobedc.net": "adobe_web_sdk",         # edge.adobedc.net
}


def org_id(name: str) -> str:
    """A stable id from a company name: lower case, runs of non-alphanumerics -> '_'."""
    out, last = [], "_"
    for ch in name.strip().lower():
        if ch.isalnum():
            out.append(ch)
            last = ch
        elif last != "_":
            out.append("_")
            last = "_"
    return "".join(out).strip("_")


def normalize_domain(domain: str) -> str:
    """Lower case, no surrounding whitespace, no leading/trailing dots."""
    return domain.strip().strip(".").lower()


def map_category(tracker_id: str, source_category: str | None) -> tuple[str, str]:
    """(contract category, source of that fact)."""
    if tracker_id in CATEGORY_OVERRIDES:
        return CATEGORY_OVERRIDES[tracker_id], SOURCE_CURATED
    return CATEGORY_MAP.get(source_category or "unknown", "unknown"), SOURCE_DB


def canonical_company(company_id: str | None, company_name: str | None,
                      tracker_id: str) -> tuple[str | None, str]:
    """(canonical company name today or None, source)."""
    if tracker_id in TRACKER_OWNERS:
        return TRACKER_OWNERS[tracker_id][0], SOURCE_CURATED
    if company_id in ACQUISITIONS:
        return ACQUISITIONS[company_id][0], SOURCE_CURATED
    if company_name:
        return company_name.strip(), SOURCE_DB
    return None, SOURCE_DB


# Legal forms dropped from company names: the contract's names are canonical
# ("Google", "Meta"), not legal entities ("Google LLC").
_LEGAL_FORM = re.compile(
    r"(?:,?\s+(?:Inc\.?|LLC|L\.L\.C\.|Ltd\.?|Limited|GmbH|S\.A\.|SA|AG|Corp\.?|"
    r"Corporation|B\.V\.|BV|SAS|S\.r\.l\.|plc|Pty|Co\.|Oy|AB|A/S|K\.K\.))+$",
    re.IGNORECASE,
)


def canonical_name(name: str) -> str:
    """``Snap Inc.`` -> ``Snap``, ``Hatena Co., Ltd.`` -> ``Hatena``.

    A name is never cut below three characters (``X Corp.`` stays: ``X`` alone
    names nothing).
    """
    stripped = _LEGAL_FORM.sub("", name.strip()).strip(" ,")
    return stripped if len(stripped) >= 3 else name.strip()


def _clean_url(url: str | None) -> str | None:
    """The URL, or None where the database has none or not an http(s) one."""
    url = (url or "").strip()
    return url if url.lower().startswith(("http://", "https://")) else None


def load_dump(sql: str) -> sqlite3.Connection:
    db = sqlite3.connect(":memory:")
    db.executescript(sql)
    return db


def convert(db: sqlite3.Connection, additions: bool = False) -> dict[str, dict]:
    """The three documents (organizations, services, domains) from a loaded trackerdb.

    With ``additions``, the curated services and domains of vendors missing from the
    2018 database (``CURATED_SERVICES``, ``CURATED_DOMAINS``) are added as well.
    """
    companies = {
        cid: (name, _clean_url(privacy), _clean_url(website))
        for cid, name, privacy, website in db.execute(
            "SELECT id, name, privacy_url, website_url FROM companies")
    }
    orgs: dict[str, dict] = {}

    def add_org(name: str, website: str | None, privacy: str | None, source: str) -> str:
        name = canonical_name(name)
        oid = org_id(name)
        rec = orgs.get(oid)
        if rec is None:
            rec = orgs[oid] = {"id": oid, "name": name, "source": source}
        # First come, first kept; a curated site never overrides the database's.
        if website and "website" not in rec:
            rec["website"] = website
        if privacy and "privacy_policy" not in rec:
            rec["privacy_policy"] = privacy
        return oid

    # 2018 companies first (sorted, so merges are deterministic), then curated owners.
    for cid in sorted(companies):
        name, privacy, website = companies[cid]
        if cid in ACQUISITIONS:
            continue
        add_org(name.strip(), website, privacy, SOURCE_DB)
    for name in sorted(CURATED_ORGANIZATIONS):
        add_org(name, CURATED_ORGANIZATIONS[name], None, SOURCE_CURATED)

    services: dict[str, dict] = {}
    rows = db.execute(
        "SELECT t.id, t.name, c.name, t.website_url, t.company_id, co.name"
        " FROM trackers t LEFT JOIN categories c ON c.id = t.category_id"
        " LEFT JOIN companies co ON co.id = t.company_id ORDER BY t.id")
    for tid, tname, tcat, twebsite, cid, cname, in rows:
        owner, owner_source = canonical_company(cid, cname, tid)
        if owner is None:
            # No company in 2018: the product is its own organisation.
            owner, owner_source = tname.strip(), SOURCE_DB
            add_org(owner, _clean_url(twebsite), None, SOURCE_DB)
        category, category_source = map_category(tid, tcat)
        rec = {
            "id": tid,
            "name": tname.strip(),
            "organization": org_id(canonical_name(owner)),
            "organization_source": owner_source,
            "category": category,
            "category_source": category_source,
            "source": SOURCE_DB,
        }
        if tcat:
            rec["source_category"] = tcat
        if _clean_url(twebsite):
            rec["website"] = _clean_url(twebsite)
        services[tid] = rec

    domains: dict[str, str] = {}
    for tracker, domain in db.execute("SELECT tracker, domain FROM tracker_domains"):
        d = normalize_domain(domain)
        if tracker in services and d:
            if d in domains and domains[d] != tracker:
                raise ValueError(f"domain {d} listed for {domains[d]} and {tracker}")
            domains[d] = tracker

    if additions:
        for name in sorted(CURATED_ORGANIZATIONS_ADDED):
            add_org(name, CURATED_ORGANIZATIONS_ADDED[name], None, SOURCE_CURATED)
        for sid in sorted(CURATED_SERVICES):
            sname, owner, category, website, _note = CURATED_SERVICES[sid]
            if sid in services:
                raise ValueError(f"curated service {sid} already in the database")
            if category not in CATEGORIES:
                raise ValueError(f"curated service {sid}: bad category {category}")
            oid = org_id(canonical_name(owner))
            if oid not in orgs:
                raise ValueError(f"curated service {sid}: unknown organisation {owner}")
            services[sid] = {
                "id": sid, "name": sname, "organization": oid,
                "organization_source": SOURCE_CURATED, "category": category,
                "category_source": SOURCE_CURATED, "website": website,
                "source": SOURCE_CURATED,
            }
        for domain in sorted(CURATED_DOMAINS):
            d, sid = normalize_domain(domain), CURATED_DOMAINS[domain]
            if sid not in services:
                raise ValueError(f"curated domain {d}: unknown service {sid}")
            if d in domains and domains[d] != sid:
                raise ValueError(f"curated domain {d} already listed for {domains[d]}")
            domains[d] = sid

    # Drop organisations no service uses? No: the 2018 company list is knowledge too.
    header = {"format_version": FORMAT_VERSION, "data_version": DATA_VERSION}
    return {
        "organizations": {**header, "organizations": [orgs[k] for k in sorted(orgs)]},
        "services": {**header, "services": [services[k] for k in sorted(services)]},
        "domains": {**header, "source": SOURCE_DB,
                    "domains": {k: domains[k] for k in sorted(domains)}},
    }


def dumps(doc: dict) -> str:
    """Compact, one record per line, sorted keys: small and diff-friendly."""
    inner_key = next(k for k in doc if k not in ("format_version", "data_version", "source"))
    head = {k: v for k, v in doc.items() if k != inner_key}
    lines = [json.dumps(head, sort_keys=True, ensure_ascii=False)[:-1] + ","]
    body = doc[inner_key]
    if isinstance(body, list):
        items = [json.dumps(r, sort_keys=True, ensure_ascii=False) for r in body]
        lines.append(f'"{inner_key}": [')
    else:
        items = [f"{json.dumps(k)}: {json.dumps(v)}" for k, v in body.items()]
        lines.append(f'"{inner_key}": {{')
    lines.append(",\n".join(items))
    lines.append("]}" if isinstance(body, list) else "}}")
    return "\n".join(lines) + "\n"


def write(docs: dict[str, dict], out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, doc in docs.items():
        (out / f"{name}.json").write_text(dumps(doc), encoding="utf-8", newline="\n")


def read_sql_from_wheel(wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as zf:
        return zf.read(SQL_MEMBER).decode("utf-8")


def download_wheel(target: Path) -> Path:
    subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
                    "--dest", str(target), PACKAGE], check=True)
    return next(target.glob("whotracksme-*.whl"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--wheel", type=Path, help="an already downloaded whotracksme wheel")
    parser.add_argument("--output", type=Path, default=OUTPUT)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        wheel = args.wheel or download_wheel(Path(tmp))
        docs = convert(load_dump(read_sql_from_wheel(wheel)), additions=True)
    write(docs, args.output)
    print(f"{len(docs['organizations']['organizations'])} organisations, "
          f"{len(docs['services']['services'])} services, "
          f"{len(docs['domains']['domains'])} domains -> {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
