"""Deleting and restoring rows of a browser's SQLite database, and nothing else.

Rules (the issue's, and SQLite's): the browser is closed (the caller checked,
just before); rows are deleted, never tables, and the schema is never
touched; everything happens in one ``BEGIN IMMEDIATE`` transaction, so a
failure leaves the file as it was; the rows are handed to ``save`` (the
journal, flushed to disk) before the transaction commits; and the connection
is closed with a ``TRUNCATE`` checkpoint, which folds a WAL file back into
the database the way SQLite itself does when the last connection closes.

Rows are matched by entry id: the same id function the reader uses, over the
same columns, so what the user saw is what goes.
"""

from __future__ import annotations

import base64
import contextlib
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from privacy_inspector.browsers import sqlitecopy

# id_of(row of the id columns) -> entry id
IdOf = Callable[[tuple[Any, ...]], str]
# SQL expressions for the id's parts, or a function that makes them from the table's
# columns (read inside the write transaction).
IdSql = Sequence[str] | Callable[[list[str]], Sequence[str]]
BATCH = 500


def encode_value(value: Any) -> Any:
    """A database value as JSON: bytes (encrypted values) become {"b64": ...}."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {"b64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def decode_value(value: Any) -> Any:
    if isinstance(value, dict) and set(value) == {"b64"}:
        return base64.b64decode(value["b64"])
    return value


# How long a write waits for another connection's lock before giving up.
BUSY_SECONDS = 2


class WriteError(Exception):
    """A store could not be changed; nothing in it was changed."""


@contextlib.contextmanager
def transaction(
    path: Path,
    what: str,
    *,
    browser: str = "the browser",
    text_as_bytes: bool = False,
    journal_mode: str | None = None,
) -> Iterator[sqlite3.Connection]:
    """One ``BEGIN IMMEDIATE`` transaction on an existing database of a browser,
    committed when the block ends; on any failure rolled back, and WriteError
    (``what`` names the store) saying that nothing was changed.

    After the commit a ``TRUNCATE`` checkpoint folds a WAL file back, as SQLite
    does when its last connection closes (a no-op for a rollback journal).
    ``text_as_bytes`` returns text as bytes, for writers that match and save
    keys byte for byte; ``journal_mode`` keeps a browser's own choice (Chromium
    truncates its rollback journals rather than deleting them).
    """
    if not path.is_file():
        raise WriteError(f"{what} is gone; nothing was changed")
    try:
        conn = sqlite3.connect(sqlitecopy.file_uri(path) + "?mode=rw", uri=True,
                               timeout=BUSY_SECONDS, isolation_level=None)
    except sqlite3.Error as exc:
        raise WriteError(f"{what} cannot be opened for writing ({exc}); nothing was changed"
                         ) from exc
    if text_as_bytes:
        conn.text_factory = bytes
    try:
        try:
            if journal_mode is not None:
                conn.execute(f"PRAGMA journal_mode={journal_mode}")
            conn.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                raise WriteError(f"{what} is locked by another program (is {browser} running?): "
                                 f"{exc}; nothing was changed") from exc
            raise WriteError(f"{what} cannot be changed ({exc}); nothing was changed") from exc
        try:
            yield conn
            conn.execute("COMMIT")
        except BaseException as exc:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise WriteError(f"{what} could not be changed ({exc}); it was left as it was"
                                 ) from exc
            if isinstance(exc, OSError):
                raise WriteError(f"{what} could not be changed "
                                 f"({exc.strerror or type(exc).__name__}); it was left as it was"
                                 ) from exc
            raise
        with contextlib.suppress(sqlite3.Error):
            conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


def _columns(conn: sqlite3.Connection, table: str) -> list[str]:
    return [row[1] for row in conn.execute(f'PRAGMA table_info("{table}")')]


def _rowids_by_id(conn: sqlite3.Connection, table: str, columns: list[str], id_sql: IdSql,
                  id_of: IdOf) -> dict[str, list[int]]:
    if callable(id_sql):
        id_sql = id_sql(columns)
    out: dict[str, list[int]] = {}
    for rowid, *parts in conn.execute(f'SELECT rowid, {", ".join(id_sql)} FROM "{table}"'):
        out.setdefault(id_of(tuple(parts)), []).append(rowid)
    return out


def delete_rows(
    path: Path,
    table: str,
    id_sql: IdSql,
    id_of: IdOf,
    ids: set[str],
    save: Callable[[dict[str, Any]], None],
) -> list[str]:
    """Delete the rows whose entry id is in ``ids``; the ids deleted.

    ``id_sql`` are SQL expressions for the id's parts (as the reader reads
    them), or a function of the table's columns that returns them; ``save``
    gets the complete rows first and must have them on disk
    when it returns.
    """
    with transaction(path, path.name) as conn:
        columns = _columns(conn, table)
        found = _rowids_by_id(conn, table, columns, id_sql, id_of)
        chosen = {i: found[i] for i in ids if i in found}
        rowids = [r for rows in chosen.values() for r in rows]
        rows: list[list[Any]] = []
        for start in range(0, len(rowids), BATCH):
            batch = rowids[start:start + BATCH]
            marks = ",".join("?" * len(batch))
            cursor = conn.execute(f'SELECT * FROM "{table}" WHERE rowid IN ({marks})', batch)
            rows += [[encode_value(v) for v in row] for row in cursor]
        save({"table": table, "columns": columns, "rows": rows, "ids": sorted(chosen)})
        for start in range(0, len(rowids), BATCH):
            batch = rowids[start:start + BATCH]
            marks = ",".join("?" * len(batch))
            conn.execute(f'DELETE FROM "{table}" WHERE rowid IN ({marks})', batch)
        return sorted(chosen)


def restore_rows(
    path: Path,
    payload: dict[str, Any],
    id_sql: IdSql,
    id_of: IdOf,
    id_columns: Sequence[str],
    *,
    drop_if_taken: str | None = None,
) -> tuple[list[str], list[tuple[str, str]]]:
    """Put the journal's rows back; (ids restored, [(id, why not)]).

    A row whose entry was set again since the deletion is left alone and
    reported.  ``id_columns`` name the columns (in the saved rows) that the
    id function takes, in order.  ``drop_if_taken`` names an INTEGER PRIMARY
    KEY column (Firefox's ``id``) to leave to SQLite when its old value is
    in use again.
    """
    table = payload["table"]
    columns: list[str] = payload["columns"]
    restored: list[str] = []
    skipped: list[tuple[str, str]] = []
    with transaction(path, path.name) as conn:
        current = _columns(conn, table)
        missing = [c for c in columns if c not in current]
        if missing:
            raise WriteError(f"{path.name} no longer has the columns {', '.join(missing)} "
                             "(the browser changed its schema); nothing was restored")
        present = _rowids_by_id(conn, table, current, id_sql, id_of)
        positions = [columns.index(c) if c in columns else None for c in id_columns]
        for raw in payload["rows"]:
            row = [decode_value(v) for v in raw]
            entry_id = id_of(tuple("" if p is None else row[p] for p in positions))
            if entry_id in present:
                skipped.append((entry_id, "set again since the deletion; left as it is now"))
                continue
            names, values = list(columns), row
            if drop_if_taken and drop_if_taken in names:
                key = values[names.index(drop_if_taken)]
                taken = conn.execute(f'SELECT 1 FROM "{table}" WHERE "{drop_if_taken}" = ?',
                                     (key,)).fetchone()
                if taken:
                    at = names.index(drop_if_taken)
                    names = names[:at] + names[at + 1:]
                    values = values[:at] + values[at + 1:]
            quoted = ", ".join(f'"{n}"' for n in names)
            marks = ", ".join("?" * len(names))
            conn.execute(f'INSERT INTO "{table}" ({quoted}) VALUES ({marks})', values)
            restored.append(entry_id)
    return restored, skipped
