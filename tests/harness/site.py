"""The fake web: a local HTTPS server for LiveOps, its trackers and an unrelated site.

Everything the pages write is declared as DATA in this module (``PAGES``): the
server renders the HTML, the ``Set-Cookie`` headers and the page scripts from
it, and :func:`expected_cookies` / :func:`expected_storage` derive what each
browser should store from the same declarations, corrected by what Debian's
Chromium 156 and Firefox ESR 153 were seen to do (see the comments there and
tests/harness/README.md).

Every host name is served from 127.0.0.1 on one port (``Site.port``, random by
default), so URLs and storage origins carry that port
(``https://www.liveops.com:43123``).  Cookies do not (a cookie's host has no
port), nor do partition keys (Chromium's ``top_frame_site_key`` and Firefox's
``partitionKey`` are schemeful sites without a port).

Each page tells the driver it is finished by setting ``document.title`` to
``"done"`` (or ``"done with errors"``) once its own writes and those of all its
frames (which report with ``postMessage``) have completed; ``window.__harness``
then holds a JSON-able report (errors, what the page could read back).
"""

from __future__ import annotations

import html
import http.server
import json
import ssl
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlsplit

from .ca import CertFiles, make_certificates

# --------------------------------------------------------------------------
# Hosts
# --------------------------------------------------------------------------

LIVEOPS = "www.liveops.com"  # the policy owner
GOOGLE_ANALYTICS = "www.google-analytics.com"  # a script run inside LiveOps' page
DOUBLECLICK = "ad.doubleclick.net"  # an ad iframe
FACEBOOK = "www.facebook.com"  # a "Like button" iframe
EXAMPLE_NEWS = "www.example-news.org"  # an unrelated site; does not embed LiveOps

HOSTS: tuple[str, ...] = (LIVEOPS, GOOGLE_ANALYTICS, DOUBLECLICK, FACEBOOK, EXAMPLE_NEWS)

# The path every host answers with a read-only page that reports what the
# browser still has for that origin (cookies visible to scripts, storage keys,
# IndexedDB database names) without writing anything.  ``?frames=h1,h2`` embeds
# the probe of those hosts as iframes.  Useful to prove a deletion or a block
# after restarting a browser.
PROBE_PATH = "/__probe"


def registrable_domain(host: str) -> str:
    """eTLD+1 for the hosts of this fake web (all are <label>.<tld>)."""
    return ".".join(host.rstrip(".").split(".")[-2:])


def schemeful_site(host: str) -> str:
    """``www.liveops.com`` -> ``https://liveops.com`` (Chromium's top_frame_site_key form)."""
    return f"https://{registrable_domain(host)}"


# --------------------------------------------------------------------------
# What the pages write
# --------------------------------------------------------------------------

SameSite = Literal["none", "lax", "strict", "unspecified"]


@dataclass(frozen=True)
class CookieSpec:
    """One cookie as a page sends it.

    ``domain`` is the Domain attribute (``None`` = host-only; ``"auto"`` = the
    registrable domain of the document the script runs in, the way analytics
    scripts pick it).  ``max_age`` ``None`` = a session cookie.  ``samesite``
    ``"unspecified"`` = no SameSite attribute is sent.  ``via`` says whether it
    comes from a ``Set-Cookie`` header or from ``document.cookie``.
    """

    name: str
    value: str
    via: Literal["http", "script"]
    path: str = "/"
    domain: str | None = None
    secure: bool = True
    httponly: bool = False
    samesite: SameSite = "lax"
    max_age: int | None = None
    partitioned: bool = False

    def attributes(self, domain: str | None) -> list[str]:
        parts = [f"{self.name}={self.value}", f"Path={self.path}"]
        if domain:
            parts.append(f"Domain={domain}")
        if self.max_age is not None:
            parts.append(f"Max-Age={self.max_age}")
        if self.secure:
            parts.append("Secure")
        if self.httponly:
            parts.append("HttpOnly")
        if self.samesite != "unspecified":
            parts.append(f"SameSite={self.samesite.capitalize()}")
        if self.partitioned:
            parts.append("Partitioned")
        return parts

    def set_cookie_header(self) -> str:
        assert self.via == "http" and self.domain != "auto"
        return "; ".join(self.attributes(self.domain))


@dataclass(frozen=True)
class IndexedDBSpec:
    """One IndexedDB database (version 1) with object stores keyed by ``id``."""

    name: str
    stores: tuple[tuple[str, tuple[dict, ...]], ...]


