"""Cookie rules in the browsers' own settings: block, session, allow, unblock.

A rule governs a domain with its subdomains.  Firefox keeps rules in
``permissions.sqlite`` (:mod:`..browsers.firefox_permissions`), the Chromium
family in the profile's ``Preferences`` (:mod:`..browsers.chromium_prefs`);
Safari's are not written (the plan says so).

Plan, then apply, as for deleting: :func:`plan_block` / :func:`plan_unblock`
say what each profile's rule is now and what it becomes, and refuse a
profile whose browser runs; :func:`apply` checks again just before writing
each profile and writes nothing at all while any chosen browser runs.

The app remembers the rules it wrote in ``<data-dir>/rules.json`` (0600):
for each profile and domain, the mode it wrote and the rule the user had
there before, exactly as the browser stored it.  So :func:`rules_in_force`
tells the app's rules from the user's, and :func:`plan_unblock` removes only
the app's and puts the user's back.  A rule the user changed in the browser
since the app wrote it is the user's now and is left alone.
"""

from __future__ import annotations

import functools
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privacy_inspector import bundled, paths
from privacy_inspector.actions.delete import Refusal, running_reason
from privacy_inspector.actions.keep import (
    InvalidItemError,
    KeepList,
    KeepListError,
    normalize_site,
    suggest_signed_in,
)
from privacy_inspector.browsers import chromium_prefs, firefox_permissions
from privacy_inspector.browsers.cookie_rules import MODES, CookieRule
from privacy_inspector.browsers.sqlitewrite import WriteError
from privacy_inspector.core import knowledge
from privacy_inspector.core.records import Entry, Profile, ReadError
from privacy_inspector.platform import locks

__all__ = [
    "MODES", "BlockError", "Change", "Outcome", "RulePlan", "RuleRow", "apply",
    "domains_of_organization", "plan_block", "plan_unblock", "rule_for_host",
    "rules_in_force", "sign_in_domains", "sign_in_sites",
]

RECORD = "rules.json"
RECORD_VERSION = 1
UNBLOCK = "unblock"
Running = Callable[[Profile], bool]


class BlockError(ValueError):
    """What the user asked for cannot be a rule (a public suffix, an unknown organisation)."""


# --- one adapter per engine ---------------------------------------------------------


@dataclass(frozen=True)
class _Engine:
    read: Callable[[Profile], list[CookieRule]]
    # patterns(domain, port) -> the browser's keys of the rule of that domain
    patterns: Callable[[str, int | None], tuple[str, ...]]
    # write(profile, {domain: mode | None}, port) -> {key: what was there}
    write: Callable[[Profile, Mapping[str, str | None], int | None], dict[str, Any]]
    restore: Callable[[Profile, Mapping[str, Any]], None]
    file: str


_ENGINES: dict[str, _Engine] = {
    "firefox": _Engine(
        read=firefox_permissions.read_cookie_rules,
        patterns=lambda d, port: firefox_permissions.origins_for(d, port),
        write=lambda p, changes, port: firefox_permissions.write_cookie_rules(p, changes, port=port),
        restore=firefox_permissions.restore_cookie_rules,
        file=firefox_permissions.FILE,
    ),
    "chromium": _Engine(
        # Chromium's "[*.]domain" pattern matches every scheme and port.
        read=chromium_prefs.read_cookie_rules,
        patterns=lambda d, port: (chromium_prefs.pattern_for(d),),
        write=lambda p, changes, port: chromium_prefs.write_cookie_rules(p, changes),
        restore=chromium_prefs.restore_cookie_rules,
        file=chromium_prefs.FILE,
    ),
}


def supports(profile: Profile) -> bool:
    return profile.engine in _ENGINES


# --- what the user asks for -----------------------------------------------------------


def check_domain(text: str) -> str:
    """``text`` as a domain a rule can name, or BlockError (a public suffix, an IP address)."""
    try:
        domain = normalize_site(text)
    except InvalidItemError as exc:
        if exc.code == "public_suffix":
            raise BlockError(f"{text.strip()!r} is a public suffix: a rule for it would govern "
                             "every site under it (name a site such as example.com)") from None
        raise BlockError(str(exc)) from None
    if "." not in domain or domain.replace(".", "").isdigit() or ":" in domain:
        raise BlockError(f"{text.strip()!r} is not a domain name: cookie rules here are "
                         "for domain names such as example.com")
    return domain


