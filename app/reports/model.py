"""The report as plain data: what every format (and the window's export) renders.

:func:`build_report` explains each classified entry against the classifier's
policy once; the writers only lay the result out.  Nothing here imports Qt.
"""

from __future__ import annotations

import datetime
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.explain import Explanation, explain
from privacy_inspector.core.records import Entry, Profile, ScanError

UNKNOWN_COMPANY = "unknown company"


def category_label(category: str | None) -> str:
    """``marketing_automation`` as a reader says it: ``marketing automation``."""
    return (category or "unknown").replace("_", " ")


def format_time(moment: datetime.datetime) -> str:
    """``YYYY-MM-DDTHH:MM:SSZ``, the contract's way of writing a time."""
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class ReportProfile:
    browser: str
    engine: str
    name: str
    path: str
    entries: int

    def to_dict(self) -> dict[str, Any]:
        return {"browser": self.browser, "engine": self.engine, "name": self.name,
                "path": self.path, "entries": self.entries}


@dataclass(frozen=True, slots=True)
class ReportPolicy:
    owner: str
    title: str
    url: str
    archived: str | None

    def to_dict(self) -> dict[str, Any]:
        return {"owner": self.owner, "title": self.title, "url": self.url, "archived": self.archived}


@dataclass(frozen=True, slots=True)
class ReportClause:
    """One clause of the policy, in the policy's own words."""

    id: str
    title: str
    text: str
    # How many entries of the report it covers.
    entries: int

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "title": self.title, "text": self.text, "entries": self.entries}


@dataclass(frozen=True, slots=True)
class Totals:
    entries: int
    cookies: int
    storage: int
    trackers: int
    companies: int
    sites: int
    first_party: int
    third_party: int
    unrelated: int
    not_covered: int
    stale: int

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(frozen=True, slots=True)
class ReportEntry:
    """An entry (its ``value`` is None unless the scan asked for values) and its explanation."""

    entry: Entry
    explanation: Explanation

    def to_dict(self) -> dict[str, Any]:
        data = self.entry.to_dict()
        data["explanation"] = self.explanation.to_dict()
        return data


@dataclass(frozen=True, slots=True)
class Report:
    generated: datetime.datetime
    policy: ReportPolicy
    profiles: tuple[ReportProfile, ...]
    totals: Totals
    # (label, count), the biggest first; every tracker counted, none left out.
    trackers_by_organization: tuple[tuple[str, int], ...]
    trackers_by_category: tuple[tuple[str, int], ...]
    # The clauses that cover at least one entry, in the policy's order.
    clauses: tuple[ReportClause, ...]
    entries: tuple[ReportEntry, ...]
    errors: tuple[ScanError, ...]

    @property
    def generated_text(self) -> str:
        return format_time(self.generated)

    @property
    def has_values(self) -> bool:
        """True where at least one entry carries its value (a scan with --show-values)."""
        return any(item.entry.value is not None for item in self.entries)

    def summary_dict(self) -> dict[str, Any]:
        return {
            "totals": self.totals.to_dict(),
            "trackers_by_organization": [
                {"organization": label, "trackers": count} for label, count in self.trackers_by_organization
            ],
            "trackers_by_category": [
                {"category": label, "trackers": count} for label, count in self.trackers_by_category
            ],
        }


def _ranked(counter: Counter[str]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted(counter.items(), key=lambda item: (-item[1], item[0].casefold())))


def _sort_key(entry: Entry) -> tuple[Any, ...]:
    return (entry.profile, entry.site or "", entry.host or "", entry.kind, entry.name, entry.id)


def build_report(
    entries: Iterable[Entry],
    profiles: Sequence[Profile],
    classifier: Classifier,
    errors: Iterable[ScanError] = (),
    *,
    generated: datetime.datetime | None = None,
) -> Report:
    """The report of classified ``entries`` (as ``engine.scan(..., classifier=...)``
    returns them) of ``profiles``, explained against ``classifier.policy``.

    ``errors`` are the profiles and stores that could not be read; the report
    lists them.  ``generated`` defaults to now (UTC).
    """
    moment = generated or datetime.datetime.now(datetime.UTC)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    ordered = sorted(entries, key=_sort_key)
    explained = tuple(ReportEntry(e, explain(e, classifier)) for e in ordered)
    trackers = [e for e in ordered if e.tracker]
    per_profile = Counter(e.profile for e in ordered)
    report_profiles = tuple(
        ReportProfile(p.browser, p.engine, p.name, str(p.path), per_profile.get(str(p.path), 0))
        for p in profiles
    )
    parties = Counter(e.party for e in ordered)
    totals = Totals(
        entries=len(ordered),
        cookies=sum(1 for e in ordered if e.kind == "cookie"),
        storage=sum(1 for e in ordered if e.kind != "cookie"),
        trackers=len(trackers),
        companies=len({e.organization for e in trackers if e.organization}),
        sites=len({e.site for e in ordered if e.site}),
        first_party=parties.get("first_party", 0),
        third_party=parties.get("third_party", 0),
        unrelated=parties.get("unrelated", 0),
        not_covered=sum(1 for e in ordered if not e.policy_clauses),
        stale=sum(1 for e in ordered if e.stale),
    )
    policy = classifier.policy
    cited = Counter(cid for e in ordered for cid in e.policy_clauses)
    clauses = tuple(
        ReportClause(c.id, c.title, c.text, cited[c.id]) for c in policy.clauses if cited.get(c.id)
    )
    source = policy.source
    return Report(
        generated=moment,
        policy=ReportPolicy(
            owner=policy.owner.name,
            title=source.title,
            url=source.url,
            archived=source.archived.isoformat() if source.archived else None,
        ),
        profiles=report_profiles,
        totals=totals,
        trackers_by_organization=_ranked(Counter(e.organization or UNKNOWN_COMPANY for e in trackers)),
        trackers_by_category=_ranked(Counter(category_label(e.category) for e in trackers)),
        clauses=clauses,
        entries=explained,
        errors=tuple(errors),
    )
