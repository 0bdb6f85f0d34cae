"""A privacy policy as data: its owner's sites, its clauses, what each covers.

The bundled policy is LiveOps' of 2016 (``resources/policy/liveops-2016.toml``);
``--policy FILE`` loads another in the same format, documented in
``resources/policy/README.md``.  Loading is strict: every problem of a file is
reported, one message each, in a single :class:`PolicyError`.

:meth:`Policy.clauses_for` is the whole coverage rule, so the classifier only
hands it an entry's ``kind``, ``category``, ``party`` and ``on_owner_site``
(and ``partition_site``).
"""

from __future__ import annotations

import datetime
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from privacy_inspector import bundled
from privacy_inspector.core import sites
from privacy_inspector.core.records import Kind

FORMAT = 1
KINDS: tuple[str, ...] = tuple(k.value for k in Kind)
CATEGORIES: tuple[str, ...] = (
    "essential", "consent", "preferences", "analytics", "optimization",
    "marketing_automation", "advertising", "social_media", "customer_interaction",
    "embedded_content", "unknown",
)
# The parties a clause can cover; ``unrelated`` entries are never covered.
PARTIES: tuple[str, ...] = ("first_party", "third_party")
ALL_PARTIES: tuple[str, ...] = (*PARTIES, "unrelated")

_CLAUSE_ID = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*\Z")
_URL = re.compile(r"https?://[^\s/]+\S*\Z")
_SPACES = re.compile(r"\s+")


class PolicyError(Exception):
    """A policy file that cannot be used; ``problems`` holds one message per problem."""

    def __init__(self, source: str, problems: Iterable[str]) -> None:
        self.source = source
        self.problems = tuple(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"invalid policy file {source}:\n{lines}")


@dataclass(frozen=True)
class Choice:
    """What the visitor can do under a clause."""

    label: str
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Coverage:
    """One rule of what a clause covers; a field that is None matches anything."""

    kinds: frozenset[str] | None = None
    categories: frozenset[str] | None = None
    parties: frozenset[str] | None = None
    on_owner_site: bool | None = None

    def matches(self, kind: str, category: str, party: str, on_owner_site: bool) -> bool:
        return (
            (self.kinds is None or kind in self.kinds)
            and (self.categories is None or category in self.categories)
            and (self.parties is None or party in self.parties)
            and (self.on_owner_site is None or self.on_owner_site == on_owner_site)
        )


@dataclass(frozen=True)
class Clause:
    id: str
    title: str
    text: str
    covers: tuple[Coverage, ...]  # empty: the clause covers no stored entry
    choices: tuple[Choice, ...] = ()

    def covers_entry(self, kind: str, category: str, party: str, on_owner_site: bool) -> bool:
        return any(c.matches(kind, category, party, on_owner_site) for c in self.covers)


@dataclass(frozen=True)
class Owner:
    name: str
    sites: tuple[str, ...]  # registrable domains


@dataclass(frozen=True)
class Source:
    title: str
    url: str
    archived: datetime.date | None = None
    note: str | None = None


@dataclass(frozen=True)
class Policy:
    owner: Owner
    source: Source
    clauses: tuple[Clause, ...]

    @property
    def clause_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.clauses)

    def clause(self, clause_id: str) -> Clause:
        for c in self.clauses:
            if c.id == clause_id:
                return c
        raise KeyError(f"the policy of {self.owner.name} has no clause {clause_id!r}")

    def is_owner_site(self, site: str | None) -> bool:
        """True where ``site`` (a registrable domain, or any host under one) is the owner's."""
        if not site:
            return False
        return sites.registrable_domain(site) in self.owner.sites

    def clauses_for(
        self,
        kind: str,
        category: str,
        party: str,
        on_owner_site: bool,
        partition_site: str | None = None,
    ) -> tuple[str, ...]:
        """Ids of the clauses covering an entry, in the policy's order.

        ``on_owner_site`` is the contract's field (the entry's own site is the
        owner's).  An entry partitioned under the owner's site counts as on it
        for coverage (a vendor's frame on the owner's page); an entry
        partitioned under any other site was seen only in another company's
        context and no clause covers it.  ``unrelated`` entries are never covered.
        """
        if kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}")
        if category not in CATEGORIES:
            raise ValueError(f"unknown category {category!r}")
        if party not in ALL_PARTIES:
            raise ValueError(f"unknown party {party!r}")
        if party == "unrelated":
            return ()
        if partition_site:
            if not self.is_owner_site(partition_site):
                return ()
            on_owner_site = True
        return tuple(
            c.id for c in self.clauses
            if c.covers_entry(kind, category, party, bool(on_owner_site))
        )