def domains_of_organization(name: str) -> tuple[list[str], list[str]]:
    """The domains the knowledge base gives ``name`` (its canonical name or id, any case),
    and those left out because they are public suffixes (``appspot.com``: a rule would
    govern every app hosted there).  BlockError for an unknown organisation."""
    kb = knowledge.load_knowledge()
    wanted = name.strip().casefold()
    orgs = {o.id for o in kb.organizations.values()
            if o.name.casefold() == wanted or o.id.casefold() == wanted}
    if not orgs:
        raise BlockError(f"no organisation {name!r} in the knowledge base "
                         "(names as scan shows them, such as Google or Meta)")
    found: set[str] = set()
    shared: set[str] = set()
    for domain, service in kb.domains.items():
        if service.organization.id not in orgs:
            continue
        try:
            found.add(check_domain(domain))
        except BlockError:
            shared.add(domain)
    # A subdomain adds nothing when its parent is blocked too.
    kept = sorted(d for d in found if not any(d.endswith("." + p) for p in found))
    return kept, sorted(shared)


@functools.cache
def _bundled_sign_in() -> frozenset[str]:
    doc = json.loads(bundled.path("knowledge", "sign_in.json").read_text("utf-8"))
    return frozenset(doc["domains"])


def sign_in_sites(data_dir: Path, entries: Iterable[Entry] = ()) -> frozenset[str]:
    """The sites people sign in to, as far as the app can tell: the bundled list of
    account sites, the sites the user seems signed in to in ``entries``
    (``keep.suggest_signed_in``) and the sites on the keep list.  Only a warning
    rests on it, so a keep list that cannot be read adds nothing here."""
    try:
        kept: tuple[str, ...] = KeepList.load(data_dir).sites
    except KeepListError:
        kept = ()
    return _bundled_sign_in() | frozenset(suggest_signed_in(entries)) | frozenset(kept)


def sign_in_domains(domains: Iterable[str], known: Iterable[str]) -> list[str]:
    """Which of ``domains`` are, or hold, or lie under one of the ``known`` sign-in
    sites (:func:`sign_in_sites`).  Blocking them signs the user out for good."""
    known = set(known)
    return sorted(d for d in set(domains)
                  if any(d == k or d.endswith("." + k) or k.endswith("." + d) for k in known))


# --- the app's record of its own rules --------------------------------------------------


def record_path(data_dir: Path) -> Path:
    return Path(data_dir) / RECORD


@dataclass
class _Written:
    profile: str
    browser: str
    engine: str
    domain: str
    port: int | None
    mode: str
    patterns: list[str]
    replaced: dict[str, Any]  # key -> the browser's rule before the app wrote (None/[]: none)
    created: str

    def key(self) -> tuple[str, str, int | None]:
        return (self.profile, self.domain, self.port)


def _load_record(data_dir: Path) -> list[_Written]:
    path = record_path(data_dir)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BlockError(f"the record of the app's rules ({path}) cannot be read: "
                         f"{exc.strerror or exc}") from exc
    try:
        doc = json.loads(raw)
        if doc.get("version") != RECORD_VERSION:
            raise ValueError(f"version {doc.get('version')!r}")
        return [_Written(**item) for item in doc["rules"]]
    except (ValueError, TypeError, KeyError, AttributeError) as exc:
        raise BlockError(f"the record of the app's rules ({path}) is damaged ({exc}); "
                         "nothing was changed") from exc


