"""Hosts, sites and partitions.

``site`` in the contract is the registrable domain (eTLD+1) from the Public
Suffix List, through the offline ``publicsuffixlist`` package.  An unknown TLD
(``.test``) counts as a public suffix, as both browsers treat it.
"""

from __future__ import annotations

import functools
import ipaddress

from publicsuffixlist import PublicSuffixList

_PSL = PublicSuffixList(only_icann=False)
# A host can only be an IP address if it is made of these (IPv4 digits and
# dots; IPv6 in brackets or with colons).  Asking ipaddress about every name
# costs 20 µs a host, a third of a 100,000-cookie scan with many hosts.
_IP_CHARS = frozenset("0123456789.")


@functools.lru_cache(maxsize=65536)
def registrable_domain(host: str) -> str:
    """The eTLD+1 of ``host``; the host itself for IP addresses and single labels."""
    host = host.strip().lstrip(".").rstrip(".").lower()
    if not host:
        return host
    if host.startswith("[") and host.endswith("]"):
        return host
    if ":" in host or _IP_CHARS.issuperset(host):
        try:
            ipaddress.ip_address(host)
        except ValueError:
            pass
        else:
            return host
    if "." not in host:
        return host
    return _PSL.privatesuffix(host) or host


def is_public_suffix(domain: str) -> bool:
    return _PSL.is_public(domain.strip(".").lower())


def site_of_origin(origin: str) -> str | None:
    """``https://a.b.example.com:8443`` -> ``example.com``; None for an empty origin."""
    origin = origin.strip()
    if not origin:
        return None
    rest = origin.split("://", 1)[-1]
    rest = rest.split("/", 1)[0]
    if rest.startswith("["):
        host = rest[: rest.find("]") + 1]
    else:
        host = rest.rsplit(":", 1)[0] if rest.count(":") == 1 else rest
    return registrable_domain(host) if host else None
