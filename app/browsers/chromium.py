"""Chromium-family cookies: the ``Cookies`` SQLite database of a profile.

Schema versions 18 to 24 are read with every attribute; older ones with the
columns they have.  Times are microseconds since 1601-01-01.  A CHIPS
(partitioned) cookie carries its top-level site in ``top_frame_site_key``.
Values stay encrypted unless the user asks to see them.
"""

from __future__ import annotations

import functools
import sqlite3
from pathlib import Path
from typing import Any

from privacy_inspector.browsers import sqlitecopy
from privacy_inspector.browsers.base import CookieFactory, ReadOptions
from privacy_inspector.browsers.decrypt import ChromiumDecryptor, values_without_prompt
from privacy_inspector.core import sites
from privacy_inspector.core.records import Entry, Profile, ValueState
from privacy_inspector.core.times import WINDOWS_EPOCH_OFFSET, iso_column

WINDOWS_EPOCH_OFFSET_MICROS = WINDOWS_EPOCH_OFFSET * 1_000_000
# The newest schema this module knows every column of.
KNOWN_VERSION = 24
# From version 24 the plaintext starts with SHA-256(host_key).
HASH_PREFIX_VERSION = 24

_SAME_SITE = {-1: "unspecified", 0: "none", 1: "lax", 2: "strict"}
_PRIORITY = {0: "low", 1: "medium", 2: "high"}
_SOURCE_SCHEME = {0: "unset", 1: "non_secure", 2: "secure"}

# Each column: older names for it, and the SQL to use where the file has
# neither (None: the column is required).
_COLUMNS = (
    ("host_key", (), None),
    ("name", (), None),
    ("path", (), "'/'"),
    ("value", (), "''"),
    ("encrypted_value", (), "X''"),
    ("top_frame_site_key", (), "''"),
    ("expires_utc", (), "0"),
    ("is_persistent", ("persistent", "has_expires"), None),
    ("is_secure", ("secure",), None),
    ("is_httponly", ("httponly",), None),
    ("samesite", (), "-1"),
    ("creation_utc", (), "0"),
    ("last_access_utc", (), "0"),
    ("priority", (), "NULL"),
    ("source_scheme", (), "NULL"),
    ("source_port", (), "NULL"),
)
_EMPTY, _PLAIN, _ENCRYPTED = 0, 1, 2
_STATE_OF = {_EMPTY: ValueState.PLAIN, _PLAIN: ValueState.PLAIN, _ENCRYPTED: ValueState.ENCRYPTED}


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


def _seconds(expr: str) -> str:
    """SQL for a Chromium time (µs since 1601) as Unix seconds; NULL for 0 (none)."""
    return f"CASE WHEN {expr} > 0 THEN ({expr} - {WINDOWS_EPOCH_OFFSET_MICROS}) / 1000000 END"


def _select(exprs: dict[str, str]) -> str:
    """The query.  SQLite works out sizes, value states and Unix seconds, and
    packs the small attributes into one integer (see ``_flags``), so that
    reading 100,000 cookies creates as few Python objects as it can.  Values
    and ciphertexts are always fetched: values the user did not ask to see
    are still measured for ``identifier_like``."""
    e = exprs
    value, encrypted = e["value"], e["encrypted_value"]
    flags = (
        f"(({e['is_persistent']} != 0) | (({e['is_secure']} != 0) << 1)"
        f" | (({e['is_httponly']} != 0) << 2) | ((coalesce({e['samesite']}, -1) + 1) << 3)"
        f" | ((coalesce({e['priority']}, -1) + 1) << 6) | ((coalesce({e['source_scheme']}, -1) + 1) << 9)"
        f" | ((CASE WHEN {value} != '' THEN 1 WHEN length({encrypted}) > 0 THEN 2 ELSE 0 END) << 12))"
    )
    fields = [
        e["host_key"],
        e["name"],
        e["path"],
        f"length(CAST({e['name']} AS BLOB)) + CASE WHEN {value} != '' "
        f"THEN length(CAST({value} AS BLOB)) ELSE length({encrypted}) END",
        flags,
        e["top_frame_site_key"],
        f"CASE WHEN {e['is_persistent']} THEN {_seconds(e['expires_utc'])} END",
        _seconds(e["creation_utc"]),
        _seconds(e["last_access_utc"]),
        f"CASE WHEN {e['source_port']} >= 0 THEN {e['source_port']} END",
        value,
        encrypted,
    ]
    return "SELECT " + ", ".join(fields) + " FROM cookies"


