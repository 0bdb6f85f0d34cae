"""The scan: every store of every profile, read into one inventory.

One engine for both front ends.  A store that cannot be read becomes one
:class:`ScanError` and the scan goes on with the other stores and profiles.
Progress goes to an optional :class:`Reporter` (the CLI prints nothing, the
GUI will turn the calls into Qt signals).
"""

from __future__ import annotations

import contextlib
import gc
import logging
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from privacy_inspector.browsers import (
    chromium,
    chromium_idb,
    chromium_storage,
    chromium_workers,
    firefox,
    firefox_idb,
    firefox_storage,
    safari,
)
from privacy_inspector.browsers.base import ReadOptions, StoreReader
from privacy_inspector.core.classify import Classifier
from privacy_inspector.core.records import Engine, Entry, Kind, Profile, ReadError, ScanError

log = logging.getLogger(__name__)


class Reporter(Protocol):
    def progress(self, done: int, total: int, label: str) -> None: ...


class ScanCancelled(Exception):
    """The scan was stopped on request (``should_stop``) between two stores."""


@dataclass(frozen=True, slots=True)
class Store:
    """One store reader: what it reads (kind), a name for messages, and the function."""

    kind: str
    name: str
    read: StoreReader


STORES: dict[str, tuple[Store, ...]] = {
    Engine.CHROMIUM: (
        Store(Kind.COOKIE, "Cookies", chromium.read_cookies),
        Store(Kind.LOCAL_STORAGE, "Local Storage", chromium_storage.read_local_storage),
        Store(Kind.SESSION_STORAGE, "Session Storage", chromium_storage.read_session_storage),
        Store(Kind.INDEXED_DB, "IndexedDB", chromium_idb.read_indexed_db),
        Store(Kind.CACHE_STORAGE, "Cache Storage", chromium_workers.read_cache_storage),
        Store(Kind.SERVICE_WORKER, "Service Worker", chromium_workers.read_service_workers),
    ),
    Engine.FIREFOX: (
        Store(Kind.COOKIE, "cookies.sqlite", firefox.read_cookie_database),
        Store(Kind.COOKIE, "sessionstore", firefox.read_session_cookies),
        Store(Kind.LOCAL_STORAGE, "localStorage", firefox_storage.read_local_storage),
        Store(Kind.SESSION_STORAGE, "sessionStorage", firefox_storage.read_session_storage),
        Store(Kind.INDEXED_DB, "IndexedDB", firefox_idb.read_indexed_db),
        Store(Kind.CACHE_STORAGE, "Cache Storage", firefox_idb.read_cache_storage),
        Store(Kind.SERVICE_WORKER, "serviceworker.txt", firefox_idb.read_service_workers),
    ),
    Engine.SAFARI: (Store(Kind.COOKIE, "Cookies.binarycookies", safari.read_cookies),),
}

ALL_KINDS = tuple(k.value for k in Kind)


@dataclass(slots=True)
class ScanResult:
    profiles: list[Profile]
    entries: list[Entry] = field(default_factory=list)
    errors: list[ScanError] = field(default_factory=list)


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector while a store is read.

    Reading builds hundreds of thousands of small tuples, and each few hundred
    allocations the collector would walk every live object again: a third of
    the time of a 100,000-cookie scan (measured with benchmarks/scan_cookies.py).
    Entries hold no reference cycles, so nothing waits on the collector;
    reference counting still frees everything as usual.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def scan_profile(
    profile: Profile,
    kinds: Iterable[str] | None = None,
    show_values: bool = False,
    should_stop: Callable[[], bool] | None = None,
) -> tuple[list[Entry], list[ScanError]]:
    """The entries of one profile, and what could not be read.

    ``should_stop`` is asked before each store; when it says so the scan
    raises :class:`ScanCancelled` (the GUI's Cancel button).
    """
    wanted = set(kinds) if kinds is not None else None
    if profile.problem:
        return [], [ScanError(str(profile.path), None, profile.problem)]
    entries: list[Entry] = []
    errors: list[ScanError] = []
    for store in STORES.get(profile.engine, ()):
        if wanted is not None and store.kind not in wanted:
            continue
        if should_stop is not None and should_stop():
            raise ScanCancelled
        options = ReadOptions(show_values=show_values)
        try:
            with _collector_paused():
                entries.extend(store.read(profile, options))
        except ReadError as exc:
            errors.append(ScanError(str(profile.path), store.name, str(exc)))
        except Exception as exc:  # noqa: BLE001 - one broken store never ends the scan
            # Only the type goes into the message and the log: an exception
            # raised while handling a row could carry a value.
            log.error("reading %s of %s failed: %s", store.name, profile.path, type(exc).__name__)
            errors.append(
                ScanError(
                    str(profile.path),
                    store.name,
                    f"{store.name} could not be read (unexpected {type(exc).__name__}); "
                    "please report this",
                )
            )
        errors.extend(ScanError(str(profile.path), s, m) for s, m in options.problems)
    return entries, errors


def scan(
    profiles: Sequence[Profile],
    kinds: Iterable[str] | None = None,
    show_values: bool = False,
    reporter: Reporter | None = None,
    classifier: Classifier | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> ScanResult:
    """Read every chosen store of every profile; with a classifier, fill in
    who set each entry, what for, and which clauses of the policy cover it."""
    kinds = tuple(kinds) if kinds is not None else None
    result = ScanResult(profiles=list(profiles))
    for done, profile in enumerate(profiles):
        if reporter is not None:
            reporter.progress(done, len(profiles), f"{profile.browser}: {profile.name}")
        entries, errors = scan_profile(profile, kinds, show_values, should_stop)
        if classifier is not None:
            with _collector_paused():
                entries = classifier.classify(entries)
        result.entries.extend(entries)
        result.errors.extend(errors)
    if reporter is not None:
        reporter.progress(len(profiles), len(profiles), "done")
    return result


def reveal(profile: Profile, entry: Entry) -> Entry | None:
    """``entry`` read again with its value (decrypted where it can be).

    The inventory never holds values; the GUI's Reveal asks for one entry at
    a time, and only that entry's kind of store is read again.  None when the
    entry is gone from the profile.
    """
    entries, _ = scan_profile(profile, kinds=(entry.kind,), show_values=True)
    for candidate in entries:
        if candidate.id == entry.id:
            return candidate
    return None
