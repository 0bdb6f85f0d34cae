"""Cookie names and storage keys that tell which vendor set an entry.

A vendor's script often sets its cookie on the site that embeds it (``_ga`` or
``_mkto_trk`` on liveops.com), so the domain alone names the site owner, not the
vendor. ``names.json`` (in ``privacy_inspector.resources``, under ``knowledge/``)
lists such names: each rule matches a name exactly, by prefix or by regular
expression (always the whole name), for some kinds of entry, and names a service of
``services.json``. A rule with ``only_on`` counts only on those registrable domains:
required for short or generic names (``fr`` is Facebook's only on facebook.com).

:func:`match_name` picks the most specific rule: exact, then the longest prefix,
then the first regular expression, each only among rules that apply to the kind
and the site. No Qt, no network.
"""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from privacy_inspector import bundled
from privacy_inspector.core.knowledge import (
    KnowledgeError,
    Service,
    load_knowledge,
    normalize_host,
    validate,
)

FORMAT_VERSION = 1
FILE = "names.json"
MATCHES = ("exact", "prefix", "regex")
KINDS = ("cookie", "local_storage", "session_storage")
CATEGORIES = ("essential", "consent", "preferences", "analytics", "optimization",
              "marketing_automation", "advertising", "social_media",
              "customer_interaction", "embedded_content", "unknown")
OCD = "ocd"  # Open Cookie Database (Apache-2.0), see SOURCES.md

# An exact name of letters and digits this short (``fr``, ``IDE``, ``NID``, ``uid``), or
# one of these names, says nothing about its vendor by itself. A short name with the
# vendor's own punctuation (``_ga``, ``_gid``, ``_fbp``) is distinctive.
GENERIC_MAX_LEN = 4
GENERIC_NAMES = frozenset({
    "uid", "id", "lang", "language", "locale", "sid", "session", "sessionid", "session_id",
    "token", "user", "userid", "user_id", "visitor", "visitor_id", "consent", "pref",
    "prefs", "test", "test_cookie", "csrf", "csrftoken", "auth", "login", "mid", "guest_id",
    "presence", "country", "currency", "theme", "cookie", "cookies", "tracking", "_guid",
    "_id", "_uid", "_sid", "_session", "_token",
})

_HOST = r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)+$"

SCHEMA: Mapping[str, Any] = {
    "type": "object",
    "required": ["format_version", "data_version", "rules"],
    "additionalProperties": False,
    "properties": {
        "$comment": {"type": "string"},
        "format_version": {"const": FORMAT_VERSION},
        "data_version": {"type": "string", "minLength": 1},
        "rules": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["match", "pattern", "kinds", "purpose", "lifetime", "source"],
                "additionalProperties": False,
                "properties": {
                    "match": {"enum": list(MATCHES)},
                    "pattern": {"type": "string", "minLength": 1},
                    "kinds": {"type": "array", "minItems": 1, "items": {"enum": list(KINDS)}},
                    "service": {"type": "string", "minLength": 1,
                                "$comment": "an id in services.json"},
                    "vendor": {"type": "string", "minLength": 1,
                               "$comment": "only for a vendor without a service in services.json"},
                    "only_on": {"type": "array", "minItems": 1,
                                "items": {"type": "string", "pattern": _HOST}},
                    "category": {"enum": list(CATEGORIES)},
                    "purpose": {"type": "string", "minLength": 1},
                    "lifetime": {"type": "string", "minLength": 1},
                    "source": {"type": "string", "pattern": r"^(ocd|https://\S+)$"},
                    "set_by": {"enum": ["vendor", "site"],
                               "$comment": "site: a web platform's cookie that each site's own "
                                           "server sets (PHPSESSID); the vendor field names "
                                           "the platform"},
                },
            },
        },
    },
}


@dataclass(frozen=True, slots=True)
class NameRule:
    match: str                       # "exact", "prefix" or "regex"
    pattern: str
    kinds: frozenset[str]
    service: str | None              # id in services.json; None only for a vendor missing there
    service_record: Service | None   # that service (organisation, category, ...)
    vendor: str                      # service name, or the "vendor" field
    only_on: frozenset[str]          # empty: any site
    category: str                    # the rule's, else the service's
    purpose: str
    lifetime: str
    source: str                      # a vendor URL or "ocd"
    # A web platform's cookie that the site's own server sets (PHP's PHPSESSID):
    # it tells the category and purpose, but the organisation is the site's.
    set_by_site: bool = False

    def applies(self, kind: str, site: str | None) -> bool:
        return kind in self.kinds and (not self.only_on or site in self.only_on)


def is_generic(pattern: str) -> bool:
    """True for an exact name that does not identify a vendor on its own."""
    plain = pattern.replace("-", "").replace(".", "")
    return (len(pattern) <= GENERIC_MAX_LEN and plain.isalnum()) or pattern.lower() in GENERIC_NAMES