@dataclass(frozen=True)
class Resource:
    """A document (``page``/``frame``) or a script served by one host.

    A ``script`` runs in the document that embeds it: its cookie and storage
    writes belong to that document's origin, like Google Analytics' ``_ga``.
    """

    id: str
    host: str
    path: str
    kind: Literal["page", "frame", "script"]
    title: str = ""
    cookies: tuple[CookieSpec, ...] = ()
    local_storage: tuple[tuple[str, str], ...] = ()
    session_storage: tuple[tuple[str, str], ...] = ()
    indexeddb: tuple[IndexedDBSpec, ...] = ()
    scripts: tuple[Resource, ...] = ()
    frames: tuple[Resource, ...] = ()

    @property
    def http_cookies(self) -> tuple[CookieSpec, ...]:
        return tuple(c for c in self.cookies if c.via == "http")

    @property
    def script_cookies(self) -> tuple[CookieSpec, ...]:
        return tuple(c for c in self.cookies if c.via == "script")

    def walk(self) -> Iterator[Resource]:
        yield self
        for r in (*self.scripts, *self.frames):
            yield from r.walk()


DAY = 86400
# Both browsers cap a cookie's lifetime at 400 days (observed: _ga's 730 days
# are stored as 400 in Chromium 156 and Firefox ESR 153).
MAX_COOKIE_AGE = 400 * DAY

GA_SCRIPT = Resource(
    id="google-analytics",
    host=GOOGLE_ANALYTICS,
    path="/analytics.js",
    kind="script",
    cookies=(
        # Like analytics.js: Domain = the page's registrable domain, no
        # SameSite, not Secure, set from JavaScript.
        CookieSpec(
            "_ga",
            "GA1.2.1234567890.1700000000",
            "script",
            domain="auto",
            secure=False,
            samesite="unspecified",
            max_age=730 * DAY,
        ),
        CookieSpec(
            "_gid",
            "GA1.2.987654321.1700000000",
            "script",
            domain="auto",
            secure=False,
            samesite="unspecified",
            max_age=DAY,
        ),
    ),
)

DOUBLECLICK_FRAME = Resource(
    id="doubleclick",
    host=DOUBLECLICK,
    path="/ddm/frame",
    kind="frame",
    title="ad",
    cookies=(
        CookieSpec(
            "IDE",
            "AHWqTUmTestIdeValue",
            "http",
            domain="doubleclick.net",
            httponly=True,
            samesite="none",
            max_age=390 * DAY,
        ),
        # CHIPS: a partitioned cookie, host-only.
        CookieSpec(
            "dc_chips", "chips-value", "http", samesite="none", max_age=30 * DAY, partitioned=True
        ),
    ),
    local_storage=(("dc_ls_id", "dc-local-123"),),
    session_storage=(("dc_ss_seen", "dc-session-1"),),
    indexeddb=(
        IndexedDBSpec(
            "dc-db",
            (
                (
                    "impressions",
                    (
                        {"id": 1, "ad": "banner-1"},
                        {"id": 2, "ad": "banner-2"},
                    ),
                ),
            ),
        ),
    ),
)

FACEBOOK_FRAME = Resource(
    id="facebook",
    host=FACEBOOK,
    path="/plugins/like.php",
    kind="frame",
    title="like",
    cookies=(
        CookieSpec(
            "fr",
            "0TestFrValue.facebook",
            "http",
            domain="facebook.com",
            httponly=True,
            samesite="none",
            max_age=90 * DAY,
        ),
    ),
    local_storage=(("fb_ls_like", "liked"),),
)

LIVEOPS_HOME = Resource(
    id="liveops",
    host=LIVEOPS,
    path="/",
    kind="page",
    title="LiveOps",
    cookies=(
        # A login-style session cookie: no expiry.
        CookieSpec("lo_session", "sess-abc123", "http", httponly=True, samesite="lax"),
        # Persistent, on a narrow path.
        CookieSpec(
            "lo_account", "acct-prefs", "http", path="/account", samesite="lax", max_age=30 * DAY
        ),
        # Persistent, host-only.
        CookieSpec("lo_host", "host-only", "http", samesite="lax", max_age=DAY),
        # Persistent, for the whole registrable domain.
        CookieSpec(
            "lo_domain",
            "domain-wide",
            "http",
            domain="liveops.com",
            samesite="lax",
            max_age=365 * DAY,
        ),
        CookieSpec(
            "lo_strict", "strict-value", "http", httponly=True, samesite="strict", max_age=7 * DAY
        ),
        # No SameSite attribute (stored as "unspecified"), not Secure.
        CookieSpec(
            "lo_nosamesite",
            "no-samesite",
            "http",
            secure=False,
            samesite="unspecified",
            max_age=7 * DAY,
        ),
        # Set from the page's own script.
        CookieSpec("lo_script", "js-value", "script", samesite="lax", max_age=14 * DAY),
    ),
    local_storage=(("lo_ls_theme", "dark"), ("lo_ls_visitor", "visitor-42")),
    session_storage=(("lo_ss_cart", "cart-3-items"),),
    indexeddb=(
        IndexedDBSpec(
            "liveops-db",
            (
                (
                    "events",
                    (
                        {"id": 1, "event": "page_view"},
                        {"id": 2, "event": "click"},
                        {"id": 3, "event": "chat_open"},
                    ),
                ),
            ),
        ),
    ),
    scripts=(GA_SCRIPT,),
    frames=(DOUBLECLICK_FRAME, FACEBOOK_FRAME),
)

