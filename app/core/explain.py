"""The explanation of one entry: who, what, how long, tracker or not, why, and the policy's words.

Returned as plain data; the CLI renders it as text or JSON (and the GUI will
render the same data).  Values never appear here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from privacy_inspector.core.classify import Classifier, possessive
from privacy_inspector.core.records import Entry

KIND_WORDS = {
    "cookie": "cookie",
    "local_storage": "localStorage key",
    "session_storage": "sessionStorage key",
    "indexed_db": "IndexedDB database",
    "cache_storage": "Cache Storage cache",
    "service_worker": "service worker",
}


@dataclass(frozen=True, slots=True)
class Explanation:
    entry: Entry
    who: str
    what: str
    how_long: str
    # Whether the value looks like a unique id, said without showing it.
    value: str
    tracker: str
    why: str
    # (clause id, title, the policy's words) for each covering clause.
    clauses: tuple[tuple[str, str, str], ...]
    # What the visitor can do: (label, url or None).
    choices: tuple[tuple[str, str | None], ...]
    not_covered: str | None
    # Where the quoted words come from: (title, url, archived date or None).
    source: tuple[str, str, str | None] | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.entry.id,
            "who": self.who,
            "what": self.what,
            "how_long": self.how_long,
            "value": self.value,
            "tracker": self.tracker,
            "why": self.why,
            "policy_clauses": [
                {"id": cid, "title": title, "text": text} for cid, title, text in self.clauses
            ],
            "choices": [{"label": label, "url": url} for label, url in self.choices],
            "not_covered": self.not_covered,
            "policy_source": ({"title": self.source[0], "url": self.source[1],
                               "archived": self.source[2]} if self.source else None),
        }


def _who(entry: Entry, owner: str) -> str:
    if entry.party == "first_party":
        return f"{owner}, the site's owner (first party)"
    if entry.organization:
        product = f" ({entry.service})" if entry.service and entry.service != entry.organization else ""
        where = ""
        if entry.on_owner_site:
            where = f", set on {possessive(owner)} domain by {possessive(entry.organization)} script"
        elif entry.partition_site and entry.partition_site != entry.site:
            where = f", in a frame on {entry.partition_site}"
        party = "third party" if entry.party == "third_party" else "not seen in connection with the owner"
        return f"{entry.organization}{product}, {party}{where}"
    if entry.party == "third_party":
        return f"an unknown company at {entry.site}, seen under {possessive(owner)} site (third party)"
    return f"{entry.site}, a site unrelated to {owner}"


def _how_long(entry: Entry) -> str:
    if not entry.persistent:
        return "until the browser session ends"
    if entry.expires:
        return f"until {entry.expires}"
    return "until deleted (no expiry)"


def _value(entry: Entry) -> str:
    if entry.identifier_like is None:
        return "could not be read, so whether it identifies the visitor cannot be judged"
    if entry.identifier_like:
        return "looks like a unique identifier (judged from its make-up and lifetime, not shown)"
    if not entry.persistent:
        return "does not count as an identifier: it is gone when the session ends"
    return "does not look like a unique identifier"


def explain(entry: Entry, classifier: Classifier) -> Explanation:
    """Explain a classified entry against the classifier's policy."""
    policy = classifier.policy
    owner = policy.owner.name
    verdict = classifier.verdict(entry)
    kind = KIND_WORDS.get(entry.kind, entry.kind)
    category = entry.category or "unknown"
    if entry.tracker:
        tracker = f"yes: it is {category.replace('_', ' ')}"
        if category == "unknown" or category not in (
            "analytics", "optimization", "marketing_automation", "advertising", "social_media"
        ):
            tracker = "yes: a third party's value that looks like an identifier"
    else:
        tracker = f"no: it is {category.replace('_', ' ')}"
    clauses = tuple((c.id, c.title, c.text) for c in (policy.clause(i) for i in entry.policy_clauses))
    choices: list[tuple[str, str | None]] = []
    for clause_id in entry.policy_clauses:
        for choice in policy.clause(clause_id).choices:
            if (choice.label, choice.url) not in choices:
                choices.append((choice.label, choice.url))
    choices.append((f"Remove it in the browser's own site-data settings for {entry.site}", None))
    not_covered = None
    if not clauses:
        not_covered = (
            f"{possessive(owner)} privacy policy does not cover this {kind}"
            + (
                f": it was set by {entry.host}, not in {possessive(owner)} context."
                if entry.party == "unrelated"
                else "."
            )
        )
    return Explanation(
        entry=entry,
        who=_who(entry, owner),
        what=f"{'An' if kind[0] in 'aeiouAEIOU' else 'A'} {kind} of {entry.host}. "
             f"{entry.purpose or ''}".strip(),
        how_long=_how_long(entry),
        value=_value(entry),
        tracker=tracker,
        why=verdict.reason,
        clauses=clauses,
        choices=tuple(choices),
        not_covered=not_covered,
        source=(policy.source.title, policy.source.url,
                policy.source.archived.isoformat() if policy.source.archived else None),
    )
