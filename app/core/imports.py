"""Importers for tracker lists the user already trusts, loaded at run time from files the user supplies.

The lists (Ghostery's ``trackerdb.json``, Disconnect's ``services.json`` and
``entities.json``, DuckDuckGo's tracker blocklist ``tds.json``, the Open Cookie
Database CSV, and the domain rules of EasyPrivacy-style filter lists) are never
bundled: several are CC BY-NC-SA, so their facts live only in the user's own
``<data_dir>/knowledge.db`` (sqlite-utils, 0600 in a 0700 folder), each row with
its source and file, and are shown with that source.

API::

    import_file(path, fmt, data_dir, *, entities=None, source=None) -> ImportSummary
    sources(data_dir) -> list[SourceInfo]
    ImportedKnowledge.load(data_dir) -> ImportedKnowledge
        .lookup_domain(host) -> ImportedDomain | None    (best row, with .source)
        .lookup_domain_all(host) -> tuple[ImportedDomain, ...]
        .lookup_owner(host) -> ImportedOwner | None      (same-owner maps)
        .match_cookie(name, site) -> ImportedCookie | None
        .match_cookie_all(name, site) -> tuple[ImportedCookie, ...]

Formats (``fmt``):

``ghostery``     ``trackerdb.json`` of ``@ghostery/trackerdb``: ``{categories, organizations,
                 patterns, domains, filters}``; ``domains`` maps a domain to a pattern key,
                 a pattern has ``name, category, organization, domains, ...``.
``disconnect``   ``services.json``: ``{"license", "categories": {Cat: [{Org: {url: [domains],
                 flag: "true"}}]}}``. ``entities.json`` (``{Org: {properties, resources}}``,
                 optionally wrapped in ``{"license", "entities": ...}``) is read too when it is
                 passed as ``entities=`` or lies beside ``services.json`` under that name; it
                 fills the same-owner table (``owners``), never the tracker table.
``duckduckgo``   ``tds.json``: ``{"trackers": {domain: {domain, owner{name, displayName},
                 categories[], default, rules}}, "entities", "domains": {domain: entity},
                 "cnames"}``. ``domains`` fills the same-owner table.
``ocd``          ``open-cookie-database.csv``, header ``ID,Platform,Category,Cookie / Data Key
                 name,Domain,Description,Retention period,Data Controller,User Privacy & GDPR
                 Rights Portals,Wildcard match``; ``Wildcard match`` 1 = prefix match.
``filter-list``  Adblock-Plus syntax; only pure domain rules ``||host^`` (optionally with
                 ``$`` options that do not restrict the page, e.g. ``$third-party``) are kept.
                 The source is ``filter-list:<! Title:>`` (or the file's stem).

Re-importing a source replaces that source's rows in one transaction. A bad file
raises :class:`ListImportError` (one line: the file and what is wrong) before the
database is touched.
"""

from __future__ import annotations

import csv
import io
import json
import re
import sqlite3
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from privacy_inspector import bundled, paths
from privacy_inspector.core.knowledge import normalize_host
from privacy_inspector.core.times import iso_from_unix

DB_NAME = "knowledge.db"
FORMATS = ("ghostery", "disconnect", "duckduckgo", "ocd", "filter-list")

CATEGORIES = (
    "essential", "consent", "preferences", "analytics", "optimization",
    "marketing_automation", "advertising", "social_media", "customer_interaction",
    "embedded_content", "unknown",
)
TRACKING_CATEGORIES = frozenset(
    {"analytics", "optimization", "marketing_automation", "advertising", "social_media"})

# When one domain carries several source categories (Disconnect lists a domain under
# several categories, DuckDuckGo is multi-label), the first of these wins.
PRECEDENCE = (
    "consent", "advertising", "optimization", "analytics", "social_media",
    "marketing_automation", "customer_interaction", "embedded_content", "essential",
    "preferences", "unknown",
)

# --- explicit category mappings, per source (reference §3) ---------------------------

GHOSTERY_MAP = {
    "advertising": "advertising",
    "pornvertising": "advertising",
    "site_analytics": "analytics",
    "customer_interaction": "customer_interaction",
    "social_media": "social_media",
    "comments": "social_media",          # WhoTracks.me 2018 vintage
    "consent": "consent",
    "essential": "essential",            # 2018 vintage
    "audio_video_player": "embedded_content",
    "hosting": "embedded_content",
    "cdn": "embedded_content",           # 2018 vintage
    "utilities": "embedded_content",     # tag managers, privacy notices
    "extensions": "unknown",
    "misc": "unknown",
    "unknown": "unknown",
}

