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

from collections.abc import Iterable
from dataclasses import dataclass

from privacy_inspector.core.entropy import identifier_like
from privacy_inspector.core.imports import ImportedCookie, ImportedDomain, ImportedKnowledge
from privacy_inspector.core.knowledge import Knowledge, load_knowledge
from privacy_inspector.core.names import NameIndex, NameRule, load_names
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
    # A list the user imported calls it a tracker (filter lists give no category).
    listed_tracker: bool = False

    @property
    def tracking(self) -> bool:
        return self.listed_tracker or self.category in TRACKING_CATEGORIES


# Where the classification fields start in an Entry.
_CLASSIFIED_FROM = Entry._fields.index("organization")
_new_entry = tuple.__new__


def possessive(name: str) -> str:
    """``LiveOps'``, ``Google's``: as the policy itself writes it."""
    return f"{name}'" if name.endswith("s") else f"{name}'s"


class Classifier:
    """Classifies entries against one policy and the knowledge base."""

    def __init__(
        self,
        policy: Policy,
        knowledge: Knowledge | None = None,
        names: NameIndex | None = None,
        imported: ImportedKnowledge | None = None,
    ) -> None:
        self.policy = policy
        self.knowledge = knowledge if knowledge is not None else load_knowledge()
        self._names = names if names is not None else load_names()
        # Lists the user imported: consulted where the bundled knowledge has no answer.
        self.imported = imported
        self._cache: dict[tuple[str, str, str, str | None, int | None], Verdict] = {}
        self._rules: dict[tuple[str, str, str], NameRule | ImportedCookie | None] = {}
        # Coverage depends on a handful of values: the policy is asked once each.
        self._clauses: dict[tuple[str, str, str, bool, str | None], tuple[str, ...]] = {}

    def _name_rule(self, entry: Entry) -> NameRule | ImportedCookie | None:
        """The name rule matching the entry (bundled first, then an imported
        cookie list), cached by (kind, name, site)."""
        if entry.kind not in ("cookie", "local_storage", "session_storage"):
            return None
        key = (entry.kind, entry.name, entry.site)
        try:
            return self._rules[key]
        except KeyError:
            rule: NameRule | ImportedCookie | None = self._names.match_name(
                entry.name, entry.kind, entry.site
            )
            if rule is None and self.imported is not None and entry.kind == "cookie":
                rule = self.imported.match_cookie(entry.name, entry.site)
            self._rules[key] = rule
            return rule

    def verdict(self, entry: Entry) -> Verdict:
        """The verdict for an entry.  It depends on the name only through the
        name rule that matches, so entries of one host share it: a profile with
        100,000 differently named cookies on a few thousand hosts needs only a
        few thousand decisions."""
        rule = self._name_rule(entry)
        key = (entry.kind, entry.host, entry.site, entry.partition_site, id(rule) if rule else None)
        found = self._cache.get(key)
        if found is None:
            found = self._cache[key] = self._decide(entry, rule)
        return found

    def _clauses_for(self, entry: Entry, category: str, party: str, on_owner_site: bool) -> tuple[str, ...]:
        key = (entry.kind, category, party, on_owner_site, entry.partition_site)
        clauses = self._clauses.get(key)
        if clauses is None:
            clauses = self._clauses[key] = self.policy.clauses_for(*key)
        return clauses

    def _from_list(
        self, entry: Entry, fact: ImportedCookie | ImportedDomain, on_owner_site: bool,
        in_owner_context: bool,
    ) -> Verdict:
        """A verdict from a list the user imported (shown with its source)."""
        category = fact.category
        listed = isinstance(fact, ImportedDomain) and fact.tracker
        tracking = listed or category in TRACKING_CATEGORIES
        if fact.organization or tracking:
            party = "third_party" if in_owner_context or tracking else "unrelated"
        else:
            party = "first_party" if on_owner_site else ("third_party" if in_owner_context else "unrelated")
        what = f"its name {entry.name!r}" if isinstance(fact, ImportedCookie) else entry.host
        purpose = (fact.purpose if isinstance(fact, ImportedCookie) else None) or CATEGORY_PURPOSE[category]
        return Verdict(
            organization=fact.organization or (self.policy.owner.name if party == "first_party" else None),
            service=fact.service if isinstance(fact, ImportedDomain) else fact.platform,
            category=category,
            party=party,
            on_owner_site=on_owner_site,
            purpose=purpose,
            policy_clauses=self._clauses_for(entry, category, party, on_owner_site),
            reason=f"{what} is listed by {fact.source} (imported from {fact.source_file})",
            listed_tracker=listed,
        )

    def _decide(self, entry: Entry, rule: NameRule | ImportedCookie | None) -> Verdict:
        policy = self.policy
        on_owner_site = policy.is_owner_site(entry.site)
        in_owner_context = on_owner_site or (
            entry.partition_site is not None and policy.is_owner_site(entry.partition_site)
        )
        if isinstance(rule, ImportedCookie):
            return self._from_list(entry, rule, on_owner_site, in_owner_context)
        # The bundled knowledge of the host, asked once; imported lists are
        # consulted only where neither a name rule nor it has an answer.
        known = self.knowledge.lookup_domain(entry.host) if rule is None else None
        if rule is None and known is None and self.imported is not None:
            listed = self.imported.lookup_domain(entry.host)
            if listed is not None:
                return self._from_list(entry, listed, on_owner_site, in_owner_context)
        if rule is not None and rule.set_by_site:
            return self._platform(entry, rule, on_owner_site, in_owner_context)
        service = rule.service_record if rule is not None else None
        vendor_only = rule is not None and service is None
        if rule is not None:
            # A vendor's cookie or storage key, on whatever site it is stored.
            category = rule.category
            purpose = rule.purpose
            reason = f"its name matches {possessive(rule.vendor)} {rule.pattern!r} ({rule.source})"
            if on_owner_site:
                owner_name = service.organization.name if service is not None else rule.vendor
                reason += (
                    f", set on {possessive(policy.owner.name)} domain by "
                    f"{possessive(owner_name)} script"
                )
        else:
            service = known
            if service is not None:
                category = service.category
                purpose = CATEGORY_PURPOSE[category]
                reason = f"{entry.host} is a domain of {service.name} ({service.source})"
            else:
                category = "unknown"
                purpose = CATEGORY_PURPOSE["unknown"]
                reason = "no name or domain rule matched"
        if vendor_only:
            # A vendor the domain knowledge does not list (for example OneTrust).
            organization_name: str | None = rule.vendor  # type: ignore[union-attr]
            party = "third_party" if in_owner_context or category in TRACKING_CATEGORIES else "unrelated"
            return Verdict(organization_name, None, category, party, on_owner_site, purpose,
                           self._clauses_for(entry, category, party, on_owner_site), reason)
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
        clauses = self._clauses_for(entry, category, party, on_owner_site)
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

    def _platform(self, entry: Entry, rule: NameRule, on_owner_site: bool,
                  in_owner_context: bool) -> Verdict:
        """A web platform's cookie (PHP's PHPSESSID): the site's own server set it,
        so it is the site's, with the category and purpose the platform documents."""
        owner = self.policy.owner.name
        reason = (f"its name is {possessive(rule.vendor)} {rule.pattern!r} ({rule.source}), "
                  "which a site's own server sets")
        # Whose site it is: the owner's, or a company the domain knowledge knows.
        known = None if on_owner_site else self.knowledge.lookup_domain(entry.host)
        purpose = rule.purpose
        if on_owner_site:
            organization, party = owner, "first_party"
            purpose = f"{rule.purpose} Set by {possessive(owner)} own site."
        elif known is not None:
            organization = known.organization.name
            party = "third_party" if in_owner_context else "unrelated"
            reason += f"; {entry.host} is a domain of {known.name} ({known.source})"
        else:
            organization, party = None, ("third_party" if in_owner_context else "unrelated")
        return Verdict(organization, known.name if known is not None else None, rule.category,
                       party, on_owner_site, purpose,
                       self._clauses_for(entry, rule.category, party, on_owner_site), reason)

    def classify(self, entries: Iterable[Entry]) -> list[Entry]:
        """The entries with their classification fields filled."""
        out = []
        append = out.append
        cut = _CLASSIFIED_FROM
        for entry in entries:
            v = self.verdict(entry)
            # Readers measure every value they read, shown or not (see EntryFactory).
            identifier = entry.identifier_like
            if identifier is None and entry.value is not None:
                identifier = identifier_like(entry.value, entry.persistent)
            tracker = v.tracking or (v.party == "third_party" and identifier is True)
            # In the order of Entry's fields from ``organization`` on (a test checks).
            append(_new_entry(Entry, entry[:cut] + (
                v.organization, v.service, v.party, v.on_owner_site, v.category, tracker,
                identifier, v.purpose, v.policy_clauses,
            )))
        return out