EXAMPLE_NEWS_HOME = Resource(
    id="example-news",
    host=EXAMPLE_NEWS,
    path="/",
    kind="page",
    title="Example News",
    cookies=(CookieSpec("en_visitor", "news-reader-7", "http", samesite="lax", max_age=365 * DAY),),
    local_storage=(("en_ls_region", "eu"),),
)

# Every top-level page, by id.
PAGES: dict[str, Resource] = {p.id: p for p in (LIVEOPS_HOME, EXAMPLE_NEWS_HOME)}
# What the session-scoped profiles visit, in order.
DEFAULT_VISIT: tuple[Resource, ...] = (LIVEOPS_HOME, EXAMPLE_NEWS_HOME)


def _all_resources() -> dict[tuple[str, str], Resource]:
    out: dict[tuple[str, str], Resource] = {}
    for page in PAGES.values():
        for r in page.walk():
            out[(r.host, r.path)] = r
    return out


RESOURCES: dict[tuple[str, str], Resource] = _all_resources()


# --------------------------------------------------------------------------
# What the browsers are expected to store (derived from the above)
# --------------------------------------------------------------------------

Browser = Literal["chromium", "firefox"]

# How the stores spell SameSite.  Chromium: cookies.samesite.  Firefox:
# moz_cookies.sameSite; Firefox ESR 153 stores 256 when no attribute was sent
# (observed), not 0 ("none") as older versions did.
CHROMIUM_SAMESITE = {-1: "unspecified", 0: "none", 1: "lax", 2: "strict"}
FIREFOX_SAMESITE = {0: "none", 1: "lax", 2: "strict", 256: "unspecified"}


@dataclass(frozen=True)
class ExpectedCookie:
    """A cookie as a browser is expected to hold it after visiting pages.

    ``host`` is as the browser stores it (leading dot for a domain cookie).
    ``partition_site`` is the top-level site the cookie is partitioned under
    (``https://liveops.com``) or ``None``; see :attr:`top_frame_site_key` and
    :attr:`origin_attributes` for each browser's spelling.  ``store`` is the file
    it is in after a clean shutdown.
    """

    browser: Browser
    third_party_cookies_allowed: bool  # the Chromium setting; True for Firefox
    host: str
    name: str
    value: str
    path: str
    secure: bool
    httponly: bool
    samesite: SameSite
    persistent: bool
    max_age: int | None
    partition_site: str | None
    partitioned_attribute: bool  # the CHIPS ``Partitioned`` attribute was sent
    third_party: bool  # set in a cross-site frame
    via: Literal["http", "script"]
    store: str  # "Cookies" | "cookies.sqlite" | "sessionstore.jsonlz4"
    page: str  # id of the top-level page that caused it
    set_by: str  # id of the resource (page, frame, script) that set it

    @property
    def stored_max_age(self) -> int | None:
        """The lifetime the browser stores: ``max_age`` capped at 400 days."""
        return None if self.max_age is None else min(self.max_age, MAX_COOKIE_AGE)

    @property
    def top_frame_site_key(self) -> str:
        """Chromium ``cookies.top_frame_site_key``."""
        return self.partition_site or ""

    @property
    def origin_attributes(self) -> str:
        """Firefox ``moz_cookies.originAttributes``."""
        if not self.partition_site:
            return ""
        scheme, site = self.partition_site.split("://", 1)
        return f"^partitionKey=%28{scheme}%2C{site}%29"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """What identifies a cookie in both stores: (host, name, path, partition)."""
        return (self.host, self.name, self.path, self.partition_site or "")


def expected_cookies(
    browser: Browser,
    pages: Iterable[Resource | str] = DEFAULT_VISIT,
    *,
    allow_third_party_cookies: bool = True,
) -> tuple[ExpectedCookie, ...]:
    """The cookies ``browser`` holds after a clean shutdown, having visited ``pages``.

    ``allow_third_party_cookies`` is the Chromium setting the harness seeds
    (``profile.cookie_controls_mode`` 0 vs 1; Chromium 156 blocks them when the
    profile has no setting).  Firefox is always run with its default Enhanced
    Tracking Protection ("standard", Total Cookie Protection), offline: trackers
    are partitioned, not blocked, so the flag does not apply to it.
    """
    out: dict[tuple[str, str, str, str], ExpectedCookie] = {}
    for page in pages:
        page = PAGES[page] if isinstance(page, str) else page
        _collect(browser, page, page, allow_third_party_cookies, out)
    return tuple(out.values())