@functools.cache
def _flags(packed: int) -> tuple[bool, bool, bool, str, str | None, str | None, int]:
    """(persistent, secure, http_only, same_site, priority, source_scheme, stored_as)."""
    return (
        bool(packed & 1),
        bool(packed & 2),
        bool(packed & 4),
        _SAME_SITE.get(((packed >> 3) & 7) - 1, "unspecified"),
        _PRIORITY.get(((packed >> 6) & 7) - 1),
        _SOURCE_SCHEME.get(((packed >> 9) & 7) - 1),
        (packed >> 12) & 3,
    )


def read_cookie_file(
    profile: Profile, path: Path, options: ReadOptions, *, stale: bool = False
) -> list[Entry]:
    store = path.relative_to(profile.path).as_posix() if path.is_relative_to(profile.path) else path.name
    make = CookieFactory(profile, show_values=options.show_values)
    with sqlitecopy.open_copy(path) as conn:
        version = _schema_version(conn)
        exprs, _ = sqlitecopy.column_expressions(
            conn, "cookies", _COLUMNS, path, "a Chromium cookie database"
        )
        if version is not None and version > KNOWN_VERSION:
            options.note_problem(
                store,
                f"{store} has schema version {version}, newer than this app knows "
                f"({KNOWN_VERSION}); its cookies were read with the known columns",
            )
        rows = sqlitecopy.fetch_all(conn, _select(exprs), path)
    count = len(rows)
    (host, name, cookie_path, size, packed, top_frame, expires, created, accessed, port, value,
     encrypted) = zip(*rows, strict=True) if rows else ((),) * 12
    (persistent, secure, http_only, same_site, priority, scheme, stored_as) = (
        zip(*map(_flags, packed), strict=True) if rows else ((),) * 7
    )
    local_state = (profile.root / "Local State") if profile.root else None
    hash_prefix = version is not None and version >= HASH_PREFIX_VERSION
    if options.show_values:
        decryptor = ChromiumDecryptor(profile.browser, path, local_state, hash_prefix=hash_prefix)
        shown, states, notes = [], [], []
        for kind, plain, ciphertext in zip(stored_as, value, encrypted, strict=True):
            if kind == _ENCRYPTED:
                result = decryptor.decrypt(ciphertext)
            else:
                result = (plain, ValueState.PLAIN, None)
            shown.append(result[0])
            states.append(result[1])
            notes.append(result[2])
        value_column: Any = shown
        state_column: Any = states
        note_column: Any = notes
    else:
        # Only measured (the factory drops them): what needs no keyring prompt.
        value_column = list(value)
        sealed = [i for i, kind in enumerate(stored_as) if kind == _ENCRYPTED]
        if sealed:
            opened = values_without_prompt(
                profile.browser, path, local_state, hash_prefix, [encrypted[i] for i in sealed]
            )
            for i, text in zip(sealed, opened, strict=True):
                value_column[i] = text
        note_column = None
        state_column = list(map(_STATE_OF.__getitem__, stored_as))
    partitions = {t: sites.site_of_origin(t.split("^", 1)[0]) if t else None for t in set(top_frame)}
    return make.build(
        count,
        store=store,
        id_store=store,
        host=host,
        name=name,
        path=cookie_path,
        partition_key=[t or None for t in top_frame],
        partition_site=list(map(partitions.__getitem__, top_frame)),
        container=None,
        persistent=persistent,
        expires=iso_column(expires),
        secure=secure,
        http_only=http_only,
        same_site=same_site,
        size=size,
        value=value_column,
        value_state=state_column,
        stale=stale,
        created=iso_column(created),
        last_accessed=iso_column(accessed),
        priority=priority,
        source_scheme=scheme,
        source_port=port,
        partitioned=list(map(bool, top_frame)),
        value_note=note_column,
    )


def read_cookies(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Every cookie of a Chromium profile, from each of its cookie databases."""
    entries: list[Entry] = []
    for path, stale in cookie_stores(profile.path):
        entries += read_cookie_file(profile, path, options, stale=stale)
    return entries
