"""Reading a browser's SQLite database without disturbing the browser.

A running Firefox holds its databases under an exclusive lock and keeps recent
changes in the ``-wal`` file; Chromium writes through a rollback journal.  A
read-only connection to the original can fail on the lock, and ``immutable=1``
silently ignores the WAL and hot journals.  So the reader copies the main file
together with its ``-wal`` and ``-journal`` into a private temporary folder and
opens the copy normally: SQLite then applies the WAL, or rolls back a hot
journal, on the copy, and the copy is what the browser last committed.  If a
file changes while it is being copied, the copy is made again.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from privacy_inspector.core.records import ReadError

_SIDE_FILES = ("-wal", "-journal")
_ATTEMPTS = 4


def _stamp(path: Path) -> tuple[tuple[int, int] | None, ...]:
    stamps = []
    for suffix in ("", *_SIDE_FILES):
        try:
            st = os.stat(f"{path}{suffix}")
        except FileNotFoundError:
            stamps.append(None)
        else:
            stamps.append((st.st_size, st.st_mtime_ns))
    return tuple(stamps)


def _locked_message(path: Path) -> str:
    if sys.platform == "win32":
        return (
            f"{path.name} is locked by the browser that is using it; close the browser "
            "and scan again"
        )
    return f"{path.name} cannot be read: permission denied (the app needs read access to it)"


def _copy(path: Path, folder: Path) -> Path:
    target = folder / path.name
    for attempt in range(_ATTEMPTS):
        before = _stamp(path)
        for suffix in ("", *_SIDE_FILES):
            source = Path(f"{path}{suffix}")
            dest = Path(f"{target}{suffix}")
            with contextlib.suppress(FileNotFoundError):
                dest.unlink()
            try:
                shutil.copyfile(source, dest)
            except FileNotFoundError:
                if suffix == "":
                    raise
        if _stamp(path) == before:
            return target
        if attempt == _ATTEMPTS - 1:
            raise ReadError(f"{path.name} kept changing while it was being copied; scan again")
    return target  # pragma: no cover - the loop always returns or raises


def _describe(path: Path, exc: sqlite3.Error) -> str:
    text = str(exc)
    if "not a database" in text:
        return f"{path.name} is not an SQLite database (damaged or of another kind)"
    if "malformed" in text or "corrupt" in text:
        return f"{path.name} is damaged (SQLite: {text})"
    if "locked" in text or "busy" in text:
        return f"{path.name} is locked by another program; close the browser and scan again"
    return f"{path.name} cannot be read (SQLite: {text})"


@contextlib.contextmanager
def open_copy(path: Path) -> Iterator[sqlite3.Connection]:
    """A connection to a consistent private copy of the database at ``path``.

    Raises ReadError, with a message for the user, when the file is missing,
    locked, unreadable or not a sound SQLite database.
    """
    if not path.is_file():
        raise ReadError(f"{path.name} does not exist")
    folder = Path(tempfile.mkdtemp(prefix="privacy-inspector-"))  # created 0700
    try:
        try:
            copy = _copy(path, folder)
        except PermissionError as exc:
            raise ReadError(_locked_message(path)) from exc
        except OSError as exc:
            if exc.errno in (errno.EACCES, errno.EBUSY, errno.EPERM):
                raise ReadError(_locked_message(path)) from exc
            raise ReadError(f"{path.name} cannot be copied for reading: {exc.strerror}") from exc
        try:
            conn = sqlite3.connect(copy)
        except sqlite3.Error as exc:
            raise ReadError(_describe(path, exc)) from exc
        try:
            try:
                # Opening is lazy: this reads the header and schema, applying
                # the WAL or rolling back a hot journal on the copy.
                conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            except sqlite3.Error as exc:
                raise ReadError(_describe(path, exc)) from exc
            yield conn
        finally:
            conn.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {row[1] for row in conn.execute(f"PRAGMA table_info({table})")}


def column_expressions(
    conn: sqlite3.Connection,
    table: str,
    wanted: Sequence[tuple[str, tuple[str, ...], str | None]],
    path: Path,
    what: str,
) -> tuple[dict[str, str], set[str]]:
    """The SQL expression for each wanted column, from the columns the file has.

    ``wanted`` holds (column, older names for it, fallback SQL or None when the
    column is required).  Returns the expressions and the columns present.
    ReadError if the table is missing (the file is not ``what``) or lacks a
    required column.
    """
    present = columns(conn, table)
    if not present:
        raise ReadError(f"{path.name} has no {table} table: it is not {what}")
    exprs = {}
    for column, older, fallback in wanted:
        found = next((name for name in (column, *older) if name in present), None)
        if found is not None:
            exprs[column] = found
        elif fallback is not None:
            exprs[column] = fallback
        else:
            raise ReadError(
                f"{path.name} has an unknown layout: its {table} table lacks the column {column}"
            )
    return exprs, present


def _lenient_text(data: bytes) -> str:
    return data.decode("utf-8", "replace")


def fetch_all(conn: sqlite3.Connection, query: str, path: Path) -> list[tuple]:
    """All rows of ``query``; ReadError with a message for the user if SQLite fails.

    Text is decoded by SQLite itself (a Python text_factory would cost a call
    per column); only if some row holds invalid UTF-8 is the query run again
    with a decoder that replaces the bad bytes.
    """
    try:
        try:
            return conn.execute(query).fetchall()
        except sqlite3.OperationalError as exc:
            if "decode" not in str(exc):
                raise
            conn.text_factory = _lenient_text
            return conn.execute(query).fetchall()
    except sqlite3.Error as exc:
        raise ReadError(_describe(path, exc)) from exc


def file_uri(path: str | os.PathLike[str]) -> str:
    """An SQLite ``file:`` URI for ``path``.

    SQLite ends the path at ``?`` or ``#`` and decodes ``%HH``, and nothing
    else needs escaping (pathlib's ``as_uri`` escapes everything and costs a
    tenth of a 5,000-origin scan).
    """
    path = os.path.abspath(path)
    if os.sep == "\\":
        path = "/" + path.replace("\\", "/")  # file:///C:/...
    return "file://" + path.replace("%", "%25").replace("?", "%3f").replace("#", "%23")