def _collect(browser, page, res, allow_3pc, out) -> None:
    top_site = registrable_domain(page.host)
    # A script's writes belong to the document that runs it.
    context_host = page.host if res.kind == "script" else res.host
    third_party = registrable_domain(context_host) != top_site
    for c in res.cookies:
        domain = registrable_domain(context_host) if c.domain == "auto" else c.domain
        host = f".{domain}" if domain else context_host
        partition = None
        if browser == "chromium":
            if third_party and not c.partitioned and not allow_3pc:
                continue  # third-party cookie blocked; only CHIPS gets through
            if c.partitioned:
                partition = schemeful_site(page.host)
            store = "Cookies"  # session cookies too: see README (written at shutdown)
        else:
            if third_party or c.partitioned:
                # Total Cookie Protection partitions every third-party cookie.
                partition = schemeful_site(page.host)
            store = "cookies.sqlite" if c.max_age is not None else "sessionstore.jsonlz4"
        e = ExpectedCookie(
            browser=browser,
            third_party_cookies_allowed=allow_3pc if browser == "chromium" else True,
            host=host,
            name=c.name,
            value=c.value,
            path=c.path,
            secure=c.secure,
            httponly=c.httponly,
            samesite=c.samesite,
            persistent=c.max_age is not None,
            max_age=c.max_age,
            partition_site=partition,
            partitioned_attribute=c.partitioned,
            third_party=third_party,
            via=c.via,
            store=store,
            page=page.id,
            set_by=res.id,
        )
        out[e.key] = e
    for r in (*res.scripts, *res.frames):
        _collect(browser, page, r, allow_3pc, out)


@dataclass(frozen=True)
class ExpectedStorage:
    """One HTML5 storage item a browser is expected to hold after a clean shutdown.

    ``kind`` is ``localStorage``, ``sessionStorage`` or ``indexedDB``; for
    IndexedDB ``key`` is the database name and ``value`` ``"<store>:<n records>"``.
    ``origin_host`` is the frame's host; origins carry the site's port
    (:meth:`origin`).  ``partition_site`` is set for third-party frames: both
    browsers partition their storage (Chromium whatever its cookie setting).
    ``store`` says where it lands (observed).
    """

    browser: Browser
    kind: Literal["localStorage", "sessionStorage", "indexedDB"]
    origin_host: str
    partition_site: str | None
    key: str
    value: str
    store: str
    page: str
    set_by: str

    def origin(self, port: int) -> str:
        return f"https://{self.origin_host}:{port}"

    def chromium_storage_key(self, port: int, *, trailing_slash: bool = False) -> str:
        """Chromium's storage key: ``https://h:p`` in Local Storage, ``https://h:p/``
        in Session Storage and QuotaManager (``trailing_slash``), and
        ``https://h:p/^0https://liveops.com`` when partitioned."""
        if self.partition_site:
            return f"{self.origin(port)}/^0{self.partition_site}"
        return self.origin(port) + ("/" if trailing_slash else "")

    def firefox_origin_key(self, port: int) -> str:
        """Firefox's origin with its suffix, as in ``sessionstore.jsonlz4``:
        ``https://h:p^partitionKey=%28https%2Cliveops.com%29``."""
        return self.origin(port) + self.firefox_suffix

    def firefox_origin_dir(self, port: int) -> str:
        """The ``storage/default`` folder name: ``https+++h+p^partitionKey=...``."""
        return f"https+++{self.origin_host}+{port}{self.firefox_suffix}"

    @property
    def firefox_suffix(self) -> str:
        if not self.partition_site:
            return ""
        scheme, site = self.partition_site.split("://", 1)
        return f"^partitionKey=%28{scheme}%2C{site}%29"


_STORAGE_STORES = {
    ("chromium", "localStorage", False): "Local Storage/leveldb",
    ("chromium", "localStorage", True): "Local Storage/leveldb",
    ("chromium", "sessionStorage", False): "Session Storage",
    ("chromium", "sessionStorage", True): "Session Storage",
    ("chromium", "indexedDB", False): "IndexedDB/https_<host>_<port>.indexeddb.leveldb",
    ("chromium", "indexedDB", True): "WebStorage/<bucket id>/IndexedDB/indexeddb.leveldb",
    ("firefox", "localStorage", False): "storage/default/<origin dir>/ls/data.sqlite",
    ("firefox", "localStorage", True): "storage/default/<origin dir>/ls/data.sqlite",
    # Only for tabs still open at quit; the drivers keep one tab per URL.
    ("firefox", "sessionStorage", False): "sessionstore.jsonlz4",
    ("firefox", "sessionStorage", True): "sessionstore.jsonlz4",
    ("firefox", "indexedDB", False): "storage/default/<origin dir>/idb",
    ("firefox", "indexedDB", True): "storage/default/<origin dir>/idb",
}


