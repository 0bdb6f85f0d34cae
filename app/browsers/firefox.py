"""Firefox-family cookies: ``cookies.sqlite`` and the session files.

``cookies.sqlite`` holds persistent cookies (schema in ``PRAGMA user_version``,
up to 17 known; ``expiry`` in seconds before schema 16 and in milliseconds from
it).  Session cookies are never written there: they live only in the session
restore files, ``sessionstore.jsonlz4`` after a clean exit or
``sessionstore-backups/recovery.jsonlz4`` while Firefox runs or after a crash;
``sessionstore-backups/previous.jsonlz4`` is the previous session, a stale copy.
``originAttributes`` carries the Total Cookie Protection partition
(``^partitionKey=%28https%2Cexample.com%29``) and the container
(``^userContextId=2``).
"""

from __future__ import annotations

import functools
import json
import sqlite3
import urllib.parse
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from privacy_inspector.browsers import mozlz4, sqlitecopy
from privacy_inspector.browsers.base import CookieFactory, ReadOptions
from privacy_inspector.core import sites
from privacy_inspector.core.records import Entry, Profile, ReadError, ValueState
from privacy_inspector.core.times import iso_column

KNOWN_VERSION = 17
EXPIRY_MS_VERSION = 16

# nsICookie sameSite: 0 none, 1 lax, 2 strict; 256 "not set" (newer schemas).
_SAME_SITE = {0: "none", 1: "lax", 2: "strict", 256: "unspecified"}
# schemeMap bits: 1 http, 2 https, 4 file.
_SCHEME = {0: "unset", 1: "non_secure", 2: "secure", 3: "secure+non_secure"}

SESSION_FILES = (
    ("sessionstore.jsonlz4", False),
    ("sessionstore-backups/recovery.jsonlz4", False),
    ("sessionstore-backups/previous.jsonlz4", True),
)

# Each column: older names for it (none so far), and the SQL to use where the
# file lacks it (None: the column is required).
_COLUMNS = (
    ("host", (), None),
    ("name", (), None),
    ("path", (), "'/'"),
    ("value", (), "''"),
    ("originAttributes", (), "''"),
    ("expiry", (), "0"),
    ("isSecure", (), "0"),
    ("isHttpOnly", (), "0"),
    ("sameSite", (), "256"),
    ("rawSameSite", (), "NULL"),
    ("creationTime", (), "0"),
    ("lastAccessed", (), "0"),
    ("schemeMap", (), "NULL"),
    ("isPartitionedAttributeSet", (), "NULL"),
)


def parse_origin_attributes(suffix: str) -> tuple[str | None, str | None, int | None]:
    """(raw partition key, partition site, container) from an originAttributes suffix.

    ``^partitionKey=%28https%2Cliveops.com%29&userContextId=2`` gives
    ``("(https,liveops.com)", "liveops.com", 2)``.  A first-party-isolation
    domain (``firstPartyDomain``) counts as the partition too.
    """
    suffix = suffix.lstrip("^")
    if not suffix:
        return None, None, None
    attrs = urllib.parse.parse_qs(suffix, keep_blank_values=True)
    return partition_and_container(
        attrs.get("partitionKey", [""])[0],
        attrs.get("firstPartyDomain", [""])[0],
        attrs.get("userContextId", [""])[0],
    )


def partition_and_container(
    partition_key: str, first_party_domain: str, user_context: Any
) -> tuple[str | None, str | None, int | None]:
    raw = None
    partition = None
    if partition_key:
        raw = partition_key
        fields = partition_key.strip("()").split(",")
        host = fields[1] if len(fields) > 1 else fields[0]
        partition = sites.registrable_domain(host) if host else None
    elif first_party_domain:
        raw = f"firstPartyDomain={first_party_domain}"
        partition = sites.registrable_domain(first_party_domain)
    try:
        container = int(user_context) if user_context not in ("", None) else None
    except (TypeError, ValueError):
        container = None
    if container == 0:
        container = None
    return raw, partition, container


