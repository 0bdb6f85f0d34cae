"""The user's settings: declared once here, stored in ``<data_dir>/settings.db``.

Every setting is an :class:`Option` in :data:`OPTIONS` (house style 5.7): the
preferences dialog is generated from that list, and a test checks that every
key the code asks for is declared in it.  This module is Qt-free so the CLI
and the engine can read the same settings the GUI writes.

Storage is a small sqlite-utils database, 0600 in the 0700 data folder: a
``settings(key TEXT PRIMARY KEY, value TEXT)`` table whose values are JSON,
and a ``meta`` table holding ``schema_version``.  Loading is careful in the
directions that lose data: a file that cannot be read, is not a settings
database, or comes from a newer version of the app raises
:class:`SettingsError` and is left exactly as it is (it is only ever opened
read-only before it has been checked), instead of being replaced by defaults.
Only a single value of the wrong type is forgiven: that key falls back to its
default and is reported in :attr:`Settings.problems`.

API::

    Settings.load(data_dir) -> Settings
        .get(key) / .set(key, value) / .reset(key) / .values() / .problems
    normalize_site(text) -> str          (SettingsError if not a registrable domain)
    apply_owner_sites(policy, sites) -> Policy
"""

from __future__ import annotations

import json
import logging
import re
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import sqlite_utils

from privacy_inspector import paths
from privacy_inspector.core import sites as _sites
from privacy_inspector.core.policy import Policy

log = logging.getLogger(__name__)

DB_NAME = "settings.db"
SCHEMA_VERSION = 1
KINDS = ("bool", "choice", "path", "sites")


def QT_TRANSLATE_NOOP(context: str, text: str) -> str:  # noqa: N802 - the name lupdate looks for
    """Marks ``text`` for translation without importing Qt.

    ``pyside6-lupdate`` finds calls by this name syntactically, so the labels
    below land in the ``.ts`` files under the ``Option`` context; the GUI
    translates them with ``QCoreApplication.translate("Option", label)``.
    """
    return text


@dataclass(frozen=True, slots=True)
class Option:
    """One setting: its key, kind, default and the words the preferences page shows."""

    key: str
    kind: str  # "bool" | "choice" | "path" | "sites"
    default: Any
    label: str
    help: str
    choices: tuple[str, ...] = ()


# Add a setting by appending an Option; the preferences page picks it up.
OPTIONS: tuple[Option, ...] = (
    Option(
        key="policy_file",
        kind="path",
        default="",
        label=QT_TRANSLATE_NOOP("Option", "Privacy policy file"),
        help=QT_TRANSLATE_NOOP(
            "Option",
            "A privacy policy in the app's TOML format to check entries against. "
            "Leave empty to use the bundled LiveOps policy of 2016."),
    ),
    Option(
        key="owner_sites",
        kind="sites",
        default=(),
        label=QT_TRANSLATE_NOOP("Option", "Also the policy owner's sites"),
        help=QT_TRANSLATE_NOOP(
            "Option",
            "Registrable domains (such as example.com), one per line, that count as the "
            "policy owner's own sites in addition to those the policy names."),
    ),
    Option(
        key="theme",
        kind="choice",
        default="system",
        label=QT_TRANSLATE_NOOP("Option", "Theme"),
        help=QT_TRANSLATE_NOOP(
            "Option", "Follow the system's light or dark appearance, or choose one."),
        choices=("system", "light", "dark"),
    ),
    Option(
        key="include_stale",
        kind="bool",
        default=True,
        label=QT_TRANSLATE_NOOP(
            "Option", "Show stale copies (old session files, leftover databases)"),
        help=QT_TRANSLATE_NOOP(
            "Option",
            "Also list entries found in files the browser no longer uses, such as "
            "an old session file or a database left behind by an update."),
    ),
    Option(
        key="confirm_reveal",
        kind="bool",
        default=False,
        label=QT_TRANSLATE_NOOP("Option", "Ask before revealing a value"),
        help=QT_TRANSLATE_NOOP(
            "Option",
            "Ask for confirmation each time a cookie or storage value is shown in clear."),
    ),
    Option(
        key="journal_days",
        kind="choice",
        default="30",
        label=QT_TRANSLATE_NOOP("Option", "Keep undo journals for (days)"),
        help=QT_TRANSLATE_NOOP(
            "Option",
            "A deletion's journal holds the deleted values so that it can be undone; "
            "journals older than this are removed at the next deletion."),
        choices=("1", "7", "30", "90", "365"),
    ),
)