def expected_storage(
    browser: Browser, pages: Iterable[Resource | str] = DEFAULT_VISIT
) -> tuple[ExpectedStorage, ...]:
    """The localStorage, sessionStorage and IndexedDB items written by ``pages``."""
    out: list[ExpectedStorage] = []
    for page in pages:
        page = PAGES[page] if isinstance(page, str) else page
        for res in page.walk():
            if res.kind == "script":
                continue
            third_party = registrable_domain(res.host) != registrable_domain(page.host)
            part = schemeful_site(page.host) if third_party else None
            for kind, items in (
                ("localStorage", res.local_storage),
                ("sessionStorage", res.session_storage),
            ):
                for k, v in items:
                    out.append(
                        ExpectedStorage(
                            browser,
                            kind,
                            res.host,
                            part,
                            k,
                            v,
                            _STORAGE_STORES[(browser, kind, third_party)],
                            page.id,
                            res.id,
                        )
                    )
            for db in res.indexeddb:
                for store, records in db.stores:
                    out.append(
                        ExpectedStorage(
                            browser,
                            "indexedDB",
                            res.host,
                            part,
                            db.name,
                            f"{store}:{len(records)}",
                            _STORAGE_STORES[(browser, "indexedDB", third_party)],
                            page.id,
                            res.id,
                        )
                    )
    return tuple(out)


# --------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------

_PAGE_JS = r"""
const H = window.__harness = {id: %(id)s, errors: [], pending: %(frames)s, report: {}, frames: {}, done: false};
function harnessError(where, e) {
  H.errors.push(where + ": " + (e && e.name ? e.name + ": " + e.message : String(e)));
}
window.addEventListener("message", (ev) => {
  const d = ev.data;
  if (!d || !d.__harness || !H.pending.includes(d.id)) return;
  H.pending = H.pending.filter((x) => x !== d.id);
  for (const e of d.errors) H.errors.push(d.id + ": " + e);
  H.frames[d.id] = d.report;
  harnessFinish();
});
let harnessOwnDone = false;
function harnessFinish() {
  if (!harnessOwnDone || H.pending.length || H.done) return;
  H.done = true;
  if (window.parent !== window) {
    window.parent.postMessage({__harness: true, id: H.id, errors: H.errors, report: H.report}, "*");
  }
  document.title = H.errors.length ? "done with errors" : "done";
}
"""

_WRITE_JS = r"""
function harnessIdb(spec) {
  return new Promise((resolve) => {
    let req;
    try { req = indexedDB.open(spec.name, 1); } catch (e) { harnessError("indexedDB " + spec.name, e); return resolve(); }
    req.onupgradeneeded = () => {
      for (const [store] of spec.stores) req.result.createObjectStore(store, {keyPath: "id"});
    };
    req.onerror = () => { harnessError("indexedDB " + spec.name, req.error); resolve(); };
    req.onblocked = () => { harnessError("indexedDB " + spec.name, "blocked"); resolve(); };
    req.onsuccess = () => {
      const db = req.result;
      let tx;
      try { tx = db.transaction(spec.stores.map((s) => s[0]), "readwrite"); }
      catch (e) { harnessError("indexedDB " + spec.name, e); db.close(); return resolve(); }
      for (const [store, records] of spec.stores) for (const r of records) tx.objectStore(store).put(r);
      tx.oncomplete = () => { db.close(); resolve(); };
      tx.onerror = () => { harnessError("indexedDB " + spec.name, tx.error); db.close(); resolve(); };
      tx.onabort = () => { harnessError("indexedDB " + spec.name, tx.error || "abort"); db.close(); resolve(); };
    };
  });
}
function harnessStorage(kind, items) {
  for (const [k, v] of items) {
    try { window[kind].setItem(k, v); } catch (e) { harnessError(kind + " " + k, e); }
  }
}
function harnessCookies(cookies) {
  for (const c of cookies) {
    try { document.cookie = c; } catch (e) { harnessError("document.cookie", e); }
  }
}
async function harnessReport(withIndexedDB) {
  // indexedDB.databases() creates an (empty) IndexedDB folder for the origin in
  // Chromium, so only pages that use IndexedDB, and probes, call it.
  const r = {};
  try { r.cookie = document.cookie; } catch (e) { r.cookie = null; harnessError("read document.cookie", e); }
  for (const kind of ["localStorage", "sessionStorage"]) {
    try {
      const s = window[kind], o = {};
      for (let i = 0; i < s.length; i++) { const k = s.key(i); o[k] = s.getItem(k); }
      r[kind] = o;
    } catch (e) { r[kind] = null; harnessError("read " + kind, e); }
  }
  if (withIndexedDB) {
    try { r.indexedDB = (await indexedDB.databases()).map((d) => d.name).sort(); }
    catch (e) { r.indexedDB = null; harnessError("read indexedDB", e); }
  }
  return r;
}
"""