DISCONNECT_MAP = {
    "Advertising": "advertising",
    "Analytics": "analytics",
    "Social": "social_media",
    "Content": "embedded_content",
    "Email": "marketing_automation",
    "EmailAggressive": "marketing_automation",
    "ConsentManagers": "consent",
    "Anti-fraud": "essential",
    "FingerprintingInvasive": "unknown",   # fingerprinting is a flag, not a purpose
    "FingerprintingGeneral": "unknown",
    "Fingerprinting": "unknown",           # pre-2020 name
    "Cryptomining": "unknown",
    "Disconnect": "unknown",               # pre-2020 catch-all (Facebook, Google, Twitter)
}
DISCONNECT_FLAG_MAP = {"session-replay": "optimization"}

DUCKDUCKGO_MAP = {
    "Action Pixels": "advertising",
    "Ad Fraud": "advertising",
    "Ad Motivated Tracking": "advertising",
    "Advertising": "advertising",
    "Analytics": "analytics",
    "Audience Measurement": "analytics",
    "Session Replay": "optimization",
    "Third-Party Analytics Marketing": "marketing_automation",
    "Social Network": "social_media",
    "Social - Comment": "social_media",
    "Social - Share": "social_media",
    "Badge": "embedded_content",
    "CDN": "embedded_content",
    "Content Delivery": "embedded_content",
    "Embedded Content": "embedded_content",
    "Tag Manager": "embedded_content",
    "Federated Login": "essential",
    "SSO": "essential",
    "Online Payment": "essential",
    "Malware": "unknown",
    "Non-tracking": "unknown",
    "Obscure Ownership": "unknown",
    "Unknown High Risk Behavior": "unknown",
}

OCD_MAP = {
    "Functional": "essential",       # consent rows become "consent", see _ocd_category
    "Necessary": "essential",
    "Security": "essential",
    "Personalization": "preferences",
    "Preferences": "preferences",    # older README name
    "Analytics": "analytics",
    "Marketing": "advertising",
}
_OCD_CONSENT = re.compile(r"consent|cookie preference|opt-in|opt-out|opt in|opt out", re.I)

# Licences of the lists, as published (reference §1.8); recorded with each import.
LICENCES = {
    "ghostery": "CC BY-NC-SA 4.0",
    "disconnect": "CC BY-NC-SA 4.0",
    "duckduckgo": "CC BY-NC-SA 4.0",
    "ocd": "Apache-2.0",
    "filter-list": None,
}
DEFAULT_SOURCES = {
    "ghostery": "ghostery-trackerdb",
    "disconnect": "disconnect",
    "duckduckgo": "duckduckgo-tds",
    "ocd": "open-cookie-database",
}

# A wildcard (prefix) cookie name shorter than this matches only on a listed domain.
MIN_FREE_PREFIX = 4

_OCD_REQUIRED = ("Platform", "Category", "Cookie / Data Key name", "Domain", "Description",
                 "Data Controller", "Wildcard match")


class ListImportError(ValueError):
    """A list file (or the imported-knowledge database) cannot be used; one line, naming the file."""


# --- records --------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class ImportSummary:
    source: str
    format: str
    file: str
    domains: int
    owners: int
    cookies: int
    skipped: int
    imported_at: str
    licence: str | None


@dataclass(frozen=True, slots=True)
class SourceInfo(ImportSummary):
    """An imported source as ``sources()`` lists it: its import summary."""

    @property
    def count(self) -> int:
        return self.domains + self.owners + self.cookies


@dataclass(frozen=True, slots=True)
class ImportedDomain:
    domain: str
    service: str | None
    organization: str | None
    category: str                    # the contract's taxonomy
    source_category: str | None      # the list's own label(s), before mapping
    tracker: bool                    # the list calls it a tracker
    source: str
    source_file: str
    imported_at: str


@dataclass(frozen=True, slots=True)
class ImportedOwner:
    domain: str
    organization: str
    source: str
    source_file: str
    imported_at: str


