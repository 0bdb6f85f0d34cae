"""Chromium-family cookies: the ``Cookies`` SQLite database of a profile.

Schema versions 18 to 24 are read with every attribute; older ones with the
columns they have.  Times are microseconds since 1601-01-01.  A CHIPS
(partitioned) cookie carries its top-level site in ``top_frame_site_key``.
Values stay encrypted unless the user asks to see them.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

from privacy_inspector.browsers import sqlitecopy
from privacy_inspector.browsers.base import CookieFactory, ReadOptions
from privacy_inspector.browsers.decrypt import ChromiumDecryptor
from privacy_inspector.core import sites
from privacy_inspector.core.records import Entry, Profile, ReadError, ValueState
from privacy_inspector.core.times import iso_from_chromium

# The newest schema this module knows every column of.
KNOWN_VERSION = 24
# From version 24 the plaintext starts with SHA-256(host_key).
HASH_PREFIX_VERSION = 24

_SAME_SITE = {-1: "unspecified", 0: "none", 1: "lax", 2: "strict"}
_PRIORITY = {0: "low", 1: "medium", 2: "high"}
_SOURCE_SCHEME = {0: "unset", 1: "non_secure", 2: "secure"}

# Column (or fallback expression) per field, in the order the reader unpacks.
_COLUMNS = (
    ("host_key", None),
    ("name", None),
    ("path", "'/'"),
    ("value", "''"),
    ("encrypted_value", "X''"),
    ("top_frame_site_key", "''"),
    ("expires_utc", "0"),
    ("is_persistent", None),
    ("is_secure", None),
    ("is_httponly", None),
    ("samesite", "-1"),
    ("creation_utc", "0"),
    ("last_access_utc", "0"),
    ("priority", "NULL"),
    ("source_scheme", "NULL"),
    ("source_port", "NULL"),
)
# The columns read as they are, after name, path, size and value.
_ROW_TAIL = (
    "top_frame_site_key", "expires_utc", "is_persistent", "is_secure", "is_httponly", "samesite",
    "creation_utc", "last_access_utc", "priority", "source_scheme", "source_port",
)
_PLAIN, _ENCRYPTED = 1, 2
# Names older schemas used for the same column.
_OLD_NAMES = {"is_persistent": "persistent", "is_secure": "secure", "is_httponly": "httponly"}


def cookie_stores(profile_dir: Path) -> list[tuple[Path, bool]]:
    """The cookie databases of a profile, each with whether it is stale.

    Windows Chromium keeps cookies in ``Network/Cookies`` (since M96); other
    systems in ``Cookies``.  Where both exist the old root file is a leftover.
    """
    network = profile_dir / "Network" / "Cookies"
    root = profile_dir / "Cookies"
    stores = []
    if network.is_file():
        stores.append((network, False))
    if root.is_file():
        stores.append((root, network.is_file()))
    return stores


def _schema_version(conn: sqlite3.Connection) -> int | None:
    try:
        row = conn.execute("SELECT value FROM meta WHERE key = 'version'").fetchone()
    except sqlite3.Error:
        return None
    try:
        return int(row[0]) if row else None
    except (TypeError, ValueError):
        return None


def _columns(conn: sqlite3.Connection, path: Path) -> dict[str, str]:
    """The SQL expression for each field, from the columns this file has."""
    present = sqlitecopy.columns(conn, "cookies")
    if not present:
        raise ReadError(f"{path.name} has no cookies table: it is not a Chromium cookie database")
    exprs = {}
    for column, fallback in _COLUMNS:
        if column in present:
            exprs[column] = column
        elif _OLD_NAMES.get(column) in present:
            exprs[column] = _OLD_NAMES[column]
        elif column == "is_persistent" and "has_expires" in present:
            exprs[column] = "has_expires"
        elif fallback is not None:
            exprs[column] = fallback
        else:
            raise ReadError(
                f"{path.name} has an unknown layout: its cookies table lacks the column {column}"
            )
    return exprs


def _select(exprs: dict[str, str], with_values: bool) -> str:
    """The query: sizes and value states are computed by SQLite, and values
    (or ciphertexts) are only fetched when the user asked to see them."""
    value, encrypted = exprs["value"], exprs["encrypted_value"]
    fields = [
        exprs["host_key"],
        exprs["name"],
        exprs["path"],
        f"length(CAST({exprs['name']} AS BLOB)) + CASE WHEN {value} != '' "
        f"THEN length(CAST({value} AS BLOB)) ELSE length({encrypted}) END",
        f"CASE WHEN {value} != '' THEN 1 WHEN length({encrypted}) > 0 THEN 2 ELSE 0 END",
        value if with_values else "NULL",
        encrypted if with_values else "NULL",
        *(exprs[c] for c in _ROW_TAIL),
    ]
    return "SELECT " + ", ".join(fields) + " FROM cookies"


def read_cookie_file(
    profile: Profile, path: Path, options: ReadOptions, *, stale: bool = False
) -> Iterator[Entry]:
    store = path.relative_to(profile.path).as_posix() if path.is_relative_to(profile.path) else path.name
    make = CookieFactory(profile)
    with sqlitecopy.open_copy(path) as conn:
        version = _schema_version(conn)
        exprs = _columns(conn, path)
        if version is not None and version > KNOWN_VERSION:
            options.note_problem(
                store,
                f"{store} has schema version {version}, newer than this app knows "
                f"({KNOWN_VERSION}); its cookies were read with the known columns",
            )
        rows = sqlitecopy.fetch_all(conn, _select(exprs, options.show_values), path)
    decryptor = None
    if options.show_values:
        decryptor = ChromiumDecryptor(
            profile.browser,
            path,
            (profile.root / "Local State") if profile.root else None,
            hash_prefix=version is not None and version >= HASH_PREFIX_VERSION,
        )
    same_site_of = _SAME_SITE.get
    for (
        host,
        name,
        cookie_path,
        size,
        stored_as,
        value,
        encrypted,
        top_frame,
        expires,
        persistent,
        secure,
        http_only,
        same_site,
        created,
        accessed,
        priority,
        scheme,
        port,
    ) in rows:
        note = None
        if stored_as == _ENCRYPTED:
            if decryptor is not None:
                shown, state, note = decryptor.decrypt(encrypted)
            else:
                shown, state = None, ValueState.ENCRYPTED
        else:
            state = ValueState.PLAIN
            shown = value if decryptor is not None else None
        persistent = bool(persistent)
        yield make(
            store,
            store,
            host,
            name,
            cookie_path,
            top_frame or None,
            sites.site_of_origin(top_frame.split("^", 1)[0]) if top_frame else None,
            None,
            persistent,
            iso_from_chromium(expires) if persistent else None,
            bool(secure),
            bool(http_only),
            same_site_of(same_site, "unspecified"),
            size,
            shown,
            state,
            stale,
            iso_from_chromium(created),
            iso_from_chromium(accessed),
            _PRIORITY.get(priority) if priority is not None else None,
            _SOURCE_SCHEME.get(scheme) if scheme is not None else None,
            None if port is None or port < 0 else port,
            bool(top_frame),
            note,
        )


def read_cookies(profile: Profile, options: ReadOptions) -> Iterator[Entry]:
    """Every cookie of a Chromium profile, from each of its cookie databases."""
    for path, stale in cookie_stores(profile.path):
        yield from read_cookie_file(profile, path, options, stale=stale)
