"""A step-by-step explanation for showing a customer what a site left behind.

Support staff walk a customer through one site (the policy's owner by
default): first what the owner itself stored, then each other company seen
in the owner's context, and for each step the clauses of the policy that
cover those entries, in the policy's own words, with the choices the policy
offers.  The presenter mode of the window shows these steps one at a time;
values never appear (only names, hosts and what they are for).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from privacy_inspector.core.classify import Classifier, possessive
from privacy_inspector.core.explain import KIND_WORDS
from privacy_inspector.core.records import Entry

__all__ = ["Step", "in_focus", "steps"]


@dataclass(frozen=True)
class Step:
    title: str
    paragraphs: tuple[str, ...]
    entry_ids: frozenset[str]  # what the table shows during this step
    # (clause id, title, the policy's words) of the clauses that cover the step's entries
    clauses: tuple[tuple[str, str, str], ...] = ()
    choices: tuple[tuple[str, str | None], ...] = ()


def in_focus(entry: Entry, focus: str, classifier: Classifier) -> bool:
    """Whether ``entry`` belongs to the site in focus: stored by it, stored under
    it (partitioned), or, when the focus is the policy owner's site, stored by
    a company seen in the owner's context."""
    if entry.site == focus or entry.partition_site == focus:
        return True
    return classifier.policy.is_owner_site(focus) and entry.party in ("first_party", "third_party")


def _count(entries: Sequence[Entry]) -> str:
    kinds = Counter(KIND_WORDS.get(e.kind, e.kind) for e in entries)
    return ", ".join(f"{n} {kind}{'s' if n > 1 else ''}" for kind, n in kinds.most_common())


def _names(entries: Sequence[Entry], limit: int = 12) -> str:
    names = sorted({f"{e.name} ({e.host})" for e in entries})
    more = f", and {len(names) - limit} more" if len(names) > limit else ""
    return ", ".join(names[:limit]) + more


def _clauses(entries: Iterable[Entry], classifier: Classifier
             ) -> tuple[tuple[tuple[str, str, str], ...], tuple[tuple[str, str | None], ...]]:
    policy = classifier.policy
    ids: list[str] = []
    for entry in entries:
        for clause_id in entry.policy_clauses:
            if clause_id not in ids:
                ids.append(clause_id)
    order = {cid: i for i, cid in enumerate(policy.clause_ids)}
    ids.sort(key=lambda cid: order.get(cid, len(order)))
    clauses = tuple((c.id, c.title, c.text) for c in map(policy.clause, ids))
    choices: list[tuple[str, str | None]] = []
    for cid in ids:
        for choice in policy.clause(cid).choices:
            if (choice.label, choice.url) not in choices:
                choices.append((choice.label, choice.url))
    return clauses, tuple(choices)


def steps(entries: Sequence[Entry], classifier: Classifier, focus: str | None = None) -> list[Step]:
    """The walk-through for ``focus`` (a registrable domain; default: the
    owner's first site), over the entries that are not stale copies."""
    policy = classifier.policy
    owner = policy.owner.name
    focus = focus or (policy.owner.sites[0] if policy.owner.sites else None)
    if focus is None:
        return []
    shown = [e for e in entries if not e.stale and in_focus(e, focus, classifier)]
    own = [e for e in shown if e.party == "first_party" or (e.site == focus and not e.organization)]
    own_ids = {e.id for e in own}
    others: dict[str, list[Entry]] = defaultdict(list)
    for e in shown:
        if e.id not in own_ids:
            others[e.organization or e.site or e.host].append(e)
    companies = sorted(others.items(), key=lambda kv: (-len(kv[1]), kv[0].casefold()))
    trackers = sum(1 for e in shown if e.tracker)
    is_owner = policy.is_owner_site(focus)
    intro = [
        f"This is what {focus} left in this browser: {len(shown)} entries"
        + (f", {len(own)} of them {possessive(owner)} own" if is_owner else "")
        + (f", and {len(shown) - len(own)} from {len(companies)} other companies"
           if companies else "") + ".",
        f"{trackers} of them track visits (analytics, advertising, social media and similar)."
        if trackers else "None of them is known to track visits.",
        "Values stay hidden throughout; only names, hosts and what they are for are shown.",
    ]
    result = [Step(f"What {focus} left behind", tuple(intro), frozenset(e.id for e in shown))]
    if own:
        clauses, choices = _clauses(own, classifier)
        purposes = sorted({e.purpose for e in own if e.purpose})
        result.append(Step(
            f"{possessive(owner)} own entries" if is_owner else f"The entries of {focus}",
            (f"{_count(own)}: {_names(own)}.", *purposes[:6]),
            frozenset(e.id for e in own), clauses, choices))
    for company, items in companies:
        clauses, choices = _clauses(items, classifier)
        categories = Counter((e.category or "unknown").replace("_", " ") for e in items)
        services = sorted({e.service for e in items if e.service})
        lead = f"{company}" + (f" ({', '.join(services)})" if services else "")
        paragraphs = [
            f"{lead}: {_count(items)}, for {', '.join(c for c, _ in categories.most_common())}.",
            f"They are {_names(items)}.",
        ]
        partitioned = [e for e in items if e.partition_site == focus and e.site != focus]
        if partitioned:
            paragraphs.append(f"{len(partitioned)} of them are kept apart for {focus} only "
                              "(partitioned): the browser shows them to this company only on "
                              f"{focus}'s pages.")
        on_owner = [e for e in items if e.site == focus]
        if on_owner:
            paragraphs.append(f"{len(on_owner)} of them sit on {focus}'s own domain, set by "
                              f"{possessive(company)} script running in the page.")
        if not clauses:
            paragraphs.append(f"{possessive(owner)} privacy policy does not mention them.")
        result.append(Step(company, tuple(paragraphs), frozenset(e.id for e in items),
                           clauses, choices))
    return result