@dataclass(frozen=True, slots=True)
class ImportedCookie:
    name: str
    match: str                       # "exact" or "prefix"
    domains: tuple[str, ...]         # empty: any site (first-party cookie)
    platform: str | None
    organization: str | None
    category: str
    source_category: str | None
    purpose: str | None
    retention: str | None
    source: str
    source_file: str
    imported_at: str


# --- small helpers --------------------------------------------------------------------

def _fail(path: Path, msg: str) -> ListImportError:
    return ListImportError(f"{path}: {msg}")


def _read_text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise _fail(path, "no such file") from None
    except IsADirectoryError:
        raise _fail(path, "is a folder, not a file") from None
    except OSError as e:
        raise _fail(path, f"cannot be read ({e.strerror or e})") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise _fail(path, f"is not UTF-8 text (byte {e.start})") from None


def _read_json(path: Path) -> Any:
    text = _read_text(path)
    if not text.strip():
        raise _fail(path, "is empty")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise _fail(path, f"is not JSON ({e.msg} at line {e.lineno} column {e.colno})") from None


def _expect(path: Path, value: Any, kind: type, where: str) -> Any:
    if not isinstance(value, kind) or isinstance(value, bool):
        names = {dict: "an object", list: "an array", str: "a string"}
        raise _fail(path, f"{where} should be {names.get(kind, kind.__name__)}, "
                          f"not {type(value).__name__}")
    return value


def _pick(categories: Iterable[str]) -> str:
    found = set(categories)
    for cat in PRECEDENCE:
        if cat in found:
            return cat
    return "unknown"


def _label(labels: Iterable[str]) -> str | None:
    seen: list[str] = []
    for label in labels:
        if label not in seen:
            seen.append(label)
    return ", ".join(seen) or None


@dataclass
class _Parsed:
    source: str
    licence: str | None
    domains: dict[str, dict[str, Any]] = field(default_factory=dict)
    owners: dict[str, str] = field(default_factory=dict)
    cookies: list[dict[str, Any]] = field(default_factory=list)
    skipped: int = 0


# --- parsers --------------------------------------------------------------------------

def _parse_ghostery(path: Path, source: str) -> _Parsed:
    doc = _expect(path, _read_json(path), dict, "the top level")
    missing = [k for k in ("patterns", "organizations") if k not in doc]
    if missing:
        raise _fail(path, f"is not a Ghostery trackerdb.json (no {', '.join(map(repr, missing))})")
    patterns = _expect(path, doc["patterns"], dict, "'patterns'")
    orgs = _expect(path, doc["organizations"], dict, "'organizations'")
    out = _Parsed(source, LICENCES["ghostery"])

    def org_name(key: Any) -> str | None:
        if not isinstance(key, str) or not key:
            return None
        org = orgs.get(key)
        if isinstance(org, dict) and isinstance(org.get("name"), str):
            return org["name"]
        return key

    def add(domain: Any, key: str) -> None:
        pattern = patterns.get(key)
        host = normalize_host(domain) if isinstance(domain, str) else None
        if host is None or not isinstance(pattern, dict):
            out.skipped += 1
            return
        raw = pattern["category"]
        cat = GHOSTERY_MAP.get(raw, "unknown")
        out.domains[host] = {
            "service": pattern["name"], "organization": org_name(pattern.get("organization")),
            "category": cat, "source_category": raw,
            "tracker": cat in TRACKING_CATEGORIES,
        }

    for key, pattern in patterns.items():
        _expect(path, pattern, dict, f"pattern {key!r}")
        for name in ("name", "category"):
            _expect(path, pattern.get(name), str, f"pattern {key!r} field {name!r}")
    top = doc.get("domains")
    if top is not None:
        for domain, key in _expect(path, top, dict, "'domains'").items():
            add(domain, key)
    else:
        for key, pattern in patterns.items():
            for domain in _expect(path, pattern.get("domains", []), list,
                                  f"pattern {key!r} field 'domains'"):
                add(domain, key)
    if not out.domains:
        raise _fail(path, "lists no tracker domains")
    return out