def _save_record(data_dir: Path, written: Sequence[_Written]) -> None:
    doc = {"version": RECORD_VERSION, "rules": [vars(w) for w in written]}
    paths.write_private_file(record_path(data_dir),
                             json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8"))


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


# --- rules in force -------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleRow:
    """A rule in force, as ``blocks`` lists it."""

    profile: Profile
    rule: CookieRule
    source: str  # "app" or "user"

    def to_dict(self) -> dict[str, Any]:
        return {"profile": str(self.profile.path), "browser": self.profile.browser,
                "domain": self.rule.domain, "pattern": self.rule.pattern,
                "mode": self.rule.mode, "source": self.source}


def _app_patterns(written: Iterable[_Written]) -> dict[tuple[str, str], str]:
    return {(w.profile, p): w.mode for w in written for p in w.patterns}


def rules_in_force(profiles: Iterable[Profile], data_dir: Path
                   ) -> tuple[list[RuleRow], list[tuple[str, str, str]]]:
    """Every cookie rule of the profiles, each marked as the app's or the user's,
    and (profile, store, message) for each profile whose rules cannot be read."""
    ours = _app_patterns(_load_record(data_dir))
    rows: list[RuleRow] = []
    errors: list[tuple[str, str, str]] = []
    for profile in profiles:
        engine = _ENGINES.get(profile.engine)
        if engine is None:
            continue
        try:
            rules = engine.read(profile)
        except ReadError as exc:
            errors.append((str(profile.path), engine.file, str(exc)))
            continue
        for rule in rules:
            mine = ours.get((str(profile.path), rule.pattern)) == rule.mode
            rows.append(RuleRow(profile, rule, "app" if mine else "user"))
    return rows, errors


def port_of(rule: CookieRule) -> int | None:
    """The port a rule names (Firefox's rules for a site on a non-default port), else None."""
    if "://" not in rule.pattern:
        return None
    rest = rule.pattern.split("://", 1)[1].split("/", 1)[0]
    tail = rest.rsplit("]", 1)[-1]
    return int(tail.rsplit(":", 1)[1]) if ":" in tail and tail.rsplit(":", 1)[1].isdigit() else None


def rule_for_host(host: str, rules: Iterable[CookieRule]) -> CookieRule | None:
    """The rule that governs ``host``: the one for the nearest enclosing domain."""
    host = host.lower().lstrip(".")
    best: CookieRule | None = None
    for rule in rules:
        d = rule.domain
        if (host == d or host.endswith("." + d)) and (best is None or len(d) > len(best.domain)):
            best = rule
    return best


# --- plans ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Change:
    profile: Profile
    domain: str
    now: str | None  # the mode in force now, None where there is no rule
    then: str | None  # the mode afterwards (None: no rule, or the user's put back)
    note: str = ""


@dataclass
class RulePlan:
    action: str  # "block", "session", "allow" or "unblock"
    domains: tuple[str, ...]
    port: int | None
    profiles: list[Profile]
    changes: list[Change] = field(default_factory=list)
    skipped: list[Change] = field(default_factory=list)  # nothing to do, and why
    refused: list[Refusal] = field(default_factory=list)
    unsupported: list[Refusal] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)

    @property
    def writes(self) -> list[Profile]:
        seen: dict[Path, Profile] = {}
        for change in self.changes:
            seen.setdefault(change.profile.path, change.profile)
        return list(seen.values())


def _current(profile: Profile, domain: str, port: int | None,
             rules: Sequence[CookieRule]) -> str | None:
    keys = set(_ENGINES[profile.engine].patterns(domain, port))
    modes = {r.mode for r in rules if r.pattern in keys}
    return modes.pop() if len(modes) == 1 else ("mixed" if modes else None)


def _plan(action: str, profiles: Sequence[Profile], domains: Sequence[str], port: int | None,
          data_dir: Path, running: Running) -> RulePlan:
    plan = RulePlan(action, tuple(domains), port, list(profiles))
    written = {w.key(): w for w in _load_record(data_dir)}
    for profile in profiles:
        engine = _ENGINES.get(profile.engine)
        if engine is None:
            plan.unsupported.append(Refusal(str(profile.path),
                                            f"{profile.browser} keeps its cookie rules where the "
                                            "app does not write them; nothing is changed there"))
            continue
        try:
            rules = engine.read(profile)
        except ReadError as exc:
            plan.errors.append((str(profile.path), engine.file, str(exc)))
            continue
        before = len(plan.changes)
        for domain in domains:
            now = _current(profile, domain, port, rules)
            mine = written.get((str(profile.path), domain, port))
            if action == UNBLOCK:
                if mine is None:
                    if now is not None:
                        plan.skipped.append(Change(profile, domain, now, now,
                                                   "a rule made in the browser, not by the app"))
                    continue
                if now != mine.mode:
                    plan.skipped.append(Change(profile, domain, now, now,
                                               "changed in the browser since the app wrote it"))
                    continue
                back = _restored_mode(profile, mine)
                plan.changes.append(Change(profile, domain, now, back,
                                           "the user's rule is put back" if back else ""))
            else:
                if now == action:
                    plan.skipped.append(Change(profile, domain, now, now, "already in force"))
                    continue
                plan.changes.append(Change(profile, domain, now, action,
                                           "replaces a rule made in the browser"
                                           if now and mine is None else ""))
        if len(plan.changes) > before and running(profile):
            plan.refused.append(Refusal(str(profile.path), running_reason(profile)))
    return plan


