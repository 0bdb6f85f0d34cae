"""What every store reader shares: its options and how a cookie becomes an Entry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from privacy_inspector.core import ids, sites
from privacy_inspector.core.entropy import identifier_like
from privacy_inspector.core.records import Entry, Kind, Profile

SAME_SITE_VALUES = ("none", "lax", "strict", "unspecified")


@dataclass(slots=True)
class ReadOptions:
    """How a scan reads, and what it noticed on the way.

    Values are left out unless the user asked for them.  ``problems`` collects
    what a reader could read but wants the user told about (a newer schema
    version, a stale copy that cannot be decoded), as (store, message) pairs;
    a store that cannot be read at all raises ReadError instead.
    """

    show_values: bool = False
    problems: list[tuple[str, str]] = field(default_factory=list)

    def note_problem(self, store: str, message: str) -> None:
        self.problems.append((store, message))


# A store reader: the entries of one store of one profile, or ReadError with a
# message for the user.
StoreReader = Callable[[Profile, ReadOptions], Iterable[Entry]]


_new_entry = tuple.__new__
# The defaults of the classification fields (after ``value_note``), in order,
# split around ``identifier_like``, which the factory measures itself.
_CLASSIFIED = Entry._fields[Entry._fields.index("value_note") + 1 :]
_IDENTIFIER_AT = _CLASSIFIED.index("identifier_like")
_DEFAULTS_BEFORE = tuple(Entry._field_defaults[f] for f in _CLASSIFIED[:_IDENTIFIER_AT])
_DEFAULTS_AFTER = tuple(Entry._field_defaults[f] for f in _CLASSIFIED[_IDENTIFIER_AT + 1 :])
# What EntryFactory.build takes: every Entry field a reader knows, plus the
# parts of the id that are not fields themselves.
ENTRY_COLUMNS = (
    "store", "id_store", "id_subject", "partition_key", "host", "domain_cookie", "origin",
    "partition_site", "container", "name", "path", "persistent", "expires", "secure",
    "http_only", "same_site", "size", "value", "value_state", "stale", "created",
    "last_accessed", "priority", "source_scheme", "source_port", "partitioned", "value_note",
)
# What a cookie reader gives, in this order (see CookieFactory.build).
COOKIE_COLUMNS = (
    "store", "id_store", "host", "name", "path", "partition_key", "partition_site", "container",
    "persistent", "expires", "secure", "http_only", "same_site", "size", "value", "value_state",
    "stale", "created", "last_accessed", "priority", "source_scheme", "source_port",
    "partitioned", "value_note",
)
# What a storage reader gives, in this order (see StorageFactory.build).
STORAGE_COLUMNS = (
    "store", "id_store", "origin", "name", "partition_key", "partition_site", "container",
    "persistent", "size", "value", "value_state", "stale", "last_accessed", "value_note",
)


def _column(value: Any, n: int) -> Iterable[Any]:
    """A column as given (list or tuple), or one value repeated ``n`` times."""
    return value if isinstance(value, (list, tuple)) else repeat(value, n)


def _check(columns: dict[str, Any], expected: tuple[str, ...]) -> None:
    if set(columns) != set(expected):
        raise TypeError(f"columns differ from the expected ones: {sorted(set(columns) ^ set(expected))}")


class EntryFactory:
    """Builds the Entries of one kind for one profile, a whole store at a time.

    Readers hand over columns: a list (or tuple) per field, or a single value
    that holds for every entry.  The entries are then assembled by ``zip`` and
    ``map``, so the per-entry Python work is only what each entry really needs
    (its id, its site).  A scan of 100,000 cookies spends most of its time
    here: a loop calling a constructor per cookie took about twice as long
    (measured by benchmarks/scan_cookies.py).
    """

    __slots__ = ("_browser", "_engine", "_profile", "_key", "_kind", "_ids", "_show_values")

    def __init__(self, profile: Profile, kind: str, *, show_values: bool = False) -> None:
        self._show_values = show_values
        self._browser = profile.browser
        self._engine = profile.engine
        self._profile = str(profile.path)
        self._key = profile.key
        self._kind = str(kind)
        self._ids: dict[str, ids.IdMaker] = {}

    def _id_maker(self, id_store: str) -> ids.IdMaker:
        make_id = self._ids.get(id_store)
        if make_id is None:
            make_id = self._ids[id_store] = ids.IdMaker(self._key, self._kind, id_store)
        return make_id

    def build_entries(self, count: int, **columns: Any) -> list[Entry]:
        """``count`` Entries from the columns named in ``ENTRY_COLUMNS``.

        ``id_store`` is the logical store for the id (``session`` for both of
        Firefox's session files, so an entry keeps its id when Firefox moves
        it); ``id_subject`` is the host as stored or the origin;
        ``partition_key`` is the raw partition as stored, so two partitions of
        one site never share an id.  ``host`` must be bare and lower case.

        ``value`` is every value the reader could read, whether or not the
        user asked to see them: each is measured for ``identifier_like`` here
        and then dropped unless the factory was made with ``show_values``.
        """
        _check(columns, ENTRY_COLUMNS)
        if count == 0:
            return []
        # The id's parts get iterators of their own: those in ``col`` are read
        # once, by the final zip.
        id_parts = tuple(
            _column(columns[name], count)
            for name in ("partition_key", "container", "id_subject", "name", "path")
        )
        col = {name: _column(value, count) for name, value in columns.items()}
        id_store = columns["id_store"]
        if isinstance(id_store, (list, tuple)):
            entry_ids = [self._id_maker(s)(*parts) for s, *parts in zip(id_store, *id_parts, strict=False)]
        else:
            entry_ids = list(map(self._id_maker(id_store), *id_parts))
        hosts = columns["host"]
        values = columns["value"]
        if isinstance(values, (list, tuple)):
            identifiers: Iterable[bool | None] = list(
                map(identifier_like, values, _column(columns["persistent"], count))
            )
        else:
            identifiers = repeat(identifier_like(values, bool(columns["persistent"])))
        fields = (
            entry_ids,
            repeat(self._browser),
            repeat(self._engine),
            repeat(self._profile),
            repeat(self._kind),
            col["host"],
            col["domain_cookie"],
            col["origin"],
            map(sites.registrable_domain, hosts) if isinstance(hosts, (list, tuple))
            else repeat(sites.registrable_domain(hosts)),
            col["partition_site"],
            col["container"],
            col["name"],
            col["path"],
            col["persistent"],
            col["expires"],
            col["secure"],
            col["http_only"],
            col["same_site"],
            col["size"],
            col["value"] if self._show_values else repeat(None),
            col["value_state"],
            col["stale"],
            col["store"],
            col["created"],
            col["last_accessed"],
            col["priority"],
            col["source_scheme"],
            col["source_port"],
            col["partitioned"],
            col["value_note"],
            *(repeat(default) for default in _DEFAULTS_BEFORE),
            identifiers,
            *(repeat(default) for default in _DEFAULTS_AFTER),
        )
        # Columns given as one value are endless repeats: zip stops at the real ones.
        return list(map(_new_entry, repeat(Entry), zip(*fields, strict=False)))

    def _rows(self, rows: list[tuple[Any, ...]], names: tuple[str, ...]) -> list[Entry]:
        if not rows:
            return []
        columns = dict(zip(names, (list(c) for c in zip(*rows, strict=True)), strict=True))
        return self.build(len(rows), **columns)  # type: ignore[attr-defined]


class CookieFactory(EntryFactory):
    """Cookie Entries: host, domain flag and id come from the host as stored."""

    __slots__ = ()

    def __init__(self, profile: Profile, *, show_values: bool = False) -> None:
        super().__init__(profile, Kind.COOKIE, show_values=show_values)

    def build(self, count: int, **columns: Any) -> list[Entry]:
        """``count`` cookies from the columns named in ``COOKIE_COLUMNS``.

        ``host`` is as stored: a leading dot marks a domain cookie.
        """
        _check(columns, COOKIE_COLUMNS)
        if count == 0:
            return []
        hosts = list(_column(columns.pop("host"), count))
        stored = [h.lower() for h in hosts]
        return self.build_entries(
            count,
            id_subject=stored,
            host=[h.lstrip(".") for h in stored],
            domain_cookie=[h[:1] == "." for h in hosts],
            origin=None,
            **columns,
        )

    def rows(self, rows: list[tuple[Any, ...]]) -> list[Entry]:
        """Cookies from row tuples in ``COOKIE_COLUMNS`` order (for readers that parse row by row)."""
        return self._rows(rows, COOKIE_COLUMNS)


def object_stores_note(stores: Iterable[tuple[str, int | None]]) -> str:
    """An IndexedDB entry's ``value_note``: ``stores: events (3), prefs (1)``."""
    parts = [f"{name} ({'?' if count is None else count})" for name, count in stores]
    return "stores: " + ", ".join(parts) if parts else "no object stores"


