"""Firefox's per-site cookie rules: ``<profile>/permissions.sqlite``.

Firefox keeps what the user chose under "Manage Exceptions" (Cookies and Site
Data) as rows of ``moz_perms`` with ``type`` = ``cookie``, one row per origin
(``http://example.com`` and ``https://example.com`` are two rows).  The
``permission`` column is 1 = allow, 2 = block, 8 = allow for the session.
Firefox looks a cookie permission up for the host and then for each parent
domain, so a rule for ``https://doubleclick.net`` also governs
``ad.doubleclick.net`` (checked with Firefox ESR 153: see
tests/real/test_real_firefox_block.py).  The origin keeps a non-default port,
and a rule only matches a site on the same port: Firefox ESR 153 ignored a
rule for ``https://doubleclick.net`` for a site served on port 42523, and
obeyed one for ``https://doubleclick.net:42523`` there (``write_cookie_rules``
takes ``port`` for that).

Reading goes through a private copy (:mod:`.sqlitecopy`).  Writing changes
rows only, in one ``BEGIN IMMEDIATE`` transaction, while the browser is
closed (the caller checks); on any failure nothing is changed and
:class:`~privacy_inspector.browsers.writers.WriteError` is raised.  A missing
``permissions.sqlite`` is created with the schema Firefox ESR 153 writes
(captured from a profile it made), nothing else.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from privacy_inspector.browsers import sqlitecopy
from privacy_inspector.browsers.cookie_rules import CookieRule, rule_domain
from privacy_inspector.browsers.sqlitewrite import WriteError, transaction

__all__ = ["FILE", "MODES", "origins_for", "read_cookie_rules", "restore_cookie_rules",
           "write_cookie_rules"]

FILE = "permissions.sqlite"
TYPE = "cookie"
MODES: dict[str, int] = {"allow": 1, "block": 2, "session": 8}
_MODE_OF = {v: k for k, v in MODES.items()}
_EXPIRE_NEVER = 0

# The schema of permissions.sqlite as Firefox ESR 153 creates it in a new
# profile (sqlite_master, PRAGMA user_version, page_size and journal_mode).
SCHEMA_VERSION = 13
PAGE_SIZE = 32768
SCHEMA = (
    "CREATE TABLE moz_perms ( id INTEGER PRIMARY KEY,origin TEXT,type TEXT,permission INTEGER,"
    "expireType INTEGER,expireTime INTEGER,modificationTime INTEGER)",
    "CREATE TABLE moz_hosts ( id INTEGER PRIMARY KEY,host TEXT,type TEXT,permission INTEGER,"
    "expireType INTEGER,expireTime INTEGER,modificationTime INTEGER,isInBrowserElement INTEGER)",
    "CREATE TABLE moz_origin_interactions ( origin TEXT PRIMARY KEY,lastInteractionTime INTEGER)",
)
_COLUMNS = ("id", "origin", "type", "permission", "expireType", "expireTime", "modificationTime")


def _profile_dir(profile: Any) -> Path:
    return Path(getattr(profile, "path", profile))


def _host_of(origin: str) -> str:
    rest = origin.split("://", 1)[-1]
    rest = rest.split("^", 1)[0].split("/", 1)[0]
    if rest.startswith("["):  # an IPv6 literal
        return rest[: rest.find("]") + 1]
    return rest.rsplit(":", 1)[0] if ":" in rest else rest


def _iso(ms: Any) -> str | None:
    if not isinstance(ms, int) or ms <= 0:
        return None
    try:
        return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="seconds")
    except (OverflowError, OSError, ValueError):
        return None


def read_cookie_rules(profile: Any) -> list[CookieRule]:
    """The cookie rules of a Firefox profile (a Profile or its folder), by origin.

    No ``permissions.sqlite`` means no rules.  Rules whose time has run out,
    and permission values other than allow, block and session, are left out.
    ReadError (privacy_inspector.core.records) when the file cannot be read.
    """
    path = _profile_dir(profile) / FILE
    if not path.is_file():
        return []
    now_ms = int(time.time() * 1000)
    with sqlitecopy.open_copy(path) as conn:
        exprs, _ = sqlitecopy.column_expressions(
            conn, "moz_perms",
            [("origin", (), None), ("type", (), None), ("permission", (), None),
             ("expireType", (), "0"), ("expireTime", (), "0"), ("modificationTime", (), "0")],
            path, "Firefox's permissions database",
        )
        rows = sqlitecopy.fetch_all(
            conn,
            f"SELECT {exprs['origin']}, {exprs['permission']}, {exprs['expireType']}, "
            f"{exprs['expireTime']}, {exprs['modificationTime']} FROM moz_perms "
            f"WHERE {exprs['type']} = '{TYPE}' ORDER BY {exprs['origin']}",
            path,
        )
    rules = []
    for origin, permission, expire_type, expire_time, modified in rows:
        mode = _MODE_OF.get(permission)
        if mode is None or not isinstance(origin, str):
            continue
        if expire_type == 2 and isinstance(expire_time, int) and 0 < expire_time <= now_ms:
            continue
        rules.append(CookieRule(origin, _host_of(origin), mode, _iso(modified)))
    return rules


def _create(path: Path) -> None:
    """A new permissions.sqlite with Firefox ESR 153's schema, put in place atomically."""
    fd, tmp = tempfile.mkstemp(prefix=".pi-", suffix=".sqlite", dir=path.parent)
    os.close(fd)
    try:
        conn = sqlite3.connect(tmp, isolation_level=None)
        try:
            conn.execute(f"PRAGMA page_size = {PAGE_SIZE}")
            conn.execute("BEGIN")
            for sql in SCHEMA:
                conn.execute(sql)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            conn.execute("COMMIT")
        finally:
            conn.close()
        os.chmod(tmp, 0o644)
        os.link(tmp, path)  # never replaces a file made meanwhile
    except FileExistsError as exc:
        raise WriteError(f"{path.name} appeared while it was being created") from exc
    except (OSError, sqlite3.Error) as exc:
        raise WriteError(f"{path.name} could not be created ({exc})") from exc
    finally:
        with contextlib.suppress(OSError):
            os.unlink(tmp)