_FIREFOX_MODES = {v: k for k, v in firefox_permissions.MODES.items()}
_CHROMIUM_MODES = {v: k for k, v in chromium_prefs.MODES.items()}


def _restored_mode(profile: Profile, mine: _Written) -> str | None:
    """The mode of the user's rule that unblocking puts back, if there was one."""
    if profile.engine == "firefox":
        for rows in mine.replaced.values():
            for row in rows or ():
                mode = _FIREFOX_MODES.get(row.get("permission"))
                if mode:
                    return mode
        return None
    for raw in mine.replaced.values():
        if raw is None:
            continue
        try:
            setting = json.loads(raw).get("setting")
        except (ValueError, AttributeError):
            return None
        return _CHROMIUM_MODES.get(setting)
    return None


def plan_block(profiles: Sequence[Profile], domains: Sequence[str], mode: str, data_dir: Path,
               *, port: int | None = None, running: Running = locks.is_running) -> RulePlan:
    if mode not in MODES:
        raise BlockError(f"unknown mode {mode!r}: use one of {', '.join(MODES)}")
    return _plan(mode, profiles, domains, port, data_dir, running)


def plan_unblock(profiles: Sequence[Profile], domains: Sequence[str], data_dir: Path,
                 *, port: int | None = None, running: Running = locks.is_running) -> RulePlan:
    return _plan(UNBLOCK, profiles, domains, port, data_dir, running)


# --- applying -----------------------------------------------------------------------------------


@dataclass
class Outcome:
    rules: list[dict[str, Any]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    errors: list[tuple[str, str, str]] = field(default_factory=list)


def apply(plan: RulePlan, data_dir: Path, running: Running = locks.is_running) -> Outcome:
    """Write the plan's rules, profile by profile, with the app's record kept in step.

    Nothing is written anywhere while a browser runs on any profile the plan
    writes (checked again here).  Each profile is written in one go; if the
    record cannot be saved afterwards, that profile's change is undone.
    """
    outcome = Outcome()
    targets = plan.writes
    outcome.refused = [Refusal(str(p.path), running_reason(p)) for p in targets if running(p)]
    if outcome.refused or plan.refused:
        outcome.refused = outcome.refused or list(plan.refused)
        return outcome
    record = {w.key(): w for w in _load_record(data_dir)}
    for profile in targets:
        engine = _ENGINES[profile.engine]
        changes = [c for c in plan.changes if c.profile.path == profile.path]
        if running(profile):  # just before writing this one
            outcome.refused.append(Refusal(str(profile.path), running_reason(profile)))
            continue
        old_record = dict(record)
        try:
            if plan.action == UNBLOCK:
                saved: dict[str, Any] = {}
                for change in changes:
                    mine = record.pop((str(profile.path), change.domain, plan.port))
                    saved.update(mine.replaced)
                engine.restore(profile, saved)
                undo_saved = None
            else:
                before = engine.write(profile, {c.domain: plan.action for c in changes}, plan.port)
                undo_saved = before
                for change in changes:
                    key = (str(profile.path), change.domain, plan.port)
                    patterns = list(engine.patterns(change.domain, plan.port))
                    mine = record.get(key)
                    # Rewriting our own rule keeps what the user had before the first one.
                    replaced = (mine.replaced if mine is not None and change.now == mine.mode
                                else {p: before.get(p) for p in patterns})
                    record[key] = _Written(str(profile.path), profile.browser, profile.engine,
                                           change.domain, plan.port, plan.action, patterns,
                                           replaced, _now())
        except (WriteError, ReadError) as exc:
            record = old_record
            outcome.errors.append((str(profile.path), engine.file, str(exc)))
            continue
        try:
            _save_record(data_dir, list(record.values()))
        except OSError as exc:
            record = old_record
            if undo_saved is not None:
                try:
                    engine.restore(profile, undo_saved)
                except (WriteError, ReadError):
                    pass
            outcome.errors.append((str(profile.path), RECORD,
                                   f"the app's record of its rules could not be saved "
                                   f"({exc.strerror or exc}); the change was taken back"))
            continue
        for change in changes:
            outcome.rules.append({"profile": str(profile.path), "browser": profile.browser,
                                  "domain": change.domain, "mode": change.then,
                                  "was": change.now})
    return outcome


def exportable(rows: Iterable[RuleRow]) -> list[tuple[str, str]]:
    """(domain, mode) pairs of the rules in force, for :mod:`.block_export`."""
    return sorted({(r.rule.domain, r.rule.mode) for r in rows})

