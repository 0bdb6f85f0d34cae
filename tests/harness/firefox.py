"""Drive Debian's Firefox ESR (headless) over WebDriver BiDi on a given profile folder.

Firefox ESR 153 speaks WebDriver BiDi itself (``--remote-debugging-port 0``,
the port in ``<profile>/WebDriverBiDiServer.json``); no geckodriver.  The
profile's ``user.js`` points every host name at 127.0.0.1, keeps Firefox off
the network, and turns session restore on (``browser.startup.page`` 3) so
session cookies and sessionStorage are saved in ``sessionstore.jsonlz4``.  The
test CA is imported into the profile's own NSS database with ``certutil``.
Firefox is quit the way a user quits (``Services.startup.quit(eAttemptQuit)``
in the chrome context, hence ``--remote-allow-system-access``), which keeps the
session.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

from ._process import BrowserError, BrowserProcess, JsonWebSocket, browser_env
from .ca import ca_fingerprint, import_ca_into_nssdb
from .chromium import PageResult, _page_result
from .site import Site

FIREFOX_BINARY = os.environ.get("PI_TEST_FIREFOX") or shutil.which("firefox-esr") or "firefox-esr"

# Waits are doubled on CI, whose machine may be busier than a developer's.
_SCALE = 2.0 if os.environ.get("CI") else 1.0
START_TIMEOUT = 45.0 * _SCALE
PAGE_TIMEOUT = 30.0 * _SCALE
CLOSE_TIMEOUT = 30.0 * _SCALE

# user.js.  remote.prefs.recommended=false keeps the remote agent from changing
# prefs itself (it would, among others, touch tracking protection), so
# everything it would have done to keep Firefox quiet is here.
FIREFOX_PREFS: dict[str, object] = {
    # Every name resolves to 127.0.0.1; no DoH, proxy, prefetch or speculative connections.
    "network.dns.forceResolve": "127.0.0.1",
    "network.trr.mode": 5,
    "network.proxy.type": 0,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    "network.predictor.enabled": False,
    "network.http.speculative-parallel-limit": 0,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "remote.prefs.recommended": False,
    # Start on a blank page; restore the previous session (keeps session state).
    "browser.startup.page": 3,
    "browser.startup.homepage": "about:blank",
    "browser.startup.homepage_override.mstone": "ignore",
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "startup.homepage_override_url": "",
    "browser.aboutwelcome.enabled": False,
    "trailhead.firstrun.didSeeAboutWelcome": True,
    "browser.newtabpage.enabled": False,
    "browser.newtab.preload": False,
    "browser.shell.checkDefaultBrowser": False,
    "browser.tabs.warnOnClose": False,
    "browser.warnOnQuit": False,
    "browser.sessionstore.warnOnQuit": False,
    # No telemetry, studies, updates or remote services.
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.firstRunURL": "",
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.archive.enabled": False,
    "toolkit.telemetry.server": "",
    "telemetry.fog.test.localhost_port": -1,  # Glean: never upload
    "dom.push.connection.enabled": False,
    "dom.push.serverURL": "",
    "app.update.auto": False,
    "app.update.enabled": False,
    "app.update.disabledForTesting": True,
    "app.normandy.enabled": False,
    "app.normandy.api_url": "",
    "app.shield.optoutstudies.enabled": False,
    "services.settings.server": "data:,#remote-settings-dummy/v1",
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.blocklist.enabled": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.blockedURIs.enabled": False,
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.search.update": False,
    "browser.region.update.enabled": False,
    "browser.region.network.url": "",
    "browser.topsites.contile.enabled": False,
    "browser.newtabpage.activity-stream.feeds.system.topstories": False,
    "browser.newtabpage.activity-stream.feeds.section.topstories": False,
    "browser.newtabpage.activity-stream.feeds.telemetry": False,
    "browser.newtabpage.activity-stream.telemetry": False,
    "browser.newtabpage.activity-stream.default.sites": "",
    "browser.newtabpage.activity-stream.showSponsored": False,
    "browser.newtabpage.activity-stream.showSponsoredTopSites": False,
    "browser.ping-centre.telemetry": False,
    "browser.translations.enable": False,
    "browser.ml.enable": False,
    "identity.fxaccounts.enabled": False,
    "media.gmp-manager.url": "",
    "media.gmp-gmpopenh264.enabled": False,
    "geo.provider.network.url": "",
    "security.OCSP.enabled": 0,
    "security.remote_settings.crlite_filters.enabled": False,
    "security.remote_settings.intermediates.enabled": False,
    "privacy.sanitize.sanitizeOnShutdown": False,
}


_BLANK_URLS = (
    "about:blank",
    "about:newtab",
    "about:home",
    "chrome://browser/content/blanktab.html",
)


def _pref_line(name: str, value: object) -> str:
    return f"user_pref({json.dumps(name)}, {json.dumps(value)});\n"


def prepare_profile(
    profile_dir: str | Path, *, site: Site, prefs: Mapping[str, object] | None = None
) -> Path:
    """Create (or refresh) a profile folder: ``user.js`` and the trusted test CA.

    ``prefs`` are added to (or override) :data:`FIREFOX_PREFS`.  Safe on an
    existing profile while Firefox is closed.
    """
    profile = Path(profile_dir).resolve()
    profile.mkdir(parents=True, exist_ok=True)
    merged = {**FIREFOX_PREFS, **(prefs or {})}
    (profile / "user.js").write_text("".join(_pref_line(k, v) for k, v in merged.items()), "utf-8")
    marker = profile / ".pi-test-ca"
    fingerprint = ca_fingerprint(site.certs.ca_cert)
    known = marker.read_text().split() if marker.exists() else []
    if fingerprint not in known:
        import_ca_into_nssdb(profile, site.certs.ca_cert)
        marker.write_text(" ".join([*known, fingerprint]))
    return profile


def is_profile_locked(profile_dir: str | Path) -> bool:
    """True if a running Firefox holds the fcntl lock on ``<profile>/.parentlock``.

    (The ``lock`` symlink is left behind after a clean quit: it proves nothing.)
    """
    path = Path(profile_dir) / ".parentlock"
    try:
        fd = os.open(path, os.O_RDWR)
    except OSError:
        return False
    try:
        fcntl.lockf(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return True
    else:
        fcntl.lockf(fd, fcntl.LOCK_UN)
        return False
    finally:
        os.close(fd)  # closing drops any lock of ours


class Firefox:
    """One running Firefox.  Prefer :func:`visit_firefox` / :func:`running_firefox`."""

    def __init__(
        self,
        profile_dir: str | Path,
        *,
        site: Site,
        prefs: Mapping[str, object] | None = None,
        extra_args: Sequence[str] = (),
    ):
        self.profile_dir = Path(profile_dir).resolve()
        self.site = site
        self.prefs = dict(prefs or {})
        self.extra_args = tuple(extra_args)
        self.proc: BrowserProcess | None = None
        self.bidi: JsonWebSocket | None = None
        self.context: str | None = None
        self.results: list[PageResult] = []  # of the urls given to running_firefox

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self, timeout: float = START_TIMEOUT) -> Firefox:
        """Start Firefox and attach to a blank tab.

        Headless Firefox now and then crashes while it starts, before any page
        is loaded (its software compositor fails to map a framebuffer on a busy
        machine); such a start is tried once more.  A crash after start-up, or
        a start that fails with Firefox still running, is an error as before.
        """
        try:
            return self._start(timeout)
        except _CrashedStarting as e:
            print(f"harness: Firefox crashed while starting; starting it again ({e})",
                  file=sys.stderr)
        return self._start(timeout)

    def _start(self, timeout: float) -> Firefox:
        if is_profile_locked(self.profile_dir):
            raise BrowserError(f"{self.profile_dir} is in use by another Firefox (.parentlock)")
        prepare_profile(self.profile_dir, site=self.site, prefs=self.prefs)
        port_file = self.profile_dir / "WebDriverBiDiServer.json"
        port_file.unlink(missing_ok=True)
        cmd = [
            FIREFOX_BINARY,
            "--headless",
            "--no-remote",
            "--profile",
            str(self.profile_dir),
            "--remote-debugging-port",
            "0",
            "--remote-allow-system-access",
            *self.extra_args,
        ]
        home = self.site.home_dir / "firefox"
        home.mkdir(parents=True, exist_ok=True)
        env = browser_env(
            home,
            {
                "MOZ_CRASHREPORTER_DISABLE": "1",
                "MOZ_DISABLE_AUTO_SAFE_MODE": "1",
                # Release builds ignore services.settings.server unless this is set.
                "MOZ_REMOTE_SETTINGS_DEVTOOLS": "1",
            },
        )
        self.proc = BrowserProcess("firefox", cmd, env, self.site.work_dir / "logs")
        try:

            def endpoint():
                try:
                    return json.loads(port_file.read_text()).get("ws_port")
                except (OSError, ValueError):
                    return None

            port = self.proc.wait_for("WebDriverBiDiServer.json", endpoint, timeout)
            self.bidi = JsonWebSocket(f"ws://127.0.0.1:{port}/session", self.proc)
            self.bidi.send("session.new", {"capabilities": {}}, timeout=timeout)
            # Drive a blank tab: the first one of a new profile, or the one
            # :meth:`close` left selected; restored tabs are left alone (they
            # are restored lazily, without loading their pages).
            contexts = self.bidi.send("browsingContext.getTree", {"maxDepth": 0})["contexts"]
            blank = [c for c in contexts if c["url"] in _BLANK_URLS]
            if blank:
                self.context = blank[-1]["context"]
            else:
                self.new_tab()
        except BaseException as exc:
            died = self.proc is not None and not self.proc.running
            self.kill()
            if died and isinstance(exc, BrowserError):
                raise _CrashedStarting(str(exc)) from exc
            raise
        return self

    def evaluate(self, expression: str, *, context: str | None = None, timeout: float = 10):
        reply = self.bidi.send(
            "script.evaluate",
            {
                "expression": expression,
                "target": {"context": context or self.context},
                "awaitPromise": True,
                "resultOwnership": "none",
            },
            timeout=timeout,
        )
        if reply.get("type") == "exception":
            details = reply.get("exceptionDetails", {})
            raise self.proc.error(f"script failed: {details.get('text', details)}")
        return _remote_value(reply["result"])

    def new_tab(self) -> None:
        """Open a blank tab and make it the one :meth:`visit` drives."""
        self.context = self.bidi.send("browsingContext.create", {"type": "tab"})["context"]

    def visit(
        self, url: str, *, timeout: float = PAGE_TIMEOUT, check_errors: bool = True
    ) -> PageResult:
        """Load ``url`` and wait until the page says it is done (title ``done``)."""
        t0 = time.monotonic()
        nonce = uuid.uuid4().hex
        self.evaluate(f"window.__harnessOldPage = {json.dumps(nonce)}")
        self.bidi.send(
            "browsingContext.navigate",
            {"context": self.context, "url": url, "wait": "complete"},
            timeout=timeout,
        )
        probe = (
            f"window.__harnessOldPage === {json.dumps(nonce)} ? null : "
            "(document.title.startsWith('done') ? document.title : null)"
        )
        try:
            title = self.proc.wait_for(
                f"{url} to finish", lambda: self.evaluate(probe, timeout=5), timeout, interval=0.05
            )
        except BrowserError as e:
            raise BrowserError(f"{e}\n--- page state ---\n{self._page_state()}") from None
        return _page_result(
            url,
            title,
            self.evaluate("JSON.stringify(window.__harness)"),
            time.monotonic() - t0,
            check_errors,
        )

    def _page_state(self) -> str:
        try:
            return str(
                self.evaluate(
                    "JSON.stringify({url: location.href, title: document.title, h: window.__harness})",
                    timeout=3,
                )
            )
        except Exception as e:  # noqa: BLE001
            return f"(unavailable: {e!r})"

    def close(self, timeout: float = CLOSE_TIMEOUT, *, leave_blank_tab: bool = True) -> None:
        """Quit like a user (session kept) and wait for the process to exit.

        With ``leave_blank_tab`` a blank tab is opened (and selected) first, so
        that the next start on this profile restores the visited tabs lazily
        instead of reloading the last page (which would set its cookies again).
        """
        if self.proc is None:
            return
        proc = self.proc
        try:
            if proc.running and self.bidi is not None:
                if leave_blank_tab:
                    self.new_tab()
                chrome = self.bidi.send(
                    "browsingContext.getTree",
                    {"moz:scope": "chrome", "maxDepth": 0},
                    timeout=timeout,
                )["contexts"]
                if not chrome:
                    raise proc.error("no chrome window to quit from")
                # The answer may or may not arrive before the connection drops.
                self.bidi.send(
                    "script.evaluate",
                    {
                        "expression": "Services.startup.quit(Ci.nsIAppStartup.eAttemptQuit)",
                        "target": {"context": chrome[0]["context"]},
                        "awaitPromise": False,
                    },
                    wait=False,
                )
            if not proc.wait_exit(timeout):
                err = proc.error(
                    f"did not quit within {timeout:.0f} s; killed "
                    "(its session store and cookies may be incomplete)"
                )
                proc.kill()
                raise err
        finally:
            if self.bidi is not None:
                self.bidi.close()
            self.bidi = None
            self.proc = None

    def kill(self) -> None:
        """End the browser at once (no clean shutdown)."""
        if self.bidi is not None:
            self.bidi.close()
            self.bidi = None
        if self.proc is not None:
            self.proc.kill()
            self.proc = None


class _CrashedStarting(BrowserError):
    """Firefox exited on its own before it was ready to load a page."""


def _remote_value(v: dict):
    """A BiDi RemoteValue of a primitive as Python (pages return JSON strings)."""
    t = v.get("type")
    if t in ("undefined", "null"):
        return None
    return v.get("value")


@contextmanager
def running_firefox(
    profile_dir: str | Path,
    urls: Sequence[str] = (),
    *,
    site: Site,
    prefs: Mapping[str, object] | None = None,
    extra_args: Sequence[str] = (),
    check_errors: bool = True,
    tab_per_url: bool = True,
) -> Iterator[Firefox]:
    """Start Firefox on ``profile_dir`` (made if missing), visit ``urls``, keep it running.

    While the block runs, Firefox holds the fcntl lock on ``.parentlock``.  On
    leaving, it is quit like a user quits (or killed if that fails).
    """
    browser = Firefox(profile_dir, site=site, prefs=prefs, extra_args=extra_args)
    browser.start()
    try:
        for i, url in enumerate(urls):
            if i and tab_per_url:
                browser.new_tab()
            browser.results.append(browser.visit(url, check_errors=check_errors))
        yield browser
    finally:
        try:
            browser.close()
        except BaseException:
            browser.kill()
            raise


def visit_firefox(
    profile_dir: str | Path,
    urls: Sequence[str],
    *,
    site: Site,
    prefs: Mapping[str, object] | None = None,
    extra_args: Sequence[str] = (),
    check_errors: bool = True,
    tab_per_url: bool = True,
) -> list[PageResult]:
    """Start Firefox on ``profile_dir`` (new or existing), visit ``urls`` in order, quit it.

    Each URL after the first opens in a new tab (``tab_per_url``): Firefox saves
    sessionStorage only for tabs still open at quit.  Returns what each page
    reported; raises :class:`BrowserError` (with the browser's output) on any
    failure or timeout.
    """
    with running_firefox(
        profile_dir,
        urls,
        site=site,
        prefs=prefs,
        extra_args=extra_args,
        check_errors=check_errors,
        tab_per_url=tab_per_url,
    ) as browser:
        results = browser.results
    return results