def _js(value) -> str:
    # JSON that is safe inside <script>.
    return json.dumps(value).replace("</", "<\\/")


def _script_cookie_strings(res: Resource, context_host: str) -> list[str]:
    out = []
    for c in res.script_cookies:
        domain = registrable_domain(context_host) if c.domain == "auto" else c.domain
        out.append("; ".join(c.attributes(domain)))
    return out


class Renderer:
    """Turns resources into bodies, given the site's port."""

    def __init__(self, port: int):
        self.port = port

    def url(self, host: str, path: str = "/") -> str:
        return f"https://{host}:{self.port}{path}"

    def document(self, res: Resource) -> str:
        frames = [f.id for f in res.frames]
        scripts = "".join(
            f'<script src="{html.escape(self.url(s.host, s.path))}"></script>\n'
            for s in res.scripts
        )
        iframes = "".join(
            f'<iframe src="{html.escape(self.url(f.host, f.path))}" width="300" height="100"></iframe>\n'
            for f in res.frames
        )
        idb = [
            {"name": d.name, "stores": [[s, list(recs)] for s, recs in d.stores]}
            for d in res.indexeddb
        ]
        body_js = (
            _WRITE_JS
            + f"harnessCookies({_js(_script_cookie_strings(res, res.host))});\n"
            + f"harnessStorage('localStorage', {_js([list(x) for x in res.local_storage])});\n"
            + f"harnessStorage('sessionStorage', {_js([list(x) for x in res.session_storage])});\n"
            + "(async () => {\n"
            + f"  for (const spec of {_js(idb)}) await harnessIdb(spec);\n"
            + f"  H.report = await harnessReport({_js(bool(idb))});\n"
            + "  harnessOwnDone = true; harnessFinish();\n"
            + "})();\n"
        )
        return (
            '<!doctype html>\n<html><head><meta charset="utf-8">'
            f"<title>{html.escape(res.title or res.id)}</title>\n"
            f"<script>{_PAGE_JS % {'id': _js(res.id), 'frames': _js(frames)}}</script>\n"
            f"{scripts}</head><body>\n<h1>{html.escape(res.title or res.id)}</h1>\n"
            f"{iframes}<script>{body_js}</script>\n</body></html>\n"
        )

    def script(self, res: Resource) -> str:
        # Runs in the embedding document: compute the "auto" Domain there.
        lines = [
            "(function () {",
            "  const domain = location.hostname.split('.').slice(-2).join('.');",
        ]
        for c in res.script_cookies:
            parts = c.attributes(None if c.domain == "auto" else c.domain)
            cookie = "; ".join(parts)
            if c.domain == "auto":
                lines.append(f"  document.cookie = {_js(cookie)} + '; Domain=' + domain;")
            else:
                lines.append(f"  document.cookie = {_js(cookie)};")
        lines.append("})();")
        return "\n".join(lines) + "\n"

    def probe(self, host: str, frames: Sequence[str]) -> str:
        frames = [f for f in frames if f in HOSTS]
        iframes = "".join(
            f'<iframe src="{html.escape(self.url(f, PROBE_PATH))}"></iframe>\n' for f in frames
        )
        return (
            '<!doctype html>\n<html><head><meta charset="utf-8"><title>probe</title>\n'
            f"<script>{_PAGE_JS % {'id': _js(host), 'frames': _js(list(frames))}}</script>\n"
            f"</head><body>\n{iframes}<script>{_WRITE_JS}\n"
            "(async () => { H.report = await harnessReport(true); harnessOwnDone = true; harnessFinish(); })();\n"
            "</script>\n</body></html>\n"
        )


# --------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestRecord:
    """One request the site answered (or refused)."""

    time: float
    host: str
    path: str
    cookie: str | None  # the Cookie header as sent
    status: int