OPTIONS_BY_KEY: dict[str, Option] = {o.key: o for o in OPTIONS}


class SettingsError(Exception):
    """The settings cannot be loaded or a value cannot be stored.

    ``code`` says what went wrong for a front-end to word itself (house style
    5.10); ``key`` is the setting concerned, if any.  The message names the file
    or the key and never contains a stored value.
    """

    def __init__(self, message: str, *, code: str, key: str | None = None,
                 path: Path | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.key = key
        self.path = path


@dataclass(frozen=True, slots=True)
class SettingsProblem:
    """A stored value that was ignored at load time (the key uses its default)."""

    key: str
    code: str  # "not_json" | "wrong_type" | "invalid_value"

    def __str__(self) -> str:
        what = {"not_json": "is not valid JSON", "wrong_type": "has the wrong type",
                "invalid_value": "is not an allowed value"}.get(self.code, self.code)
        return f"the stored value of {self.key!r} {what}; using the default"


# --- validation -------------------------------------------------------------------

_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")


def normalize_site(text: str) -> str:
    """``text`` as a registrable domain (lower case, stripped), or SettingsError.

    The owner's sites must be registrable domains because the policy compares
    an entry's eTLD+1 with them: a host such as ``www.example.com`` or a public
    suffix such as ``co.uk`` would silently never (or always) match.
    """
    if not isinstance(text, str):
        raise SettingsError(f"a site must be text, not {type(text).__name__}",
                            code="wrong_type", key="owner_sites")
    site = text.strip().lower().rstrip(".")
    if not site:
        raise SettingsError("a site must not be empty", code="empty_site", key="owner_sites")
    if not site.isascii():
        try:
            site = site.encode("idna").decode("ascii")
        except UnicodeError:
            raise SettingsError(f"{text.strip()!r} is not a valid host name",
                                code="invalid_host", key="owner_sites") from None
    labels = site.split(".")
    if (len(site) > 253 or len(labels) < 2 or not all(_LABEL.match(label) for label in labels)
            or labels[-1].isdigit()):
        raise SettingsError(
            f"{text.strip()!r} is not a valid host name (write only the domain, e.g. example.com)",
            code="invalid_host", key="owner_sites")
    if _sites.is_public_suffix(site):
        raise SettingsError(f"{site!r} is a public suffix, not a registrable domain",
                            code="public_suffix", key="owner_sites")
    domain = _sites.registrable_domain(site)
    if domain != site:
        raise SettingsError(
            f"{site!r} is not a registrable domain (did you mean {domain!r}?)",
            code="not_registrable", key="owner_sites")
    return site


def validate(option: Option, value: Any) -> Any:
    """``value`` checked against ``option``'s kind, in its stored form; SettingsError if not."""
    key = option.key
    if option.kind == "bool":
        if type(value) is not bool:
            raise SettingsError(f"{key!r} must be true or false, not {type(value).__name__}",
                                code="wrong_type", key=key)
        return value
    if option.kind == "choice":
        if not isinstance(value, str) or value not in option.choices:
            raise SettingsError(f"{key!r} must be one of {', '.join(option.choices)}",
                                code="invalid_value", key=key)
        return value
    if option.kind == "path":
        if not isinstance(value, str):
            raise SettingsError(f"{key!r} must be a path as text, not {type(value).__name__}",
                                code="wrong_type", key=key)
        return value.strip()
    if option.kind == "sites":
        if isinstance(value, str) or not isinstance(value, Iterable):
            raise SettingsError(f"{key!r} must be a list of sites",
                                code="wrong_type", key=key)
        out: list[str] = []
        for item in value:
            site = normalize_site(item)
            if site not in out:
                out.append(site)
        return tuple(out)
    raise SettingsError(f"{key!r} has an unknown kind {option.kind!r}",  # pragma: no cover
                        code="unknown_kind", key=key)


def _option(key: str) -> Option:
    try:
        return OPTIONS_BY_KEY[key]
    except KeyError:
        raise KeyError(f"no setting {key!r} is declared in privacy_inspector.core.settings.OPTIONS") \
            from None


# --- storage ----------------------------------------------------------------------

def db_path(data_dir: Path) -> Path:
    return Path(data_dir).expanduser().absolute() / DB_NAME


def _fail(path: Path, what: str, code: str, exc: BaseException | None = None) -> SettingsError:
    detail = f" ({exc})" if exc is not None else ""
    return SettingsError(f"{path}: {what}{detail}", code=code, path=path)


def _read(path: Path) -> dict[str, str]:
    """The stored rows of an existing settings file, opened read-only so nothing is changed."""
    try:
        is_sqlite = paths.has_sqlite_header(path)
    except OSError as e:
        raise _fail(path, "the settings file cannot be read", "unreadable", e) from None
    if not is_sqlite:
        raise _fail(path, "the settings file is damaged or not a database", "corrupt")
    try:
        conn = sqlite3.connect(f"{path.as_uri()}?mode=ro", uri=True)
    except sqlite3.Error as e:
        raise _fail(path, "the settings file cannot be opened", "unreadable", e) from None
    try:
        db = sqlite_utils.Database(conn)
        try:
            tables = set(db.table_names())
        except sqlite3.DatabaseError as e:
            raise _fail(path, "the settings file is damaged or not a database", "corrupt", e) \
                from None
        if not {"meta", "settings"} <= tables:
            raise _fail(path, "this is not a Privacy Inspector settings database", "corrupt")
        try:
            meta = {str(r[0]): r[1] for r in conn.execute("select key, value from meta")}
            version = meta.get("schema_version")
            if type(version) is str and version.isdigit():
                version = int(version)
            if type(version) is not int or version < 1:
                raise _fail(path, "the settings database has no valid schema version", "corrupt")
            if version > SCHEMA_VERSION:
                raise _fail(path, f"the settings were written by a newer version of the app "
                                  f"(schema {version}, this version reads {SCHEMA_VERSION}); "
                                  "they were left untouched", "newer_schema")
            return {str(k): v for k, v in conn.execute("select key, value from settings")}
        except sqlite3.DatabaseError as e:
            raise _fail(path, "the settings file is damaged", "corrupt", e) from None
    finally:
        conn.close()


def _create(path: Path) -> None:
    """A new, empty settings database, created 0600 before sqlite ever opens it."""
    try:
        paths.create_private_file(path)
        conn = sqlite3.connect(str(path))
    except (OSError, sqlite3.Error) as e:
        raise _fail(path, "the settings file cannot be created", "unwritable", e) from None
    try:
        with conn:
            db = sqlite_utils.Database(conn)
            db["meta"].create({"key": str, "value": int}, pk="key", if_not_exists=True)
            db["settings"].create({"key": str, "value": str}, pk="key", if_not_exists=True)
            db["meta"].upsert({"key": "schema_version", "value": SCHEMA_VERSION}, pk="key")
    except sqlite3.Error as e:
        raise _fail(path, "the settings file cannot be written", "unwritable", e) from None
    finally:
        conn.close()


def _decode(option: Option, raw: Any) -> tuple[Any, SettingsProblem | None]:
    if not isinstance(raw, str):
        return option.default, SettingsProblem(option.key, "not_json")
    try:
        value = json.loads(raw)
    except ValueError:
        return option.default, SettingsProblem(option.key, "not_json")
    if option.kind == "sites" and not isinstance(value, list):
        return option.default, SettingsProblem(option.key, "wrong_type")
    try:
        return validate(option, value), None
    except SettingsError as e:
        code = "wrong_type" if e.code == "wrong_type" else "invalid_value"
        return option.default, SettingsProblem(option.key, code)


def _encode(value: Any) -> str:
    return json.dumps(list(value) if isinstance(value, tuple) else value)


class Settings:
    """The settings of one data folder; ``set`` and ``reset`` write through at once."""

    def __init__(self, path: Path, values: dict[str, Any],
                 problems: list[SettingsProblem]) -> None:
        self.path = path
        self._values = values
        # Values found in the file that could not be used (their keys use the default).
        self.problems = problems

    def __repr__(self) -> str:
        return f"<Settings {self.path}>"

    @classmethod
    def load(cls, data_dir: Path) -> Settings:
        """The stored settings, creating an empty file on first use; SettingsError if unusable."""
        path = db_path(data_dir)
        try:
            fresh = not path.exists() or (path.is_file() and path.stat().st_size == 0)
        except OSError as e:
            raise _fail(path, "the settings file cannot be read", "unreadable", e) from None
        if fresh:
            _create(path)
            rows: dict[str, str] = {}
        else:
            rows = _read(path)
        values: dict[str, Any] = {}
        problems: list[SettingsProblem] = []
        for option in OPTIONS:
            if option.key not in rows:
                values[option.key] = option.default
                continue
            values[option.key], problem = _decode(option, rows[option.key])
            if problem is not None:
                problems.append(problem)
        if problems:
            log.info("settings: %d stored value(s) ignored: %s", len(problems),
                     ", ".join(p.key for p in problems))
        # Rows for keys this version does not declare stay in the file untouched.
        return cls(path, values, problems)

    def get(self, key: str) -> Any:
        _option(key)
        return self._values[key]

    def values(self) -> dict[str, Any]:
        """Every declared setting's current value, in declaration order."""
        return {o.key: self._values[o.key] for o in OPTIONS}

    def set(self, key: str, value: Any) -> None:
        """Validate ``value`` for ``key`` and store it at once; SettingsError if invalid."""
        option = _option(key)
        checked = validate(option, value)
        self._write(key, _encode(checked))
        self._values[key] = checked
        self.problems = [p for p in self.problems if p.key != key]

    def reset(self, key: str) -> None:
        """Forget the stored value of ``key``, so it follows the default from now on."""
        option = _option(key)
        self._write(key, None)
        self._values[key] = option.default
        self.problems = [p for p in self.problems if p.key != key]

    def _write(self, key: str, encoded: str | None) -> None:
        if not self.path.exists():
            _create(self.path)
        try:
            conn = sqlite3.connect(str(self.path))
        except sqlite3.Error as e:
            raise _fail(self.path, "the settings file cannot be opened", "unwritable", e) from None
        try:
            with conn:
                table = sqlite_utils.Database(conn)["settings"]
                if encoded is None:
                    conn.execute("delete from settings where key = ?", (key,))
                else:
                    table.upsert({"key": key, "value": encoded}, pk="key")
        except sqlite3.Error as e:
            raise _fail(self.path, f"the setting {key!r} cannot be saved", "unwritable", e) \
                from None
        finally:
            conn.close()


def apply_owner_sites(policy: Policy, sites: Iterable[str]) -> Policy:
    """``policy`` with ``sites`` added to its owner's sites (the policy's own come first).

    The user names sites the policy forgot (a new brand, a country domain) so
    entries on them count as first party; the policy file itself is not changed.
    """
    extra = [normalize_site(s) for s in sites]
    merged = list(policy.owner.sites)
    for site in extra:
        if site not in merged:
            merged.append(site)
    if len(merged) == len(policy.owner.sites):
        return policy
    return replace(policy, owner=replace(policy.owner, sites=tuple(merged)))