def load_policy(path: Path | None = None) -> Policy:
    """The policy in ``path`` (TOML), or the bundled LiveOps policy of 2016."""
    if path is None:
        node = bundled.path("policy", "liveops-2016.toml")
        source, data = "liveops-2016.toml (bundled)", node.read_bytes()
    else:
        source = str(path)
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            raise PolicyError(source, [f"cannot read the file: {exc.strerror or exc}"]) from exc
    return parse_policy(data, source)


def parse_policy(data: bytes | str, source: str = "<policy>") -> Policy:
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise PolicyError(source, [f"not UTF-8 text: {exc}"]) from exc
    try:
        doc = tomllib.loads(data)
    except tomllib.TOMLDecodeError as exc:
        raise PolicyError(source, [f"not valid TOML: {exc}"]) from exc
    checker = _Checker()
    policy = checker.policy(doc)
    if checker.problems or policy is None:
        raise PolicyError(source, checker.problems)
    return policy


def normalize_text(text: str) -> str:
    """Whitespace runs (line breaks included) as one space, trimmed."""
    return _SPACES.sub(" ", text).strip()


class _Checker:
    """Builds the dataclasses, collecting every problem instead of stopping at the first."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def problem(self, where: str, message: str) -> None:
        self.problems.append(f"{where}: {message}" if where else message)

    def table(self, value: Any, where: str, required: Iterable[str], optional: Iterable[str]) -> Mapping[str, Any] | None:
        if not isinstance(value, dict):
            self.problem(where, f"must be a table, not {_type(value)}")
            return None
        required, optional = tuple(required), tuple(optional)
        for key in value:
            if key not in required and key not in optional:
                allowed = ", ".join((*required, *optional))
                self.problem(_join(where, key), f"unknown key (allowed here: {allowed})")
        for key in required:
            if key not in value:
                self.problem(_join(where, key), "missing")
        return value

    def string(self, table: Mapping[str, Any], key: str, where: str, *, required: bool = True,
               text: bool = False) -> str | None:
        if key not in table:
            return None
        value = table[key]
        at = _join(where, key)
        if not isinstance(value, str):
            self.problem(at, f"must be a string, not {_type(value)}")
            return None
        value = normalize_text(value) if text else value.strip()
        if not value:
            self.problem(at, "must not be empty")
            return None
        return value

    def url(self, table: Mapping[str, Any], key: str, where: str) -> str | None:
        value = self.string(table, key, where)
        if value is not None and not _URL.match(value):
            self.problem(_join(where, key), f"{value!r} is not an http(s) URL")
            return None
        return value

    def policy(self, doc: Mapping[str, Any]) -> Policy | None:
        top = self.table(doc, "", ("format", "owner", "source", "clauses"), ())
        if top is None:
            return None
        if "format" in top and (type(top["format"]) is not int or top["format"] != FORMAT):
            self.problem("format", f"must be {FORMAT}, not {top['format']!r}")
        owner = self.owner(top["owner"]) if "owner" in top else None
        source = self.source(top["source"]) if "source" in top else None
        clauses = self.clauses(top["clauses"]) if "clauses" in top else None
        if self.problems or owner is None or source is None or clauses is None:
            return None
        return Policy(owner=owner, source=source, clauses=clauses)

    def owner(self, value: Any) -> Owner | None:
        t = self.table(value, "owner", ("name", "sites"), ())
        if t is None:
            return None
        name = self.string(t, "name", "owner")
        found: list[str] = []
        if "sites" in t:
            raw = t["sites"]
            if not isinstance(raw, list) or not raw:
                self.problem("owner.sites", "must be a non-empty list of registrable domains")
            else:
                for i, site in enumerate(raw):
                    checked = self.site(site, f"owner.sites[{i}]")
                    if checked is None:
                        continue
                    if checked in found:
                        self.problem(f"owner.sites[{i}]", f"{checked!r} is listed twice")
                    else:
                        found.append(checked)
        if name is None or not found:
            return None
        return Owner(name=name, sites=tuple(found))

    def site(self, value: Any, where: str) -> str | None:
        if not isinstance(value, str) or not value.strip():
            self.problem(where, f"must be a domain name, not {value!r}")
            return None
        site = value.strip().lower()
        if "/" in site or ":" in site or " " in site:
            self.problem(where, f"{value!r} is not a domain name (write only the domain, e.g. example.com)")
            return None
        if sites.is_public_suffix(site):
            self.problem(where, f"{value!r} is a public suffix, not a registrable domain")
            return None
        domain = sites.registrable_domain(site)
        if "." not in site or domain == site and site.replace(".", "").isdigit():
            self.problem(where, f"{value!r} is not a registrable domain")
            return None
        if domain != site:
            self.problem(where, f"{value!r} is not a registrable domain (did you mean {domain!r}?)")
            return None
        return site

    def source(self, value: Any) -> Source | None:
        t = self.table(value, "source", ("title", "url"), ("archived", "note"))
        if t is None:
            return None
        title = self.string(t, "title", "source")
        url = self.url(t, "url", "source")
        archived = t.get("archived")
        if archived is not None and (
            not isinstance(archived, datetime.date) or isinstance(archived, datetime.datetime)
        ):
            self.problem("source.archived", f"must be a date (2016-06-06), not {archived!r}")
            archived = None
        note = self.string(t, "note", "source", text=True)
        if title is None or url is None:
            return None
        return Source(title=title, url=url, archived=archived, note=note)

    def clauses(self, value: Any) -> tuple[Clause, ...] | None:
        if not isinstance(value, list) or not value:
            self.problem("clauses", "must be a non-empty array of tables ([[clauses]])")
            return None
        out: list[Clause] = []
        seen: set[str] = set()
        for i, raw in enumerate(value):
            clause = self.clause(raw, f"clauses[{i}]")
            if clause is None:
                continue
            if clause.id in seen:
                self.problem(f"clauses[{i}].id", f"duplicate clause id {clause.id!r}")
                continue
            seen.add(clause.id)
            out.append(clause)
        return tuple(out)

    def clause(self, value: Any, where: str) -> Clause | None:
        raw_id = value.get("id") if isinstance(value, dict) else None
        if isinstance(raw_id, str) and _CLAUSE_ID.match(raw_id.strip()):
            where = f"{where} ({raw_id.strip()})"  # messages name the clause
        t = self.table(value, where, ("id", "title", "text", "covers"), ("choices",))
        if t is None:
            return None
        clause_id = self.string(t, "id", where)
        if clause_id is not None and not _CLAUSE_ID.match(clause_id):
            self.problem(_join(where, "id"),
                         f"{clause_id!r} must be lower-case words joined by hyphens (e.g. web-beacons)")
            clause_id = None
        title = self.string(t, "title", where)
        text = self.string(t, "text", where, text=True)
        covers = self.items(t, "covers", where, self.coverage)
        choices = self.items(t, "choices", where, self.choice) if "choices" in t else ()
        if None in (clause_id, title, text, covers, choices):
            return None
        return Clause(id=clause_id, title=title, text=text, covers=covers, choices=choices)  # type: ignore[arg-type]

    def items(self, t: Mapping[str, Any], key: str, where: str, build) -> tuple | None:
        if key not in t:
            return None
        raw = t[key]
        at = _join(where, key)
        if not isinstance(raw, list):
            self.problem(at, f"must be an array of tables, not {_type(raw)}")
            return None
        built = [build(item, f"{at}[{i}]") for i, item in enumerate(raw)]
        if any(b is None for b in built):
            return None
        return tuple(built)

    def coverage(self, value: Any, where: str) -> Coverage | None:
        t = self.table(value, where, (), ("kinds", "categories", "parties", "on_owner_site"))
        if t is None:
            return None
        ok = True
        fields: dict[str, Any] = {}
        for key, allowed, noun in (("kinds", KINDS, "kind"), ("categories", CATEGORIES, "category"),
                                   ("parties", PARTIES, "party")):
            if key not in t:
                fields[key] = None
                continue
            raw = t[key]
            at = _join(where, key)
            if not isinstance(raw, list) or not raw:
                self.problem(at, "must be a non-empty list (leave the key out to match any)")
                ok = False
                continue
            for item in raw:
                if item not in allowed:
                    self.problem(at, f"unknown {noun} {item!r} (one of: {', '.join(allowed)})")
                    ok = False
            fields[key] = frozenset(raw)
        on_owner = t.get("on_owner_site")
        if on_owner is not None and not isinstance(on_owner, bool):
            self.problem(_join(where, "on_owner_site"), f"must be true or false, not {on_owner!r}")
            ok = False
        if not t:
            self.problem(where, "an empty rule would cover every entry; say what it covers")
            ok = False
        if not ok:
            return None
        return Coverage(on_owner_site=on_owner, **fields)

    def choice(self, value: Any, where: str) -> Choice | None:
        t = self.table(value, where, ("label",), ("url", "note"))
        if t is None:
            return None
        label = self.string(t, "label", where)
        url = self.url(t, "url", where) if "url" in t else None
        note = self.string(t, "note", where, text=True)
        if label is None or ("url" in t and url is None) or ("note" in t and note is None):
            return None
        return Choice(label=label, url=url, note=note)


def _join(where: str, key: str) -> str:
    return f"{where}.{key}" if where else key


def _type(value: Any) -> str:
    return {dict: "a table", list: "a list", str: "a string", bool: "a boolean",
            int: "an integer", float: "a number"}.get(type(value), type(value).__name__)
