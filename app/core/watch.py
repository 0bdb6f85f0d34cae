"""Live watch: follow profiles while the browser runs and report what changes.

The :class:`Watcher` polls cheaply.  Each poll takes a fingerprint of every
file a kind of store lives in (``os.stat``: size, mtime_ns and inode of the
cookie database with its ``-wal``/``-journal``, and of every file under the
storage folders) and reads again only the kinds of a profile whose
fingerprint changed, through the same readers as a scan (private copies of
SQLite files including their WAL, our own LevelDB reader): the watcher
never writes to a profile and never holds a lock on it.  Entries are then
compared by id with what was there before, which gives ``added``,
``changed`` and ``removed`` events.

"changed" compares the expiry, size, flags and a keyed hash of the value.
The watcher reads values only to hash them (and to let the classifier judge
whether a value looks like an identifier), then drops them: events carry
entries whose ``value`` is None, and no value is kept, printed or logged.

What reaches the disk, and when (measured on this machine with the test
harness: a running browser visits LiveOps, and the app's scan polls the
profile every 0.2 s from the moment the page reported it had finished):

* Firefox ESR 153 wrote cookies to ``cookies.sqlite`` (its WAL) at once
  (found by the first poll, 0.02-0.25 s); the session cookie reached
  ``sessionstore-backups/recovery.jsonlz4`` after 13 s (Firefox saves the
  session every 15 s); localStorage reached
  ``storage/default/<origin>/ls/data.sqlite`` after 4.8-5.1 s.
* Chromium 156 kept new cookies in memory and wrote them to ``Cookies``
  after 29.5 s (or at once when it closed); localStorage reached
  ``Local Storage/leveldb`` after 4.7 s.

So the watcher tells users this (:func:`notices`) where they would otherwise
wait in vain for something that is not on disk yet.  Once a change is on
disk, the watcher reports it within one interval plus one read of that kind
of store (``benchmarks/watch.py`` measures it).
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

from privacy_inspector.core import engine
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.records import Engine, Entry, Kind, Profile, ScanError
from privacy_inspector.core.snapshots import value_hash

ADDED = "added"
CHANGED = "changed"
REMOVED = "removed"
ERROR = "error"

# The fields whose change makes an entry "changed"; "value" stands for the
# hash of the value (the value itself is never kept).
COMPARED_FIELDS: tuple[str, ...] = (
    "expires", "size", "persistent", "secure", "http_only", "same_site", "partitioned",
    "value_state", "stale",
)

# Where each kind of store lives, relative to the profile folder: a file
# (with its SQLite side files) or a folder (every file beneath it).
# (Not "-shm": readers touch it too, and a commit always changes the WAL.)
_SQLITE_SIDES = ("", "-wal", "-journal")
_PLACES: dict[str, dict[str, tuple[str, ...]]] = {
    Engine.CHROMIUM: {
        Kind.COOKIE: ("Cookies", "Network/Cookies"),
        Kind.LOCAL_STORAGE: ("Local Storage/leveldb/",),
        Kind.SESSION_STORAGE: ("Session Storage/",),
        Kind.INDEXED_DB: ("IndexedDB/", "WebStorage/"),
        Kind.CACHE_STORAGE: ("Service Worker/CacheStorage/",),
        Kind.SERVICE_WORKER: ("Service Worker/Database/",),
    },
    Engine.FIREFOX: {
        Kind.COOKIE: ("cookies.sqlite", "sessionstore.jsonlz4", "sessionstore-backups/"),
        Kind.LOCAL_STORAGE: ("webappsstore.sqlite", "storage/ls-archive.sqlite", "storage/default/"),
        Kind.SESSION_STORAGE: ("sessionstore.jsonlz4", "sessionstore-backups/"),
        Kind.INDEXED_DB: ("storage/default/",),
        Kind.CACHE_STORAGE: ("storage/default/",),
        Kind.SERVICE_WORKER: ("serviceworker.txt",),
    },
    Engine.SAFARI: {Kind.COOKIE: ("",)},
}

# How many polls in a row a kind's read may be set aside because its files
# changed while it was read.
MAX_DEFERRALS = 2

NOTICES: dict[str, str] = {
    Engine.CHROMIUM: (
        "Chromium keeps new cookies in memory and writes them to disk up to about 30 seconds "
        "later, or when it closes, and localStorage about 5 seconds after a page sets it; "
        "they show here only then."
    ),
    Engine.FIREFOX: (
        "Firefox writes localStorage about 5 seconds after a page sets it, and session "
        "cookies with the session about every 15 seconds; they show here only then."
    ),
}


def notices(profiles: Iterable[Profile]) -> list[str]:
    """One sentence per engine present: how long its browser keeps changes off the disk."""
    engines = {p.engine for p in profiles}
    return [text for eng, text in NOTICES.items() if eng in engines]


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


@dataclass(frozen=True, slots=True)
class Change:
    """One event: an entry ``added``, ``changed`` or ``removed``, or an ``error``.

    ``entry`` never carries a value.  ``fields_changed`` names what differs for
    ``changed`` (``"value"`` when the value did).  For ``error``, ``entry`` is
    None and ``error`` says which profile or store could not be read.
    """

    kind: str
    entry: Entry | None
    fields_changed: tuple[str, ...] = ()
    at: str = field(default_factory=now_iso)
    error: ScanError | None = None

    def to_dict(self) -> dict:
        data: dict = {"event": self.kind, "at": self.at, "fields": list(self.fields_changed)}
        if self.entry is not None:
            data["entry"] = self.entry.to_dict()
        if self.error is not None:
            data["error"] = self.error.to_dict()
        return data


_Stat = tuple[str, int, int, int]


def _stat_file(path: str, rel: str, out: list[_Stat]) -> None:
    try:
        st = os.stat(path)
    except OSError:
        return
    out.append((rel, st.st_size, st.st_mtime_ns, st.st_ino))


def _walk(folder: str, rel: str, out: list[_Stat]) -> None:
    try:
        with os.scandir(folder) as it:
            items = list(it)
    except OSError:
        return
    for item in items:
        name = f"{rel}/{item.name}"
        try:
            if item.is_dir(follow_symlinks=False):
                _walk(item.path, name, out)
            else:
                st = item.stat(follow_symlinks=False)
                out.append((name, st.st_size, st.st_mtime_ns, st.st_ino))
        except OSError:
            continue


def fingerprint(profile: Profile, kind: str) -> tuple[_Stat, ...]:
    """What the files of one kind of store look like now (names, sizes, times, inodes)."""
    out: list[_Stat] = []
    base = str(profile.path)
    for place in _PLACES.get(profile.engine, {}).get(kind, ()):
        if place == "":
            _stat_file(base, "", out)
        elif place.endswith("/"):
            _walk(os.path.join(base, place[:-1]), place[:-1], out)
        else:
            for side in _SQLITE_SIDES:
                _stat_file(os.path.join(base, place + side), place + side, out)
    return tuple(out)


_Sig = tuple


class Watcher:
    """Follows ``profiles`` and reports what appears, changes and vanishes.

    Not thread-safe: call it from one thread (the GUI from its worker thread).
    """

    def __init__(
        self,
        profiles: Sequence[Profile],
        *,
        kinds: Iterable[str] | None = None,
        classifier: Classifier | None = None,
        interval: float = 0.5,
    ) -> None:
        self.profiles = list(profiles)
        self.kinds = tuple(kinds) if kinds is not None else engine.ALL_KINDS
        self.classifier = classifier
        self.interval = interval
        # A key known only to this process: the hashes say whether a value
        # changed and nothing else.
        self._key = secrets.token_bytes(16)
        self._prints: dict[tuple[int, str], tuple[_Stat, ...] | None] = {}
        self._state: dict[tuple[int, str], dict[str, tuple[Entry, _Sig]]] = {}
        self._errors_shown: set[tuple[str, str | None, str]] = set()
        self._unreadable: set[int] = set()
        self._deferred: dict[tuple[int, str], int] = {}
        self._started = False

    # -- reading ---------------------------------------------------------

    def _kinds_of(self, profile: Profile) -> list[str]:
        places = _PLACES.get(profile.engine, {})
        return [k for k in self.kinds if k in places]

    def _read(
        self, profile: Profile, kinds: Sequence[str]
    ) -> tuple[dict[str, dict[str, tuple[Entry, _Sig]]], list[ScanError], set[str]]:
        """The entries of ``kinds`` of one profile, without values, and the kinds that failed."""
        entries, errors = engine.scan_profile(profile, kinds, show_values=True)
        if self.classifier is not None:
            entries = self.classifier.classify(entries)
        by_kind: dict[str, dict[str, tuple[Entry, _Sig]]] = {k: {} for k in kinds}
        for entry in entries:
            digest = value_hash(self._key, entry.value)
            entry = entry._replace(value=None)
            sig = (*(getattr(entry, f) for f in COMPARED_FIELDS), digest)
            table = by_kind.setdefault(entry.kind, {})
            known = table.get(entry.id)
            if known is not None:
                # The same id twice (a sessionStorage item once per tab):
                # one entry, whose signature covers every copy.
                sig = tuple(sorted((known[1], sig), key=repr))
                entry = known[0]
            table[entry.id] = (entry, sig)
        del entries
        failed: set[str] = set()
        store_kinds = {s.name: s.kind for s in engine.STORES.get(profile.engine, ())}
        for error in errors:
            if error.store is None:
                failed.update(kinds)
            elif error.store in store_kinds:
                failed.add(store_kinds[error.store])
        return by_kind, errors, failed

    def _error_events(self, errors: Iterable[ScanError], at: str) -> list[Change]:
        events = []
        for error in errors:
            key = (error.profile, error.store, error.message)
            if key not in self._errors_shown:
                self._errors_shown.add(key)
                events.append(Change(ERROR, None, (), at, error))
        return events

    # -- the public API ----------------------------------------------------

    def baseline(self) -> list[ScanError]:
        """Read every chosen store once; what is there now gives no events.

        Returns what could not be read; :meth:`poll` does not report those
        again unless their message changes.
        """
        problems: list[ScanError] = []
        for index, profile in enumerate(self.profiles):
            kinds = self._kinds_of(profile)
            prints = {k: fingerprint(profile, k) for k in kinds}
            by_kind, errors, failed = self._read(profile, kinds)
            for kind in kinds:
                self._prints[(index, kind)] = prints[kind]
                self._state[(index, kind)] = by_kind.get(kind, {})
            for error in errors:
                self._errors_shown.add((error.profile, error.store, error.message))
            problems.extend(errors)
            if profile.problem or (errors and not any(by_kind.values())
                                   and set(kinds) <= failed):
                self._unreadable.add(index)
        self._started = True
        return problems

    def entries(self) -> list[Entry]:
        """Everything the watcher knows of now (without values)."""
        return [entry for table in self._state.values() for entry, _ in table.values()]

    def unreadable(self) -> list[Profile]:
        """The profiles of which nothing at all could be read at the baseline."""
        return [self.profiles[i] for i in sorted(self._unreadable)]

    def poll(self) -> list[Change]:
        """Read again what changed on disk since the last poll; the events, in order."""
        if not self._started:
            self.baseline()
            return []
        events: list[Change] = []
        for index, profile in enumerate(self.profiles):
            if profile.problem:
                continue
            kinds = self._kinds_of(profile)
            prints = {k: fingerprint(profile, k) for k in kinds}
            changed = [k for k in kinds if prints[k] != self._prints.get((index, k))]
            if not changed:
                continue
            by_kind, errors, failed = self._read(profile, changed)
            at = now_iso()
            events.extend(self._error_events(errors, at))
            for kind in changed:
                key = (index, kind)
                if kind in failed:
                    # Keep what was known (an unreadable file is no removal);
                    # read it again when it changes.
                    self._prints[key] = prints[kind]
                    continue
                if (fingerprint(profile, kind) != prints[kind]
                        and self._deferred.get(key, 0) < MAX_DEFERRALS):
                    # The browser wrote while we read: what was read may be
                    # half old, half new.  Read it again next time (but not
                    # forever, or a busy browser would never be reported).
                    self._deferred[key] = self._deferred.get(key, 0) + 1
                    continue
                self._deferred.pop(key, None)
                self._prints[key] = prints[kind]
                old = self._state.get((index, kind), {})
                new = by_kind.get(kind, {})
                events.extend(_diff(old, new, at))
                self._state[(index, kind)] = new
        return events

    def run(
        self,
        on_change: Callable[[Change], None],
        should_stop: Callable[[], bool] = lambda: False,
        timeout: float | None = None,
        count: int | None = None,
    ) -> int:
        """Poll every ``interval`` and hand each event to ``on_change``.

        Stops when ``should_stop()`` says so, after ``timeout`` seconds, or
        after ``count`` added/changed/removed events.  Returns how many such
        events there were.  Takes the baseline first if not done yet.
        """
        start = time.monotonic()
        if not self._started:
            for error in self.baseline():
                on_change(Change(ERROR, None, (), now_iso(), error))
        seen = 0
        while True:
            if should_stop():
                return seen
            if timeout is not None and time.monotonic() - start >= timeout:
                return seen
            began = time.monotonic()
            for change in self.poll():
                on_change(change)
                if change.kind != ERROR:
                    seen += 1
                    if count is not None and seen >= count:
                        return seen
            pause = self.interval - (time.monotonic() - began)
            if timeout is not None:
                pause = min(pause, timeout - (time.monotonic() - start))
            # Sleep in small steps so that should_stop is heard quickly.
            end = time.monotonic() + max(pause, 0.0)
            while (left := end - time.monotonic()) > 0:
                if should_stop():
                    return seen
                time.sleep(min(left, 0.1))


def _diff(
    old: dict[str, tuple[Entry, _Sig]], new: dict[str, tuple[Entry, _Sig]], at: str
) -> list[Change]:
    events = []
    for entry_id, (entry, sig) in new.items():
        before = old.get(entry_id)
        if before is None:
            events.append(Change(ADDED, entry, (), at))
        elif before[1] != sig:
            events.append(Change(CHANGED, entry, _fields(before[1], sig), at))
    for entry_id, (entry, _) in old.items():
        if entry_id not in new:
            events.append(Change(REMOVED, entry, (), at))
    return events


def _fields(a: _Sig, b: _Sig) -> tuple[str, ...]:
    names = (*COMPARED_FIELDS, "value")
    if len(a) != len(names) or len(b) != len(names):
        return ("value",)  # an id seen more than once: say what can be said
    return tuple(n for n, x, y in zip(names, a, b, strict=True) if x != y)


__all__ = ["ADDED", "CHANGED", "COMPARED_FIELDS", "Change", "ERROR", "NOTICES", "REMOVED",
           "Watcher", "fingerprint", "notices"]
