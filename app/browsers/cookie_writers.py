"""Cookie writers: delete and restore cookies in Chromium's and Firefox's databases.

Each writer knows its table and how the reader derives an entry id from a
row, and leaves the transaction, journalling and WAL handling to
``sqlitewrite``.  Firefox's session-only cookies live in its session files,
not in ``cookies.sqlite``; they have no writer yet, so a plan keeps them and
says why.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from privacy_inspector.browsers import sqlitewrite
from privacy_inspector.browsers.firefox import parse_origin_attributes
from privacy_inspector.core.ids import IdMaker
from privacy_inspector.core.records import Engine, Entry, Kind, Profile

if TYPE_CHECKING:
    from privacy_inspector.browsers.writers import StoreJournal, Writer


def writer_for(profile: Profile, kind: str, store: str) -> Writer | None:
    if kind != Kind.COOKIE:
        return None
    if profile.engine == Engine.CHROMIUM and store in ("Cookies", "Network/Cookies"):
        return ChromiumCookieWriter(profile, store)
    if profile.engine == Engine.FIREFOX and store == "cookies.sqlite":
        return FirefoxCookieWriter(profile, store)
    return None


class ChromiumCookieWriter:
    """``Cookies`` / ``Network/Cookies`` of a Chromium profile."""

    name = "chromium-cookies"
    table = "cookies"
    id_columns = ("top_frame_site_key", "host_key", "name", "path")

    def __init__(self, profile: Profile, store: str) -> None:
        self.path = profile.path / store
        make = IdMaker(profile.key, Kind.COOKIE, store)
        self.id_of = lambda row: make(row[0] or None, None, row[1].lower(), row[2], row[3])

    def _id_sql(self, columns: list[str]) -> list[str]:
        """The id's columns as SQL, ``''`` for one the table lacks (older Chromium)."""
        return [c if c in columns else "''" for c in self.id_columns]

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        return sqlitewrite.delete_rows(self.path, self.table, self._id_sql, self.id_of,
                                       {e.id for e in entries}, journal.save)

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        return sqlitewrite.restore_rows(self.path, journal.load(), self._id_sql,
                                        self.id_of, self.id_columns)


class FirefoxCookieWriter:
    """``cookies.sqlite`` of a Firefox profile (its persistent cookies)."""

    name = "firefox-cookies"
    table = "moz_cookies"
    id_columns = ("originAttributes", "host", "name", "path")

    def __init__(self, profile: Profile, store: str) -> None:
        self.path = profile.path / store
        make = IdMaker(profile.key, Kind.COOKIE, store)

        def id_of(row: tuple[Any, ...]) -> str:
            partition_key, _, container = parse_origin_attributes(row[0] or "")
            return make(partition_key, container, row[1].lower(), row[2], row[3])

        self.id_of = id_of

    def delete(self, entries: Sequence[Entry], journal: StoreJournal) -> list[str]:
        return sqlitewrite.delete_rows(self.path, self.table, list(self.id_columns), self.id_of,
                                       {e.id for e in entries}, journal.save)

    def restore(self, journal: StoreJournal) -> tuple[list[str], list[tuple[str, str]]]:
        return sqlitewrite.restore_rows(self.path, journal.load(), list(self.id_columns),
                                        self.id_of, self.id_columns, drop_if_taken="id")
