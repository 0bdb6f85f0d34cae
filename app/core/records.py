"""The records that flow through the engine.

Readers yield :class:`Entry` objects; classifiers return new ones with more
fields filled (``dataclasses.replace``); front ends only render them.  The
field names are the JSON contract of ``scan --format json``
(``shared/contract/cli.md``), so they may be extended but never renamed.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple


class Kind(enum.StrEnum):
    COOKIE = "cookie"
    LOCAL_STORAGE = "local_storage"
    SESSION_STORAGE = "session_storage"
    INDEXED_DB = "indexed_db"
    CACHE_STORAGE = "cache_storage"
    SERVICE_WORKER = "service_worker"


class Engine(enum.StrEnum):
    CHROMIUM = "chromium"
    FIREFOX = "firefox"
    SAFARI = "safari"


class ValueState(enum.StrEnum):
    PLAIN = "plain"
    ENCRYPTED = "encrypted"
    UNAVAILABLE = "unavailable"


class Entry(NamedTuple):
    """One cookie or storage item, as the browser stored it.

    Immutable: classifiers return a new one with ``_replace``.  A NamedTuple
    rather than a frozen dataclass because a scan builds 100,000 of them and a
    frozen dataclass of this width costs six times as much to construct
    (measured: 10 µs against 1.6 µs each).  Fields after ``store`` are optional;
    the classification fields are left at their defaults by readers and filled
    by the knowledge layer.
    """

    id: str
    browser: str
    engine: str
    profile: str
    kind: str
    host: str
    domain_cookie: bool | None
    origin: str | None
    site: str
    partition_site: str | None
    container: int | None
    name: str
    path: str | None
    persistent: bool
    expires: str | None
    secure: bool | None
    http_only: bool | None
    same_site: str | None
    size: int
    value: str | None
    value_state: str
    stale: bool
    # Where it was read from, relative to the profile folder ("Cookies",
    # "sessionstore.jsonlz4", ...).
    store: str
    created: str | None = None
    last_accessed: str | None = None
    # Chromium only: "low" / "medium" / "high".
    priority: str | None = None
    # "secure" / "non_secure" / "unset" (Chromium's source_scheme; Firefox's schemeMap).
    source_scheme: str | None = None
    source_port: int | None = None
    # The cookie carried the CHIPS ``Partitioned`` attribute.
    partitioned: bool | None = None
    # Why the value is unavailable, when it is (never the value itself).
    value_note: str | None = None
    organization: str | None = None
    service: str | None = None
    party: str | None = None
    on_owner_site: bool | None = None
    category: str | None = None
    tracker: bool | None = None
    identifier_like: bool | None = None
    purpose: str | None = None
    policy_clauses: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        data = self._asdict()
        data["policy_clauses"] = list(self.policy_clauses)
        return data


ENTRY_FIELD_NAMES: tuple[str, ...] = Entry._fields


@dataclass(frozen=True, slots=True)
class Profile:
    """A browser profile the app knows of.

    ``path`` is the profile folder (Chromium: ``Default``, ``Profile 1``; not the
    user-data folder).  For Safari it is the ``Cookies.binarycookies`` file.
    """

    path: Path
    browser: str
    engine: str
    name: str
    # Chromium's user-data folder (holds ``Local State`` and the lock);
    # Firefox's profiles root (holds ``profiles.ini``); else None.
    root: Path | None = None
    default: bool = False
    # Set when the app may not read the profile: what is wrong and what to do.
    problem: str | None = None

    @property
    def key(self) -> str:
        """What entry ids are derived from: stable across copies of the profile."""
        return f"{self.engine}:{self.browser}:{self.path.name}"

    def to_dict(self, running: bool) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "browser": self.browser,
            "engine": self.engine,
            "name": self.name,
            "running": running,
            "root": str(self.root) if self.root else None,
            "default": self.default,
            "readable": self.problem is None,
            "problem": self.problem,
        }


@dataclass(frozen=True, slots=True)
class ScanError:
    """A profile or store that could not be read.  ``message`` is one line for a person."""

    profile: str
    store: str | None
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"profile": self.profile, "store": self.store, "message": self.message}


class ReadError(Exception):
    """A store could not be read; the message is fit to show a user as it is."""
