"""Deleting entries: plan, preview, apply; and undo.

``make_plan`` decides, from a scan, which entries go and which stay and why
(the keep list, a store the app cannot write yet); nothing is touched.  The
CLI prints a plan for ``--dry-run`` and before asking; the GUI shows it in
its confirmation dialog.  ``apply`` then:

1. refuses everything if the browser runs on any profile of the plan (checked
   again now, just before writing), or if a store changed since the plan;
2. opens a journal, and for each store writes the rows it will remove into
   it, flushed to disk, before the store's own transaction deletes them;
3. records each store as done or untouched, so a failure midway says
   exactly which stores changed.

``undo`` puts a journal's rows back, refusing while the browser runs and
leaving alone any entry that was set again since.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from privacy_inspector.actions import journal as journals
from privacy_inspector.actions.keep import KeepList
from privacy_inspector.browsers.writers import WriteError, writer_for
from privacy_inspector.core.records import Engine, Entry, Profile
from privacy_inspector.platform import locks

Running = Callable[[Profile], bool]


_KIND_WORDS = {"local_storage": "localStorage", "session_storage": "sessionStorage",
               "indexed_db": "IndexedDB", "cache_storage": "Cache Storage",
               "service_worker": "service workers", "cookie": "these cookies"}


def _unsupported(entry: Entry, profile: Profile | None) -> str:
    if profile is not None and profile.engine == Engine.SAFARI:
        return "Safari's cookies are read only: delete them in Safari's settings"
    return f"deleting {_KIND_WORDS.get(entry.kind, entry.kind)} is not supported by this version yet"


@dataclass(frozen=True)
class Selection:
    """What to delete.  Ids are added to the rest; the other criteria combine:
    an entry must match one value of each kind of criterion given."""

    ids: frozenset[str] = frozenset()
    sites: frozenset[str] = frozenset()
    organizations: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    trackers: bool = False

    def describe(self) -> str:
        parts = []
        if self.trackers:
            parts.append("every tracker")
        for label, values in (("site", self.sites), ("organisation", self.organizations),
                              ("category", self.categories), ("entry", self.ids)):
            if values:
                parts.append(f"{label} " + ", ".join(sorted(values)))
        return "; ".join(parts) or "nothing"

    def empty(self) -> bool:
        return not (self.ids or self.sites or self.organizations or self.categories or self.trackers)

    def matches(self, entry: Entry) -> bool:
        if entry.id in self.ids:
            return True
        if not (self.sites or self.organizations or self.categories or self.trackers):
            return False
        if self.trackers and not entry.tracker:
            return False
        # A site's entries in both directions of partitioning: its own entries
        # stored under other sites, and other sites' entries stored under it.
        if self.sites and entry.site not in self.sites and entry.partition_site not in self.sites:
            return False
        if self.organizations and (entry.organization or "") not in self.organizations:
            return False
        return not (self.categories and (entry.category or "unknown") not in self.categories)


@dataclass(frozen=True)
class Kept:
    entry: Entry
    reason: str


@dataclass(frozen=True)
class Refusal:
    profile: str
    reason: str


@dataclass(frozen=True)
class StorePlan:
    profile: Profile
    kind: str
    store: str
    entries: tuple[Entry, ...]
    # (size, mtime) of the store's files when the plan was made.
    fingerprint: tuple[Any, ...]


@dataclass(frozen=True)
class Plan:
    selection: Selection
    stores: tuple[StorePlan, ...]
    kept: tuple[Kept, ...]
    refused: tuple[Refusal, ...]

    @property
    def entries(self) -> list[Entry]:
        return [e for s in self.stores for e in s.entries]

    @property
    def profiles(self) -> list[Profile]:
        seen: dict[Path, Profile] = {}
        for store in self.stores:
            seen.setdefault(store.profile.path, store.profile)
        return list(seen.values())


def fingerprint(path: Path) -> tuple[Any, ...]:
    """What changes when a browser writes the store: size and time of it and its journal."""
    out: list[Any] = []
    for suffix in ("", "-wal", "-journal"):
        try:
            st = os.stat(f"{path}{suffix}")
            out.append((st.st_size, st.st_mtime_ns))
        except FileNotFoundError:
            out.append(None)
    return tuple(out)


def running_reason(profile: Profile) -> str:
    return (f"{profile.browser} is running on the profile {profile.name} ({profile.path}); "
            "close the browser and try again")


def make_plan(
    profiles: Sequence[Profile],
    entries: Iterable[Entry],
    selection: Selection,
    keep: KeepList,
    running: Running = locks.is_running,
) -> Plan:
    by_path = {str(p.path): p for p in profiles}
    chosen: dict[tuple[str, str, str], list[Entry]] = {}
    kept: list[Kept] = []
    # Whether each (profile, kind, store) has a writer, asked once per store.
    writable: dict[tuple[str, str, str], bool] = {}
    for entry in entries:
        if not selection.matches(entry):
            continue
        protected = keep.protects(entry)
        if protected:
            kept.append(Kept(entry, protected))
            continue
        profile = by_path.get(entry.profile)
        key = (entry.profile, entry.kind, entry.store)
        can = writable.get(key)
        if can is None:
            can = writable[key] = (profile is not None
                                   and writer_for(profile, entry.kind, entry.store) is not None)
        if not can:
            kept.append(Kept(entry, _unsupported(entry, profile)))
            continue
        chosen.setdefault(key, []).append(entry)
    stores = tuple(
        StorePlan(by_path[p], kind, store, tuple(found), fingerprint(by_path[p].path / store))
        for (p, kind, store), found in chosen.items()
    )
    refused = []
    seen: set[str] = set()
    for store in stores:
        key = str(store.profile.path)
        if key not in seen:
            seen.add(key)
            if running(store.profile):
                refused.append(Refusal(key, running_reason(store.profile)))
    return Plan(selection, stores, tuple(kept), tuple(refused))


@dataclass
class Outcome:
    """What a deletion or an undo did (the contract's JSON, minus formatting)."""

    journal_id: str | None = None
    deleted: list[str] = field(default_factory=list)
    restored: list[str] = field(default_factory=list)
    kept: list[tuple[str, str]] = field(default_factory=list)
    skipped: list[tuple[str, str]] = field(default_factory=list)
    refused: list[Refusal] = field(default_factory=list)
    # (profile, store, message)
    errors: list[tuple[str, str, str]] = field(default_factory=list)


def apply(plan: Plan, data_dir: Path, command: str, running: Running = locks.is_running) -> Outcome:
    """Carry the plan out (see the module's docstring for the order of things)."""
    outcome = Outcome(kept=[(k.entry.id, k.reason) for k in plan.kept])
    refused = list(plan.refused) + [
        Refusal(str(p.path), running_reason(p)) for p in plan.profiles
        if str(p.path) not in {r.profile for r in plan.refused} and running(p)
    ]
    if refused:
        outcome.refused = refused
        return outcome
    changed = [s for s in plan.stores if fingerprint(s.profile.path / s.store) != s.fingerprint]
    if changed:
        outcome.refused = [Refusal(str(s.profile.path), f"{s.store} changed since the plan was made "
                                   "(the browser ran in between?); scan again") for s in changed]
        return outcome
    if not plan.stores:
        return outcome
    journal = journals.Journal.create(data_dir, command)
    outcome.journal_id = journal.id
    for store in plan.stores:
        profile = store.profile
        writer = writer_for(profile, store.kind, store.store)
        assert writer is not None  # make_plan only plans stores that have one
        record = journals.StoreRecord(str(profile.path), profile.browser, profile.engine, profile.name,
                                      store.kind, store.store, writer.name)
        if running(profile):
            record.status, record.message = journals.UNTOUCHED, running_reason(profile)
            outcome.errors.append((str(profile.path), store.store, record.message))
            journal.add_store(record)
            journal.save_store(record)
            continue
        journal.add_store(record)
        try:
            deleted = writer.delete(store.entries, journal.for_store(record))
        except (WriteError, OSError) as exc:
            record.status = journals.UNTOUCHED
            record.message = f"nothing was changed in {store.store}: {exc}"
            outcome.errors.append((str(profile.path), store.store, record.message))
        else:
            record.status, record.deleted = journals.DONE, deleted
            outcome.deleted += deleted
            gone = {e.id for e in store.entries} - set(deleted)
            outcome.skipped += [(i, "already gone from the profile") for i in sorted(gone)]
        journal.save_store(record)
    return outcome


def undo(data_dir: Path, profiles_now: Callable[[journals.StoreRecord], Profile],
         journal_id: str | None = None, running: Running = locks.is_running) -> Outcome:
    """Restore a journal (the newest not undone by default)."""
    journal = (journals.Journal.load(data_dir, journal_id) if journal_id
               else journals.newest_to_undo(data_dir))
    if journal is None:
        raise journals.JournalError("there is no deletion to undo")
    outcome = Outcome(journal_id=journal.id)
    if journal.undone is not None:
        raise journals.JournalError(f"journal {journal.id} was already undone on {journal.undone}")
    records = journal.restorable()
    profiles = [(r, profiles_now(r)) for r in records]
    outcome.refused = [Refusal(str(p.path), running_reason(p)) for _, p in profiles if running(p)]
    if outcome.refused:
        return outcome
    for record, profile in profiles:
        writer = writer_for(profile, record.kind, record.store)
        if writer is None or writer.name != record.writer:
            outcome.errors.append((record.profile, record.store, "no writer for this store"))
            continue
        try:
            restored, skipped = writer.restore(journal.for_store(record))
        except (WriteError, OSError, journals.JournalError) as exc:
            outcome.errors.append((record.profile, record.store, f"not restored: {exc}"))
            continue
        record.status, record.restored = journals.RESTORED, restored
        record.skipped = [list(s) for s in skipped]
        outcome.restored += restored
        outcome.skipped += skipped
        journal.save_store(record)
    if not outcome.errors:
        journal.undone = journals._now()
        journal.save()
    return outcome
