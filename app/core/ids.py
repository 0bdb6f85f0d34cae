"""Entry ids: stable across scans and across copies of a profile.

An id is derived from the profile's identity (engine, browser, folder name;
never where the folder lies), the kind, the store, the partition and container,
the host or origin, the name and the path.  A new value or expiry keeps the id.
It is 64 bits of BLAKE2b: a 32-bit hash would already collide within a
100,000-cookie profile.
"""

from __future__ import annotations

import hashlib

_PREFIX = {
    "cookie": "ck",
    "local_storage": "ls",
    "session_storage": "ss",
    "indexed_db": "idb",
    "cache_storage": "cs",
    "service_worker": "sw",
}
_SEP = "\x1f"
_blake2b = hashlib.blake2b


class IdMaker:
    """Ids for the entries of one store of one profile.

    The parts shared by every entry of the store are joined once; each entry
    then hashes only its own parts (this runs once per entry of a scan).
    """

    __slots__ = ("_head", "_tag")

    def __init__(self, profile_key: str, kind: str, store: str) -> None:
        self._head = _SEP.join((profile_key, kind, store)) + _SEP
        self._tag = _PREFIX.get(kind, kind) + "-"

    def __call__(
        self,
        partition: str | None,
        container: int | None,
        host_or_origin: str,
        name: str,
        path: str | None,
    ) -> str:
        text = (
            f"{self._head}{partition or ''}{_SEP}{'' if container is None else container}"
            f"{_SEP}{host_or_origin}{_SEP}{name}{_SEP}{path or ''}"
        )
        return self._tag + _blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).hexdigest()