def _disconnect_entities(path: Path, out: _Parsed) -> None:
    doc = _expect(path, _read_json(path), dict, "the top level")
    entities = _expect(path, doc.get("entities", doc), dict, "'entities'")
    for org, entry in entities.items():
        if org == "license":
            continue
        entry = _expect(path, entry, dict, f"entity {org!r}")
        for part in ("properties", "resources"):
            for domain in _expect(path, entry.get(part, []), list, f"entity {org!r} field {part!r}"):
                host = normalize_host(domain) if isinstance(domain, str) else None
                if host is None:
                    out.skipped += 1
                else:
                    out.owners.setdefault(host, org)


def _parse_disconnect(path: Path, source: str, entities: Path | None) -> _Parsed:
    doc = _expect(path, _read_json(path), dict, "the top level")
    if "categories" not in doc:
        if "entities" in doc or (doc and all(isinstance(v, dict) and "resources" in v
                                             for v in doc.values())):
            raise _fail(path, "is Disconnect's entities.json; import services.json "
                              "(entities.json beside it is read too)")
        raise _fail(path, "is not a Disconnect services.json (no 'categories')")
    licence = doc.get("license") if isinstance(doc.get("license"), str) else None
    out = _Parsed(source, LICENCES["disconnect"] if licence is None or "GNU" not in licence
                  else "GPL-3.0-or-later")
    labels: dict[str, list[str]] = {}
    mapped: dict[str, list[str]] = {}
    org_of: dict[str, str] = {}
    for cat, items in _expect(path, doc["categories"], dict, "'categories'").items():
        for i, item in enumerate(_expect(path, items, list, f"category {cat!r}")):
            item = _expect(path, item, dict, f"category {cat!r} item {i}")
            for org, body in item.items():
                body = _expect(path, body, dict, f"category {cat!r} organisation {org!r}")
                flags = [k for k, v in body.items() if isinstance(v, str) and v.lower() == "true"]
                for url, domains in body.items():
                    if isinstance(domains, str):
                        continue    # a flag such as "session-replay": "true" or "dnt": "eff"
                    for domain in _expect(path, domains, list,
                                          f"category {cat!r} organisation {org!r} {url!r}"):
                        host = normalize_host(domain) if isinstance(domain, str) else None
                        if host is None:
                            out.skipped += 1
                            continue
                        org_of.setdefault(host, org)
                        labels.setdefault(host, []).append(cat)
                        mapped.setdefault(host, []).append(DISCONNECT_MAP.get(cat, "unknown"))
                        for flag in flags:
                            labels[host].append(flag)
                            if flag in DISCONNECT_FLAG_MAP:
                                mapped[host].append(DISCONNECT_FLAG_MAP[flag])
    for host, org in org_of.items():
        cat = _pick(mapped[host])
        out.domains[host] = {
            "service": org, "organization": org, "category": cat,
            "source_category": _label(labels[host]), "tracker": cat in TRACKING_CATEGORIES,
        }
    if not out.domains:
        raise _fail(path, "lists no tracker domains")
    if entities is None:
        beside = path.with_name("entities.json")
        entities = beside if beside.is_file() and beside != path else None
    if entities is not None:
        _disconnect_entities(entities, out)
    return out


def _parse_duckduckgo(path: Path, source: str) -> _Parsed:
    doc = _expect(path, _read_json(path), dict, "the top level")
    if "trackers" not in doc:
        raise _fail(path, "is not a DuckDuckGo tracker blocklist (no 'trackers')")
    out = _Parsed(source, LICENCES["duckduckgo"])
    for key, tracker in _expect(path, doc["trackers"], dict, "'trackers'").items():
        tracker = _expect(path, tracker, dict, f"tracker {key!r}")
        owner = tracker.get("owner") or {}
        owner = _expect(path, owner, dict, f"tracker {key!r} field 'owner'")
        cats = _expect(path, tracker.get("categories", []), list, f"tracker {key!r} field 'categories'")
        domain = tracker.get("domain") or key
        host = normalize_host(domain) if isinstance(domain, str) else None
        if host is None:
            out.skipped += 1
            continue
        name = owner.get("name") if isinstance(owner.get("name"), str) else None
        display = owner.get("displayName") if isinstance(owner.get("displayName"), str) else None
        labels = [c for c in cats if isinstance(c, str)]
        cat = _pick(DUCKDUCKGO_MAP.get(c, "unknown") for c in labels)
        out.domains[host] = {
            "service": display or name, "organization": name or display, "category": cat,
            "source_category": _label(labels),
            "tracker": tracker.get("default") == "block" or cat in TRACKING_CATEGORIES,
        }
    domains = doc.get("domains")
    if domains is not None:
        for domain, entity in _expect(path, domains, dict, "'domains'").items():
            host = normalize_host(domain) if isinstance(domain, str) else None
            if host is None or not isinstance(entity, str):
                out.skipped += 1
            else:
                out.owners[host] = entity
    if not out.domains:
        raise _fail(path, "lists no trackers")
    return out


