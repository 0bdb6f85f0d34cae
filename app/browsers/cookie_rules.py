"""One record for a per-site cookie rule kept in a browser's own settings.

Firefox keeps rules in ``permissions.sqlite`` (:mod:`.firefox_permissions`),
the Chromium family in the profile's ``Preferences`` file
(:mod:`.chromium_prefs`).  Both readers hand back :class:`CookieRule`, so the
blocking actions, the CLI's ``blocks`` and the window's rules page see one
shape whatever the browser.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["MODES", "CookieRule"]

# What a rule does to a site's cookies and storage: "block" = none at all,
# "session" = allowed until the browser closes, "allow" = an exemption.
MODES = ("block", "session", "allow")


@dataclass(frozen=True, slots=True)
class CookieRule:
    pattern: str  # as the browser stores it: "https://doubleclick.net", "[*.]doubleclick.net,*"
    domain: str  # the domain it governs, with its subdomains: "doubleclick.net"
    mode: str  # one of MODES
    modified: str | None  # when the browser says it was set (ISO 8601, UTC), else None
