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
from privacy_inspector.core.times import iso_from_unix, iso_from_unix_micros

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

_COLUMNS = (
    ("host", None),
    ("name", None),
    ("path", "'/'"),
    ("value", "''"),
    ("originAttributes", "''"),
    ("expiry", "0"),
    ("isSecure", "0"),
    ("isHttpOnly", "0"),
    ("sameSite", "256"),
    ("rawSameSite", "NULL"),
    ("creationTime", "0"),
    ("lastAccessed", "0"),
    ("schemeMap", "NULL"),
    ("isPartitionedAttributeSet", "NULL"),
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
    return _partition_and_container(
        attrs.get("partitionKey", [""])[0],
        attrs.get("firstPartyDomain", [""])[0],
        attrs.get("userContextId", [""])[0],
    )


def _partition_and_container(
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


def _select(conn: sqlite3.Connection, path: Path) -> str:
    present = sqlitecopy.columns(conn, "moz_cookies")
    if not present:
        raise ReadError(f"{path.name} has no moz_cookies table: it is not a Firefox cookie database")
    parts = []
    for column, fallback in _COLUMNS:
        if column in present:
            parts.append(column)
        elif fallback is not None:
            parts.append(fallback)
        else:
            raise ReadError(
                f"{path.name} has an unknown layout: moz_cookies lacks the column {column}"
            )
    return "SELECT " + ", ".join(parts) + " FROM moz_cookies"


def read_cookie_database(profile: Profile, options: ReadOptions) -> Iterator[Entry]:
    path = profile.path / "cookies.sqlite"
    if not path.is_file():
        return
    store = "cookies.sqlite"
    with sqlitecopy.open_copy(path) as conn:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
        query = _select(conn, path)
        if version > KNOWN_VERSION:
            options.note_problem(
                store,
                f"{store} has schema version {version}, newer than this app knows "
                f"({KNOWN_VERSION}); its cookies were read with the known columns",
            )
        rows = sqlitecopy.fetch_all(conn, query, path)
    expiry_divisor = 1000 if version >= EXPIRY_MS_VERSION or version == 0 else 1
    if version == 0:
        # No version recorded: tell seconds from milliseconds by magnitude
        # (milliseconds since 1970 passed 10**12 in 2001).
        expiry_divisor = 0
    make = CookieFactory(profile)
    show = options.show_values
    partitions: dict[str, tuple[str | None, str | None, int | None]] = {}
    for (
        host,
        name,
        cookie_path,
        value,
        attrs,
        expiry,
        secure,
        http_only,
        same_site,
        raw_same_site,
        created,
        accessed,
        scheme_map,
        partitioned_attr,
    ) in rows:
        parsed = partitions.get(attrs)
        if parsed is None:
            parsed = partitions[attrs] = parse_origin_attributes(attrs or "")
        raw_key, partition, container = parsed
        if expiry_divisor:
            expires = iso_from_unix(expiry / expiry_divisor)
        else:
            expires = iso_from_unix(expiry / 1000 if expiry > 10**12 else expiry)
        same = _SAME_SITE.get(same_site, "unspecified")
        if raw_same_site is not None and raw_same_site == 0 and same_site != 0:
            # Before schema 15: the effective value was lax-by-default, the raw one unset.
            same = "unspecified"
        yield make(
            store,
            store,
            host,
            name,
            cookie_path,
            raw_key,
            partition,
            container,
            True,
            expires,
            bool(secure),
            bool(http_only),
            same,
            len(name.encode()) + len(value.encode()),
            value if show else None,
            ValueState.PLAIN,
            False,
            iso_from_unix_micros(created),
            iso_from_unix_micros(accessed),
            None,
            _SCHEME.get(scheme_map) if scheme_map is not None else None,
            None,
            bool(partitioned_attr) if partitioned_attr is not None else None,
            None,
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


def read_session_cookies(profile: Profile, options: ReadOptions) -> Iterator[Entry]:
    """Session cookies from the newest live session file, plus stale ones from ``previous``.

    While Firefox runs (or after a crash) the live file is ``recovery.jsonlz4``;
    after a clean exit it is ``sessionstore.jsonlz4``.  The newer of the two is
    read.  A cookie in ``previous.jsonlz4`` that the live file also holds is
    shown once, from the live file.
    """
    live = [
        profile.path / rel for rel, stale in SESSION_FILES if not stale and (profile.path / rel).is_file()
    ]
    live.sort(key=lambda p: p.stat().st_mtime_ns, reverse=True)
    sources = live[:1]
    previous = profile.path / "sessionstore-backups" / "previous.jsonlz4"
    if previous.is_file():
        sources.append(previous)
    make = CookieFactory(profile)
    seen: set[tuple[str, str, str, str | None, int | None]] = set()
    for path in sources:
        stale = path == previous
        store = path.relative_to(profile.path).as_posix()
        try:
            state = load_session_file(path)
        except ReadError as exc:
            if not stale:
                raise
            options.note_problem(store, str(exc))
            continue
        for cookie in _session_cookies(state):
            host = str(cookie.get("host", ""))
            name = str(cookie.get("name", ""))
            cookie_path = str(cookie.get("path", "/") or "/")
            value = str(cookie.get("value", ""))
            oa = cookie.get("originAttributes") or {}
            if not isinstance(oa, dict):
                oa = {}
            raw_key, partition, container = _partition_and_container(
                str(oa.get("partitionKey", "") or ""),
                str(oa.get("firstPartyDomain", "") or ""),
                oa.get("userContextId"),
            )
            key = (host, name, cookie_path, raw_key, container)
            if key in seen:
                continue
            seen.add(key)
            yield make(
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
                value if options.show_values else None,
                ValueState.PLAIN,
                stale,
                None,
                None,
                None,
                _SCHEME.get(cookie.get("schemeMap")) if "schemeMap" in cookie else None,
                None,
                None,
                None,
            )


def read_cookies(profile: Profile, options: ReadOptions) -> Iterator[Entry]:
    yield from read_cookie_database(profile, options)
    yield from read_session_cookies(profile, options)