_HOSTLIKE = re.compile(r"(?<![\w.-])\.?([a-z0-9][a-z0-9-]*(?:\.[a-z0-9-]+)+)(?![\w-])", re.I)
_FIRST_PARTY = re.compile(r"1st party|first party|advertiser|website domain|\bsite\b", re.I)
_ANNOTATION = re.compile(r"\s*\[x\d+\]\s*$")


def _ocd_category(raw: str, name: str, description: str) -> str:
    cat = OCD_MAP.get(raw.strip(), "unknown")
    if cat == "essential" and raw.strip() == "Functional" and (
            _OCD_CONSENT.search(description) or _OCD_CONSENT.search(name)):
        return "consent"
    return cat


def _parse_ocd(path: Path, source: str) -> _Parsed:
    text = _read_text(path)
    if not text.strip():
        raise _fail(path, "is empty")
    reader = csv.DictReader(io.StringIO(text, newline=""))
    try:
        header = reader.fieldnames
    except csv.Error as e:
        raise _fail(path, f"is not CSV ({e})") from None
    header = [h.strip() for h in header or []]
    missing = [c for c in _OCD_REQUIRED if c not in header]
    if missing:
        raise _fail(path, f"is not the Open Cookie Database CSV (missing columns: {', '.join(missing)})")
    reader.fieldnames = header
    out = _Parsed(source, LICENCES["ocd"])
    try:
        for row in reader:
            name = _ANNOTATION.sub("", (row.get("Cookie / Data Key name") or "").strip())
            if not name or None in row:
                out.skipped += 1
                continue
            match = "prefix" if (row.get("Wildcard match") or "").strip() == "1" else "exact"
            for mark in ("<", "*"):             # "SR<RotatorID>", "_hj*": a placeholder ends the fixed part
                if mark in name:
                    name, match = name.split(mark, 1)[0], "prefix"
            if not name:
                out.skipped += 1
                continue
            where = (row.get("Domain") or "").strip()
            hosts = [normalize_host(h) for h in _HOSTLIKE.findall(where)]
            hosts = [h for h in hosts if h]
            anywhere = not where or not hosts or bool(_FIRST_PARTY.search(where))
            description = (row.get("Description") or "").strip()
            raw = (row.get("Category") or "").strip()
            out.cookies.append({
                "name": name, "match": match,
                "domains": None if anywhere else " ".join(dict.fromkeys(hosts)),
                "platform": (row.get("Platform") or "").strip() or None,
                "organization": (row.get("Data Controller") or "").strip() or None,
                "category": _ocd_category(raw, name, description),
                "source_category": raw or None,
                "purpose": description or None,
                "retention": (row.get("Retention period") or "").strip() or None,
            })
    except csv.Error as e:
        raise _fail(path, f"is not valid CSV (line {reader.line_num}: {e})") from None
    if not out.cookies:
        raise _fail(path, "has a header but no cookie rows")
    return out


_RULE = re.compile(r"\|\|([a-z0-9_.-]+)\^(?:\$(.*))?", re.I)
_PAGE_OPTIONS = ("domain=", "denyallow=", "from=", "to=", "removeparam", "redirect", "csp",
                 "badfilter", "rewrite", "~third-party", "first-party", "1p", "header=")


