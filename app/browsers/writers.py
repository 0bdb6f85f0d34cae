"""What a store writer is, and which writer serves which store.

A writer deletes entries from one store of one profile (the browser closed;
the caller checked) and can put them back from its journal.  It must:

- write everything it will remove into ``journal`` (``save`` for data,
  ``files()`` for copies of files) before it removes anything;
- change the store all or nothing, raising ``WriteError`` (with nothing
  changed) when it cannot;
- never change a browser's schema or formats, only remove what the plan
  names (rows, keys, files) and the bookkeeping the browser keeps beside it;
- on restore, leave alone what the site has set again since, and say so.

``writer_for`` asks each engine's module in turn; a store without a writer
is kept by the plan, with the reason shown to the user.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

from privacy_inspector.browsers.sqlitewrite import WriteError
from privacy_inspector.core.records import Entry, Profile

__all__ = ["StoreJournal", "WriteError", "Writer", "writer_for"]


class StoreJournal(Protocol):
    """One store's part of a journal."""

    def save(self, payload: dict[str, Any]) -> None:
        """Keep ``payload`` (JSON) on disk, flushed, before returning."""

    def load(self) -> dict[str, Any]:
        """The payload saved by ``save``."""

    def files(self) -> Path:
        """A private folder (0700) for copies of files the writer removes."""


class Writer(Protocol):
    name: str

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        """Delete ``entries``; the ids actually deleted (one already gone is left out)."""

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        """Put back what ``delete`` removed: (ids restored, [(id, why not)])."""


Factory = Callable[[Profile, str, str], "Writer | None"]


def _factories() -> list[Factory]:
    from privacy_inspector.browsers import (
        chromium_cache_write,
        chromium_idb_write,
        chromium_storage_write,
        chromium_sw_write,
        cookie_writers,
        firefox_cache_write,
        firefox_session_write,
        firefox_storage_write,
    )

    return [cookie_writers.writer_for, firefox_storage_write.writer_for,
            firefox_session_write.writer_for, firefox_cache_write.writer_for,
            chromium_storage_write.writer_for, chromium_idb_write.writer_for,
            chromium_cache_write.writer_for, chromium_sw_write.writer_for]


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    """The writer of one store, or None where the app cannot write it yet."""
    for factory in _factories():
        writer = factory(profile, kind, store)
        if writer is not None:
            return writer
    return None
