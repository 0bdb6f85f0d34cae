"""Chromium storage keys and origin identifiers, and the decoding they share.

Shared by the IndexedDB reader (:mod:`chromium_idb`) and the Cache Storage and
service worker readers (:mod:`chromium_workers`).  :func:`decode_varint` reads
with :func:`leveldb.decode_varint` and gives its error the type of these decoders,
:class:`DecodeError`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from privacy_inspector.browsers import leveldb
from privacy_inspector.core import sites

# --------------------------------------------------------------------------
# Storage keys and origin identifiers
# --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StorageKey:
    """A parsed Chromium storage key (``blink::StorageKey``).

    ``partition`` is the serialized partition as stored (``^0https://site``,
    ``^31``, ``^1<hi>^2<lo>``, ``^4<hi>^5<lo>^6<precursor>``) or None for a
    first-party key; ``partition_site`` the registrable domain of the top-level
    site it is partitioned under, where known.
    """

    origin: str
    partition: str | None
    partition_site: str | None


_ATTRIBUTE = re.compile(r"\^(\d)")


def parse_storage_key(key: str) -> StorageKey | None:
    """``https://ad.example:8443/^0https://top.example`` -> its origin and partition.

    Accepts both the first-party forms (``https://a.example/`` as in
    QuotaManager and service workers, ``https://a.example`` as in localStorage).
    ``^0`` is the top-level site; ``^3`` alone the ancestor bit (top-level site
    = the origin's own site, with a cross-site frame between); ``^1``/``^2`` a
    nonce (an anonymous partition: no site); ``^4``/``^5``/``^6`` an opaque
    top-level site and its precursor.  None if there is no origin.
    """
    caret = key.find("^")
    base, partition = (key, None) if caret < 0 else (key[:caret], key[caret:])
    origin = origin_of_url(base)
    if not origin:
        return None
    if partition is None:
        return StorageKey(origin, None, None)
    parts = _ATTRIBUTE.split(partition)
    # ["", "0", "https://top", "3", "1", ...]: the text before the first
    # separator is empty, then (digit, value) pairs.
    attributes = dict(zip(parts[1::2], parts[2::2], strict=False))
    site: str | None = None
    if attributes.get("0"):
        site = sites.site_of_origin(attributes["0"])
    elif attributes.get("6"):
        site = sites.site_of_origin(attributes["6"])
    elif "3" in attributes and "1" not in attributes:
        site = sites.site_of_origin(origin)
    return StorageKey(origin, partition, site)


def origin_of_url(url: str) -> str | None:
    """``https://www.example.com:8443/`` -> ``https://www.example.com:8443``."""
    url = url.strip()
    if "://" not in url:
        return None
    scheme, rest = url.split("://", 1)
    if not scheme:
        return None
    authority = rest.split("/", 1)[0].split("?", 1)[0].split("#", 1)[0]
    if not authority and scheme != "file":
        return None
    return f"{scheme.lower()}://{authority.lower()}"


def origin_of_identifier(identifier: str) -> str | None:
    """Chromium's origin identifier (``https_www.example.com_0``) -> the origin.

    From ``storage/common/database/database_identifier.cc``: scheme, host and
    port joined by ``_``; port 0 is the scheme's default; an IPv6 host keeps its
    brackets with ``:`` written as ``_``; ``file__0`` is any file URL.  The
    IndexedDB backing store appends ``@1`` (``ComputeOriginIdentifier``).
    """
    identifier = identifier.removesuffix("@1")
    first = identifier.find("_")
    last = identifier.rfind("_")
    if first <= 0 or last == first or last == len(identifier) - 1:
        return None
    scheme, host, port = identifier[:first], identifier[first + 1 : last], identifier[last + 1 :]
    if scheme == "file":
        return "file://"
    if not port.isdigit() or int(port) >= 1 << 16 or not host:
        return None
    if host.startswith("[") and host.endswith("]"):
        host = host.replace("_", ":")
    host = host.lower()
    return f"{scheme}://{host}" if int(port) == 0 else f"{scheme}://{host}:{int(port)}"


def origin_identifier(origin: str) -> str:
    """The inverse of :func:`origin_of_identifier` (without ``@1``)."""
    scheme, rest = origin.split("://", 1)
    if scheme == "file":
        return "file__0"
    host, port = rest, "0"
    if rest.startswith("["):
        end = rest.find("]") + 1
        host, tail = rest[:end], rest[end:]
        port = tail[1:] if tail.startswith(":") else "0"
        host = host.replace(":", "_")
    elif ":" in rest:
        host, port = rest.rsplit(":", 1)
    return f"{scheme}_{host}_{port}"


# --------------------------------------------------------------------------
# Decoding
# --------------------------------------------------------------------------


class DecodeError(ValueError):
    """A key or value that does not decode as Chromium writes it."""


def decode_varint(data: bytes, pos: int = 0) -> tuple[int, int]:
    """A VarInt (7 bits a byte, little-endian, high bit = more) at ``pos``: (value, next pos)."""
    try:
        return leveldb.decode_varint(data, pos)
    except ValueError:
        raise DecodeError("truncated VarInt") from None