def origins_for(domain: str, port: int | None = None) -> tuple[str, str]:
    """The two origins whose rows make the rule of ``domain`` (WriteError if it is no domain)."""
    domain = rule_domain(domain)
    if port is not None and not (isinstance(port, int) and not isinstance(port, bool)
                                 and 0 < port < 65536):
        raise WriteError(f"{port!r} is not a port")
    suffix = "" if port is None else f":{port}"
    return f"http://{domain}{suffix}", f"https://{domain}{suffix}"


def _open_for_writing(profile: Any, create: bool) -> Path | None:
    folder = _profile_dir(profile)
    if not folder.is_dir():
        raise WriteError(f"the Firefox profile {folder} does not exist")
    path = folder / FILE
    if not path.exists():
        if not create:
            return None
        _create(path)
    return path


def _check_layout(conn: sqlite3.Connection, path: Path) -> None:
    present = {r[1] for r in conn.execute("PRAGMA table_info(moz_perms)")}
    if not set(_COLUMNS) <= present:
        raise WriteError(f"{path.name} has an unknown layout (moz_perms lacks "
                         f"{', '.join(sorted(set(_COLUMNS) - present))})")


def _rows_of(conn: sqlite3.Connection, origins: list[str]) -> dict[str, list[dict]]:
    before: dict[str, list[dict]] = {o: [] for o in origins}
    cols = ", ".join(_COLUMNS)
    for origin in origins:
        before[origin] = [dict(zip(_COLUMNS, row, strict=True)) for row in conn.execute(
            f"SELECT {cols} FROM moz_perms WHERE type = ? AND origin = ? ORDER BY id",
            (TYPE, origin))]
    return before