def origin_host(origin: str) -> str:
    """``https://www.Example.com:8443`` -> ``www.example.com`` (IPv6 keeps its brackets)."""
    rest = origin.split("://", 1)[-1].split("/", 1)[0]
    if rest.startswith("["):
        return rest[: rest.find("]") + 1].lower()
    return rest.rsplit(":", 1)[0].lower() if ":" in rest else rest.lower()


class StorageFactory(EntryFactory):
    """Storage Entries (localStorage, sessionStorage, IndexedDB, caches, service
    workers): host and id come from the origin; cookie attributes are None."""

    __slots__ = ()

    def build(self, count: int, **columns: Any) -> list[Entry]:
        """``count`` entries from the columns named in ``STORAGE_COLUMNS``.

        ``origin`` is ``scheme://host[:port]`` without a trailing slash.
        """
        _check(columns, STORAGE_COLUMNS)
        if count == 0:
            return []
        origins = columns["origin"]
        if isinstance(origins, (list, tuple)):
            # Many entries share an origin: work each one out once.
            host_of = {o: origin_host(o) for o in set(origins)}
            hosts: Any = list(map(host_of.__getitem__, origins))
        else:
            hosts = origin_host(origins)
        return self.build_entries(
            count,
            id_subject=origins,
            host=hosts,
            domain_cookie=None,
            path=None,
            expires=None,
            secure=None,
            http_only=None,
            same_site=None,
            created=None,
            priority=None,
            source_scheme=None,
            source_port=None,
            partitioned=[k is not None for k in columns["partition_key"]]
            if isinstance(columns["partition_key"], (list, tuple))
            else columns["partition_key"] is not None,
            **columns,
        )

    def rows(self, rows: list[tuple[Any, ...]]) -> list[Entry]:
        """Storage entries from row tuples in ``STORAGE_COLUMNS`` order."""
        return self._rows(rows, STORAGE_COLUMNS)
