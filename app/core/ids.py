"""Entry ids: stable across scans and across copies of a profile.

An id is derived from the profile's identity (engine, browser, folder name;
never where the folder lies), the kind, the store, the partition and container,
the host or origin, the name and the path.  A new value or expiry keeps the id.
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


def entry_id(
    profile_key: str,
    kind: str,
    store: str,
    partition: str | None,
    container: int | None,
    host_or_origin: str,
    name: str,
    path: str | None,
) -> str:
    parts = (
        profile_key,
        kind,
        store,
        partition or "",
        "" if container is None else str(container),
        host_or_origin,
        name,
        path or "",
    )
    digest = hashlib.blake2b("\x1f".join(parts).encode("utf-8", "surrogatepass"), digest_size=8)
    return f"{_PREFIX.get(kind, kind)}-{digest.hexdigest()}"