class NameIndex:
    """Rules indexed for :meth:`match`: a dict of exact names, prefixes sorted, regexes compiled."""

    def __init__(self, rules: Sequence[NameRule]) -> None:
        self.rules = tuple(rules)
        self._exact: dict[str, list[NameRule]] = {}
        prefixes: dict[str, list[NameRule]] = {}
        self._regex: list[tuple[re.Pattern[str], NameRule]] = []
        for rule in self.rules:
            if rule.match == "exact":
                self._exact.setdefault(rule.pattern, []).append(rule)
            elif rule.match == "prefix":
                prefixes.setdefault(rule.pattern, []).append(rule)
            else:
                self._regex.append((re.compile(rule.pattern), rule))
        # Rules with only_on first: a site-specific rule beats a general one.
        for group in (*self._exact.values(), *prefixes.values()):
            group.sort(key=lambda r: not r.only_on)
        self._prefix_keys = sorted(prefixes)
        self._prefixes = prefixes
        self._first_chars = frozenset(p[0] for p in prefixes)

    def match_name(self, name: str, kind: str, site: str | None) -> NameRule | None:
        """The most specific rule for ``name`` of ``kind`` under ``site``, or None."""
        site = normalize_host(site) if site else None
        for rule in self._exact.get(name, ()):
            if rule.applies(kind, site):
                return rule
        if name and name[0] in self._first_chars:
            best: NameRule | None = None
            best_len = -1
            keys = self._prefix_keys
            # Every prefix of ``name`` sorts at or before it; walk back over candidates
            # that share the first character.
            i = bisect.bisect_right(keys, name)
            while i > 0:
                i -= 1
                key = keys[i]
                if key[0] != name[0]:
                    break
                if len(key) > best_len and name.startswith(key) and len(name) > len(key):
                    for rule in self._prefixes[key]:
                        if rule.applies(kind, site):
                            best, best_len = rule, len(key)
                            break
            if best is not None:
                return best
        for compiled, rule in self._regex:
            if rule.applies(kind, site) and compiled.fullmatch(name):
                return rule
        return None


def build(doc: Mapping[str, Any], services: Mapping[str, Service]) -> NameIndex:
    """Check ``doc`` (schema, service ids, regexes, the generic-name rule) and index it."""
    validate(doc, SCHEMA, FILE)
    rules: list[NameRule] = []
    seen: set[tuple[str, str, frozenset[str]]] = set()
    for i, r in enumerate(doc["rules"]):
        where = f"{FILE} rule {i} ({r['pattern']!r})"
        sid, vendor = r.get("service"), r.get("vendor")
        by_site = r.get("set_by") == "site"
        if by_site and (vendor is None or "category" not in r):
            raise KnowledgeError(f"{where}: a site's platform cookie names its platform as "
                                 "'vendor' and has a 'category'")
        if (sid is None) == (vendor is None):
            raise KnowledgeError(f"{where}: needs exactly one of 'service' and 'vendor'")
        service = None
        if sid is not None:
            service = services.get(sid)
            if service is None:
                raise KnowledgeError(f"{where}: unknown service {sid!r}")
        elif "category" not in r:
            raise KnowledgeError(f"{where}: a rule without a service needs a category")
        if r["match"] == "regex":
            try:
                re.compile(r["pattern"])
            except re.error as exc:
                raise KnowledgeError(f"{where}: bad regular expression: {exc}") from None
        only_on = frozenset(r.get("only_on", ()))
        # A generic name says nothing of a vendor; a platform's cookie names none.
        if r["match"] == "exact" and is_generic(r["pattern"]) and not only_on and not by_site:
            raise KnowledgeError(f"{where}: a generic name needs 'only_on'")
        if r["match"] == "prefix" and len(r["pattern"]) < 3 and not only_on:
            raise KnowledgeError(f"{where}: a prefix this short needs 'only_on'")
        key = (r["match"], r["pattern"], only_on)
        if key in seen:
            raise KnowledgeError(f"{where}: duplicate rule")
        seen.add(key)
        rules.append(NameRule(
            match=r["match"], pattern=r["pattern"], kinds=frozenset(r["kinds"]),
            service=sid, service_record=service,
            vendor=service.name if service else vendor, only_on=only_on,
            category=r.get("category") or service.category,  # type: ignore[union-attr]
            purpose=r["purpose"], lifetime=r["lifetime"], source=r["source"],
            set_by_site=by_site))
    return NameIndex(rules)


def load_document() -> Any:
    return json.loads(bundled.path("knowledge", FILE).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def load_names() -> NameIndex:
    """The bundled name rules (loaded and checked once per process)."""
    return build(load_document(), load_knowledge().services)


def match_name(name: str, kind: str, site: str) -> NameRule | None:
    """The vendor rule for a cookie or storage key ``name`` of ``kind`` under ``site``, or None.

    ``site`` is the registrable domain the entry belongs to (``liveops.com``).
    """
    return load_names().match_name(name, kind, site)