def _select(conn: sqlite3.Connection, path: Path, version: int) -> str:
    """The query, with expiry in seconds, sizes and SameSite worked out by SQLite."""
    exprs, present = sqlitecopy.column_expressions(
        conn, "moz_cookies", _COLUMNS, path, "a Firefox cookie database"
    )
    expiry = exprs["expiry"]
    if version >= EXPIRY_MS_VERSION:
        expiry = f"{expiry} / 1000"
    elif version == 0:
        # No version recorded: tell milliseconds from seconds by magnitude
        # (milliseconds since 1970 passed 10**12 in 2001).
        expiry = f"CASE WHEN {expiry} > 1000000000000 THEN {expiry} / 1000 ELSE {expiry} END"
    # Before schema 15 the effective SameSite was lax-by-default and rawSameSite
    # held what the site sent (0: nothing or None).
    same_site = (
        f"CASE WHEN {exprs['rawSameSite']} = 0 AND {exprs['sameSite']} != 0 THEN 256 "
        f"ELSE {exprs['sameSite']} END"
        if "rawSameSite" in present
        else exprs["sameSite"]
    )
    e = exprs
    flags = (
        f"(({e['isSecure']} != 0) | (({e['isHttpOnly']} != 0) << 1)"
        f" | ((CASE WHEN {e['isPartitionedAttributeSet']} IS NULL THEN 0"
        f" WHEN {e['isPartitionedAttributeSet']} != 0 THEN 2 ELSE 1 END) << 2)"
        f" | (coalesce({e['schemeMap']}, 8) << 4) | (({same_site}) << 8))"
    )
    fields = [
        e["host"],
        e["name"],
        e["path"],
        f"length(CAST({e['name']} AS BLOB)) + length(CAST({e['value']} AS BLOB))",
        flags,
        e["originAttributes"],
        expiry,
        f"CASE WHEN {e['creationTime']} > 0 THEN {e['creationTime']} / 1000000 END",
        f"CASE WHEN {e['lastAccessed']} > 0 THEN {e['lastAccessed']} / 1000000 END",
        e["value"],
    ]
    return "SELECT " + ", ".join(fields) + " FROM moz_cookies"


@functools.cache
def _flags(packed: int) -> tuple[bool, bool, bool | None, str | None, str]:
    """(secure, http_only, partitioned, source_scheme, same_site) from the packed column."""
    partitioned = (packed >> 2) & 3
    scheme = (packed >> 4) & 15
    return (
        bool(packed & 1),
        bool(packed & 2),
        None if partitioned == 0 else partitioned == 2,
        None if scheme == 8 else _SCHEME.get(scheme),
        _SAME_SITE.get(packed >> 8, "unspecified"),
    )