def _parse_filter_list(path: Path, source: str | None) -> _Parsed:
    text = _read_text(path)
    title = licence = None
    hosts: list[str] = []
    rules = skipped = 0
    for line in text.splitlines():
        line = line.strip()
        if not line:
            continue
        if line.startswith("!") or line.startswith("["):
            low = line.lower()
            if low.startswith("! title:") and title is None:
                title = line.split(":", 1)[1].strip() or None
            elif low.startswith("! license:") and licence is None:
                licence = line.split(":", 1)[1].strip() or None
            continue
        rules += 1
        m = _RULE.fullmatch(line)
        if m is None:
            skipped += 1          # exceptions (@@), cosmetic (##), path or pattern rules
            continue
        options = (m.group(2) or "").lower().split(",")
        if any(o.strip().startswith(_PAGE_OPTIONS) for o in options if o.strip()):
            skipped += 1          # only on some pages, or not a blocking rule
            continue
        host = normalize_host(m.group(1))
        if host is None or "." not in host:
            skipped += 1
            continue
        hosts.append(host)
    if not hosts:
        what = "no filter rules" if rules == 0 else "no domain rules (||host^)"
        raise _fail(path, f"is not a filter list with domain rules ({what})")
    name = title or path.stem
    out = _Parsed(source or f"filter-list:{name}", licence, skipped=skipped)
    for host in hosts:
        out.domains[host] = {"service": None, "organization": None, "category": "unknown",
                             "source_category": None, "tracker": True}
    return out


# --- the database ---------------------------------------------------------------------

