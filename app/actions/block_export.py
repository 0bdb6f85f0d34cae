"""Cookie rules exported for administrators and other tools.

A rule is a ``(domain, mode)`` pair: ``domain`` is a lowercase, punycode
host such as ``doubleclick.net`` and ``mode`` is ``"block"``, ``"session"``
(cookies live until the browser closes) or ``"allow"``.  A rule is meant to
cover the domain and every subdomain; each format below says how close it
gets to that.

Every format is deterministic: rules are deduplicated (when a domain appears
twice the later pair wins, so one domain is in exactly one list), output is
sorted, and the same rules always give the same bytes.  A domain with any
character outside ``[a-z0-9.-]`` (or an empty label) raises ``ValueError``,
so a rule can never smuggle an extra line, JSON member or hosts entry into
the file; ``generated`` is checked the same way for control characters.

Formats, as checked against the vendors' documentation:

``firefox-policy``
    A ``policies.json`` for Firefox's enterprise policies (put in
    ``distribution/`` next to the binary or ``/etc/firefox/policies/``):
    ``{"policies": {"Cookies": {"Allow": [...], "AllowSession": [...],
    "Block": [...]}}}``.  Mozilla's reference
    (https://mozilla.github.io/enterprise-admin-reference/reference/policies/cookies,
    formerly the policy-templates README) says each list holds *origins, not
    domains*, and that ``http`` or ``https`` must be included; AllowSession
    needs Firefox 79 / ESR 78.1.  The reference does not say whether an
    origin also covers its subdomains, so this export promises nothing
    beyond the listed origins: each domain is given as ``http://domain``
    and ``https://domain``.  Empty lists are left out.
``chrome-policy``
    A managed policy file for Chrome (``/etc/opt/chrome/policies/managed/``)
    or Edge (``/etc/opt/edge/policies/managed/``) holding
    ``CookiesBlockedForUrls``, ``CookiesSessionOnlyForUrls`` and
    ``CookiesAllowedForUrls``, each a list of URL patterns.  Google's
    pattern reference
    (https://cloud.google.com/docs/chrome-enterprise/policies/url-patterns,
    Microsoft's copy at
    https://learn.microsoft.com/deployedge/edge-learnmore-ent-policy-url-patterns)
    says ``[*.]domain`` matches the domain and all its subdomains and that a
    pattern without a scheme matches any scheme.  The policy pages
    (e.g. https://learn.microsoft.com/deployedge/microsoft-edge-browser-policies/cookiesblockedforurls)
    ask that the three lists hold no conflicting patterns, which
    later-wins deduplication guarantees for identical domains.  Empty lists
    are left out.
``filter-list``
    An Adblock Plus / uBlock Origin list: the ``[Adblock Plus 2.0]`` header,
    ``!`` comment lines (``! Title:`` is read as the list's name), then
    ``||domain^`` for each blocked domain and ``@@||domain^`` exceptions for
    allowed ones.  Per Adblock Plus' filter guide
    (https://help.eyeo.com/en/adblockplus/how-to-write-filters) ``||``
    anchors at the start of the domain name, so subdomains match too, and
    ``^`` is a separator so ``||example.com^`` does not match
    ``example.com.evil``.  A filter list blocks *requests*, not cookies, so
    a blocked domain loses everything it serves; session-only cookies cannot
    be expressed at all and appear as comments.
``hosts``
    A hosts file (hosts(5): an address, whitespace, a host name; ``#``
    starts a comment).  Each blocked domain is sent to ``0.0.0.0`` together
    with its ``www.`` name.  Hosts files have no wildcards, so other
    subdomains stay reachable (the file says so); like a filter list it cuts
    every connection, not only cookies, and session and allow rules appear
    as comments only.

The JSON formats carry no comments (JSON has none, and policy loaders
complain about unknown keys); the other two name Privacy Inspector, the
number of rules and, if given, the ``generated`` timestamp in their header.

API::

    FORMATS                                   ("firefox-policy", "chrome-policy", "filter-list", "hosts")
    export(rules, fmt, *, generated=None) -> str        (ValueError on a bad format, domain or mode)
    write_export(rules, fmt, output, *, generated=None) -> Path   (atomic, 0644; "-" is the caller's job)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path

from privacy_inspector import paths

FORMATS = ("firefox-policy", "chrome-policy", "filter-list", "hosts")
MODES = ("block", "session", "allow")

_DOMAIN = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\Z")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_FILE_MODE = 0o644


class _Rules:
    """Deduplicated rules, one sorted tuple of domains per mode."""

    def __init__(self, rules: Iterable[tuple[str, str]]) -> None:
        latest: dict[str, str] = {}
        for domain, mode in rules:
            if not isinstance(domain, str) or not _DOMAIN.match(domain):
                raise ValueError(f"not an exportable domain: {domain!r}")
            if mode not in MODES:
                raise ValueError(f"unknown rule mode {mode!r} for {domain}; expected one of {MODES}")
            latest[domain] = mode
        self.block = tuple(sorted(d for d, m in latest.items() if m == "block"))
        self.session = tuple(sorted(d for d, m in latest.items() if m == "session"))
        self.allow = tuple(sorted(d for d, m in latest.items() if m == "allow"))

    def __len__(self) -> int:
        return len(self.block) + len(self.session) + len(self.allow)

    def summary(self) -> str:
        count = len(self)
        return (f"{count} rule{'' if count == 1 else 's'} ({len(self.block)} blocked, "
                f"{len(self.session)} session-only, {len(self.allow)} allowed)")


def _json(data: object) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def _origins(domains: Iterable[str]) -> list[str]:
    return [f"{scheme}://{domain}" for domain in domains for scheme in ("http", "https")]


def _firefox_policy(rules: _Rules, generated: str | None) -> str:
    cookies = {key: _origins(domains) for key, domains in (
        ("Block", rules.block), ("AllowSession", rules.session), ("Allow", rules.allow),
    ) if domains}
    return _json({"policies": {"Cookies": cookies}})


def _chrome_policy(rules: _Rules, generated: str | None) -> str:
    return _json({key: [f"[*.]{domain}" for domain in domains] for key, domains in (
        ("CookiesBlockedForUrls", rules.block),
        ("CookiesSessionOnlyForUrls", rules.session),
        ("CookiesAllowedForUrls", rules.allow),
    ) if domains})


def _when(generated: str | None) -> str:
    return f" on {generated}" if generated else ""


def _filter_list(rules: _Rules, generated: str | None) -> str:
    lines = [
        "[Adblock Plus 2.0]",
        "! Title: Privacy Inspector cookie rules",
        f"! Generated by Privacy Inspector{_when(generated)} from {rules.summary()}",
        "! Each rule covers the domain and its subdomains. A filter list blocks requests,",
        "! not only cookies: a blocked domain loses everything it serves.",
    ]
    lines += [f"||{domain}^" for domain in rules.block]
    lines += [f"@@||{domain}^" for domain in rules.allow]
    if rules.session:
        lines.append("! Filter lists cannot keep cookies for the session only;"
                     " set these in the browser:")
        lines += [f"! session-only: {domain}" for domain in rules.session]
    return "\n".join(lines) + "\n"


def _hosts(rules: _Rules, generated: str | None) -> str:
    lines = [
        f"# Cookie rules generated by Privacy Inspector{_when(generated)} from {rules.summary()}",
        "# A hosts file has no wildcards: each blocked domain is listed with its www. name",
        "# only, other subdomains stay reachable. It cuts every connection, not only cookies.",
    ]
    names = {name for domain in rules.block
             for name in (domain, domain if domain.startswith("www.") else f"www.{domain}")}
    lines += [f"0.0.0.0 {name}"
              for name in sorted(names, key=lambda n: (n.removeprefix("www."), n))]
    if rules.session:
        lines.append("# A hosts file cannot keep cookies for the session only; set these in the browser:")
        lines += [f"# session-only: {domain}" for domain in rules.session]
    if rules.allow:
        lines.append("# Allowed, nothing to block here:")
        lines += [f"# allowed: {domain}" for domain in rules.allow]
    return "\n".join(lines) + "\n"


_WRITERS: dict[str, Callable[[_Rules, str | None], str]] = {
    "firefox-policy": _firefox_policy,
    "chrome-policy": _chrome_policy,
    "filter-list": _filter_list,
    "hosts": _hosts,
}


def export(rules: Iterable[tuple[str, str]], fmt: str, *, generated: str | None = None) -> str:
    """The text of an export of ``rules`` in ``fmt`` (one of :data:`FORMATS`).

    ``generated`` (e.g. an ISO timestamp) goes into the header of the formats
    that allow comments; the JSON formats ignore it.  Raises ValueError on
    an unknown format, an invalid domain or mode, or a ``generated`` with
    control characters.
    """
    writer = _WRITERS.get(fmt)
    if writer is None:
        raise ValueError(f"unknown export format {fmt!r}; expected one of {', '.join(FORMATS)}")
    if generated is not None and _CONTROL.search(generated):
        raise ValueError(f"generated must be a single line: {generated!r}")
    return writer(_Rules(rules), generated)


def write_export(rules: Iterable[tuple[str, str]], fmt: str, output: Path | str, *,
                 generated: str | None = None) -> Path:
    """Write :func:`export`'s text to ``output`` atomically, mode 0644; return the path.

    The text is built before anything is written, so a bad rule leaves an
    existing file untouched.  ``"-"`` (standard output) is the caller's job:
    here it would be a file name.
    """
    path = Path(output)
    data = export(rules, fmt, generated=generated).encode("utf-8")
    paths.write_file_atomically(path, data, _FILE_MODE)
    return path
