"""What every store reader shares: its options and how a cookie becomes an Entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

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


# A store reader: yields the entries of one store of one profile, or raises
# ReadError with a message for the user.
StoreReader = Callable[[Profile, ReadOptions], Iterator[Entry]]


_new_entry = tuple.__new__
_COOKIE = str(Kind.COOKIE)
# The defaults of the fields after ``value_note`` (the classification), in order.
_CLASSIFICATION_DEFAULTS = tuple(
    Entry._field_defaults[f] for f in Entry._fields[Entry._fields.index("value_note") + 1 :]
)


class CookieFactory:
    """Builds cookie Entries for one profile.

    The profile's constants are computed once, and each cookie is one
    positional call: a scan of 100,000 cookies spends most of its time here, and
    keyword-heavy calls cost about six times as much (measured with timeit).
    """

    __slots__ = ("_browser", "_engine", "_profile", "_key", "_ids")

    def __init__(self, profile: Profile) -> None:
        self._browser = profile.browser
        self._engine = profile.engine
        self._profile = str(profile.path)
        self._key = profile.key
        self._ids: dict[str, ids.IdMaker] = {}

    def __call__(
        self,
        store: str,
        id_store: str,
        host: str,
        name: str,
        path: str,
        partition_key: str | None,
        partition_site: str | None,
        container: int | None,
        persistent: bool,
        expires: str | None,
        secure: bool,
        http_only: bool,
        same_site: str,
        size: int,
        value: str | None,
        value_state: str,
        stale: bool,
        created: str | None,
        last_accessed: str | None,
        priority: str | None,
        source_scheme: str | None,
        source_port: int | None,
        partitioned: bool | None,
        value_note: str | None,
    ) -> Entry:
        """Build one cookie Entry.

        ``host`` is as stored: a leading dot marks a domain cookie.  ``id_store``
        is the logical store for the id (``session`` for both of Firefox's
        session files, so a cookie keeps its id when Firefox moves it).
        ``partition_key`` is the raw partition as stored, so two partitions of
        one site never share an id.
        """
        bare_host = host.lstrip(".").lower()
        make_id = self._ids.get(id_store)
        if make_id is None:
            make_id = self._ids[id_store] = ids.IdMaker(self._key, _COOKIE, id_store)
        entry_id = make_id(partition_key, container, host.lower(), name, path)
        return _new_entry(
            Entry,
            (
                entry_id,
                self._browser,
                self._engine,
                self._profile,
                _COOKIE,
                bare_host,
                host.startswith("."),
                None,
                sites.registrable_domain(bare_host),
                partition_site,
                container,
                name,
                path,
                persistent,
                expires,
                secure,
                http_only,
                same_site,
                size,
                value,
                value_state,
                stale,
                store,
                created,
                last_accessed,
                priority,
                source_scheme,
                source_port,
                partitioned,
                value_note,
            )
            + _CLASSIFICATION_DEFAULTS,
        )
