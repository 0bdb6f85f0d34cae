"""What every store reader shares: its options and how a cookie becomes an Entry."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from itertools import repeat
from typing import Any

from privacy_inspector.core import ids, sites
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
_COOKIE = str(Kind.COOKIE)
# The defaults of the fields after ``value_note`` (the classification), in order.
_CLASSIFICATION_DEFAULTS = tuple(
    Entry._field_defaults[f] for f in Entry._fields[Entry._fields.index("value_note") + 1 :]
)

# What a reader gives for each cookie, in this order (see CookieFactory.build).
COOKIE_COLUMNS = (
    "store", "id_store", "host", "name", "path", "partition_key", "partition_site", "container",
    "persistent", "expires", "secure", "http_only", "same_site", "size", "value", "value_state",
    "stale", "created", "last_accessed", "priority", "source_scheme", "source_port",
    "partitioned", "value_note",
)


def _column(value: Any, n: int) -> Iterable[Any]:
    """A column as given (list or tuple), or one value repeated ``n`` times."""
    return value if isinstance(value, (list, tuple)) else repeat(value, n)


class CookieFactory:
    """Builds the cookie Entries of one profile, a whole store at a time.

    Readers hand over columns: a list (or tuple) per field, or a single value
    that holds for every cookie.  The entries are then assembled by ``zip`` and
    ``map``, so the per-cookie Python work is only what each cookie really
    needs (its id, its site).  A scan of 100,000 cookies spends most of its
    time here: a loop calling a constructor per cookie took about twice as
    long (measured by benchmarks/scan_cookies.py).
    """

    __slots__ = ("_browser", "_engine", "_profile", "_key", "_ids")

    def __init__(self, profile: Profile) -> None:
        self._browser = profile.browser
        self._engine = profile.engine
        self._profile = str(profile.path)
        self._key = profile.key
        self._ids: dict[str, ids.IdMaker] = {}

    def _id_maker(self, id_store: str) -> ids.IdMaker:
        make_id = self._ids.get(id_store)
        if make_id is None:
            make_id = self._ids[id_store] = ids.IdMaker(self._key, _COOKIE, id_store)
        return make_id

    def build(self, count: int, **columns: Any) -> list[Entry]:
        """``count`` cookie Entries from the columns named in ``COOKIE_COLUMNS``.

        ``host`` is as stored: a leading dot marks a domain cookie.
        ``id_store`` is the logical store for the id (``session`` for both of
        Firefox's session files, so a cookie keeps its id when Firefox moves
        it).  ``partition_key`` is the raw partition as stored, so two
        partitions of one site never share an id.
        """
        if set(columns) != set(COOKIE_COLUMNS):
            raise TypeError(f"columns differ from COOKIE_COLUMNS: {set(columns) ^ set(COOKIE_COLUMNS)}")
        if count == 0:
            return []
        hosts = list(_column(columns["host"], count))
        stored_hosts = [h.lower() for h in hosts]
        bare_hosts = [h.lstrip(".") for h in stored_hosts]
        id_parts = (
            _column(columns["partition_key"], count),
            _column(columns["container"], count),
            stored_hosts,
            _column(columns["name"], count),
            _column(columns["path"], count),
        )
        id_store = columns["id_store"]
        if isinstance(id_store, (list, tuple)):
            entry_ids = [self._id_maker(s)(*parts) for s, *parts in zip(id_store, *id_parts, strict=False)]
        else:
            entry_ids = list(map(self._id_maker(id_store), *id_parts))
        col = {name: _column(value, count) for name, value in columns.items()}
        fields = (
            entry_ids,
            repeat(self._browser),
            repeat(self._engine),
            repeat(self._profile),
            repeat(_COOKIE),
            bare_hosts,
            [h[:1] == "." for h in hosts],
            repeat(None),
            map(sites.registrable_domain, bare_hosts),
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
            col["value"],
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
            *(repeat(default) for default in _CLASSIFICATION_DEFAULTS),
        )
        # Columns given as one value are endless repeats: zip stops at the real ones.
        return list(map(_new_entry, repeat(Entry), zip(*fields, strict=False)))

    def rows(self, rows: list[tuple[Any, ...]]) -> list[Entry]:
        """Entries from row tuples in ``COOKIE_COLUMNS`` order (for readers that parse row by row)."""
        if not rows:
            return []
        return self.build(len(rows), **dict(zip(COOKIE_COLUMNS, (list(c) for c in zip(*rows, strict=True)), strict=True)))