def read_cookie_database(profile: Profile, options: ReadOptions) -> list[Entry]:
    path = profile.path / "cookies.sqlite"
    if not path.is_file():
        return []
    store = "cookies.sqlite"
    with sqlitecopy.open_copy(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        query = _select(conn, path, version)
        if version > KNOWN_VERSION:
            options.note_problem(
                store,
                f"{store} has schema version {version}, newer than this app knows "
                f"({KNOWN_VERSION}); its cookies were read with the known columns",
            )
        rows = sqlitecopy.fetch_all(conn, query, path)
    (host, name, cookie_path, size, packed, attrs, expiry, created, accessed, value) = (
        zip(*rows, strict=True) if rows else ((),) * 10
    )
    secure, http_only, partitioned, scheme, same_site = (
        zip(*map(_flags, packed), strict=True) if rows else ((),) * 5
    )
    partitions = {a: parse_origin_attributes(a or "") for a in set(attrs)}
    parsed = list(map(partitions.__getitem__, attrs))
    return CookieFactory(profile, show_values=options.show_values).build(
        len(rows),
        store=store,
        id_store=store,
        host=host,
        name=name,
        path=cookie_path,
        partition_key=[p[0] for p in parsed],
        partition_site=[p[1] for p in parsed],
        container=[p[2] for p in parsed],
        persistent=True,
        expires=iso_column(expiry),
        secure=secure,
        http_only=http_only,
        same_site=same_site,
        size=size,
        value=value,
        value_state=ValueState.PLAIN,
        stale=False,
        created=iso_column(created),
        last_accessed=iso_column(accessed),
        priority=None,
        source_scheme=scheme,
        source_port=None,
        partitioned=partitioned,
        value_note=None,
    )


def _session_cookies(state: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(state, dict):
        return
    cookies = state.get("cookies")
    if isinstance(cookies, list):
        yield from (c for c in cookies if isinstance(c, dict))
    # Older session files kept cookies per window.
    for window in state.get("windows") or ():
        if isinstance(window, dict) and isinstance(window.get("cookies"), list):
            yield from (c for c in window["cookies"] if isinstance(c, dict))


def load_session_file(path: Path) -> Any:
    """The JSON state of a mozlz4 session file; ReadError if it cannot be decoded."""
    try:
        data = mozlz4.read(path)
    except mozlz4.FormatError as exc:
        raise ReadError(f"{path.name} is not a readable session file: {exc}") from exc
    except PermissionError as exc:
        raise ReadError(f"{path.name} cannot be read: permission denied") from exc
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReadError(f"{path.name} does not hold valid session data") from exc


def session_sources(profile: Profile) -> list[tuple[Path, bool]]:
    """The session files to read, as (path, stale): the newer of the live files
    (``sessionstore.jsonlz4`` after a clean exit, ``recovery.jsonlz4`` while
    Firefox runs or after a crash), then ``previous.jsonlz4``."""
    live = [
        profile.path / rel for rel, stale in SESSION_FILES if not stale and (profile.path / rel).is_file()
    ]
    live.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    sources = [(p, False) for p in live[:1]]
    sources += [
        (profile.path / rel, True) for rel, stale in SESSION_FILES if stale and (profile.path / rel).is_file()
    ]
    return sources


def session_states(
    profile: Profile, problems: list[tuple[str, str]]
) -> Iterator[tuple[str, bool, Any]]:
    """(store, stale, decoded state) for each session file to read.

    A live file that cannot be decoded raises ReadError; a stale one that
    cannot is recorded in ``problems`` and skipped.  FileNotFoundError passes
    through (Firefox replaced the file: the caller starts over).
    """
    for path, stale in session_sources(profile):
        store = path.relative_to(profile.path).as_posix()
        try:
            state = load_session_file(path)
        except ReadError as exc:
            if not stale:
                raise
            problems.append((store, str(exc)))
            continue
        yield store, stale, state


# While Firefox runs it replaces recovery.jsonlz4 every few seconds, moving the
# old one aside first: a file can vanish between listing and reading.
SESSION_ATTEMPTS = 4


def read_session_cookies(profile: Profile, options: ReadOptions) -> list[Entry]:
    """Session cookies from the live session file, plus stale ones from ``previous``.

    A cookie in ``previous.jsonlz4`` that the live file also holds is shown
    once, from the live file.  If a session file vanishes while it is read
    (Firefox replacing it), the reading starts over.
    """
    for _ in range(SESSION_ATTEMPTS):
        problems: list[tuple[str, str]] = []
        try:
            rows = _session_cookie_rows(profile, problems)
        except FileNotFoundError:
            continue
        for store, message in problems:
            options.note_problem(store, message)
        return CookieFactory(profile, show_values=options.show_values).rows(rows)
    raise ReadError("the session files kept changing while they were read; scan again")


def _session_cookie_rows(
    profile: Profile, problems: list[tuple[str, str]]
) -> list[tuple[Any, ...]]:
    rows: list[tuple[Any, ...]] = []
    seen: set[tuple[str, str, str, str | None, int | None]] = set()
    for store, stale, state in session_states(profile, problems):
        for cookie in _session_cookies(state):
            host = str(cookie.get("host", ""))
            name = str(cookie.get("name", ""))
            cookie_path = str(cookie.get("path", "/") or "/")
            value = str(cookie.get("value", ""))
            oa = cookie.get("originAttributes") or {}
            if not isinstance(oa, dict):
                oa = {}
            raw_key, partition, container = partition_and_container(
                str(oa.get("partitionKey", "") or ""),
                str(oa.get("firstPartyDomain", "") or ""),
                oa.get("userContextId"),
            )
            key = (host, name, cookie_path, raw_key, container)
            if key in seen:
                continue
            seen.add(key)
            rows.append((
                store,
                "session-stale" if stale else "session",
                host,
                name,
                cookie_path,
                raw_key,
                partition,
                container,
                False,
                None,
                bool(cookie.get("secure")),
                bool(cookie.get("httponly")),
                _SAME_SITE.get(cookie.get("sameSite", 256), "unspecified"),
                len(name.encode()) + len(value.encode()),
                value,
                ValueState.PLAIN,
                stale,
                None,
                None,
                None,
                _SCHEME.get(cookie.get("schemeMap")) if "schemeMap" in cookie else None,
                None,
                None,
                None,
            ))
    return rows


def read_cookies(profile: Profile, options: ReadOptions) -> list[Entry]:
    return read_cookie_database(profile, options) + read_session_cookies(profile, options)
