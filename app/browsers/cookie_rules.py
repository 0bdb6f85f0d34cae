"""One record for a per-site cookie rule kept in a browser's own settings.

Firefox keeps rules in ``permissions.sqlite`` (:mod:`.firefox_permissions`),
the Chromium family in the profile's ``Preferences`` file
(:mod:`.chromium_prefs`).  Both readers hand back :class:`CookieRule`, so the
blocking actions, the CLI's ``blocks`` and the window's rules page see one
shape whatever the browser.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from privacy_inspector.browsers.sqlitewrite import WriteError

__all__ = ["MODES", "CookieRule", "rule_domain"]

# What a rule does to a site's cookies and storage: "block" = none at all,
# "session" = allowed until the browser closes, "allow" = an exemption.
MODES = ("block", "session", "allow")


@dataclass(frozen=True, slots=True)
class CookieRule:
    pattern: str  # as the browser stores it: "https://doubleclick.net", "[*.]doubleclick.net,*"
    domain: str  # the domain it governs, with its subdomains: "doubleclick.net"
    mode: str  # one of MODES
    modified: str | None  # when the browser says it was set (ISO 8601, UTC), else None


# Characters no domain has, and that would change the meaning of a Firefox
# origin ("/", "?", "#", "@", ":", "^" for origin attributes) or of a
# Chromium pattern ("[", "]", "*", "," between the two patterns).
_NOT_IN_DOMAINS = frozenset("/\\?#@^:[]*,\"' \t\r\n")


def rule_domain(domain: Any) -> str:
    """``domain`` as both browsers store it in a rule: lower case, punycode, no
    trailing dot; WriteError for anything that is not a domain name."""
    if not isinstance(domain, str):
        raise WriteError(f"{domain!r} is not a domain name")
    d = domain.strip().lower().rstrip(".")
    if not d.isascii():
        try:
            d = d.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise WriteError(f"{domain!r} is not a domain name") from exc
    if not d or d.startswith(".") or ".." in d or not _NOT_IN_DOMAINS.isdisjoint(d):
        raise WriteError(f"{domain!r} is not a domain name")
    return d
