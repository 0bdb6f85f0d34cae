"""Who set an entry, what it is for, whether it tracks, and which clauses cover it.

The classification fields of the contract (``organization``, ``service``,
``category``, ``party``, ``on_owner_site``, ``tracker``, ``identifier_like``,
``purpose``, ``policy_clauses``) are filled from three sources, in order:

1. the entry's name: a vendor's cookie or storage key such as ``_ga`` names
   its vendor even on the owner's own domain (``privacy_inspector.core.names``);
2. the entry's host: a tracker domain of the knowledge base
   (``privacy_inspector.core.knowledge``, WhoTracks.me 2018 plus curation);
3. the policy: the owner's own sites (``privacy_inspector.core.policy``).

``party`` follows the contract: ``first_party`` is the policy's owner;
``third_party`` is another company seen in the owner's context (on the owner's
site or partitioned under it) or a known tracker anywhere; ``unrelated`` is the
rest.  ``tracker`` is true for the tracking categories, and for a third-party
entry whose value looks like an identifier.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

from privacy_inspector.core.knowledge import Knowledge, Service, load_knowledge
from privacy_inspector.core.policy import Policy
from privacy_inspector.core.records import Entry

TRACKING_CATEGORIES = frozenset(
    {"analytics", "optimization", "marketing_automation", "advertising", "social_media"}
)

# One plain sentence per category, for entries no rule describes more closely.
CATEGORY_PURPOSE = {
    "essential": "Keeps a site or one of its services working (sign-in, security, load balancing).",
    "consent": "Remembers the visitor's choices about cookies and tracking.",
    "preferences": "Remembers the visitor's settings, such as language or layout.",
    "analytics": "Counts visits and measures how visitors use the site.",
    "optimization": "Tests variants of pages or records how visitors use them, to improve the site.",
    "marketing_automation": "Ties visits to a sales and marketing profile of the visitor.",
    "advertising": "Recognises the visitor across sites to choose and measure advertising.",
    "social_media": "Lets a social network know the visitor saw or used its button or widget.",
    "customer_interaction": "Runs a chat or support widget and remembers the conversation.",
    "embedded_content": "Belongs to content embedded from another service, such as a video or a font.",
    "unknown": "The app has no rule for this entry, so its purpose is unknown.",
}


@dataclass(frozen=True, slots=True)
class Verdict:
    organization: str | None
    service: str | None
    category: str
    party: str
    on_owner_site: bool
    purpose: str
    policy_clauses: tuple[str, ...]
    # Why the app thinks so, for ``explain``: the rule or list that matched.
    reason: str


def possessive(name: str) -> str:
    """``LiveOps'``, ``Google's``: as the policy itself writes it."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def identifier_like(value: str | None, persistent: bool) -> bool | None:
    """Whether a value looks like a unique identifier; None where it cannot be judged.

    In the spirit of Privacy Badger's check: a value with enough distinct,
    evenly spread characters to single out one browser among millions (at
    least 32 bits by its Shannon entropy), kept beyond the session.  The value
    is only measured, never stored or shown.
    """
    if value is None:
        return None
    if not persistent or len(value) < 8:
        return False
    counts = Counter(value)
    length = len(value)
    bits_per_char = -sum(c / length * math.log2(c / length) for c in counts.values())
    return bits_per_char * length >= 32 and len(counts) >= 6


class Classifier:
    """Classifies entries against one policy and the knowledge base."""

    def __init__(self, policy: Policy, knowledge: Knowledge | None = None, names: object = None) -> None:
        self.policy = policy
        self.knowledge = knowledge if knowledge is not None else load_knowledge()
        self._names = names if names is not None else _load_names()
        self._cache: dict[tuple[str, str, str, str, str | None], Verdict] = {}

    def _name_rule(self, entry: Entry) -> tuple[Service | None, object | None]:
        if self._names is None or entry.kind not in ("cookie", "local_storage", "session_storage"):
            return None, None
        rule = self._names.match_name(entry.name, entry.kind, entry.site)  # type: ignore[attr-defined]
        if rule is None:
            return None, None
        return self.knowledge.services.get(rule.service), rule

    def verdict(self, entry: Entry) -> Verdict:
        key = (entry.kind, entry.name, entry.host, entry.site, entry.partition_site)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._decide(entry)
        return found

    def _decide(self, entry: Entry) -> Verdict:
        policy = self.policy
        on_owner_site = policy.is_owner_site(entry.site)
        in_owner_context = on_owner_site or (
            entry.partition_site is not None and policy.is_owner_site(entry.partition_site)
        )
        service, rule = self._name_rule(entry)
        if service is not None:
            category = getattr(rule, "category", None) or service.category
            purpose = getattr(rule, "purpose", None) or CATEGORY_PURPOSE[category]
            reason = f"its name matches {service.name}'s {getattr(rule, 'pattern', entry.name)!r}"
            if on_owner_site:
                reason += (
                    f", set on {possessive(policy.owner.name)} domain by "
                    f"{possessive(service.organization.name)} script"
                )
        else:
            service = self.knowledge.lookup_domain(entry.host)
            if service is not None:
                category = service.category
                purpose = CATEGORY_PURPOSE[category]
                reason = f"{entry.host} is a domain of {service.name} ({service.source})"
            else:
                category = "unknown"
                purpose = CATEGORY_PURPOSE["unknown"]
                reason = "no name or domain rule matched"
        if service is not None:
            organization: str | None = service.organization.name
            party = (
                "third_party"
                if in_owner_context or category in TRACKING_CATEGORIES
                else "unrelated"
            )
        elif on_owner_site:
            organization = policy.owner.name
            party = "first_party"
            purpose = f"Set by {possessive(policy.owner.name)} own site; the app knows no more about it."
            reason = f"{entry.site} is one of {possessive(policy.owner.name)} sites in the policy"
        elif in_owner_context:
            organization, party = None, "third_party"
            reason += f", seen under {possessive(policy.owner.name)} site"
        else:
            organization, party = None, "unrelated"
        clauses = policy.clauses_for(
            entry.kind, category, party, on_owner_site, entry.partition_site
        )
        return Verdict(
            organization=organization,
            service=service.name if service is not None else None,
            category=category,
            party=party,
            on_owner_site=on_owner_site,
            purpose=purpose,
            policy_clauses=clauses,
            reason=reason,
        )

    def classify(self, entries: Iterable[Entry]) -> list[Entry]:
        out = []
        for entry in entries:
            v = self.verdict(entry)
            identifier = identifier_like(entry.value, entry.persistent)
            tracker = v.category in TRACKING_CATEGORIES or (
                v.party == "third_party" and identifier is True
            )
            out.append(
                entry._replace(
                    organization=v.organization,
                    service=v.service,
                    category=v.category,
                    party=v.party,
                    on_owner_site=v.on_owner_site,
                    tracker=tracker,
                    identifier_like=identifier,
                    purpose=v.purpose,
                    policy_clauses=v.policy_clauses,
                )
            )
        return out


def _load_names() -> object | None:
    """The name rules, where the knowledge base has them."""
    try:
        from privacy_inspector.core import names
    except ImportError:
        return None
    return names.load_names()