def db_path(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().absolute() / DB_NAME


def _refuse_resources(data_dir: Path) -> None:
    """Imported lists never go into the app's bundled resources (NC licences)."""
    try:
        res = Path(str(bundled.root())).resolve()
    except (TypeError, OSError):   # pragma: no cover - zip imports have no folder to protect
        return
    target = Path(data_dir).expanduser().resolve()
    if target == res or res in target.parents:
        raise ListImportError(f"{data_dir}: refusing to store imported lists inside the app's "
                              "bundled resources; use the data folder")


def _open_for_writing(data_dir: Path) -> sqlite_utils.Database:
    path = db_path(data_dir)
    try:
        paths.create_private_file(path)
        conn = sqlite3.connect(str(path))
    except (OSError, sqlite3.Error) as e:
        raise ListImportError(f"{path}: cannot open the imported-knowledge database ({e})") from None
    db = sqlite_utils.Database(conn)
    try:
        _ensure_schema(db)
    except sqlite3.DatabaseError as e:
        db.close()
        raise ListImportError(f"{path}: the imported-knowledge database is unreadable ({e})") from None
    return db


def _ensure_schema(db: sqlite_utils.Database) -> None:
    if "sources" not in db.table_names():
        db["sources"].create({
            "source": str, "format": str, "file": str, "domains": int, "owners": int,
            "cookies": int, "skipped": int, "imported_at": str, "licence": str,
        }, pk="source")
    if "domains" not in db.table_names():
        db["domains"].create({
            "domain": str, "service": str, "organization": str, "category": str,
            "source_category": str, "tracker": int, "source": str, "source_file": str,
            "imported_at": str,
        }, pk=("source", "domain"))
        db["domains"].create_index(["domain"])
    if "owners" not in db.table_names():
        db["owners"].create({
            "domain": str, "organization": str, "source": str, "source_file": str,
            "imported_at": str,
        }, pk=("source", "domain"))
        db["owners"].create_index(["domain"])
    if "cookies" not in db.table_names():
        db["cookies"].create({
            "id": int, "name": str, "match": str, "domains": str, "platform": str,
            "organization": str, "category": str, "source_category": str, "purpose": str,
            "retention": str, "source": str, "source_file": str, "imported_at": str,
        }, pk="id")
        db["cookies"].create_index(["name"])
        db["cookies"].create_index(["source"])


def import_file(path: Path, fmt: str, data_dir: Path, *, entities: Path | None = None,
                source: str | None = None) -> ImportSummary:
    """Import one list file into ``<data_dir>/knowledge.db``, replacing that source's rows.

    ``entities`` (Disconnect only): the ``entities.json`` to read with ``services.json``;
    by default the one beside it, if any. ``source`` overrides the source name.
    """
    path = Path(path).expanduser()
    if fmt not in FORMATS:
        raise ListImportError(f"{path}: unknown format {fmt!r} (one of {', '.join(FORMATS)})")
    if entities is not None and fmt != "disconnect":
        raise ListImportError(f"{entities}: an entities file goes only with --format disconnect")
    _refuse_resources(data_dir)
    if fmt == "ghostery":
        parsed = _parse_ghostery(path, source or DEFAULT_SOURCES[fmt])
    elif fmt == "disconnect":
        parsed = _parse_disconnect(path, source or DEFAULT_SOURCES[fmt],
                                   Path(entities).expanduser() if entities else None)
    elif fmt == "duckduckgo":
        parsed = _parse_duckduckgo(path, source or DEFAULT_SOURCES[fmt])
    elif fmt == "ocd":
        parsed = _parse_ocd(path, source or DEFAULT_SOURCES[fmt])
    else:
        parsed = _parse_filter_list(path, source)

    now = iso_from_unix(time.time()) or ""
    file = str(path.absolute())
    src = parsed.source
    common = {"source": src, "source_file": file, "imported_at": now}
    db = _open_for_writing(data_dir)
    try:
        with db.atomic():
            for table in ("domains", "owners", "cookies"):
                db[table].delete_where("source = ?", [src])
            db["domains"].insert_all(
                ({"domain": host, **row, "tracker": int(row["tracker"]), **common}
                 for host, row in parsed.domains.items()), batch_size=1000)
            db["owners"].insert_all(
                ({"domain": host, "organization": org, **common}
                 for host, org in parsed.owners.items()), batch_size=1000)
            db["cookies"].insert_all(({**row, **common} for row in parsed.cookies),
                                     batch_size=1000)
            summary = ImportSummary(src, fmt, file, len(parsed.domains), len(parsed.owners),
                                    len(parsed.cookies), parsed.skipped, now, parsed.licence)
            db["sources"].upsert({
                "source": src, "format": fmt, "file": file, "domains": summary.domains,
                "owners": summary.owners, "cookies": summary.cookies,
                "skipped": summary.skipped, "imported_at": now, "licence": parsed.licence,
            }, pk="source")
    except sqlite3.DatabaseError as e:
        raise ListImportError(f"{db_path(data_dir)}: cannot store the import ({e})") from None
    finally:
        db.close()
    return summary


def _open_for_reading(data_dir: Path) -> sqlite_utils.Database | None:
    path = db_path(data_dir)
    if not path.exists():
        return None
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise ListImportError(f"{path}: the imported-knowledge database is unreadable ({e})") from None
    return sqlite_utils.Database(conn)


def _rows(db: sqlite_utils.Database, sql: str, path: Path) -> list[dict[str, Any]]:
    try:
        return list(db.query(sql))
    except sqlite3.Error as e:
        raise ListImportError(f"{path}: the imported-knowledge database is unreadable ({e})") from None


def sources(data_dir: Path) -> list[SourceInfo]:
    """What was imported: one record per source (empty if nothing was)."""
    db = _open_for_reading(data_dir)
    if db is None:
        return []
    try:
        if not _rows(db, "select name from sqlite_master", db_path(data_dir)):
            return []
        rows = _rows(db, "select source, format, file, domains, owners, cookies, skipped, "
                         "imported_at, licence from sources order by source", db_path(data_dir))
    finally:
        db.close()
    return [SourceInfo(**row) for row in rows]


# --- lookups --------------------------------------------------------------------------

_SOURCE_ORDER = {"ghostery": 0, "duckduckgo": 1, "disconnect": 2, "filter-list": 3, "ocd": 4}


@dataclass(frozen=True, slots=True)
class ImportedKnowledge:
    domains: Mapping[str, tuple[ImportedDomain, ...]]
    owners: Mapping[str, tuple[ImportedOwner, ...]]
    cookies_exact: Mapping[str, tuple[ImportedCookie, ...]]
    cookies_prefix: tuple[ImportedCookie, ...]   # longest prefix first
    sources: tuple[SourceInfo, ...]

    @classmethod
    def empty(cls) -> ImportedKnowledge:
        return cls({}, {}, {}, (), ())

    @classmethod
    def load(cls, data_dir: Path) -> ImportedKnowledge:
        """All imported facts; empty if nothing was imported; ListImportError if unreadable."""
        path = db_path(data_dir)
        db = _open_for_reading(data_dir)
        if db is None:
            return cls.empty()
        try:
            tables = {r["name"] for r in _rows(db, "select name from sqlite_master", path)}
            if not tables:          # created, but the first import never committed
                return cls.empty()
            src_rows = _rows(db, "select * from sources", path)
            dom_rows = _rows(db, "select * from domains", path)
            own_rows = _rows(db, "select * from owners", path)
            cookie_rows = _rows(db, "select * from cookies order by id", path)
        finally:
            db.close()
        infos = tuple(SourceInfo(**row) for row in src_rows)
        rank = {i.source: (_SOURCE_ORDER.get(i.format, 9), i.source) for i in infos}

        domains: dict[str, list[ImportedDomain]] = {}
        for r in dom_rows:
            d = ImportedDomain(r["domain"], r["service"], r["organization"], r["category"],
                               r["source_category"], bool(r["tracker"]), r["source"],
                               r["source_file"], r["imported_at"])
            domains.setdefault(d.domain, []).append(d)
        owners: dict[str, list[ImportedOwner]] = {}
        for r in own_rows:
            o = ImportedOwner(r["domain"], r["organization"], r["source"], r["source_file"],
                              r["imported_at"])
            owners.setdefault(o.domain, []).append(o)
        exact: dict[str, list[ImportedCookie]] = {}
        prefix: list[ImportedCookie] = []
        for r in cookie_rows:
            c = ImportedCookie(r["name"], r["match"], tuple((r["domains"] or "").split()),
                               r["platform"], r["organization"], r["category"],
                               r["source_category"], r["purpose"], r["retention"], r["source"],
                               r["source_file"], r["imported_at"])
            if c.match == "prefix":
                prefix.append(c)
            else:
                exact.setdefault(c.name, []).append(c)
        prefix.sort(key=lambda c: -len(c.name))

        def by_rank(items: list[Any], known_first: bool = False) -> tuple[Any, ...]:
            return tuple(sorted(items, key=lambda x: (
                known_first and getattr(x, "category", "unknown") == "unknown",
                rank.get(x.source, (9, x.source)))))

        return cls(
            {k: by_rank(v, True) for k, v in domains.items()},
            {k: by_rank(v) for k, v in owners.items()},
            {k: tuple(v) for k, v in exact.items()},
            tuple(prefix), infos)

    # domains

    def lookup_domain_all(self, host: str) -> tuple[ImportedDomain, ...]:
        """Every source's row for the nearest listed domain of ``host`` (dot boundaries)."""
        name = normalize_host(host)
        while name:
            found = self.domains.get(name)
            if found:
                return found
            dot = name.find(".")
            name = name[dot + 1:] if dot >= 0 else ""
        return ()

    def lookup_domain(self, host: str) -> ImportedDomain | None:
        """The best row for ``host``: the most specific listed domain, then a source with a
        known category, then Ghostery, DuckDuckGo, Disconnect, filter lists."""
        found = self.lookup_domain_all(host)
        return found[0] if found else None

    def lookup_owner(self, host: str) -> ImportedOwner | None:
        """The organisation owning ``host`` in an imported same-owner map, else None."""
        name = normalize_host(host)
        while name:
            found = self.owners.get(name)
            if found:
                return found[0]
            dot = name.find(".")
            name = name[dot + 1:] if dot >= 0 else ""
        return None

    # cookies

    @staticmethod
    def _site_ok(cookie: ImportedCookie, site: str | None) -> bool | None:
        """True: a listed domain matches; None: no restriction; False: restricted elsewhere."""
        if not cookie.domains:
            return None
        if site is None:
            return False
        return any(site == d or site.endswith("." + d) for d in cookie.domains)

    def match_cookie_all(self, name: str, site: str | None) -> tuple[ImportedCookie, ...]:
        """Rows whose name matches ``name`` on ``site`` (the cookie's host or site), best first:
        exact names before prefixes, longer prefixes first, a matching listed domain before
        an unrestricted row. Short prefixes (< 4 characters) need a matching listed domain."""
        host = normalize_host(site) if site else None
        scored: list[tuple[tuple[int, int, int], int, ImportedCookie]] = []
        for i, c in enumerate(self.cookies_exact.get(name, ())):
            ok = self._site_ok(c, host)
            if ok is not False:
                scored.append(((0, 0, 0 if ok else 1), i, c))
        for i, c in enumerate(self.cookies_prefix):
            if not name.startswith(c.name):
                continue
            ok = self._site_ok(c, host)
            if ok is False or (ok is None and len(c.name) < MIN_FREE_PREFIX):
                continue
            scored.append(((1, -len(c.name), 0 if ok else 1), i, c))
        scored.sort(key=lambda t: (t[0], t[1]))
        return tuple(c for _, _, c in scored)

    def match_cookie(self, name: str, site: str | None) -> ImportedCookie | None:
        found = self.match_cookie_all(name, site)
        return found[0] if found else None