class _QuietHandler(http.server.BaseHTTPRequestHandler):
    """HTTP/1.1 without a log on stderr, and a helper for whole answers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format, *args):  # noqa: A002 - keep stderr quiet
        pass

    def host(self) -> str:
        """The Host header without its port, lower case."""
        return (self.headers.get("Host") or "").rsplit(":", 1)[0].lower()

    def answer(self, status: int, ctype: str, data: bytes, headers: Iterable[tuple[str, str]]
               ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)


class _Handler(_QuietHandler):
    server: _Server

    def do_GET(self):  # noqa: N802
        host = self.host()
        split = urlsplit(self.path)
        path = split.path
        renderer = self.server.renderer
        headers: list[tuple[str, str]] = []
        status, ctype, body = 404, "text/plain; charset=utf-8", "not found\n"
        res = RESOURCES.get((host, path))
        if host not in HOSTS:
            status, body = 421, f"unknown host {host!r}\n"
        elif path == PROBE_PATH:
            frames = parse_qs(split.query).get("frames", [""])[0]
            status, ctype = 200, "text/html; charset=utf-8"
            body = renderer.probe(host, [f for f in frames.split(",") if f])
        elif path == "/favicon.ico":
            status, body = 204, ""
        elif res is not None:
            status = 200
            headers = [("Set-Cookie", c.set_cookie_header()) for c in res.http_cookies]
            if res.kind == "script":
                ctype, body = "text/javascript; charset=utf-8", renderer.script(res)
            else:
                ctype, body = "text/html; charset=utf-8", renderer.document(res)
        self.server.record(
            RequestRecord(time.time(), host, self.path, self.headers.get("Cookie"), status)
        )
        self.answer(status, ctype, body.encode(), [("Cache-Control", "no-store"), *headers])


class TLSServer(http.server.ThreadingHTTPServer):
    """A threaded HTTPS server on 127.0.0.1: each connection's TLS handshake
    runs in its own thread, never in the accept loop.  ``port`` 0 picks one."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int, context: ssl.SSLContext, handler) -> None:
        self.context = context
        super().__init__(("127.0.0.1", port), handler)

    def finish_request(self, request, client_address):
        request.settimeout(15)
        try:
            tls = self.context.wrap_socket(request, server_side=True)
        except (OSError, ssl.SSLError):
            return
        try:
            super().finish_request(tls, client_address)
        finally:
            try:
                tls.close()
            except OSError:
                pass

    def handle_error(self, request, client_address):
        pass  # browsers drop keep-alive connections at will


class _Server(TLSServer):
    """The fake web: pages rendered from the declared resources, requests recorded."""

    def __init__(self, port: int, context: ssl.SSLContext, renderer_factory):
        self.requests: list[RequestRecord] = []
        self._lock = threading.Lock()
        super().__init__(port, context, _Handler)
        self.renderer = renderer_factory(self.server_address[1])

    def record(self, rec: RequestRecord) -> None:
        with self._lock:
            self.requests.append(rec)


@dataclass
class Site:
    """A running fake web.  Use :func:`start_site`."""

    work_dir: Path
    certs: CertFiles
    port: int
    _server: _Server = field(repr=False)
    _thread: threading.Thread = field(repr=False)

    def url(self, page: Resource | str, path: str | None = None) -> str:
        """``site.url(LIVEOPS_HOME)``, ``site.url("liveops")`` or ``site.url(LIVEOPS, "/x")``."""
        if isinstance(page, Resource):
            return self._server.renderer.url(page.host, path or page.path)
        if page in PAGES and path is None:
            p = PAGES[page]
            return self._server.renderer.url(p.host, p.path)
        return self._server.renderer.url(page, path or "/")

    def probe_url(self, host: str, frames: Sequence[str] = ()) -> str:
        q = f"?frames={','.join(frames)}" if frames else ""
        return self.url(host, PROBE_PATH + q)

    def origin(self, host: str) -> str:
        return f"https://{host}:{self.port}"

    @property
    def requests(self) -> list[RequestRecord]:
        """Every request answered so far (a copy)."""
        with self._server._lock:
            return list(self._server.requests)

    @property
    def home_dir(self) -> Path:
        """A HOME for browser processes (so nothing lands in the real home)."""
        p = self.work_dir / "home"
        p.mkdir(parents=True, exist_ok=True)
        return p

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(10)


@contextmanager
def start_site(work_dir: str | Path | None = None, port: int = 0) -> Iterator[Site]:
    """Make a CA and certificates in ``work_dir`` and serve the fake web on 127.0.0.1:``port``.

    ``port`` 0 picks a free port.  The site stops when the block ends.
    """
    tmp = None
    if work_dir is None:
        tmp = tempfile.TemporaryDirectory(prefix="pi-site-")
        work_dir = tmp.name
    work_dir = Path(work_dir)
    certs = make_certificates(work_dir / "certs", (*HOSTS, "liveops.com"))
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(certs.leaf_cert, certs.leaf_key)
    ctx.set_alpn_protocols(["http/1.1"])
    server = _Server(port, ctx, Renderer)
    thread = threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.1}, name="fake-web", daemon=True
    )
    thread.start()
    site = Site(work_dir, certs, server.server_address[1], server, thread)
    try:
        yield site
    finally:
        site.stop()
        if tmp is not None:
            tmp.cleanup()