def write_cookie_rules(profile: Any, changes: Mapping[str, str | None], *,
                       port: int | None = None) -> dict[str, list[dict]]:
    """Set the cookie rule of each domain in ``changes`` (to its mode, or
    removed where the mode is None) in a closed Firefox profile, in one
    transaction; the rows each origin had before.

    A domain's rule is two rows, for ``http://domain`` and ``https://domain``
    (with ``:port`` for a site on a non-default port).  The result maps each
    origin to its rows as they were (dicts of moz_perms' columns; an empty
    list where it had none): :func:`restore_cookie_rules` puts them back.
    WriteError, with nothing changed, on any failure.
    """
    plan: dict[str, str | None] = {}
    for domain, mode in changes.items():
        if mode is not None and mode not in MODES:
            raise WriteError(f"unknown cookie rule {mode!r}: use one of {', '.join(MODES)}")
        for origin in origins_for(domain, port):
            plan[origin] = mode
    path = _open_for_writing(profile, create=any(m is not None for m in plan.values()))
    if path is None:  # nothing to remove from a file that does not exist
        return {origin: [] for origin in plan}
    now_ms = int(time.time() * 1000)
    with transaction(path, path.name, browser="Firefox") as conn:
        _check_layout(conn, path)
        before = _rows_of(conn, list(plan))
        for origin, mode in plan.items():
            if mode is None:
                conn.execute("DELETE FROM moz_perms WHERE type = ? AND origin = ?", (TYPE, origin))
                continue
            cur = conn.execute(
                "UPDATE moz_perms SET permission = ?, expireType = ?, expireTime = 0, "
                "modificationTime = ? WHERE type = ? AND origin = ?",
                (MODES[mode], _EXPIRE_NEVER, now_ms, TYPE, origin))
            if cur.rowcount == 0:
                conn.execute(
                    "INSERT INTO moz_perms (origin, type, permission, expireType, "
                    "expireTime, modificationTime) VALUES (?, ?, ?, ?, 0, ?)",
                    (origin, TYPE, MODES[mode], _EXPIRE_NEVER, now_ms))
    return before


def restore_cookie_rules(profile: Any, before: Mapping[str, list[dict]]) -> None:
    """Put the cookie rows of each origin back as ``before`` holds them (what
    :func:`write_cookie_rules` returned): the origin's cookie rows now are
    deleted and the saved ones inserted, with their old ids where free.
    WriteError, with nothing changed, on any failure.
    """
    wanted = {origin: [dict(r) for r in rows] for origin, rows in before.items()}
    for origin, rows in wanted.items():
        if not isinstance(origin, str) or "://" not in origin:
            raise WriteError(f"{origin!r} is not an origin")
        for row in rows:
            if set(row) != set(_COLUMNS) or row["origin"] != origin or row["type"] != TYPE:
                raise WriteError(f"a saved rule of {origin} is not a cookie rule of moz_perms")
    path = _open_for_writing(profile, create=any(wanted.values()))
    if path is None:
        return
    cols = ", ".join(_COLUMNS)
    marks = ", ".join("?" for _ in _COLUMNS)
    with transaction(path, path.name, browser="Firefox") as conn:
        _check_layout(conn, path)
        for origin, rows in wanted.items():
            conn.execute("DELETE FROM moz_perms WHERE type = ? AND origin = ?", (TYPE, origin))
            for row in rows:
                taken = conn.execute("SELECT 1 FROM moz_perms WHERE id = ?", (row["id"],)).fetchone()
                if taken:
                    row = {**row, "id": None}  # noqa: PLW2901 - a new id, same rule
                conn.execute(f"INSERT INTO moz_perms ({cols}) VALUES ({marks})",
                             tuple(row[c] for c in _COLUMNS))