# --------------------------------------------------------------------------
# Extra pages: a small HTTPS server for a test's own pages
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class PageRequest:
    """A GET that :func:`serve_pages` passes to its ``route``."""

    host: str  # the Host header without its port, lower case
    path: str  # the request target before ``?``
    query: str  # after ``?`` ("" without one)
    port: int  # the server's port (for links to the other hosts)


@dataclass(frozen=True)
class Reply:
    """What a ``route`` answers: a body, by default an HTML page with status 200."""

    body: str | bytes
    content_type: str = "text/html; charset=utf-8"
    status: int = 200


Route = Callable[[PageRequest], Reply | None]


class _PageHandler(_QuietHandler):
    server: _PageServer

    def do_GET(self):  # noqa: N802
        path, _, query = self.path.partition("?")
        reply = self.server.route(PageRequest(self.host(), path, query,
                                              self.server.server_address[1]))
        if reply is None:
            reply = Reply(b"not found\n", "text/plain", 404)
        body = reply.body.encode() if isinstance(reply.body, str) else reply.body
        headers = [("Cache-Control", "no-store")] if self.server.no_store else []
        self.answer(reply.status, reply.content_type, body, headers)


class _PageServer(TLSServer):
    def __init__(self, context: ssl.SSLContext, route: Route, no_store: bool) -> None:
        self.route = route
        self.no_store = no_store
        super().__init__(0, context, _PageHandler)


_FRAMED_HEAD = """<!doctype html><meta charset="utf-8"><title>working</title>
%(frame)s<script>
const H = window.__harness = {errors: [], report: {}, frames: {}};
const spec = %(spec)s;
"""
_FRAMED_TAIL = """const frameDone = new Promise((resolve) => {
  if (!%(has_frame)s) return resolve();
  window.addEventListener("message", (ev) => {
    H.frames.ad = ev.data.report; H.errors.push(...ev.data.errors); resolve();
  });
});
(async () => {
  await work();
  await frameDone;
  if (parent !== window) parent.postMessage({errors: H.errors, report: H.report}, "*");
  document.title = H.errors.length ? "done with errors" : "done";
})();
</script>
"""

# Waits until a service worker is activated (for pages' ``work``).
SETTLE_JS = """function settle(worker) {
  return new Promise((resolve) => {
    if (worker.state === "activated") return resolve();
    worker.addEventListener("statechange", () => { if (worker.state === "activated") resolve(); });
  });
}
"""


def framed_page(work_js: str, spec: object, frame_url: str | None = None) -> str:
    """A page for :func:`serve_pages` that runs ``work_js`` and reports like the fake web's.

    ``work_js`` defines ``async function work()``, which fills ``H.report`` (and
    ``H.errors``); ``spec`` is there as ``const spec`` (JSON).  With ``frame_url`` the
    page holds that iframe, whose framed page posts its report to this one
    (``H.frames.ad``), and waits for it.  Then ``document.title`` is ``"done"``.
    """
    frame = f'<iframe src="{frame_url}"></iframe>' if frame_url else ""
    return (_FRAMED_HEAD % {"frame": frame, "spec": json.dumps(spec)} + work_js
            + _FRAMED_TAIL % {"has_frame": json.dumps(bool(frame))})


# A service worker that does nothing (but counts as handling fetches).
IDLE_WORKER_JS = "self.addEventListener('fetch', () => {});\n"


def page_with_worker(page: str, worker: str = IDLE_WORKER_JS) -> Route:
    """A route that answers ``worker`` (JavaScript) at ``/sw.js`` and ``page`` everywhere else."""

    def route(req: PageRequest) -> Reply:
        if req.path.startswith("/sw.js"):
            return Reply(worker, "text/javascript; charset=utf-8")
        return Reply(page)

    return route


@dataclass(frozen=True)
class Pages:
    """A running :func:`serve_pages` server."""

    port: int

    def url(self, host: str, path: str) -> str:
        return f"https://{host}:{self.port}{path}"

    def origin(self, host: str) -> str:
        return f"https://{host}:{self.port}"


@contextmanager
def serve_pages(certs: CertFiles, route: Route, *, no_store: bool = True) -> Iterator[Pages]:
    """Serve a test's own pages over HTTPS on 127.0.0.1 (a free port) while the block runs.

    ``certs`` is the fake web's (``site.certs``), so every host of :data:`HOSTS`
    is trusted.  ``route`` answers each GET with a :class:`Reply`, or None for a
    404.  ``no_store`` adds ``Cache-Control: no-store`` to every answer.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certs.leaf_cert, certs.leaf_key)
    server = _PageServer(context, route, no_store)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.1},
                              name="test-pages", daemon=True)
    thread.start()
    try:
        yield Pages(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
